#!/usr/bin/env python3
"""Agency candidate selection at 1M accounts beside a hand-written SQL floor (DESIGN.md: within 1.5x).

    .venv/bin/python bench/agency_candidates.py                  # collections_bench
    .venv/bin/python bench/agency_candidates.py --repeats 7 --no-results

Against an already seeded and migrated PostgreSQL database. The seed sends no final notices, so
first, inside one transaction that is rolled back at the end (the database keeps nothing), the
bench records a final notice 45 days ago on one in --every of the active accounts owing $100 or
more, and makes the largest practice follow 501(r), giving two in three of its noticed accounts a
first statement letter 150 days ago and a written notice 40 days ago, and the third a first
statement date 150 days ago on the account (the statement cycle's column), half of them with the
written notice (the other half must be refused). Then,
interleaved (job, floor, job, floor, ...), median of --repeats, each in a savepoint rolled back:

- job: the nightly `agency_candidates` job (collections_app.agencies.jobs): the candidate rule of
  collections_app.agencies.rules as one aggregate per practice, and the per-practice upsert;
- floor: one hand-written statement computing the same per-practice count, total and count over
  $500, with the same rule (VALUES of each practice's date bounds, EXISTS / NOT EXISTS).

The two must agree on every practice's count and total, and the run says so. Also timed: the
manager's candidates page query (first 100 rows, largest balance first) for the manager's
practices. Appends to bench/RESULTS.md unless --no-results.
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

SEED_NOTICES_SQL = """
INSERT INTO collections_app_contact
    (account_id, practice_id, channel, party, outcome, autodialed, notes, occurred_at, idempotency_key, override_reason)
SELECT a.id, a.practice_id, 'letter', 'guarantor', 'final_notice_sent', false, '', %(at)s, '', ''
FROM accounts_patientaccount a
WHERE a.status = 'active' AND a.patient_balance >= 100 AND a.id %% %(every)s = 0
"""
SEED_501R_SQL = """
INSERT INTO collections_app_contact
    (account_id, practice_id, channel, party, outcome, autodialed, notes, occurred_at, idempotency_key, override_reason)
SELECT c.account_id, c.practice_id, 'letter', 'guarantor', v.outcome, false, '', v.at, '', ''
FROM collections_app_contact c
CROSS JOIN (VALUES ('statement_sent', %(statement_at)s::timestamptz), ('notice_501r_sent', %(notice_at)s::timestamptz)) v(outcome, at)
WHERE c.practice_id = %(practice)s AND c.outcome = 'final_notice_sent' AND c.account_id %% 3 <> 0
"""
# The rest of the 501(r) practice's noticed accounts: the first statement date kept on the account
# (the statement cycle's column) instead of a "statement sent" letter; half of them with the notice.
SEED_FIRST_STATEMENT_SQL = """
UPDATE accounts_patientaccount a SET first_statement_on = %(statement_on)s
FROM collections_app_contact c
WHERE c.account_id = a.id AND c.practice_id = %(practice)s AND c.outcome = 'final_notice_sent'
  AND c.account_id %% 3 = 0
"""
SEED_NOTICE_ONLY_SQL = """
INSERT INTO collections_app_contact
    (account_id, practice_id, channel, party, outcome, autodialed, notes, occurred_at, idempotency_key, override_reason)
SELECT c.account_id, c.practice_id, 'letter', 'guarantor', 'notice_501r_sent', false, '', %(notice_at)s, '', ''
FROM collections_app_contact c
WHERE c.practice_id = %(practice)s AND c.outcome = 'final_notice_sent' AND c.account_id %% 3 = 0
  AND abs(hashtext(c.account_id::text)) %% 2 = 0
"""

FLOOR_SQL = """
WITH pd(practice_id, min_balance, follows_501r, notice_bound, statement_bound, statement_day) AS (VALUES {values})
SELECT a.practice_id, COUNT(*), COALESCE(SUM(a.patient_balance), 0),
       COUNT(*) FILTER (WHERE a.patient_balance >= 500)
