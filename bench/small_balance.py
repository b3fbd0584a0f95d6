#!/usr/bin/env python3
"""The nightly small-balance write-off run for one practice beside a hand-written SQL floor
(DESIGN.md: within 1.5x).

    .venv/bin/python bench/small_balance.py                       # collections_bench, the busiest practice
    .venv/bin/python bench/small_balance.py --practice lonestar-fm --repeats 5 --no-results

Against an already seeded and migrated PostgreSQL database (bench/run.py or `manage.py seed_demo`)
whose aging snapshot ran (the run reads each account's oldest open visit from it). Measured, as
the job does it: `writeoffs.services.small_balance_run_create` (the candidate query, then one
SmallBalanceRun, its proposed requests, their history rows and audit rows, INSERT ... SELECT), without
the auto-approved postings (each of those is a ledger posting of its own, not part of the preview).
The floor: one hand-written statement, INSERT ... SELECT of the same candidates into the same four
tables (run, requests, history, audit). Both run inside a transaction that is rolled back, so the
database keeps no rows; interleaved (job, floor, job, floor, ...), median of --repeats. The two must
pick the same accounts with the same total, and the run says so. Appends to bench/RESULTS.md unless
--no-results.
"""

import argparse
import os
import re
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "RESULTS.md"
DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/collections_bench"
TARGET_RATIO = 1.5

# The same rule as writeoffs.services.small_balance_candidates, by hand, and the same rows written.
FLOOR_SQL = """
WITH cand AS (
    SELECT a.id AS account_id, a.patient_balance AS amount
    FROM accounts_patientaccount a
    JOIN accounts_accountagingstate s ON s.account_id = a.id AND s.oldest_open_service_on < %(oldest_before)s
    WHERE a.practice_id = %(practice)s AND a.status = 'active'
      AND a.patient_balance > 0 AND a.patient_balance <= %(threshold)s
      AND a.updated_at < %(quiet_since)s
      AND (a.last_patient_payment_on IS NULL OR a.last_patient_payment_on <= %(cutoff)s)
      AND NOT EXISTS (SELECT 1 FROM accounts_transaction t WHERE t.account_id = a.id AND t.effective_on > %(cutoff)s)
      AND NOT EXISTS (SELECT 1 FROM writeoffs_writeoffrequest w
                      WHERE w.account_id = a.id AND w.status IN ('proposed', 'approved'))
),
run AS (
    INSERT INTO writeoffs_smallbalancerun
        (practice_id, run_on, status, account_count, total, auto_approved_count, auto_approved_total, created_at)
    SELECT %(practice)s, %(run_on)s, 'preview', COUNT(*), COALESCE(SUM(amount), 0), 0, 0, %(now)s FROM cand
    RETURNING id
),
req AS (
    INSERT INTO writeoffs_writeoffrequest
        (practice_id, account_id, amount, reason, note, status, source, small_balance_run_id, requested_at,
         denial_reason, reversal_reason, idempotency_key)
    SELECT %(practice)s, cand.account_id, cand.amount, 'small_balance', %(note)s, 'proposed', 'small_balance_run',
           run.id, %(now)s, '', '', ''
    FROM cand CROSS JOIN run
    RETURNING id, account_id, amount
),
hist AS (
    INSERT INTO writeoffs_writeoffhistory (request_id, from_status, to_status, changed_at, note)
    SELECT id, '', 'proposed', %(now)s, %(note)s FROM req
)
INSERT INTO core_auditevent
    (occurred_at, username, action, object_type, object_id, practice_id, field_group, request_id, detail)
SELECT %(now)s, '', 'create', 'writeoffs.writeoffrequest', req.id::text, %(practice)s, 'management', '',
       jsonb_build_object('account_id', req.account_id, 'amount', req.amount::text, 'job', 'small_balance_writeoffs')
FROM req
"""


def log(message: str) -> None:
    print(f"[small_balance {datetime.now().strftime('%H:%M:%S')}] {message}", flush=True)


def check_url(url: str) -> None:
    name = urlsplit(url).path.lstrip("/")
    if not url.startswith(("postgres://", "postgresql://")):
        raise SystemExit("bench: the small-balance benchmark needs PostgreSQL")
    if not re.fullmatch(r"[a-z_][a-z0-9_]*", name) or name in {"collections", "postgres", "template0", "template1"}:
        raise SystemExit(f"bench: refusing database {name!r}; use a benchmark database (e.g. collections_bench)")


def setup_django(url: str) -> None:
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()


# The practice fields the run reads (the rest of the policy is not needed here).
PRACTICE_FIELDS = (
    "id",
    "code",
    "name",
    "time_zone",
    "small_balance_threshold",
    "small_balance_min_age_days",
    "small_balance_no_activity_days",
    "small_balance_auto_approve_under",
    "writeoff_limit_management",
)


def pick_practice(code: str | None):
    from accounts.models import Practice
    from accounts.selectors import practice_today
    from writeoffs.services import small_balance_candidates

    practices = Practice.objects.only(*PRACTICE_FIELDS).order_by("pk")
    if code:
        return practices.get(code=code)
    counts = {p: small_balance_candidates(p, practice_today(p)).count() for p in practices}
    return max(counts, key=counts.get)


