"""After a large import the grown tables' statistics are brought up to date (core.sql.analyze_if_grown),
so the remittance that follows its claims is planned on the real row counts, not an empty table's."""

import pytest
from django.db import connection

from core.sql import analyze_if_grown

pytestmark = pytest.mark.django_db


@pytest.mark.skipif(connection.vendor != "postgresql", reason="statistics are PostgreSQL's")
def test_a_never_analyzed_table_is_analyzed_and_its_row_count_known():
    with connection.cursor() as cursor:
        cursor.execute("CREATE TABLE import_statistics_scratch (id integer)")
        cursor.execute("INSERT INTO import_statistics_scratch SELECT generate_series(1, 500)")
        cursor.execute("SELECT reltuples FROM pg_class WHERE relname = 'import_statistics_scratch'")
        assert cursor.fetchone()[0] < 0  # never analyzed: the planner does not know its size
    assert analyze_if_grown(["import_statistics_scratch", "no_such_table"]) == ["import_statistics_scratch"]
    with connection.cursor() as cursor:
        cursor.execute("SELECT reltuples FROM pg_class WHERE relname = 'import_statistics_scratch'")
        assert cursor.fetchone()[0] == 500


@pytest.mark.skipif(connection.vendor == "postgresql", reason="SQLite only: PostgreSQL is tested above")
def test_on_sqlite_nothing_is_analyzed():
    assert analyze_if_grown(["accounts_claim"]) == []
