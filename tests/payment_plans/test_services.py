"""Plan set-up under the practice's policy, every transition, and payment application."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction

from accounts import services as ledger
from accounts.models import PatientAccount
from core.errors import ApplicationError
from core.models import AuditEvent
from payment_plans import services
from payment_plans.jobs import plan_lapse_default
from payment_plans.models import Installment, PaymentPlan, PlanRevision, PlanStatusChange
from tests.payment_plans.conftest import context_for, pay, pay_and_apply

Status = PaymentPlan.Status


def _schedule(plan):
    return list(plan.installments.filter(superseded_at__isnull=True).order_by("due_on", "number"))


def _create(account, user, **terms):
    return services.plan_create(acting_user=user, account_id=account.pk, **terms)


def _nightly_after(plan, practice, number: int) -> dict[str, int]:
    """The nightly lapse/default job on the first day the plan's `number`th installment (1 = the
    first) is unpaid past the grace days."""
    due_on = _schedule(plan)[number - 1].due_on
    return plan_lapse_default(context_for(practice, due_on + timedelta(days=practice.plan_grace_days + 1)))


def _cancel(plan, practice, user):
    services.plan_cancel(acting_user=user, plan_id=plan.pk)


def _default(plan, practice, user):
    # The practice's default: the second missed installment defaults the plan.
    assert _nightly_after(plan, practice, 2)["defaulted"] == 1


def _complete(plan, practice, user):
    pay(plan.account, "200.00", user=user)


# --- Set-up and policy -------------------------------------------------------------------------


def test_plan_defaults_to_the_patient_balance_and_starts_proposed(account, medium, today):
    plan = _create(account, medium, installment_count=4)
    assert plan.status == Status.PROPOSED
    assert plan.total_amount == Decimal("200.00")
    first = _schedule(plan)[0]
    assert (first.due_on, first.amount) == (today, Decimal("50.00"))
    assert sum(row.amount for row in _schedule(plan)) == Decimal("200.00")
    assert PlanRevision.objects.get(plan=plan).installment_count == 4
    change = PlanStatusChange.objects.get(plan=plan)
    assert (change.from_status, change.to_status, change.changed_by) == ("", Status.PROPOSED, medium)
    audit = AuditEvent.objects.get(object_type="payment_plans.paymentplan", action=AuditEvent.Action.CREATE)
    assert audit.user == medium and audit.detail["account_id"] == account.pk
    account.refresh_from_db()
    assert account.status == PatientAccount.Status.ACTIVE


def test_activating_puts_the_account_on_a_payment_plan(account, medium):
    plan = _create(account, medium, installment_count=4)
    services.plan_activate(acting_user=medium, plan_id=plan.pk)
    plan.refresh_from_db()
    account.refresh_from_db()
    assert plan.status == Status.ACTIVE
    assert account.status == PatientAccount.Status.PAYMENT_PLAN
    assert list(plan.status_changes.values_list("to_status", flat=True)) == [Status.PROPOSED, Status.ACTIVE]


def test_installment_amount_sets_the_number_of_installments(account, medium):
    plan = _create(account, medium, installment_amount="60.00")
    assert [row.amount for row in _schedule(plan)] == [Decimal("60.00")] * 3 + [Decimal("20.00")]


def test_down_payment_is_due_at_set_up_and_the_rest_is_split(account, medium, today):
    account.practice.plan_min_down_payment_percent = Decimal("10")
    account.practice.save()
    plan = _create(account, medium, down_payment="20.00", installment_count=3)
    rows = _schedule(plan)
    assert (rows[0].number, rows[0].amount, rows[0].due_on) == (0, Decimal("20.00"), today)
    assert sum(row.amount for row in rows[1:]) == Decimal("180.00")


@pytest.mark.parametrize(
    ("terms", "field", "message"),
    [
        ({"installment_count": 10}, "installment_count", "Each installment must be at least $25.00"),
        ({"installment_amount": "10.00"}, "installment_amount", "Each installment must be at least $25.00"),
        ({}, "installment_amount", "Enter an installment amount or a number of installments."),
        ({"installment_count": 2, "installment_amount": "100"}, "installment_count", "not both"),
        ({"installment_count": 2, "total": "250.00"}, "total", "cannot be more than the patient balance ($200.00)"),
        ({"installment_count": 2, "total": "0"}, "total", "must be more than zero"),
        ({"installment_count": 2, "down_payment": "200.00"}, "down_payment", "less than the plan total"),
        ({"installment_count": 2, "day_of_month": 32}, "day_of_month", "from 1 to 31"),
        ({"installment_count": 2, "frequency": "weekly"}, "frequency", "monthly or every two weeks"),
        ({"installment_count": 2, "autopay": True}, "autopay_token", "processor's token"),
        ({"installment_count": 2, "autopay": True, "autopay_token": "4111 1111 1111 1111"}, "autopay_token", "card"),
    ],
)
def test_policy_refusals_name_the_field_and_change_nothing(account, medium, terms, field, message):
    with pytest.raises(ApplicationError) as refused:
        _create(account, medium, **terms)
    assert refused.value.field == field
    assert message in refused.value.message
    assert not PaymentPlan.objects.exists()


def test_start_date_in_the_past_is_refused(account, medium, today):
    with pytest.raises(ApplicationError, match="cannot be due before today"):
        _create(account, medium, installment_count=2, start_on=today - timedelta(days=1))


def test_term_longer_than_the_practice_maximum_is_refused(account, medium):
    practice = account.practice
    practice.plan_max_months, practice.plan_min_installment = 3, Decimal("1.00")
    practice.save()
    with pytest.raises(ApplicationError, match="maximum of 3 months") as refused:
        _create(account, medium, installment_count=4)
    assert refused.value.field == "installment_count"
    assert _create(account, medium, installment_count=3).installment_count == 3


def test_minimum_installment_is_the_balance_over_the_maximum_term_when_larger(account, medium):
    practice = account.practice
    practice.plan_max_months = 4
    practice.save()
    with pytest.raises(ApplicationError, match=r"at least \$50\.00"):
        _create(account, medium, installment_count=6, frequency="biweekly")


def test_minimum_down_payment_percent_is_enforced(account, medium):
    account.practice.plan_min_down_payment_percent = Decimal("10")
    account.practice.save()
    with pytest.raises(ApplicationError) as refused:
        _create(account, medium, installment_count=2)
    assert refused.value.field == "down_payment"
    assert refused.value.message == "This practice requires a down payment of at least 10% of the total ($20.00)."


def test_one_open_plan_per_account(account, medium, active_plan):
    with pytest.raises(ApplicationError, match="already has an open payment plan"):
        _create(account, medium, installment_count=2)


def test_database_refuses_a_second_running_plan(account, medium, active_plan):
    with pytest.raises(IntegrityError), transaction.atomic():
        PaymentPlan.objects.create(
            account=account,
            practice=account.practice,
            status=Status.LAPSED,
            total_amount=Decimal("10"),
            start_on=active_plan.start_on,
            installment_count=1,
            installment_amount=Decimal("10"),
            created_on=active_plan.created_on,
        )


def test_database_refuses_a_zero_installment(active_plan):
    with pytest.raises(IntegrityError), transaction.atomic():
        Installment.objects.filter(plan=active_plan).update(amount=Decimal("0"))


def test_accounts_at_agency_get_no_plan(account, medium):
    PatientAccount.objects.filter(pk=account.pk).update(status=PatientAccount.Status.AGENCY)
    with pytest.raises(ApplicationError, match="at agency"):
        _create(account, medium, installment_count=2)


def test_an_account_on_hold_keeps_its_hold_when_the_plan_starts_and_ends(account, medium):
    PatientAccount.objects.filter(pk=account.pk).update(status=PatientAccount.Status.HOLD, hold_reason="dispute")
    plan = _create(account, medium, installment_count=4, activate=True)
    account.refresh_from_db()
    assert (plan.status, account.status) == (Status.ACTIVE, PatientAccount.Status.HOLD)
    services.plan_cancel(acting_user=medium, plan_id=plan.pk)
    account.refresh_from_db()
    assert account.status == PatientAccount.Status.HOLD


# --- Transitions -------------------------------------------------------------------------------


def test_cancelling_returns_the_account_to_active_and_records_who_and_why(account, medium, active_plan):
    services.plan_cancel(acting_user=medium, plan_id=active_plan.pk, note="Patient paid elsewhere")
    active_plan.refresh_from_db()
    account.refresh_from_db()
    assert active_plan.status == Status.CANCELLED
    assert account.status == PatientAccount.Status.ACTIVE
    change = active_plan.status_changes.last()
    assert (change.from_status, change.to_status, change.changed_by, change.note) == (
        Status.ACTIVE,
        Status.CANCELLED,
        medium,
        "Patient paid elsewhere",
    )
    audit = AuditEvent.objects.filter(action=AuditEvent.Action.UPDATE, object_id=str(active_plan.pk)).first()
    assert audit.detail["to"] == Status.CANCELLED and "Patient" not in str(audit.detail)


def test_a_transition_to_the_current_status_changes_nothing(medium, active_plan):
    services.plan_cancel(acting_user=medium, plan_id=active_plan.pk)
    changes = PlanStatusChange.objects.count()
    services.plan_cancel(acting_user=medium, plan_id=active_plan.pk)
    assert PlanStatusChange.objects.count() == changes


@pytest.mark.parametrize(
    ("ended_by", "then", "message"),
    [
        (_cancel, services.plan_activate, "A cancelled plan cannot become active"),
        (_default, services.plan_activate, "A defaulted plan cannot become active"),
        (_complete, services.plan_cancel, "A completed plan cannot become cancelled"),
        (_default, services.plan_cancel, "A defaulted plan cannot become cancelled"),
    ],
)
def test_ended_plans_refuse_further_moves(medium, practice, active_plan, ended_by, then, message):
    ended_by(active_plan, practice, medium)
    with pytest.raises(ApplicationError, match=message):
        then(acting_user=medium, plan_id=active_plan.pk)


def test_the_nightly_job_leaves_a_proposed_plan_alone(account, medium, practice):
    plan = _create(account, medium, installment_count=4)
    assert _nightly_after(plan, practice, 2) == {"lapsed": 0, "defaulted": 0, "caught_up": 0}
    plan.refresh_from_db()
    assert plan.status == Status.PROPOSED


def test_lapsed_and_defaulted_follow_the_account(account, practice, active_plan):
    assert _nightly_after(active_plan, practice, 1)["lapsed"] == 1
    account.refresh_from_db()
    assert account.status == PatientAccount.Status.PAYMENT_PLAN
    assert _nightly_after(active_plan, practice, 2)["defaulted"] == 1
    account.refresh_from_db()
    assert account.status == PatientAccount.Status.ACTIVE
    assert list(active_plan.status_changes.values_list("to_status", "reason")) == [
        (Status.PROPOSED, "created"),
        (Status.ACTIVE, "activated"),
        (Status.LAPSED, "installment_missed"),
        (Status.DEFAULTED, "missed_count_reached"),
    ]


# --- Payments ----------------------------------------------------------------------------------


def test_a_partial_payment_stays_on_the_oldest_installment(account, active_plan, today):
    pay_and_apply(account, "30.00")
    first, second, *_ = _schedule(active_plan)
    assert (first.paid_amount, first.paid_on, second.paid_amount) == (Decimal("30.00"), None, Decimal("0.00"))
    pay_and_apply(account, "40.00")
    first, second, *_ = _schedule(active_plan)
    assert (first.paid_amount, first.paid_on) == (Decimal("50.00"), today)
    assert (second.paid_amount, second.paid_on) == (Decimal("20.00"), None)


def test_an_overpayment_carries_to_the_next_installments(account, active_plan):
    pay_and_apply(account, "120.00")
    assert [row.paid_amount for row in _schedule(active_plan)] == [Decimal("50"), Decimal("50"), Decimal("20"), 0]


def test_applying_again_changes_nothing_and_a_reversal_is_taken_back(account, medium, active_plan):
    payment = pay_and_apply(account, "70.00")
    before = [(row.paid_amount, row.paid_on) for row in _schedule(active_plan)]
    services.plan_payment_received(account_id=account.pk)
    assert [(row.paid_amount, row.paid_on) for row in _schedule(active_plan)] == before
    ledger.transaction_reverse(acting_user=medium, transaction_id=payment.pk, reason="Check returned")
    services.plan_payment_received(account_id=account.pk)
    assert all(row.paid_amount == 0 for row in _schedule(active_plan))


def test_payments_before_the_plan_do_not_count(account, medium, today):
    pay(account, "10.00", on=today - timedelta(days=3))
    plan = _create(account, medium, total="190.00", installment_count=2, activate=True)
    assert all(row.paid_amount == 0 for row in _schedule(plan))


def test_paying_in_full_completes_the_plan_and_returns_the_account_to_active(account, active_plan):
    pay_and_apply(account, "200.00")
    active_plan.refresh_from_db()
    account.refresh_from_db()
    assert active_plan.status == Status.COMPLETED
    assert account.status == PatientAccount.Status.ACTIVE
    assert active_plan.status_changes.last().reason == "paid_in_full"


def test_paying_a_lapsed_plans_missed_installments_catches_it_up(account, practice, active_plan):
    assert _nightly_after(active_plan, practice, 1)["lapsed"] == 1
    pay_and_apply(account, "50.00")
    active_plan.refresh_from_db()
    assert active_plan.status == Status.ACTIVE
    assert active_plan.status_changes.last().reason == "caught_up"


def test_a_lapsed_plan_still_behind_stays_lapsed(account, practice, today, active_plan):
    # Two installments behind without defaulting: this practice defaults at the third.
    practice.plan_default_missed_count = 3
    practice.save()
    Installment.objects.filter(plan=active_plan, number=1).update(due_on=active_plan.start_on - timedelta(days=40))
    Installment.objects.filter(plan=active_plan, number=2).update(due_on=active_plan.start_on - timedelta(days=20))
    assert plan_lapse_default(context_for(practice, today))["lapsed"] == 1
    pay_and_apply(account, "50.00")
    active_plan.refresh_from_db()
    assert active_plan.status == Status.LAPSED


# --- Modification ------------------------------------------------------------------------------


def test_modifying_keeps_paid_installments_and_supersedes_the_rest(account, medium, active_plan):
    pay_and_apply(account, "60.00")
    services.plan_modify(acting_user=medium, plan_id=active_plan.pk, installment_count=2, reason="Hours cut")
    active_plan.refresh_from_db()
    current = _schedule(active_plan)
    assert active_plan.revision == 2
    assert [(row.revision, row.amount) for row in current] == [(1, 50), (2, 75), (2, 75)]
    assert [row.paid_amount for row in current] == [Decimal("50"), Decimal("10"), 0]
    assert sum(row.amount for row in current) == active_plan.total_amount
    superseded = Installment.objects.filter(plan=active_plan, superseded_at__isnull=False)
    assert superseded.count() == 3
    revision = PlanRevision.objects.get(plan=active_plan, number=2)
    assert (revision.financed_amount, revision.installment_count, revision.reason) == (Decimal("150"), 2, "Hours cut")
    audit = AuditEvent.objects.filter(action=AuditEvent.Action.UPDATE, object_id=str(active_plan.pk)).first()
    assert audit.detail["revision"] == 2 and "Hours" not in str(audit.detail)


def test_modifying_under_the_minimum_installment_is_refused_and_changes_nothing(medium, active_plan):
    with pytest.raises(ApplicationError, match="at least"):
        services.plan_modify(acting_user=medium, plan_id=active_plan.pk, installment_count=20)
    assert active_plan.installments.filter(superseded_at__isnull=False).count() == 0


def test_ended_plans_cannot_be_modified(medium, active_plan):
    services.plan_cancel(acting_user=medium, plan_id=active_plan.pk)
    with pytest.raises(ApplicationError, match="cancelled plan cannot be modified"):
        services.plan_modify(acting_user=medium, plan_id=active_plan.pk, installment_count=2)
