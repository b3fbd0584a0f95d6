"""A manager reviews the agency candidates, places two accounts (a preview with count and total,
then the confirm) and downloads the placement file; the accounts are at the agency, written off
to bad debt. In Chromium, as the manager would."""

from decimal import Decimal

import pytest
from playwright.sync_api import expect

from accounts.models import PatientAccount, Transaction
from collections_app.models import Placement
from tests.collections_app.agencies_support import make_agency, ready_account
from tests.factories import PASSWORD

pytestmark = pytest.mark.browser

SHOTS = "/tmp"


def sign_in(page, base_url, username):
    page.goto(f"{base_url}/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(f"{base_url}/")


def test_manager_reviews_candidates_places_two_and_downloads_the_placement_file(
    sqlite_flushable, live_server, new_page, practice, manager, tmp_path
):
    make_agency(practice)
    one = ready_account(practice, balance="640.00", account_number="N0007001")
    two = ready_account(practice, balance="315.40", account_number="N0007002")
    stays = ready_account(practice, balance="220.00", account_number="N0007003")
    base = live_server.url

    page = new_page()
    sign_in(page, base, "manager")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Agencies").click()
    candidates = page.get_by_test_id("agency-candidates")
    expect(candidates).to_contain_text("3 accounts ready to place")
    expect(page.get_by_test_id("candidate-total")).to_have_text("$1,175.40")
    page.screenshot(path=f"{SHOTS}/agency-candidates.png", full_page=True)
    for account in (one, two):
        candidates.locator(f'tr[data-account="{account.pk}"]').get_by_role("checkbox").check()
    page.get_by_role("button", name="Place selected…").click()

    expect(page.get_by_role("heading", name="Place 2 accounts with an agency")).to_be_visible()
    expect(page.get_by_test_id("preview-count")).to_have_text("2")
    expect(page.get_by_test_id("preview-total")).to_have_text("$955.40")
    expect(page.get_by_test_id("preview-group")).to_contain_text("Keystone Recovery")
    assert not Placement.objects.exists()  # nothing placed by the preview
    page.screenshot(path=f"{SHOTS}/agency-preview.png", full_page=True)
    page.get_by_role("button", name="Place 2 accounts totalling $955.40").click()

    expect(page.get_by_text("Placed 2 accounts totalling $955.40 with Keystone Recovery.")).to_be_visible()
    expect(page.get_by_test_id("batch-placements")).to_contain_text("N0007001")
    page.screenshot(path=f"{SHOTS}/agency-batch.png", full_page=True)
    with page.expect_download() as download_info:
        page.get_by_test_id("placement-file").click()
    download = download_info.value
    saved = tmp_path / download.suggested_filename
    download.save_as(saved)
    lines = saved.read_text().splitlines()
    assert lines[0].startswith("account_number,last_name,first_name")
    assert sorted(line.split(",")[0] for line in lines[1:]) == ["N0007001", "N0007002"]
    assert {line.split(",")[9] for line in lines[1:]} == {"640.00", "315.40"}

    for account in (one, two):
        account.refresh_from_db()
        assert account.status == PatientAccount.Status.AGENCY and account.patient_balance == 0
        write_off = Transaction.objects.get(account=account, kind=Transaction.Kind.WRITE_OFF)
        assert write_off.write_off_reason == "bad_debt"
    stays.refresh_from_db()
    assert stays.status == PatientAccount.Status.ACTIVE and stays.patient_balance == Decimal("220.00")
    # The one left is still a candidate.
    page.goto(f"{base}/agencies/candidates/")
    expect(page.get_by_test_id("agency-candidates")).to_contain_text("1 account ready to place")
