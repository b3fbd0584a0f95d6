"""The work queue follows the ledger: after a posting or reversal the account's queue items are
re-evaluated where the posting can change them (a payment clears "past due", a reversed payment
brings it back).

The queue rules read the ledger only through `patient_balance > 0` (`queues.rules._owes`), and a
queue entry's score through the balance of an account that has open work. So a posting matters to
the queue when it moves the patient balance across zero, or when the account has open work items
to clear or re-score; any other posting (a charge on an account already owing with nothing open,
an insurance-only posting) can open or clear nothing, and re-evaluating eleven rules for it would
only cost time on every charge an import posts.
"""

from django.dispatch import receiver

from accounts.events import ledger_posted
from accounts.models import PatientAccount, Transaction
from collections_app.models import WorkItem
from collections_app.queues.services import queue_refresh_account


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
