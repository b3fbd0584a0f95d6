"""A batch left "printing" by a worker that died (the hard time limit, a killed process) records no
failure: once it has made no progress for longer than a task may run, the jobs page and the batch
page offer Retry, which prints only the unfinished chunks (reports.statements.batch)."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from core.errors import ApplicationError
from core.models import AuditEvent
from reports.models import StatementBatch
from reports.statements import batch as batch_module
from reports.tasks import STATEMENT_TASK_OPTIONS
from tests.reports.statement_batch_helpers import make_batch, pdf_pages, read_file, record_renders


@pytest.fixture(autouse=True)
def small_chunks(settings, tmp_path):
    settings.STATEMENT_CHUNK_SIZE = 2
    settings.PRIVATE_MEDIA_ROOT = tmp_path / "private"


@pytest.fixture
def renders(monkeypatch):
    return record_renders(monkeypatch)


def lost_after_first_chunk(practice, capture, count=4):
    """A batch whose first chunk printed and whose other chunks' worker was killed."""
    batch = make_batch(practice, count)
    with capture(execute=False):  # queued; the worker that took chunk 2 died
        batch_module.batch_print_start(batch)
    batch_module.batch_chunk_print(batch_id=batch.pk, chunk=1)
    batch.refresh_from_db()
    return batch


def age(batch, by: timedelta) -> None:
    StatementBatch.objects.filter(pk=batch.pk).update(progressed_at=timezone.now() - by)
    batch.refresh_from_db()


def test_the_stall_threshold_is_the_tasks_hard_time_limit_and_a_margin():
    assert batch_module.stall_after() == timedelta(seconds=STATEMENT_TASK_OPTIONS["time_limit"]) + timedelta(minutes=5)
    assert batch_module.stall_after_minutes() == 35


def test_printing_starts_and_chunks_mark_progress(practice, django_capture_on_commit_callbacks):
    batch = make_batch(practice, 4)
    with django_capture_on_commit_callbacks(execute=False):
        batch_module.batch_print_start(batch)
    batch.refresh_from_db()
    started = batch.progressed_at
    assert started is not None
    age(batch, timedelta(hours=1))
    batch_module.batch_chunk_print(batch_id=batch.pk, chunk=1)
    batch.refresh_from_db()
    assert batch.progressed_at >= started
    assert not batch_module.batch_is_stalled(batch)


def test_a_batch_still_printing_is_not_retried(practice, manager, django_capture_on_commit_callbacks, client):
    batch = lost_after_first_chunk(practice, django_capture_on_commit_callbacks)
    age(batch, batch_module.stall_after() - timedelta(minutes=1))

    assert not batch_module.batch_is_stalled(batch)
    with pytest.raises(ApplicationError) as refused:
        batch_module.batch_chunk_retry(batch, acting_user=manager)
    assert "still printing" in str(refused.value) and "35 minutes" in str(refused.value)
    client.force_login(manager)
    page = client.get(reverse("jobs")).content.decode()
    assert reverse("statement-batch-retry", args=[batch.pk]) not in page
    assert "no progress" not in page


def test_a_stalled_batch_is_retried_from_the_jobs_page_without_producing_letters_twice(
    practice, manager, client, django_capture_on_commit_callbacks, renders
):
    batch = lost_after_first_chunk(practice, django_capture_on_commit_callbacks)
    first_chunk = {s.pk: s.document.name for s in batch.statements.filter(chunk=1)}
    second_chunk = list(batch.statements.filter(chunk=2).order_by("pk").values_list("pk", flat=True))
    age(batch, batch_module.stall_after() + timedelta(minutes=1))
    renders.clear()

    client.force_login(manager)
    page = client.get(reverse("jobs")).content.decode()
    assert "Stopped" in page and "no progress for over 35 minutes" in page
    assert reverse("statement-batch-retry", args=[batch.pk]) in page
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("statement-batch-retry", args=[batch.pk]), follow=True)
    assert "Printing batch" in response.content.decode() and "chunk 2" in response.content.decode()

    batch.refresh_from_db()
    assert renders == [second_chunk]  # only the lost chunk is rendered
    assert batch.status == StatementBatch.Status.DONE
    assert {s.pk: s.document.name for s in batch.statements.filter(chunk=1)} == first_chunk
    assert pdf_pages(read_file(batch.print_file)) == sum(batch.statements.values_list("page_count", flat=True))
    stored = AuditEvent.objects.filter(object_type="reports.statement", detail__action="document_stored")
    assert stored.count() == 4  # one document per statement
    retry = AuditEvent.objects.get(object_type="reports.statementbatch", user=manager)
    assert retry.detail["stalled"] is True and retry.detail["chunks"] == [2]

    # The lost chunk's task, delivered after all, produces nothing.
    late = batch_module.batch_chunk_print(batch_id=batch.pk, chunk=2)
    assert late["outcome"] == "skipped" and stored.count() == 4


