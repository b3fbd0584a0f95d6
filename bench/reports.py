#!/usr/bin/env python3
"""The AR aging report at scale (DESIGN.md: under 100 ms from the nightly snapshot; the live
"as of any date" report within 1.5x of one hand-written query).

    .venv/bin/python bench/reports.py                          # collections_bench, the busiest practice
    .venv/bin/python bench/reports.py --repeats 5 --no-results

Against an already seeded and migrated PostgreSQL database whose aging snapshot ran
(`manage.py run_nightly --job aging_snapshot`). Measured through the report itself
(reports.catalog.aging: the parameters form, then `compute`, as the page, CSV, PDF and API call it):

1. From the snapshot: the practice as of the snapshot's date, the default choices (date of
   service, by practice, agency-placed balances left out: the snapshot's rows less the agency
   accounts aged live). Median of --repeats.
2. Live: the same practice as of 30 days before the snapshot (no snapshot that day, so the report
   rebuilds the aging from the ledger: patient and insurance by bucket, the unapplied credit)
   beside bench/run.py's FLOOR_AGING_SQL (the patient buckets by hand, one statement), interleaved
   (floor, report, floor, report, ...) after one warm-up each; median of --repeats. The patient
   buckets of the two must agree, and the run says so.
Appends a section to bench/RESULTS.md unless --no-results.
"""

import argparse
import os
import re
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "RESULTS.md"
DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/collections_bench"
SNAPSHOT_TARGET_MS = 100.0
LIVE_TARGET_RATIO = 1.5


def log(message: str) -> None:
    print(f"[reports {datetime.now().strftime('%H:%M:%S')}] {message}", flush=True)


def check_url(url: str) -> None:
    name = urlsplit(url).path.lstrip("/")
    if not url.startswith(("postgres://", "postgresql://")):
        raise SystemExit("bench: the reports benchmark needs PostgreSQL")
    if not re.fullmatch(r"[a-z_][a-z0-9_]*", name) or name in {"collections", "postgres", "template0", "template1"}:
        raise SystemExit(f"bench: refusing database {name!r}; use a benchmark database (e.g. collections_bench)")


def setup_django(url: str) -> None:
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
    sys.path.insert(0, str(ROOT))
    sys.path.insert(0, str(ROOT / "bench"))
    import django

    django.setup()


def report_runner(user, data: dict):
    """A function running the aging report's form and compute once, returning its result."""
    from reports.framework import ReportForm, get_report

    report = get_report("aging")

    def once():
        form = ReportForm(data, report=report, user=user)
        assert form.is_valid(), form.errors
        return report.compute(user, form.params)

    return once


def patient_buckets(result) -> dict[str, str]:
    table = next(t for t in result.tables if t.key == "patient")
    return {label: str(table.totals[label]) for label in ("0-30", "31-60", "61-90", "91-120", "121+")}


