"""Reads of holds: what the panel, API and timeline show, and the "is collection paused?" question
that statements, dunning and agency referral ask before they act."""

from datetime import datetime, time
from zoneinfo import ZoneInfo

from django.db.models import Case, Exists, IntegerField, OuterRef, Q, QuerySet, Value, When

from accounts.models import PatientAccount
from collections_app.models import AccountHold
from core.access import get_scoped_or_404, scope_to_user
from core.panels import TimelineEvent

# Most restrictive first: the account's hold_reason names the first active kind in this order.
# A bankruptcy stay (11 USC 362) stops everything; probate sends claims to the estate; an LOP
# waits for a settlement; a dispute pauses only until it is answered.
KIND_PRIORITY = (
    AccountHold.Kind.BANKRUPTCY,
    AccountHold.Kind.PROBATE,
    AccountHold.Kind.LOP,
    AccountHold.Kind.DISPUTE,
)
RELEASED_SHOWN = 5
TIMELINE_HOLDS = 50


def _priority():
    return Case(
        *(When(kind=kind, then=Value(rank)) for rank, kind in enumerate(KIND_PRIORITY)),
        default=Value(len(KIND_PRIORITY)),
        output_field=IntegerField(),
    )


def active_holds() -> QuerySet:
    return AccountHold.objects.filter(released_at__isnull=True)


def active_hold_exists(account_ref: str = "pk") -> Exists:
    """`Exists(...)` for annotating or filtering accounts (account_ref names the account id column)."""
    return Exists(active_holds().filter(account_id=OuterRef(account_ref)))


def collection_paused_q(prefix: str = "") -> Q:
    """Accounts on which statements, dunning and agency referral must not run: on hold (any
    reason, including cease-communication) or with an active hold row. `prefix` reaches an
    account through a relation, e.g. "account__"."""
    account_ref = f"{prefix}pk" if prefix else "pk"
    return Q(**{f"{prefix}status": PatientAccount.Status.HOLD}) | Q(active_hold_exists(account_ref))


def hold_get(*, user, hold_id: int) -> AccountHold:
    return get_scoped_or_404(AccountHold.objects.select_related("account", "practice"), user, pk=hold_id)


def hold_list(*, user, account: PatientAccount) -> QuerySet:
    """The account's holds, active first (most restrictive first), then released, newest first."""
    return (
        scope_to_user(AccountHold.objects.filter(account=account), user)
        .select_related("placed_by", "released_by")
        .annotate(priority=_priority())
        .order_by(Case(When(released_at__isnull=True, then=Value(0)), default=Value(1)), "priority", "-placed_at")
    )


def account_holds_for_panel(*, account: PatientAccount) -> tuple[list, list]:
    """Active holds and the last few released ones, in one query (the account is already scoped)."""
    rows = list(
        AccountHold.objects.filter(account=account)
        .select_related("placed_by", "released_by")
        .annotate(priority=_priority())
        .order_by(Case(When(released_at__isnull=True, then=Value(0)), default=Value(1)), "priority", "-placed_at")[
            :TIMELINE_HOLDS
        ]
    )
    active = [hold for hold in rows if hold.released_at is None]
    released = [hold for hold in rows if hold.released_at is not None][:RELEASED_SHOWN]
    return active, released


def _local_midnight(day, tz_name: str) -> datetime:
    return datetime.combine(day, time.min, tzinfo=ZoneInfo(tz_name))


def timeline_events(account) -> list[TimelineEvent]:
    """Holds placed, released, and the latest LOP status check of each: one bounded query."""
    holds = list(
        AccountHold.objects.filter(account=account)
        .select_related("placed_by", "released_by")
        .order_by("-placed_at")[:TIMELINE_HOLDS]
    )
    tz_name = account.practice.time_zone
    events = []
    for hold in holds:
        label = hold.get_kind_display()
        events.append(
            TimelineEvent(
                when=hold.placed_at,
                kind="hold",
                title=f"{label} hold placed",
                detail=hold.case_number and f"Case {hold.case_number}",
                actor=hold.placed_by.username if hold.placed_by else "",
                extra={"hold_id": hold.pk, "action": "placed"},
            )
        )
        if hold.status_checked_on:
            events.append(
                TimelineEvent(
                    when=_local_midnight(hold.status_checked_on, tz_name),
                    kind="hold",
                    title=f"{label} status check: {hold.get_lop_status_display() or 'recorded'}",
                    extra={"hold_id": hold.pk, "action": "status_check"},
                )
            )
        if hold.released_at:
            events.append(
                TimelineEvent(
                    when=hold.released_at,
                    kind="hold",
                    title=f"{label} hold released",
                    detail=hold.release_reason,
                    actor=hold.released_by.username if hold.released_by else "",
                    extra={"hold_id": hold.pk, "action": "released"},
                )
            )
    return events
