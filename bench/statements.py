#!/usr/bin/env python3
"""Statements: pages per second of a batch of --statements (1,000) through the batch path, beside
WeasyPrint rendering one merged document of the same statements (DESIGN.md: at least 0.8x).

    .venv/bin/python bench/statements.py                               # the SQLite db.sqlite3 of `make run`
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/h_batch .venv/bin/python bench/statements.py
    .venv/bin/python bench/statements.py --statements 200 --chunk-size 50 --no-results

Against an already migrated and seeded database (`manage.py seed_demo`): DATABASE_URL, or the
SQLite `db.sqlite3` of `make run`. It takes the first --statements accounts owing a balance (and
not consenting to statements by email, so every page goes to the print file), and creates one
"letters" batch of their statements with the content frozen, as the statement cycle leaves it.
Then, each measured once per --repeats, alternating:

- floor: WeasyPrint rendering ONE merged HTML document of the same statements
  (`documents.merged_html` with the print stylesheet), `write_pdf()`, nothing else;
- batch: `batch.batch_print_start` with Celery in-process (eager), so on one core like the floor:
  every chunk's single render, its split into each statement's own stored copy (pypdf), the chunk
  files, the count, and the merged print file; timed until the batch is printed.

Pages per second = pages / seconds, where pages are the print file's pages (equal to the sum of the
copies' pages, which the run checks). The batch's statements, copies and files are deleted after
each run (audit rows, append-only, stay). Appends to bench/RESULTS.md unless --no-results.
"""

import argparse
import os
import platform
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "RESULTS.md"
TARGET_RATIO = 0.8


def setup(args) -> None:
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
    os.environ["CELERY_TASK_ALWAYS_EAGER"] = "1"
    os.environ["STATEMENT_CHUNK_SIZE"] = str(args.chunk_size)
    os.environ["EMAIL_BACKEND"] = "django.core.mail.backends.locmem.EmailBackend"
    os.environ["PRIVATE_MEDIA_ROOT"] = tempfile.mkdtemp(prefix="bench-statements-")
    import django

    django.setup()


def make_statements(count: int):
    from django.db.models import Exists, OuterRef

    from accounts.models import PatientAccount
    from accounts.selectors import practice_today
    from collections_app.models import ContactConsent
    from reports.models import Statement, StatementBatch
    from reports.statements.documents import statement_content

    consent = ContactConsent.objects.filter(account_id=OuterRef("pk"), channel=ContactConsent.Channel.EMAIL_STATEMENTS)
    accounts = list(
        PatientAccount.objects.filter(patient_balance__gt=0)
        .filter(~Exists(consent))
        .select_related("practice", "guarantor")
        .order_by("pk")[:count]
    )
    if len(accounts) < count:
        raise SystemExit(f"Only {len(accounts)} accounts owe a balance; seed more (seed_demo --accounts N).")
    practice = accounts[0].practice
    today = practice_today(practice)
    batch = StatementBatch.objects.create(
        practice=practice, kind=StatementBatch.Kind.LETTERS, run_on=today, statement_count=count
    )
    statements = [
        Statement(
            account=account,
            practice=account.practice,
            guarantor=account.guarantor,
            batch=batch,
            kind=Statement.Kind.STATEMENT,
            statement_date=today,
            amount_due=account.patient_balance,
            mailed_on=today,
        )
        for account in accounts
    ]
    Statement.objects.bulk_create(statements)
    Covers = Statement.covers.through
    Covers.objects.bulk_create(Covers(statement_id=s.pk, patientaccount_id=s.account_id) for s in statements)
    for statement in statements:
        statement.content = statement_content(statement)
    Statement.objects.bulk_update(statements, ["content"], batch_size=500)
    return batch


def reset(batch) -> None:
    """Back to "waiting to print", copies and files removed, for the next repeat."""
    from reports.models import Statement, StatementBatch

    for statement in Statement.objects.filter(batch=batch).exclude(document=""):
        statement.document.delete(save=False)
    Statement.objects.filter(batch=batch).update(document="", page_count=0, chunk=0)
    if batch.print_file:
        batch.print_file.delete(save=False)
    StatementBatch.objects.filter(pk=batch.pk).update(
        status=StatementBatch.Status.PENDING, chunk_count=0, chunks_done=0, page_count=0, print_file="", printed_at=None
    )
    batch.refresh_from_db()


