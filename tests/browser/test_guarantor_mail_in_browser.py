"""A rep records a statement to a parent that came back, sees the panel and the account header say
the guarantor's address is bad (not the patient's), and corrects the parent's address, in Chromium."""

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from accounts.models import Guarantor
from tests.browser.conftest import open_panel
from tests.factories import PASSWORD

pytestmark = pytest.mark.browser

SHOTS = "/tmp/shots"


def sign_in(page, base_url, username):
    page.goto(f"{base_url}/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(f"{base_url}/")


def test_rep_records_a_parents_returned_statement_and_corrects_the_parents_address(
    sqlite_flushable, live_server, new_page, medium, account
):
    guarantor = account.guarantor
    guarantor.relationship, guarantor.patient = Guarantor.Relationship.PARENT, None
    guarantor.first_name, guarantor.last_name = "Dana", "Whitfield"
    guarantor.address_line1, guarantor.city, guarantor.state, guarantor.postal_code = (
        "9 Oak Lane",
        "Troy",
        "NY",
        "12180",
    )
    guarantor.save()

    page = new_page()
    sign_in(page, live_server.url, "medium")
    page.goto(f"{live_server.url}/accounts/{account.pk}/")
    page.wait_for_load_state("networkidle")  # the page settles (its panels load) before a click
    mail = open_panel(page, "correspondence")
    mail.get_by_text("Record returned mail").first.click()
    mail.get_by_label("Came back on").fill(timezone.localdate().isoformat())
    mail.locator("select[name=reason]").select_option("moved")
    expect(mail.get_by_label("Sent to")).to_have_value("guarantor")  # where the statements go
    mail.get_by_role("button", name="Record returned mail").click()

    mail = page.locator("#panel-correspondence")
    expect(mail.locator(".badge", has_text="statements and letters to the guarantor stopped")).to_be_visible()
    expect(mail.locator(".badge", has_text="letters to the patient stopped")).to_have_count(0)
    expect(mail.locator("table")).to_contain_text("Guarantor's address")
    page.reload()
    page.wait_for_load_state("networkidle")
    expect(page.locator('.account-head [data-flag="guarantor-bad-address"]')).to_have_text("Guarantor's address bad")
    expect(page.locator('.account-head [data-flag="bad-address"]')).to_have_count(0)
    mail = open_panel(page, "correspondence")
    mail.scroll_into_view_if_needed()
    page.screenshot(path=f"{SHOTS}/guarmail-guarantor-address-bad.png", full_page=True)
    mail.screenshot(path=f"{SHOTS}/guarmail-panel.png")

    mail.locator("input[name=guarantor-address_line1]").fill("77 Birch Road")
    mail.get_by_role("button", name="Save guarantor's address").click()
    mail = page.locator("#panel-correspondence")
    expect(mail).to_contain_text("Guarantor's address corrected; mailings to the guarantor resume.")
    expect(mail).to_contain_text("77 Birch Road")
    expect(mail.locator(".badge", has_text="Bad address")).to_have_count(0)
    mail.screenshot(path=f"{SHOTS}/guarmail-panel-corrected.png")
    page.reload()
    expect(page.locator('.account-head [data-flag="guarantor-bad-address"]')).to_have_count(0)
    # Let the page's own requests finish before the test's database is flushed.
    page.wait_for_load_state("networkidle")
    page.goto("about:blank")
