#!/usr/bin/env python3
"""835 import throughput beside parsing alone, on PostgreSQL (issue 13, "Speed").

    .venv/bin/python bench/import_835.py --claims 10000 100000 [--database-url postgres://.../main_imports_bench] [--keep]

For each count: creates its own database (dropped at the end unless --keep), migrates, generates N
claims with imports.x12_generator, times parsing the 837P alone and importing it, then times
parsing the 835 alone (read + loops, median of 3) and importing it (chunks of claims, each chunk's
postings one batch through accounts.services.transactions_post_many), and a second import of the
same remittance sent as another file (every posting answered by its reference: no ledger row, no
balance, no queue row changes). Checks the ledger afterwards. A larger count is skipped when the
smaller one projects it past --budget-minutes. Appends a section to bench/RESULTS.md unless
--no-results.
"""

import argparse
import os
import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import run  # bench/run.py: database helpers, machine facts

ROOT = run.ROOT
sys.path.insert(0, str(ROOT))
DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/main_imports_bench"
TARGET_CLAIMS_PER_SECOND = 2000
TARGET_RATIO = 3.0


def log(message: str) -> None:
    print(f"[import bench {datetime.now().strftime('%H:%M:%S')}] {message}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--claims", type=int, nargs="+", default=[10_000])
    parser.add_argument("--budget-minutes", type=float, default=15.0, help="Skip a count projected past this.")
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL", DEFAULT_URL))
    parser.add_argument("--keep", action="store_true", help="Keep the database afterwards.")
    parser.add_argument("--no-results", action="store_true")
    args = parser.parse_args()
    url = args.database_url
    os.environ.update({"DATABASE_URL": url, "DJANGO_SETTINGS_MODULE": "config.settings.local"})
    os.environ.pop("REDIS_URL", None)
    import django

    django.setup()
    from django.db import connections

    per_claim = None
    for count in sorted(args.claims):
        if per_claim is not None and per_claim * count > args.budget_minutes * 60:
            log(
                f"{count} claims skipped: projected {per_claim * count / 60:.0f} min (budget {args.budget_minutes:.0f})"
            )
            continue
        connections.close_all()
        run.recreate_database(url)
        env = {**os.environ}
        subprocess.run([run.PYTHON, "manage.py", "migrate", "-v0"], cwd=ROOT, env=env, check=True)
        started = time.perf_counter()
        try:
            result = measure(count)
            result["machine"] = run.machine(url)
            report(result, write=not args.no_results)
        finally:
            connections.close_all()
            if not args.keep:
                with run.admin_connect(url) as connection:
                    connection.execute(f"DROP DATABASE IF EXISTS {run.database_name(url)} WITH (FORCE)")
        per_claim = (time.perf_counter() - started) / count


