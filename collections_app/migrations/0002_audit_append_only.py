from django.db import migrations

from collections_app.append_only import migration_operations


class Migration(migrations.Migration):
    dependencies = [("collections_app", "0001_initial")]

    operations = migration_operations("collections_app_auditevent")
