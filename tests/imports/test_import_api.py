"""POST /api/imports/ (multipart) answers 202 with the upload and its status URL, the import runs
as a Celery task (eager in tests), and GET /api/imports/{id}/ shows its progress and then the
summary the command prints with --json. Management and up, within the user's practices."""

import json
from io import StringIO

import pytest
from django.core.files.storage import FileSystemStorage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from rest_framework.test import APIClient

from accounts.models import Transaction
from core.models import AuditEvent, Tier
from imports import x12_generator as gen
from imports.models import ImportBatch, ImportUpload
from tests.factories import StaffUserFactory

pytestmark = pytest.mark.django_db

URL = "/api/imports/"


@pytest.fixture(autouse=True)
def private_storage(tmp_path, monkeypatch):
    field = ImportUpload._meta.get_field("file")
    monkeypatch.setattr(field, "storage", FileSystemStorage(location=tmp_path / "private", base_url=None))
    return tmp_path / "private"


@pytest.fixture
def south_manager(other_practice):
    return StaffUserFactory(username="south-manager", tier=Tier.MANAGEMENT, practices=[other_practice])


def api(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def era_file(count=3, seed=11):
    claims = gen.generate_claims(count, seed=seed)
    return gen.write_837(claims), gen.write_835(claims)


def post(client, practice, kind, name, content, **extra):
    data = {"practice": practice.pk, "kind": kind, "file": SimpleUploadedFile(name, content.encode()), **extra}
    return client.post(URL, data, format="multipart")


def test_a_manager_uploads_and_follows_the_status_url_to_the_commands_report(
    manager, practice, other_practice, django_capture_on_commit_callbacks, tmp_path
):
    claims_837, era = era_file()
    for name, text in (("claims.837", claims_837), ("era.835", era)):
        (tmp_path / name).write_text(text)
    call_command("import_x12", str(tmp_path / "claims.837"), "--practice", other_practice.code, stdout=StringIO())
    out = StringIO()
    call_command("import_x12", str(tmp_path / "era.835"), "--practice", other_practice.code, "--json", stdout=out)
    expected = json.loads(out.getvalue())

    client = api(manager)
    with django_capture_on_commit_callbacks(execute=True):
        post(client, practice, "837p", "claims.837", claims_837)
    with django_capture_on_commit_callbacks(execute=True):
        response = post(client, practice, "835", "era.835", era)
    assert response.status_code == 202
    body = response.json()
    upload = ImportUpload.objects.get(pk=body["id"])
    assert body["status_url"] == f"/api/imports/{upload.pk}/" == response["Location"]
    assert body["status"] == "queued" and body["summary"] is None  # as answered, before the task ran

    status = client.get(body["status_url"])
    assert status.status_code == 200
    data = status.json()
    assert (data["status"], data["percent"], data["progress_done"], data["progress_total"]) == ("done", 100, 3, 3)
    assert data["summary"] == expected
    assert data["summary"]["adjustments"].keys() == {"CO", "PR", "OA", "PI"}


def test_the_same_file_twice_changes_nothing_the_second_time(manager, practice, django_capture_on_commit_callbacks):
    claims_837, _ = era_file()
    client = api(manager)
    with django_capture_on_commit_callbacks(execute=True):
        post(client, practice, "837p", "claims.837", claims_837)
    rows = Transaction.objects.count()
    with django_capture_on_commit_callbacks(execute=True):
        second = post(client, practice, "837p", "claims.837", claims_837).json()
    report = client.get(second["status_url"]).json()["summary"]
    assert report["files_already_imported"] == 1 and report["postings"] == 0
    assert "nothing changed" in report["messages"][0]
    assert Transaction.objects.count() == rows


@pytest.mark.parametrize(
    ("kind", "name", "content", "field"),
    [
        ("835", "era.835", "", "file"),
        ("835", "era.835", "hello, this is not X12", "file"),
        ("837p", "notes.docx", "ISA*00*", "file"),
        ("csv_appointments", "appointments.csv", "mrn,provider\nA1,Dr. Who\n", "file"),
        ("synthea", "export.zip", "PK", "cutoff"),
        ("wire_transfer", "era.835", "ISA", "kind"),
    ],
)
def test_a_bad_file_is_a_400_with_field_errors_and_nothing_is_imported(manager, practice, kind, name, content, field):
    response = post(api(manager), practice, kind, name, content)
    assert response.status_code == 400
    assert list(response.json()) == [field] and response.json()[field][0]
    assert not ImportUpload.objects.exists() and not ImportBatch.objects.exists()


def test_missing_fields_are_named(manager):
    response = api(manager).post(URL, {}, format="multipart")
    assert response.status_code == 400
    assert set(response.json()) == {"practice", "kind", "file"}


def test_a_body_over_the_limit_is_a_413_unread(manager, practice, settings):
    settings.IMPORT_UPLOAD_MAX_BYTES = 1000
    response = post(api(manager), practice, "835", "era.835", "ISA*" + "0" * 600_000)
    assert response.status_code == 413 and "at most" in response.json()["detail"]
    assert not ImportUpload.objects.exists()


def test_medium_tier_is_refused(medium, practice):
    _, era = era_file()
    client = api(medium)
    assert post(client, practice, "835", "era.835", era).status_code == 403
    assert client.get(URL).status_code == 403
    assert not ImportUpload.objects.exists()


def test_another_practices_manager_cannot_upload_for_it_nor_read_its_uploads(
    manager, south_manager, practice, django_capture_on_commit_callbacks
):
    _, era = era_file()
    refused = post(api(south_manager), practice, "835", "era.835", era)
    assert refused.status_code == 400 and refused.json() == {"practice": ["Choose one of your practices."]}
    assert not ImportUpload.objects.exists()
    with django_capture_on_commit_callbacks(execute=True):
        body = post(api(manager), practice, "835", "era.835", era).json()
    other = api(south_manager)
    assert other.get(body["status_url"]).status_code == 404
    assert other.get(URL).json()["count"] == 0


def test_the_list_pages_filters_and_is_audited(manager, practice, django_assert_max_num_queries):
    for n in range(12):
        ImportUpload.objects.create(
            practice=practice,
            kind="835",
            file_name=f"era-{n}.835",
            file="imports/x.835",
            uploaded_by=manager,
            status="done" if n % 2 else "failed",
        )
    client = api(manager)
    with django_assert_max_num_queries(8):
        response = client.get(URL, {"status": "done", "page_size": 5})
    data = response.json()
    assert response.status_code == 200 and data["count"] == 6 and len(data["results"]) == 5
    assert {row["status"] for row in data["results"]} == {"done"}
    assert AuditEvent.objects.filter(object_type="imports.importupload", action="view").count() == 5
    assert client.get(URL, {"status": "lost"}).status_code == 400
    assert client.get(URL, {"page": "0"}).status_code == 400


def test_the_upload_and_each_read_are_audited(manager, practice, django_capture_on_commit_callbacks):
    _, era = era_file()
    client = api(manager)
    with django_capture_on_commit_callbacks(execute=True):
        body = post(client, practice, "835", "era.835", era).json()
    client.get(body["status_url"])
    rows = AuditEvent.objects.filter(object_type="imports.importupload", object_id=str(body["id"]))
    assert sorted(rows.values_list("action", flat=True)) == ["create", "view"]
    assert "era" not in json.dumps(list(rows.values_list("detail", flat=True)))  # ids and sizes, not names


def test_the_schema_documents_the_endpoints_with_summaries_and_errors(manager):
    schema = api(manager).get("/api/schema/", {"format": "json"}).json()
    post_op = schema["paths"]["/api/imports/"]["post"]
    assert post_op["summary"] and {"202", "400", "403", "413"} <= set(post_op["responses"])
    assert "multipart/form-data" in post_op["requestBody"]["content"]
    get_op = schema["paths"]["/api/imports/{id}/"]["get"]
    assert get_op["summary"] and {"200", "403", "404"} <= set(get_op["responses"])
    assert schema["paths"]["/api/imports/"]["get"]["summary"]
