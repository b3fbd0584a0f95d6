"""Nightly payment plan jobs: lapse and default detection, installment reminders.

Set-based: per practice (its own local "as of" date and policy) one query finds the plans or
installments, one UPDATE/INSERT changes them all. Both jobs are idempotent: a plan already lapsed
or defaulted is not selected again, and a reminder row per installment (unique) means each
installment's reminder goes out once.
"""

from datetime import timedelta

from django.db.models import Count, Exists, F, IntegerField, OuterRef, Q, Subquery, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from accounts.models import PatientAccount, Practice
from collections_app.access import FieldGroup
from collections_app.jobs.registry import JobContext, nightly_job
from collections_app.models import AuditEvent, Contact, ContactConsent
from payment_plans.models import Installment, PaymentPlan, PlanReminder, PlanStatusChange

Status = PaymentPlan.Status

# Days before each due date that its reminder goes out, unless the practice sets
# `plan_reminder_days_before` (requested of the accounts model).
REMINDER_DAYS_BEFORE = 5
LAPSE_NOTICE_NOTE = "Payment plan lapse notice"


def _practice_dates(context: JobContext) -> dict[int, object]:
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


def _move(rows: list[tuple[int, int, str]], *, target: str, reason: str, practice_id: int, as_of, now) -> list[int]:
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
    AuditEvent.objects.bulk_create(
        AuditEvent(
            action=AuditEvent.Action.UPDATE,
            object_type="payment_plans.paymentplan",
            object_id=str(pk),
            practice_id=practice_id,
            field_group=FieldGroup.BILLING,
            occurred_at=now,
            detail={"account_id": account_id, "from": status, "to": target, "reason": reason, "job": True},
        )
        for pk, account_id, status in rows
    )
    return [account_id for _, account_id, _ in rows]


@nightly_job("plan_lapse_default", order=50, description="Payment plans lapsed or defaulted")
def plan_lapse_default(context: JobContext) -> dict[str, int]:
    """Active plans with an installment unpaid past the grace days lapse (the queue's "plan lapsed"
    rule picks them up, and a lapse notice letter is logged); plans whose missed installments reach
    the practice's default count are defaulted and the account returns to the normal cadence."""
    counts = {"lapsed": 0, "defaulted": 0, "lapse_notices": 0, "caught_up": 0}
    dates = _practice_dates(context)
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
        PatientAccount.objects.filter(pk__in=accounts, status=PatientAccount.Status.PAYMENT_PLAN).update(
            status=PatientAccount.Status.ACTIVE, version=F("version") + 1
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
        counts["lapse_notices"] += _log_lapse_notices(lapsed_accounts, practice_id=practice.pk, now=now)

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


def _mailable(prefix: str = "") -> Q:
    """Letters may go to the patient: no cease-communication, no attorney (letters go through
    them: FDCPA 15 USC 1692c), not on hold, and an address that is not known bad."""
    return (
        Q(
            **{
                f"{prefix}cease_communication_on__isnull": True,
                f"{prefix}attorney_represented": False,
                f"{prefix}patient__address_is_bad": False,
            }
        )
        & ~Q(**{f"{prefix}status": PatientAccount.Status.HOLD})
        & ~Q(**{f"{prefix}patient__address_line1": ""})
    )


def _log_lapse_notices(account_ids: list[int], *, practice_id: int, now) -> int:
    """The lapse notice goes in the contact log as a letter sent, where the rep sees it."""
    if not account_ids:
        return 0
    mailable = PatientAccount.objects.filter(_mailable(), pk__in=account_ids).values_list("pk", flat=True)
    notices = [
        Contact(
            account_id=account_id,
            practice_id=practice_id,
            channel=Contact.Channel.LETTER,
            party=Contact.Party.PATIENT,
            outcome=Contact.Outcome.LETTER_SENT,
            notes=LAPSE_NOTICE_NOTE,
            occurred_at=now,
        )
        for account_id in mailable
    ]
    Contact.objects.bulk_create(notices)
    return len(notices)


@nightly_job("plan_reminders", order=60, description="Payment plan installment reminders")
def plan_reminders(context: JobContext) -> dict[str, int]:
    """A reminder for each open installment due within the next REMINDER_DAYS_BEFORE days, once:
    a text where the patient consented to texts (TCPA, 47 USC 227), otherwise a letter where the
    address is good; none for cease-communication, attorney-represented or held accounts."""
    counts = {"text": 0, "letter": 0}
    dates = _practice_dates(context)
    for done, practice in enumerate(Practice.objects.filter(pk__in=dates).order_by("pk"), 1):
        practice_id, as_of = practice.pk, dates[practice.pk]
        days_before = getattr(practice, "plan_reminder_days_before", REMINDER_DAYS_BEFORE)
        if not days_before:
            continue
        # A text needs recorded consent in force on the day and a phone number to send it to.
        textable = (
            ContactConsent.objects.filter(
                account_id=OuterRef("plan__account_id"),
                channel=ContactConsent.Channel.TEXT,
                granted_on__lte=as_of,
            )
            .filter(Q(revoked_on__isnull=True) | Q(revoked_on__gt=as_of))
            .exclude(account__patient__phone="")
        )
        account = "plan__account__"
        rows = (
            Installment.objects.filter(
                practice_id=practice_id,
                superseded_at__isnull=True,
                paid_on__isnull=True,
                due_on__gt=as_of,
                due_on__lte=as_of + timedelta(days=days_before),
                plan__status__in=PaymentPlan.RUNNING_STATUSES,
                reminder__isnull=True,
                **{f"{account}cease_communication_on__isnull": True, f"{account}attorney_represented": False},
            )
            .exclude(**{f"{account}status": PatientAccount.Status.HOLD})
            .annotate(textable=Exists(textable))
            .filter(Q(textable=True) | _mailable(account))
            .values_list("pk", "plan_id", "textable")
        )
        reminders = [
            PlanReminder(
                installment_id=pk,
                plan_id=plan_id,
                practice_id=practice_id,
                channel=PlanReminder.Channel.TEXT if texts else PlanReminder.Channel.LETTER,
                sent_on=as_of,
            )
            for pk, plan_id, texts in rows
        ]
        PlanReminder.objects.bulk_create(reminders, ignore_conflicts=True)
        for reminder in reminders:
            counts[reminder.channel] += 1
        context.progress(done, len(dates))
    return counts
