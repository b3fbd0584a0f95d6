"""The upload page (/imports/, Management and up): a file uploaded there imports in the background
(a Celery task, eager in tests) with its progress shown, and the page's report is the summary the
command prints with --json for the same file."""

import json
from decimal import Decimal
from io import BytesIO, StringIO

import pytest
from django.core.files.storage import FileSystemStorage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.urls import reverse

from accounts.models import Transaction
from core.models import AuditEvent, Tier
from imports import x12_generator as gen
from imports.csv_import import template_csv
from imports.models import ImportBatch, ImportUpload
from imports.services import import_upload_run
from tests.factories import StaffUserFactory
from tests.imports.conftest import row_counts

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def private_storage(tmp_path, monkeypatch):
    """Uploaded files go to a temporary private folder during tests."""
    field = ImportUpload._meta.get_field("file")
    monkeypatch.setattr(field, "storage", FileSystemStorage(location=tmp_path / "private", base_url=None))
    return tmp_path / "private"


@pytest.fixture
def south_manager(other_practice):
    return StaffUserFactory(username="south-manager", tier=Tier.MANAGEMENT, practices=[other_practice])


def claims_and_era(count=4, seed=7):
    claims = gen.generate_claims(count, seed=seed)
    return gen.write_837(claims), gen.write_835(claims)


def upload(client, practice, kind, name, content, **extra):
    data = {"practice": practice.pk, "kind": kind, "file": SimpleUploadedFile(name, content.encode()), **extra}
    return client.post(reverse("import-uploads"), data)


def run_uploaded(client, django_capture_on_commit_callbacks, *args, **extra):
    """Upload, with the commit's callbacks (the Celery task, eager in tests) run as they would be."""
    with django_capture_on_commit_callbacks(execute=True):
        response = upload(client, *args, **extra)
    return response


def test_a_manager_uploads_an_835_and_its_report_is_the_commands_json(
    client, manager, practice, other_practice, django_capture_on_commit_callbacks, tmp_path
):
    claims_837, era = claims_and_era()
    # The command on another practice, with the same two files, for the --json to compare with.
    (tmp_path / "claims.837").write_text(claims_837)
    (tmp_path / "era.835").write_text(era)
    call_command("import_x12", str(tmp_path / "claims.837"), "--practice", other_practice.code, stdout=StringIO())
    out = StringIO()
    call_command("import_x12", str(tmp_path / "era.835"), "--practice", other_practice.code, "--json", stdout=out)
    expected = json.loads(out.getvalue())

    client.force_login(manager)
    run_uploaded(client, django_capture_on_commit_callbacks, practice, "837p", "claims.837", claims_837)
    response = run_uploaded(client, django_capture_on_commit_callbacks, practice, "835", "era.835", era)
    uploaded = ImportUpload.objects.filter(kind="835").get()
    assert response.status_code == 302 and response["Location"] == reverse("import-upload-detail", args=[uploaded.pk])
    assert uploaded.status == ImportUpload.Status.DONE
    assert uploaded.summary == expected
    assert (uploaded.progress_done, uploaded.progress_total, uploaded.percent) == (4, 4, 100)
    assert uploaded.uploaded_by == manager and uploaded.file_name == "era.835"

    page = client.get(response["Location"])
    text = page.content.decode()
    assert page.status_code == 200
    assert 'data-status="done"' in text and "hx-trigger" not in text  # finished: no more polling
    assert "Report" in text and "PR patient responsibility" in text
    assert f"${Decimal(expected['adjustments']['PR']):,.2f}" in text
    assert f"${Decimal(expected['payments']):,.2f}" in text


def test_the_same_file_again_says_already_imported_and_changes_nothing(
    client, manager, practice, django_capture_on_commit_callbacks
):
    claims_837, _ = claims_and_era()
    client.force_login(manager)
    run_uploaded(client, django_capture_on_commit_callbacks, practice, "837p", "claims.837", claims_837)
    before = row_counts()
    ledger_rows = Transaction.objects.count()
    run_uploaded(client, django_capture_on_commit_callbacks, practice, "837p", "claims-again.837", claims_837)
    second = ImportUpload.objects.order_by("-pk").first()
    assert second.status == ImportUpload.Status.DONE
    assert second.summary["files_already_imported"] == 1 and second.summary["postings"] == 0
    assert "already imported on" in second.summary["messages"][0]
    assert Transaction.objects.count() == ledger_rows
    after = row_counts()
    # Only the upload's own row and its audit rows are new.
    changed = {label for label in after if after[label] != before[label]}
    assert changed <= {"imports.ImportUpload", "core.AuditEvent"}
    text = client.get(reverse("import-upload-detail", args=[second.pk])).content.decode()
    assert "Already imported: nothing changed." in text and "already imported on" in text
    listing = client.get(reverse("import-uploads")).content.decode()
    assert listing.count("Already imported, nothing changed") == 1  # the second upload only


