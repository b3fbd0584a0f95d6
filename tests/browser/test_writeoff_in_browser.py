"""A rep proposes a bad-debt write-off from the account workspace; a manager approves it in bulk
on the approvals page (a preview with count and total, then the confirm); the account's ledger
and balance show it. In Chromium, as the two users would."""

from decimal import Decimal

import pytest
from playwright.sync_api import expect

from accounts.models import PatientAccount, Transaction
from tests.browser.conftest import open_panel
from tests.conftest import post_visit
from tests.factories import PASSWORD, PatientAccountFactory
from writeoffs.models import WriteOffRequest

pytestmark = pytest.mark.browser

SHOTS = "/tmp"


def sign_in(page, base_url, username):
    page.goto(f"{base_url}/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(f"{base_url}/")


@pytest.fixture
def owing(practice):
    account = PatientAccountFactory(practice=practice, account_number="N0004100")
    post_visit(account, days_ago=400, charge="260.00", insurance_paid="120.00", to_patient="140.00")
    post_visit(account, days_ago=300, charge="90.00", to_patient="45.50")
    account.refresh_from_db()
    assert account.patient_balance == Decimal("185.50")
    return account


def test_rep_proposes_a_bad_debt_writeoff_and_a_manager_posts_it_in_bulk(
    sqlite_flushable, live_server, new_page, owing, medium, manager
):
    account = owing
    base = live_server.url

    rep = new_page()
    sign_in(rep, base, "medium")
    rep.goto(f"{base}/accounts/{account.pk}/")
    panel = open_panel(rep, "writeoffs")
    panel.get_by_text("Propose a write-off").click()  # the form sits in a closed disclosure
    form = panel.get_by_test_id("writeoff-propose-form")
    expect(form.get_by_label("Amount")).to_have_value("185.50")  # the patient balance
    form.get_by_label("Reason").select_option("bad_debt")
    form.get_by_label("Why (for the approver)").fill("Final notice unanswered; skip-trace found no address.")
    rep.screenshot(path=f"{SHOTS}/writeoff-workspace-form.png", full_page=True)
    form.get_by_role("button", name="Propose write-off").click()

    panel = rep.get_by_test_id("panel-writeoffs")
    expect(panel).to_contain_text("proposed: waiting for approval")
    expect(panel.get_by_test_id("writeoff-waiting")).to_contain_text("1 write-off waiting for approval")
    expect(panel.get_by_test_id("writeoff-requests")).to_contain_text("Bad debt")
    expect(rep.locator("#timeline")).to_contain_text("Write-off proposed")
    panel.screenshot(path=f"{SHOTS}/writeoff-workspace-panel.png")
    request = WriteOffRequest.objects.get(account=account)
    assert request.status == "proposed" and request.requested_by == medium
    # The rep is not offered the approvals page.
    expect(rep.get_by_role("link", name="Approvals")).to_have_count(0)

    boss = new_page()
    sign_in(boss, base, "manager")
    boss.get_by_role("navigation", name="Main").get_by_role("link", name="Approvals").click()
    waiting = boss.get_by_test_id("writeoffs-waiting")
    expect(waiting).to_contain_text("1 write-off waiting for approval")
    row = waiting.locator(f'tr[data-request="{request.pk}"]')
    expect(row).to_contain_text("N0004100")
    expect(row).to_contain_text("$185.50")
    boss.screenshot(path=f"{SHOTS}/writeoff-approvals.png", full_page=True)
    row.get_by_role("checkbox").check()
    boss.get_by_role("button", name="Approve selected").click()

    expect(boss.get_by_role("heading", name="Approve 1 write-off")).to_be_visible()
    expect(boss.get_by_test_id("preview-count")).to_have_text("1")
    expect(boss.get_by_test_id("preview-total")).to_have_text("$185.50")
    boss.screenshot(path=f"{SHOTS}/writeoff-preview.png", full_page=True)
    assert not Transaction.objects.filter(account=account, kind=Transaction.Kind.WRITE_OFF).exists()
    boss.get_by_role("button", name="Post 1 write-off totalling $185.50").click()
    expect(boss.locator(".messages")).to_contain_text("Posted 1 write-off totalling $185.50")
    expect(boss.get_by_test_id("writeoffs-posted")).to_contain_text("N0004100")

    # The account: balance down to zero, the write-off on the ledger with its reason.
    rep.goto(f"{base}/accounts/{account.pk}/")
    expect(rep.get_by_test_id("balances")).to_contain_text("$0.00")
    ledger = rep.locator("#ledger-panel")
    expect(ledger).to_contain_text("Write-off")
    expect(ledger).to_contain_text("Bad debt")
    expect(ledger).to_contain_text("-185.50")
    panel = open_panel(rep, "writeoffs")
    expect(panel.get_by_test_id("writeoff-requests")).to_contain_text("Posted")
    rep.screenshot(path=f"{SHOTS}/writeoff-account-after.png", full_page=True)
    account = PatientAccount.objects.get(pk=account.pk)
    assert account.patient_balance == Decimal("0.00")
