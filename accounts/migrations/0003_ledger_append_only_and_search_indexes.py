"""Hand-written steps of the accounts tables: the append-only ledger, and the search indexes the ORM
cannot declare on both databases."""

from django.db import migrations

from core.append_only import migration_operations

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


def create_name_sort_index(apps, schema_editor):
    # Name search walks this index in order: prefix "NAV" is the range ['NAV', 'NAW') in the C
    # collation, already sorted for the page (accounts.selectors.name_key). SQLite uses the
    # patient_name_upper index, whose default collation is byte-wise already.
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(
        'CREATE INDEX IF NOT EXISTS patient_name_c ON accounts_patient '
        '((UPPER(last_name) COLLATE "C"), (UPPER(first_name) COLLATE "C"), id);'
    )


def drop_name_sort_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("DROP INDEX IF EXISTS patient_name_c;")


class Migration(migrations.Migration):
    """The ledger refuses UPDATE and DELETE in the database. A later migration that makes SQLite
    rebuild accounts_transaction (most column changes do) drops the triggers with the table: end
    such a migration with `*migration_operations("accounts_transaction")` to put them back."""

    dependencies = [("accounts", "0002_initial")]

    operations = [
        *migration_operations("accounts_transaction"),
        migrations.RunPython(create_trigram_indexes, drop_trigram_indexes),
        migrations.RunPython(create_name_sort_index, drop_name_sort_index),
    ]
