#!/usr/bin/env python3
"""The statement cycle at 1M accounts beside a hand-written SQL floor (DESIGN.md: within 1.5x).

    .venv/bin/python bench/statement_cycle.py                   # collections_bench
    .venv/bin/python bench/statement_cycle.py --repeats 5 --job-repeats 3 --no-results

Against an already seeded and migrated PostgreSQL database. Inside one transaction that is rolled
back at the end (the database keeps nothing):

1. the nightly aging snapshot, which the cycle reads for each balance's age;
2. a month of statement history, so the night is a steady-state night and not the first one: every
   owing account gets one cycle statement dated 1 to 30 days ago (by account id), covering it, at
   the dunning level its age allows. About one in thirty is due again tonight; the guarantor
   interval (25 days) passes one in six through to the cadence test.

Then, interleaved, each in a savepoint rolled back, median of --repeats:

- selection: `reports.statements.cycle.cycle_selections` for every practice, each on its own date
  (the candidates query with its windows, and one grouped count of the suppression reasons);
- floor: one hand-written statement giving the same per-practice statement count, accounts covered,
  total and suppression counts by reason (EXISTS / NOT EXISTS, the same first-reason order, window
  sums per guarantor).

The two must agree on every number, and the run says so. Then the whole job, `statement_cycle_run`
(selection, batch rows, statements, covers, content frozen by documents.statement_contents, first
statement dates, contact-log letters, audit rows), median of --job-repeats, with the time spent in
statement_contents shown apart: that is the document layer's work, not selection.
Appends to bench/RESULTS.md unless --no-results.
"""

import argparse
import os
import re
import statistics
import sys
import time
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "RESULTS.md"
DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/collections_bench"
TARGET_RATIO = 1.5
HISTORY_DAYS = 30

# One cycle statement per owing account, dated 1..30 days before its practice's date, at the level
# the balance's age allows (0 up to 30 days, then one a month, the final notice over 120).
SEED_HISTORY_SQL = """
WITH pd(practice_id, as_of) AS (VALUES {values})
INSERT INTO reports_statement
    (account_id, practice_id, guarantor_id, batch_id, kind, recipient, channel, dunning_level,
     statement_date, amount_due, pay_by, mailed_on, content, document, page_count, chunk,
     created_by_id, created_at)
SELECT a.id, a.practice_id, a.guarantor_id, NULL,
       (ARRAY['statement', 'dunning_30', 'dunning_60', 'dunning_90', 'final_notice'])[lvl.level + 1],
       'guarantor', 'mail', lvl.level, pd.as_of - (1 + a.id %% {days})::int, a.patient_balance, NULL,
       pd.as_of - (1 + a.id %% {days})::int, '{{}}'::jsonb, '', 0, 0, NULL, now()
FROM accounts_patientaccount a
JOIN pd ON pd.practice_id = a.practice_id
LEFT JOIN accounts_accountagingstate ags ON ags.account_id = a.id
CROSS JOIN LATERAL (SELECT LEAST(4, GREATEST(0, (pd.as_of - COALESCE(ags.oldest_open_service_on, pd.as_of) - 1) / 30))
                    AS level) lvl
WHERE a.patient_balance > 0 AND a.status <> 'closed'
"""
SEED_COVERS_SQL = """
INSERT INTO reports_statement_covers (statement_id, patientaccount_id)
SELECT s.id, s.account_id FROM reports_statement s WHERE s.id > %(after)s
"""

