# shop_order as first deployed.  legacy_code is NOT NULL without a default:
# dropping it directly is what migguard's drop_column rule refuses.  The
# db_index on number makes the schema editor defer two CREATE INDEX
# statements to the end of the migration (they must carry the tag too).
from django.db import migrations, models


class Migration(migrations.Migration):
    initial = True

    dependencies = []

    operations = [
        migrations.CreateModel(
            name="Order",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("number", models.CharField(max_length=20, db_index=True)),
                ("created_at", models.DateTimeField()),
                ("total", models.IntegerField()),
                ("legacy_code", models.CharField(max_length=20)),
            ],
        ),
    ]
