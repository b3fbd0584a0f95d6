"""Nightly payment plan jobs: lapse, default and catch-up detection.

Set-based: per practice (its own local "as of" date and policy) one query finds the plans, one
UPDATE moves them all. Idempotent: a plan already lapsed or defaulted is not selected again. The
letters and texts that follow (lapse notices, installment reminders) are the work of collecting:
collections_app.correspondence.jobs sends them under the one rule for contacting a patient.
"""

from datetime import timedelta

from django.db.models import Count, F, IntegerField, OuterRef, Subquery, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from accounts.models import PatientAccount, Practice
from core.access import FieldGroup
from core.audit import audit_job_changes
from core.nightly import JobContext, nightly_job
from payment_plans.models import Installment, PaymentPlan, PlanStatusChange

Status = PaymentPlan.Status


def practice_dates(context: JobContext) -> dict[int, object]:
    if context.practice_dates:
        return context.practice_dates
    return {pk: context.as_of for pk in Practice.objects.filter(is_active=True).values_list("pk", flat=True)}


def _missed_count(cutoff):
    missed = (
        Installment.objects.filter(
            plan=OuterRef("pk"), superseded_at__isnull=True, paid_on__isnull=True, due_on__lt=cutoff
        )
        .order_by()
        .values("plan")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return Coalesce(Subquery(missed, output_field=IntegerField()), Value(0))


def _move(
    rows: list[tuple[int, int, str]],
    *,
    target: str,
    reason: str,
    practice_id: int,
    as_of,
    now,
    job: str = "plan_lapse_default",
) -> list[int]:
    """Move plans (id, account id, status) to `target` in one UPDATE, with their history and audit rows.
    The UPDATE re-checks the status, so a plan changed since it was selected is left alone."""
    if not rows:
        return []
    sources = {status for _, _, status in rows}
    moved = PaymentPlan.objects.filter(pk__in=[pk for pk, _, _ in rows], status__in=sources).update(
        status=target, status_changed_at=now, updated_at=now
    )
    if moved != len(rows):  # pragma: no cover - a concurrent change; the next run picks the rest up
        still = set(
            PaymentPlan.objects.filter(pk__in=[pk for pk, _, _ in rows], status=target).values_list("pk", flat=True)
        )
        rows = [row for row in rows if row[0] in still]
    PlanStatusChange.objects.bulk_create(
        PlanStatusChange(
            plan_id=pk,
            practice_id=practice_id,
            from_status=status,
            to_status=target,
            reason=reason,
            as_of=as_of,
            changed_at=now,
        )
        for pk, _, status in rows
    )
    audit_job_changes(
        job=job,
        object_type="payment_plans.paymentplan",
        changes=(
            (pk, practice_id, {"account_id": account_id, "from": status, "to": target, "reason": reason})
            for pk, account_id, status in rows
        ),
        occurred_at=now,
        field_group=FieldGroup.BILLING,
    )
    return [account_id for _, account_id, _ in rows]


@nightly_job("plan_lapse_default", order=50, description="Payment plans lapsed or defaulted")
def plan_lapse_default(context: JobContext) -> dict[str, int]:
    """Active plans with an installment unpaid past the grace days lapse (the queue's "plan lapsed"
    rule picks them up; collections_app's plan_lapse_notices job mails the notice); plans whose
    missed installments reach the practice's default count are defaulted and the account returns
    to the normal cadence."""
    counts = {"lapsed": 0, "defaulted": 0, "caught_up": 0}
    dates = practice_dates(context)
    practices = Practice.objects.filter(pk__in=dates).only("pk", "plan_grace_days", "plan_default_missed_count")
    now = timezone.now()
    for done, practice in enumerate(practices, 1):
        as_of = dates[practice.pk]
        cutoff = as_of - timedelta(days=practice.plan_grace_days)
        running = PaymentPlan.objects.filter(practice=practice, status__in=PaymentPlan.RUNNING_STATUSES).annotate(
            missed=_missed_count(cutoff)
        )
        default_at = max(practice.plan_default_missed_count, 1)
        to_default = list(running.filter(missed__gte=default_at).values_list("pk", "account_id", "status"))
        accounts = _move(
            to_default,
            target=Status.DEFAULTED,
            reason=PlanStatusChange.Reason.MISSED_COUNT_REACHED,
            practice_id=practice.pk,
            as_of=as_of,
            now=now,
        )
        # Back to the normal dunning cadence (an account on hold keeps its hold).
        # Set-based, like the plan moves: one UPDATE, version and updated_at moved as account_lock does.
        PatientAccount.objects.filter(pk__in=accounts, status=PatientAccount.Status.PAYMENT_PLAN).update(
            status=PatientAccount.Status.ACTIVE, version=F("version") + 1, updated_at=now
        )
        counts["defaulted"] += len(accounts)

        to_lapse = list(
            running.filter(status=Status.ACTIVE, missed__gte=1, missed__lt=default_at).values_list(
                "pk", "account_id", "status"
            )
        )
        lapsed_accounts = _move(
            to_lapse,
            target=Status.LAPSED,
            reason=PlanStatusChange.Reason.INSTALLMENT_MISSED,
            practice_id=practice.pk,
            as_of=as_of,
            now=now,
        )
        counts["lapsed"] += len(lapsed_accounts)

        # A lapsed plan with nothing missed any more (paid, or rescheduled) is back in good standing.
        to_catch_up = list(running.filter(status=Status.LAPSED, missed=0).values_list("pk", "account_id", "status"))
        counts["caught_up"] += len(
            _move(
                to_catch_up,
                target=Status.ACTIVE,
                reason=PlanStatusChange.Reason.CAUGHT_UP,
                practice_id=practice.pk,
                as_of=as_of,
                now=now,
            )
        )
        context.progress(done, len(dates))
    return counts