FLOOR_SQL = """
WITH pd(practice_id, cycle_since, guarantor_since, min_balance) AS (VALUES {values}),
base AS (
    SELECT a.id, a.practice_id, a.guarantor_id, a.status, a.patient_balance,
           CASE
             WHEN a.status = 'agency' OR EXISTS (SELECT 1 FROM collections_app_placement pl
                  WHERE pl.account_id = a.id AND pl.status = 'placed') THEN 'agency'
             WHEN a.status = 'hold' OR EXISTS (SELECT 1 FROM collections_app_accounthold h
                  WHERE h.account_id = a.id AND h.released_at IS NULL) THEN 'hold'
             WHEN a.cease_communication_on IS NOT NULL THEN 'cease'
             WHEN a.attorney_represented THEN 'attorney'
             WHEN CASE WHEN g.relationship = 'self' THEN p.address_is_bad OR p.address_line1 = ''
                       ELSE g.address_is_bad OR g.address_line1 = ''
                            OR (p.address_is_bad AND g.address_line1 = p.address_line1
                                AND g.postal_code = p.postal_code) END THEN 'address'
             WHEN EXISTS (SELECT 1 FROM accounts_claim c WHERE c.account_id = a.id
                  AND c.status IN ('submitted', 'pending', 'appealed')) THEN 'insurance'
           END AS reason,
           NOT EXISTS (SELECT 1 FROM reports_statement_covers sc JOIN reports_statement s ON s.id = sc.statement_id
                       WHERE sc.patientaccount_id = a.id AND s.kind IN {kinds}
                         AND s.statement_date > pd.cycle_since) AS due,
           pd.min_balance
    FROM accounts_patientaccount a
    JOIN pd ON pd.practice_id = a.practice_id
    JOIN accounts_patient p ON p.id = a.patient_id
    JOIN accounts_guarantor g ON g.id = a.guarantor_id
    WHERE a.patient_balance > 0 AND a.status <> 'closed'
      AND NOT EXISTS (SELECT 1 FROM reports_statement s WHERE s.guarantor_id = a.guarantor_id
                      AND s.kind IN {kinds} AND s.statement_date > pd.guarantor_since)
),
taking_part AS (
    SELECT b.*, SUM(b.patient_balance) OVER w AS guarantor_total, bool_or(b.due) OVER w AS guarantor_due
    FROM base b
    WHERE b.reason IS NULL AND b.status IN ('active', 'payment_plan')
    WINDOW w AS (PARTITION BY b.guarantor_id)
)
SELECT practice_id, 'statements', COUNT(DISTINCT guarantor_id), COUNT(*), COALESCE(SUM(patient_balance), 0)
FROM taking_part WHERE guarantor_due AND guarantor_total >= min_balance GROUP BY practice_id
UNION ALL
SELECT practice_id, 'minimum', COUNT(*), 0, 0
FROM taking_part WHERE guarantor_due AND guarantor_total < min_balance GROUP BY practice_id
UNION ALL
SELECT practice_id, reason, COUNT(*), 0, 0 FROM base WHERE due AND reason IS NOT NULL GROUP BY practice_id, reason
"""


def log(message: str) -> None:
    print(f"[statement_cycle {datetime.now().strftime('%H:%M:%S')}] {message}", flush=True)


def check_url(url: str) -> None:
    name = urlsplit(url).path.lstrip("/")
    if not url.startswith(("postgres://", "postgresql://")):
        raise SystemExit("bench: the statement cycle benchmark needs PostgreSQL")
    if not re.fullmatch(r"[a-z_][a-z0-9_]*", name) or name in {"collections", "postgres", "template0", "template1"}:
        raise SystemExit(f"bench: refusing database {name!r}; use a benchmark database (e.g. collections_bench)")


def setup_django(url: str) -> None:
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()


def floor_reason_names():
    from reports.statements import cycle

    return {
        "agency": cycle.REASON_AGENCY,
        "hold": cycle.REASON_HOLD,
        "cease": cycle.REASON_CEASE,
        "attorney": cycle.REASON_ATTORNEY,
        "address": cycle.REASON_ADDRESS,
        "insurance": cycle.REASON_INSURANCE,
        "minimum": cycle.REASON_MINIMUM,
    }


def summary_of_selection(selection) -> tuple:
    covered = sum(len(row.account_ids) for row in selection.statements)
    suppressed = tuple(sorted((reason, count) for reason, count in selection.suppressed.items() if count))
    return (len(selection.statements), covered, selection.total, suppressed)


def run_selection(practices):
    from django.db import transaction

    from reports.statements.cycle import cycle_selections

    with transaction.atomic():
        started = time.perf_counter()
        results = cycle_selections(practices)
        seconds = time.perf_counter() - started
        transaction.set_rollback(True)
    return seconds, {pk: summary_of_selection(selection) for pk, selection in results.items()}


