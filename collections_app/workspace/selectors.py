"""Reads of the account workspace (header flags, the merged activity timeline) and the schedule.

Callers pass an account already loaded through the access policy (`accounts.selectors.account_get`);
the schedule starts from the user's practices.
"""

from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.core.exceptions import FieldDoesNotExist
from django.db.models import OuterRef, Q, QuerySet, Subquery
from django.utils import timezone

from accounts.models import Appointment, Patient, PatientAccount, Transaction
from accounts.selectors import see_billing_office_exists
from collections_app.models import AccountHold
from collections_app.workspace import panels
from core.access import can_see, scope_to_user
from core.display import staff_name, words
from core.models import AuditEvent, StaffUser
from core.panels import TimelineEvent
from core.templatetags.pages import money

# The timeline shows this many events at a time, newest first; "show more" asks for the next page.
TIMELINE_PAGE_SIZE = 100
# Past this many events the rep opens the ledger, the contact log or the audit trail instead.
TIMELINE_MAX_OFFSET = 2_000

# Charges are the visits themselves (the encounters table shows them); the timeline shows what
# happened to the balance afterwards.
LEDGER_TIMELINE_KINDS = tuple(kind for kind in Transaction.Kind.values if kind != Transaction.Kind.CHARGE)
PAYMENT_KINDS = {
    Transaction.Kind.PATIENT_PAYMENT,
    Transaction.Kind.INSURANCE_PAYMENT,
    Transaction.Kind.AGENCY_PAYMENT,
    Transaction.Kind.BAD_DEBT_RECOVERY,
}
CHANGE_ACTIONS = (AuditEvent.Action.CREATE, AuditEvent.Action.UPDATE, AuditEvent.Action.POST)
CHANGE_OBJECTS = {"accounts.patientaccount": PatientAccount, "accounts.patient": Patient}
CHANGE_SUBJECTS = {"accounts.patientaccount": "Account", "accounts.patient": "Patient"}

SCHEDULE_HIDDEN_STATUSES = (Appointment.Status.CANCELLED,)


# --- header ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class AccountFlag:
    code: str  # "hold-lop", "cease", "attorney", "bad-address", "deceased": CSS and tests key on it
    label: str
    tone: str = "warn"  # "warn" or "dark"


def account_flags(account: PatientAccount) -> list[AccountFlag]:
    """The badges of the workspace header: active holds (one query) and the account's own flags."""
    flags = [
        AccountFlag(f"hold-{kind}", f"{AccountHold.Kind(kind).label} hold")
        for kind in AccountHold.objects.filter(account=account, released_at__isnull=True)
        .order_by("kind")
        .values_list("kind", flat=True)
        .distinct()
    ]
    if account.cease_communication_on:
        flags.append(AccountFlag("cease", "Cease communication"))
    if account.attorney_represented:
        flags.append(AccountFlag("attorney", "Attorney represented"))
    # Whose address mail came back from, where a guarantor is mailed at an address of their own.
    guarantor = account.guarantor
    own_address = guarantor.relationship != guarantor.Relationship.SELF
    if account.patient.address_is_bad:
        flags.append(AccountFlag("bad-address", "Patient's address bad" if own_address else "Bad address"))
    if own_address and guarantor.address_is_bad:
        flags.append(AccountFlag("guarantor-bad-address", "Guarantor's address bad"))
    if account.patient.deceased_on:
        flags.append(AccountFlag("deceased", "Deceased", tone="dark"))
    return flags


def hold_reason_label(code: str) -> str:
    """The account's hold reason as the office says it: a hold kind's name, or the code spelled out."""
    if code in AccountHold.Kind.values:
        return str(AccountHold.Kind(code).label)
    return code.replace("_", " ").capitalize()


def guarantor_other_accounts(*, user, account: PatientAccount, limit: int = 10) -> list[PatientAccount]:
    """Other accounts the same guarantor answers for (a parent's children), in the user's practices."""
    queryset = scope_to_user(PatientAccount.objects.filter(guarantor_id=account.guarantor_id), user)
    return list(
        queryset.exclude(pk=account.pk)
        .select_related("patient")
        .only("id", "account_number", "status", "patient__first_name", "patient__last_name")
        .order_by("patient__last_name", "patient__first_name", "id")[:limit]
    )


