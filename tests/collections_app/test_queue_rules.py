"""Queue rules: each reason opens its work item and clears it when the cause goes away, on the
whole-book (set-based) path and the one-account path; the refresh is idempotent; entries are scored."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from accounts.models import AccountAgingState, Appointment, Claim, PatientAccount
from accounts.selectors import practice_today
from collections_app.correspondence.business_days import add_business_days
from collections_app.models import (
    AccountHold,
    BillingInquiry,
    Contact,
    PromiseToPay,
    QueueEntry,
    ReturnedMail,
    WorkItem,
)
from collections_app.queues.jobs import queue_refresh_job
from collections_app.queues.services import queue_refresh, queue_refresh_account
from core.nightly import JobContext
from payment_plans.models import PaymentPlan
from tests.factories import AppointmentFactory, EncounterFactory, PatientAccountFactory

Reason = WorkItem.Reason
PATHS = ["book", "account"]


@pytest.fixture
def today(practice):
    return practice_today(practice)


def refresh(path, account):
    if path == "book":
        return queue_refresh(as_of_by_practice={account.practice_id: practice_today(account.practice)})
    return queue_refresh_account(account_id=account.pk)


def make_account(practice, *, balance="200.00", **fields):
    return PatientAccountFactory(practice=practice, patient_balance=Decimal(balance), **fields)


def set_aging(account, *, days_old, past_due=None):
    today = practice_today(account.practice)
    if past_due is None:
        past_due = days_old > account.practice.statement_grace_days
    AccountAgingState.objects.update_or_create(
        account=account,
        defaults={
            "practice": account.practice,
            "patient_open": account.patient_balance,
            "oldest_open_service_on": today - timedelta(days=days_old),
            "is_past_due": past_due,
        },
    )


def open_reasons(account) -> set[str]:
    return set(WorkItem.objects.filter(account=account, cleared_at__isnull=True).values_list("reason", flat=True))


def assert_cleared(account, reason):
    assert reason not in open_reasons(account)
    item = WorkItem.objects.filter(account=account, reason=reason).latest("opened_at")
    assert item.cleared_at is not None
    assert item.cleared_because


# --- One test per reason: opens, then clears ---------------------------------------------------


@pytest.mark.parametrize("path", PATHS)
def test_past_due_balance_opens_and_clears_when_paid(practice, path):
    account = make_account(practice)
    set_aging(account, days_old=60)
    refresh(path, account)
    assert Reason.PAST_DUE in open_reasons(account)
    PatientAccount.objects.filter(pk=account.pk).update(patient_balance=0)
    refresh(path, account)
    assert_cleared(account, Reason.PAST_DUE)


@pytest.mark.parametrize("path", PATHS)
def test_follow_up_date_due_opens_and_clears_when_moved(practice, today, path):
    account = make_account(practice, follow_up_on=today)
    refresh(path, account)
    assert Reason.FOLLOW_UP_DUE in open_reasons(account)
    PatientAccount.objects.filter(pk=account.pk).update(follow_up_on=today + timedelta(days=7))
    refresh(path, account)
    assert_cleared(account, Reason.FOLLOW_UP_DUE)


@pytest.mark.parametrize("path", PATHS)
def test_broken_promise_opens_and_clears_with_a_newer_promise(practice, today, path):
    account = make_account(practice)
    earlier = timezone.now() - timedelta(days=10)
    PromiseToPay.objects.create(
        account=account,
        practice=practice,
        amount=Decimal("50.00"),
        promised_on=today - timedelta(days=10),
        due_on=today - timedelta(days=3),
        status=PromiseToPay.Status.BROKEN,
        created_at=earlier,
    )
    refresh(path, account)
    assert Reason.PROMISE_BROKEN in open_reasons(account)
    PromiseToPay.objects.create(
        account=account, practice=practice, amount=Decimal("50.00"), promised_on=today, due_on=today + timedelta(7)
    )
    refresh(path, account)
    assert_cleared(account, Reason.PROMISE_BROKEN)


@pytest.mark.parametrize("path", PATHS)
def test_lapsed_payment_plan_opens_and_clears_when_caught_up(practice, today, path):
    account = make_account(practice)
    plan = PaymentPlan.objects.create(
        account=account,
        practice=practice,
        status="lapsed",
        total_amount=Decimal("200.00"),
        start_on=today - timedelta(days=60),
        installment_count=4,
        installment_amount=Decimal("50.00"),
        created_on=today - timedelta(days=60),
    )
    refresh(path, account)
    assert Reason.PLAN_LAPSED in open_reasons(account)
    PaymentPlan.objects.filter(pk=plan.pk).update(status="active")
    refresh(path, account)
    assert_cleared(account, Reason.PLAN_LAPSED)


@pytest.mark.parametrize("path", PATHS)
def test_returned_mail_opens_and_clears_when_resolved(practice, today, path):
    account = make_account(practice)
    mail = ReturnedMail.objects.create(
        account=account, practice=practice, patient=account.patient, received_on=today, reason="moved"
    )
    refresh(path, account)
    assert Reason.RETURNED_MAIL in open_reasons(account)
    ReturnedMail.objects.filter(pk=mail.pk).update(resolved_at=timezone.now(), resolution="address_corrected")
    refresh(path, account)
    assert_cleared(account, Reason.RETURNED_MAIL)


@pytest.mark.parametrize("path", PATHS)
def test_inquiry_due_within_two_business_days_opens_and_clears_when_answered(practice, today, path):
    account = make_account(practice)
    inquiry = BillingInquiry.objects.create(
        account=account,
        practice=practice,
        channel="phone",
        question="Why was I billed?",
        received_on=today - timedelta(days=12),
        response_due_on=add_business_days(today, 2),
    )
    refresh(path, account)
    assert Reason.INQUIRY_DUE in open_reasons(account)
    BillingInquiry.objects.filter(pk=inquiry.pk).update(responded_on=today, response="Explained.")
    refresh(path, account)
    assert_cleared(account, Reason.INQUIRY_DUE)


def test_inquiry_due_later_is_not_queued_yet(practice, today):
    account = make_account(practice)
    BillingInquiry.objects.create(
        account=account,
        practice=practice,
        channel="letter",
        question="?",
        received_on=today,
        response_due_on=add_business_days(today, 3),
    )
    refresh("book", account)
    assert Reason.INQUIRY_DUE not in open_reasons(account)


@pytest.mark.parametrize("path", PATHS)
def test_upcoming_appointment_with_past_due_balance_opens_and_clears_when_cancelled(practice, path):
    account = make_account(practice)
    set_aging(account, days_old=60)
    appointment = AppointmentFactory(patient=account.patient, starts_at=timezone.now() + timedelta(days=3))
    refresh(path, account)
    assert Reason.APPOINTMENT_PAST_DUE in open_reasons(account)
    Appointment.objects.filter(pk=appointment.pk).update(status=Appointment.Status.CANCELLED)
    refresh(path, account)
    assert_cleared(account, Reason.APPOINTMENT_PAST_DUE)


def test_appointment_beyond_the_alert_window_is_not_queued(practice):
    account = make_account(practice)
    set_aging(account, days_old=60)
    AppointmentFactory(patient=account.patient, starts_at=timezone.now() + timedelta(days=20))
    refresh("book", account)
    assert Reason.APPOINTMENT_PAST_DUE not in open_reasons(account)


def place_hold(account, **fields):
    PatientAccount.objects.filter(pk=account.pk).update(status=PatientAccount.Status.HOLD, hold_reason="lop")
    defaults = {"kind": AccountHold.Kind.LOP, "placed_on": practice_today(account.practice)}
    return AccountHold.objects.create(account=account, practice=account.practice, **{**defaults, **fields})


@pytest.mark.parametrize("path", PATHS)
def test_hold_review_due_opens_and_clears_when_reviewed(practice, today, path):
    account = make_account(practice)
    hold = place_hold(account, review_on=today)
    refresh(path, account)
    assert Reason.HOLD_REVIEW in open_reasons(account)
    AccountHold.objects.filter(pk=hold.pk).update(review_on=today + timedelta(days=90))
    refresh(path, account)
    assert_cleared(account, Reason.HOLD_REVIEW)


@pytest.mark.parametrize("path", PATHS)
def test_probate_claim_deadline_within_14_days_opens_and_clears_when_claim_filed(practice, today, path):
    account = make_account(practice)
    hold = place_hold(account, kind=AccountHold.Kind.PROBATE, claim_deadline_on=today + timedelta(days=10))
    refresh(path, account)
    assert Reason.HOLD_REVIEW in open_reasons(account)
    AccountHold.objects.filter(pk=hold.pk).update(claim_filed_on=today)
    refresh(path, account)
    assert_cleared(account, Reason.HOLD_REVIEW)


@pytest.mark.parametrize("path", PATHS)
def test_final_notice_due_opens_and_clears_when_final_notice_sent(practice, path):
    account = make_account(practice)
    set_aging(account, days_old=practice.final_notice_after_days + 5)
    refresh(path, account)
    assert Reason.FINAL_NOTICE in open_reasons(account)
    Contact.objects.create(
        account=account, practice=practice, channel="letter", party="patient", outcome="final_notice_sent"
    )
    refresh(path, account)
    assert_cleared(account, Reason.FINAL_NOTICE)


def test_final_notice_skips_cease_communication_accounts(practice, today):
    account = make_account(practice, cease_communication_on=today)
    set_aging(account, days_old=practice.final_notice_after_days + 5)
    refresh("book", account)
    assert Reason.FINAL_NOTICE not in open_reasons(account)
    assert Reason.PAST_DUE in open_reasons(account)


@pytest.mark.parametrize("path", PATHS)
def test_new_balance_early_follow_up_opens_and_clears_after_a_contact(practice, path):
    account = make_account(practice)
    set_aging(account, days_old=practice.early_followup_after_days + 2)
    refresh(path, account)
    assert Reason.EARLY_FOLLOW_UP in open_reasons(account)
    Contact.objects.create(account=account, practice=practice, channel="outbound_call", party="patient", outcome="paid")
    refresh(path, account)
    assert_cleared(account, Reason.EARLY_FOLLOW_UP)


def test_early_follow_up_is_off_when_the_practice_sets_zero_days(practice):
    practice.early_followup_after_days = 0
    practice.save()
    account = make_account(practice)
    set_aging(account, days_old=25)
    refresh("book", account)
    assert Reason.EARLY_FOLLOW_UP not in open_reasons(account)


@pytest.mark.parametrize("path", PATHS)
def test_unpaid_insurance_claim_opens_and_clears_when_paid(practice, today, path):
    account = make_account(practice, balance="0.00")
    encounter = EncounterFactory(account=account)
    claim = Claim.objects.create(
        encounter=encounter,
        account=account,
        payer_name="Aetna",
        billed_amount=Decimal("150.00"),
        submitted_on=today - timedelta(days=practice.claim_followup_days + 1),
    )
    refresh(path, account)
    assert Reason.CLAIM_FOLLOW_UP in open_reasons(account)
    Claim.objects.filter(pk=claim.pk).update(status=Claim.Status.PAID, paid_amount=Decimal("150.00"))
    refresh(path, account)
    assert_cleared(account, Reason.CLAIM_FOLLOW_UP)


def test_denied_claim_is_queued_whatever_its_age(practice, today):
    account = make_account(practice, balance="0.00")
    Claim.objects.create(
        encounter=EncounterFactory(account=account),
        account=account,
        payer_name="Aetna",
        billed_amount=Decimal("150.00"),
        submitted_on=today - timedelta(days=3),
        status=Claim.Status.DENIED,
    )
    refresh("book", account)
    assert open_reasons(account) == {Reason.CLAIM_FOLLOW_UP}


# --- Who gets what -----------------------------------------------------------------------------


def test_account_on_hold_gets_hold_review_but_no_dunning(practice, today):
    account = make_account(practice, follow_up_on=today)
    set_aging(account, days_old=practice.final_notice_after_days + 5)
    place_hold(account, review_on=today)
    refresh("book", account)
    assert open_reasons(account) == {Reason.HOLD_REVIEW, Reason.FOLLOW_UP_DUE}


def test_placing_a_hold_clears_open_dunning_items(practice, today):
    account = make_account(practice)
    set_aging(account, days_old=practice.final_notice_after_days + 5)
    refresh("account", account)
    assert {Reason.PAST_DUE, Reason.FINAL_NOTICE} <= open_reasons(account)
    place_hold(account, review_on=today + timedelta(days=30))
    refresh("account", account)
    assert open_reasons(account) == set()
    assert not QueueEntry.objects.filter(account=account).exists()


@pytest.mark.parametrize("status", [PatientAccount.Status.CLOSED, PatientAccount.Status.AGENCY])
def test_closed_and_agency_accounts_get_only_claim_follow_up(practice, today, status):
    account = make_account(practice, status=status, follow_up_on=today)
    set_aging(account, days_old=200)
    ReturnedMail.objects.create(
        account=account, practice=practice, patient=account.patient, received_on=today, reason="moved"
    )
    Claim.objects.create(
        encounter=EncounterFactory(account=account),
        account=account,
        payer_name="Aetna",
        billed_amount=Decimal("150.00"),
        submitted_on=today,
        status=Claim.Status.DENIED,
    )
    refresh("book", account)
    assert open_reasons(account) == {Reason.CLAIM_FOLLOW_UP}


def test_refresh_leaves_other_practices_alone(practice, other_practice, today):
    ours = make_account(practice, follow_up_on=today)
    theirs = make_account(other_practice, follow_up_on=today)
    queue_refresh(as_of_by_practice={practice.pk: today})
    assert open_reasons(ours) == {Reason.FOLLOW_UP_DUE}
    assert open_reasons(theirs) == set()


# --- Idempotency, the nightly job, entries ------------------------------------------------------


def test_second_refresh_opens_and_clears_nothing(practice, today):
    account = make_account(practice, follow_up_on=today)
    set_aging(account, days_old=practice.final_notice_after_days + 5)
    first = queue_refresh(as_of_by_practice={practice.pk: today})
    assert first["opened"] == 3
    second = queue_refresh(as_of_by_practice={practice.pk: today})
    assert (second["opened"], second["cleared"], second["entries_removed"]) == (0, 0, 0)
    assert WorkItem.objects.count() == 3


def test_nightly_job_uses_each_practices_date(practice, other_practice, today):
    ours = make_account(practice, follow_up_on=today)
    theirs = make_account(other_practice, follow_up_on=today)
    counts = queue_refresh_job(JobContext(as_of=today, practice_dates={practice.pk: today, other_practice.pk: today}))
    assert counts["opened"] == 2
    assert WorkItem.objects.get(account=ours).opened_on == today
    assert open_reasons(theirs) == {Reason.FOLLOW_UP_DUE}
    again = queue_refresh_job(JobContext(as_of=today, practice_dates={practice.pk: today, other_practice.pk: today}))
    assert (again["opened"], again["cleared"]) == (0, 0)


def test_queue_entry_carries_score_reasons_and_assigned_rep(practice, today, medium):
    account = make_account(practice, follow_up_on=today, assigned_rep=medium)
    set_aging(account, days_old=60)
    refresh("book", account)
    entry = QueueEntry.objects.get(account=account)
    assert entry.top_reason == Reason.FOLLOW_UP_DUE
    assert entry.reasons == [Reason.FOLLOW_UP_DUE, Reason.PAST_DUE, Reason.EARLY_FOLLOW_UP]
    assert entry.assigned_rep == medium
    assert entry.practice == practice
    assert entry.oldest_item_on == today
    assert entry.score > 0


def test_refresh_keeps_a_live_claim_and_removes_entries_without_work(practice, today, medium):
    account = make_account(practice, follow_up_on=today)
    refresh("book", account)
    expires = timezone.now() + timedelta(minutes=30)
    QueueEntry.objects.filter(account=account).update(claimed_by=medium, claim_expires_at=expires)
    set_aging(account, days_old=60)
    refresh("book", account)
    entry = QueueEntry.objects.get(account=account)
    assert (entry.claimed_by, entry.claim_expires_at, entry.top_reason) == (medium, expires, Reason.FOLLOW_UP_DUE)
    assert entry.reasons == [Reason.FOLLOW_UP_DUE, Reason.PAST_DUE, Reason.EARLY_FOLLOW_UP]
    PatientAccount.objects.filter(pk=account.pk).update(follow_up_on=None, patient_balance=0)
    refresh("book", account)
    assert not QueueEntry.objects.filter(account=account).exists()


def scores(practice) -> dict[int, Decimal]:
    queue_refresh(as_of_by_practice={practice.pk: practice_today(practice)})
    return dict(QueueEntry.objects.values_list("account_id", "score"))


def test_score_ranks_a_broken_promise_above_a_plain_past_due_balance(practice, today):
    promise = make_account(practice, balance="100.00")
    PromiseToPay.objects.create(
        account=promise,
        practice=practice,
        amount=Decimal("50.00"),
        promised_on=today,
        due_on=today,
        status=PromiseToPay.Status.BROKEN,
    )
    past_due = make_account(practice, balance="100.00")
    set_aging(past_due, days_old=60)
    found = scores(practice)
    assert found[promise.pk] > found[past_due.pk]


def test_score_ranks_larger_and_older_balances_first(practice):
    small, large, older = (make_account(practice, balance=b) for b in ("100.00", "2000.00", "100.00"))
    set_aging(small, days_old=40)
    set_aging(large, days_old=40)
    set_aging(older, days_old=80)
    found = scores(practice)
    assert found[large.pk] > found[small.pk]
    assert found[older.pk] > found[small.pk]


def test_balance_factor_is_capped(practice):
    huge, capped = make_account(practice, balance="90000.00"), make_account(practice, balance="2500.00")
    set_aging(huge, days_old=40)
    set_aging(capped, days_old=40)
    found = scores(practice)
    assert found[huge.pk] == found[capped.pk]


@pytest.mark.django_db
def test_the_age_factor_moves_in_whole_weeks_and_stops_at_26():
    """A score changes once a week, not every night, so the nightly refresh rewrites few entries."""
    from django.db import connection

    from collections_app.queues.services import score_sql

    def score(days: int) -> Decimal:
        expression = score_sql(top_weight="25", item_count="1", balance="0", age_days=str(days))
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT {expression}")
            return Decimal(str(cursor.fetchone()[0])).quantize(Decimal("0.01"))

    assert score(0) == score(6) == Decimal("25.00")
    assert score(7) == score(13) > score(6)
    assert score(182) == score(400) == Decimal("40.00")
    assert score(-3) == score(0)
