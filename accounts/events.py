"""Ledger events: every posting to the ledger is announced once, inside its transaction.

`accounts.services.transaction_post` and `transaction_reverse` send `ledger_posted` after the row is
written and the stored balances moved, with the account row still locked. Whatever must follow
money (a payment plan's installments, the work queue, later agencies and write-offs) subscribes
here, so a payment from an import, an agency or a rep, and its reversal, have the same consequences.
A receiver runs in the posting's transaction: if it raises, the posting is rolled back with it.

Receivers are called in the order they connect, which is the order of INSTALLED_APPS (each app
connects in its AppConfig.ready): payment_plans before collections_app, so the queue sees the plan
as the payment left it (a lapsed plan caught up no longer puts the account in the queue).
"""

from django.dispatch import Signal

# Keyword arguments: `posting` (the accounts.Transaction row just written; for a reversal, the
# reversal row, whose `reverses` is the original), `account_id`, and `acting_user` (None for jobs).
# A posting answered from an earlier one (the same `reference` posted again) is not announced.
ledger_posted = Signal()

# One announcement for a batch from `accounts.services.transactions_post_many` (an import's chunk of
# claims): `postings` (the new rows in the order written, each bad-debt recovery after its
# payment; replays are not in it), `balances_before` ({account_id: patient balance before the
# batch}, for every account with a new row) and `acting_user`. Receivers run once per batch, in
# its transaction, with every account of the batch locked, and see the balances the batch left:
# each must end where it would have after the same rows posted one by one through ledger_posted.
ledger_posted_many = Signal()