def drop(batch) -> None:
    from reports.models import Statement

    reset(batch)
    Statement.covers.through.objects.filter(statement__batch=batch).delete()
    Statement.objects.filter(batch=batch).delete()
    batch.delete()


def floor_run(statements) -> tuple[float, int]:
    from weasyprint import HTML

    from reports.statements import documents

    started = time.perf_counter()
    html = documents.merged_html(statements)
    document = HTML(string=html, url_fetcher=documents._no_fetching).render(
        stylesheets=[documents.print_stylesheet()], font_config=documents._fonts()
    )
    document.write_pdf()
    return time.perf_counter() - started, len(document.pages)


def batch_run(batch) -> tuple[float, int, dict]:
    from django.db.models import Sum

    from reports.models import StatementBatch
    from reports.statements.batch import batch_print_start

    started = time.perf_counter()
    batch_print_start(batch)  # autocommit: on_commit runs the eager chunk tasks and the finish at once
    elapsed = time.perf_counter() - started
    batch.refresh_from_db()
    if batch.status != StatementBatch.Status.DONE:
        raise SystemExit(f"The batch did not print: {batch.status} {batch.error}")
    copies = batch.statements.aggregate(pages=Sum("page_count"))["pages"]
    if copies != batch.page_count:
        raise SystemExit(f"The print file has {batch.page_count} pages, the copies {copies}.")
    return elapsed, batch.page_count, {"chunks": batch.chunk_count}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--statements", type=int, default=1000)
    parser.add_argument("--chunk-size", type=int, default=200)
    parser.add_argument("--repeats", type=int, default=1)
    parser.add_argument("--no-results", action="store_true")
    args = parser.parse_args()
    setup(args)
    import django
    from django.db import connection

    load_start = os.getloadavg()
    batch = make_statements(args.statements)
    statements = list(batch.statements.select_related("practice", "guarantor", "account").order_by("pk"))
    floors, batches, pages = [], [], None
    try:
        for _ in range(args.repeats):
            seconds, floor_pages = floor_run(statements)
            floors.append((seconds, floor_pages))
            print(f"floor: {floor_pages} pages in {seconds:.1f} s ({floor_pages / seconds:.2f} pages/s)", flush=True)
            seconds, batch_pages, extra = batch_run(batch)
            batches.append((seconds, batch_pages))
            print(
                f"batch: {batch_pages} pages in {seconds:.1f} s ({batch_pages / seconds:.2f} pages/s), "
                f"{extra['chunks']} chunks",
                flush=True,
            )
            pages = batch_pages
            reset(batch)
    finally:
        drop(batch)
    floor_rate = statistics.median(p / s for s, p in floors)
    batch_rate = statistics.median(p / s for s, p in batches)
    ratio = batch_rate / floor_rate
    same_pages = all(fp == bp for (_, fp), (_, bp) in zip(floors, batches, strict=True))
    load_end = os.getloadavg()
    vendor = connection.vendor
    lines = [
        f"## {datetime.now(UTC):%Y-%m-%d %H:%M} UTC — statements: a batch of {args.statements:,}",
        "",
        f"Machine: {os.cpu_count()} CPUs, {platform.python_version()} Python, Django {django.get_version()}, "
        f"database {vendor}. Load average at start: {', '.join(f'{x:.1f}' for x in load_start)}; "
        f"at the end: {', '.join(f'{x:.1f}' for x in load_end)}. Celery in-process (eager), one core; "
        f"chunks of {args.chunk_size}; median of {args.repeats}.",
        "",
        "| what | result | floor | ratio | target |",
        "|---|---|---|---|---|",
        f"| statements, batch path ({pages:,} pages: one render per chunk, split into each account's copy, "
        f"chunk files, merged print file) | {batch_rate:.2f} pages/s | {floor_rate:.2f} pages/s (WeasyPrint, "
        f"one merged document of the same statements) | {ratio:.2f}x | at least {TARGET_RATIO}x; same pages: "
        f"{'yes' if same_pages else 'NO'} |",
        "",
    ]
    print("\n".join(lines))
    if not args.no_results:
        with RESULTS.open("a") as handle:
            handle.write("\n" + "\n".join(lines))


if __name__ == "__main__":
    main()