def run_floor(practices):
    from django.db import connection

    from reports.statements import cycle

    values, params = [], []
    for practice, as_of in sorted(practices.items(), key=lambda item: item[0].pk):
        values.append("(%s, %s::date, %s::date, %s::numeric)")
        params += [
            practice.pk,
            as_of - timedelta(days=max(practice.statement_cycle_days, 1)),
            as_of - timedelta(days=max(practice.statement_guarantor_min_days, 1)),
            practice.statement_min_balance,
        ]
    kinds = "(" + ", ".join(f"'{kind}'" for kind in cycle.CYCLE_KINDS) + ")"
    names = floor_reason_names()
    with connection.cursor() as cursor:
        started = time.perf_counter()
        cursor.execute(FLOOR_SQL.format(values=", ".join(values), kinds=kinds), params)
        rows = cursor.fetchall()
        seconds = time.perf_counter() - started
    found = defaultdict(lambda: {"statements": (0, 0, Decimal("0.00")), "suppressed": {}})
    for practice_id, what, count, covered, total in rows:
        if what == "statements":
            found[practice_id]["statements"] = (count, covered, total)
        elif count:
            found[practice_id]["suppressed"][names[what]] = count
    summary = {
        practice.pk: (*found[practice.pk]["statements"], tuple(sorted(found[practice.pk]["suppressed"].items())))
        for practice in practices
    }
    return seconds, summary


