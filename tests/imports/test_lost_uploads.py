"""An uploaded import whose worker was lost (killed at the hard time limit, the machine gone) or
whose task no worker ever took: the nightly `import_uploads_stop_lost` marks it stopped, so its
page says what happened and how to finish, instead of a progress bar that never moves."""

from datetime import timedelta

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import FileSystemStorage
from django.urls import reverse
from django.utils import timezone

from core.nightly import JobContext, registered_jobs
from imports.models import ImportUpload
from imports.services import import_upload_run, import_uploads_stop_lost

pytestmark = pytest.mark.django_db
Status = ImportUpload.Status


@pytest.fixture(autouse=True)
def private_storage(tmp_path, monkeypatch):
    field = ImportUpload._meta.get_field("file")
    monkeypatch.setattr(field, "storage", FileSystemStorage(location=tmp_path / "private", base_url=None))


def an_upload(practice, manager, *, status, age):
    now = timezone.now()
    upload = ImportUpload(
        practice=practice,
        kind=ImportUpload.Kind.X12_835,
        file_name="era.835",
        uploaded_by=manager,
        status=status,
        uploaded_at=now - age,
        started_at=now - age if status == Status.RUNNING else None,
        stage="Posting claims" if status == Status.RUNNING else "",
    )
    upload.file.save("era.835", ContentFile(b"ISA*"), save=False)
    upload.save()
    return upload


def test_an_import_running_past_its_time_limit_is_stopped_and_its_page_says_so(client, practice, manager):
    lost = an_upload(practice, manager, status=Status.RUNNING, age=timedelta(hours=2))
    live = an_upload(practice, manager, status=Status.RUNNING, age=timedelta(minutes=10))
    waiting = an_upload(practice, manager, status=Status.QUEUED, age=timedelta(hours=2))
    never_taken = an_upload(practice, manager, status=Status.QUEUED, age=timedelta(days=2))
    assert import_uploads_stop_lost() == 2
    assert import_uploads_stop_lost() == 0  # again: nothing more
    statuses = {row.pk: row.status for row in ImportUpload.objects.all()}
    assert statuses == {
        lost.pk: Status.FAILED,
        live.pk: Status.RUNNING,
        waiting.pk: Status.QUEUED,
        never_taken.pk: Status.FAILED,
    }
    client.force_login(manager)
    part = client.get(reverse("import-upload-progress", args=[lost.pk])).content.decode()
    assert "hx-trigger" not in part  # the page stops polling
    assert "upload the same file again to finish it" in part
    # A late delivery of the lost task's message runs nothing.
    assert import_upload_run(upload_id=never_taken.pk)["ran"] is False


def test_it_runs_nightly():
    job = {job.name: job for job in registered_jobs()}["import_uploads_stop_lost"]
    assert job.func(JobContext(as_of=timezone.localdate())) == {"stopped": 0}
