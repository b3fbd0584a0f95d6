#!/usr/bin/env python3
"""All nightly jobs for one date beside a hand-written SQL floor (DESIGN.md: under 60 s, within 1.5x).

    .venv/bin/python bench/nightly.py                                  # collections_bench, today
    .venv/bin/python bench/nightly.py --database-url postgres://postgres@127.0.0.1:5432/scratch \
        --date 2026-11-26 --no-results

Against an already seeded PostgreSQL database (bench/run.py or `manage.py seed_demo`): migrate,
delete the date's JobRun rows (so every job really runs) and the date's aging snapshot; by default
run the night before first (untimed; nothing when it already ran), so the timed run is a normal
night that finds yesterday's states and queue; with --first-night empty every account aging state
instead (so the aging snapshot inserts every row: the worst case, a first night); run
every registered job through the runner (`collections_app.nightly.runner.run_nightly`, as the beat
does), timed per job and in total. Then the floors, hand-written set-based SQL:
- aging_snapshot: the aging snapshot's results (every account's aging state and every practice's
  buckets, into temporary tables; checked against what the job wrote);
- queue_refresh (bench/nightly_floor_queue.py): every (account, reason) that should be open, the
  eleven queue rules by hand in one UNION ALL, and the queue entries' scores, into temporary
  tables; checked against the open work items and queue entries the job left. The job also
  writes (clears, inserts, upserts); the floor computes the same set and writes nothing;
- the other jobs listed in FLOOR_STATEMENTS (promise_check, hold_expiry, plan_lapse_default,
  plan_reminders): the statement that finds their work (timed before the jobs run).
Jobs without a floor are reported without one.
Results are appended to bench/RESULTS.md unless --no-results.
"""

import argparse
import os
import re
import subprocess
import sys
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "RESULTS.md"
DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/collections_bench"
TARGET_SECONDS = 60.0
TARGET_RATIO = 1.5
NIGHT_FIRST = "a first night: every account aging state emptied first"
NIGHT_NORMAL = "a normal night: the night before ran first"


def log(message: str) -> None:
    print(f"[nightly {datetime.now().strftime('%H:%M:%S')}] {message}", flush=True)


def check_url(url: str) -> None:
    name = urlsplit(url).path.lstrip("/")
    if not url.startswith(("postgres://", "postgresql://")):
        raise SystemExit("bench: the nightly benchmark needs PostgreSQL")
    if not re.fullmatch(r"[a-z_][a-z0-9_]*", name) or name in {"collections", "postgres", "template0", "template1"}:
        raise SystemExit(f"bench: refusing database {name!r}; use a benchmark database (e.g. collections_bench)")


