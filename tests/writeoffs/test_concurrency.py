"""Two managers approving the same write-off at once post it once (PostgreSQL: each thread has its
own connection; the second waits on the account lock, then finds the request already posted)."""

import threading
from decimal import Decimal

import pytest
from django.db import connection, connections

from accounts.models import Transaction
from core.errors import ApplicationError
from core.models import Tier
from tests.factories import StaffUserFactory
from tests.writeoffs.conftest import assert_ledger_clean, propose
from writeoffs import services
from writeoffs.models import WriteOffRequest

MANAGERS = 4


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_managers_approving_the_same_writeoff_at_once_post_it_once(practice, account, medium, sqlite_flushable):
    if connection.vendor != "postgresql":
        pytest.skip("parallel approvals need PostgreSQL (SQLite serialises writers)")
    managers = [
        StaffUserFactory(username=f"manager{n}", tier=Tier.MANAGEMENT, practices=[practice]) for n in range(MANAGERS)
    ]
    request = propose(medium, account, "60.00")
    barrier = threading.Barrier(MANAGERS)
    outcomes: list[str] = []
    errors: list[BaseException] = []

    def approve(manager):
        try:
            barrier.wait()
            services.writeoff_approve(acting_user=manager, request_id=request.pk)
            outcomes.append("posted")
        except ApplicationError as refusal:
            outcomes.append(refusal.message)
        except BaseException as error:  # reported by the main thread
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=approve, args=(manager,)) for manager in managers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert outcomes.count("posted") == 1
    assert sorted(set(outcomes) - {"posted"}) == [
        "This write-off is no longer waiting for approval: it was posted already."
    ]
    written_off = Transaction.objects.filter(account=account, kind=Transaction.Kind.WRITE_OFF)
    assert [row.patient_amount for row in written_off] == [Decimal("-60.00")]
    account.refresh_from_db()
    assert account.patient_balance == Decimal("140.00")
    assert WriteOffRequest.objects.get(pk=request.pk).history.filter(to_status="posted").count() == 1
    assert_ledger_clean()
