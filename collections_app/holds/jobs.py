"""Nightly: release No Surprises Act (and any dated) dispute holds whose window has ended."""

from collections import defaultdict

from django.db import transaction
from django.db.models import Case, Exists, F, OuterRef, Q, Subquery, Value, When
from django.utils import timezone

from accounts.models import PatientAccount, Practice
from collections_app.holds.selectors import _priority, active_hold_exists, active_holds
from collections_app.holds.services import DISPUTE_WINDOW_ENDED
from collections_app.models import AccountHold
from core.access import FieldGroup
from core.audit import audit_job_changes
from core.nightly import JobContext, nightly_job
from payment_plans.models import PaymentPlan

BATCH = 500


def _expired_disputes(context: JobContext) -> Q:
    """Active dispute holds whose ends_on is before each practice's local date."""
    practices_by_date = defaultdict(list)
    for practice_id, local_date in context.practice_dates.items():
        practices_by_date[local_date].append(practice_id)
    if not practices_by_date:
        return Q(pk__in=[])
    condition = Q()
    for local_date, practice_ids in practices_by_date.items():
        condition |= Q(practice_id__in=practice_ids, ends_on__lt=local_date)
    return condition


@nightly_job("hold_expiry", order=30, description="Dispute holds past their window released")
def hold_expiry(context: JobContext) -> dict[str, int]:
    if not context.practice_dates:
        context.practice_dates = {pk: context.as_of for pk in Practice.objects.values_list("pk", flat=True)}
    expired = active_holds().filter(_expired_disputes(context), kind=AccountHold.Kind.DISPUTE, ends_on__isnull=False)
    rows = list(expired.values_list("pk", "account_id", "practice_id"))
    released = accounts_restored = 0
    now = timezone.now()
    for start in range(0, len(rows), BATCH):
        batch = rows[start : start + BATCH]
        hold_ids = [row[0] for row in batch]
        account_ids = sorted({row[1] for row in batch})
        with transaction.atomic():
            # Lock the accounts in id order, as the services do one at a time.
            list(PatientAccount.objects.select_for_update().filter(pk__in=account_ids).order_by("pk").values("pk"))
            released += (
                active_holds()
                .filter(pk__in=hold_ids)
                .update(released_at=now, release_reason=DISPUTE_WINDOW_ENDED, released_by=None)
            )
            on_hold = PatientAccount.objects.filter(pk__in=account_ids, status=PatientAccount.Status.HOLD)
            # Still held by another kind: the reason becomes the most restrictive one left.
            still_held = on_hold.filter(active_hold_exists())
            top_kind = active_holds().filter(account_id=OuterRef("pk")).order_by(_priority()).values("kind")[:1]
            still_held.update(hold_reason=Subquery(top_kind), version=F("version") + 1, updated_at=now)
            # Nothing left: back to the status the account had before its first hold.
            status_before = (
                AccountHold.objects.filter(pk__in=hold_ids, account_id=OuterRef("pk"))
                .exclude(status_before__in=["", PatientAccount.Status.HOLD])
                .values("status_before")[:1]
            )
            # As hold_release does: active or payment_plan is decided by whether a plan is running now
            # (one may have been set up or ended during the hold); agency and closed come back as they were.
            running_plan = PaymentPlan.objects.filter(
                account_id=OuterRef("pk"), status__in=PaymentPlan.RUNNING_STATUSES
            )
            ended_elsewhere = AccountHold.objects.filter(
                pk__in=hold_ids,
                account_id=OuterRef("pk"),
                status_before__in=[PatientAccount.Status.AGENCY, PatientAccount.Status.CLOSED],
            )
            accounts_restored += on_hold.exclude(active_hold_exists()).update(
                status=Case(
                    When(Exists(ended_elsewhere), then=Subquery(status_before)),
                    When(Exists(running_plan), then=Value(PatientAccount.Status.PAYMENT_PLAN)),
                    default=Value(PatientAccount.Status.ACTIVE),
                ),
                hold_reason="",
                version=F("version") + 1,
                updated_at=now,
            )
            audit_job_changes(
                job="hold_expiry",
                object_type="collections_app.accounthold",
                changes=(
                    (hold_id, practice_id, {"account_id": account_id, "fields": ["released_at"]})
                    for hold_id, account_id, practice_id in batch
                ),
                occurred_at=now,
                field_group=FieldGroup.BILLING,
            )
        context.progress(min(start + BATCH, len(rows)), len(rows))
    return {"released": released, "accounts_restored": accounts_restored}
