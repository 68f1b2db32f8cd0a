# UNSAFE: legacy_code is NOT NULL without a default, so the code already
# deployed still inserts it and fails once it is gone.  migguard blocks the
# DROP COLUMN (rule drop_column, level error); the test replaces this file
# with 0003_legacy_code_nullable.py, then 0004_remove_legacy_code.py.
from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("shop", "0002_order_created_at_idx_concurrently")]

    operations = [
        migrations.RemoveField(model_name="order", name="legacy_code"),
    ]