def run_job(practice_dates):
    """The whole job in a savepoint rolled back: (seconds, seconds in statement_contents, counts)."""
    from django.db import transaction

    from reports.statements import cycle

    spent = [0.0]
    original = cycle._statement_contents_function

    def timed_contents_function():
        contents = original()

        def timed(statements, covered=None):
            started = time.perf_counter()
            try:
                return contents(statements, covered)
            finally:
                spent[0] += time.perf_counter() - started

        return timed

    cycle._statement_contents_function = timed_contents_function
    try:
        with transaction.atomic():
            started = time.perf_counter()
            counts = cycle.statement_cycle_run(practice_dates)
            seconds = time.perf_counter() - started
            transaction.set_rollback(True)
    finally:
        cycle._statement_contents_function = original
    return seconds, spent[0], counts


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL", DEFAULT_URL))
    parser.add_argument("--repeats", type=int, default=5, help="selection and floor rounds")
    parser.add_argument("--job-repeats", type=int, default=3, help="whole-job rounds (each writes the night)")
    parser.add_argument("--no-results", action="store_true", help="do not append to bench/RESULTS.md")
    args = parser.parse_args()
    check_url(args.database_url)
    setup_django(args.database_url)

    from django.db import connection, transaction

    from accounts.jobs import refresh_aging
    from accounts.models import PatientAccount, Practice
    from accounts.selectors import practice_today
    from reports.models import Statement

    accounts_total = PatientAccount.objects.count()
    statements_before = Statement.objects.count()
    with transaction.atomic():
        practices = {p: practice_today(p) for p in Practice.objects.filter(is_active=True).order_by("pk")}
        practice_dates = {p.pk: d for p, d in practices.items()}
        started = time.perf_counter()
        refresh_aging(practice_dates)
        aging_seconds = time.perf_counter() - started
        values = ", ".join(f"({int(p.pk)}, '{d.isoformat()}'::date)" for p, d in practices.items())
        after = Statement.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
        started = time.perf_counter()
        with connection.cursor() as cursor:
            cursor.execute(SEED_HISTORY_SQL.format(values=values, days=HISTORY_DAYS), [])
            history = cursor.rowcount
            cursor.execute(SEED_COVERS_SQL, {"after": after})
            cursor.execute("ANALYZE reports_statement")
            cursor.execute("ANALYZE reports_statement_covers")
            cursor.execute("ANALYZE accounts_accountagingstate")
        seed_seconds = time.perf_counter() - started
        log(
            f"{accounts_total:,} accounts; aging snapshot {aging_seconds:.1f} s; {history:,} statements of history "
            f"over {HISTORY_DAYS} days added in {seed_seconds:.1f} s (rolled back at the end)"
        )
        run_selection(practices)  # warm-up, untimed
        run_floor(practices)
        selection_times, floor_times = [], []
        job_rows = floor_rows = None
        for attempt in range(1, args.repeats + 1):
            seconds, job_rows = run_selection(practices)
            selection_times.append(seconds)
            seconds, floor_rows = run_floor(practices)
            floor_times.append(seconds)
            log(
                f"round {attempt}: selection {selection_times[-1] * 1000:.0f} ms, floor {floor_times[-1] * 1000:.0f} ms"
            )
        same = job_rows == floor_rows
        if not same:
            for pk in sorted(job_rows):
                if job_rows[pk] != floor_rows.get(pk):
                    log(f"practice {pk}: selection {job_rows[pk]} floor {floor_rows.get(pk)}")
        job_times, content_times, job_counts = [], [], {}
        for attempt in range(1, args.job_repeats + 1):
            seconds, content_seconds, job_counts = run_job(practice_dates)
            job_times.append(seconds)
            content_times.append(content_seconds)
            log(
                f"job round {attempt}: {seconds:.1f} s, of which statement_contents {content_seconds:.1f} s; {job_counts}"
            )
        transaction.set_rollback(True)
    assert Statement.objects.count() == statements_before, "rows left behind"
    selection_ms, floor_ms = statistics.median(selection_times) * 1000, statistics.median(floor_times) * 1000
    ratio = selection_ms / floor_ms if floor_ms else float("inf")
    verdict = "within" if ratio <= TARGET_RATIO else "OVER"
    statements = sum(row[0] for row in job_rows.values())
    covered = sum(row[1] for row in job_rows.values())
    total = sum(row[2] for row in job_rows.values())
    suppressed = defaultdict(int)
    for row in job_rows.values():
        for reason, count in row[3]:
            suppressed[reason] += count
    job_s = statistics.median(job_times)
    content_s = statistics.median(content_times)
    per_statement_ms = (job_s * 1000 / statements) if statements else 0
    log(
        f"selection median {selection_ms:.0f} ms, floor median {floor_ms:.0f} ms: {ratio:.2f}x ({verdict} "
        f"{TARGET_RATIO}x); {statements:,} statements covering {covered:,} accounts, ${total:,.2f}; same numbers: "
        f"{'yes' if same else 'NO'}; whole job median {job_s:.1f} s ({per_statement_ms:.1f} ms a statement), "
        f"statement_contents {content_s:.1f} s of it"
    )
    if not args.no_results:
        stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
        reasons = ", ".join(f"{reason} {count:,}" for reason, count in sorted(suppressed.items()))
        lines = [
            "",
            f"## Statement cycle, {stamp}",
            "",
            f"`bench/statement_cycle.py`: {accounts_total:,} accounts over {len(practices)} practices. In a "
            f"transaction rolled back: the aging snapshot, and a steady-state month of history ({history:,} "
            f"cycle statements, one per owing account dated 1-{HISTORY_DAYS} days ago). The cycle's selection "
            "(`cycle_selections`: the candidates query over every practice and one grouped count of the suppression "
            "reasons) beside "
            f"one hand-written statement of the same rules; interleaved, each rolled back, median of {args.repeats}.",
            "",
            "| what | job | floor | ratio | target |",
            "|---|---|---|---|---|",
            f"| selection: {statements:,} statements covering {covered:,} accounts, ${total:,.2f} | "
            f"{selection_ms:.0f} ms | {floor_ms:.0f} ms | {ratio:.2f}x | within {TARGET_RATIO}x |",
            f"| whole job (median of {args.job_repeats}): selection, batches, statements, covers, content, "
            f"first statement dates, contact log, audit | {job_s:.1f} s | | | |",
            f"| of which `documents.statement_contents` | {content_s:.1f} s | | | |",
            "",
            f"Same per-practice numbers in both: {'yes' if same else 'NO'}. Left out: {reasons or 'none'}. Rounds "
            "(selection / floor, ms): "
            + ", ".join(f"{j * 1000:.0f}/{f * 1000:.0f}" for j, f in zip(selection_times, floor_times, strict=True))
            + ". Measured on the shared 2-core machine while other sessions ran.",
        ]
        with RESULTS.open("a") as out:
            out.write("\n".join(lines) + "\n")
        log(f"appended to {RESULTS.relative_to(ROOT)}")
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