# The floor for the aging snapshot: every account's aging and every practice's buckets, by hand,
# for one date (so no per-practice date table), into temporary tables. Same rule as accounts.aging.
FLOOR_AGING_SQL = """
CREATE TEMP TABLE floor_items AS
WITH per_encounter AS (
    SELECT a.practice_id, t.account_id, t.encounter_id,
           SUM(t.patient_amount) AS net, SUM(t.insurance_amount) AS insurance_net
    FROM accounts_transaction t JOIN accounts_patientaccount a ON a.id = t.account_id
    JOIN accounts_practice p ON p.id = a.practice_id AND p.is_active
    WHERE t.effective_on <= %(as_of)s
    GROUP BY a.practice_id, t.account_id, t.encounter_id
),
pools AS (
    SELECT practice_id, account_id, GREATEST(SUM(-net), 0) AS credit, LEAST(SUM(-net), 0) AS debit
    FROM per_encounter WHERE encounter_id IS NULL OR net < 0 GROUP BY practice_id, account_id
),
debits AS (
    SELECT pe.practice_id, pe.account_id, e.date_of_service, pe.net,
           SUM(pe.net) OVER (PARTITION BY pe.account_id ORDER BY e.date_of_service, pe.encounter_id) AS running
    FROM per_encounter pe JOIN accounts_encounter e ON e.id = pe.encounter_id WHERE pe.net > 0
)
SELECT d.practice_id, d.account_id, d.date_of_service,
       GREATEST(%(as_of)s::date - d.date_of_service, 0) AS age_days,
       LEAST(GREATEST(d.running - COALESCE(p.credit, 0), 0), d.net) AS patient_open, 0 AS insurance_open
FROM debits d LEFT JOIN pools p ON p.account_id = d.account_id
UNION ALL
SELECT practice_id, account_id, NULL, 0, -debit, 0 FROM pools WHERE debit < 0
UNION ALL
SELECT pe.practice_id, pe.account_id, e.date_of_service, GREATEST(%(as_of)s::date - e.date_of_service, 0), 0,
       pe.insurance_net
FROM per_encounter pe JOIN accounts_encounter e ON e.id = pe.encounter_id WHERE pe.insurance_net > 0;

CREATE TEMP TABLE floor_states AS
SELECT i.account_id, i.practice_id, SUM(i.patient_open) AS patient_open, MIN(i.date_of_service) AS oldest_on,
       (ARRAY['0-30', '31-60', '61-90', '91-120', '121+'])[1 + width_bucket(
           COALESCE(MAX(i.age_days) FILTER (WHERE i.date_of_service IS NOT NULL), 0), ARRAY[31, 61, 91, 121])] AS bucket,
       COALESCE(MAX(i.age_days) FILTER (WHERE i.date_of_service IS NOT NULL), 0) > MIN(p.statement_grace_days)
           AND MAX(i.age_days) FILTER (WHERE i.date_of_service IS NOT NULL) IS NOT NULL AS is_past_due
FROM floor_items i JOIN accounts_practice p ON p.id = i.practice_id
WHERE i.patient_open > 0
GROUP BY i.account_id, i.practice_id;

CREATE TEMP TABLE floor_snapshot AS
SELECT practice_id, width_bucket(age_days, ARRAY[31, 61, 91, 121]) AS position,
       SUM(patient_open) AS patient_amount, SUM(insurance_open) AS insurance_amount
FROM floor_items GROUP BY 1, 2;
"""

# Each checks the floor against what the job wrote; every query must return no rows.
FLOOR_AGING_CHECKS = {
    "states the job wrote that the floor does not have": """
        SELECT account_id, practice_id, patient_open, oldest_open_service_on, bucket, is_past_due
        FROM accounts_accountagingstate
        EXCEPT
        SELECT account_id, practice_id, patient_open, oldest_on, bucket, is_past_due FROM floor_states""",
    "floor states the job did not write": """
        SELECT account_id, practice_id, patient_open, oldest_on, bucket, is_past_due FROM floor_states
        EXCEPT
        SELECT account_id, practice_id, patient_open, oldest_open_service_on, bucket, is_past_due
        FROM accounts_accountagingstate""",
    "snapshot buckets that differ": """
        SELECT s.practice_id, s.bucket FROM accounts_practiceagingsnapshot s
        LEFT JOIN floor_snapshot f ON f.practice_id = s.practice_id
             AND f.position = CASE s.bucket WHEN '0-30' THEN 0 WHEN '31-60' THEN 1 WHEN '61-90' THEN 2
                                            WHEN '91-120' THEN 3 ELSE 4 END
        WHERE s.as_of = %(as_of)s
          AND (COALESCE(f.patient_amount, 0) <> s.patient_amount OR COALESCE(f.insurance_amount, 0) <> s.insurance_amount)""",
}

