# Safe step 2: the column is nullable now, so drop_column is only a warning
# and the DROP COLUMN runs (verdict 'warned' in migguard.change_log).
from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("shop", "0003_legacy_code_nullable")]

    operations = [
        migrations.RemoveField(model_name="order", name="legacy_code"),
    ]