def run_job(practice, as_of):
    """The job's work for one practice, timed, in a transaction rolled back: (seconds, accounts, total)."""
    from django.db import transaction

    from writeoffs.services import small_balance_run_create

    with transaction.atomic():
        started = time.perf_counter()
        run = small_balance_run_create(practice=practice, as_of=as_of, auto_post=False)
        seconds = time.perf_counter() - started
        assert run.created_now, "a run for this date already exists: pick another --date"
        accounts = set(run.requests.values_list("account_id", flat=True))
        total = run.total
        transaction.set_rollback(True)
    return seconds, accounts, total


def run_floor(practice, as_of):
    from django.db import connection, transaction

    from writeoffs.services import NOTE_SMALL_BALANCE, practice_midnight

    cutoff = as_of - timedelta(days=practice.small_balance_no_activity_days)
    params = {
        "practice": practice.pk,
        "threshold": practice.small_balance_threshold,
        "oldest_before": as_of - timedelta(days=practice.small_balance_min_age_days),
        "cutoff": cutoff,
        "quiet_since": practice_midnight(practice, cutoff + timedelta(days=1)),
        "run_on": as_of,
        "now": datetime.now(UTC),
        "note": NOTE_SMALL_BALANCE.format(day=as_of),
    }
    with transaction.atomic():
        with connection.cursor() as cursor:
            started = time.perf_counter()
            cursor.execute(FLOOR_SQL, params)
            seconds = time.perf_counter() - started
            cursor.execute(
                "SELECT r.account_id, r.amount FROM writeoffs_writeoffrequest r "
                "JOIN writeoffs_smallbalancerun s ON s.id = r.small_balance_run_id "
                "WHERE s.practice_id = %s AND s.run_on = %s",
                [practice.pk, as_of],
            )
            rows = cursor.fetchall()
        transaction.set_rollback(True)
    return seconds, {row[0] for row in rows}, sum((row[1] for row in rows), 0)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL", DEFAULT_URL))
    parser.add_argument("--practice", help="practice code (default: the one with the most candidates)")
    parser.add_argument("--date", help="the run's date, YYYY-MM-DD (default: the practice's today)")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--no-results", action="store_true", help="do not append to bench/RESULTS.md")
    args = parser.parse_args()
    check_url(args.database_url)
    setup_django(args.database_url)

    from datetime import date

    from accounts.models import PatientAccount
    from accounts.selectors import practice_today
    from writeoffs.models import SmallBalanceRun, WriteOffRequest

    practice = pick_practice(args.practice)
    as_of = date.fromisoformat(args.date) if args.date else practice_today(practice)
    accounts_total = PatientAccount.objects.count()
    practice_accounts = PatientAccount.objects.filter(practice=practice).count()
    before = (SmallBalanceRun.objects.count(), WriteOffRequest.objects.count())
    log(f"{accounts_total:,} accounts; practice {practice.code} ({practice_accounts:,} accounts), as of {as_of}")

    run_job(practice, as_of)  # warm-up, untimed: caches and plans as the second night finds them
    run_floor(practice, as_of)
    job_times, floor_times = [], []
    picked_job = picked_floor = None
    for attempt in range(1, args.repeats + 1):
        seconds, picked_job, total_job = run_job(practice, as_of)
        job_times.append(seconds)
        seconds, picked_floor, total_floor = run_floor(practice, as_of)
        floor_times.append(seconds)
        log(f"round {attempt}: job {job_times[-1] * 1000:.0f} ms, floor {floor_times[-1] * 1000:.0f} ms")
    same = picked_job == picked_floor and total_job == total_floor
    after = (SmallBalanceRun.objects.count(), WriteOffRequest.objects.count())
    assert after == before, f"rows left behind: {before} -> {after}"
    job_ms, floor_ms = statistics.median(job_times) * 1000, statistics.median(floor_times) * 1000
    ratio = job_ms / floor_ms if floor_ms else float("inf")
    verdict = "within" if ratio <= TARGET_RATIO else "OVER"
    log(
        f"job median {job_ms:.0f} ms, floor median {floor_ms:.0f} ms: {ratio:.2f}x ({verdict} {TARGET_RATIO}x); "
        f"{len(picked_job):,} accounts, ${total_job:,.2f}; same accounts and total: {'yes' if same else 'NO'}"
    )
    if not args.no_results:
        stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
        lines = [
            "",
            f"## Small-balance write-off run, {stamp}",
            "",
            f"`bench/small_balance.py`: {accounts_total:,} accounts over 5 practices; practice `{practice.code}` "
            f"({practice_accounts:,} accounts, threshold ${practice.small_balance_threshold}, minimum age "
            f"{practice.small_balance_min_age_days} days, no activity {practice.small_balance_no_activity_days} days), "
            f"as of {as_of}. The job's work (candidate query, run, requests, history and audit rows) beside one "
            f"hand-written INSERT ... SELECT into the same tables; each in a transaction rolled back, interleaved, "
            f"median of {args.repeats}.",
            "",
            "| what | job | floor | ratio | target |",
            "|---|---|---|---|---|",
            f"| preview of {len(picked_job):,} accounts, ${total_job:,.2f} | {job_ms:.0f} ms | {floor_ms:.0f} ms "
            f"| {ratio:.2f}x | within {TARGET_RATIO}x |",
            "",
            f"Same accounts and total in both: {'yes' if same else 'NO'}. Rounds (job / floor, ms): "
            + ", ".join(f"{j * 1000:.0f}/{f * 1000:.0f}" for j, f in zip(job_times, floor_times, strict=True))
            + ". No rows left behind.",
        ]
        with RESULTS.open("a") as out:
            out.write("\n".join(lines) + "\n")
        log(f"appended to {RESULTS.relative_to(ROOT)}")
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
