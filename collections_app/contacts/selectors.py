"""Reads of the contacts area. Callers pass an account already loaded through the access policy
(`accounts.selectors.account_get`), so every query here is scoped by that account."""

from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from django.db.models import QuerySet

from collections_app.models import AccountNote, Contact, ContactConsent, PromiseToPay
from core.access import get_scoped_or_404
from core.models import AuditEvent
from core.panels import TimelineEvent

# The timeline shows the newest entries of each kind; older history stays in the API lists.
TIMELINE_LIMIT = 200
PANEL_RECENT_CONTACTS = 5

FLAG_TITLES = {
    "cease_on": "Cease communication turned on",
    "cease_off": "Cease communication turned off",
    "attorney_on": "Marked represented by an attorney",
    "attorney_off": "Attorney representation removed",
}


def contact_list(*, account) -> QuerySet:
    """The account's contact log, newest first."""
    return (
        Contact.objects.filter(account=account)
        .select_related("logged_by", "override_by")
        .order_by("-occurred_at", "-id")
    )


def promise_list(*, account) -> QuerySet:
    return PromiseToPay.objects.filter(account=account).order_by("-created_at", "-id")


def contact_get(*, user, contact_id) -> Contact:
    """One logged contact of an account in the user's practices, or 404."""
    return get_scoped_or_404(Contact.objects.select_related("logged_by", "override_by"), user, pk=contact_id)


def promise_get(*, user, promise_id) -> PromiseToPay:
    """One promise to pay of an account in the user's practices, or 404."""
    return get_scoped_or_404(PromiseToPay.objects.all(), user, pk=promise_id)


def open_promises(*, account) -> QuerySet:
    return PromiseToPay.objects.filter(account=account, status=PromiseToPay.Status.OPEN).order_by("due_on", "id")


def consent_list(*, account) -> QuerySet:
    return ContactConsent.objects.filter(account=account).order_by("channel", "-granted_on", "-id")


def note_list(*, account) -> QuerySet:
    return AccountNote.objects.filter(account=account).select_related("created_by").order_by("-created_at", "-id")


def _local_midnight(day: date, tz: ZoneInfo) -> datetime:
    return datetime.combine(day, time.min, tzinfo=tz)


def _username(user) -> str:
    return user.get_username() if user is not None else ""


def timeline_events(account) -> list[TimelineEvent]:
    """Contacts, promises (made, kept, broken), notes, consents and flag changes: one query per
    kind, each limited to its newest TIMELINE_LIMIT rows."""
    tz = ZoneInfo(account.practice.time_zone)
    events: list[TimelineEvent] = []

    for contact in contact_list(account=account)[:TIMELINE_LIMIT]:
        title = f"{contact.get_channel_display()}: {contact.get_outcome_display().lower()}"
        extra = {"contact_id": contact.pk, "party": contact.party, "outcome": contact.outcome}
        if contact.override_by_id:
            title += " (compliance override)"
            extra["override"] = True
        events.append(
            TimelineEvent(
                when=contact.occurred_at,
                kind="contact",
                title=title,
                detail=f"{contact.get_party_display()}: {contact.notes}"
                if contact.notes
                else contact.get_party_display(),
                actor=_username(contact.logged_by),
                extra=extra,
            )
        )

    promises = promise_list(account=account).select_related("created_by")[:TIMELINE_LIMIT]
    for promise in promises:
        events.append(
            TimelineEvent(
                when=promise.created_at,
                kind="promise",
                title=f"Promise to pay ${promise.amount:,} by {promise.due_on:%m/%d/%Y}",
                actor=_username(promise.created_by),
                extra={"promise_id": promise.pk, "status": promise.status},
            )
        )
        if promise.status in (PromiseToPay.Status.KEPT, PromiseToPay.Status.BROKEN) and promise.resolved_on:
            events.append(
                TimelineEvent(
                    when=_local_midnight(promise.resolved_on, tz),
                    kind="promise",
                    title=f"Promise to pay ${promise.amount:,} {promise.get_status_display().lower()}",
                    detail=f"Due {promise.due_on:%m/%d/%Y}",
                    extra={"promise_id": promise.pk, "status": promise.status},
                )
            )

    for note in note_list(account=account)[:TIMELINE_LIMIT]:
        events.append(
            TimelineEvent(
                when=note.created_at, kind="note", title="Note", detail=note.body, actor=_username(note.created_by)
            )
        )

    consents = consent_list(account=account).select_related("recorded_by")[:TIMELINE_LIMIT]
    for consent in consents:
        label = consent.get_channel_display().lower()
        events.append(
            TimelineEvent(
                when=_local_midnight(consent.granted_on, tz),
                kind="consent",
                title=f"Consent to {label} recorded",
                detail=consent.granted_how,
                actor=_username(consent.recorded_by),
                extra={"consent_id": consent.pk},
            )
        )
        if consent.revoked_on:
            events.append(
                TimelineEvent(
                    when=_local_midnight(consent.revoked_on, tz),
                    kind="consent",
                    title=f"Consent to {label} revoked",
                    extra={"consent_id": consent.pk},
                )
            )

    flag_rows = AuditEvent.objects.filter(
        object_type="accounts.patientaccount",
        object_id=str(account.pk),
        action=AuditEvent.Action.UPDATE,
        detail__has_key="flag_change",
    ).order_by("-occurred_at", "-id")[:TIMELINE_LIMIT]
    for row in flag_rows:
        for change in row.detail.get("flag_change", []):
            events.append(
                TimelineEvent(
                    when=row.occurred_at,
                    kind="change",
                    title=FLAG_TITLES.get(change, "Communication flag changed"),
                    actor=row.username,
                    extra={"flag": change},
                )
            )

    events.sort(key=lambda event: event.when, reverse=True)
    return events
