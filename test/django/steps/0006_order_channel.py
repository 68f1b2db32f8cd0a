# AddField with a default on an existing model, as Django 3.2 to 4.2 send it:
# ADD COLUMN ... DEFAULT 'web' NOT NULL, then ALTER COLUMN ... DROP DEFAULT.
# Code still deployed inserts orders without a channel and fails from then
# on: migguard blocks it (not_null_without_default).
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("shop", "0005_order_coupon")]

    operations = [
        migrations.AddField(
            model_name="order",
            name="channel",
            field=models.CharField(max_length=10, default="web"),
        ),
    ]
