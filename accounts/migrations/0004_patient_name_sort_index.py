from django.db import migrations


def create(apps, schema_editor):
    # Name search walks this index in order: prefix "NAV" is the range ['NAV', 'NAW') in the C
    # collation, already sorted for the page (accounts.selectors.name_key). SQLite uses the
    # patient_name_upper index, whose default collation is byte-wise already.
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(
        'CREATE INDEX IF NOT EXISTS patient_name_c ON accounts_patient '
        '((UPPER(last_name) COLLATE "C"), (UPPER(first_name) COLLATE "C"), id);'
    )


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("DROP INDEX IF EXISTS patient_name_c;")


class Migration(migrations.Migration):
    dependencies = [("accounts", "0003_ledger_append_only_and_search_indexes")]

    operations = [migrations.RunPython(create, drop)]
