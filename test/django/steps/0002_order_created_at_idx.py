# UNSAFE: a plain AddIndex is CREATE INDEX without CONCURRENTLY, which holds a
# SHARE lock (no INSERT/UPDATE/DELETE) on shop_order for the whole build.
# migguard blocks it (rule create_index); the test then replaces this file
# with 0002_order_created_at_idx_concurrently.py.
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("shop", "0001_initial")]

    operations = [
        migrations.AddIndex(
            model_name="order",
            index=models.Index(fields=["created_at"], name="shop_order_created_idx"),
        ),
    ]
