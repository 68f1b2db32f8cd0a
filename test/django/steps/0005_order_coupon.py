# A nullable column: ADD COLUMN without a default is metadata only.
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("shop", "0004_remove_legacy_code")]

    operations = [
        migrations.AddField(
            model_name="order",
            name="coupon",
            field=models.CharField(max_length=20, null=True),
        ),
    ]
