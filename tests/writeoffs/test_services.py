"""Write-offs through the services: the approval matrix, the requester rule (service and database),
denial, posting by visit, reversal, bulk approval with its preview, and the audit trail."""

from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.db.models import F
from django.http import Http404

from accounts.models import Transaction
from core.errors import ApplicationError
from core.models import AuditEvent
from tests.writeoffs.conftest import assert_ledger_clean, propose
from writeoffs import selectors, services
from writeoffs.models import WriteOffHistory, WriteOffRequest

Status = WriteOffRequest.Status


def balance(account) -> Decimal:
    account.refresh_from_db()
    return account.patient_balance


# --- proposing -------------------------------------------------------------------------------------


def test_a_rep_proposes_and_nothing_posts_until_approval(medium, account):
    request = propose(medium, account, "50.00", note="Three statements, no answer")
    assert request.status == Status.PROPOSED
    assert request.requested_by == medium
    assert balance(account) == Decimal("200.00")
    assert not Transaction.objects.filter(account=account, kind=Transaction.Kind.WRITE_OFF).exists()
    assert list(request.history.values_list("from_status", "to_status")) == [("", "proposed")]
    assert AuditEvent.objects.filter(object_type="writeoffs.writeoffrequest", object_id=str(request.pk)).exists()


def test_low_tier_cannot_propose(low, account):
    with pytest.raises(PermissionDenied):
        propose(low, account, "10.00")


def test_another_practice_account_is_not_found(outsider, account):
    with pytest.raises(Http404):
        propose(outsider, account, "10.00")


@pytest.mark.parametrize("amount", ["0.00", "-5.00", "200.01"])
def test_a_proposal_must_be_above_zero_and_within_the_balance(medium, account, amount):
    with pytest.raises(ApplicationError) as refused:
        propose(medium, account, amount)
    assert refused.value.field == "amount"


def test_proposals_waiting_count_against_the_balance(medium, account):
    propose(medium, account, "150.00")
    with pytest.raises(ApplicationError) as refused:
        propose(medium, account, "60.00")
    assert "already waiting for approval" in refused.value.message


def test_a_proposal_of_visits_is_limited_to_their_open_balance(medium, account):
    older = account.encounters.order_by("date_of_service").first()  # $120 open
    with pytest.raises(ApplicationError) as refused:
        propose(medium, account, "120.01", encounter_ids=[older.pk])
    assert "open balance of the visits" in refused.value.message
    assert propose(medium, account, "120.00", encounter_ids=[older.pk]).status == Status.PROPOSED


def test_a_visit_of_another_account_is_refused(medium, account, other_account):
    with pytest.raises(ApplicationError) as refused:
        propose(medium, account, "10.00", encounter_ids=[other_account.encounters.first().pk])
    assert refused.value.field == "encounters"


def test_the_same_idempotency_key_proposes_once(medium, account):
    first = propose(medium, account, "20.00", idempotency_key="k-1")
    again = propose(medium, account, "20.00", idempotency_key="k-1")
    assert again.pk == first.pk and again.replayed
    assert WriteOffRequest.objects.filter(account=account).count() == 1
    with pytest.raises(ApplicationError):
        propose(medium, account, "25.00", idempotency_key="k-1")


# --- the approval matrix ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("approver", "amount", "allowed"),
    [
        ("medium2", "50.00", False),  # Medium proposes, never approves
        ("manager", "50.00", True),
        ("manager", "100.00", True),  # the limit itself is within it
        ("manager", "100.01", False),  # above the limit: a Director's
        ("director", "100.01", True),
        ("director", "200.00", True),
    ],
)
def test_approval_matrix_by_tier_and_amount(
    request, medium, manager, director, limited, account, approver, amount, allowed
):
    from core.models import Tier
    from tests.factories import StaffUserFactory

    users = {
        "medium2": StaffUserFactory(username="medium2", tier=Tier.MEDIUM, practices=[limited]),
        "manager": manager,
        "director": director,
    }
    proposed = propose(medium, account, amount)
    if not allowed:
        with pytest.raises(PermissionDenied):
            services.writeoff_approve(acting_user=users[approver], request_id=proposed.pk)
        assert balance(account) == Decimal("200.00")
        assert WriteOffRequest.objects.get(pk=proposed.pk).status == Status.PROPOSED
        return
    posted = services.writeoff_approve(acting_user=users[approver], request_id=proposed.pk)
    assert posted.status == Status.POSTED
    assert posted.decided_by == users[approver]
    assert balance(account) == Decimal("200.00") - Decimal(amount)
    entries = list(posted.entries.all())
    assert [(row.kind, row.patient_amount, row.write_off_reason) for row in entries] == [
        (Transaction.Kind.WRITE_OFF, -Decimal(amount), "bad_debt")
    ]
    moves = list(posted.history.values_list("from_status", "to_status"))
    assert moves == [("", "proposed"), ("proposed", "approved"), ("approved", "posted")]
    audited = AuditEvent.objects.filter(object_type="writeoffs.writeoffrequest", object_id=str(posted.pk))
    assert audited.count() == 3  # proposed, approved, posted
    assert_ledger_clean()


