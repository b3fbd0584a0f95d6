"""Two people at the same account in Chromium: a billing rep sees the money, the front desk does not."""

import re

import pytest
from playwright.sync_api import expect

from tests.factories import PASSWORD, AppointmentFactory

pytestmark = pytest.mark.browser

SCREENSHOT = "/tmp/account-medium.png"


def sign_in(page, base_url, username):
    page.goto(f"{base_url}/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(f"{base_url}/")
    expect(page.get_by_role("heading", name="Dashboard")).to_be_visible()


def test_rep_and_front_desk_open_the_same_account(sqlite_flushable, live_server, new_page, account, medium, low):
    AppointmentFactory(patient=account.patient, practice=account.practice, reason="Follow-up visit")
    base = live_server.url
    account_url = f"{base}/accounts/{account.pk}/"
    patient = account.patient

    rep = new_page()
    sign_in(rep, base, "medium")
    # The rep finds the account the way reps do: "/" to the search box, type, pick the result.
    rep.keyboard.press("/")
    rep.keyboard.type(account.account_number)
    rep.keyboard.press("Enter")
    rep.get_by_role("link", name=account.account_number).click()
    expect(rep).to_have_url(account_url)
    balances = rep.get_by_test_id("balances")
    expect(balances).to_contain_text("Patient balance")
    expect(balances).to_contain_text("$200.00")
    expect(rep.get_by_role("heading", name="Ledger")).to_be_visible()
    expect(rep.locator("table.ledger tbody tr")).to_have_count(8)
    expect(rep.get_by_role("heading", name="Open balance by encounter")).to_be_visible()
    expect(rep.get_by_text("See billing office")).to_be_visible()
    rep.screenshot(path=SCREENSHOT, full_page=True)

    desk = new_page()
    sign_in(desk, base, "low")
    desk.goto(account_url)
    expect(desk.get_by_role("heading", name=re.compile(re.escape(patient.last_name)))).to_be_visible()
    expect(desk.get_by_test_id("past-due-flag")).to_contain_text("See billing office")
    expect(desk.get_by_text("Follow-up visit")).to_be_visible()
    expect(desk.get_by_text("Address history")).to_be_visible()
    html = desk.content()
    assert "$" not in html
    for digits in ("200.00", "120.00", "80.00"):
        assert digits not in html
    expect(desk.get_by_role("heading", name="Ledger")).to_have_count(0)
    desk.screenshot(path="/tmp/account-low.png", full_page=True)


def test_front_desk_corrects_a_phone_number_in_place(sqlite_flushable, live_server, new_page, account, low):
    base = live_server.url
    desk = new_page()
    sign_in(desk, base, "low")
    desk.goto(f"{base}/accounts/{account.pk}/")
    desk.get_by_role("link", name="Edit demographics").click()
    desk.get_by_label("Phone").fill("518-555-0199")
    desk.get_by_role("button", name="Save demographics").click()
    expect(desk.get_by_text("Demographics saved.")).to_be_visible()
    expect(desk.get_by_label("Phone")).to_have_value("5185550199")
    desk.get_by_label("Phone").fill("12")
    desk.get_by_role("button", name="Save demographics").click()
    expect(desk.get_by_text("Enter a ten-digit phone number")).to_be_visible()
    desk.screenshot(path="/tmp/patient-edit-low.png", full_page=True)


def test_rep_opens_every_open_encounter_of_a_long_account(sqlite_flushable, live_server, new_page, practice, medium):
    from tests.accounts.test_account_pages import _account_with_open_encounters

    account = _account_with_open_encounters(practice, 60)
    base = live_server.url
    rep = new_page()
    sign_in(rep, base, "medium")
    rep.goto(f"{base}/accounts/{account.pk}/")
    rows = rep.locator("#open-encounter-rows tr")
    expect(rows).to_have_count(50)
    rep.get_by_role("button", name="Show all 60 open encounters").click()
    expect(rows).to_have_count(60)
    expect(rep.get_by_role("button", name="Show all 60 open encounters")).to_have_count(0)
