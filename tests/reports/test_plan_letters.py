"""The nightly plan letters: the agreement of a plan set up on the date, the lapse notice and the
reminder letter the correspondence jobs logged, each produced once as a statement with its PDF."""

from datetime import timedelta

import pytest

from accounts.selectors import practice_today
from collections_app.correspondence.jobs import plan_lapse_notices, plan_reminders
from core.models import AuditEvent
from core.nightly import JobContext, registered_jobs
from payment_plans import services as plans
from payment_plans.jobs import plan_lapse_default
from payment_plans.models import PlanReminder
from reports.models import Statement
from reports.statements.plan_letters import plan_letters
from tests.reports.statements_support import temporary_statement_storage

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def storage(tmp_path, monkeypatch):
    return temporary_statement_storage(tmp_path, monkeypatch)


Kind = Statement.Kind
NOTHING = {"plan_agreement": 0, "plan_lapse": 0, "plan_reminder": 0}


def context_for(practice, as_of) -> JobContext:
    return JobContext(as_of=as_of, practice_dates={practice.pk: as_of})


@pytest.fixture
def active_plan(account, medium):
    """$200 over 4 monthly installments of $50, starting today, active."""
    return plans.plan_create(acting_user=medium, account_id=account.pk, installment_count=4, activate=True)


def test_runs_after_the_correspondence_jobs():
    names = [job.name for job in registered_jobs()]
    assert names.index("plan_lapse_notices") < names.index("plan_reminders") < names.index("plan_letters")


def test_a_plan_set_up_on_the_date_gets_its_agreement_once(practice, account, active_plan):
    today = practice_today(practice)
    assert plan_letters(context_for(practice, today)) == {**NOTHING, "plan_agreement": 1}
    agreement = Statement.objects.get(kind=Kind.PLAN_AGREEMENT)
    assert (agreement.account, agreement.statement_date, agreement.mailed_on) == (account, today, today)
    assert list(agreement.covers.all()) == [account]
    assert agreement.document and agreement.page_count >= 1
    assert agreement.content["plan"]["installment_count"] == 4
    assert agreement.content["account_number"] == account.account_number
    audit = AuditEvent.objects.get(object_type="reports.statement", object_id=str(agreement.pk))
    assert audit.detail["job"] == "plan_letters" and audit.action == AuditEvent.Action.CREATE
    # Again for the same date: nothing new. The next day: nothing either (the plan was set up today).
    assert plan_letters(context_for(practice, today)) == NOTHING
    assert plan_letters(context_for(practice, today + timedelta(days=1))) == NOTHING
    assert Statement.objects.count() == 1


def test_a_lapse_notice_logged_tonight_is_produced(practice, account, active_plan):
    first_due = active_plan.installments.order_by("due_on").first().due_on
    day = first_due + timedelta(days=practice.plan_grace_days + 1)
    context = context_for(practice, day)
    plan_lapse_default(context)
    assert plan_lapse_notices(context) == {"lapse_notices": 1}
    assert plan_letters(context)["plan_lapse"] == 1
    notice = Statement.objects.get(kind=Kind.PLAN_LAPSE)
    assert (notice.account, notice.statement_date) == (account, day)
    assert notice.document and notice.content["plan"]["status"] == "lapsed"
    assert str(notice.amount_due) == notice.content["plan"]["amount_due"]
    assert plan_letters(context) == NOTHING
    assert Statement.objects.filter(kind=Kind.PLAN_LAPSE).count() == 1


def test_a_reminder_letter_is_produced_but_a_text_is_not(practice, account, active_plan):
    second = active_plan.installments.order_by("due_on")[1]
    day = second.due_on - timedelta(days=practice.plan_reminder_days_before - 1)
    context = context_for(practice, day)
    assert plan_reminders(context) == {"text": 0, "letter": 1}
    assert plan_letters(context)["plan_reminder"] == 1
    reminder = Statement.objects.get(kind=Kind.PLAN_REMINDER)
    assert reminder.document and reminder.statement_date == day
    assert reminder.content["plan"]["next_due_on"] == second.due_on.isoformat()
    assert str(reminder.amount_due) == reminder.content["plan"]["amount_due"]
    assert plan_letters(context) == NOTHING


def test_no_letter_where_the_patient_may_no_longer_be_mailed(practice, account, active_plan):
    second = active_plan.installments.order_by("due_on")[1]
    day = second.due_on - timedelta(days=practice.plan_reminder_days_before - 1)
    context = context_for(practice, day)
    plan_reminders(context)
    assert PlanReminder.objects.filter(channel="letter").count() == 1
    # The address went bad after the reminder was logged, before the letter was produced.
    account.patient.address_is_bad = True
    account.patient.save(update_fields=["address_is_bad"])
    assert plan_letters(context) == NOTHING
    assert not Statement.objects.exists()
