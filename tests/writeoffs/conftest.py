"""Write-off fixtures: a second manager (the requester never approves), small helpers."""

from decimal import Decimal

import pytest

from accounts import services as ledger
from accounts.ledger_check import ledger_mismatches
from accounts.models import Transaction
from accounts.selectors import practice_today
from core.models import Tier
from tests.factories import StaffUserFactory
from writeoffs import services


@pytest.fixture
def manager2(practice):
    return StaffUserFactory(username="manager2", tier=Tier.MANAGEMENT, practices=[practice])


@pytest.fixture
def limited(practice):
    """The practice's managers approve up to $100; Directors above."""
    practice.writeoff_limit_management = Decimal("100.00")
    practice.save(update_fields=["writeoff_limit_management"])
    return practice


def propose(user, account, amount, reason="bad_debt", **kwargs):
    return services.writeoff_propose(acting_user=user, account_id=account.pk, amount=amount, reason=reason, **kwargs)


def pay(account, amount, *, kind=Transaction.Kind.PATIENT_PAYMENT, user=None) -> Transaction:
    return ledger.transaction_post(
        acting_user=user,
        account_id=account.pk,
        kind=kind,
        patient_amount=-Decimal(amount),
        payment_method=Transaction.PaymentMethod.CASH if kind == Transaction.Kind.PATIENT_PAYMENT else "",
        effective_on=practice_today(account.practice),
    )


def assert_ledger_clean():
    mismatches, checked = ledger_mismatches()
    assert checked > 0
    assert mismatches == []
