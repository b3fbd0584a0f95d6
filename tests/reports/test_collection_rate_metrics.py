"""The collection rates on a small ledger worked out by hand: the net rate's four sums, a reversal
counted in its own month, the patient rate's oldest-first rule over 120 days, and the scope."""

from datetime import date
from decimal import Decimal

import pytest

from accounts.models import Transaction
from reports.metrics import collection_rates, compute_rates
from tests.factories import PatientAccountFactory

pytestmark = pytest.mark.django_db

Kind = Transaction.Kind


def row(account, kind, on, *, patient="0", insurance="0", reverses=None):
    return Transaction.objects.create(
        account=account,
        kind=kind,
        effective_on=on,
        patient_amount=Decimal(patient),
        insurance_amount=Decimal(insurance),
        reverses=reverses,
    )


def reversal(original, on):
    return row(
        original.account,
        Kind.REVERSAL,
        on,
        patient=-original.patient_amount,
        insurance=-original.insurance_amount,
        reverses=original,
    )


@pytest.fixture
def ledger(practice):
    """January and February 2026 at one practice (target 95%).

    Account A: Jan 10 charge $500 to insurance; Jan 24 insurance pays $300, adjusts $100, moves $100 to
    the patient; Feb 5 a $50 patient share (self-pay charge); Feb 20 the patient pays $120; Jun 30 $30.
    Account B: Jan 15 a self-pay charge of $40, written off Mar 1; Mar 10 $60 moved to the patient
    (charge Mar 2, $60 to insurance); Mar 20 paid $60.
    Account C: Jan 20 $50 moved to the patient (charge $50 to insurance Jan 5); Jan 25 paid $50 by
    check; the check bounces Feb 3 (reversal). A $10 refund Feb 12.
    """
    practice.target_collection_rate = Decimal("95.00")
    practice.save()
    a = PatientAccountFactory(practice=practice)
    row(a, Kind.CHARGE, date(2026, 1, 10), insurance="500.00")
    row(a, Kind.INSURANCE_PAYMENT, date(2026, 1, 24), insurance="-300.00")
    row(a, Kind.CONTRACTUAL_ADJUSTMENT, date(2026, 1, 24), insurance="-100.00")
    row(a, Kind.TRANSFER_TO_PATIENT, date(2026, 1, 24), patient="100.00", insurance="-100.00")
    row(a, Kind.CHARGE, date(2026, 2, 5), patient="50.00")
    row(a, Kind.PATIENT_PAYMENT, date(2026, 2, 20), patient="-120.00")
    row(a, Kind.PATIENT_PAYMENT, date(2026, 6, 30), patient="-30.00")
    b = PatientAccountFactory(practice=practice)
    row(b, Kind.CHARGE, date(2026, 1, 15), patient="40.00")
    row(b, Kind.WRITE_OFF, date(2026, 3, 1), patient="-40.00")
    row(b, Kind.CHARGE, date(2026, 3, 2), insurance="60.00")
    row(b, Kind.TRANSFER_TO_PATIENT, date(2026, 3, 10), patient="60.00", insurance="-60.00")
    row(b, Kind.PATIENT_PAYMENT, date(2026, 3, 20), patient="-60.00")
    c = PatientAccountFactory(practice=practice)
    row(c, Kind.CHARGE, date(2026, 1, 5), insurance="50.00")
    row(c, Kind.TRANSFER_TO_PATIENT, date(2026, 1, 20), patient="50.00", insurance="-50.00")
    check = row(c, Kind.PATIENT_PAYMENT, date(2026, 1, 25), patient="-50.00")
    reversal(check, date(2026, 2, 3))
    row(c, Kind.REFUND, date(2026, 2, 12), patient="10.00")
    return practice


def by_month(rows):
    return {r.month: r for r in rows}


