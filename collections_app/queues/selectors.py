"""Queue reads, each starting from the practices the user may see.

Filters and sort
----------------
The rep's queue (page and API) and a manager's view of one rep's queue or of the pool narrow and
order the same way, through `queue_filter` and one `QueueFilters`:

- practice: one of the user's practices. The selector filters inside the user's scope, so another
  practice's id finds nothing even if a caller skipped `queue_filters_errors`.
- reason: an open work item of that reason (not only the top one): an EXISTS on the open items'
  partial unique index (account, reason).
- aging: the bucket (accounts.aging.BUCKETS) of the account's oldest open patient balance, from
  the nightly AccountAgingState, aged against each practice's own today (as the queue rules do:
  a bucket becomes a range of dates of service per practice). An account with no open patient
  balance has no bucket and matches none.
- patient balance from / to: inclusive, in dollars and cents, never negative, from <= to.
- sort: priority (the score, QUEUE_ORDER) unless asked; every order ends in the account id, so it
  is total and pages never repeat or skip an account. Each has an index to walk: queue_order,
  account_balance_desc, queue_oldest_first ("oldest work": the "Since" column, the oldest open
  item), account_follow_up. (Oldest balance first has none: the aging state is LEFT JOINed, and
  an order on the nullable side of an outer join cannot come from an index.)
"""

from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from django.db.models import Count, Exists, F, OuterRef, Q, QuerySet
from django.http import Http404
from django.utils import timezone
from guardian.models import GroupObjectPermission, UserObjectPermission

from accounts.aging import BUCKETS, bucket_for
from accounts.models import AccountAgingState
from accounts.selectors import practice_today
from collections_app.models import QueueEntry, RepAssignment, WorkItem
from collections_app.queues.rules import per_practice
from collections_app.queues.services import QUEUE_ORDER, workable_entries
from core.access import PRACTICE_PERMISSION, practice_ids_for, practices_for, scope_to_user
from core.models import StaffUser, Tier

REASON_LABELS = dict(WorkItem.Reason.choices)

# --- Filters and sort (module docstring) ---------------------------------------------------------

SORT_PRIORITY = "priority"
# code -> (label, ORDER BY). Balance is the patient's share: what a rep collects.
QUEUE_SORTS: dict[str, tuple[str, tuple]] = {
    SORT_PRIORITY: ("Priority", QUEUE_ORDER),
    "balance": ("Patient balance, highest first", (F("account__patient_balance").desc(), *QUEUE_ORDER)),
    "oldest": ("Oldest work first", ("oldest_item_on", "-score", "account_id")),
    "follow_up": ("Follow-up date, soonest first", (F("account__follow_up_on").asc(nulls_last=True), *QUEUE_ORDER)),
}
AGING_BUCKET_CHOICES = [(label, f"{label} days") for label, _, _ in BUCKETS]
_BUCKET_DAYS = {label: (first, last) for label, first, last in BUCKETS}

MESSAGE_NOT_YOUR_PRACTICE = "Choose one of your practices."
MESSAGE_BALANCE_RANGE = "The highest balance is below the lowest: swap them or clear one."


@dataclass(frozen=True)
class QueueFilters:
    practice: int | None = None
    reason: str = ""
    bucket: str = ""
    balance_min: Decimal | None = None
    balance_max: Decimal | None = None
    sort: str = SORT_PRIORITY

    @classmethod
    def from_cleaned(cls, data: dict) -> "QueueFilters":
        """From a form's cleaned_data or an Input serializer's validated_data (absent: no filter)."""
        return cls(
            practice=data.get("practice") or None,
            reason=data.get("reason") or "",
            bucket=data.get("bucket") or "",
            balance_min=data.get("balance_min"),
            balance_max=data.get("balance_max"),
            sort=data.get("sort") or SORT_PRIORITY,
        )

    @property
    def narrows(self) -> bool:
        """Any filter set (the sort alone narrows nothing)."""
        return bool(self.practice or self.reason or self.bucket) or (
            self.balance_min is not None or self.balance_max is not None
        )


NO_FILTERS = QueueFilters()


