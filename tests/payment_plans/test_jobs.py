"""Nightly plan jobs: lapse and default detection, reminders; both idempotent."""

from datetime import timedelta

import pytest

from accounts.models import PatientAccount
from collections_app.correspondence.jobs import plan_lapse_notices, plan_reminders
from collections_app.models import Contact, ContactConsent
from core.models import AuditEvent
from core.nightly import registered_jobs
from payment_plans.jobs import plan_lapse_default
from payment_plans.models import Installment, PaymentPlan, PlanReminder, PlanStatusChange
from tests.payment_plans.conftest import context_for, pay_and_apply

Status = PaymentPlan.Status


def _snapshot():
    return {
        "plans": list(PaymentPlan.objects.order_by("pk").values_list("pk", "status", "status_changed_at")),
        "installments": list(Installment.objects.order_by("pk").values_list("pk", "paid_amount", "superseded_at")),
        "changes": PlanStatusChange.objects.count(),
        "reminders": list(PlanReminder.objects.order_by("pk").values_list("installment_id", "channel", "sent_on")),
        "contacts": Contact.objects.count(),
        "audit": AuditEvent.objects.count(),
        "accounts": list(PatientAccount.objects.order_by("pk").values_list("pk", "status", "version")),
    }


# A plan's reminder window by default (the practice's plan_reminder_days_before).
REMINDER_DAYS_BEFORE = 5


def lapse_and_notify(context):
    """The lapse job, then the lapse notice job that follows it in the nightly run."""
    return {**plan_lapse_default(context), **plan_lapse_notices(context)}


def _first_due(plan):
    return plan.installments.order_by("due_on").first().due_on


def test_jobs_are_registered_in_order():
    names = [job.name for job in registered_jobs()]
    assert names.index("plan_lapse_default") < names.index("plan_lapse_notices") < names.index("plan_reminders")


def test_an_installment_unpaid_past_the_grace_days_lapses_the_plan_once(practice, account, active_plan):
    grace = practice.plan_grace_days
    on_last_grace_day = _first_due(active_plan) + timedelta(days=grace)
    assert lapse_and_notify(context_for(practice, on_last_grace_day))["lapsed"] == 0
    counts = lapse_and_notify(context_for(practice, on_last_grace_day + timedelta(days=1)))
    assert counts == {"lapsed": 1, "defaulted": 0, "lapse_notices": 1, "caught_up": 0}
    active_plan.refresh_from_db()
    account.refresh_from_db()
    assert active_plan.status == Status.LAPSED
    assert account.status == PatientAccount.Status.PAYMENT_PLAN
    change = active_plan.status_changes.last()
    assert (change.from_status, change.reason, change.changed_by) == (Status.ACTIVE, "installment_missed", None)
    notice = Contact.objects.get(account=account)
    assert (notice.channel, notice.outcome) == (Contact.Channel.LETTER, Contact.Outcome.LETTER_SENT)

    before = _snapshot()
    assert lapse_and_notify(context_for(practice, on_last_grace_day + timedelta(days=1))) == {
        "lapsed": 0,
        "defaulted": 0,
        "lapse_notices": 0,
        "caught_up": 0,
    }
    assert _snapshot() == before


def test_missed_count_reached_defaults_the_plan_and_the_account_returns_to_the_cadence(practice, account, active_plan):
    second_due = active_plan.installments.order_by("due_on")[1].due_on
    day = second_due + timedelta(days=practice.plan_grace_days + 1)
    counts = lapse_and_notify(context_for(practice, day))
    assert counts["defaulted"] == 1 and counts["lapsed"] == 0
    active_plan.refresh_from_db()
    account.refresh_from_db()
    assert active_plan.status == Status.DEFAULTED
    assert account.status == PatientAccount.Status.ACTIVE
    before = _snapshot()
    lapse_and_notify(context_for(practice, day))
    assert _snapshot() == before


def test_a_lapsed_plan_defaults_when_the_next_installment_is_missed_too(practice, account, active_plan):
    rows = list(active_plan.installments.order_by("due_on"))
    lapse_and_notify(context_for(practice, rows[0].due_on + timedelta(days=practice.plan_grace_days + 1)))
    lapse_and_notify(context_for(practice, rows[1].due_on + timedelta(days=practice.plan_grace_days + 1)))
    active_plan.refresh_from_db()
    assert list(active_plan.status_changes.values_list("to_status", flat=True))[-2:] == [
        Status.LAPSED,
        Status.DEFAULTED,
    ]


def test_a_paid_installment_never_lapses_the_plan(practice, account, active_plan):
    pay_and_apply(account, "50.00")
    lapse_and_notify(context_for(practice, _first_due(active_plan) + timedelta(days=practice.plan_grace_days + 5)))
    active_plan.refresh_from_db()
    assert active_plan.status == Status.ACTIVE