def test_net_collection_rate_by_month_from_the_four_sums(ledger, manager):
    rows = by_month(
        collection_rates(user=manager, start=date(2026, 1, 1), end=date(2026, 3, 31), as_of=date(2026, 12, 1))
    )
    jan, feb, mar = rows[date(2026, 1, 1)], rows[date(2026, 2, 1)], rows[date(2026, 3, 1)]
    # January: charges 500 + 40 + 50 = 590; adjustments 100; payments 300 (insurance) + 50 (C's check).
    assert (jan.charges, jan.contractual_adjustments, jan.payments, jan.refunds) == (
        Decimal("590.00"),
        Decimal("100.00"),
        Decimal("350.00"),
        Decimal("0.00"),
    )
    assert jan.net_rate == Decimal("71.43")  # 350 / 490
    assert jan.net_gap == Decimal("-23.57")  # against 95%
    # February: charges 50; payments 120 less the bounced 50 = 70; refund 10: (70 - 10) / 50 = 120%.
    assert (feb.charges, feb.payments, feb.refunds) == (Decimal("50.00"), Decimal("70.00"), Decimal("10.00"))
    assert feb.net_rate == Decimal("120.00")
    # March: charge 60, payment 60; the write-off is neither.
    assert (mar.charges, mar.payments, mar.net_rate) == (Decimal("60.00"), Decimal("60.00"), Decimal("100.00"))


def test_patient_collection_rate_applies_payments_oldest_first_within_120_days(ledger, manager):
    rows = by_month(
        collection_rates(user=manager, start=date(2026, 1, 1), end=date(2026, 3, 31), as_of=date(2026, 12, 1))
    )
    jan, feb, mar = rows[date(2026, 1, 1)], rows[date(2026, 2, 1)], rows[date(2026, 3, 1)]
    # January became the patient's: A $100 (Jan 24), B $40 (Jan 15), C $50 (Jan 20) = $190.
    # A's $120 on Feb 20 pays its $100 first; B's $40 was written off, not paid; C's check bounced.
    assert (jan.patient_responsibility, jan.patient_paid) == (Decimal("190.00"), Decimal("100.00"))
    assert jan.patient_rate == Decimal("52.63")
    # February: A's $50 of Feb 5: $20 left of the Feb 20 payment; the $30 of Jun 30 is after Jun 5.
    assert (feb.patient_responsibility, feb.patient_paid, feb.patient_rate) == (
        Decimal("50.00"),
        Decimal("20.00"),
        Decimal("40.00"),
    )
    # March: B's $60 of Mar 10 is paid Mar 20 (the write-off used up January's $40, not this).
    assert (mar.patient_responsibility, mar.patient_paid, mar.patient_rate) == (
        Decimal("60.00"),
        Decimal("60.00"),
        Decimal("100.00"),
    )
    assert mar.patient_gap == Decimal("5.00")
    assert jan.patient_is_final and mar.patient_is_final


def test_as_of_date_leaves_out_later_payments_and_marks_the_month_open(ledger, manager):
    rows = by_month(
        collection_rates(user=manager, start=date(2026, 1, 1), end=date(2026, 2, 28), as_of=date(2026, 2, 10))
    )
    jan = rows[date(2026, 1, 1)]
    # As of Feb 10 A's Feb 20 payment has not happened; C's check has already bounced.
    assert jan.patient_paid == Decimal("0.00")
    assert not jan.patient_is_final
    assert rows[date(2026, 2, 1)].charges == Decimal("50.00")  # Feb 5 only: up to the as-of date


def test_a_practice_outside_the_users_scope_is_not_computed(ledger, other_practice, outsider, manager):
    assert (
        collection_rates(user=outsider, practice_ids=[ledger.pk], start=date(2026, 1, 1), end=date(2026, 1, 31)) == []
    )
    assert {r.practice_id for r in collection_rates(user=manager, start=date(2026, 1, 1), end=date(2026, 1, 31))} == {
        ledger.pk
    }


def test_a_month_without_charges_has_no_rate(practice):
    (only,) = compute_rates(practices=[practice], start=date(2025, 5, 1), end=date(2025, 5, 31), as_of=date(2026, 1, 1))
    assert only.net_rate is None and only.patient_rate is None and only.net_gap is None


def test_two_queries_for_any_number_of_months(ledger, django_assert_num_queries):
    with django_assert_num_queries(2):
        rows = compute_rates(
            practices=[ledger], start=date(2025, 1, 1), end=date(2026, 12, 31), as_of=date(2026, 12, 31)
        )
    assert len(rows) == 24
