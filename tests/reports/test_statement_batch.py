"""Batch printing: chunks, one merged print file, each account's own copy, retry without
duplicates, progress on the jobs page (reports.statements.batch)."""

import os
import signal
import subprocess
import time
from datetime import date

import pytest
from django.db import connection
from django.urls import reverse

from core.access import Tier
from core.models import AuditEvent
from reports.models import Statement, StatementBatch
from reports.statements import batch as batch_module
from reports.statements import documents
from tests.factories import StaffUserFactory
from tests.reports.statement_batch_helpers import make_batch, pdf_pages, pdf_text, read_file, record_renders


@pytest.fixture(autouse=True)
def small_chunks(settings, tmp_path):
    settings.STATEMENT_CHUNK_SIZE = 2
    settings.PRIVATE_MEDIA_ROOT = tmp_path / "private"


@pytest.fixture
def renders(monkeypatch):
    return record_renders(monkeypatch)


def start(batch, capture):
    with capture(execute=True):
        batch_module.batch_print_start(batch)
    batch.refresh_from_db()
    return batch


def test_a_batch_prints_in_chunks_into_one_merged_file(practice, django_capture_on_commit_callbacks, renders):
    batch = start(make_batch(practice, 5), django_capture_on_commit_callbacks)

    statements = list(batch.statements.order_by("pk"))
    assert [s.chunk for s in statements] == [1, 1, 2, 2, 3]
    assert renders == [[s.pk for s in statements[0:2]], [s.pk for s in statements[2:4]], [statements[4].pk]]
    assert batch.status == StatementBatch.Status.DONE
    assert (batch.chunk_count, batch.chunks_done) == (3, 3)
    assert batch.printed_at is not None and batch.error == ""
    merged = read_file(batch.print_file)
    assert pdf_pages(merged) == batch.page_count == sum(s.page_count for s in statements) >= 5
    text = pdf_text(merged)
    assert [text.find(s.account.account_number) >= 0 for s in statements] == [True] * 5
    # The chunk files are gone once the print file is written.
    assert not (batch_module._storage().exists(batch_module.chunk_file_name(batch.pk, 1)))


def test_each_account_keeps_its_own_copy(practice, django_capture_on_commit_callbacks):
    batch = start(make_batch(practice, 3), django_capture_on_commit_callbacks)

    numbers = {s.pk: s.account.account_number for s in batch.statements.all()}
    for statement in batch.statements.all():
        copy = read_file(statement.document)
        assert pdf_pages(copy) == statement.page_count >= 1
        text = pdf_text(copy)
        assert numbers[statement.pk] in text
        assert all(number not in text for pk, number in numbers.items() if pk != statement.pk)


def test_a_failed_chunk_is_retried_without_producing_letters_twice(
    practice, manager, django_capture_on_commit_callbacks, renders, monkeypatch
):
    batch = make_batch(practice, 5)
    second_chunk = list(batch.statements.order_by("pk").values_list("pk", flat=True))[2:4]
    recording = documents.render_statements_pdf
    failures = []

    def fails_once(statements):
        statements = list(statements)
        if not failures and [s.pk for s in statements] == second_chunk:
            failures.append(True)
            raise RuntimeError("renderer crashed")
        return recording(statements)

    monkeypatch.setattr(documents, "render_statements_pdf", fails_once)
    batch = start(batch, django_capture_on_commit_callbacks)

    assert batch.status == StatementBatch.Status.FAILED
    assert (batch.chunks_done, batch.chunk_count) == (2, 3)
    assert batch.error.startswith("Chunk 2 of 3 could not be printed")
    assert "RuntimeError" in batch.error and "crashed" not in batch.error
    assert not batch.print_file
    before = {s.pk: s.document.name for s in batch.statements.exclude(document="")}
    assert sorted(before) == sorted(set(batch.statements.values_list("pk", flat=True)) - set(second_chunk))
    renders.clear()

    with django_capture_on_commit_callbacks(execute=True):
        assert batch_module.batch_chunk_retry(batch, acting_user=manager) == [2]
    batch.refresh_from_db()

    assert renders == [second_chunk]  # only the failed chunk's statements are rendered again
    assert batch.status == StatementBatch.Status.DONE and batch.error == ""
    assert {s.pk: s.document.name for s in batch.statements.filter(pk__in=before)} == before
    statements = list(batch.statements.all())
    assert pdf_pages(read_file(batch.print_file)) == batch.page_count == sum(s.page_count for s in statements)
    stored = AuditEvent.objects.filter(object_type="reports.statement", detail__action="document_stored")
    assert stored.count() == 5  # one document per statement, none twice
    assert AuditEvent.objects.filter(object_type="reports.statementbatch", user=manager).exists()


