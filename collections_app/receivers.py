"""What collections does when the layers below announce something.

The work queue follows the ledger: after a posting or reversal the account's queue items are
re-evaluated where the posting can change them (a payment clears "past due", a reversed payment
brings it back).

The queue rules read the ledger only through `patient_balance > 0` (`queues.rules._owes`), and a
queue entry's score through the balance of an account that has open work. So a posting matters to
the queue when it moves the patient balance across zero, or when the account has open work items
to clear or re-score. One rule reads claims instead: claim follow-up opens for a denied claim, and
a remittance's batch denies claims with postings that move no patient balance, so a batch's
accounts with a denied claim are re-evaluated too. Any other posting (a charge on an account
already owing with nothing open, an insurance-only posting) can open or clear nothing, and
re-evaluating eleven rules for it would only cost time on every charge an import posts.
"""

from decimal import Decimal

from django.dispatch import receiver

from accounts.events import ledger_posted, ledger_posted_many, ledger_run_defer, ledger_run_ended
from accounts.models import Claim, PatientAccount, Transaction
from accounts.selectors import practice_today
from collections_app.models import PromiseToPay, WorkItem
from collections_app.queues.services import queue_refresh_account, queue_refresh_accounts
from core.access import FieldGroup
from core.audit import audit_record
from core.models import AuditEvent
from core.sql import analyze_if_grown
from payment_plans.events import plan_started


def posting_can_change_queue(*, posting: Transaction, account_id: int) -> bool:
    if posting.patient_amount == 0:
        return False
    after = PatientAccount.objects.values_list("patient_balance", flat=True).get(pk=account_id)
    before = after - posting.patient_amount
    if (before > 0) != (after > 0):
        return True
    return WorkItem.objects.filter(account_id=account_id, cleared_at__isnull=True).exists()


@receiver(ledger_posted, dispatch_uid="collections_app.queue_follows_ledger")
def queue_follows_ledger(sender, *, posting: Transaction, account_id: int, **kwargs) -> None:
    if posting_can_change_queue(posting=posting, account_id=account_id):
        queue_refresh_account(account_id=account_id)


def postings_can_change_queue(*, postings: list[Transaction], balances_before: dict[int, Decimal]) -> set[int]:
    """posting_can_change_queue for a batch: the accounts where one of the batch's rows, in order,
    moved the patient balance across zero, that have open work items, or a denied claim to follow
    up (an 835's denial: its adjustment moves no patient balance); a query for each, for them all.
    Unlike one posting at a time, an insurance-only posting on an account with open work counts
    too: the score reads patient + insurance balance, and the set-based refresh costs little."""
    balance = dict(balances_before)
    crossed = set()
    for posting in postings:
        before = balance[posting.account_id]
        balance[posting.account_id] = after = before + posting.patient_amount
        if (before > 0) != (after > 0):
            crossed.add(posting.account_id)
    rest = set(balance) - crossed
    if rest:
        open_work = WorkItem.objects.filter(account_id__in=rest, cleared_at__isnull=True)
        crossed.update(open_work.values_list("account_id", flat=True).distinct())
    rest -= crossed
    if rest:
        # A remittance's denial moves no patient balance, but the claim is to be followed up now.
        denied = Claim.objects.filter(account_id__in=rest, status=Claim.Status.DENIED)
        crossed.update(denied.values_list("account_id", flat=True).distinct())
    return crossed


# The key the queue's accounts are noted under in a run of batches (accounts.events.ledger_run).
QUEUE_REFRESH = "collections_app.queue_refresh"


@receiver(ledger_posted_many, dispatch_uid="collections_app.queue_follows_ledger_many")
def queue_follows_ledger_many(sender, *, postings: list[Transaction], balances_before, **kwargs) -> None:
    # One set-based refresh for the batch's accounts; the rules read the state the batch left, as
    # the last per-posting refresh of each account would. In a run of batches (an import's file),
    # one refresh for the run's accounts when it ends: 100,000 accounts in one pass take 1.5 s,
    # twenty passes of 5,000 inside their batches' transactions took 4-5 s.
    account_ids = postings_can_change_queue(postings=postings, balances_before=balances_before)
    if not ledger_run_defer(QUEUE_REFRESH, account_ids):
        queue_refresh_accounts(account_ids=account_ids)


@receiver(ledger_run_ended, dispatch_uid="collections_app.queue_follows_ledger_run")
def queue_follows_ledger_run(sender, *, noted: dict[str, set[int]], **kwargs) -> None:
    account_ids = noted.get(QUEUE_REFRESH)
    if not account_ids:
        return
    # The rules read balances and claims the run has just changed (an 835: every account owing
    # now, where the statistics still say none did); planned on those, 100,000 accounts took 4 s.
    analyze_if_grown([PatientAccount._meta.db_table, Claim._meta.db_table])
    queue_refresh_accounts(account_ids=account_ids)


@receiver(plan_started, dispatch_uid="collections_app.plan_supersedes_promises")
def plan_supersedes_promises(sender, *, plan, acting_user, **kwargs) -> None:
    """A payment plan the patient agreed to replaces the open promises to pay on the account: one
    arrangement at a time, so the promise check never calls a patient who is paying the plan."""
    today = practice_today(plan.account.practice)
    promises = list(PromiseToPay.objects.filter(account_id=plan.account_id, status=PromiseToPay.Status.OPEN))
    if promises:
        _cancel_superseded_promises(plan=plan, promises=promises, today=today, acting_user=acting_user)
    # The plan is the arrangement now: past due, final notice and early follow-up leave the queue at
    # once (queues.rules), not at tonight's refresh.
    queue_refresh_account(account_id=plan.account_id)


def _cancel_superseded_promises(*, plan, promises, today, acting_user) -> None:
    PromiseToPay.objects.filter(pk__in=[promise.pk for promise in promises]).update(
        status=PromiseToPay.Status.CANCELLED, resolved_on=today
    )
    for promise in promises:
        audit_record(
            user=acting_user,
            action=AuditEvent.Action.UPDATE,
            obj=promise,
            field_group=FieldGroup.BILLING,
            detail={"account_id": plan.account_id, "status": "cancelled", "superseded_by_plan": plan.pk},
        )
