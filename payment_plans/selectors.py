"""Reads of payment plans, scoped by the access policy (core.access)."""

from datetime import datetime, time
from zoneinfo import ZoneInfo

from django.db.models import Case, QuerySet, Value, When

from accounts.models import PatientAccount, Transaction
from core.access import get_scoped_or_404, scope_to_user
from core.panels import TimelineEvent
from payment_plans.models import Installment, PaymentPlan, PlanReminder, PlanRevision, PlanStatusChange

Status = PaymentPlan.Status

# What each status change is called in the account's timeline.
TRANSITION_TITLES = {
    (Status.PROPOSED, Status.ACTIVE): "Payment plan activated",
    (Status.ACTIVE, Status.LAPSED): "Payment plan lapsed",
    (Status.LAPSED, Status.ACTIVE): "Payment plan caught up",
    (Status.ACTIVE, Status.DEFAULTED): "Payment plan defaulted",
    (Status.LAPSED, Status.DEFAULTED): "Payment plan defaulted",
}


def plan_get(*, user, plan_id) -> PaymentPlan:
    """One plan inside the user's practices, or 404."""
    return get_scoped_or_404(
        PaymentPlan.objects.select_related("account", "account__patient", "account__guarantor", "practice"),
        user,
        pk=plan_id,
    )


def plan_list_for_account(*, user, account: PatientAccount) -> QuerySet:
    return scope_to_user(PaymentPlan.objects.filter(account=account), user).order_by("-created_at", "-id")


def current_plan(account: PatientAccount) -> PaymentPlan | None:
    """The account's open plan, or else its most recent one."""
    open_first = Case(When(status__in=PaymentPlan.OPEN_STATUSES, then=Value(0)), default=Value(1))
    return PaymentPlan.objects.filter(account=account).order_by(open_first, "-created_at", "-id").first()


def plan_schedule(plan: PaymentPlan) -> list[Installment]:
    """The current schedule (superseded installments left out), in due order."""
    return list(plan.installments.filter(superseded_at__isnull=True).order_by("due_on", "number"))


def plan_all_installments(plan: PaymentPlan) -> list[Installment]:
    return list(plan.installments.order_by("revision", "number"))


def plan_payments(plan: PaymentPlan) -> list[Transaction]:
    """The patient payments applied to the plan (from its set-up date), with reversed ones marked."""
    return list(
        Transaction.objects.filter(
            account_id=plan.account_id, kind=Transaction.Kind.PATIENT_PAYMENT, effective_on__gte=plan.created_on
        )
        .select_related("reversed_by")
        .order_by("effective_on", "id")
    )


def plan_history(plan: PaymentPlan) -> list[PlanStatusChange]:
    return list(plan.status_changes.select_related("changed_by").order_by("changed_at", "id"))


def plan_revisions(plan: PaymentPlan) -> list[PlanRevision]:
    return list(plan.revisions.select_related("created_by").order_by("number"))


def _local_midnight(day, time_zone: str) -> datetime:
    return datetime.combine(day, time.min, tzinfo=ZoneInfo(time_zone))


def _status_title(change: PlanStatusChange) -> str:
    if not change.from_status:
        return "Payment plan set up"
    title = TRANSITION_TITLES.get((change.from_status, change.to_status))
    return title or f"Payment plan {Status(change.to_status).label.lower()}"


def timeline_events(account) -> list[TimelineEvent]:
    """The account's plan events: set-up, activation, lapse, catch-up, default, completion,
    cancellation, modifications and reminders (three queries)."""
    events = []
    for change in PlanStatusChange.objects.filter(plan__account=account).select_related("changed_by"):
        events.append(
            TimelineEvent(
                when=change.changed_at,
                kind="plan",
                title=_status_title(change),
                detail=change.get_reason_display(),
                actor=change.changed_by.get_username() if change.changed_by else "",
                extra={"plan_id": change.plan_id, "status": change.to_status},
            )
        )
    revisions = PlanRevision.objects.filter(plan__account=account, number__gt=1).select_related("created_by")
    for revision in revisions:
        events.append(
            TimelineEvent(
                when=revision.created_at,
                kind="plan",
                title="Payment plan modified",
                detail=(
                    f"{revision.installment_count} installments of ${revision.installment_amount:,} "
                    f"{revision.get_frequency_display().lower()}"
                ),
                actor=revision.created_by.get_username() if revision.created_by else "",
                extra={"plan_id": revision.plan_id, "revision": revision.number},
            )
        )
    time_zone = account.practice.time_zone
    reminders = PlanReminder.objects.filter(plan__account=account).select_related("installment")
    for reminder in reminders:
        events.append(
            TimelineEvent(
                when=_local_midnight(reminder.sent_on, time_zone),
                kind="plan",
                title=f"Plan reminder sent ({reminder.get_channel_display().lower()})",
                detail=f"Installment of ${reminder.installment.amount:,} due {reminder.installment.due_on:%m/%d/%Y}",
                extra={"plan_id": reminder.plan_id, "installment_id": reminder.installment_id},
            )
        )
    events.sort(key=lambda event: event.when)
    return events
