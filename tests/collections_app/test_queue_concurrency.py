"""Many reps pressing "Next account" at once never share an account while its lease is live
(PostgreSQL: SELECT ... FOR UPDATE SKIP LOCKED; each thread has its own connection)."""

import threading
from collections import defaultdict
from datetime import timedelta
from decimal import Decimal
from itertools import pairwise

import pytest
from django.db import connection, connections
from django.utils import timezone

from accounts.models import Guarantor, Patient, PatientAccount
from collections_app.models import QueueEntry, WorkItem
from collections_app.queues.services import queue_claim_next
from core.models import Tier
from tests.factories import PatientFactory, StaffUserFactory

REPS = 20
CLAIMS = 2_000
ACCOUNTS = 400
LEASE_MINUTES = 30


def _fill_queue(practice, count):
    patient = PatientFactory(practice=practice)
    guarantor = Guarantor.objects.create(practice=practice, patient=patient, first_name="A", last_name="B")
    accounts = PatientAccount.objects.bulk_create(
        PatientAccount(
            practice=practice,
            account_number=f"C{n:07d}",
            patient=patient,
            guarantor=guarantor,
            patient_balance=Decimal("100.00"),
        )
        for n in range(count)
    )
    today = timezone.localdate()
    WorkItem.objects.bulk_create(
        WorkItem(account=a, practice=practice, reason=WorkItem.Reason.PAST_DUE, opened_on=today) for a in accounts
    )
    QueueEntry.objects.bulk_create(
        QueueEntry(
            account=a,
            practice=practice,
            score=Decimal(n % 97),
            top_reason=WorkItem.Reason.PAST_DUE,
            reasons=[WorkItem.Reason.PAST_DUE],
            oldest_item_on=today,
        )
        for n, a in enumerate(accounts)
    )
    assert Patient.objects.count() == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_twenty_reps_claiming_in_parallel_never_share_a_live_lease(practice, sqlite_flushable):
    if connection.vendor != "postgresql":
        pytest.skip("parallel claims need PostgreSQL (SQLite serialises writers)")
    reps = [StaffUserFactory(username=f"rep{n:02d}", tier=Tier.MEDIUM, practices=[practice]) for n in range(REPS)]
    _fill_queue(practice, ACCOUNTS)
    claims: dict[int, list[tuple]] = defaultdict(list)  # rep -> [(start, expires, account)]
    errors: list[BaseException] = []
    per_rep = CLAIMS // REPS
    barrier = threading.Barrier(REPS)

    def work(rep):
        try:
            barrier.wait()
            for _ in range(per_rep):
                account = queue_claim_next(acting_user=rep, release_current=True, lease_minutes=LEASE_MINUTES)
                assert account is not None, "the queue ran dry"
                entry = account.queue_entry
                assert entry.claimed_by_id == rep.pk
                start = entry.claim_expires_at - timedelta(minutes=LEASE_MINUTES)
                claims[rep.pk].append((start, entry.claim_expires_at, account.pk))
        except BaseException as error:  # reported by the main thread
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=work, args=(rep,)) for rep in reps]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert sum(len(c) for c in claims.values()) == CLAIMS

    # A rep's claim lasts until their next claim released it (that call's own start), or its expiry.
    windows: dict[int, list[tuple]] = defaultdict(list)  # account -> [(start, end, rep)]
    for rep_id, made in claims.items():
        for n, (start, expires, account_id) in enumerate(made):
            end = made[n + 1][0] if n + 1 < len(made) else expires
            assert start <= end
            windows[account_id].append((start, end, rep_id))
    for account_id, held in windows.items():
        held.sort()
        for (_, end, rep_id), (next_start, _, next_rep) in pairwise(held):
            assert next_start >= end, f"account {account_id} held by reps {rep_id} and {next_rep} at once"

    # At the end, each live lease is on a distinct account, one per rep.
    live = QueueEntry.objects.filter(claim_expires_at__gt=timezone.now())
    assert live.count() == REPS
    assert live.values("claimed_by").distinct().count() == REPS