def test_a_chunk_delivered_twice_is_counted_once(practice, django_capture_on_commit_callbacks):
    batch = make_batch(practice, 4)
    with django_capture_on_commit_callbacks(execute=False):  # queued, not run
        batch_module.batch_print_start(batch)

    first = batch_module.batch_chunk_print(batch_id=batch.pk, chunk=1)
    again = batch_module.batch_chunk_print(batch_id=batch.pk, chunk=1)
    batch.refresh_from_db()

    assert first["stored"] == 2 and again["stored"] == 0
    assert (batch.chunks_done, batch.chunk_count) == (1, 2)
    assert batch.status == StatementBatch.Status.PRINTING
    names = list(batch.statements.filter(chunk=1).values_list("document", flat=True))
    assert all(names) and len(set(names)) == 2


def test_starting_a_batch_twice_queues_nothing_twice(practice, django_capture_on_commit_callbacks, renders):
    batch = start(make_batch(practice, 2), django_capture_on_commit_callbacks)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        batch_module.batch_print_start(batch)
    assert callbacks == [] and len(renders) == 1


def test_progress_shows_on_the_jobs_page(client, practice, manager, django_capture_on_commit_callbacks):
    batch = make_batch(practice, 4)
    with django_capture_on_commit_callbacks(execute=False):
        batch_module.batch_print_start(batch)
    batch_module.batch_chunk_print(batch_id=batch.pk, chunk=1)

    client.force_login(manager)
    content = client.get(reverse("jobs")).content.decode()
    assert "Statement printing" in content
    assert "1 of 2 chunks" in content and '<progress max="2" value="1">' in content
    assert reverse("statement-batch-progress", args=[batch.pk]) in content  # polls while printing

    partial = client.get(reverse("statement-batch-progress", args=[batch.pk])).content.decode()
    assert "1 of 2 chunks" in partial and 'hx-trigger="every 2s"' in partial


def test_the_jobs_page_lists_batches_in_few_queries(
    client, practice, manager, django_capture_on_commit_callbacks, django_assert_max_num_queries
):
    for years_ago in range(3):
        make_batch(practice, 1, run_on=date(2025 - years_ago, 6, 1))
    client.force_login(manager)
    with django_assert_max_num_queries(14):
        response = client.get(reverse("jobs"))
    assert response.content.decode().count("Waiting to print") == 3


def test_another_practices_manager_sees_no_batch_of_ours(client, practice, other_practice):
    batch = make_batch(practice, 1)
    theirs = StaffUserFactory(username="southmanager", tier=Tier.MANAGEMENT, practices=[other_practice])
    client.force_login(theirs)
    assert "Statement printing" not in client.get(reverse("jobs")).content.decode()
    assert client.get(reverse("statement-batch-progress", args=[batch.pk])).status_code == 404
    assert client.post(reverse("statement-batch-retry", args=[batch.pk])).status_code == 404


@pytest.mark.parametrize("persona", ["low", "medium", "outsider"])
def test_below_management_cannot_see_or_retry_batches(client, personas, practice, persona):
    batch = make_batch(practice, 1)
    client.force_login(personas[persona])
    assert client.get(reverse("statement-batch-progress", args=[batch.pk])).status_code == 403
    assert client.post(reverse("statement-batch-retry", args=[batch.pk])).status_code == 403


def test_a_manager_retries_a_failed_batch_from_the_jobs_page(
    client, practice, manager, django_capture_on_commit_callbacks, monkeypatch
):
    batch = make_batch(practice, 2)
    real = documents.render_statements_pdf
    monkeypatch.setattr(documents, "render_statements_pdf", lambda statements: 1 / 0)
    batch = start(batch, django_capture_on_commit_callbacks)
    assert batch.status == StatementBatch.Status.FAILED
    client.force_login(manager)
    page = client.get(reverse("jobs")).content.decode()
    assert "Failed" in page and "ZeroDivisionError" in page
    assert reverse("statement-batch-retry", args=[batch.pk]) in page

    monkeypatch.setattr(documents, "render_statements_pdf", real)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("statement-batch-retry", args=[batch.pk]))
    assert response.status_code == 302 and response["Location"] == reverse("jobs")
    batch.refresh_from_db()
    assert batch.status == StatementBatch.Status.DONE
    assert batch.page_count == sum(batch.statements.values_list("page_count", flat=True))


@pytest.mark.parametrize(
    ("back", "lands_on"),
    [("/statements/batches/{pk}/", "/statements/batches/{pk}/"), ("https://evil.example/", "/jobs/")],
)
def test_retry_returns_to_a_local_page_only(
    client, practice, manager, django_capture_on_commit_callbacks, back, lands_on
):
    batch = make_batch(practice, 1)
    StatementBatch.objects.filter(pk=batch.pk).update(status=StatementBatch.Status.FAILED, chunk_count=1)
    client.force_login(manager)
    with django_capture_on_commit_callbacks(execute=False):
        response = client.post(reverse("statement-batch-retry", args=[batch.pk]), {"next": back.format(pk=batch.pk)})
    assert response.status_code == 302 and response["Location"] == lands_on.format(pk=batch.pk)
    batch.refresh_from_db()
    assert batch.status == StatementBatch.Status.PRINTING and batch.error == ""


