"""A manager uploads a remittance (835, from our generator) at /imports/ and reads its report; an
upload still waiting shows its progress bar, which polls until the import is done and then shows
the report and stops. In Chromium, as the manager would."""

from decimal import Decimal
from io import StringIO

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import FileSystemStorage
from django.core.management import call_command
from playwright.sync_api import expect

from imports import x12_generator as gen
from imports.models import ImportUpload
from imports.services import import_upload_run
from tests.factories import PASSWORD

pytestmark = pytest.mark.browser

SHOTS = "/tmp/shots"


@pytest.fixture(autouse=True)
def private_storage(tmp_path, monkeypatch):
    field = ImportUpload._meta.get_field("file")
    monkeypatch.setattr(field, "storage", FileSystemStorage(location=tmp_path / "private", base_url=None))


def sign_in(page, base_url, username):
    page.goto(f"{base_url}/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(f"{base_url}/")


def claims_on_file(practice, tmp_path, count=5, seed=23):
    """The practice's claims (an 837P imported by the command) and the payer's 835 for them."""
    claims = gen.generate_claims(count, seed=seed)
    (tmp_path / "claims.837").write_text(gen.write_837(claims))
    call_command("import_x12", str(tmp_path / "claims.837"), "--practice", practice.code, stdout=StringIO())
    return gen.write_835(claims, trace="EFT7001")


def test_manager_uploads_an_835_and_reads_the_report(
    sqlite_flushable, live_server, new_page, practice, manager, tmp_path
):
    era = claims_on_file(practice, tmp_path)
    (tmp_path / "remittance.835").write_text(era)
    base = live_server.url
    page = new_page()
    sign_in(page, base, "manager")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Imports").click()
    expect(page.get_by_role("heading", name="Imports", exact=True)).to_be_visible()
    page.get_by_label("What the file holds").select_option("835")
    page.get_by_label("File", exact=True).set_input_files(str(tmp_path / "remittance.835"))
    page.screenshot(path=f"{SHOTS}/upload-form.png", full_page=True)
    page.get_by_role("button", name="Upload and import").click()

    status = page.get_by_test_id("upload-status")
    expect(status).to_have_attribute("data-status", "done")
    expect(page.get_by_test_id("upload-progress")).to_have_attribute("value", "100")
    report = page.get_by_test_id("import-report")
    expect(report).to_contain_text("Claims posted")
    expect(page.get_by_test_id("report-adjustments")).to_contain_text("PR patient responsibility")
    upload = ImportUpload.objects.get()
    assert upload.summary["claims_posted"] == 5
    expect(page.get_by_test_id("report-payments")).to_have_text(f"${Decimal(upload.summary['payments']):,.2f}")
    page.screenshot(path=f"{SHOTS}/upload-report.png", full_page=True)

    # The same file again: nothing changes, and the report says so.
    page.goto(f"{base}/imports/")
    page.get_by_label("What the file holds").select_option("835")
    page.get_by_label("File", exact=True).set_input_files(str(tmp_path / "remittance.835"))
    page.get_by_role("button", name="Upload and import").click()
    expect(page.get_by_test_id("nothing-changed")).to_be_visible()
    expect(page.get_by_test_id("report-message")).to_contain_text("already imported on")
    page.goto(f"{base}/imports/")
    expect(page.get_by_test_id("import-uploads")).to_contain_text("remittance.835")
    page.screenshot(path=f"{SHOTS}/upload-list.png", full_page=True)

    # A file of the wrong kind is refused beside its field, and nothing is kept.
    page.get_by_label("What the file holds").select_option("837p")
    page.get_by_label("File", exact=True).set_input_files(str(tmp_path / "remittance.835"))
    page.get_by_role("button", name="Upload and import").click()
    expect(page.get_by_test_id("error-file")).to_contain_text("ends in")
    page.screenshot(path=f"{SHOTS}/upload-refused.png", full_page=True)
    assert ImportUpload.objects.count() == 2


def test_the_progress_bar_polls_until_the_report_shows(
    sqlite_flushable, live_server, new_page, practice, manager, tmp_path
):
    era = claims_on_file(practice, tmp_path, seed=29)
    upload = ImportUpload(practice=practice, kind="835", file_name="waiting.835", size=len(era), uploaded_by=manager)
    upload.file.save("waiting.835", ContentFile(era.encode()), save=False)
    upload.save()  # queued: no worker has taken it yet
    base = live_server.url
    page = new_page()
    sign_in(page, base, "manager")
    page.goto(f"{base}/imports/{upload.pk}/")
    status = page.get_by_test_id("upload-status")
    expect(status).to_have_attribute("data-status", "queued")
    expect(status).to_have_attribute("hx-trigger", "every 1s")
    expect(page.get_by_role("heading", name="Waiting to start…")).to_be_visible()
    page.screenshot(path=f"{SHOTS}/upload-waiting.png", full_page=True)

    import_upload_run(upload_id=upload.pk)  # what the Celery worker does
    expect(status).to_have_attribute("data-status", "done", timeout=10_000)
    expect(page.get_by_test_id("upload-progress")).to_have_attribute("value", "100")
    expect(page.get_by_test_id("import-report")).to_contain_text("Claims posted")
    assert page.get_by_test_id("upload-status").get_attribute("hx-trigger") is None  # polling stopped
    page.screenshot(path=f"{SHOTS}/upload-done.png", full_page=True)