def test_progress_is_shown_while_waiting_and_reaches_done(client, manager, practice):
    _, era = claims_and_era()
    client.force_login(manager)
    response = upload(client, practice, "835", "era.835", era)  # the commit's task not run: it waits
    uploaded = ImportUpload.objects.get()
    assert response.status_code == 302 and uploaded.status == ImportUpload.Status.QUEUED
    part = client.get(reverse("import-upload-progress", args=[uploaded.pk])).content.decode()
    assert 'hx-trigger="every 1s"' in part and "Waiting to start" in part
    assert import_upload_run(upload_id=uploaded.pk)["ran"] is True
    assert import_upload_run(upload_id=uploaded.pk)["ran"] is False  # a second delivery does nothing
    part = client.get(reverse("import-upload-progress", args=[uploaded.pk])).content.decode()
    assert "hx-trigger" not in part and 'value="100"' in part and "Report" in part
    assert "matched no claim" in part  # no 837P yet: every claim waits on the review list
    uploaded.refresh_from_db()
    assert uploaded.stage == "Done" and uploaded.summary["claims"] == 4


def test_rejects_show_their_segment_and_rows_their_line(client, manager, practice, django_capture_on_commit_callbacks):
    client.force_login(manager)
    rows = template_csv("balances").splitlines()
    content = "\n".join([rows[0], "N404,2026-08-01,12.00,,", "N405,not a date,5.00,,"]) + "\n"
    run_uploaded(client, django_capture_on_commit_callbacks, practice, "csv_balances", "balances.csv", content)
    uploaded = ImportUpload.objects.get()
    lines = sorted(entry["line"] for entry in uploaded.summary["rejects"])
    assert lines == [2, 3]
    text = client.get(reverse("import-upload-detail", args=[uploaded.pk])).content.decode()
    assert "line 2" in text and "line 3" in text


