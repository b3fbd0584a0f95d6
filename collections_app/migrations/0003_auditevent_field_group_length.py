from django.db import migrations, models

from collections_app.append_only import migration_operations


class Migration(migrations.Migration):
    """A read that shows several field groups records all of them ("billing,demographics,past_due_flag").

    SQLite rebuilds the table to alter a column, which drops its triggers: put the append-only
    triggers back (on PostgreSQL reinstalling them is a no-op)."""

    dependencies = [("collections_app", "0002_audit_append_only")]

    operations = [
        migrations.AlterField(
            model_name="auditevent",
            name="field_group",
            field=models.CharField(blank=True, max_length=100),
        ),
        *migration_operations("collections_app_auditevent"),
    ]
