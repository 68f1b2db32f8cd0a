# UNSAFE: RENAME COLUMN breaks the code already deployed, which still selects
# and inserts "number".  migguard blocks it (rule rename_column); the test
# drops this file (the safe way is add column, dual write, backfill, switch
# readers, drop the old column, over several deploys).
from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("shop", "0002_order_created_at_idx_concurrently")]

    operations = [
        migrations.RenameField(model_name="order", old_name="number", new_name="order_number"),
    ]