def timed(function) -> tuple[float, object]:
    started = time.perf_counter()
    value = function()
    return (time.perf_counter() - started) * 1000, value


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", default=os.environ.get("BENCH_DATABASE_URL", DEFAULT_URL))
    parser.add_argument("--practice", help="Practice code (default: the one with the most accounts).")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--no-results", action="store_true", help="Do not append to bench/RESULTS.md.")
    args = parser.parse_args()
    check_url(args.url)
    setup_django(args.url)

    from django.db import connection
    from django.db.models import Count, Max
    from run import FLOOR_AGING_SQL

    from accounts.aging import BUCKET_LABELS
    from accounts.models import PatientAccount, Practice, PracticeAgingSnapshot
    from core.models import StaffUser, Tier

    if args.practice:
        practice = Practice.objects.get(code=args.practice)
    else:
        busiest = PatientAccount.objects.values("practice_id").annotate(n=Count("id")).order_by("-n").first()
        practice = Practice.objects.get(pk=busiest["practice_id"])
    accounts = PatientAccount.objects.filter(practice=practice).count()
    total_accounts = PatientAccount.objects.count()
    snapshot_on = PracticeAgingSnapshot.objects.filter(practice=practice).aggregate(d=Max("as_of"))["d"]
    if snapshot_on is None:
        raise SystemExit("bench: no aging snapshot for the practice; run `manage.py run_nightly --job aging_snapshot`")
    user = StaffUser.objects.filter(tier=Tier.DIRECTOR, is_active=True).order_by("pk").first()
    log(f"practice {practice.code}: {accounts:,} accounts of {total_accounts:,}; snapshot of {snapshot_on}")

    # 1. From the snapshot.
    fast = report_runner(user, {"practice": str(practice.pk), "as_of": snapshot_on.isoformat()})
    warm = fast()
    assert warm.source.startswith("Nightly snapshot"), warm.source
    snapshot_ms = []
    for _ in range(args.repeats):
        ms, _ = timed(fast)
        snapshot_ms.append(ms)
    log(
        f"from the snapshot: median {statistics.median(snapshot_ms):.1f} ms ({', '.join(f'{m:.1f}' for m in snapshot_ms)})"
    )

    # 2. Live, beside the floor.
    as_of = snapshot_on - timedelta(days=30)
    live = report_runner(user, {"practice": str(practice.pk), "as_of": as_of.isoformat()})

    def floor():
        with connection.cursor() as cursor:
            cursor.execute(FLOOR_AGING_SQL, {"practice_id": practice.pk, "as_of": as_of})
            found = dict(cursor.fetchall())
        return {label: str(Decimal(found.get(label) or 0).quantize(Decimal("0.01"))) for label in BUCKET_LABELS}

    floor_value, live_value = floor(), live()  # warm the cache once each
    assert live_value.source.startswith("The ledger"), live_value.source
    timings = {"floor": [], "report": []}
    for _ in range(args.repeats):
        ms, floor_value = timed(floor)
        timings["floor"].append(ms)
        ms, live_value = timed(live)
        timings["report"].append(ms)
    report_buckets = patient_buckets(live_value)
    same = report_buckets == floor_value
    floor_median, report_median = statistics.median(timings["floor"]), statistics.median(timings["report"])
    ratio = report_median / floor_median
    log(
        f"live report: median {report_median:.0f} ms; floor {floor_median:.0f} ms; ratio {ratio:.2f}; same buckets: {same}"
    )
    if not same:
        log(f"report {report_buckets} floor {floor_value}")

    if args.no_results:
        return
    snapshot_median = statistics.median(snapshot_ms)
    lines = [
        "",
        f"## AR aging report ({datetime.now(UTC):%Y-%m-%d %H:%M} UTC, bench/reports.py)",
        "",
        f"Database `{urlsplit(args.url).path.lstrip('/')}`: N = {total_accounts:,} accounts; practice "
        f"`{practice.code}` with {accounts:,} accounts. Through the report (reports.catalog.aging: parameters "
        f"form, then compute), median of {args.repeats}, interleaved with the floor.",
        "",
        "| what | median | all runs (ms) | target | result |",
        "|---|---|---|---|---|",
        f"| aging from the nightly snapshot of {snapshot_on} (default choices: by practice, date of service, "
        f"agency-placed left out) | {snapshot_median:.1f} ms | {', '.join(f'{m:.1f}' for m in snapshot_ms)} | "
        f"under {SNAPSHOT_TARGET_MS:.0f} ms | {'met' if snapshot_median < SNAPSHOT_TARGET_MS else 'MISSED'} |",
        f"| live as-of aging, as of {as_of} (patient and insurance by bucket, unapplied credit) | "
        f"{report_median:.0f} ms | {', '.join(f'{m:.0f}' for m in timings['report'])} | within "
        f"{LIVE_TARGET_RATIO}x of the floor | {ratio:.2f}x: "
        f"{'met' if ratio <= LIVE_TARGET_RATIO else 'MISSED'} |",
        f"| floor: bench/run.py FLOOR_AGING_SQL (patient buckets only, one statement) | {floor_median:.0f} ms | "
        f"{', '.join(f'{m:.0f}' for m in timings['floor'])} | | |",
        "",
        f"Same patient buckets from the report and the floor: {'yes' if same else 'NO'} "
        f"({', '.join(f'{k} ${Decimal(v):,.2f}' for k, v in report_buckets.items())}).",
        "",
    ]
    with RESULTS.open("a") as results:
        results.write("\n".join(lines))
    log(f"appended to {RESULTS}")


if __name__ == "__main__":
    main()
