"""Nightly letters and texts that follow payment plans: the lapse notice and installment reminders.

Both send only where the one rule for mailing a patient allows (`selectors.mailable_q`); a text
needs recorded consent in force (TCPA, 47 USC 227). Set-based per practice, each on its own local
date; idempotent: a lapse notice is logged once per lapse, a reminder once per installment.
"""

from datetime import timedelta

from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from accounts.models import Practice
from collections_app.correspondence.selectors import mailable_q
from collections_app.holds.selectors import collection_paused_q
from collections_app.models import Contact, ContactConsent
from core.nightly import JobContext, nightly_job
from payment_plans.jobs import practice_dates
from payment_plans.models import Installment, PaymentPlan, PlanReminder, PlanStatusChange

LAPSE_NOTICE_NOTE = "Payment plan lapse notice"


@nightly_job("plan_lapse_notices", order=55, description="Payment plan lapse notices mailed")
def plan_lapse_notices(context: JobContext) -> dict[str, int]:
    """A lapse notice letter, logged in the contact log where the rep sees it, for each plan that
    lapsed on the run's date (plan_lapse_default runs first) and whose patient may be mailed."""
    dates = practice_dates(context)
    now = timezone.now()
    notices = 0
    for done, (practice_id, as_of) in enumerate(sorted(dates.items()), 1):
        already_noticed = Contact.objects.filter(
            account_id=OuterRef("plan__account_id"), notes=LAPSE_NOTICE_NOTE, occurred_at__gte=OuterRef("changed_at")
        )
        lapses = (
            PlanStatusChange.objects.filter(
                practice_id=practice_id,
                as_of=as_of,
                to_status=PaymentPlan.Status.LAPSED,
                reason=PlanStatusChange.Reason.INSTALLMENT_MISSED,
            )
            .filter(mailable_q("plan__account__"))
            .filter(~Exists(already_noticed))
            .values_list("plan__account_id", flat=True)
            .distinct()
        )
        rows = [
            Contact(
                account_id=account_id,
                practice_id=practice_id,
                channel=Contact.Channel.LETTER,
                party=Contact.Party.PATIENT,
                outcome=Contact.Outcome.LETTER_SENT,
                notes=LAPSE_NOTICE_NOTE,
                occurred_at=now,
            )
            for account_id in lapses
        ]
        Contact.objects.bulk_create(rows)
        notices += len(rows)
        context.progress(done, len(dates))
    return {"lapse_notices": notices}


@nightly_job("plan_reminders", order=60, description="Payment plan installment reminders")
def plan_reminders(context: JobContext) -> dict[str, int]:
    """A reminder for each open installment due within the practice's reminder window, once: a text
    where the patient consented to texts, otherwise a letter where the patient may be mailed; none
    for cease-communication, attorney-represented or held accounts."""
    counts = {"text": 0, "letter": 0}
    dates = practice_dates(context)
    account = "plan__account__"
    for done, practice in enumerate(Practice.objects.filter(pk__in=dates).order_by("pk"), 1):
        practice_id, as_of = practice.pk, dates[practice.pk]
        days_before = practice.plan_reminder_days_before
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
        # No reminder of either kind where the patient may not be contacted at all.
        may_contact = Q(
            **{f"{account}cease_communication_on__isnull": True, f"{account}attorney_represented": False}
        ) & ~collection_paused_q(account)
        rows = (
            Installment.objects.filter(
                practice_id=practice_id,
                superseded_at__isnull=True,
                paid_on__isnull=True,
                due_on__gt=as_of,
                due_on__lte=as_of + timedelta(days=days_before),
                plan__status__in=PaymentPlan.RUNNING_STATUSES,
                reminder__isnull=True,
            )
            .filter(may_contact)
            .annotate(textable=Exists(textable))
            .filter(Q(textable=True) | mailable_q(account))
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
