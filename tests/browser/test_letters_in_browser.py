"""A rep opens the account's statements and letters in Chromium, prints a letter now and downloads
its PDF."""

from pathlib import Path

import pytest
from playwright.sync_api import expect

from reports.models import Statement
from tests.browser.conftest import open_panel
from tests.factories import PASSWORD
from tests.reports.statements_support import make_statement, temporary_statement_storage

pytestmark = pytest.mark.browser

SHOTS = "/tmp/shots"


@pytest.fixture(autouse=True)
def storage(tmp_path, monkeypatch):
    return temporary_statement_storage(tmp_path, monkeypatch)


def sign_in(page, base_url, username):
    page.goto(f"{base_url}/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(f"{base_url}/")


def test_rep_prints_a_letter_and_downloads_a_statement(sqlite_flushable, live_server, new_page, account, medium):
    Path(SHOTS).mkdir(exist_ok=True)
    statement = make_statement(account, days_ago=35, amount="200.00")
    make_statement(account, kind=Statement.Kind.DUNNING_30, level=1, days_ago=5, amount="200.00")
    base = live_server.url
    rep = new_page()
    sign_in(rep, base, "medium")
    rep.goto(f"{base}/accounts/{account.pk}/")

    panel = open_panel(rep, "statements")
    rows = panel.get_by_test_id("statement-list").locator("tbody tr")
    expect(rows).to_have_count(2)
    expect(rows.first).to_contain_text("Past-due letter (30 days)")
    expect(rows.nth(1)).to_contain_text("Patient statement")
    panel.screenshot(path=f"{SHOTS}/letters-panel.png")

    with rep.expect_download() as download:
        rows.nth(1).get_by_role("link", name="PDF").click()
    assert download.value.suggested_filename == f"statement-{statement.pk}.pdf"

    panel.get_by_text("Print a letter now").click()
    form = panel.get_by_test_id("letter-print-form")
    form.locator("select[name=kind]").select_option("address_request")
    form.get_by_label("Added to the letter").fill("Please send us your new address.")
    form.get_by_role("button", name="Print letter").click()
    panel = rep.get_by_test_id("panel-statements")
    expect(panel).to_contain_text("Request for a correct address printed")
    expect(panel.get_by_test_id("statement-list").locator("tbody tr")).to_have_count(3)
    panel.screenshot(path=f"{SHOTS}/letters-printed.png")
    rep.screenshot(path=f"{SHOTS}/letters-account-page.png", full_page=True)
    assert Statement.objects.filter(account=account, kind=Statement.Kind.ADDRESS_REQUEST, created_by=medium).exists()
