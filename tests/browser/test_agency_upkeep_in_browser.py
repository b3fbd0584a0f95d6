"""A manager adds a collection agency (a mistake in the commission first, said beside the field),
then changes its commission rate, in Chromium as the manager would."""

from decimal import Decimal

import pytest
from playwright.sync_api import expect

from collections_app.models import Agency
from tests.factories import PASSWORD

pytestmark = pytest.mark.browser

SHOTS = "/tmp/shots"


def sign_in(page, base_url, username):
    page.goto(f"{base_url}/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(f"{base_url}/")


def test_manager_adds_an_agency_and_edits_its_commission(sqlite_flushable, live_server, new_page, practice, manager):
    base = live_server.url
    page = new_page()
    sign_in(page, base, "manager")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Agencies").click()
    page.get_by_role("navigation", name="Agencies").get_by_role("link", name="Set-up").click()
    expect(page.get_by_test_id("agency-setup")).to_contain_text("No agencies are set up")
    page.get_by_test_id("agency-add").click()

    form = page.get_by_test_id("agency-form")
    form.get_by_label("Agency name").fill("Hudson Valley Recovery")
    form.get_by_label("Contact person").fill("Dana Ruiz")
    form.get_by_label("Phone").fill("(518) 555-0199")
    form.get_by_label("Email").fill("placements@hudson.example")
    form.get_by_label("Mailing address").fill("PO Box 44\nKingston NY 12401")
    form.get_by_label("Commission (percent)").fill("127.5")
    form.get_by_label("Placement file layout").select_option("fixed_width")
    form.get_by_label("The practice's default agency").check()
    form.get_by_role("button", name="Add the agency").click()

    expect(page.get_by_text("The commission cannot be above 100 percent.")).to_be_visible()
    page.screenshot(path=f"{SHOTS}/agency-upkeep-form-error.png", full_page=True)
    assert not Agency.objects.exists()
    form = page.get_by_test_id("agency-form")
    form.get_by_label("Commission (percent)").fill("27.5")
    form.get_by_role("button", name="Add the agency").click()

    expect(page.get_by_text("Hudson Valley Recovery is set up for Northside Pediatrics.")).to_be_visible()
    row = page.get_by_test_id("agency-setup").locator("tr", has_text="Hudson Valley Recovery")
    expect(row.get_by_test_id("agency-commission")).to_have_text("27.50%")
    expect(row).to_contain_text("Default")
    expect(row).to_contain_text("Fixed-width, with a trailer")
    page.screenshot(path=f"{SHOTS}/agency-upkeep-added.png", full_page=True)

    row.get_by_role("link", name="Change").click()
    expect(page.get_by_role("heading", name="Change Hudson Valley Recovery")).to_be_visible()
    commission = page.get_by_test_id("agency-form").get_by_label("Commission (percent)")
    expect(commission).to_have_value("27.50")
    commission.fill("30")
    page.get_by_role("button", name="Save changes").click()

    expect(page.get_by_text("Hudson Valley Recovery saved.")).to_be_visible()
    row = page.get_by_test_id("agency-setup").locator("tr", has_text="Hudson Valley Recovery")
    expect(row.get_by_test_id("agency-commission")).to_have_text("30.00%")
    page.screenshot(path=f"{SHOTS}/agency-upkeep-edited.png", full_page=True)
    agency = Agency.objects.get()
    assert (agency.commission_rate, agency.phone, agency.file_layout, agency.is_default) == (
        Decimal("30.00"),
        "5185550199",
        "fixed_width",
        True,
    )
