"""The agency-recovery report on a crafted set of placements and agency payments, every figure
worked out by hand below: gross, commission (fees) and net by agency for the period, and by
placement cohort (agency and month placed) with the recovery rate; reversals taken off in the month
they happened; another practice's agency never shown."""

from datetime import date
from decimal import Decimal

import pytest
from django.urls import reverse

from accounts.models import Transaction
from collections_app.models import Agency, AgencyPayment, Placement, PlacementBatch
from core.models import Tier
from tests.factories import PatientAccountFactory, StaffUserFactory

pytestmark = pytest.mark.django_db

Kind = Transaction.Kind
PERIOD = {"from": "2026-07-01", "to": "2026-09-30"}


def agency(practice, name, rate):
    return Agency.objects.create(practice=practice, name=name, commission_rate=Decimal(rate))


def placement(agency_, placed_on, balance, *, status="placed", collected="0.00"):
    account = PatientAccountFactory(practice=agency_.practice, status="agency" if status == "placed" else "active")
    batch = PlacementBatch.objects.create(practice=agency_.practice, agency=agency_, placed_on=placed_on)
    return Placement.objects.create(
        batch=batch, account=account, practice=agency_.practice, agency=agency_, status=status,
        placed_on=placed_on, placed_balance=Decimal(balance), collected=Decimal(collected),
        closed_at=None,
    )  # fmt: skip


def paid(placement_, paid_on, gross, commission, *, reversed_on=None):
    gross, commission = Decimal(gross), Decimal(commission)
    row = Transaction.objects.create(
        account=placement_.account, kind=Kind.AGENCY_PAYMENT, effective_on=paid_on, patient_amount=-gross
    )
    AgencyPayment.objects.create(
        placement=placement_, account=placement_.account, practice=placement_.practice, agency=placement_.agency,
        paid_on=paid_on, gross=gross, commission=commission, net=gross - commission, transaction=row,
    )  # fmt: skip
    if reversed_on:
        Transaction.objects.create(
            account=placement_.account, kind=Kind.REVERSAL, effective_on=reversed_on, patient_amount=gross,
            reverses=row,
        )  # fmt: skip


@pytest.fixture
def crafted(practice, other_practice):
    keystone = agency(practice, "Keystone Recovery", "25.00")
    second = agency(practice, "Second Chance Collections", "30.00")
    p1 = placement(keystone, date(2026, 7, 10), "600.00", collected="250.00")
    p2 = placement(keystone, date(2026, 7, 20), "400.00", status="closed", collected="400.00")
    p3 = placement(keystone, date(2026, 8, 5), "1000.00", collected="0.03")
    p4 = placement(second, date(2026, 5, 15), "500.00", collected="100.00")  # placed before the period
    placement(keystone, date(2026, 10, 2), "300.00")  # placed after the period: no cohort, still at the agency
    paid(p1, date(2026, 7, 25), "200.00", "50.00")
    paid(p1, date(2026, 8, 10), "100.00", "25.00", reversed_on=date(2026, 8, 20))  # in and out in the period
    paid(p2, date(2026, 8, 15), "400.00", "100.00")
    paid(p3, date(2026, 9, 30), "0.03", "0.01")
    paid(p3, date(2026, 9, 15), "100.00", "25.00", reversed_on=date(2026, 10, 5))  # reversed after the period
    paid(p1, date(2026, 10, 1), "50.00", "12.50")  # after the period
    paid(p4, date(2026, 7, 1), "90.00", "27.00")
    paid(p4, date(2026, 6, 30), "10.00", "3.00")  # before the period
    paid(p4, date(2026, 6, 20), "40.00", "12.00", reversed_on=date(2026, 7, 5))  # reversed in the period
    southern = agency(other_practice, "Southern Recovery", "20.00")
    paid(placement(southern, date(2026, 7, 2), "999.00"), date(2026, 7, 3), "999.00", "199.80")
    return keystone, second


def report(client, user, **extra):
    client.force_login(user)
    return client.get(reverse("api-report", args=["agencies"]), {**PERIOD, **extra})