def test_a_file_the_import_refuses_whole_is_failed_with_its_reason(
    client, manager, practice, django_capture_on_commit_callbacks
):
    _, era = claims_and_era()
    truncated = era[: len(era) // 2]
    client.force_login(manager)
    run_uploaded(client, django_capture_on_commit_callbacks, practice, "835", "era.835", truncated)
    uploaded = ImportUpload.objects.get()
    assert uploaded.status == ImportUpload.Status.FAILED
    assert uploaded.error.startswith("The file was refused: ")
    assert uploaded.summary["rejects"][0]["segment"] > 0
    assert not Transaction.objects.exists()
    text = client.get(reverse("import-upload-detail", args=[uploaded.pk])).content.decode()
    assert "Stopped" in text and "segment " in text


@pytest.mark.parametrize(
    ("kind", "name", "content", "field", "words"),
    [
        ("835", "era.835", "", "file", "The file is empty."),
        ("835", "era.pdf", "ISA*00*", "file", "ends in"),
        ("835", "era.835", "%PDF-1.7 not x12", "file", "not an X12 file"),
        ("835", "claims.837", "CLAIMS", "file", "ends in"),
        ("837p", "era.835", "ERA", "file", "ends in"),
        ("csv_balances", "balances.csv", "account_number,patient_balance\nN1,5.00\n", "file", "date_of_service"),
        ("csv_demographics", "people.csv", "mrn,first_name\n\xff", "file", "header row lacks"),
        ("synthea", "export.zip", "not a zip", "cutoff", "cut-off date"),
        (
            "csv_balances",
            "balances.csv",
            "account_number,date_of_service,patient_balance\n",
            "cutoff",
            "Synthea export only",
        ),
    ],
)
def test_a_bad_file_is_a_form_error_and_nothing_is_imported(
    client, manager, practice, kind, name, content, field, words
):
    client.force_login(manager)
    extra = {"cutoff": "2026-11-30"} if field == "cutoff" and kind != "synthea" else {}
    response = upload(client, practice, kind, name, content, **extra)
    assert response.status_code == 400
    errors = response.context["form"].errors
    assert words in " ".join(errors[field])
    assert not ImportUpload.objects.exists() and not ImportBatch.objects.exists()


def test_an_837_uploaded_as_an_835_is_refused_naming_the_right_kind(client, manager, practice):
    claims_837, _ = claims_and_era()
    client.force_login(manager)
    response = upload(client, practice, "835", "claims.x12", claims_837)
    assert response.status_code == 400
    assert "choose Professional claims (837P)" in response.context["form"].errors["file"][0]
    assert not ImportUpload.objects.exists()


def test_a_binary_csv_and_a_non_utf8_csv_are_refused(client, manager, practice):
    client.force_login(manager)
    header = "account_number,date_of_service,patient_balance\n"
    for content, words in ((header + "N1,2026-01-01,\x00\n", "not text"), (header.encode() + b"\xff\xfe", "UTF-8")):
        raw = content if isinstance(content, bytes) else content.encode()
        data = {"practice": practice.pk, "kind": "csv_balances", "file": SimpleUploadedFile("b.csv", raw)}
        response = client.post(reverse("import-uploads"), data)
        assert words in response.context["form"].errors["file"][0]
    assert not ImportUpload.objects.exists()


def test_a_file_over_the_limit_is_refused(client, manager, practice, settings):
    settings.IMPORT_UPLOAD_MAX_BYTES = 1000
    client.force_login(manager)
    response = upload(client, practice, "835", "era.835", "ISA*" + "0" * 1200)
    assert response.status_code == 400
    assert "at most 1000" in response.context["form"].errors["file"][0]
    assert not ImportUpload.objects.exists()


def test_a_body_far_over_the_limit_is_refused_unread(client, manager, practice, settings):
    settings.IMPORT_UPLOAD_MAX_BYTES = 1000
    client.force_login(manager)
    response = upload(client, practice, "835", "era.835", "ISA*" + "0" * 600_000)
    assert response.status_code == 413
    assert not ImportUpload.objects.exists()


def test_the_practice_must_be_one_of_the_users(client, manager, practice, other_practice):
    _, era = claims_and_era()
    client.force_login(manager)
    response = upload(client, other_practice, "835", "era.835", era)
    assert response.status_code == 400
    assert "Choose one of your practices." in response.context["form"].errors["practice"]
    assert not ImportUpload.objects.exists()


def test_a_synthea_zip_imports_as_the_folder_does(
    client, manager, practice, other_practice, django_capture_on_commit_callbacks
):
    import zipfile

    from imports.synthea import FILES
    from tests.imports.conftest import SYNTHEA, need, run_json

    folder = need(SYNTHEA)
    # An early cut-off: a dozen claims, as the command imports them, is enough to compare.
    expected = run_json("import_synthea", str(folder), "--practice", other_practice.code, "--cutoff", "2009-12-31")
    buffer = BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name in FILES:  # in a folder inside the .zip, as an export is usually zipped
            archive.write(folder / name, f"{folder.name}/{name}")
    data = {
        "practice": practice.pk,
        "kind": "synthea",
        "cutoff": "2009-12-31",
        "file": SimpleUploadedFile(f"{folder.name}.zip", buffer.getvalue()),
    }
    client.force_login(manager)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("import-uploads"), data)
    uploaded = ImportUpload.objects.get()
    assert uploaded.status == ImportUpload.Status.DONE, uploaded.error
    assert uploaded.summary == expected and uploaded.summary["claims_created"] == 12


def test_a_zip_without_synthea_files_is_refused(client, manager, practice):
    import zipfile

    buffer = BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("patients.csv", "Id\n")
    data = {
        "practice": practice.pk,
        "kind": "synthea",
        "cutoff": "2026-11-30",
        "file": SimpleUploadedFile("export.zip", buffer.getvalue()),
    }
    client.force_login(manager)
    response = client.post(reverse("import-uploads"), data)
    assert "The .zip lacks encounters.csv" in response.context["form"].errors["file"][0]


def test_below_management_the_pages_are_refused(client, medium, practice):
    client.force_login(medium)
    _, era = claims_and_era()
    assert client.get(reverse("import-uploads")).status_code == 403
    assert upload(client, practice, "835", "era.835", era).status_code == 403
    assert client.get(reverse("import-csv-template", args=["balances"])).status_code == 403
    assert not ImportUpload.objects.exists()