# Other jobs: the statement that finds their work, by hand (timed as their floor). A job not
# listed here is reported without a floor.
FLOOR_STATEMENTS = {
    "promise_check": """
        SELECT p.id, p.account_id FROM collections_app_promisetopay p
        WHERE p.status = 'open'
          AND (p.due_on < %(as_of)s
               OR (SELECT COALESCE(SUM(t.patient_amount), 0) FROM accounts_transaction t
                   WHERE t.account_id = p.account_id AND t.patient_amount < 0
                     AND t.effective_on BETWEEN p.promised_on AND %(as_of)s) <= -p.amount)""",
    "hold_expiry": """
        SELECT id, account_id FROM collections_app_accounthold WHERE released_at IS NULL AND ends_on < %(as_of)s""",
    # Running plans (active, lapsed) with their installments missed past the practice's grace days
    # (each practice on its date); what each moves to: defaulted at the practice's missed count
    # (at least 1), an active plan with a miss lapses (with a lapse notice where the account may be
    # mailed), a lapsed plan with none left catches up.
    "plan_lapse_default": """
        WITH running AS (
            SELECT pl.id, pl.account_id, pl.status, GREATEST(p.plan_default_missed_count, 1) AS default_at,
                   COUNT(i.id) AS missed
            FROM payment_plans_paymentplan pl
            JOIN floor_dates d ON d.practice_id = pl.practice_id
            JOIN accounts_practice p ON p.id = pl.practice_id
            LEFT JOIN payment_plans_installment i
                   ON i.plan_id = pl.id AND i.superseded_at IS NULL AND i.paid_on IS NULL
                  AND i.due_on < d.as_of - p.plan_grace_days
            WHERE pl.status IN ('active', 'lapsed')
            GROUP BY pl.id, pl.account_id, pl.status, p.plan_default_missed_count
        )
        SELECT r.id, r.account_id,
               CASE WHEN r.missed >= r.default_at THEN 'defaulted'
                    WHEN r.status = 'active' THEN 'lapsed' ELSE 'active' END AS moves_to,
               r.missed < r.default_at AND r.status = 'active'
                   AND a.cease_communication_on IS NULL AND NOT a.attorney_represented AND a.status <> 'hold'
                   AND NOT pt.address_is_bad AND pt.address_line1 <> '' AS lapse_notice
        FROM running r
        JOIN accounts_patientaccount a ON a.id = r.account_id
        JOIN accounts_patient pt ON pt.id = a.patient_id
        WHERE r.missed >= r.default_at OR (r.status = 'active' AND r.missed >= 1)
           OR (r.status = 'lapsed' AND r.missed = 0)""",
    # Open installments of running plans due in the next plan_reminder_days_before days (0: none)
    # with no reminder yet, on accounts that may be contacted (no cease-communication, attorney or
    # hold); a text where consent to texts is in force on the day and there is a phone number,
    # otherwise a letter where the address is good.
    "plan_reminders": """
        SELECT i.id, i.plan_id, texts.ok AS by_text
        FROM payment_plans_installment i
        JOIN floor_dates d ON d.practice_id = i.practice_id
        JOIN accounts_practice p ON p.id = i.practice_id
        JOIN payment_plans_paymentplan pl ON pl.id = i.plan_id
        JOIN accounts_patientaccount a ON a.id = pl.account_id
        JOIN accounts_patient pt ON pt.id = a.patient_id
        CROSS JOIN LATERAL (
            SELECT pt.phone <> '' AND EXISTS (
                SELECT 1 FROM collections_app_contactconsent c
                WHERE c.account_id = pl.account_id AND c.channel = 'text' AND c.granted_on <= d.as_of
                  AND (c.revoked_on IS NULL OR c.revoked_on > d.as_of)) AS ok
        ) texts
        WHERE p.plan_reminder_days_before > 0
          AND i.superseded_at IS NULL AND i.paid_on IS NULL
          AND i.due_on > d.as_of AND i.due_on <= d.as_of + p.plan_reminder_days_before
          AND pl.status IN ('active', 'lapsed')
          AND NOT EXISTS (SELECT 1 FROM payment_plans_planreminder r WHERE r.installment_id = i.id)
          AND a.cease_communication_on IS NULL AND NOT a.attorney_represented AND a.status <> 'hold'
          AND (texts.ok OR (NOT pt.address_is_bad AND pt.address_line1 <> ''))""",
}


