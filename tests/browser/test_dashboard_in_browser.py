"""The dashboard in Chromium: a rep opens it and reads what they collected today, net of a bounced
check; a manager reads the practice's past-due figures and the team's work, which htmx loads."""

from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from accounts.models import AccountAgingState, Transaction
from accounts.selectors import practice_today
from collections_app.models import AccountNote, Contact, PromiseToPay, WorkItem
from core.models import Tier
from tests.factories import PASSWORD, PatientAccountFactory, StaffUserFactory, queued_account

pytestmark = pytest.mark.browser

SHOTS = Path("/tmp/shots")
Kind = Transaction.Kind


def sign_in(page, base_url, username):
    page.goto(f"{base_url}/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(f"{base_url}/")
    expect(page.get_by_role("heading", name="Dashboard")).to_be_visible()


def payment(account, user, amount):
    return Transaction.objects.create(
        account=account,
        kind=Kind.PATIENT_PAYMENT,
        patient_amount=-Decimal(amount),
        effective_on=practice_today(account.practice),
        posted_at=timezone.now(),
        posted_by=user,
        payment_method=Transaction.PaymentMethod.CARD,
    )


def bounce(original, user):
    return Transaction.objects.create(
        account=original.account,
        kind=Kind.REVERSAL,
        patient_amount=-original.patient_amount,
        effective_on=original.effective_on,
        posted_at=timezone.now(),
        posted_by=user,
        reverses=original,
        memo="Card charge disputed",
    )


def a_day_of_work(practice, rep, others, manager):
    """A morning at the office: the rep's queue and promises, payments (one reversed), the team's calls."""
    today = practice_today(practice)
    for n in range(4):
        queued_account(practice, score=str(60 - n), patient_balance=f"{150 + n * 40}.00")
    queued_account(practice, reasons=(WorkItem.Reason.FOLLOW_UP_DUE,), assigned_rep=rep, patient_balance="95.00")
    for n, person in enumerate([rep, *others]):
        for m in range(3 + n):
            account = PatientAccountFactory(practice=practice, patient_balance=Decimal(f"{120 + 35 * m}.00"))
            AccountAgingState.objects.create(
                account=account, practice=practice, patient_open=account.patient_balance, is_past_due=m % 2 == 0
            )
            Contact.objects.create(
                account=account,
                practice=practice,
                channel=Contact.Channel.OUTBOUND_CALL,
                party=Contact.Party.PATIENT,
                outcome=Contact.Outcome.PROMISE_TO_PAY if m == 0 else Contact.Outcome.LEFT_MESSAGE,
                logged_by=person,
            )
            if m == 0:
                PromiseToPay.objects.create(
                    account=account,
                    practice=practice,
                    amount=Decimal("75.00"),
                    promised_on=today,
                    due_on=today + timedelta(days=10),
                    created_by=person,
                )
            if m == 1:
                payment(account, person, f"{60 + 15 * n}.00")
            if m == 2:
                AccountNote.objects.create(
                    account=account, practice=practice, body="Asked for an itemised bill", created_by=person
                )
    due = PatientAccountFactory(practice=practice, patient_balance=Decimal("240.00"))
    PromiseToPay.objects.create(
        account=due,
        practice=practice,
        amount=Decimal("80.00"),
        promised_on=today - timedelta(days=7),
        due_on=today,
        created_by=rep,
        created_at=timezone.now() - timedelta(days=7),
    )
    card = PatientAccountFactory(practice=practice, patient_balance=Decimal("310.00"))
    payment(card, rep, "125.50")
    bounce(payment(card, rep, "40.00"), manager)


def test_rep_reads_collected_today_and_manager_reads_the_team(
    sqlite_flushable, live_server, new_page, practice, medium, manager
):
    others = [
        StaffUserFactory(username=f"rep{n}", first_name=first, last_name=last, tier=Tier.MEDIUM, practices=[practice])
        for n, (first, last) in enumerate([("Dana", "Okafor"), ("Luis", "Ferreira")])
    ]
    medium.first_name, medium.last_name = "Maya", "Chen"
    medium.save(update_fields=["first_name", "last_name"])
    a_day_of_work(practice, medium, others, manager)
    SHOTS.mkdir(exist_ok=True)
    base = live_server.url

    rep = new_page()
    sign_in(rep, base, "medium")
    collected = rep.locator('[data-figure="collected-today"]')
    # $60.00 (the rep's call) + $125.50, the $40.00 card charge reversed: $185.50.
    expect(collected).to_contain_text("$185.50")
    expect(collected).to_contain_text("Eastern (New York) time")
    expect(rep.locator('[data-figure="promises-due"]')).to_contain_text("1")
    expect(rep.locator("[data-promises-due]")).to_contain_text("$80.00")
    expect(rep.locator('[data-figure="queue"] .tile-value')).to_have_text("5")
    rep.screenshot(path=str(SHOTS / "dash_rep.png"), full_page=True)
    rep.locator('[data-figure="queue"]').click()
    expect(rep).to_have_url(f"{base}/queue/")

    boss = new_page()
    sign_in(boss, base, "manager")
    team = boss.locator("[data-team-table]")
    expect(team).to_be_visible()  # loaded by htmx after the page
    expect(team.locator('[data-rep="medium"]')).to_contain_text("$185.50")
    expect(team.locator('[data-rep="rep1"]')).to_contain_text("5")
    expect(boss.locator('[data-figure="past-due"]')).to_be_visible()
    boss.screenshot(path=str(SHOTS / "dash_manager.png"), full_page=True)
    # Work logged since the page opened shows on Refresh.
    Contact.objects.create(
        account=PatientAccountFactory(practice=practice),
        practice=practice,
        channel=Contact.Channel.INBOUND_CALL,
        party=Contact.Party.GUARANTOR,
        outcome=Contact.Outcome.INFORMATION_GIVEN,
        logged_by=manager,
    )
    boss.locator("#team-today").get_by_role("button", name="Refresh").click()
    expect(team.locator('[data-rep="manager"]')).not_to_have_class("muted")
