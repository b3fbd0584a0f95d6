"""Aging by date of service, payments oldest-first, as of any date; account and practice agree."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from accounts import services as ledger
from accounts.aging import BUCKET_LABELS, account_aging, bucket_for, practice_aging
from accounts.models import Transaction
from tests.conftest import post_visit
from tests.factories import EncounterFactory, PatientAccountFactory, PracticeFactory

Kind = Transaction.Kind


@pytest.mark.parametrize(
    ("days", "bucket"),
    [
        (0, "0-30"),
        (30, "0-30"),
        (31, "31-60"),
        (60, "31-60"),
        (61, "61-90"),
        (90, "61-90"),
        (91, "91-120"),
        (120, "91-120"),
        (121, "121+"),
        (3650, "121+"),
    ],
)
def test_bucket_edges(days, bucket):
    assert bucket_for(days) == bucket


def test_open_balance_is_aged_by_date_of_service(account):
    aging = account_aging(account, as_of=timezone.localdate())
    assert aging.buckets["91-120"] == Decimal("120.00")
    assert aging.buckets["31-60"] == Decimal("80.00")
    assert [row.open_amount for row in aging.encounters] == [Decimal("120.00"), Decimal("80.00")]
    assert aging.balance == Decimal("200.00")


def test_a_payment_that_names_no_encounter_pays_the_oldest_first(account, medium):
    ledger.transaction_post(
        acting_user=medium,
        account_id=account.pk,
        kind=Kind.PATIENT_PAYMENT,
        patient_amount="-150.00",
        payment_method="check",
    )
    aging = account_aging(account, as_of=timezone.localdate())
    assert aging.buckets["91-120"] == Decimal("0.00")
    assert aging.buckets["31-60"] == Decimal("50.00")
    assert aging.balance == Decimal("50.00")


def test_a_payment_that_names_its_encounter_pays_that_encounter(account, medium):
    newest = account.encounters.order_by("-date_of_service").first()
    ledger.transaction_post(
        acting_user=medium,
        account_id=account.pk,
        kind=Kind.PATIENT_PAYMENT,
        patient_amount="-80.00",
        payment_method="check",
        encounter_id=newest.pk,
    )
    aging = account_aging(account, as_of=timezone.localdate())
    assert aging.buckets["91-120"] == Decimal("120.00")
    assert aging.buckets["31-60"] == Decimal("0.00")


def test_overpayment_is_an_unapplied_credit(account, medium):
    ledger.transaction_post(
        acting_user=medium,
        account_id=account.pk,
        kind=Kind.PATIENT_PAYMENT,
        patient_amount="-250.00",
        payment_method="check",
    )
    aging = account_aging(account, as_of=timezone.localdate())
    assert sum(aging.buckets.values()) == Decimal("0.00")
    assert aging.unapplied_credit == Decimal("50.00")
    assert aging.balance == Decimal("-50.00")


def test_as_of_a_past_date_ignores_later_payments_and_ages_from_that_date(account, medium):
    today = timezone.localdate()
    ledger.transaction_post(
        acting_user=medium,
        account_id=account.pk,
        kind=Kind.PATIENT_PAYMENT,
        patient_amount="-200.00",
        payment_method="check",
        effective_on=today,
    )
    as_of = today - timedelta(days=20)
    aging = account_aging(account, as_of=as_of)
    # On that date the 100-day-old visit was 80 days old and the 45-day-old one 25 days old.
    assert aging.buckets["61-90"] == Decimal("120.00")
    assert aging.buckets["0-30"] == Decimal("80.00")
    assert account_aging(account, as_of=today).balance == Decimal("0.00")


def test_before_the_patient_owed_anything_the_aging_is_empty(account):
    aging = account_aging(account, as_of=timezone.localdate() - timedelta(days=400))
    assert aging.balance == Decimal("0.00")
    assert aging.encounters == []


def test_practice_aging_matches_the_sum_of_its_accounts(practice, account, other_account, medium):
    second = PatientAccountFactory(practice=practice)
    post_visit(second, days_ago=20, charge="90.00", to_patient="90.00")
    post_visit(second, days_ago=200, charge="500.00", insurance_paid="100.00", to_patient="300.00")
    ledger.transaction_post(
        acting_user=medium,
        account_id=second.pk,
        kind=Kind.PATIENT_PAYMENT,
        patient_amount="-350.00",
        payment_method="cash",
    )
    today = timezone.localdate()
    for as_of in (today, today - timedelta(days=30), today - timedelta(days=150)):
        report = practice_aging(practice.pk, as_of=as_of)
        expected = dict.fromkeys(BUCKET_LABELS, Decimal("0.00"))
        credit = Decimal("0.00")
        for acct in (account, second):
            aging = account_aging(acct, as_of=as_of)
            for label, amount in aging.buckets.items():
                expected[label] += amount
            credit += aging.unapplied_credit
        assert dict(report["buckets"]) == expected
        assert report["unapplied_credit"] == credit
    # The other practice's money never shows up.
    assert practice_aging(practice.pk, as_of=today)["balance"] == Decimal("240.00")


@pytest.mark.django_db
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    visits=st.lists(
        st.tuples(st.integers(0, 300), st.decimals(Decimal("0.01"), Decimal("900.00"), places=2)),
        min_size=1,
        max_size=5,
    ),
    payments=st.lists(
        st.tuples(st.integers(0, 300), st.decimals(Decimal("0.01"), Decimal("900.00"), places=2)),
        max_size=4,
    ),
    as_of_back=st.integers(0, 300),
)
def test_property_practice_sql_agrees_with_the_account_rule(visits, payments, as_of_back):
    practice = PracticeFactory()
    account = PatientAccountFactory(practice=practice)
    today = timezone.localdate()
    for days_ago, amount in visits:
        day = today - timedelta(days=days_ago)
        encounter = EncounterFactory(account=account, date_of_service=day)
        ledger.transaction_post(
            acting_user=None,
            account_id=account.pk,
            kind=Kind.CHARGE,
            patient_amount=amount,
            encounter_id=encounter.pk,
            effective_on=day,
        )
    for days_ago, amount in payments:
        ledger.transaction_post(
            acting_user=None,
            account_id=account.pk,
            kind=Kind.PATIENT_PAYMENT,
            patient_amount=-amount,
            payment_method="cash",
            effective_on=today - timedelta(days=days_ago),
        )
    as_of = today - timedelta(days=as_of_back)
    expected = account_aging(account, as_of=as_of)
    report = practice_aging(practice.pk, as_of=as_of)
    assert dict(report["buckets"]) == dict(expected.buckets)
    assert report["unapplied_credit"] == expected.unapplied_credit
    assert report["balance"] == expected.balance