def test_a_lost_finish_is_retried_once_stalled(practice, django_capture_on_commit_callbacks):
    batch = make_batch(practice, 2)
    with django_capture_on_commit_callbacks(execute=False):
        batch_module.batch_print_start(batch)
    with django_capture_on_commit_callbacks(execute=False):  # the finish task was lost
        batch_module.batch_chunk_print(batch_id=batch.pk, chunk=1)
    batch.refresh_from_db()
    assert batch.status == StatementBatch.Status.PRINTING and batch.chunks_done == batch.chunk_count == 1
    age(batch, batch_module.stall_after() + timedelta(minutes=1))

    with django_capture_on_commit_callbacks(execute=True):
        assert batch_module.batch_chunk_retry(batch) == []
    batch.refresh_from_db()
    assert batch.status == StatementBatch.Status.DONE and batch.print_file


def test_the_batch_page_offers_retry_for_a_stalled_batch_and_returns_to_it(
    practice, manager, client, django_capture_on_commit_callbacks
):
    batch = lost_after_first_chunk(practice, django_capture_on_commit_callbacks)
    age(batch, batch_module.stall_after() + timedelta(minutes=1))
    client.force_login(manager)
    detail = reverse("statement-batch-detail", args=[batch.pk])
    page = client.get(detail).content.decode()
    assert 'data-testid="batch-stalled"' in page
    assert reverse("statement-batch-retry", args=[batch.pk]) in page
    assert f'name="next" value="{detail}"' in page

    with django_capture_on_commit_callbacks(execute=False):
        response = client.post(reverse("statement-batch-retry", args=[batch.pk]), {"next": detail})
    assert response.status_code == 302 and response["Location"] == detail


def test_the_progress_partial_keeps_a_local_return_page_only(
    practice, manager, client, django_capture_on_commit_callbacks
):
    batch = lost_after_first_chunk(practice, django_capture_on_commit_callbacks)
    age(batch, batch_module.stall_after() + timedelta(minutes=1))
    client.force_login(manager)
    url = reverse("statement-batch-progress", args=[batch.pk])
    local = client.get(url, {"next": f"/statements/batches/{batch.pk}/"}).content.decode()
    assert f'name="next" value="/statements/batches/{batch.pk}/"' in local
    foreign = client.get(url, {"next": "https://evil.example/"}).content.decode()
    assert "evil.example" not in foreign and "Retry" in foreign


@pytest.mark.parametrize("persona", ["low", "medium", "outsider"])
def test_below_management_cannot_retry_a_stalled_batch(client, personas, practice, persona):
    batch = make_batch(practice, 1)
    StatementBatch.objects.filter(pk=batch.pk).update(
        status=StatementBatch.Status.PRINTING, chunk_count=1, progressed_at=timezone.now() - timedelta(days=1)
    )
    client.force_login(personas[persona])
    assert client.post(reverse("statement-batch-retry", args=[batch.pk])).status_code == 403
    batch.refresh_from_db()
    assert batch.progressed_at < timezone.now() - timedelta(hours=1)


def test_another_practices_manager_cannot_retry_our_stalled_batch(client, practice, other_practice):
    from core.access import Tier
    from tests.factories import StaffUserFactory

    batch = make_batch(practice, 1)
    StatementBatch.objects.filter(pk=batch.pk).update(
        status=StatementBatch.Status.PRINTING, chunk_count=1, progressed_at=timezone.now() - timedelta(days=1)
    )
    client.force_login(StaffUserFactory(username="southmanager", tier=Tier.MANAGEMENT, practices=[other_practice]))
    assert client.post(reverse("statement-batch-retry", args=[batch.pk])).status_code == 404


def test_a_batch_the_print_queue_never_took_is_started_by_retry(
    practice, manager, client, django_capture_on_commit_callbacks
):
    batch = make_batch(practice, 3)  # the cycle's hand-over to the queue failed: still waiting
    client.force_login(manager)
    assert reverse("statement-batch-retry", args=[batch.pk]) not in client.get(reverse("jobs")).content.decode()
    with pytest.raises(ApplicationError):
        batch_module.batch_chunk_retry(batch, acting_user=manager)

    StatementBatch.objects.filter(pk=batch.pk).update(created_at=timezone.now() - timedelta(hours=2))
    page = client.get(reverse("jobs")).content.decode()
    assert "Printing has not started in over 35 minutes" in page
    assert reverse("statement-batch-retry", args=[batch.pk]) in page
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("statement-batch-retry", args=[batch.pk]), follow=True)
    assert "chunks 1, 2" in response.content.decode()
    batch.refresh_from_db()
    assert batch.status == StatementBatch.Status.DONE and (batch.chunks_done, batch.chunk_count) == (2, 2)
    assert AuditEvent.objects.filter(object_type="reports.statementbatch", user=manager).exists()
