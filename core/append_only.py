"""Database-level refusal of UPDATE and DELETE on append-only tables (the ledger, the audit trail).

The ORM is not the only writer (psql, scripts, a future bug), so the rule lives in the database:
a trigger on PostgreSQL and on SQLite. Migrations install it; `drop_triggers` exists only for
the test suite on SQLite, whose flush between browser tests deletes rows (PostgreSQL truncates,
which row triggers do not see).
"""

APPEND_ONLY_TABLES = ("accounts_transaction", "core_auditevent")

_POSTGRES_FUNCTION = """
CREATE OR REPLACE FUNCTION refuse_append_only_change() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION '% is append-only: % refused (post a reversal instead)', TG_TABLE_NAME, TG_OP
        USING ERRCODE = 'integrity_constraint_violation';
END;
$$ LANGUAGE plpgsql;
"""


def install_sql(vendor: str, table: str) -> list[str]:
    if vendor == "postgresql":
        return [
            _POSTGRES_FUNCTION,
            f"DROP TRIGGER IF EXISTS {table}_append_only ON {table};",
            f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
            "FOR EACH ROW EXECUTE FUNCTION refuse_append_only_change();",
        ]
    if vendor == "sqlite":
        return [
            f"CREATE TRIGGER IF NOT EXISTS {table}_no_update BEFORE UPDATE ON {table} "
            f"BEGIN SELECT RAISE(ABORT, '{table} is append-only: UPDATE refused'); END;",
            f"CREATE TRIGGER IF NOT EXISTS {table}_no_delete BEFORE DELETE ON {table} "
            f"BEGIN SELECT RAISE(ABORT, '{table} is append-only: DELETE refused'); END;",
        ]
    raise NotImplementedError(f"append-only triggers for {vendor}")


def drop_sql(vendor: str, table: str) -> list[str]:
    if vendor == "postgresql":
        return [f"DROP TRIGGER IF EXISTS {table}_append_only ON {table};"]
    return [f"DROP TRIGGER IF EXISTS {table}_no_update;", f"DROP TRIGGER IF EXISTS {table}_no_delete;"]


def install_triggers(connection, tables=APPEND_ONLY_TABLES) -> None:
    with connection.cursor() as cursor:
        for table in tables:
            for statement in install_sql(connection.vendor, table):
                cursor.execute(statement)


def drop_triggers(connection, tables=APPEND_ONLY_TABLES) -> None:
    with connection.cursor() as cursor:
        for table in tables:
            for statement in drop_sql(connection.vendor, table):
                cursor.execute(statement)


def migration_operations(table: str):
    """RunPython operations for a migration: install on the way up, drop on the way down."""
    from django.db import migrations

    def forwards(apps, schema_editor):
        install_triggers(schema_editor.connection, (table,))

    def backwards(apps, schema_editor):
        drop_triggers(schema_editor.connection, (table,))

    return [migrations.RunPython(forwards, backwards, elidable=False)]