def run_aging_floor(cursor, as_of: date) -> dict:
    """The aging floor, timed, then checked against what the job wrote (run after the jobs: the
    ledger is then warm in the cache, which favours the floor)."""
    cursor.execute("DROP TABLE IF EXISTS floor_items, floor_states, floor_snapshot")
    started = time.monotonic()
    cursor.execute(FLOOR_AGING_SQL, {"as_of": as_of})
    seconds = time.monotonic() - started
    mismatches = {}
    for label, sql in FLOOR_AGING_CHECKS.items():
        cursor.execute(f"SELECT COUNT(*) FROM ({sql}) differences", {"as_of": as_of})
        count = cursor.fetchone()[0]
        if count:
            mismatches[label] = count
    cursor.execute("DROP TABLE IF EXISTS floor_items, floor_states, floor_snapshot")
    return {"seconds": seconds, "mismatches": mismatches}


def run_finding_floors(cursor, as_of: date, practice_dates: dict[int, date]) -> dict[str, float]:
    """The other jobs' finding statements, timed BEFORE the jobs run (afterwards there is nothing
    left for them to find). `floor_dates` holds each practice's date, as the runner gives the jobs."""
    from bench.nightly_floor_queue import create_floor_dates

    create_floor_dates(cursor, practice_dates)
    timings = {}
    for job, sql in FLOOR_STATEMENTS.items():
        started = time.monotonic()
        try:
            cursor.execute("SAVEPOINT floor_statement")
            cursor.execute(sql, {"as_of": as_of})
            found = len(cursor.fetchall())
            cursor.execute("RELEASE SAVEPOINT floor_statement")
            timings[job] = time.monotonic() - started
            log(f"floor for {job}: {found:,} rows of work found in {timings[job]:.2f} s")
        except Exception as error:  # a table or column renamed since: report, do not stop
            cursor.execute("ROLLBACK TO SAVEPOINT floor_statement")
            log(f"floor for {job} skipped: {type(error).__name__}")
    return timings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL", DEFAULT_URL))
    parser.add_argument("--date", type=date.fromisoformat, help="as-of date (default: today, UTC)")
    parser.add_argument("--no-results", action="store_true", help="do not append to bench/RESULTS.md")
    parser.add_argument(
        "--first-night",
        action="store_true",
        help="empty the account aging states first (the worst case); default: a normal night after the night before",
    )
    args = parser.parse_args()
    check_url(args.database_url)
    as_of = args.date or datetime.now(UTC).date()

    os.environ["DATABASE_URL"] = args.database_url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
    os.environ["DEBUG"] = "false"
    log("migrate")
    subprocess.run([sys.executable, "manage.py", "migrate", "--noinput", "-v0"], cwd=ROOT, check=True)

    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.db import connection, transaction
    from django.utils import timezone

    from accounts.models import AccountAgingState, PatientAccount, PracticeAgingSnapshot, Transaction
    from bench.nightly_floor_queue import run_queue_floor
    from collections_app.models import JobRun
    from collections_app.nightly.runner import run_dates, run_nightly

    accounts = PatientAccount.objects.count()
    ledger_rows = Transaction.objects.count()
    log(f"{accounts:,} accounts, {ledger_rows:,} ledger rows; nightly jobs for {as_of}")
    JobRun.objects.filter(as_of=as_of).delete()
    PracticeAgingSnapshot.objects.filter(as_of=as_of).delete()
    if args.first_night:
        with connection.cursor() as cursor:
            cursor.execute(f"TRUNCATE {AccountAgingState._meta.db_table}")
    else:
        night_before = as_of - timedelta(days=1)
        log(f"the night before ({night_before}), untimed")
        run_nightly(as_of=night_before)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")

    _, practice_dates = run_dates(as_of=as_of)
    with transaction.atomic(), connection.cursor() as cursor:
        timings = run_finding_floors(cursor, as_of, practice_dates)

    started = time.monotonic()
    results = run_nightly(as_of=as_of)
    total = time.monotonic() - started
    for result in results:
        log(result.line())
    failed = [result.job for result in results if result.outcome != "ran"]

    log("floor: hand-written SQL")
    with transaction.atomic(), connection.cursor() as cursor:
        floor = run_aging_floor(cursor, as_of)
    timings["aging_snapshot"] = floor["seconds"]
    with transaction.atomic(), connection.cursor() as cursor:
        queue_floor = run_queue_floor(cursor, practice_dates, zone=timezone.get_current_timezone_name(), log=log)
    timings["queue_refresh"] = queue_floor["seconds"]
    rows = []
    jobs_with_floor_seconds = 0.0
    floor_seconds = 0.0
    for result in results:
        seconds = result.duration_ms / 1000
        floor_value = timings.get(result.job)
        if floor_value is not None:
            jobs_with_floor_seconds += seconds
            floor_seconds += floor_value
        rows.append((result.job, seconds, floor_value, result.outcome))
        log(
            f"  {result.job:20} {seconds:8.2f} s   floor "
            + (f"{floor_value:8.2f} s  {seconds / floor_value:5.1f}x" if floor_value else "       -")
        )
    log(f"  {'total':20} {total:8.2f} s (target < {TARGET_SECONDS:.0f} s)")
    if floor["mismatches"]:
        log(f"RESULTS DIFFER from the floor: {floor['mismatches']}")
    else:
        log("aging snapshot and account states match the floor")
    if queue_floor["mismatches"]:
        log(f"QUEUE DIFFERS from the floor: {queue_floor['mismatches']}")
    else:
        log("open work items and queue entry scores match the floor")

    if not args.no_results:
        write_results(
            as_of=as_of,
            accounts=accounts,
            ledger_rows=ledger_rows,
            rows=rows,
            total=total,
            floor_seconds=floor_seconds,
            jobs_with_floor_seconds=jobs_with_floor_seconds,
            same=not floor["mismatches"],
            queue_same=not queue_floor["mismatches"],
            first_night=args.first_night,
        )
    if failed or floor["mismatches"] or queue_floor["mismatches"]:
        raise SystemExit(1)