def test_the_requester_cannot_approve_their_own_writeoff(manager, account):
    proposed = propose(manager, account, "40.00")
    with pytest.raises(PermissionDenied) as refused:
        services.writeoff_approve(acting_user=manager, request_id=proposed.pk)
    assert "another manager" in str(refused.value)
    assert not selectors.can_approve(manager, proposed)
    with pytest.raises(PermissionDenied):
        services.writeoff_deny(acting_user=manager, request_id=proposed.pk, reason="Changed my mind")
    assert balance(account) == Decimal("200.00")


def test_the_database_refuses_an_approver_who_is_the_requester(manager, account):
    proposed = propose(manager, account, "40.00")
    with pytest.raises(IntegrityError), transaction.atomic():
        WriteOffRequest.objects.filter(pk=proposed.pk).update(decided_by=F("requested_by"), status=Status.APPROVED)
    assert WriteOffRequest.objects.get(pk=proposed.pk).decided_by is None


def test_another_practice_manager_cannot_see_or_approve(medium, account, other_practice):
    from core.models import Tier
    from tests.factories import StaffUserFactory

    stranger = StaffUserFactory(username="south-manager", tier=Tier.MANAGEMENT, practices=[other_practice])
    proposed = propose(medium, account, "40.00")
    with pytest.raises(Http404):
        services.writeoff_approve(acting_user=stranger, request_id=proposed.pk)
    assert selectors.waiting_for_approval(stranger).count() == 0
    assert not selectors.can_approve(stranger, proposed)


def test_a_request_no_longer_waiting_is_refused_with_a_clear_message(medium, manager, manager2, account):
    proposed = propose(medium, account, "40.00")
    services.writeoff_approve(acting_user=manager, request_id=proposed.pk)
    with pytest.raises(ApplicationError) as refused:
        services.writeoff_approve(acting_user=manager2, request_id=proposed.pk)
    assert refused.value.message == "This write-off is no longer waiting for approval: it was posted already."
    assert balance(account) == Decimal("160.00")


def test_approval_refuses_a_writeoff_the_balance_no_longer_covers(medium, manager, account):
    from tests.writeoffs.conftest import pay

    proposed = propose(medium, account, "150.00")
    pay(account, "100.00")
    with pytest.raises(ApplicationError) as refused:
        services.writeoff_approve(acting_user=manager, request_id=proposed.pk)
    assert "less than this write-off" in refused.value.message
    assert balance(account) == Decimal("100.00")


def test_a_writeoff_of_visits_posts_one_entry_per_visit_oldest_first(medium, manager, account):
    older, newer = account.encounters.order_by("date_of_service")
    proposed = propose(medium, account, "150.00", reason="charity", encounter_ids=[newer.pk, older.pk])
    posted = services.writeoff_approve(acting_user=manager, request_id=proposed.pk)
    rows = sorted((row.encounter_id, row.patient_amount) for row in posted.entries.all())
    assert rows == sorted([(older.pk, Decimal("-120.00")), (newer.pk, Decimal("-30.00"))])
    assert balance(account) == Decimal("50.00")
    assert_ledger_clean()


# --- deny, reverse -------------------------------------------------------------------------------------


def test_a_denial_needs_a_reason(medium, manager, account):
    proposed = propose(medium, account, "40.00")
    with pytest.raises(ApplicationError) as refused:
        services.writeoff_deny(acting_user=manager, request_id=proposed.pk, reason="  ")
    assert refused.value.field == "reason"
    denied = services.writeoff_deny(acting_user=manager, request_id=proposed.pk, reason="Patient is on a plan")
    assert denied.status == Status.DENIED
    assert denied.denial_reason == "Patient is on a plan"
    assert WriteOffHistory.objects.filter(request=denied, to_status="denied", note="Patient is on a plan").exists()
    assert balance(account) == Decimal("200.00")


def test_a_rep_cannot_deny(medium, account, practice):
    from core.models import Tier
    from tests.factories import StaffUserFactory

    other_rep = StaffUserFactory(username="rep2", tier=Tier.MEDIUM, practices=[practice])
    proposed = propose(medium, account, "40.00")
    with pytest.raises(PermissionDenied):
        services.writeoff_deny(acting_user=other_rep, request_id=proposed.pk, reason="No")