def test_a_lapsed_plan_paid_up_is_caught_up_by_the_job_too(practice, account, active_plan):
    day = _first_due(active_plan) + timedelta(days=practice.plan_grace_days + 1)
    lapse_and_notify(context_for(practice, day))
    Installment.objects.filter(plan=active_plan, number=1).update(paid_amount=50, paid_on=day)
    assert lapse_and_notify(context_for(practice, day))["caught_up"] == 1
    active_plan.refresh_from_db()
    assert active_plan.status == Status.ACTIVE
    assert active_plan.status_changes.last().reason == "caught_up"


def test_no_lapse_notice_to_a_bad_address(practice, account, active_plan):
    account.patient.address_is_bad = True
    account.patient.save()
    counts = lapse_and_notify(context_for(practice, _first_due(active_plan) + timedelta(days=16)))
    assert (counts["lapsed"], counts["lapse_notices"]) == (1, 0)


def test_no_lapse_notice_to_a_cease_communication_account(practice, account, active_plan, today):
    PatientAccount.objects.filter(pk=account.pk).update(cease_communication_on=today)
    counts = lapse_and_notify(context_for(practice, _first_due(active_plan) + timedelta(days=16)))
    assert (counts["lapsed"], counts["lapse_notices"]) == (1, 0)
    assert not Contact.objects.exists()


# --- Reminders ---------------------------------------------------------------------------------


def _second(plan):
    return plan.installments.order_by("due_on")[1]


def _reminder_day(plan):
    return _second(plan).due_on - timedelta(days=REMINDER_DAYS_BEFORE - 1)


def test_a_reminder_goes_out_once_per_installment_by_letter(practice, account, active_plan):
    day = _reminder_day(active_plan)
    assert plan_reminders(context_for(practice, day)) == {"text": 0, "letter": 1}
    reminder = PlanReminder.objects.get()
    assert (reminder.installment, reminder.channel, reminder.sent_on) == (_second(active_plan), "letter", day)
    before = _snapshot()
    assert plan_reminders(context_for(practice, day)) == {"text": 0, "letter": 0}
    assert plan_reminders(context_for(practice, day + timedelta(days=1))) == {"text": 0, "letter": 0}
    assert _snapshot() == before


def test_no_reminder_before_the_window_or_for_a_paid_installment(practice, account, active_plan):
    too_early = _second(active_plan).due_on - timedelta(days=REMINDER_DAYS_BEFORE + 1)
    assert plan_reminders(context_for(practice, too_early)) == {"text": 0, "letter": 0}
    pay_and_apply(account, "100.00")
    assert plan_reminders(context_for(practice, _reminder_day(active_plan))) == {"text": 0, "letter": 0}


def test_a_patient_who_consented_to_texts_gets_a_text(practice, account, active_plan, today):
    ContactConsent.objects.create(account=account, practice=practice, channel="text", granted_on=today)
    assert plan_reminders(context_for(practice, _reminder_day(active_plan))) == {"text": 1, "letter": 0}


def test_revoked_text_consent_falls_back_to_a_letter(practice, account, active_plan, today):
    ContactConsent.objects.create(
        account=account, practice=practice, channel="text", granted_on=today, revoked_on=today
    )
    assert plan_reminders(context_for(practice, _reminder_day(active_plan))) == {"text": 0, "letter": 1}


@pytest.mark.parametrize(
    "change",
    [
        {"cease_communication_on": "today"},
        {"attorney_represented": True},
    ],
)
def test_no_reminder_to_accounts_that_may_not_be_contacted(practice, account, active_plan, today, change):
    ContactConsent.objects.create(account=account, practice=practice, channel="text", granted_on=today)
    values = {key: today if value == "today" else value for key, value in change.items()}
    PatientAccount.objects.filter(pk=account.pk).update(**values)
    assert plan_reminders(context_for(practice, _reminder_day(active_plan))) == {"text": 0, "letter": 0}


def test_no_letter_to_a_bad_address_without_text_consent(practice, account, active_plan):
    account.patient.address_is_bad = True
    account.patient.save()
    assert plan_reminders(context_for(practice, _reminder_day(active_plan))) == {"text": 0, "letter": 0}


def test_run_nightly_runs_the_plan_jobs_for_a_date(practice, account, active_plan):
    from collections_app.nightly.runner import run_nightly

    day = _first_due(active_plan) + timedelta(days=practice.plan_grace_days + 1)
    run_nightly(as_of=day, job="plan_lapse_default")
    active_plan.refresh_from_db()
    assert active_plan.status == Status.LAPSED
