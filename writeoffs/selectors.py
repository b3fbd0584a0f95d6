"""Read queries for write-offs. Every selector starts from the practices the user may see."""

from django.db.models import Count, Min, QuerySet, Sum
from django.db.models.functions import Coalesce

from accounts.money import ZERO
from core.access import FieldGroup, can_see, get_scoped_or_404, practice_ids_for, scope_to_user
from writeoffs.models import SmallBalanceRun, WriteOffRequest

Status = WriteOffRequest.Status

# Words a manager reads when a write-off is not theirs to approve (the API answers 403 with them).
MESSAGE_TIER_CANNOT_APPROVE = "Approving write-offs is for billing managers and Directors."
MESSAGE_OWN_REQUEST = "You proposed this write-off, so another manager must approve or deny it."
MESSAGE_OVER_LIMIT = "Write-offs over the practice's limit of ${limit:,.2f} need a Director's approval."


def _requests(user) -> QuerySet:
    return scope_to_user(WriteOffRequest.objects.all(), user)


def writeoff_list(
    user, *, status: str = "", practice_ids=None, reason: str = "", account_id: int | None = None
) -> QuerySet:
    """The user's practices' write-off requests, newest first, with what a list shows."""
    queryset = _requests(user).select_related("account", "account__patient", "practice", "requested_by", "decided_by")
    if status:
        queryset = queryset.filter(status=status)
    if practice_ids:
        queryset = queryset.filter(practice_id__in=practice_ids)
    if reason:
        queryset = queryset.filter(reason=reason)
    if account_id:
        queryset = queryset.filter(account_id=account_id)
    return queryset.order_by("-requested_at", "-id")


def writeoff_get(user, request_id) -> WriteOffRequest:
    """One request inside the user's practices, or 404."""
    return get_scoped_or_404(
        WriteOffRequest.objects.select_related("account", "account__patient", "practice", "requested_by", "decided_by"),
        user,
        pk=request_id,
    )


def waiting_for_approval(user, *, practice_ids=None, reason=None) -> QuerySet:
    """Requests waiting for approval in the user's practices, oldest first (the approvals page)."""
    queryset = (
        _requests(user)
        .filter(status=Status.PROPOSED)
        .select_related("account", "account__patient", "practice", "requested_by", "small_balance_run")
    )
    if practice_ids:
        queryset = queryset.filter(practice_id__in=practice_ids)
    if reason:
        queryset = queryset.filter(reason=reason)
    return queryset.order_by("requested_at", "id")


def requests_for_account(user, account) -> QuerySet:
    """The account's write-off requests, newest first (the workspace)."""
    return (
        _requests(user)
        .filter(account=account)
        .select_related("requested_by", "decided_by", "reversed_by")
        .order_by("-requested_at", "-id")
    )


def approvals_waiting_summary(user) -> dict:
    """{"count", "total", "oldest_requested_at"} of the requests waiting in the user's practices:
    one aggregate query (the manager's dashboard)."""
    return (
        _requests(user)
        .filter(status=Status.PROPOSED)
        .aggregate(count=Count("id"), total=Coalesce(Sum("amount"), ZERO), oldest_requested_at=Min("requested_at"))
    )


def small_balance_runs_waiting(user) -> QuerySet:
    """Nightly small-balance previews waiting for a manager's confirmation, oldest first."""
    return (
        scope_to_user(SmallBalanceRun.objects.all(), user)
        .filter(status=SmallBalanceRun.Status.PREVIEW)
        .select_related("practice")
        .order_by("run_on", "practice__name")
    )


def small_balance_run_get(user, run_id) -> SmallBalanceRun:
    return get_scoped_or_404(SmallBalanceRun.objects.select_related("practice"), user, pk=run_id)


def approval_refusal(user, request: WriteOffRequest) -> str | None:
    """Why `user` may not approve `request` (its tier, its own request, the amount over the
    practice's limit for managers), or None. The request's status is not asked here."""
    if not can_see(user, FieldGroup.MANAGEMENT):
        return MESSAGE_TIER_CANNOT_APPROVE
    if request.requested_by_id is not None and request.requested_by_id == user.pk:
        return MESSAGE_OWN_REQUEST
    limit = request.practice.writeoff_limit_management
    if request.amount > limit and not can_see(user, FieldGroup.DIRECTOR):
        return MESSAGE_OVER_LIMIT.format(limit=limit)
    return None


def can_approve(user, request: WriteOffRequest) -> bool:
    """True when the request waits for approval, is in the user's practices and theirs to approve."""
    in_scope = request.practice_id in practice_ids_for(user)
    return in_scope and request.status == Status.PROPOSED and approval_refusal(user, request) is None


# The requests a run's API answer lists; a large practice's night can propose thousands.
RUN_REQUESTS_SHOWN = 200


def small_balance_run_list(user) -> QuerySet:
    """The nightly small-balance runs of the user's practices, newest night first."""
    return scope_to_user(SmallBalanceRun.objects.select_related("practice", "decided_by"), user).order_by(
        "-run_on", "practice__name", "id"
    )


def small_balance_run_requests(run: SmallBalanceRun) -> list[WriteOffRequest]:
    """The run's first write-off requests by account (the run is already scoped)."""
    return list(
        run.requests.select_related("account", "requested_by", "decided_by", "reversed_by")
        .prefetch_related("encounters", "entries")
        .order_by("account_id", "id")[:RUN_REQUESTS_SHOWN]
    )