def test_reversal_restores_the_balance_with_a_reversal_entry(medium, manager, account):
    older, newer = account.encounters.order_by("date_of_service")
    proposed = propose(medium, account, "150.00", encounter_ids=[older.pk, newer.pk])
    services.writeoff_approve(acting_user=manager, request_id=proposed.pk)
    assert balance(account) == Decimal("50.00")
    with pytest.raises(ApplicationError):
        services.writeoff_reverse(acting_user=manager, request_id=proposed.pk, reason="")
    with pytest.raises(PermissionDenied):
        services.writeoff_reverse(acting_user=medium, request_id=proposed.pk, reason="Wrong account")
    reversed_request = services.writeoff_reverse(acting_user=manager, request_id=proposed.pk, reason="Wrong account")
    assert reversed_request.status == Status.REVERSED
    assert reversed_request.reversal_reason == "Wrong account"
    assert balance(account) == Decimal("200.00")
    reversals = Transaction.objects.filter(account=account, kind=Transaction.Kind.REVERSAL)
    assert sorted(row.reverses_id for row in reversals) == sorted(proposed.entries.values_list("pk", flat=True))
    moves = list(reversed_request.history.values_list("to_status", flat=True))
    assert moves == ["proposed", "approved", "posted", "reversed"]
    with pytest.raises(ApplicationError):
        services.writeoff_reverse(acting_user=manager, request_id=proposed.pk, reason="Again")
    assert_ledger_clean()


def test_only_a_posted_writeoff_can_be_reversed(medium, manager, account):
    proposed = propose(medium, account, "40.00")
    with pytest.raises(ApplicationError) as refused:
        services.writeoff_reverse(acting_user=manager, request_id=proposed.pk, reason="Oops")
    assert "Only a posted write-off" in refused.value.message


# --- bulk --------------------------------------------------------------------------------------------


@pytest.fixture
def three_waiting(medium, manager, limited, account, practice):
    from tests.conftest import post_visit
    from tests.factories import PatientAccountFactory

    second = PatientAccountFactory(practice=practice)
    post_visit(second, days_ago=200, charge="300.00", to_patient="300.00")
    return [
        propose(medium, account, "30.00"),
        propose(medium, second, "45.50", reason="charity"),
        propose(medium, second, "250.00", reason="bankruptcy"),  # above the manager's $100 limit
        propose(manager, account, "10.00"),  # the manager's own
    ]


def test_bulk_preview_shows_count_total_and_what_is_left_out(manager, three_waiting):
    ids = [request.pk for request in three_waiting]
    preview = services.writeoff_bulk_preview(acting_user=manager, request_ids=ids)
    assert (preview.count, preview.total) == (2, Decimal("75.50"))
    assert preview.request_ids == ids[:2]
    refused = dict(preview.refused)
    assert set(refused) == {ids[2], ids[3]}
    assert "Director" in refused[ids[2]]
    assert "another manager" in refused[ids[3]]


def test_bulk_approval_posts_exactly_what_was_previewed(manager, three_waiting, account):
    ids = [request.pk for request in three_waiting]
    preview = services.writeoff_bulk_preview(acting_user=manager, request_ids=ids)
    posted = services.writeoff_bulk_approve(acting_user=manager, request_ids=ids, fingerprint=preview.fingerprint)
    assert [request.pk for request in posted] == preview.request_ids
    written_off = Transaction.objects.filter(kind=Transaction.Kind.WRITE_OFF)
    assert sum(row.patient_amount for row in written_off) == -preview.total
    assert WriteOffRequest.objects.get(pk=ids[2]).status == Status.PROPOSED
    assert_ledger_clean()


def test_bulk_approval_refuses_all_if_anything_changed_since_the_preview(manager, manager2, three_waiting, account):
    ids = [request.pk for request in three_waiting]
    preview = services.writeoff_bulk_preview(acting_user=manager, request_ids=ids)
    services.writeoff_deny(acting_user=manager2, request_id=ids[1], reason="Not eligible")
    with pytest.raises(ApplicationError) as refused:
        services.writeoff_bulk_approve(acting_user=manager, request_ids=ids, fingerprint=preview.fingerprint)
    assert refused.value.field == "fingerprint"
    assert not Transaction.objects.filter(kind=Transaction.Kind.WRITE_OFF).exists()
    assert WriteOffRequest.objects.get(pk=ids[0]).status == Status.PROPOSED


def test_a_rep_cannot_bulk_approve(medium, three_waiting):
    with pytest.raises(PermissionDenied):
        services.writeoff_bulk_preview(acting_user=medium, request_ids=[three_waiting[0].pk])


# --- selectors ---------------------------------------------------------------------------------------


def test_waiting_summary_counts_the_practice_requests_in_one_query(manager, three_waiting, django_assert_num_queries):
    with django_assert_num_queries(2):  # the user's practices, then the aggregate
        manager.__dict__.pop("_practice_ids_cache", None)
        summary = selectors.approvals_waiting_summary(manager)
    assert summary["count"] == 4
    assert summary["total"] == Decimal("335.50")
    assert summary["oldest_requested_at"] == three_waiting[0].requested_at
    assert list(selectors.waiting_for_approval(manager)) == three_waiting
