"""Plan fixtures: the conftest account ($200 patient balance) and helpers to pay and to run the nightly jobs."""

from datetime import date
from decimal import Decimal

import pytest

from accounts import services as ledger
from accounts.models import Transaction
from accounts.selectors import practice_today
from core.nightly import JobContext
from payment_plans import services


def pay(account, amount, *, on: date | None = None, user=None) -> Transaction:
    return ledger.transaction_post(
        acting_user=user,
        account_id=account.pk,
        kind=Transaction.Kind.PATIENT_PAYMENT,
        patient_amount=-Decimal(amount),
        payment_method=Transaction.PaymentMethod.CASH,
        effective_on=on or practice_today(account.practice),
    )


def pay_and_apply(account, amount, **kwargs) -> Transaction:
    row = pay(account, amount, **kwargs)
    services.plan_payment_received(account_id=account.pk)
    return row


def context_for(practice, as_of: date) -> JobContext:
    return JobContext(as_of=as_of, practice_dates={practice.pk: as_of})


@pytest.fixture
def today(practice):
    return practice_today(practice)


@pytest.fixture
def active_plan(account, medium):
    """$200 over 4 monthly installments of $50, starting today, active."""
    return services.plan_create(acting_user=medium, account_id=account.pk, installment_count=4, activate=True)