def test_another_practices_manager_sees_neither_the_upload_nor_its_report(
    client, manager, south_manager, practice, django_capture_on_commit_callbacks
):
    _, era = claims_and_era()
    client.force_login(manager)
    run_uploaded(client, django_capture_on_commit_callbacks, practice, "835", "era.835", era)
    uploaded = ImportUpload.objects.get()
    client.force_login(south_manager)
    assert client.get(reverse("import-upload-detail", args=[uploaded.pk])).status_code == 404
    assert client.get(reverse("import-upload-progress", args=[uploaded.pk])).status_code == 404
    listing = client.get(reverse("import-uploads"))
    assert listing.status_code == 200 and "era.835" not in listing.content.decode()


def test_uploads_and_report_views_are_audited(client, manager, practice, django_capture_on_commit_callbacks):
    _, era = claims_and_era()
    client.force_login(manager)
    run_uploaded(client, django_capture_on_commit_callbacks, practice, "835", "era.835", era)
    uploaded = ImportUpload.objects.get()
    label = "imports.importupload"
    created = AuditEvent.objects.filter(object_type=label, action=AuditEvent.Action.CREATE, object_id=str(uploaded.pk))
    assert created.get().user == manager and created.get().practice_id == practice.pk
    client.get(reverse("import-upload-detail", args=[uploaded.pk]))
    views = AuditEvent.objects.filter(object_type=label, action=AuditEvent.Action.VIEW, object_id=str(uploaded.pk))
    assert views.count() >= 1 and views.latest("pk").field_group == "management"


def test_the_upload_list_costs_the_same_queries_for_many_uploads(
    client, manager, practice, django_assert_max_num_queries
):
    for n in range(30):
        ImportUpload.objects.create(
            practice=practice, kind="835", file_name=f"era-{n}.835", file="imports/x.835", uploaded_by=manager
        )
    client.force_login(manager)
    with django_assert_max_num_queries(12):
        response = client.get(reverse("import-uploads"))
    assert response.status_code == 200 and response.content.decode().count("era-") == 25


def test_the_csv_templates_download(client, manager):
    client.force_login(manager)
    response = client.get(reverse("import-csv-template", args=["demographics"]))
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    assert response.content.decode().startswith("mrn,first_name")
    assert client.get("/imports/templates/nothing.csv").status_code == 404


def test_the_navigation_links_the_page_for_management_only(client, manager, medium):
    client.force_login(manager)
    assert 'href="/imports/"' in client.get(reverse("home")).content.decode()
    client.force_login(medium)
    assert 'href="/imports/"' not in client.get(reverse("home")).content.decode()


def test_the_reports_unmatched_claims_link_to_the_review_list(
    client, manager, medium, south_manager, practice, django_capture_on_commit_callbacks, django_assert_max_num_queries
):
    _, era = claims_and_era()
    client.force_login(manager)
    run_uploaded(client, django_capture_on_commit_callbacks, practice, "835", "era.835", era)  # no 837P: unmatched
    uploaded = ImportUpload.objects.get()
    report = client.get(reverse("import-upload-detail", args=[uploaded.pk])).content.decode()
    assert f'href="{reverse("import-unmatched")}"' in report
    with django_assert_max_num_queries(10):
        review = client.get(reverse("import-unmatched"))
    text = review.content.decode()
    assert review.status_code == 200 and "4 waiting" in text
    assert all(entry["patient_control_number"] in text for entry in uploaded.summary["unmatched_claims"])
    client.force_login(medium)
    assert client.get(reverse("import-unmatched")).status_code == 403
    client.force_login(south_manager)
    assert "Nothing to review" in client.get(reverse("import-unmatched")).content.decode()


def test_a_running_upload_shows_its_stage_and_claims_done_of_the_total(client, manager, practice):
    uploaded = ImportUpload.objects.create(
        practice=practice,
        kind="835",
        file_name="era.835",
        file="imports/x.835",
        uploaded_by=manager,
        status=ImportUpload.Status.RUNNING,
        stage="Posting remittance claims",
        progress_done=2,
        progress_total=5,
    )
    client.force_login(manager)
    part = client.get(reverse("import-upload-progress", args=[uploaded.pk])).content.decode()
    assert "Posting remittance claims: 2 of 5 (40%)" in part and 'value="40"' in part
    assert 'hx-trigger="every 1s"' in part and "Report" not in part


def test_progress_reports_about_every_hundredth_and_the_end():
    from imports.batches import Progress

    seen = []
    progress = Progress(lambda stage, done, total: seen.append(done))
    progress.start("Posting remittance claims", 250)
    for _ in range(250):
        progress.step()
    assert seen[0] == 0 and seen[-1] == 250 and len(seen) == 126  # every 2 claims, the start and the end
