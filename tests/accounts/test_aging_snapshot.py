"""The nightly aging snapshot agrees with accounts.aging (account and practice), for any date."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db.models import Sum
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from accounts import services as ledger
from accounts.aging import BUCKET_LABELS, account_aging, bucket_for, practice_aging
from accounts.jobs import refresh_aging
from accounts.models import AccountAgingState, PatientAccount, PracticeAgingSnapshot, Transaction
from tests.conftest import post_visit
from tests.factories import EncounterFactory, PatientAccountFactory, PracticeFactory

Kind = Transaction.Kind
ZERO = Decimal("0.00")


def insurance_by_bucket(practice, as_of) -> dict[str, Decimal]:
    """The rule, by hand: each encounter's insurance net as of the date, when positive, aged by its
    date of service."""
    expected = dict.fromkeys(BUCKET_LABELS, ZERO)
    rows = (
        Transaction.objects.filter(account__practice=practice, effective_on__lte=as_of, encounter__isnull=False)
        .values("encounter_id", "encounter__date_of_service")
        .annotate(net=Sum("insurance_amount"))
        .order_by()
    )
    for row in rows:
        net = Decimal(row["net"]).quantize(Decimal("0.01"))
        if net > 0:
            age = max((as_of - row["encounter__date_of_service"]).days, 0)
            expected[bucket_for(age)] += net
    return expected


def assert_agrees(practice, as_of) -> None:
    snapshot = {row.bucket: row for row in PracticeAgingSnapshot.objects.filter(practice=practice, as_of=as_of)}
    assert sorted(snapshot) == sorted(BUCKET_LABELS)
    report = practice_aging(practice.pk, as_of=as_of)
    assert {label: snapshot[label].patient_amount for label in BUCKET_LABELS} == dict(report["buckets"])
    expected_insurance = insurance_by_bucket(practice, as_of)
    assert {label: snapshot[label].insurance_amount for label in BUCKET_LABELS} == expected_insurance

    states = {state.account_id: state for state in AccountAgingState.objects.filter(practice=practice)}
    owing_by_bucket = dict.fromkeys(BUCKET_LABELS, 0)
    for account in PatientAccount.objects.filter(practice=practice):
        aging = account_aging(account, as_of=as_of)
        patient_open = sum(aging.buckets.values(), ZERO)
        if patient_open <= 0:
            assert account.pk not in states, f"account {account.pk} owes nothing but has an aging state"
            continue
        state = states[account.pk]
        oldest = aging.oldest_open_age_days
        assert state.patient_open == patient_open
        open_dates = [row.date_of_service for row in aging.encounters if row.open_amount > 0]
        assert state.oldest_open_service_on == (min(open_dates) if open_dates else None)
        assert state.bucket == bucket_for(oldest or 0)
        assert state.is_past_due == (oldest is not None and oldest > practice.statement_grace_days)
        owing_by_bucket[state.bucket] += 1
    assert {label: snapshot[label].account_count for label in BUCKET_LABELS} == owing_by_bucket


@pytest.fixture
def book(practice, account, other_account, medium):
    """Accounts covering the aging rule's cases: partly paid, overpaid (credit), a debit with no
    encounter (refund of a credit), a payment naming its encounter, insurance still open."""
    paid_down = PatientAccountFactory(practice=practice)
    post_visit(paid_down, days_ago=20, charge="90.00", to_patient="90.00")
    post_visit(paid_down, days_ago=200, charge="500.00", insurance_paid="100.00", to_patient="300.00")
    ledger.transaction_post(
        acting_user=medium,
        account_id=paid_down.pk,
        kind=Kind.PATIENT_PAYMENT,
        patient_amount="-350.00",
        payment_method="cash",
    )
    overpaid = PatientAccountFactory(practice=practice)
    post_visit(overpaid, days_ago=70, charge="100.00", to_patient="60.00")
    ledger.transaction_post(
        acting_user=medium,
        account_id=overpaid.pk,
        kind=Kind.PATIENT_PAYMENT,
        patient_amount="-80.00",
        payment_method="check",
    )
    refunded = PatientAccountFactory(practice=practice)
    ledger.transaction_post(
        acting_user=medium,
        account_id=refunded.pk,
        kind=Kind.PATIENT_PAYMENT,
        patient_amount="-40.00",
        payment_method="cash",
    )
    ledger.transaction_post(
        acting_user=medium,
        account_id=refunded.pk,
        kind=Kind.REFUND,
        patient_amount="55.00",
        payment_method="check",
    )
    insurance_only = PatientAccountFactory(practice=practice)
    post_visit(insurance_only, days_ago=40, charge="250.00", to_patient="0.00")
    named = PatientAccountFactory(practice=practice)
    post_visit(named, days_ago=150, charge="100.00", to_patient="100.00")
    newest = post_visit(named, days_ago=10, charge="50.00", to_patient="50.00")
    ledger.transaction_post(
        acting_user=medium,
        account_id=named.pk,
        kind=Kind.PATIENT_PAYMENT,
        patient_amount="-70.00",
        payment_method="cash",
        encounter_id=newest.pk,
    )
    return practice


@pytest.mark.parametrize("days_back", [0, 15, 45, 120, 400])
def test_snapshot_and_states_agree_with_account_and_practice_aging(book, other_practice, days_back):
    as_of = timezone.localdate() - timedelta(days=days_back)
    refresh_aging({book.pk: as_of, other_practice.pk: as_of})
    assert_agrees(book, as_of)
    assert_agrees(other_practice, as_of)


def test_each_practice_is_aged_as_of_its_own_date(book, other_practice):
    today = timezone.localdate()
    refresh_aging({book.pk: today, other_practice.pk: today - timedelta(days=1)})
    assert_agrees(book, today)
    assert_agrees(other_practice, today - timedelta(days=1))


def test_running_it_twice_changes_nothing(book, other_practice):
    today = timezone.localdate()
    dates = {book.pk: today, other_practice.pk: today}
    refresh_aging(dates)
    before = (
        list(AccountAgingState.objects.order_by("account_id").values()),
        list(PracticeAgingSnapshot.objects.order_by("id").values()),
    )
    counts = refresh_aging(dates)
    after = (
        list(AccountAgingState.objects.order_by("account_id").values()),
        list(PracticeAgingSnapshot.objects.order_by("id").values()),
    )
    assert after == before
    assert counts["states_written"] == 0
    assert counts["states_deleted"] == 0
    assert counts["snapshot_rows"] == 0


def test_an_account_paid_off_loses_its_aging_state(account, medium):
    today = timezone.localdate()
    refresh_aging({account.practice_id: today})
    assert AccountAgingState.objects.get(account=account).patient_open == Decimal("200.00")
    ledger.transaction_post(
        acting_user=medium,
        account_id=account.pk,
        kind=Kind.PATIENT_PAYMENT,
        patient_amount="-200.00",
        payment_method="cash",
    )
    counts = refresh_aging({account.practice_id: today})
    assert counts["states_deleted"] == 1
    assert not AccountAgingState.objects.filter(account=account).exists()
    snapshot = PracticeAgingSnapshot.objects.filter(practice=account.practice, as_of=today)
    assert sum(row.patient_amount for row in snapshot) == ZERO
    assert sum(row.account_count for row in snapshot) == 0


def test_past_due_follows_the_practice_grace_days(account):
    today = timezone.localdate()
    practice = account.practice
    practice.statement_grace_days = 120  # the oldest open visit is 100 days old
    practice.save()
    refresh_aging({practice.pk: today})
    state = AccountAgingState.objects.get(account=account)
    assert ((today - state.oldest_open_service_on).days, state.bucket, state.is_past_due) == (100, "91-120", False)
    practice.statement_grace_days = 99
    practice.save()
    refresh_aging({practice.pk: today})
    assert AccountAgingState.objects.get(account=account).is_past_due is True


def test_a_practice_left_out_of_the_run_keeps_its_states(account, other_account):
    today = timezone.localdate()
    refresh_aging({account.practice_id: today, other_account.practice_id: today})
    assert AccountAgingState.objects.get(account=other_account).bucket == "31-60"  # 60 days old
    counts = refresh_aging({account.practice_id: today + timedelta(days=21)})
    assert counts["states_written"] == 1
    assert AccountAgingState.objects.get(account=account).bucket == "121+"
    assert AccountAgingState.objects.get(account=other_account).bucket == "31-60"


def test_a_quiet_night_rewrites_no_account_state(account):
    """Nothing paid or billed and no balance crossing a bucket or the grace days: the states hold no
    date or age, so the next night writes none of them (the 100-day visit is 101 days old)."""
    today = timezone.localdate()
    practice = account.practice
    practice.statement_grace_days = 30
    practice.save()
    assert refresh_aging({practice.pk: today})["states_written"] == 1
    before = list(AccountAgingState.objects.values())
    counts = refresh_aging({practice.pk: today + timedelta(days=1)})
    assert (counts["states_written"], counts["states_deleted"]) == (0, 0)
    assert list(AccountAgingState.objects.values()) == before
    assert_agrees(practice, today + timedelta(days=1))


def test_a_night_rewrites_a_state_only_when_it_crosses_the_grace_days_or_a_bucket(account):
    today = timezone.localdate()
    practice = account.practice
    practice.statement_grace_days = 100  # the oldest open visit is 100 days old today
    practice.save()
    nights = {}
    for days_later in (0, 1, 2, 20, 21, 22):
        counts = refresh_aging({practice.pk: today + timedelta(days=days_later)})
        state = AccountAgingState.objects.get(account=account)
        nights[days_later] = (counts["states_written"], state.bucket, state.is_past_due)
    assert nights == {
        0: (1, "91-120", False),
        1: (1, "91-120", True),  # 101 days: past the grace days
        2: (0, "91-120", True),
        20: (0, "91-120", True),
        21: (1, "121+", True),  # 121 days
        22: (0, "121+", True),
    }


@pytest.mark.parametrize("days_later", [1, 10, 16, 21, 45, 61])
def test_a_later_night_rewrites_only_the_states_that_changed(book, other_practice, days_later):
    """Without a payment, a state changes when its balance crosses a bucket or the grace days, or
    when a transfer to the patient dated after the first night comes into effect."""
    today = timezone.localdate()
    practices = [book.pk, other_practice.pk]
    refresh_aging(dict.fromkeys(practices, today))
    before = {state["account_id"]: state for state in AccountAgingState.objects.values()}
    later = today + timedelta(days=days_later)
    counts = refresh_aging(dict.fromkeys(practices, later))
    after = {state["account_id"]: state for state in AccountAgingState.objects.values()}
    assert sorted(after) == sorted(before)
    changed = [pk for pk, state in after.items() if state != before[pk]]
    assert counts["states_written"] == len(changed) < len(after)
    assert_agrees(book, later)
    assert_agrees(other_practice, later)


def test_no_practices_is_a_no_op(db):
    assert refresh_aging({})["practices"] == 0


@pytest.mark.django_db
@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    visits=st.lists(
        st.tuples(
            st.integers(0, 300),
            st.decimals(Decimal("0.01"), Decimal("900.00"), places=2),
            st.decimals(Decimal("0.00"), Decimal("300.00"), places=2),
        ),
        min_size=1,
        max_size=4,
    ),
    payments=st.lists(
        st.tuples(st.integers(0, 300), st.decimals(Decimal("0.01"), Decimal("900.00"), places=2)),
        max_size=3,
    ),
    as_of_back=st.integers(0, 300),
)
def test_property_snapshot_agrees_with_the_account_rule(visits, payments, as_of_back):
    practice = PracticeFactory()
    accounts = [PatientAccountFactory(practice=practice) for _ in range(2)]
    today = timezone.localdate()
    for number, (days_ago, amount, insurance) in enumerate(visits):
        account = accounts[number % 2]
        day = today - timedelta(days=days_ago)
        encounter = EncounterFactory(account=account, date_of_service=day)
        ledger.transaction_post(
            acting_user=None,
            account_id=account.pk,
            kind=Kind.CHARGE,
            patient_amount=amount,
            insurance_amount=insurance,
            encounter_id=encounter.pk,
            effective_on=day,
        )
    for number, (days_ago, amount) in enumerate(payments):
        ledger.transaction_post(
            acting_user=None,
            account_id=accounts[number % 2].pk,
            kind=Kind.PATIENT_PAYMENT,
            patient_amount=-amount,
            payment_method="cash",
            effective_on=today - timedelta(days=days_ago),
        )
    as_of = today - timedelta(days=as_of_back)
    refresh_aging({practice.pk: as_of})
    assert_agrees(practice, as_of)
