"""Queue reads, each starting from the practices the user may see."""

from dataclasses import dataclass, field

from django.db.models import Count, Q, QuerySet
from django.http import Http404
from django.utils import timezone
from guardian.models import GroupObjectPermission, UserObjectPermission

from collections_app.models import QueueEntry, RepAssignment, WorkItem
from collections_app.queues.services import QUEUE_ORDER, workable_entries
from core.access import PRACTICE_PERMISSION, practice_ids_for, scope_to_user
from core.models import StaffUser, Tier

REASON_LABELS = dict(WorkItem.Reason.choices)


def reason_labels(codes) -> list[str]:
    return [REASON_LABELS.get(code, code) for code in codes or ()]


def my_queue(*, user) -> QuerySet:
    """The rep's queue: what "Next account" draws from (leased entries included, marked), best first."""
    return (
        workable_entries(user=user)
        .select_related("account", "account__patient", "practice", "claimed_by")
        .only(
            "account_id",
            "practice_id",
            "assigned_rep_id",
            "score",
            "top_reason",
            "reasons",
            "oldest_item_on",
            "claimed_by_id",
            "claim_expires_at",
            "account__id",
            "account__account_number",
            "account__patient_balance",
            "account__insurance_balance",
            "account__practice_id",
            "account__patient__first_name",
            "account__patient__middle_name",
            "account__patient__last_name",
            "practice__code",
            "practice__name",
            "practice__time_zone",
            "claimed_by__username",
            "claimed_by__first_name",
            "claimed_by__last_name",
        )
        .order_by(*QUEUE_ORDER)
    )


def reps_for_practices(practice_ids) -> QuerySet:
    """Active Medium-and-up users granted one of the practices (directly or through a group)."""
    app_label, codename = PRACTICE_PERMISSION.split(".")
    granted = {
        "permission__codename": codename,
        "permission__content_type__app_label": app_label,
        "object_pk__in": [str(pk) for pk in practice_ids],
    }
    direct = UserObjectPermission.objects.filter(**granted).values("user_id")
    via_groups = GroupObjectPermission.objects.filter(**granted).values("group_id")
    return (
        StaffUser.objects.filter(is_active=True, tier__gte=Tier.MEDIUM)
        .filter(Q(pk__in=direct) | Q(groups__in=via_groups))
        .distinct()
        .order_by("last_name", "first_name", "username")
    )


@dataclass
class RepRow:
    rep: StaffUser | None
    total: int = 0
    leased: int = 0
    by_reason: dict[str, int] = field(default_factory=dict)


def team_overview(*, user) -> tuple[list[RepRow], list[str]]:
    """Every rep's queue in the manager's practices: entries per rep and top reason (one aggregate
    query, and one for the leases), with reps that have nothing listed too. The unassigned pool is
    the row without a rep."""
    practice_ids = practice_ids_for(user)
    now = timezone.now()
    entries = scope_to_user(QueueEntry.objects.all(), user)
    rows = entries.values("assigned_rep_id", "top_reason").annotate(total=Count("pk")).order_by()
    # An account being worked counts under the rep working it, wherever it is assigned (the pool too).
    working = dict(
        entries.filter(claim_expires_at__gt=now)
        .values("claimed_by_id")
        .annotate(leased=Count("pk"))
        .order_by()
        .values_list("claimed_by_id", "leased")
    )
    reps = {rep.pk: RepRow(rep) for rep in reps_for_practices(practice_ids)}
    unassigned = RepRow(None)
    missing: set[int] = set()
    for row in rows:
        rep_id = row["assigned_rep_id"]
        if rep_id is None:
            target = unassigned
        else:
            if rep_id not in reps:
                missing.add(rep_id)
                reps[rep_id] = RepRow(None)
            target = reps[rep_id]
        target.total += row["total"]
        target.by_reason[row["top_reason"]] = target.by_reason.get(row["top_reason"], 0) + row["total"]
    for rep_id, leased in working.items():
        if rep_id not in reps:
            missing.add(rep_id)
            reps[rep_id] = RepRow(None)
        reps[rep_id].leased = leased
    if missing:
        for rep in StaffUser.objects.filter(pk__in=missing):
            reps[rep.pk].rep = rep
    used = sorted({reason for row in [*reps.values(), unassigned] for reason in row.by_reason}, key=_reason_order)
    ordered = sorted(reps.values(), key=lambda r: (-r.total, r.rep.get_username() if r.rep else ""))
    return [*ordered, unassigned], used


def _reason_order(code: str) -> int:
    return list(REASON_LABELS).index(code) if code in REASON_LABELS else 99


def team_rep_get(*, user, rep_id) -> StaffUser:
    """A rep who works one of the manager's practices, or 404."""
    rep = reps_for_practices(practice_ids_for(user)).filter(pk=rep_id).first()
    if rep is None:
        raise Http404("No such rep in your practices.")
    return rep


def rep_queue(*, user, rep) -> QuerySet:
    """The entries assigned to one rep (None: the unassigned pool), inside the manager's practices,
    best first."""
    assigned = Q(assigned_rep__isnull=True) if rep is None else Q(assigned_rep=rep)
    return (
        scope_to_user(QueueEntry.objects.filter(assigned), user)
        .select_related("account", "account__patient", "practice", "claimed_by")
        .order_by(*QUEUE_ORDER)
    )


def rep_assignments(*, user) -> QuerySet:
    return (
        scope_to_user(RepAssignment.objects.all(), user)
        .select_related("rep", "practice", "assigned_by")
        .order_by("practice__name", "rep__username", "bucket")
    )
