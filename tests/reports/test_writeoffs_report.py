"""The write-offs report on a small set worked out by hand: by reason, practice and approver; a
reversal dated in the period nets out; bad debt as a share of gross patient revenue."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.models import Transaction
from core.models import Tier
from tests.factories import PatientAccountFactory, StaffUserFactory
from writeoffs.models import WriteOffRequest

pytestmark = pytest.mark.django_db

Kind = Transaction.Kind


def row(account, kind, days_ago, *, patient="0", insurance="0", reason="", reverses=None):
    return Transaction.objects.create(
        account=account, kind=kind, effective_on=timezone.localdate() - timedelta(days=days_ago),
        patient_amount=Decimal(patient), insurance_amount=Decimal(insurance), write_off_reason=reason,
        reverses=reverses,
    )  # fmt: skip


@pytest.fixture
def period(practice, medium, manager, director):
    account = PatientAccountFactory(practice=practice)
    row(account, Kind.CHARGE, 20, insurance="1000.00")
    row(account, Kind.CHARGE, 10, patient="200.00")
    row(account, Kind.CHARGE, 90, patient="500.00")  # before the period
    row(account, Kind.WRITE_OFF, 1, patient="-100.00", reason="bad_debt")
    row(account, Kind.WRITE_OFF, 1, patient="-5.00", reason="small_balance")
    mistaken = row(account, Kind.WRITE_OFF, 5, patient="-40.00", reason="bad_debt")
    row(account, Kind.REVERSAL, 2, patient="40.00", reverses=mistaken)
    row(account, Kind.WRITE_OFF, 3, patient="-20.00", insurance="-10.00", reason="charity")
    now = timezone.now()
    common = {"practice": practice, "account": account, "requested_by": medium}
    WriteOffRequest.objects.create(
        **common, amount=Decimal("100.00"), reason="bad_debt", status="posted", decided_by=manager, posted_at=now
    )
    WriteOffRequest.objects.create(
        **common, amount=Decimal("5.00"), reason="small_balance", status="posted", decided_by=director, posted_at=now
    )
    WriteOffRequest.objects.create(
        **common, amount=Decimal("40.00"), reason="bad_debt", status="reversed", decided_by=manager, posted_at=now,
        reversal_reason="Posted to the wrong account",
    )  # fmt: skip
    WriteOffRequest.objects.create(
        **common, amount=Decimal("7.00"), reason="bad_debt", status="denied", denial_reason="No"
    )
    WriteOffRequest.objects.create(
        **common, amount=Decimal("9.00"), reason="bad_debt", status="posted", decided_by=manager,
        posted_at=now - timedelta(days=60),
    )  # fmt: skip
    today = timezone.localdate()
    return {"from": (today - timedelta(days=29)).isoformat(), "to": today.isoformat()}


def tables(response):
    return {table["key"]: table for table in response.json()["tables"]}


def test_write_offs_by_reason_practice_and_approver(client, period, manager, django_assert_max_num_queries):
    client.force_login(manager)
    with django_assert_max_num_queries(14):
        response = client.get(reverse("api-report", args=["write-offs"]), period)
    assert response.status_code == 200
    found = tables(response)
    reasons = {r["reason"]: r for r in found["by_reason"]["rows"]}
    assert (reasons["Bad debt"]["requests"], reasons["Bad debt"]["requested_amount"]) == (2, "140.00")
    assert reasons["Bad debt"]["ledger_amount"] == "100.00"  # the $40 and its reversal net out
    assert reasons["Charity / financial assistance"]["ledger_amount"] == "30.00"  # patient and insurance
    assert found["by_reason"]["totals"]["ledger_amount"] == "135.00"
    (practice_row,) = found["by_practice"]["rows"]
    # Gross patient revenue: the period's charges, $1,000 + $200; bad debt $100 of it.
    assert (practice_row["gross_revenue"], practice_row["bad_debt"], practice_row["bad_debt_percent"]) == (
        "1200.00", "100.00", "8.33",
    )  # fmt: skip
    approvers = {(r["approver"], r["reason"]): r for r in found["by_approver"]["rows"]}
    manager_bad_debt = next(r for (name, reason), r in approvers.items() if reason == "Bad debt")
    assert (manager_bad_debt["count"], manager_bad_debt["amount"], manager_bad_debt["reversed"]) == (2, "140.00", 1)
    assert len(found["by_approver"]["rows"]) == 2  # the denied and the older request are not counted


def test_page_csv_pdf(client, period, manager):
    client.force_login(manager)
    url = reverse("report", args=["write-offs"])
    assert "Gross patient revenue" in client.get(url, period).content.decode()
    assert "8.33" in client.get(url, {**period, "format": "csv"}).content.decode()
    assert client.get(url, {**period, "format": "pdf"}).content[:4] == b"%PDF"


@pytest.mark.parametrize("fmt", ["json", "csv", "pdf"])
def test_refused_below_management_and_outside_the_practice(client, period, practice, other_practice, medium, fmt):
    client.force_login(medium)
    assert client.get(reverse("api-report", args=["write-offs"]), {**period, "format": fmt}).status_code == 403
    south = StaffUserFactory(username="south-manager", tier=Tier.MANAGEMENT, practices=[other_practice])
    client.force_login(south)
    url = reverse("api-report", args=["write-offs"])
    assert client.get(url, {**period, "practice": practice.pk, "format": fmt}).status_code == 400
    assert tables(client.get(url, period))["by_reason"]["totals"]["ledger_amount"] == "0.00"