def test_by_agency_gross_commission_and_net_worked_out_by_hand(client, crafted, manager, practice):
    response = report(client, manager, practice=practice.pk)
    assert response.status_code == 200
    by_agency = response.json()["tables"][0]
    rows = {row["agency"]: row for row in by_agency["rows"]}
    assert set(rows) == {"Keystone Recovery", "Second Chance Collections"}
    # Keystone: 200 + 100 - 100 (reversed 08/20) + 400 + 0.03 + 100 (its reversal is after 09/30)
    #   = 700.03 gross; 50 + 25 - 25 + 100 + 0.01 + 25 = 175.01 fees; net 525.02.
    # Still placed: P1 600 - 250, P3 1000 - 0.03, P5 300 = 1,649.97 in 3 accounts.
    keystone = rows["Keystone Recovery"]
    assert (keystone["gross"], keystone["commission"], keystone["net"]) == ("700.03", "175.01", "525.02")
    assert (keystone["accounts"], keystone["outstanding"], keystone["commission_rate"]) == (3, "1649.97", "25.00")
    # Second Chance: 90 (07/01) - 40 (paid 06/20, reversed 07/05) = 50 gross; 27 - 12 = 15 fees; net 35.
    second = rows["Second Chance Collections"]
    assert (second["gross"], second["commission"], second["net"]) == ("50.00", "15.00", "35.00")
    assert (second["accounts"], second["outstanding"]) == (1, "400.00")
    totals = by_agency["totals"]
    assert (totals["gross"], totals["commission"], totals["net"], totals["accounts"]) == (
        "750.03",
        "190.01",
        "560.02",
        4,
    )


def test_by_placement_cohort_with_the_recovery_rate(client, crafted, manager, practice):
    by_cohort = report(client, manager, practice=practice.pk).json()["tables"][1]
    rows = [(r["agency"], r["cohort"], r["accounts"], r["placed"]) for r in by_cohort["rows"]]
    # Placements made in the period only: not P4 (May) nor P5 (October).
    assert rows == [("Keystone Recovery", "07/2026", 2, "1000.00"), ("Keystone Recovery", "08/2026", 1, "1000.00")]
    july, august = by_cohort["rows"]
    # July (P1, P2): 200 + 100 - 100 + 400 = 600 through 09/30 (the 50 of 10/01 is after); fees 150.
    assert (july["gross"], july["commission"], july["net"], july["recovery_rate"]) == (
        "600.00",
        "150.00",
        "450.00",
        "60.00",
    )
    # August (P3): 0.03 + 100 (reversed only on 10/05) = 100.03; fees 25.01; 100.03 / 1000 = 10.00 %.
    assert (august["gross"], august["commission"], august["net"], august["recovery_rate"]) == (
        "100.03",
        "25.01",
        "75.02",
        "10.00",
    )
    totals = by_cohort["totals"]
    # 700.03 / 2,000.00 = 35.0015 % -> 35.00 %.
    assert (totals["accounts"], totals["placed"], totals["gross"], totals["recovery_rate"]) == (
        3,
        "2000.00",
        "700.03",
        "35.00",
    )


def test_a_fixed_number_of_queries(client, crafted, manager, django_assert_max_num_queries):
    client.force_login(manager)
    with django_assert_max_num_queries(16):
        response = client.get(reverse("api-report", args=["agencies"]), PERIOD)
    assert response.status_code == 200


def test_page_csv_and_pdf_carry_the_same_numbers(client, crafted, manager, practice):
    client.force_login(manager)
    url = reverse("report", args=["agencies"])
    page = client.get(url, {**PERIOD, "practice": practice.pk}).content.decode()
    assert "Keystone Recovery" in page and "$700.03" in page and "$175.01" in page and "$525.02" in page
    assert "Southern Recovery" not in page
    csv = client.get(url, {**PERIOD, "practice": practice.pk, "format": "csv"}).content.decode()
    assert "700.03" in csv and "175.01" in csv and "525.02" in csv and "07/2026" in csv
    assert client.get(url, {**PERIOD, "format": "pdf"}).content[:4] == b"%PDF"


@pytest.mark.parametrize("fmt", ["json", "csv", "pdf"])
def test_refused_below_management_and_outside_the_practice(client, crafted, practice, other_practice, medium, fmt):
    client.force_login(medium)
    assert client.get(reverse("api-report", args=["agencies"]), {**PERIOD, "format": fmt}).status_code == 403
    south = StaffUserFactory(username="south-manager", tier=Tier.MANAGEMENT, practices=[other_practice])
    client.force_login(south)
    url = reverse("api-report", args=["agencies"])
    assert client.get(url, {**PERIOD, "practice": practice.pk, "format": fmt}).status_code == 400
    (only,) = client.get(url, PERIOD).json()["tables"][0]["rows"]
    assert (only["agency"], only["gross"], only["commission"]) == ("Southern Recovery", "999.00", "199.80")
