"""Every posting is announced once (accounts.events.ledger_posted): a payment and its reversal made
straight through accounts.services move the payment plan and the work queue both ways, whoever
posts them (an import, an agency, a rep)."""

from datetime import datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from accounts import services as ledger
from accounts.events import ledger_posted, ledger_run, ledger_run_defer, ledger_run_ended
from accounts.models import AccountAgingState, Practice, Transaction
from accounts.selectors import practice_today
from collections_app.models import QueueEntry, WorkItem
from collections_app.queues.services import queue_refresh_account
from payment_plans import services as plans
from payment_plans.models import PaymentPlan

Kind = Transaction.Kind


def pay(account, amount: str, **fields) -> Transaction:
    return ledger.transaction_post(
        acting_user=None,
        account_id=account.pk,
        kind=Kind.PATIENT_PAYMENT,
        patient_amount=-Decimal(amount),
        payment_method=Transaction.PaymentMethod.CHECK,
        **fields,
    )


def paid_amounts(plan) -> list[Decimal]:
    return list(
        plan.installments.filter(superseded_at__isnull=True).order_by("due_on").values_list("paid_amount", flat=True)
    )


@pytest.fixture
def active_plan(account, medium):
    """$200 over 4 monthly installments of $50, active."""
    return plans.plan_create(acting_user=medium, account_id=account.pk, installment_count=4, activate=True)


@pytest.fixture
def announcements():
    received = []

    def listen(sender, **kwargs):
        received.append(kwargs)

    ledger_posted.connect(listen, dispatch_uid="test_listen")
    yield received
    ledger_posted.disconnect(dispatch_uid="test_listen")


def test_a_payment_and_its_reversal_through_the_ledger_move_the_plan_both_ways(account, active_plan):
    payment = pay(account, "75.00")
    assert paid_amounts(active_plan) == [Decimal("50.00"), Decimal("25.00"), Decimal("0.00"), Decimal("0.00")]

    ledger.transaction_reverse(acting_user=None, transaction_id=payment.pk, reason="Check returned unpaid")
    assert paid_amounts(active_plan) == [Decimal("0.00")] * 4
    active_plan.refresh_from_db()
    assert active_plan.status == PaymentPlan.Status.ACTIVE


def test_paying_the_plan_in_full_through_the_ledger_completes_it(account, active_plan):
    pay(account, "200.00")
    active_plan.refresh_from_db()
    assert active_plan.status == PaymentPlan.Status.COMPLETED
    assert paid_amounts(active_plan) == [Decimal("50.00")] * 4


def test_a_charge_or_an_insurance_posting_leaves_the_plan_alone(account, active_plan):
    encounter = account.encounters.first()
    ledger.transaction_post(
        acting_user=None,
        account_id=account.pk,
        kind=Kind.CONTRACTUAL_ADJUSTMENT,
        insurance_amount=Decimal("-10.00"),
        encounter_id=encounter.pk,
    )
    assert paid_amounts(active_plan) == [Decimal("0.00")] * 4


def test_the_queue_follows_a_payment_and_its_reversal_through_the_ledger(account):
    today = practice_today(account.practice)
    AccountAgingState.objects.create(
        account=account,
        practice=account.practice,
        patient_open=account.patient_balance,
        oldest_open_service_on=today - timedelta(days=100),
        is_past_due=True,
    )
    queue_refresh_account(account_id=account.pk)
    assert QueueEntry.objects.filter(account=account).exists()

    payment = pay(account, str(account.patient_balance))
    assert not WorkItem.objects.filter(
        account=account, reason=WorkItem.Reason.PAST_DUE, cleared_at__isnull=True
    ).exists()
    assert not QueueEntry.objects.filter(account=account).exists()

    ledger.transaction_reverse(acting_user=None, transaction_id=payment.pk, reason="Check returned unpaid")
    assert WorkItem.objects.filter(account=account, reason=WorkItem.Reason.PAST_DUE, cleared_at__isnull=True).exists()
    assert QueueEntry.objects.filter(account=account).exists()


def test_each_posting_is_announced_once_and_a_repeated_reference_not_again(account, announcements):
    first = pay(account, "10.00", reference="CHK-2001")
    again = pay(account, "10.00", reference="CHK-2001")
    assert again.pk == first.pk
    assert [(event["posting"].pk, event["account_id"]) for event in announcements] == [(first.pk, account.pk)]

    reversal = ledger.transaction_reverse(acting_user=None, transaction_id=first.pk, reason="Posted in error")
    assert announcements[-1]["posting"].pk == reversal.pk
    assert announcements[-1]["posting"].reverses_id == first.pk


def test_a_receiver_that_fails_rolls_the_posting_back(account):
    def refuse(sender, **kwargs):
        raise RuntimeError("receiver failed")

    ledger_posted.connect(refuse, dispatch_uid="test_refuse")
    try:
        balance = account.patient_balance
        with pytest.raises(RuntimeError):
            pay(account, "10.00")
    finally:
        ledger_posted.disconnect(dispatch_uid="test_refuse")
    account.refresh_from_db()
    assert account.patient_balance == balance
    assert not Transaction.objects.filter(account=account, kind=Kind.PATIENT_PAYMENT).exists()


# --- "Today" is the practice's date -----------------------------------------------------------


@pytest.mark.parametrize("zone", ["America/Los_Angeles"])
def test_a_payment_at_2330_in_los_angeles_is_dated_that_day_there(account, zone, monkeypatch):
    Practice.objects.filter(pk=account.practice_id).update(time_zone=zone)
    account.practice.refresh_from_db()
    evening = datetime(2026, 11, 30, 23, 30, tzinfo=ZoneInfo(zone))  # 07:30 UTC on December 1
    monkeypatch.setattr("accounts.services.timezone.now", lambda: evening)
    row = pay(account, "5.00")
    assert row.effective_on.isoformat() == "2026-11-30"
    reversal = ledger.transaction_reverse(acting_user=None, transaction_id=row.pk, reason="Posted in error")
    assert reversal.effective_on.isoformat() == "2026-11-30"


def test_a_run_of_batches_hands_its_noted_accounts_over_once_when_the_outermost_run_ends():
    ended = []

    def receiver(sender, *, noted, **kwargs):
        ended.append({key: set(ids) for key, ids in noted.items()})

    ledger_run_ended.connect(receiver, dispatch_uid="test_run_ended")
    try:
        assert ledger_run_defer("queue", [1]) is False  # no run: the receiver acts at once
        with ledger_run():
            assert ledger_run_defer("queue", [1, 2]) is True
            with ledger_run():  # an import inside another's run: the outer one goes on
                ledger_run_defer("queue", [3])
            assert ended == []
            ledger_run_defer("plans", [2])
        assert ended == [{"queue": {1, 2, 3}, "plans": {2}}]
        with ledger_run():
            pass  # nothing noted: nothing sent
        assert len(ended) == 1
    finally:
        ledger_run_ended.disconnect(dispatch_uid="test_run_ended")
