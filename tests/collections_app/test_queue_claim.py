"""Claiming the next account: order, scope, rep assignments, assigned reps, leases and their expiry,
release, reassignment and rep assignments (services)."""

from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.utils import timezone

from accounts.models import PatientAccount
from collections_app.models import QueueEntry, RepAssignment, WorkItem
from collections_app.queues import services
from collections_app.queues.services import account_reassign, queue_claim_next, queue_release
from core.models import AuditEvent, Tier
from tests.factories import StaffUserFactory, queued_account

Reason = WorkItem.Reason
Bucket = RepAssignment.Bucket


def queued(practice, score, *, reasons=(Reason.PAST_DUE,), assigned_rep=None, **entry_fields):
    return queued_account(practice, score, reasons=reasons, assigned_rep=assigned_rep, **entry_fields)


@pytest.fixture
def rep2(practice):
    return StaffUserFactory(username="rep2", tier=Tier.MEDIUM, practices=[practice])


def test_claims_the_highest_score_and_leases_it(medium, practice):
    queued(practice, "10")
    top = queued(practice, "90")
    claimed = queue_claim_next(acting_user=medium)
    assert claimed == top
    entry = QueueEntry.objects.get(account=top)
    assert entry.claimed_by == medium
    assert timedelta(minutes=29) < entry.claim_expires_at - timezone.now() <= timedelta(minutes=30)
    assert claimed.queue_entry.reasons == [Reason.PAST_DUE]
    assert AuditEvent.objects.filter(user=medium, object_type="collections_app.queueentry", object_id=str(top.pk))


def test_ties_go_to_the_oldest_item_then_the_lowest_account(medium, practice):
    newer = queued(practice, "50")
    older = queued(practice, "50")
    QueueEntry.objects.filter(account=older).update(oldest_item_on=timezone.localdate() - timedelta(days=3))
    assert queue_claim_next(acting_user=medium) == older
    assert queue_claim_next(acting_user=medium, release_current=True) == newer


def test_asking_again_returns_the_live_claim_not_a_second_one(medium, practice):
    first = queued(practice, "90")
    queued(practice, "10")
    assert queue_claim_next(acting_user=medium) == first
    assert queue_claim_next(acting_user=medium) == first
    assert QueueEntry.objects.filter(claimed_by=medium).count() == 1


def test_release_current_moves_on_and_does_not_hand_the_same_account_back(medium, practice):
    first = queued(practice, "90")
    second = queued(practice, "10")
    assert queue_claim_next(acting_user=medium) == first
    assert queue_claim_next(acting_user=medium, release_current=True) == second
    assert queue_claim_next(acting_user=medium, release_current=True) is None


def test_another_rep_never_gets_a_leased_account(medium, rep2, practice):
    first = queued(practice, "90")
    second = queued(practice, "10")
    assert queue_claim_next(acting_user=medium) == first
    assert queue_claim_next(acting_user=rep2) == second


def test_an_expired_lease_can_be_claimed_by_another_rep(medium, rep2, practice):
    account = queued(practice, "90")
    queue_claim_next(acting_user=medium)
    QueueEntry.objects.filter(account=account).update(claim_expires_at=timezone.now() - timedelta(seconds=1))
    assert queue_claim_next(acting_user=rep2) == account


def test_a_released_account_goes_to_the_next_rep_at_once(medium, rep2, practice):
    account = queued(practice, "90")
    queue_claim_next(acting_user=medium)
    queue_release(acting_user=medium, account_id=account.pk)
    assert queue_claim_next(acting_user=rep2) == account


def test_empty_queue_returns_none(medium, practice):
    assert queue_claim_next(acting_user=medium) is None


def test_accounts_of_other_practices_are_never_claimed(medium, practice, other_practice):
    queued(other_practice, "99")
    mine = queued(practice, "10")
    assert queue_claim_next(acting_user=medium) == mine


def test_accounts_assigned_to_another_rep_are_skipped(medium, rep2, practice):
    queued(practice, "99", assigned_rep=rep2)
    mine = queued(practice, "50", assigned_rep=medium)
    pool = queued(practice, "10")
    assert queue_claim_next(acting_user=medium) == mine
    assert queue_claim_next(acting_user=medium, release_current=True) == pool
    assert queue_claim_next(acting_user=medium, release_current=True) is None


def test_rep_assignments_narrow_the_queue_to_their_practices_and_buckets(medium, practice, other_practice):
    from core.access import grant_practice

    grant_practice(medium, other_practice)
    patient_work = queued(practice, "90", reasons=(Reason.PAST_DUE,))
    claims = queued(practice, "50", reasons=(Reason.CLAIM_FOLLOW_UP,))
    mixed = queued(practice, "40", reasons=(Reason.FOLLOW_UP_DUE, Reason.CLAIM_FOLLOW_UP))
    queued(other_practice, "99", reasons=(Reason.CLAIM_FOLLOW_UP,))
    RepAssignment.objects.create(rep=medium, practice=practice, bucket=Bucket.INSURANCE_CLAIMS)
    got = [queue_claim_next(acting_user=medium, release_current=True) for _ in range(3)]
    assert got == [claims, mixed, None]
    assert patient_work not in got