# --- timeline ----------------------------------------------------------------------------------------


def _aware(value, tz: ZoneInfo) -> datetime:
    """Areas may hand back a date or a naive datetime: place both in the practice's time zone."""
    if not isinstance(value, datetime):
        return datetime.combine(value, time.min, tzinfo=tz)
    if timezone.is_naive(value):
        return value.replace(tzinfo=tz)
    return value


def _is_local_midnight(when: datetime, tz: ZoneInfo) -> bool:
    """Areas place a date-only event (a promise broken overnight, a consent's date) at the
    practice's midnight: shown as the date alone, not as "12:00 AM"."""
    local = when.astimezone(tz)
    return (local.hour, local.minute, local.second, local.microsecond) == (0, 0, 0, 0)


def _staff_names(usernames: set[str]) -> dict[str, str]:
    """Usernames of one timeline page -> the staff member's name ("Jane Rep"): one query."""
    if not usernames:
        return {}
    users = StaffUser.objects.filter(username__in=usernames).only("username", "first_name", "last_name")
    return {user.username: staff_name(user) for user in users}


def _field_label(model, name: str) -> str:
    try:
        return str(model._meta.get_field(name).verbose_name)
    except FieldDoesNotExist:
        return name.replace("_", " ")


def ledger_timeline_events(account: PatientAccount, *, limit: int) -> list[TimelineEvent]:
    """Payments, adjustments, write-offs and reversals, newest posting first."""
    rows = (
        Transaction.objects.filter(account=account, kind__in=LEDGER_TIMELINE_KINDS)
        .select_related("posted_by", "reverses")
        .only(
            "id",
            "kind",
            "patient_amount",
            "insurance_amount",
            "effective_on",
            "posted_at",
            "payment_method",
            "reference",
            "write_off_reason",
            "memo",
            "reverses_id",
            "reverses__kind",
            "reverses__effective_on",
            "posted_by__username",
        )
        .order_by("-posted_at", "-id")[:limit]
    )
    events = []
    for row in rows:
        reason = words(row.write_off_reason) if row.write_off_reason else ""
        details = [part for part in (row.get_payment_method_display(), row.reference, reason) if part]
        if row.reverses_id:
            original = row.reverses
            details.insert(0, f"Reverses the {original.get_kind_display().lower()} of {original.effective_on:%m/%d/%Y}")
        if row.memo:
            details.append(row.memo)
        # The amount the row moved: a transfer moves the same amount off one balance onto the other.
        amount = max(abs(row.patient_amount), abs(row.insurance_amount))
        events.append(
            TimelineEvent(
                when=row.posted_at,
                kind="payment" if row.kind in PAYMENT_KINDS else "adjustment",
                title=f"{row.get_kind_display()} of {money(amount)}",
                detail=" · ".join(details),
                actor=row.posted_by.username if row.posted_by_id else "",
                extra={
                    "transaction_id": row.pk,
                    "ledger_kind": row.kind,
                    "patient_amount": row.patient_amount,
                    "insurance_amount": row.insurance_amount,
                    "effective_on": row.effective_on,
                },
            )
        )
    return events


def change_timeline_events(account: PatientAccount, *, limit: int) -> list[TimelineEvent]:
    """Changes recorded in the audit trail on the account and its patient: which fields, never values."""
    rows = (
        AuditEvent.objects.filter(action__in=CHANGE_ACTIONS)
        .filter(
            Q(object_type="accounts.patientaccount", object_id=str(account.pk))
            | Q(object_type="accounts.patient", object_id=str(account.patient_id))
        )
        .only("id", "occurred_at", "username", "action", "object_type", "detail")
        .order_by("-occurred_at", "-id")[:limit]
    )
    events = []
    for row in rows:
        model = CHANGE_OBJECTS[row.object_type]
        fields = row.detail.get("fields") if isinstance(row.detail, dict) else None
        subject = CHANGE_SUBJECTS[row.object_type]
        title = f"{subject} {row.get_action_display().lower()}"
        if isinstance(fields, list) and fields:
            title += ": " + ", ".join(_field_label(model, str(name)) for name in fields)
        events.append(
            TimelineEvent(
                when=row.occurred_at,
                kind="change",
                title=title,
                actor=row.username,
                extra={"audit_id": row.pk},
            )
        )
    return events


