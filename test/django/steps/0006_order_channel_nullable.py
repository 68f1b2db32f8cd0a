# The safe form on Django 3.2 to 4.2: the field nullable (backfill, and make
# it NOT NULL in a later release, once every deployed version sets it).  On
# Django 5.0 and later, db_default="web" keeps the default in the database.
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("shop", "0005_order_coupon")]

    operations = [
        migrations.AddField(
            model_name="order",
            name="channel",
            field=models.CharField(max_length=10, default="web", null=True),
        ),
    ]