def measure(count: int) -> dict:
    from accounts.ledger_check import ledger_mismatches
    from accounts.models import Practice, Transaction
    from imports import x12
    from imports import x12_generator as gen
    from imports.claims import import_837
    from imports.remittance import CLAIMS_PER_CHUNK, import_835

    practice = Practice.objects.create(code="bench", name="Bench Family Medicine", state="NY")
    claims = gen.generate_claims(count, seed=1)
    claims_text, era_text = gen.write_837(claims), gen.write_835(claims)
    log(f"{count} claims, 837P {len(claims_text) / 1e6:.1f} MB, 835 {len(era_text) / 1e6:.1f} MB")

    parse_837_rounds = []
    for _ in range(3):
        started = time.perf_counter()
        parsed_837 = x12.parse_837(x12.read_as(claims_text, "837"))
        parse_837_rounds.append(time.perf_counter() - started)
    assert len(parsed_837) == count
    parse_837 = statistics.median(parse_837_rounds)
    log(f"837P parse alone: {parse_837:.2f} s ({count / parse_837:,.0f} claims/s)")

    started = time.perf_counter()
    loaded = import_837(practice=practice, content=claims_text, file_name="bench.837")
    seconds_837 = time.perf_counter() - started
    assert loaded.claims_created == count and not loaded.rejects, loaded.rejects[:3]
    log(f"837P import: {seconds_837:.1f} s ({count / seconds_837:,.0f} claims/s)")

    parse_rounds = []
    for _ in range(3):
        started = time.perf_counter()
        remittances = x12.parse_835(x12.read_as(era_text, "835"))
        parse_rounds.append(time.perf_counter() - started)
    assert sum(len(r.claims) for r in remittances) == count
    parse = statistics.median(parse_rounds)
    log(f"835 parse alone: {parse:.2f} s ({count / parse:,.0f} claims/s)")

    before = Transaction.objects.count()
    queue_before = queue_rows()
    started = time.perf_counter()
    imported = import_835(practice=practice, content=era_text, file_name="bench.835")
    seconds = time.perf_counter() - started
    assert imported.claims_posted == count and not imported.rejects, imported.rejects[:3]
    postings = Transaction.objects.count() - before
    log(f"835 import: {seconds:.1f} s ({count / seconds:,.0f} claims/s, {postings} postings)")

    queue_after = queue_rows()
    balances = account_state()
    again_text = gen.write_835(claims, envelope=False)
    started = time.perf_counter()
    again = import_835(practice=practice, content=again_text, file_name="bench-again.835")
    seconds_again = time.perf_counter() - started
    assert again.claims_unchanged == count and Transaction.objects.count() - before == postings
    assert account_state() == balances and queue_rows() == queue_after, "the second import changed something"
    log(f"835 again (every posting replayed): {seconds_again:.1f} s; ledger, balances and queue unchanged")
    mismatches, checked = ledger_mismatches()
    assert not mismatches, mismatches[:3]
    return {
        "claims": count,
        "postings": postings,
        "seconds_837": seconds_837,
        "parse_837": parse_837,
        "queue_before": queue_before,
        "queue_after": queue_after,
        "parse_rounds": parse_rounds,
        "parse": parse,
        "seconds": seconds,
        "seconds_again": seconds_again,
        "accounts_checked": checked,
        "chunk": CLAIMS_PER_CHUNK,
        "at": datetime.now(UTC),
    }


def queue_rows() -> tuple[int, int]:
    from collections_app.models import QueueEntry, WorkItem

    return WorkItem.objects.filter(cleared_at__isnull=True).count(), QueueEntry.objects.count()


def account_state() -> int:
    """A digest of every account's balances and version: equal before and after means untouched."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT md5(string_agg(id || ':' || patient_balance || ':' || insurance_balance || ':' || version, ','"
            " ORDER BY id)) FROM accounts_patientaccount"
        )
        return cursor.fetchone()[0]


def report(result: dict, *, write: bool) -> None:
    count, seconds, parse = result["claims"], result["seconds"], result["parse"]
    rate, ratio = count / seconds, seconds / parse
    m = result["machine"]
    lines = [
        "",
        f"## 835 import throughput, {result['at']:%Y-%m-%d %H:%M} UTC",
        "",
        f"`bench/import_835.py --claims {count}`: a generated 835 of {count:,} claims ({result['postings']:,} "
        f"postings) for {count:,} accounts whose 837P was imported first, on PostgreSQL {m['postgresql']}, "
        f"{m['cpus']} cores ({m['cpu_model']}).",
        "",
        "| what | time | claims/s | target |",
        "|---|---|---|---|",
        f"| parse alone (read + loops, median of 3) | {parse:.2f} s | {count / parse:,.0f} | |",
        f"| import (chunks of {result['chunk']:,} claims, one ledger batch each) | {seconds:.1f} s | {rate:,.0f} | "
        f"{TARGET_CLAIMS_PER_SECOND:,}/s; within {TARGET_RATIO:.0f}x of parsing (here {ratio:.0f}x) |",
        f"| the same remittance again, as another file | {result['seconds_again']:.1f} s | "
        f"{count / result['seconds_again']:,.0f} | changes nothing |",
        f"| 837P parse alone (median of 3) | {result['parse_837']:.2f} s | {count / result['parse_837']:,.0f} | |",
        f"| 837P import | {result['seconds_837']:.1f} s | {count / result['seconds_837']:,.0f} | "
        f"({result['seconds_837'] / result['parse_837']:.0f}x parsing) |",
        "",
        f"Ledger check after: {result['accounts_checked']:,} accounts, no mismatch. Queue (open items, entries): "
        f"{result['queue_before']} before the 835, {result['queue_after']} after, the same after the second import.",
    ]
    text = "\n".join(lines) + "\n"
    print(text)
    if write:
        with run.RESULTS.open("a") as handle:
            handle.write(text)


if __name__ == "__main__":
    main()
