"""Reads of returned mail, address history and billing inquiries, scoped by the access policy."""

from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from django.db.models import Case, Q, QuerySet, Value, When

from accounts.models import AddressHistory, Patient, PatientAccount
from collections_app.correspondence.addresses import GUARANTOR, mailing_address_q
from collections_app.holds.selectors import collection_paused_q
from collections_app.models import BillingInquiry, ReturnedMail
from core.access import get_scoped_or_404, scope_to_user
from core.panels import TimelineEvent

RESOLVED_SHOWN = 5
ANSWERED_SHOWN = 10
TIMELINE_ROWS = 50


def mailable_q(prefix: str = "", *, party: str = GUARANTOR) -> Q:
    """The one rule for "may we mail this patient a collection letter or reminder": accounts
    (prefix "") or rows reaching an account (e.g. "plan__account__") where
    - communication has not been ceased and no attorney represents the patient (FDCPA 15 USC
      1692c(a)(2), (c): letters go to the attorney, or not at all);
    - collection is not paused by a hold (DESIGN.md: statements and dunning pause on hold);
    - the address the letter goes to is on file and not known bad (returned mail: letters wait for
      a correction). A letter to the guarantor (the default `party`) goes to the guarantor's own
      address unless the guarantor is the patient (correspondence.addresses, the governor's rule).
    """
    return (
        Q(**{f"{prefix}cease_communication_on__isnull": True, f"{prefix}attorney_represented": False})
        & ~collection_paused_q(prefix)
        & mailing_address_q(prefix, party=party)
    )


def _unresolved_first() -> Case:
    return Case(When(resolved_at__isnull=True, then=Value(0)), default=Value(1))


def _unanswered_first() -> Case:
    return Case(When(responded_on__isnull=True, then=Value(0)), default=Value(1))


def returned_mail_get(*, user, returned_mail_id: int) -> ReturnedMail:
    return get_scoped_or_404(ReturnedMail.objects.select_related("account", "patient"), user, pk=returned_mail_id)


def _mail_for_addresses_of(account: PatientAccount) -> Q:
    """Returned mail from the addresses this account's mail goes to: the patient's, and the
    guarantor's own (a guarantor's mail may have come back on another account they answer for)."""
    return Q(patient_id=account.patient_id, recipient=ReturnedMail.Recipient.PATIENT) | Q(
        guarantor_id=account.guarantor_id, recipient=ReturnedMail.Recipient.GUARANTOR
    )


def returned_mail_list(*, user, account: PatientAccount) -> QuerySet:
    """Returned mail from the patient's address and the guarantor's own, open first, newest first."""
    return (
        scope_to_user(ReturnedMail.objects.filter(_mail_for_addresses_of(account)), user)
        .select_related("recorded_by", "resolved_by")
        .order_by(_unresolved_first(), "-received_on", "-pk")
    )


def inquiry_get(*, user, inquiry_id: int) -> BillingInquiry:
    return get_scoped_or_404(BillingInquiry.objects.select_related("account", "practice"), user, pk=inquiry_id)


def inquiry_list(*, user, account: PatientAccount) -> QuerySet:
    return (
        scope_to_user(BillingInquiry.objects.filter(account=account), user)
        .select_related("created_by", "responded_by")
        .order_by(_unanswered_first(), "response_due_on", "-created_at")
    )


def patient_for_address(*, user, patient_id: int) -> Patient:
    return get_scoped_or_404(Patient.objects.select_related("practice"), user, pk=patient_id)


def correspondence_for_panel(*, account: PatientAccount, today: date) -> dict:
    """What the mail and inquiries panel shows (the account is already scoped): three queries."""
    mail = list(
        ReturnedMail.objects.filter(_mail_for_addresses_of(account))
        .select_related("recorded_by")
        .order_by(_unresolved_first(), "-received_on", "-pk")[:TIMELINE_ROWS]
    )
    inquiries = list(
        BillingInquiry.objects.filter(account=account)
        .select_related("created_by", "responded_by")
        .order_by(_unanswered_first(), "response_due_on", "-created_at")[:TIMELINE_ROWS]
    )
    for inquiry in inquiries:
        inquiry.is_overdue = inquiry.responded_on is None and inquiry.response_due_on < today
    history = list(AddressHistory.objects.filter(patient_id=account.patient_id).order_by("-recorded_at")[:5])
    return {
        "mail_open": [row for row in mail if row.resolved_at is None],
        "mail_resolved": [row for row in mail if row.resolved_at is not None][:RESOLVED_SHOWN],
        "inquiries_open": [row for row in inquiries if row.responded_on is None],
        "inquiries_answered": [row for row in inquiries if row.responded_on is not None][:ANSWERED_SHOWN],
        "address_history": history,
    }


def _local_midnight(day: date, tz_name: str) -> datetime:
    return datetime.combine(day, time.min, tzinfo=ZoneInfo(tz_name))


def timeline_events(account) -> list[TimelineEvent]:
    """Returned mail recorded and resolved, address corrections, inquiries opened and answered."""
    tz_name = account.practice.time_zone
    events = []
    mail = (
        ReturnedMail.objects.filter(account=account)
        .select_related("recorded_by", "resolved_by")
        .order_by("-recorded_at")[:TIMELINE_ROWS]
    )
    for row in mail:
        events.append(
            TimelineEvent(
                when=row.recorded_at,
                kind="mail",
                title=f"Returned mail: {row.get_reason_display()}",
                detail=f"From the {row.get_recipient_display().lower()}",
                actor=row.recorded_by.username if row.recorded_by else "",
                extra={"returned_mail_id": row.pk, "action": "recorded"},
            )
        )
        if row.resolved_at:
            events.append(
                TimelineEvent(
                    when=row.resolved_at,
                    kind="mail",
                    title=f"Returned mail resolved: {row.get_resolution_display()}",
                    actor=row.resolved_by.username if row.resolved_by else "",
                    extra={"returned_mail_id": row.pk, "action": "resolved"},
                )
            )
    corrections = (
        AddressHistory.objects.filter(patient_id=account.patient_id, was_bad=False, recorded_by__isnull=False)
        .select_related("recorded_by")
        .order_by("-recorded_at")[:TIMELINE_ROWS]
    )
    for entry in corrections:
        events.append(
            TimelineEvent(
                when=entry.recorded_at,
                kind="change",
                title="Address changed",
                detail=entry.reason,
                actor=entry.recorded_by.username if entry.recorded_by else "",
                extra={"address_history_id": entry.pk},
            )
        )
    inquiries = (
        BillingInquiry.objects.filter(account=account)
        .select_related("created_by", "responded_by")
        .order_by("-created_at")[:TIMELINE_ROWS]
    )
    for inquiry in inquiries:
        events.append(
            TimelineEvent(
                when=inquiry.created_at,
                kind="inquiry",
                title=f"Billing inquiry ({inquiry.get_channel_display()})",
                detail=inquiry.question,
                actor=inquiry.created_by.username if inquiry.created_by else "",
                extra={"inquiry_id": inquiry.pk, "action": "opened", "response_due_on": inquiry.response_due_on},
            )
        )
        if inquiry.responded_on:
            events.append(
                TimelineEvent(
                    when=_local_midnight(inquiry.responded_on, tz_name),
                    kind="inquiry",
                    title="Billing inquiry answered",
                    detail=inquiry.response,
                    actor=inquiry.responded_by.username if inquiry.responded_by else "",
                    extra={"inquiry_id": inquiry.pk, "action": "answered"},
                )
            )
    return events