def test_an_all_work_assignment_covers_the_whole_practice(medium, practice, other_practice):
    from core.access import grant_practice

    grant_practice(medium, other_practice)
    ours = queued(practice, "10", reasons=(Reason.RETURNED_MAIL,))
    queued(other_practice, "99")
    RepAssignment.objects.create(rep=medium, practice=practice, bucket=Bucket.ALL)
    RepAssignment.objects.create(rep=medium, practice=practice, bucket=Bucket.INSURANCE_CLAIMS)
    assert queue_claim_next(acting_user=medium) == ours


def test_assignment_to_a_practice_the_rep_cannot_see_gives_nothing(medium, practice, other_practice):
    queued(other_practice, "99")
    RepAssignment.objects.create(rep=medium, practice=other_practice, bucket=Bucket.ALL)
    assert queue_claim_next(acting_user=medium) is None


def test_low_tier_cannot_claim(low, practice):
    queued(practice, "10")
    with pytest.raises(PermissionDenied):
        queue_claim_next(acting_user=low)


def test_only_the_holder_or_a_manager_releases_a_claim(medium, rep2, manager, practice):
    account = queued(practice, "90")
    queue_claim_next(acting_user=medium)
    with pytest.raises(services.ApplicationError):
        queue_release(acting_user=rep2, account_id=account.pk)
    queue_release(acting_user=manager, account_id=account.pk)
    assert QueueEntry.objects.get(account=account).claim_expires_at <= timezone.now()


# --- Reassigning and rep assignments ------------------------------------------------------------


def test_manager_reassigns_an_account_and_its_queue_entry(manager, medium, rep2, practice):
    account = queued(practice, "50", assigned_rep=medium)
    version = account.version
    account_reassign(acting_user=manager, account_id=account.pk, rep_id=rep2.pk)
    account.refresh_from_db()
    assert account.assigned_rep == rep2
    assert account.version == version + 1
    assert QueueEntry.objects.get(account=account).assigned_rep == rep2
    event = AuditEvent.objects.get(user=manager, object_type="accounts.patientaccount", object_id=str(account.pk))
    assert event.detail == {"fields": ["assigned_rep"], "from_rep": medium.pk, "to_rep": rep2.pk}


def test_reassigning_to_nobody_returns_the_account_to_the_pool(manager, medium, practice):
    account = queued(practice, "50", assigned_rep=medium)
    account_reassign(acting_user=manager, account_id=account.pk, rep_id=None)
    assert PatientAccount.objects.get(pk=account.pk).assigned_rep is None
    assert QueueEntry.objects.get(account=account).assigned_rep is None


@pytest.mark.parametrize("problem", ["inactive", "low", "other_practice"])
def test_reassign_refuses_a_rep_who_cannot_work_the_account(manager, practice, other_practice, problem):
    account = queued(practice, "50")
    rep = {
        "inactive": lambda: StaffUserFactory(username="gone", is_active=False, practices=[practice]),
        "low": lambda: StaffUserFactory(username="frontdesk", tier=Tier.LOW, practices=[practice]),
        "other_practice": lambda: StaffUserFactory(username="elsewhere", practices=[other_practice]),
    }[problem]()
    with pytest.raises(services.ApplicationError) as refused:
        account_reassign(acting_user=manager, account_id=account.pk, rep_id=rep.pk)
    assert refused.value.field == "rep"
    assert PatientAccount.objects.get(pk=account.pk).assigned_rep is None


def test_reassign_is_for_managers_and_their_practices(medium, manager, other_practice, rep2):
    theirs = queued(other_practice, "50")
    with pytest.raises(PermissionDenied):
        account_reassign(acting_user=medium, account_id=theirs.pk, rep_id=rep2.pk)
    with pytest.raises(Http404):
        account_reassign(acting_user=manager, account_id=theirs.pk, rep_id=rep2.pk)


def test_rep_assignment_create_and_delete_are_audited(manager, medium, practice):
    assignment = services.rep_assignment_create(
        acting_user=manager, rep_id=medium.pk, practice_id=practice.pk, bucket=Bucket.CORRESPONDENCE
    )
    with pytest.raises(services.ApplicationError):
        services.rep_assignment_create(
            acting_user=manager, rep_id=medium.pk, practice_id=practice.pk, bucket=Bucket.CORRESPONDENCE
        )
    services.rep_assignment_delete(acting_user=manager, assignment_id=assignment.pk)
    assert not RepAssignment.objects.exists()
    changes = AuditEvent.objects.filter(user=manager, action=AuditEvent.Action.ACCESS_CHANGE)
    assert sorted(e.detail["change"] for e in changes) == ["assigned", "unassigned"]
