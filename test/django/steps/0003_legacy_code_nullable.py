# Safe step 1 of removing legacy_code: ALTER COLUMN ... DROP NOT NULL
# (metadata only; migguard allows it).  Deploy code that no longer writes the
# column, then run 0004_remove_legacy_code.
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("shop", "0002_order_created_at_idx_concurrently")]

    operations = [
        migrations.AlterField(
            model_name="order",
            name="legacy_code",
            field=models.CharField(max_length=20, null=True),
        ),
    ]
