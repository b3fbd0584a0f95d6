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

from collections.abc import Iterable
from contextlib import contextmanager
from contextvars import ContextVar

from django.db import transaction
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

# A run of batches: an import posts a file as many batches, each in its own transaction. A
# receiver whose work is set-based over accounts and may wait until the file is posted (the work
# queue's re-evaluation, a fixed cost of eleven rule statements a batch, run inside each batch's
# transaction on rows it has just written) notes the accounts under its key (ledger_run_defer) and
# does the work once, when `ledger_run_ended` is sent after the run: keyword `noted`, {key: the
# accounts noted under it}. Sent when the run ends, normally or not (the batches committed before a
# failure have been posted), outside any batch's transaction; not sent from a rolled-back caller's
# transaction, where nothing was posted. Outside a run, ledger_run_defer answers False and the
# receiver acts at once, in the batch's transaction.
ledger_run_ended = Signal()

_run_noted: ContextVar[dict[str, set[int]] | None] = ContextVar("ledger_run_noted", default=None)


@contextmanager
def ledger_run():
    """Post a run of batches (see ledger_run_ended); inside a run already, the outer run goes on."""
    if _run_noted.get() is not None:
        yield
        return
    noted: dict[str, set[int]] = {}
    token = _run_noted.set(noted)
    failed = False
    try:
        yield
    except BaseException:
        failed = True
        raise
    finally:
        _run_noted.reset(token)
        if noted and not (failed and transaction.get_connection().needs_rollback):
            ledger_run_ended.send(sender=None, noted=noted)


def ledger_run_defer(key: str, account_ids: Iterable[int]) -> bool:
    """Note accounts for `key`'s receiver of ledger_run_ended; False outside a run (act now)."""
    noted = _run_noted.get()
    if noted is None:
        return False
    noted.setdefault(key, set()).update(account_ids)
    return True
