from django.db import migrations

from core.append_only import migration_operations


class Migration(migrations.Migration):
    """The audit trail refuses UPDATE and DELETE in the database, not only in the ORM.

    A later migration that makes SQLite rebuild this table (most column changes do) drops the
    triggers with it: end such a migration with `*migration_operations("core_auditevent")`."""

    dependencies = [("core", "0001_initial")]

    operations = migration_operations("core_auditevent")
