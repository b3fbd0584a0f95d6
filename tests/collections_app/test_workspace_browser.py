"""The workspace in Chromium: the timeline loads by htmx and follows changes, and the keys work."""

import pytest
from playwright.sync_api import expect

from accounts import services as ledger
from accounts.models import AccountAgingState, Transaction
from accounts.selectors import practice_today
from tests.browser.conftest import _fresh_content_type_caches, browser, new_page  # noqa: F401
from tests.factories import PASSWORD, AppointmentFactory

pytestmark = pytest.mark.browser


def sign_in(page, base_url, username):
    page.goto(f"{base_url}/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(f"{base_url}/")


def post_payment(user, account, reference):
    ledger.transaction_post(
        acting_user=user,
        account_id=account.pk,
        kind=Transaction.Kind.PATIENT_PAYMENT,
        patient_amount="-25.00",
        payment_method="check",
        reference=reference,
    )


def test_rep_works_the_account_from_the_keyboard(sqlite_flushable, live_server, new_page, account, medium):  # noqa: F811
    post_payment(medium, account, "CHK-55")
    base = live_server.url
    rep = new_page()
    sign_in(rep, base, "medium")
    rep.goto(f"{base}/accounts/{account.pk}/")
    timeline = rep.locator("#timeline")
    expect(timeline).to_contain_text("Patient payment")
    expect(timeline).to_contain_text("CHK-55")
    rep.screenshot(path="/tmp/workspace-medium.png", full_page=True)

    # A panel's action answers with HX-Trigger: account-changed; the timeline fetches itself again.
    post_payment(medium, account, "CHK-77")
    rep.evaluate("document.body.dispatchEvent(new CustomEvent('account-changed', {bubbles: true}))")
    expect(timeline).to_contain_text("CHK-77")

    rep.keyboard.press("?")
    keys = rep.locator("#hotkeys")
    expect(keys).to_be_visible()
    expect(keys).to_contain_text("Jump to the activity timeline")
    rep.keyboard.press("Escape")
    expect(keys).to_be_hidden()
    rep.keyboard.press("t")
    expect(rep.locator("#timeline-panel")).to_be_focused()
    rep.keyboard.press("/")
    expect(rep.locator("[data-search-global]")).to_be_focused()


def test_front_desk_sees_the_schedule_flag_without_amounts(sqlite_flushable, live_server, new_page, account, low):  # noqa: F811
    AccountAgingState.objects.create(account=account, practice=account.practice, is_past_due=True)
    AppointmentFactory(patient=account.patient, practice=account.practice, reason="Follow-up visit")
    base = live_server.url
    desk = new_page()
    sign_in(desk, base, "low")
    desk.get_by_role("link", name="Schedule").click()
    expect(desk.get_by_text("Follow-up visit")).to_be_visible()
    expect(desk.get_by_test_id("see-billing-office")).to_have_text("See billing office")
    assert "$" not in desk.content()
    desk.screenshot(path="/tmp/schedule-low.png", full_page=True)


def test_a_payment_shows_everywhere_on_the_page_without_a_reload(
    sqlite_flushable,
    live_server,
    new_page,  # noqa: F811
    account,
    medium,
):
    base = live_server.url
    rep = new_page()
    sign_in(rep, base, "medium")
    rep.goto(f"{base}/accounts/{account.pk}/")
    balances = rep.get_by_test_id("balances")
    expect(balances).to_contain_text("$200.00")
    # The plan panel is opened by the rep (it loads then) and follows the payment too.
    rep.locator('.panel-slot[data-panel="plans"] [data-panel-open]').click()
    plan_total = rep.locator('#panel-plans input[name$="total"]')
    expect(plan_total).to_have_value("200.00")
    panel = rep.locator("#panel-contacts")
    panel.get_by_text("Record a payment").click()
    panel.locator("#id_payment-amount").fill("75.00")
    panel.locator("#id_payment-method").select_option("cash")
    panel.get_by_role("button", name="Post payment").click()
    expect(panel).to_contain_text("Payment posted.")
    expect(balances).to_contain_text("$125.00")  # tiles
    expect(rep.locator("#account-figures table.aging")).to_contain_text("$125.00")  # aging total
    expect(rep.locator("#ledger")).to_contain_text("75.00")  # the new ledger row
    expect(rep.locator("#account-side")).to_contain_text(practice_today(account.practice).strftime("%m/%d/%Y"))
    expect(rep.locator("#timeline")).to_contain_text("Patient payment")
    expect(plan_total).to_have_value("125.00")  # the other open panel followed
    rep.screenshot(path="/tmp/workspace-after-payment.png", full_page=True)
    # Opened once, the plan panel opens by itself on the next account page.
    rep.reload()
    expect(rep.locator('#panel-plans input[name$="total"]')).to_have_value("125.00")
