"""The agency-recovery report from the ledger, worked out by hand: agency payments net of a
reversal, bad-debt recoveries, accounts at an agency now; fees and cohorts wait for placements."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.models import Transaction
from core.models import Tier
from tests.factories import PatientAccountFactory, StaffUserFactory

pytestmark = pytest.mark.django_db

Kind = Transaction.Kind


def row(account, kind, days_ago, patient, reverses=None):
    return Transaction.objects.create(
        account=account, kind=kind, effective_on=timezone.localdate() - timedelta(days=days_ago),
        patient_amount=Decimal(patient), reverses=reverses,
    )  # fmt: skip


@pytest.fixture
def period(practice):
    placed = PatientAccountFactory(practice=practice, status="agency", patient_balance=Decimal("300.00"))
    row(placed, Kind.AGENCY_PAYMENT, 3, "-120.00")
    bounced = row(placed, Kind.AGENCY_PAYMENT, 4, "-50.00")
    row(placed, Kind.REVERSAL, 2, "50.00", reverses=bounced)
    row(placed, Kind.AGENCY_PAYMENT, 400, "-999.00")  # long before the period
    recovered = PatientAccountFactory(practice=practice, status="closed")
    row(recovered, Kind.BAD_DEBT_RECOVERY, 6, "80.00")
    row(recovered, Kind.AGENCY_PAYMENT, 6, "-80.00")
    today = timezone.localdate()
    return {"from": (today - timedelta(days=29)).isoformat(), "to": today.isoformat()}


def test_recovery_by_practice_gross_with_fees_waiting_for_placements(
    client, period, manager, django_assert_max_num_queries
):
    client.force_login(manager)
    with django_assert_max_num_queries(12):
        response = client.get(reverse("api-report", args=["agencies"]), period)
    assert response.status_code == 200
    by_practice, by_month = response.json()["tables"]
    (row_,) = by_practice["rows"]
    assert (row_["gross"], row_["recoveries"], row_["fees"], row_["net"]) == ("200.00", "80.00", None, None)
    assert (row_["accounts"], row_["balance"]) == (1, "300.00")
    assert sum(Decimal(r["gross"]) for r in by_month["rows"]) == Decimal("200.00")
    assert {r["practice"] for r in by_month["rows"]} == {row_["practice"]}


def test_page_says_names_and_fees_arrive_with_placements(client, period, manager):
    client.force_login(manager)
    url = reverse("report", args=["agencies"])
    assert "arrive with placements" in client.get(url, period).content.decode()
    assert "200.00" in client.get(url, {**period, "format": "csv"}).content.decode()
    assert client.get(url, {**period, "format": "pdf"}).content[:4] == b"%PDF"


@pytest.mark.parametrize("fmt", ["json", "csv", "pdf"])
def test_refused_below_management_and_outside_the_practice(client, period, practice, other_practice, medium, fmt):
    client.force_login(medium)
    assert client.get(reverse("api-report", args=["agencies"]), {**period, "format": fmt}).status_code == 403
    south = StaffUserFactory(username="south-manager", tier=Tier.MANAGEMENT, practices=[other_practice])
    client.force_login(south)
    url = reverse("api-report", args=["agencies"])
    assert client.get(url, {**period, "practice": practice.pk, "format": fmt}).status_code == 400
    assert client.get(url, period).json()["tables"][0]["rows"][0]["gross"] == "0.00"
