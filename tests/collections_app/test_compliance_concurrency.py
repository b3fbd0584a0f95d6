"""Two reps logging calls on one account at the same moment cannot both use its last allowed call
(PostgreSQL: the account row lock serialises them; each thread has its own connection)."""

import threading

import pytest
from django.db import connection, connections

from accounts.models import PatientAccount
from collections_app.models import Contact
from core.errors import ApplicationError
from core.models import Tier
from tests.collections_app.test_compliance_overrides import calling_hours_moment, log_call
from tests.factories import PatientAccountFactory, StaffUserFactory

REPS = 6


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_parallel_calls_never_exceed_the_cap(practice, sqlite_flushable):
    if connection.vendor != "postgresql":
        pytest.skip("parallel writers need PostgreSQL (SQLite serialises writers)")
    practice.call_cap_count = 2
    practice.save()
    account = PatientAccountFactory(practice=practice)
    reps = [StaffUserFactory(username=f"rep{n}", tier=Tier.MEDIUM, practices=[practice]) for n in range(REPS)]
    moment = calling_hours_moment()
    start = threading.Barrier(REPS)
    outcomes: list[str] = []

    def work(rep):
        try:
            start.wait()
            log_call(rep, PatientAccount.objects.get(pk=account.pk), occurred_at=moment)
            outcomes.append("logged")
        except ApplicationError:
            outcomes.append("refused")
        finally:
            connections.close_all()

    threads = [threading.Thread(target=work, args=(rep,)) for rep in reps]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["logged"] * 2 + ["refused"] * (REPS - 2)
    assert Contact.objects.filter(account=account).count() == 2
