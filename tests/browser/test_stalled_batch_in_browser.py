"""A manager finds a statement batch whose print worker died (stuck "printing") on its batch page,
sees that it stopped, presses Retry, and is back on the batch page with it printed."""

from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from reports.models import StatementBatch
from reports.statements import batch as batch_module
from tests.browser.test_letters_in_browser import sign_in
from tests.reports.statement_batch_helpers import make_batch

pytestmark = pytest.mark.browser

SHOTS = "/tmp/shots"


@pytest.fixture(autouse=True)
def storage(settings, tmp_path):
    settings.STATEMENT_CHUNK_SIZE = 2
    settings.PRIVATE_MEDIA_ROOT = tmp_path / "private"


def test_manager_retries_a_stalled_batch_from_its_page(
    sqlite_flushable, live_server, new_page, practice, manager, monkeypatch
):
    Path(SHOTS).mkdir(exist_ok=True)
    batch = make_batch(practice, 3)
    real_queue = batch_module._queue_chunks
    with monkeypatch.context() as lost:  # the chunks were queued to a worker that died
        lost.setattr(batch_module, "_queue_chunks", lambda batch_id, chunks: None)
        batch_module.batch_print_start(batch)
    assert batch_module._queue_chunks is real_queue
    batch_module.batch_chunk_print(batch_id=batch.pk, chunk=1)
    StatementBatch.objects.filter(pk=batch.pk).update(progressed_at=timezone.now() - timedelta(hours=1))

    base = live_server.url
    page = new_page()
    sign_in(page, base, "manager")
    page.goto(f"{base}/statements/batches/{batch.pk}/")
    printing = page.get_by_test_id("batch-printing")
    expect(printing).to_contain_text("Stopped")
    expect(printing.get_by_test_id("batch-stalled")).to_contain_text("no progress for over 35 minutes")
    printing.screenshot(path=f"{SHOTS}/cyclefix-stalled-batch.png")

    printing.get_by_role("button", name="Retry").click()
    expect(page).to_have_url(f"{base}/statements/batches/{batch.pk}/")
    expect(page.locator("body")).to_contain_text("Printing batch")
    expect(page.get_by_test_id("batch-printing")).to_contain_text("Printed")
    page.get_by_test_id("batch-printing").screenshot(path=f"{SHOTS}/cyclefix-stalled-batch-retried.png")
    batch.refresh_from_db()
    assert batch.status == StatementBatch.Status.DONE and batch.chunks_done == batch.chunk_count == 2