FROM accounts_patientaccount a
JOIN pd ON pd.practice_id = a.practice_id
WHERE a.status = 'active' AND a.patient_balance > 0 AND a.patient_balance >= pd.min_balance
  AND EXISTS (SELECT 1 FROM collections_app_contact c WHERE c.account_id = a.id
              AND c.outcome = 'final_notice_sent' AND c.occurred_at < pd.notice_bound)
  AND (NOT pd.follows_501r OR (
        (a.first_statement_on <= pd.statement_day
         OR EXISTS (SELECT 1 FROM collections_app_contact c WHERE c.account_id = a.id
                AND c.outcome = 'statement_sent' AND c.occurred_at < pd.statement_bound))
    AND EXISTS (SELECT 1 FROM collections_app_contact c WHERE c.account_id = a.id
                AND c.outcome = 'notice_501r_sent' AND c.occurred_at < pd.notice_bound)))
  AND NOT EXISTS (SELECT 1 FROM collections_app_accounthold h WHERE h.account_id = a.id AND h.released_at IS NULL)
  AND NOT EXISTS (SELECT 1 FROM payment_plans_paymentplan p WHERE p.account_id = a.id
                  AND p.status IN ('active', 'lapsed'))
  AND NOT EXISTS (SELECT 1 FROM collections_app_placement pl WHERE pl.account_id = a.id AND pl.status = 'placed')
