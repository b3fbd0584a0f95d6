"""A payment after a bad-debt write-off posts as bad-debt recovery: the recovered debt comes back on
the ledger (+) and the payment pays it, so the balance matches the ledger and reports see it."""

from decimal import Decimal

import pytest

from accounts import services as ledger
from accounts.models import Transaction
from collections_app.contacts.services import payment_record
from core.errors import ApplicationError
from tests.writeoffs.conftest import assert_ledger_clean, pay, propose
from writeoffs import services

Kind = Transaction.Kind


@pytest.fixture
def written_off(medium, manager, account):
    """The whole $200 written off as bad debt."""
    request = propose(medium, account, "200.00", reason="bad_debt")
    services.writeoff_approve(acting_user=manager, request_id=request.pk)
    account.refresh_from_db()
    assert account.patient_balance == 0
    return request


def recoveries(account):
    return list(
        Transaction.objects.filter(account=account, kind=Kind.BAD_DEBT_RECOVERY).values_list(
            "patient_amount", flat=True
        )
    )


@pytest.mark.parametrize("kind", [Kind.PATIENT_PAYMENT, Kind.AGENCY_PAYMENT])
def test_a_payment_after_a_bad_debt_writeoff_posts_as_recovery(written_off, account, kind):
    payment = pay(account, "75.00", kind=kind)
    assert payment.bad_debt_recovery is not None
    assert recoveries(account) == [Decimal("75.00")]
    account.refresh_from_db()
    assert account.patient_balance == 0  # not a $75 credit
    assert ledger.bad_debt_unrecovered(account.pk) == Decimal("125.00")
    assert_ledger_clean()


def test_only_the_part_beyond_the_balance_and_up_to_the_bad_debt_is_recovery(medium, manager, account):
    request = propose(medium, account, "50.00", reason="bad_debt")
    services.writeoff_approve(acting_user=manager, request_id=request.pk)  # $150 still owed
    pay(account, "170.00")  # $150 pays the balance, $20 recovers bad debt
    assert recoveries(account) == [Decimal("20.00")]
    pay(account, "100.00")  # $30 more recovers the rest; $70 is a credit
    assert recoveries(account) == [Decimal("20.00"), Decimal("30.00")]
    account.refresh_from_db()
    assert account.patient_balance == Decimal("-70.00")
    assert ledger.bad_debt_unrecovered(account.pk) == 0
    assert_ledger_clean()


def test_other_writeoff_reasons_are_not_recovered(medium, manager, account):
    request = propose(medium, account, "200.00", reason="charity")
    services.writeoff_approve(acting_user=manager, request_id=request.pk)
    pay(account, "10.00")
    assert recoveries(account) == []
    account.refresh_from_db()
    assert account.patient_balance == Decimal("-10.00")


def test_a_reversed_writeoff_is_no_longer_recoverable(written_off, manager, account):
    services.writeoff_reverse(acting_user=manager, request_id=written_off.pk, reason="Posted in error")
    pay(account, "50.00")
    assert recoveries(account) == []
    account.refresh_from_db()
    assert account.patient_balance == Decimal("150.00")


def test_reversing_the_payment_reverses_its_recovery(written_off, manager, account):
    payment = pay(account, "75.00")
    ledger.transaction_reverse(acting_user=manager, transaction_id=payment.pk, reason="Check returned")
    account.refresh_from_db()
    assert account.patient_balance == 0
    assert ledger.bad_debt_unrecovered(account.pk) == Decimal("200.00")
    assert Transaction.objects.filter(account=account, kind=Kind.REVERSAL).count() == 2
    assert_ledger_clean()


def test_a_rep_takes_a_payment_on_a_written_off_account_without_an_overpayment_warning(written_off, medium, account):
    row = payment_record(acting_user=medium, account_id=account.pk, amount="120.00", method="cash")
    assert row.patient_amount == Decimal("-120.00")
    assert recoveries(account) == [Decimal("120.00")]
    # Beyond the unrecovered bad debt, it is an overpayment again.
    with pytest.raises(ApplicationError) as refused:
        payment_record(acting_user=medium, account_id=account.pk, amount="100.00", method="cash")
    assert "confirm_overpayment" in refused.value.extra
