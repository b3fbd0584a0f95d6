"""Agencies follow the ledger and holds.

- Every posting (accounts.events.ledger_posted): a patient's payment to the practice on an account
  at an agency is listed for the agency's next file; paid in full, the placement ends.
- A hold placed (an AccountHold row created, inside hold_place with the account locked): the account
  is recalled from its agency, a dispute hold as "dispute opened". Hold services stay unaware of
  agencies; the hold's `status_before` is moved from agency to active so releasing it later brings
  the account back to the office, not to the agency.
"""

from django.db.models.signals import post_save
from django.dispatch import receiver

from accounts.events import ledger_posted, ledger_posted_many
from collections_app.agencies import services
from collections_app.models import AccountHold


@receiver(ledger_posted, dispatch_uid="collections_app.agencies_follow_ledger")
def agencies_follow_ledger(sender, *, posting, account_id: int, acting_user=None, **kwargs) -> None:
    services.after_posting(posting=posting, account_id=account_id, acting_user=acting_user)


@receiver(ledger_posted_many, dispatch_uid="collections_app.agencies_follow_ledger_many")
def agencies_follow_ledger_many(sender, *, postings, acting_user=None, **kwargs) -> None:
    # Each payment of the batch as if announced alone (after_posting ignores every other kind).
    for posting in postings:
        services.after_posting(posting=posting, account_id=posting.account_id, acting_user=acting_user)


@receiver(post_save, sender=AccountHold, dispatch_uid="collections_app.hold_recalls_placement")
def hold_recalls_placement(sender, *, instance: AccountHold, created: bool, raw: bool = False, **kwargs) -> None:
    if created and not raw:
        services.after_hold_placed(hold=instance)