def test_a_printed_batch_cannot_be_retried(client, practice, manager, django_capture_on_commit_callbacks):
    batch = start(make_batch(practice, 1), django_capture_on_commit_callbacks)
    client.force_login(manager)
    response = client.post(reverse("statement-batch-retry", args=[batch.pk]), follow=True)
    assert batch_module.MESSAGE_NOT_RETRYABLE in response.content.decode()
    assert Statement.objects.filter(batch=batch).count() == 1


def test_a_failed_print_file_is_written_again_on_retry(practice, django_capture_on_commit_callbacks, monkeypatch):
    real = batch_module._chunk_bytes
    failures = []

    def fails_once(*args):
        if not failures:
            failures.append(True)
            raise PermissionError("disk")
        return real(*args)

    monkeypatch.setattr(batch_module, "_chunk_bytes", fails_once)
    batch = start(make_batch(practice, 3), django_capture_on_commit_callbacks)
    assert batch.status == StatementBatch.Status.FAILED and (batch.chunks_done, batch.chunk_count) == (2, 2)
    assert batch.error.startswith("Every chunk is printed but the print file could not be written")

    with django_capture_on_commit_callbacks(execute=True):
        assert batch_module.batch_chunk_retry(batch) == []
    batch.refresh_from_db()
    assert batch.status == StatementBatch.Status.DONE
    assert pdf_pages(read_file(batch.print_file)) == sum(batch.statements.values_list("page_count", flat=True))


def test_a_chunk_celery_gave_up_on_shows_as_failed(practice, django_capture_on_commit_callbacks):
    from django.db import OperationalError

    from reports.tasks import statement_batch_chunk

    batch = make_batch(practice, 1)
    with django_capture_on_commit_callbacks(execute=False):
        batch_module.batch_print_start(batch)
    statement_batch_chunk.on_failure(OperationalError("gone"), "task-id", (batch.pk, 1), {}, None)
    batch.refresh_from_db()
    assert batch.status == StatementBatch.Status.FAILED
    assert batch.error.startswith("Chunk 1 of 1 could not be printed") and "gone" not in batch.error


@pytest.mark.postgres
@pytest.mark.filterwarnings("ignore:Results are not stored:RuntimeWarning")
@pytest.mark.django_db(transaction=True)
def test_chunks_print_across_real_workers(practice, sqlite_flushable, settings, tmp_path):
    """The batch's chunks go through Redis to a real Celery worker of two processes."""
    if connection.vendor != "postgresql":
        pytest.skip("the worker needs a database it can share: PostgreSQL")
    if not os.environ.get("REDIS_URL"):
        pytest.skip("set REDIS_URL to run a real Celery worker")
    from config.celery import app
    from tests.collections_app.test_nightly_celery import CELERY, ROOT, test_database_url

    batch = make_batch(practice, 5)  # committed: transactional test
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.local",
        "DATABASE_URL": test_database_url(),
        "CELERY_TASK_ALWAYS_EAGER": "0",
        "PRIVATE_MEDIA_ROOT": str(settings.PRIVATE_MEDIA_ROOT),
        "STATEMENT_CHUNK_SIZE": "2",
    }
    worker = subprocess.Popen(
        [
            str(CELERY),
            "-A",
            "config",
            "worker",
            "--pool",
            "prefork",
            "--concurrency",
            "2",
            "--loglevel",
            "warning",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
            "-n",
            f"batch-test-{os.getpid()}@%h",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    eager = app.conf.task_always_eager
    app.conf.task_always_eager = False
    try:
        batch_module.batch_print_start(batch)  # autocommit: the chunks are queued at once
        for _ in range(360):  # up to three minutes for the worker to start and print
            batch.refresh_from_db()
            if batch.status in (StatementBatch.Status.DONE, StatementBatch.Status.FAILED):
                break
            time.sleep(0.5)
        assert batch.status == StatementBatch.Status.DONE, batch.error
        assert (batch.chunks_done, batch.chunk_count) == (3, 3)
        statements = list(batch.statements.all())
        assert pdf_pages(read_file(batch.print_file)) == batch.page_count == sum(s.page_count for s in statements)
    finally:
        app.conf.task_always_eager = eager
        os.killpg(worker.pid, signal.SIGTERM)
        try:
            worker.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(worker.pid, signal.SIGKILL)
            worker.wait()