def write_results(
    *, as_of, accounts, ledger_rows, rows, total, floor_seconds, jobs_with_floor_seconds, same, queue_same, first_night
):
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        server = cursor.fetchone()[0]
    lines = [
        "",
        f"## {datetime.now(UTC):%Y-%m-%d %H:%M} UTC — nightly jobs, {accounts:,} accounts, {ledger_rows:,} ledger rows",
        "",
        f"`bench/nightly.py` for {as_of}: every registered job through the runner (the date's JobRun and "
        f"snapshot rows deleted first; {NIGHT_FIRST if first_night else NIGHT_NORMAL}). PostgreSQL {server}, {os.cpu_count()} CPUs. "
        f"Load average at the end: {', '.join(f'{x:.1f}' for x in os.getloadavg())}.",
        "",
        "| job | time | floor | ratio |",
        "|---|---|---|---|",
    ]
    for job, seconds, floor_value, outcome in rows:
        note = "" if outcome == "ran" else f" ({outcome})"
        floor_text = f"{floor_value:.2f} s" if floor_value else "-"
        ratio = f"{seconds / floor_value:.1f}x" if floor_value else "-"
        lines.append(f"| {job}{note} | {seconds:.2f} s | {floor_text} | {ratio} |")
    overall = f"{jobs_with_floor_seconds / floor_seconds:.1f}x" if floor_seconds else "-"
    lines.append(
        f"| **all jobs** | **{total:.2f} s** (target < {TARGET_SECONDS:.0f} s) | "
        f"{floor_seconds:.2f} s (jobs with a floor) | {overall} (target within {TARGET_RATIO}x) |"
    )
    lines += [
        "",
        f"Aging snapshot and account states equal the hand-written floor's: {'yes' if same else 'NO'}. "
        f"Open work items and queue entry scores equal the queue floor's: {'yes' if queue_same else 'NO'}.",
        "",
    ]
    with RESULTS.open("a") as handle:
        handle.write("\n".join(lines))
    log(f"appended to {RESULTS}")


if __name__ == "__main__":
    main()
