"""A rep sets up a payment plan from the account workspace in Chromium, reads its schedule and
prints the agreement."""

import re
from decimal import Decimal

import pytest
from playwright.sync_api import expect

from accounts.models import PatientAccount
from core.models import AuditEvent
from payment_plans.models import PaymentPlan
from tests.browser.conftest import open_panel
from tests.conftest import post_visit
from tests.factories import PASSWORD, PatientAccountFactory

pytestmark = pytest.mark.browser


def sign_in(page, base_url, username):
    page.goto(f"{base_url}/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(f"{base_url}/")


@pytest.fixture
def owing_300(practice):
    account = PatientAccountFactory(practice=practice, account_number="N0003000")
    post_visit(account, days_ago=45, charge="300.00", to_patient="300.00")
    account.refresh_from_db()
    assert account.patient_balance == Decimal("300.00")
    return account


def test_rep_sets_up_six_monthly_installments_and_prints_the_agreement(
    sqlite_flushable, live_server, new_page, owing_300, medium
):
    account = owing_300
    base = live_server.url
    rep = new_page()
    sign_in(rep, base, "medium")
    rep.goto(f"{base}/accounts/{account.pk}/")

    panel = open_panel(rep, "plans")
    panel.get_by_text("Set up a plan").click()  # the form sits in a closed disclosure
    form = panel.get_by_test_id("plan-create-form")
    expect(form.get_by_label("Plan total")).to_have_value("300.00")
    form.get_by_label("Number of installments", exact=True).fill("6")
    form.get_by_label("Frequency").select_option("monthly")
    # The schedule comes first, to read to the patient; nothing is saved yet.
    form.get_by_role("button", name="Show the schedule").click()
    offer = rep.get_by_test_id("plan-offer")
    expect(offer).to_contain_text("$300.00 in 6 installments (monthly)")
    expect(offer.locator("tbody tr")).to_have_count(6)
    assert not PaymentPlan.objects.filter(account=account).exists()
    form = rep.get_by_test_id("plan-create-form")
    agreed = form.get_by_label("Patient agreed: start the plan now")
    expect(agreed).not_to_be_checked()
    agreed.check()
    rep.screenshot(path="/tmp/plan-offer.png", full_page=True)
    form.get_by_role("button", name="Set up this plan").click()

    panel = rep.get_by_test_id("panel-plans")
    summary = panel.get_by_test_id("plan-summary")
    expect(summary).to_contain_text("Active")
    expect(summary).to_contain_text("6 installments of $50.00 monthly")
    expect(summary).to_contain_text("$300.00")
    expect(panel.get_by_test_id("plan-create-form")).to_have_count(0)
    timeline = rep.locator("#timeline")
    expect(timeline).to_contain_text("Payment plan set up")
    rep.screenshot(path="/tmp/workspace-plan.png", full_page=True)

    plan = PaymentPlan.objects.get(account=account)
    agreement = panel.get_by_role("link", name="Agreement (PDF)")
    expect(agreement).to_have_attribute("href", f"/plans/{plan.pk}/agreement.pdf")
    response = rep.request.get(f"{base}/plans/{plan.pk}/agreement.pdf")
    assert response.status == 200
    assert response.headers["content-type"] == "application/pdf"
    assert response.body().startswith(b"%PDF")

    panel.get_by_role("link", name="Schedule and history").click()
    expect(rep).to_have_url(f"{base}/plans/{plan.pk}/")
    expect(rep.get_by_test_id("plan-status")).to_have_text("Active")
    rows = rep.get_by_test_id("plan-schedule").locator("tbody tr")
    expect(rows).to_have_count(6)
    for index in range(6):
        expect(rows.nth(index)).to_contain_text("$50.00")
        expect(rows.nth(index)).to_contain_text("Open")
    rep.get_by_role("link", name=re.compile(re.escape(account.account_number))).click()
    expect(rep).to_have_url(f"{base}/accounts/{account.pk}/")
    expect(rep.locator("#timeline")).to_contain_text("Payment plan set up")

    plan.refresh_from_db()
    assert plan.status == PaymentPlan.Status.ACTIVE
    assert (plan.installment_count, plan.installment_amount, plan.total_amount) == (
        6,
        Decimal("50.00"),
        Decimal("300.00"),
    )
    schedule = plan.installments.filter(superseded_at__isnull=True)
    assert schedule.count() == 6
    assert sum(row.amount for row in schedule) == Decimal("300.00")
    assert PatientAccount.objects.get(pk=account.pk).status == PatientAccount.Status.PAYMENT_PLAN
    assert AuditEvent.objects.filter(user=medium, object_id=str(plan.pk), detail__document="plan_agreement").exists()
