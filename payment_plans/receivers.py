"""The payment plan follows the ledger: a patient payment, or its reversal, re-applies the account's
payments to its open plan's installments, whoever posted it (a rep, an import, a job)."""

from django.dispatch import receiver

from accounts.events import ledger_posted, ledger_posted_many
from accounts.models import Transaction
from payment_plans.services import PLAN_PAYMENT_KINDS, plan_payment_received


@receiver(ledger_posted, dispatch_uid="payment_plans.plan_follows_ledger")
def plan_follows_ledger(sender, *, posting: Transaction, account_id: int, acting_user=None, **kwargs) -> None:
    kind = posting.reverses.kind if posting.kind == Transaction.Kind.REVERSAL else posting.kind
    if kind in PLAN_PAYMENT_KINDS:
        plan_payment_received(account_id=account_id, acting_user=acting_user)


@receiver(ledger_posted_many, dispatch_uid="payment_plans.plan_follows_ledger_many")
def plan_follows_ledger_many(sender, *, postings: list[Transaction], acting_user=None, **kwargs) -> None:
    # plan_payment_received re-applies all the account's payments: once per account is enough.
    # (transactions_post_many posts no reversals, so every posting's own kind is the one to read.)
    paid = dict.fromkeys(posting.account_id for posting in postings if posting.kind in PLAN_PAYMENT_KINDS)
    for account_id in paid:
        plan_payment_received(account_id=account_id, acting_user=acting_user)
