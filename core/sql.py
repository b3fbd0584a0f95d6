"""Set-based SQL shared by the apps, written once for both databases (PostgreSQL, SQLite)."""

from datetime import date

from django.db import connection
from django.db.models import BooleanField, Expression, F

# The array type PostgreSQL reads each column as (an all-NULL column needs its type too). SQLite
# gets a VALUES list, one placeholder per value: it takes ISO dates as text and casts nothing.
_ARRAYS = {"int": "bigint[]", "money": "numeric[]", "date": "date[]", "text": "text[]"}


def _element(value) -> str:
    if value is None:
        return "NULL"
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def array_literal(values) -> str:
    """A PostgreSQL array literal ('{1,2,NULL}', '{"a","b"}') of ints, Decimals, dates or strings,
    passed as one text parameter and cast in the SQL (`%s::bigint[]`): the driver quotes one
    string instead of adapting every element in Python."""
    values = list(values)
    if all(type(value) is int for value in values):
        return "{" + ",".join(map(str, values)) + "}"
    return "{" + ",".join(map(_element, values)) + "}"


def update_from_values(
    *, table: str, columns: dict[str, str], rows: list[tuple], assignments: str, extra_params: list | None = None
) -> int:
    """One UPDATE of many rows of `table`, each by its id with its own values: `rows` are tuples
    (id first) matching `columns` ({name: "int" | "money" | "date" | "text"}, id first), readable
    as `v.<name>` in `assignments` ("balance = t.balance + v.delta, ..."; the table is `t`), whose
    own placeholders take `extra_params`.
    Django's bulk_update builds a CASE per row and column, which costs ~4 ms a row in Python.
    PostgreSQL reads the values as one array per column (unnest): a handful of parameters instead
    of one per value, which the driver would otherwise quote and splice one by one."""
    if not rows:
        return 0
    names = list(columns)
    if connection.vendor == "postgresql":
        arrays = [array_literal(values) for values in zip(*rows, strict=True)]
        unnest = ", ".join(f"%s::{_ARRAYS[columns[name]]}" for name in names)
        sql = (
            f"WITH v({', '.join(names)}) AS (SELECT * FROM unnest({unnest})) "
            f"UPDATE {table} AS t SET {assignments} FROM v WHERE t.id = v.{names[0]}"
        )
        with connection.cursor() as cursor:
            cursor.execute(sql, [*arrays, *(extra_params or [])])
            return cursor.rowcount
    row_sql = "(" + ", ".join(["%s"] * len(names)) + ")"
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


def copy_rows(*, table: str, columns: list[str], rows) -> None:
    """PostgreSQL only: append `rows` (tuples in `columns` order, Python values) with one COPY,
    the fastest way in: no SQL text or parameter per value. Callers keep a portable path."""
    statement = f"COPY {table} ({', '.join(columns)}) FROM STDIN"
    with connection.cursor() as cursor, cursor.cursor.copy(statement) as copy:
        for row in rows:
            copy.write_row(row)


class InArray(Expression):
    """`column = ANY(%s::<type>[])` (PostgreSQL): the values as one array parameter. Django writes
    `column IN (%s, %s, ...)`, a placeholder per value that the driver quotes and splices one by
    one: for 2,000 values that costs more than running the query."""

    conditional = True
    output_field = BooleanField()

    def __init__(self, field: str, values: list, array_type: str = "bigint[]"):
        super().__init__()
        self.column, self.values, self.array_type = F(field), values, array_type

    def resolve_expression(self, query=None, allow_joins=True, reuse=None, summarize=False, for_save=False):
        resolved = self.copy()
        resolved.column = self.column.resolve_expression(query, allow_joins, reuse, summarize, for_save)
        return resolved

    def as_sql(self, compiler, connection):
        sql, params = compiler.compile(self.column)
        return f"{sql} = ANY(%s::{self.array_type})", [*params, array_literal(self.values)]


def among(queryset, field: str, values, array_type: str = "bigint[]"):
    """`queryset.filter(<field>__in=values)`, on PostgreSQL as one array parameter (InArray);
    `array_type` is the array's PostgreSQL type ("bigint[]" for ids, "text[]" for strings)."""
    if connection.vendor == "postgresql":
        return queryset.filter(InArray(field, list(values), array_type))
    return queryset.filter(**{f"{field}__in": values})


def analyze_if_grown(tables: list[str], *, share: float = 0.1) -> list[str]:
    """PostgreSQL: ANALYZE each of `tables` never analyzed, or changed by more than `share` of its
    rows since it last was: what autovacuum would do later, done now, so the next statement (the
    remittance after a large claims file, tonight's jobs) is planned on today's row counts. The
    tables analyzed; nothing on SQLite."""
    if connection.vendor != "postgresql" or not tables:
        return []
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT relname FROM pg_stat_user_tables WHERE relname = ANY(%s::text[]) "
            "AND (COALESCE(last_analyze, last_autoanalyze) IS NULL"
            " OR n_mod_since_analyze > %s * GREATEST(n_live_tup, 1))",
            [array_literal(tables), share],
        )
        grown = sorted(row[0] for row in cursor.fetchall())
        for table in grown:
            cursor.execute(f"ANALYZE {connection.ops.quote_name(table)}")
    return grown
