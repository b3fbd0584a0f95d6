"""The payment-plans report on five plans worked out by hand: active and lapsed now, set up,
running, defaulted in the period, the default rate, and the dollars paid through plans."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.models import Transaction
from core.models import Tier
from payment_plans.models import PaymentPlan, PlanStatusChange
from tests.factories import PatientAccountFactory, StaffUserFactory

pytestmark = pytest.mark.django_db

Status = PaymentPlan.Status


def plan(practice, *, created_days_ago, status, history):
    """A plan and its history: [(days ago, to status)]."""
    today = timezone.localdate()
    account = PatientAccountFactory(practice=practice)
    created = today - timedelta(days=created_days_ago)
    made = PaymentPlan.objects.create(
        account=account, practice=practice, status=status, total_amount=Decimal("300.00"), start_on=created,
        installment_count=3, installment_amount=Decimal("100.00"), created_on=created,
    )  # fmt: skip
    for days_ago, to_status in history:
        PlanStatusChange.objects.create(
            plan=made, practice=practice, to_status=to_status, reason="created", as_of=today - timedelta(days=days_ago)
        )
    return account


def pay(account, amount, days_ago):
    return Transaction.objects.create(
        account=account, kind=Transaction.Kind.PATIENT_PAYMENT, patient_amount=-Decimal(amount),
        effective_on=timezone.localdate() - timedelta(days=days_ago), payment_method="cash",
    )  # fmt: skip


@pytest.fixture
def period(practice):
    one = plan(practice, created_days_ago=100, status=Status.ACTIVE, history=[(100, Status.ACTIVE)])
    pay(one, "40.00", 5)  # through the plan, in the period
    pay(one, "15.00", 200)  # before the plan and the period
    plan(practice, created_days_ago=60, status=Status.LAPSED, history=[(60, Status.ACTIVE), (20, Status.LAPSED)])
    three = plan(
        practice, created_days_ago=90, status=Status.DEFAULTED, history=[(90, Status.ACTIVE), (10, Status.DEFAULTED)]
    )
    pay(three, "25.00", 15)  # while running
    pay(three, "10.00", 5)  # after it defaulted: not through a plan
    bounced = pay(three, "12.00", 14)
    Transaction.objects.create(
        account=three, kind=Transaction.Kind.REVERSAL, patient_amount=Decimal("12.00"), reverses=bounced,
        effective_on=timezone.localdate() - timedelta(days=13),
    )  # fmt: skip
    plan(
        practice, created_days_ago=300, status=Status.COMPLETED, history=[(300, Status.ACTIVE), (200, Status.COMPLETED)]
    )
    plan(practice, created_days_ago=3, status=Status.ACTIVE, history=[(3, Status.ACTIVE)])
    today = timezone.localdate()
    return {"from": (today - timedelta(days=29)).isoformat(), "to": today.isoformat()}


def test_plans_by_practice(client, period, manager, django_assert_max_num_queries):
    client.force_login(manager)
    with django_assert_max_num_queries(12):
        response = client.get(reverse("api-report", args=["payment-plans"]), period)
    assert response.status_code == 200
    (row,) = response.json()["tables"][0]["rows"]
    assert (row["active"], row["lapsed"], row["set_up"], row["running"], row["defaulted"], row["completed"]) == (
        2, 1, 1, 4, 1, 0,
    )  # fmt: skip
    assert row["default_rate"] == "25.00"  # 1 of 4 running
    assert row["dollars"] == "65.00"  # 40 + 25; not the 10 after default, not the bounced 12


def test_csv_and_pdf(client, period, manager):
    client.force_login(manager)
    url = reverse("report", args=["payment-plans"])
    assert "65.00" in client.get(url, {**period, "format": "csv"}).content.decode()
    assert client.get(url, {**period, "format": "pdf"}).content[:4] == b"%PDF"
    assert "Default rate" in client.get(url, period).content.decode()


@pytest.mark.parametrize("fmt", ["json", "csv", "pdf"])
def test_refused_below_management_and_outside_the_practice(client, period, practice, other_practice, medium, fmt):
    client.force_login(medium)
    assert client.get(reverse("api-report", args=["payment-plans"]), {**period, "format": fmt}).status_code == 403
    south = StaffUserFactory(username="south-manager", tier=Tier.MANAGEMENT, practices=[other_practice])
    client.force_login(south)
    url = reverse("api-report", args=["payment-plans"])
    assert client.get(url, {**period, "practice": practice.pk, "format": fmt}).status_code == 400
    rows = client.get(url, period).json()["tables"][0]["rows"]
    assert [row["practice"] for row in rows] == [other_practice.name] and rows[0]["running"] == 0
