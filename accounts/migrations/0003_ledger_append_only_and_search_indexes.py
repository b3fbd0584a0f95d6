from django.db import migrations

from collections_app.append_only import migration_operations

TRIGRAM_INDEXES = (
    ("patient_last_name_trgm", "accounts_patient", "UPPER(last_name)"),
    ("patient_first_name_trgm", "accounts_patient", "UPPER(first_name)"),
)


def create_trigram_indexes(apps, schema_editor):
    # Substring name search at 1M patients: a GIN trigram index answers LIKE '%SMI%' and
    # prefix searches without scanning (PostgreSQL only; SQLite is the small embedded default).
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm;")
    for name, table, expression in TRIGRAM_INDEXES:
        schema_editor.execute(
            f"CREATE INDEX IF NOT EXISTS {name} ON {table} USING gin ({expression} gin_trgm_ops);"
        )


def drop_trigram_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name, _, _ in TRIGRAM_INDEXES:
        schema_editor.execute(f"DROP INDEX IF EXISTS {name};")


class Migration(migrations.Migration):
    dependencies = [("accounts", "0002_initial")]

    operations = [
        *migration_operations("accounts_transaction"),
        migrations.RunPython(create_trigram_indexes, drop_trigram_indexes),
    ]
