"""Rep productivity over a period, by the dashboard's rules for worked and collected, worked out by
hand: contacts, promises made and kept, payments net of a bounced one, plans set up."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.models import Transaction
from collections_app.models import Contact, PromiseToPay
from core.models import Tier
from payment_plans import services as plans
from tests.factories import PatientAccountFactory, StaffUserFactory

pytestmark = pytest.mark.django_db

Kind = Transaction.Kind


def pay(account, rep, amount, *, days_ago=0):
    at = timezone.now() - timedelta(days=days_ago)
    return Transaction.objects.create(
        account=account, kind=Kind.PATIENT_PAYMENT, patient_amount=-Decimal(amount), effective_on=at.date(),
        posted_at=at, posted_by=rep, payment_method="cash",
    )  # fmt: skip


@pytest.fixture
def week(practice, account, medium, manager):
    """Medium: a contact and a kept promise on `account`, a $50 payment, a plan; a contact on a
    second account. Bob: a $30 payment that bounced, and a $20 payment 40 days ago (outside)."""
    today = timezone.localdate()
    second = PatientAccountFactory(practice=practice)
    for on in (account, second):
        Contact.objects.create(
            account=on, practice=practice, channel="outbound_call", party="patient", outcome="promise_to_pay",
            logged_by=medium,
        )  # fmt: skip
    PromiseToPay.objects.create(
        account=account, practice=practice, amount=Decimal("50.00"), promised_on=today, due_on=today,
        status=PromiseToPay.Status.KEPT, created_by=medium,
    )  # fmt: skip
    PromiseToPay.objects.create(
        account=second, practice=practice, amount=Decimal("25.00"), promised_on=today, due_on=today + timedelta(days=5),
        created_by=medium,
    )  # fmt: skip
    pay(account, medium, "50.00")
    plans.plan_create(acting_user=medium, account_id=account.pk, installment_count=3, activate=True)
    bob = StaffUserFactory(username="bob", first_name="Bob", last_name="Baker", tier=Tier.MEDIUM, practices=[practice])
    bounced = pay(second, bob, "30.00")
    Transaction.objects.create(
        account=second, kind=Kind.REVERSAL, patient_amount=Decimal("30.00"), effective_on=today, reverses=bounced,
        posted_by=manager,
    )  # fmt: skip
    pay(second, bob, "20.00", days_ago=40)
    return {"from": (today - timedelta(days=6)).isoformat(), "to": today.isoformat()}


def rows_of(response):
    return {row["rep"]: row for row in response.json()["tables"][0]["rows"]}


def test_each_reps_work_in_the_period(client, week, manager, django_assert_max_num_queries):
    client.force_login(manager)
    with django_assert_max_num_queries(20):
        response = client.get(reverse("api-report", args=["productivity"]), week)
    assert response.status_code == 200
    rows = rows_of(response)
    medium = next(row for name, row in rows.items() if name != "Bob Baker" and row["contacts"])
    assert (medium["accounts_worked"], medium["contacts"], medium["promises_made"], medium["promises_kept"]) == (
        2, 2, 2, 1,
    )  # fmt: skip
    assert (medium["kept_rate"], medium["collected"], medium["payments"], medium["plans"]) == ("50.00", "50.00", 1, 1)
    bob = rows["Bob Baker"]
    # The bounced $30 comes off Bob's figures; the $20 of 40 days ago is outside the period.
    assert (bob["payments"], bob["collected"], bob["accounts_worked"]) == (1, "0.00", 1)
    totals = response.json()["tables"][0]["totals"]
    assert (totals["collected"], totals["plans"]) == ("50.00", 1)


def test_page_csv_and_pdf(client, week, manager):
    client.force_login(manager)
    url = reverse("report", args=["productivity"])
    assert "Accounts worked" in client.get(url, week).content.decode()
    assert "Bob Baker" in client.get(url, {**week, "format": "csv"}).content.decode()
    assert client.get(url, {**week, "format": "pdf"}).content[:4] == b"%PDF"


@pytest.mark.parametrize("fmt", ["html", "csv", "pdf"])
def test_a_rep_is_refused(client, week, medium, fmt):
    client.force_login(medium)
    assert client.get(reverse("report", args=["productivity"]), {**week, "format": fmt}).status_code == 403
    assert client.get(reverse("api-report", args=["productivity"]), week).status_code == 403


def test_another_practices_manager_sees_none_of_these_reps(client, week, practice, other_practice):
    south = StaffUserFactory(username="south-manager", tier=Tier.MANAGEMENT, practices=[other_practice])
    client.force_login(south)
    response = client.get(reverse("api-report", args=["productivity"]), week)
    assert "Bob Baker" not in rows_of(response)
    assert (
        client.get(reverse("api-report", args=["productivity"]), {**week, "practice": practice.pk}).status_code == 400
    )