def queue_filters_errors(*, user, practice: int | None, balance_min, balance_max) -> dict[str, str]:
    """The checks a choice list cannot make, by field: the page's form and the API's Input both ask
    here. Balances are never negative (the fields' min_value)."""
    errors = {}
    if practice is not None and practice not in practice_ids_for(user):
        errors["practice"] = MESSAGE_NOT_YOUR_PRACTICE
    if balance_min is not None and balance_max is not None and balance_min > balance_max:
        errors["balance_max"] = MESSAGE_BALANCE_RANGE
    return errors


def _bucket_dates(bucket: str):
    """The bucket as a condition on the date of service, per practice: see the module docstring."""
    first, last = _BUCKET_DAYS[bucket]

    def dates(practice, as_of: date) -> Q:
        if not first:
            # Current also holds a debit no visit carries (no date of service) and a visit dated
            # after today (not aged yet).
            recent = Q(oldest_open_service_on__gte=as_of - timedelta(days=last))
            return recent | Q(oldest_open_service_on__isnull=True)
        condition = Q(oldest_open_service_on__lte=as_of - timedelta(days=first))
        if last is not None:
            condition &= Q(oldest_open_service_on__gte=as_of - timedelta(days=last))
        return condition

    return dates


def queue_filter(entries: QuerySet, *, user, filters: QueueFilters) -> QuerySet:
    """Narrow and order queue entries already scoped to the user (my_queue, rep_queue)."""
    if filters.practice is not None:
        entries = entries.filter(practice_id=filters.practice)  # inside the scope the entries already have
    if filters.reason:
        entries = entries.filter(
            Exists(
                WorkItem.objects.filter(account=OuterRef("account_id"), reason=filters.reason, cleared_at__isnull=True)
            )
        )
    if filters.bucket:
        practices = practices_for(user).only("pk", "time_zone")
        if filters.practice is not None:
            practices = practices.filter(pk=filters.practice)
        now = timezone.now()
        dated = [(practice, practice_today(practice, now)) for practice in practices]
        in_bucket = per_practice(dated, _bucket_dates(filters.bucket))
        if in_bucket is None:
            return entries.none()
        aged = AccountAgingState.objects.filter(in_bucket, account_id=OuterRef("account_id"))
        entries = entries.filter(Exists(aged))
    if filters.balance_min is not None:
        entries = entries.filter(account__patient_balance__gte=filters.balance_min)
    if filters.balance_max is not None:
        entries = entries.filter(account__patient_balance__lte=filters.balance_max)
    _label, order = QUEUE_SORTS.get(filters.sort, QUEUE_SORTS[SORT_PRIORITY])
    return entries.order_by(*order)


def aging_bucket_of(entry) -> str:
    """The bucket shown beside an entry (its practice's today; '' without an open patient balance).
    Reads the aging state the list selected: no query."""
    try:
        aging = entry.account.aging
    except AccountAgingState.DoesNotExist:
        return ""
    if aging.oldest_open_service_on is None:
        return BUCKETS[0][0]
    today = practice_today(entry.practice)
    return bucket_for(max((today - aging.oldest_open_service_on).days, 0))


def reason_labels(codes) -> list[str]:
    return [REASON_LABELS.get(code, code) for code in codes or ()]


LISTED = ("account", "account__patient", "account__aging", "practice", "claimed_by")


def my_queue(*, user, filters: QueueFilters = NO_FILTERS) -> QuerySet:
    """The rep's queue: what "Next account" draws from (leased entries included, marked), best
    first unless `filters` sorts otherwise."""
    entries = (
        workable_entries(user=user)
        .select_related(*LISTED)
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
            "account__follow_up_on",
            "account__aging__oldest_open_service_on",
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
    )
    return queue_filter(entries, user=user, filters=filters)


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


def rep_queue(*, user, rep, filters: QueueFilters = NO_FILTERS) -> QuerySet:
    """The entries assigned to one rep (None: the unassigned pool), inside the manager's practices,
    best first unless `filters` sorts otherwise."""
    assigned = Q(assigned_rep__isnull=True) if rep is None else Q(assigned_rep=rep)
    entries = scope_to_user(QueueEntry.objects.filter(assigned), user).select_related(*LISTED)
    return queue_filter(entries, user=user, filters=filters)


def rep_assignments(*, user) -> QuerySet:
    return (
        scope_to_user(RepAssignment.objects.all(), user)
        .select_related("rep", "practice", "assigned_by")
        .order_by("practice__name", "rep__username", "bucket")
    )