def panel_timeline_sources(user) -> list:
    """The timeline functions of the panels this user may see."""
    return [panel.timeline for panel in panels.PANELS if panel.timeline and can_see(user, panel.field_group)]


@dataclass(frozen=True)
class TimelinePage:
    events: list[TimelineEvent]
    offset: int
    next_offset: int | None


def account_timeline(*, user, account: PatientAccount, offset: int = 0, limit: int | None = None) -> TimelinePage:
    """One page of the account's activity, newest first: every panel's events, the ledger's payments
    and adjustments, and the changes on the account and its patient."""
    limit = limit or TIMELINE_PAGE_SIZE
    offset = min(max(offset, 0), TIMELINE_MAX_OFFSET)
    wanted = offset + limit + 1  # one more tells whether there is a next page
    tz = ZoneInfo(account.practice.time_zone)
    events = ledger_timeline_events(account, limit=wanted) + change_timeline_events(account, limit=wanted)
    for source in panel_timeline_sources(user):
        events.extend(source(account) or ())
    keyed = sorted(
        ((_aware(event.when, tz), index, event) for index, event in enumerate(events)),
        key=lambda item: (item[0], -item[1]),
        reverse=True,
    )
    page = [(when, event) for when, _, event in keyed[offset : offset + limit]]
    names = _staff_names({event.actor for _, event in page if event.actor})
    shown = [
        replace(event, when=when, actor_name=names.get(event.actor, event.actor), all_day=_is_local_midnight(when, tz))
        for when, event in page
    ]
    has_more = len(keyed) > offset + limit and offset + limit <= TIMELINE_MAX_OFFSET
    return TimelinePage(events=shown, offset=offset, next_offset=offset + limit if has_more else None)


# --- schedule ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ScheduleWindow:
    """Per practice, [start, end) in that practice's time zone."""

    bounds: dict[int, tuple[datetime, datetime]]
    first_day: date | None
    last_day: date | None


def schedule_window(practices, *, day: date | None = None, days: int | None = None) -> ScheduleWindow:
    """Today and the next `days` days (default: each practice's appointment_alert_days), or one day."""
    now = timezone.now()
    bounds = {}
    first_days, last_days = [], []
    for practice in practices:
        tz = ZoneInfo(practice.time_zone)
        start_day = day or now.astimezone(tz).date()
        span = 0 if day else (days if days is not None else practice.appointment_alert_days)
        end_day = start_day + timedelta(days=span)
        bounds[practice.pk] = (
            datetime.combine(start_day, time.min, tzinfo=tz),
            datetime.combine(end_day + timedelta(days=1), time.min, tzinfo=tz),
        )
        first_days.append(start_day)
        last_days.append(end_day)
    return ScheduleWindow(bounds, min(first_days, default=None), max(last_days, default=None))


def schedule_appointments(*, user, window: ScheduleWindow) -> QuerySet:
    """Appointments in the window, in the user's practices, each with `see_billing_office` and the
    patient's first account (`account_id`) for the link: one query, no amounts selected."""
    in_window = Q(pk__in=[])
    for practice_id, (start, end) in window.bounds.items():
        in_window |= Q(practice_id=practice_id, starts_at__gte=start, starts_at__lt=end)
    first_account = PatientAccount.objects.filter(patient_id=OuterRef("patient_id")).order_by("id").values("id")[:1]
    return (
        scope_to_user(Appointment.objects.all(), user)
        .filter(in_window)
        .exclude(status__in=SCHEDULE_HIDDEN_STATUSES)
        .select_related("patient", "practice")
        .only(
            "id",
            "starts_at",
            "provider",
            "location",
            "reason",
            "status",
            "practice__id",
            "practice__name",
            "practice__time_zone",
            "patient__id",
            "patient__practice_id",
            "patient__first_name",
            "patient__last_name",
            "patient__date_of_birth",
            "patient__medical_record_number",
        )
        .annotate(see_billing_office=see_billing_office_exists(), account_id=Subquery(first_account))
        .order_by("starts_at", "id")
    )
