"""The nightly small-balance run: who it picks, its preview, what posts on confirm, idempotency,
auto-approval under the practice's floor, and `run_nightly --job small_balance_writeoffs`."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied
from django.core.management import call_command
from django.utils import timezone

from accounts.jobs import refresh_aging
from accounts.models import PatientAccount, Transaction
from accounts.selectors import practice_today
from core.errors import ApplicationError
from core.models import AuditEvent
from tests.conftest import post_visit
from tests.factories import PatientAccountFactory
from tests.writeoffs.conftest import assert_ledger_clean, pay, propose
from writeoffs import selectors, services
from writeoffs.models import SmallBalanceRun, WriteOffHistory, WriteOffRequest

Status = WriteOffRequest.Status


@pytest.fixture
def today(practice):
    return practice_today(practice)


def small(practice, owed: str, *, days_ago: int = 200, number: str = "") -> PatientAccount:
    """An account owing `owed` on a visit `days_ago` old, quiet since it was billed (90 days ago)."""
    account = PatientAccountFactory(practice=practice, **({"account_number": number} if number else {}))
    post_visit(account, days_ago=days_ago, charge="100.00", insurance_paid=str(100 - Decimal(owed)), to_patient=owed)
    quiet(account)
    return account


def quiet(account, days: int = 90):
    """As if nobody had touched the account for `days` (the test posted it just now)."""
    PatientAccount.objects.filter(pk=account.pk).update(updated_at=timezone.now() - timedelta(days=days))


def run_for(practice, today):
    refresh_aging({practice.pk: today})
    return services.small_balance_run_create(practice=practice, as_of=today)


def test_the_run_proposes_small_old_quiet_balances_and_nothing_else(practice, today, medium):
    picked = [small(practice, "8.00"), small(practice, "10.00"), small(practice, "0.50")]
    too_big = small(practice, "10.01")
    too_young = small(practice, "5.00", days_ago=100)  # the policy's minimum age is 120 days
    on_hold = small(practice, "5.00")
    on_plan = small(practice, "5.00")
    at_agency = small(practice, "5.00")
    closed = small(practice, "5.00")
    PatientAccount.objects.filter(pk=on_hold.pk).update(status="hold", hold_reason="lop")
    PatientAccount.objects.filter(pk=on_plan.pk).update(status="payment_plan")
    PatientAccount.objects.filter(pk=at_agency.pk).update(status="agency")
    PatientAccount.objects.filter(pk=closed.pk).update(status="closed")
    paid_lately = small(practice, "9.00")
    pay(paid_lately, "1.00")
    quiet(paid_lately)  # the payment date alone keeps it out
    touched_lately = small(practice, "6.00")
    quiet(touched_lately, days=10)  # a contact, a note, a hold placed and released...
    already_waiting = small(practice, "7.00")
    propose(medium, already_waiting, "7.00")
    quiet(already_waiting)

    run = run_for(practice, today)

    proposed = run.requests.all()
    assert sorted(request.account_id for request in proposed) == sorted(account.pk for account in picked)
    assert all(request.requested_by_id is None for request in proposed)
    assert {request.source for request in proposed} == {"small_balance_run"}
    assert {request.reason for request in proposed} == {"small_balance"}
    assert (run.status, run.account_count, run.total) == ("preview", 3, Decimal("18.50"))
    left_alone = [too_big, too_young, on_hold, on_plan, at_agency, closed, paid_lately, touched_lately]
    assert not WriteOffRequest.objects.filter(account__in=left_alone).exists()
    # Nothing posts before a manager confirms.
    assert not Transaction.objects.filter(kind=Transaction.Kind.WRITE_OFF).exists()
    assert WriteOffHistory.objects.filter(request__small_balance_run=run, to_status="proposed").count() == 3
    assert AuditEvent.objects.filter(object_type="writeoffs.writeoffrequest", detail__job=services.JOB).count() == 3


def test_the_preview_count_and_total_are_what_posts_on_confirm(practice, today, manager):
    accounts = [small(practice, owed) for owed in ("0.03", "3.33", "9.99", "10.00")]
    run = run_for(practice, today)
    assert list(selectors.small_balance_runs_waiting(manager)) == [run]
    confirmed = services.small_balance_run_approve(acting_user=manager, run_id=run.pk)
    written_off = Transaction.objects.filter(kind=Transaction.Kind.WRITE_OFF, write_off_reason="small_balance")
    assert written_off.count() == run.account_count == confirmed.posted_count == 4
    assert -sum(row.patient_amount for row in written_off) == run.total == confirmed.posted_total
    assert run.total == Decimal("23.35")
    for account in accounts:
        account.refresh_from_db()
        assert account.patient_balance == 0
    assert confirmed.status == "posted" and confirmed.decided_by == manager
    assert selectors.small_balance_runs_waiting(manager).count() == 0
    with pytest.raises(ApplicationError):
        services.small_balance_run_approve(acting_user=manager, run_id=run.pk)
    call_command("check_ledger")  # exits non-zero (CommandError) on any mismatch
    assert_ledger_clean()


def test_an_account_that_changed_after_the_preview_is_left_out_not_posted(practice, today, manager):
    kept, paid = small(practice, "8.00"), small(practice, "8.00")
    run = run_for(practice, today)
    pay(paid, "8.00")
    confirmed = services.small_balance_run_approve(acting_user=manager, run_id=run.pk)
    assert confirmed.posted_count == 1
    assert confirmed.left_out == [WriteOffRequest.objects.get(account=paid).pk]
    assert WriteOffRequest.objects.get(account=paid).status == Status.DENIED
    paid.refresh_from_db()
    assert paid.patient_balance == 0  # no credit from writing off what was paid
    kept.refresh_from_db()
    assert kept.patient_balance == 0


def test_the_run_is_idempotent_per_date(practice, today):
    small(practice, "8.00")
    first = run_for(practice, today)
    small(practice, "4.00")  # appears after the night's run: the next night's
    again = run_for(practice, today)
    assert again.pk == first.pk and not again.created_now
    assert WriteOffRequest.objects.count() == 1
    assert SmallBalanceRun.objects.count() == 1
    tomorrow = services.small_balance_run_create(practice=practice, as_of=today + timedelta(days=1))
    assert tomorrow.account_count == 1  # the 4.00; the 8.00 is already waiting


def test_balances_under_the_auto_approve_amount_post_at_once(practice, today):
    practice.small_balance_auto_approve_under = Decimal("5.00")
    practice.save()
    tiny, at_floor, waits = small(practice, "4.99"), small(practice, "5.00"), small(practice, "8.00")
    run = run_for(practice, today)
    assert (run.auto_approved_count, run.auto_approved_total) == (1, Decimal("4.99"))
    assert (run.account_count, run.total) == (2, Decimal("13.00"))
    auto = WriteOffRequest.objects.get(account=tiny)
    assert auto.status == Status.POSTED and auto.decided_by is None
    assert WriteOffHistory.objects.filter(
        request=auto, to_status="approved", note__startswith="Auto-approved by practice policy"
    ).exists()
    tiny.refresh_from_db()
    assert tiny.patient_balance == 0
    assert WriteOffRequest.objects.get(account=at_floor).status == Status.PROPOSED
    assert WriteOffRequest.objects.get(account=waits).status == Status.PROPOSED
    assert_ledger_clean()


def test_a_run_with_only_auto_approved_balances_waits_for_nobody(practice, today, manager):
    practice.small_balance_auto_approve_under = Decimal("5.00")
    practice.save()
    small(practice, "1.00")
    run = run_for(practice, today)
    assert run.status == "posted" and run.account_count == 0
    assert selectors.small_balance_runs_waiting(manager).count() == 0


def test_discarding_a_run_needs_a_reason_and_posts_nothing(practice, today, manager, medium):
    small(practice, "8.00")
    run = run_for(practice, today)
    with pytest.raises(PermissionDenied):
        services.small_balance_run_discard(acting_user=medium, run_id=run.pk, reason="No")
    with pytest.raises(ApplicationError):
        services.small_balance_run_discard(acting_user=manager, run_id=run.pk, reason="")
    discarded = services.small_balance_run_discard(acting_user=manager, run_id=run.pk, reason="Audit in progress")
    assert discarded.status == "discarded"
    assert set(run.requests.values_list("status", "denial_reason")) == {("denied", "Audit in progress")}
    assert not Transaction.objects.filter(kind=Transaction.Kind.WRITE_OFF).exists()


def test_a_rep_cannot_confirm_a_run(practice, today, medium):
    small(practice, "8.00")
    run = run_for(practice, today)
    with pytest.raises(PermissionDenied):
        services.small_balance_run_approve(acting_user=medium, run_id=run.pk)


def test_run_nightly_runs_the_job_by_name(practice, today, capsys):
    account = small(practice, "8.00")
    refresh_aging({practice.pk: today})
    call_command("run_nightly", "--job", "small_balance_writeoffs", "--date", today.isoformat())
    out = capsys.readouterr().out
    assert "small_balance_writeoffs: ran" in out and "proposed=1" in out
    assert WriteOffRequest.objects.filter(account=account, status=Status.PROPOSED).count() == 1
    call_command("run_nightly", "--job", "small_balance_writeoffs", "--date", today.isoformat())
    assert "skipped" in capsys.readouterr().out
    assert WriteOffRequest.objects.count() == 1