GROUP BY a.practice_id
"""


def log(message: str) -> None:
    print(f"[agency_candidates {datetime.now().strftime('%H:%M:%S')}] {message}", flush=True)


def check_url(url: str) -> None:
    name = urlsplit(url).path.lstrip("/")
    if not url.startswith(("postgres://", "postgresql://")):
        raise SystemExit("bench: the agency candidates benchmark needs PostgreSQL")
    if not re.fullmatch(r"[a-z_][a-z0-9_]*", name) or name in {"collections", "postgres", "template0", "template1"}:
        raise SystemExit(f"bench: refusing database {name!r}; use a benchmark database (e.g. collections_bench)")


def setup_django(url: str) -> None:
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()


def run_job(context):
    from django.db import transaction

    from collections_app.agencies.jobs import agency_candidates
    from collections_app.models import AgencyCandidateCount

    with transaction.atomic():
        started = time.perf_counter()
        agency_candidates(context)
        seconds = time.perf_counter() - started
        rows = {
            row.practice_id: (row.account_count, row.total, row.reportable_count)
            for row in AgencyCandidateCount.objects.filter(as_of__in=set(context.practice_dates.values()))
        }
        transaction.set_rollback(True)
    return seconds, rows


def run_floor(practices_as_of):
    from django.db import connection

    from collections_app.agencies.rules import FINAL_NOTICE_WAIT_DAYS, RULE_501R_STATEMENT_DAYS, start_of_day

    values, params = [], []
    for practice, as_of in sorted(practices_as_of.items(), key=lambda item: item[0].pk):
        values.append("(%s, %s::numeric, %s, %s::timestamptz, %s::timestamptz, %s::date)")
        params += [
            practice.pk,
            practice.agency_min_balance,
            practice.follows_501r,
            start_of_day(practice, as_of - timedelta(days=FINAL_NOTICE_WAIT_DAYS - 1)),
            start_of_day(practice, as_of - timedelta(days=RULE_501R_STATEMENT_DAYS - 1)),
            as_of - timedelta(days=RULE_501R_STATEMENT_DAYS),
        ]
    with connection.cursor() as cursor:
        started = time.perf_counter()
        cursor.execute(FLOOR_SQL.format(values=", ".join(values)), params)
        rows = cursor.fetchall()
        seconds = time.perf_counter() - started
    return seconds, {pk: (count, total, reportable) for pk, count, total, reportable in rows}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL", DEFAULT_URL))
    parser.add_argument("--every", type=int, default=4, help="a final notice on one in EVERY owing accounts")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--no-results", action="store_true", help="do not append to bench/RESULTS.md")
    args = parser.parse_args()
    check_url(args.database_url)
    setup_django(args.database_url)

    from django.db import connection, transaction
    from django.db.models import Count

    from accounts.models import PatientAccount, Practice
    from accounts.selectors import practice_today
    from collections_app.agencies import selectors
    from collections_app.models import Contact
    from core.models import StaffUser
    from core.nightly import JobContext

    accounts_total = PatientAccount.objects.count()
    contacts_before = Contact.objects.count()
    now = datetime.now(UTC)
    with transaction.atomic():
        largest = (
            Practice.objects.annotate(n=Count("accounts")).order_by("-n").values_list("pk", "code", flat=False).first()
        )
        Practice.objects.filter(pk=largest[0]).update(follows_501r=True)
        with connection.cursor() as cursor:
            cursor.execute(SEED_NOTICES_SQL, {"at": now - timedelta(days=45), "every": args.every})
            notices = cursor.rowcount
            cursor.execute(
                SEED_501R_SQL,
                {
                    "practice": largest[0],
                    "statement_at": now - timedelta(days=150),
                    "notice_at": now - timedelta(days=40),
                },
            )
            letters_501r = cursor.rowcount
            cursor.execute(
                SEED_FIRST_STATEMENT_SQL, {"practice": largest[0], "statement_on": (now - timedelta(days=150)).date()}
            )
            first_statements = cursor.rowcount
            cursor.execute(SEED_NOTICE_ONLY_SQL, {"practice": largest[0], "notice_at": now - timedelta(days=40)})
            letters_501r += cursor.rowcount
            cursor.execute("ANALYZE accounts_patientaccount")
            cursor.execute("ANALYZE collections_app_contact")
        practices = {p: practice_today(p) for p in Practice.objects.filter(is_active=True)}
        context = JobContext(as_of=min(practices.values()), practice_dates={p.pk: d for p, d in practices.items()})
        log(
            f"{accounts_total:,} accounts; {notices:,} final notices and {letters_501r:,} 501(r) letters added "
            f"and {first_statements:,} first statement dates set (rolled back at the end); {largest[1]} follows 501(r)"
        )
        run_job(context)  # warm-up, untimed
        run_floor(practices)
        job_times, floor_times = [], []
        job_rows = floor_rows = None
        for attempt in range(1, args.repeats + 1):
            seconds, job_rows = run_job(context)
            job_times.append(seconds)
            seconds, floor_rows = run_floor(practices)
            floor_times.append(seconds)
            log(f"round {attempt}: job {job_times[-1] * 1000:.0f} ms, floor {floor_times[-1] * 1000:.0f} ms")
        same = {pk: row for pk, row in job_rows.items() if row[0]} == floor_rows
        manager = StaffUser.objects.filter(username="manager").first()
        page_times = []
        if manager is not None:
            for _ in range(args.repeats):
                started = time.perf_counter()
                list(selectors.candidate_list(user=manager)[:100])
                page_times.append(time.perf_counter() - started)
        transaction.set_rollback(True)
    assert Contact.objects.count() == contacts_before, "rows left behind"
    job_ms, floor_ms = statistics.median(job_times) * 1000, statistics.median(floor_times) * 1000
    ratio = job_ms / floor_ms if floor_ms else float("inf")
    verdict = "within" if ratio <= TARGET_RATIO else "OVER"
    candidates = sum(row[0] for row in job_rows.values())
    total = sum(row[1] for row in job_rows.values())
    page_ms = statistics.median(page_times) * 1000 if page_times else None
    log(
        f"job median {job_ms:.0f} ms, floor median {floor_ms:.0f} ms: {ratio:.2f}x ({verdict} {TARGET_RATIO}x); "
        f"{candidates:,} candidates, ${total:,.2f}; same counts and totals: {'yes' if same else 'NO'}"
        + (f"; candidates page query {page_ms:.0f} ms" if page_ms is not None else "")
    )
    if not args.no_results:
        stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
        per_practice = ", ".join(
            f"{p.code} {job_rows.get(p.pk, (0,))[0]:,}" for p in sorted(practices, key=lambda p: p.pk)
        )
        lines = [
            "",
            f"## Agency candidates, {stamp}",
            "",
            f"`bench/agency_candidates.py`: {accounts_total:,} accounts over {len(practices)} practices. In a "
            f"transaction rolled back: {notices:,} final notices 45 days ago (one in {args.every} active accounts "
            f"owing $100 or more), `{largest[1]}` made to follow 501(r) with {letters_501r:,} statements and "
            f"written notices on two in three of its noticed accounts, and on the third its first statement date "
            f"kept on the account ({first_statements:,}; half of them with the written notice). The nightly "
            f"`agency_candidates` job (the rule as one aggregate per practice, and its upserts) beside one "
            f"hand-written statement of the same rule; interleaved, each rolled back, median of {args.repeats}.",
            "",
            "| what | job | floor | ratio | target |",
            "|---|---|---|---|---|",
            f"| {candidates:,} candidates, ${total:,.2f} | {job_ms:.0f} ms | {floor_ms:.0f} ms | {ratio:.2f}x "
            f"| within {TARGET_RATIO}x |",
            "",
            f"Same per-practice counts and totals in both: {'yes' if same else 'NO'} ({per_practice}). Rounds "
            "(job / floor, ms): "
            + ", ".join(f"{j * 1000:.0f}/{f * 1000:.0f}" for j, f in zip(job_times, floor_times, strict=True))
            + "."
            + (
                f" The manager's candidates page query (first 100, largest balance first, the manager's practices): "
                f"median {page_ms:.0f} ms."
                if page_ms is not None
                else ""
            )
            + " Measured on the shared 2-core machine while other sessions ran.",
        ]
        with RESULTS.open("a") as out:
            out.write("\n".join(lines) + "\n")
        log(f"appended to {RESULTS.relative_to(ROOT)}")
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
