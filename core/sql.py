"""Set-based SQL shared by the apps, written once for both databases (PostgreSQL, SQLite)."""

from django.db import connection

# How a parameter of each type is written: PostgreSQL types a VALUES list from its first row, so
# an all-NULL or text column needs its cast; SQLite takes ISO dates as text and casts nothing.
_CASTS = {
    "postgresql": {"int": "%s::bigint", "money": "%s::numeric", "date": "%s::date", "text": "%s::text"},
    "sqlite": {"int": "%s", "money": "%s", "date": "%s", "text": "%s"},
}


def update_from_values(
    *, table: str, columns: dict[str, str], rows: list[tuple], assignments: str, extra_params: list | None = None
) -> int:
    """One UPDATE of many rows of `table`, each by its id with its own values: `rows` are tuples
    (id first) matching `columns` ({name: "int" | "money" | "date" | "text"}, id first), readable
    as `v.<name>` in `assignments` ("balance = t.balance + v.delta, ..."; the table is `t`), whose
    own placeholders take `extra_params`.
    Django's bulk_update builds a CASE per row and column, which costs ~4 ms a row in Python."""
    if not rows:
        return 0
    vendor = "postgresql" if connection.vendor == "postgresql" else "sqlite"
    casts = _CASTS[vendor]
    names = list(columns)
    row_sql = "(" + ", ".join(casts[columns[name]] for name in names) + ")"
    adapt_date = connection.ops.adapt_datefield_value
    params: list = []
    for row in rows:
        for name, value in zip(names, row, strict=True):
            params.append(adapt_date(value) if columns[name] == "date" else value)
    sql = (
        f"WITH v({', '.join(names)}) AS (VALUES {', '.join([row_sql] * len(rows))}) "
        f"UPDATE {table} AS t SET {assignments} FROM v WHERE t.id = v.{names[0]}"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [*params, *(extra_params or [])])
        return cursor.rowcount
