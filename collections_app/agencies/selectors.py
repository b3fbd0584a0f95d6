"""Reads for agencies and placements, every one scoped to the user's practices first."""

from datetime import date

from django.db.models import Count, F, Max, OuterRef, Q, QuerySet, Subquery, Sum
from django.db.models.functions import Coalesce
from django.http import Http404

from accounts.models import PatientAccount, Practice
from accounts.money import ZERO
from accounts.selectors import practice_today
from collections_app.agencies import rules
from collections_app.models import (
    Agency,
    AgencyFile,
    AgencyPayment,
    AgencyPaymentImport,
    Contact,
    DirectPayment,
    Placement,
    PlacementBatch,
)
from core.access import get_scoped_or_404, practices_for, scope_to_user


def practices_as_of(*, user, practice_id: int | None = None) -> dict[Practice, date]:
    """The user's active practices (or the one asked for), each with its local today."""
    practices = practices_for(user).filter(is_active=True)
    if practice_id is not None:
        practices = practices.filter(pk=practice_id)
    return {practice: practice_today(practice) for practice in practices.order_by("name")}


def candidate_list(*, user, practice_id: int | None = None, min_balance=None) -> QuerySet:
    """Accounts ready to place with an agency today in the user's practices, largest balance first,
    with the patient, the date the final notice went out and the oldest open date of service."""
    queryset = scope_to_user(rules.candidate_queryset(practices_as_of(user=user, practice_id=practice_id)), user)
    if min_balance is not None:
        queryset = queryset.filter(patient_balance__gte=min_balance)
    final_notice = (
        Contact.objects.filter(account=OuterRef("pk"), outcome=Contact.Outcome.FINAL_NOTICE_SENT)
        .order_by()
        .values("account")
        .annotate(latest=Max("occurred_at"))
        .values("latest")
    )
    return (
        queryset.select_related("patient", "practice")
        .annotate(final_notice_at=Subquery(final_notice), oldest_open_service_on=F("aging__oldest_open_service_on"))
        .order_by("-patient_balance", "id")
    )


def candidate_totals(queryset: QuerySet) -> dict:
    return queryset.order_by().aggregate(count=Count("id"), total=Coalesce(Sum("patient_balance"), ZERO))


def agency_list(*, user, practice_id: int | None = None, active_only: bool = False) -> QuerySet:
    queryset = scope_to_user(Agency.objects.select_related("practice"), user)
    if practice_id is not None:
        queryset = queryset.filter(practice_id=practice_id)
    if active_only:
        queryset = queryset.filter(is_active=True)
    return queryset.annotate(
        placed_count=Count("placements", filter=Q(placements__status=Placement.Status.PLACED), distinct=True)
    ).order_by("practice__name", "name")


def accounts_in_scope_or_404(*, user, account_ids) -> None:
    """Every one of these accounts is in the user's practices, or 404 (which one is not said)."""
    wanted = set(account_ids)
    found = scope_to_user(PatientAccount.objects.filter(pk__in=wanted), user).count()
    if found != len(wanted):
        raise Http404("No such record in your practices.")


def agency_get(*, user, agency_id) -> Agency:
    return get_scoped_or_404(Agency.objects.select_related("practice"), user, pk=agency_id)


def batch_list(*, user) -> QuerySet:
    return (
        scope_to_user(PlacementBatch.objects.select_related("practice", "agency", "placed_by", "file"), user)
        .annotate(still_placed=Count("placements", filter=Q(placements__status=Placement.Status.PLACED)))
        .order_by("-placed_at", "-id")
    )


def batch_get(*, user, batch_id) -> PlacementBatch:
    return get_scoped_or_404(
        PlacementBatch.objects.select_related("practice", "agency", "placed_by", "file"), user, pk=batch_id
    )


def batch_with_placements(*, user, batch_id) -> PlacementBatch:
    """One batch with its placements by account number (`batch.placement_rows`, with account,
    patient, agency and recall file) and how many are still at the agency (`batch.still_placed`):
    the batch page and the API show the same."""
    batch = batch_get(user=user, batch_id=batch_id)
    batch.placement_rows = list(
        batch.placements.select_related("account__patient", "agency", "recall_file").order_by(
            "account__account_number", "id"
        )
    )
    batch.still_placed = sum(1 for placement in batch.placement_rows if placement.status == Placement.Status.PLACED)
    return batch


def placement_get(*, user, placement_id) -> Placement:
    return get_scoped_or_404(
        Placement.objects.select_related("account__patient", "practice", "agency", "batch"), user, pk=placement_id
    )


def placement_by_account_number(*, user, agency_id: int, account_number: str) -> Placement | None:
    """The latest placement with this agency of the account with this number, in the user's practices."""
    return (
        scope_to_user(Placement.objects.all(), user)
        .filter(agency_id=agency_id, account__account_number=account_number)
        .order_by("-placed_on", "-id")
        .first()
    )


def placements_for_account(*, user, account: PatientAccount) -> QuerySet:
    return scope_to_user(
        Placement.objects.filter(account=account).select_related("agency", "recalled_by", "recall_file"), user
    ).order_by("-placed_on", "-id")


def file_get(*, user, file_id) -> AgencyFile:
    return get_scoped_or_404(AgencyFile.objects.select_related("agency", "practice"), user, pk=file_id)


def recent_files(*, user, limit: int = 25) -> QuerySet:
    return scope_to_user(AgencyFile.objects.select_related("agency", "practice", "created_by"), user).order_by(
        "-created_at", "-id"
    )[:limit]


def recalls_to_send(*, user) -> QuerySet:
    """Per agency: placements recalled (by hand or automatically) the agency has not been sent yet."""
    return (
        scope_to_user(Placement.objects.filter(status=Placement.Status.RECALLED, recall_file__isnull=True), user)
        .values("agency", "agency__name", "practice__name")
        .annotate(count=Count("id"))
        .order_by("agency__name")
    )


def direct_payments_summary(*, user) -> QuerySet:
    return (
        scope_to_user(DirectPayment.objects.filter(reported_in__isnull=True), user)
        .values("agency", "agency__name", "practice__name")
        .annotate(count=Count("id"), total=Coalesce(Sum("amount"), ZERO))
        .order_by("agency__name")
    )


def payment_imports(*, user, limit: int = 20) -> QuerySet:
    return scope_to_user(AgencyPaymentImport.objects.select_related("agency", "uploaded_by"), user).order_by(
        "-uploaded_at", "-id"
    )[:limit]


def placement_list(*, user) -> QuerySet:
    """The placements of the user's practices, newest first, with the account, patient and agency."""
    return scope_to_user(Placement.objects.select_related("account__patient", "agency"), user).order_by(
        "-placed_on", "-id"
    )


def placement_detail(*, user, placement_id) -> Placement:
    """One placement with what the agency collected on it and the payments made to the practice."""
    return get_scoped_or_404(
        Placement.objects.select_related("account__patient", "agency", "recalled_by").prefetch_related(
            "payments", "direct_payments"
        ),
        user,
        pk=placement_id,
    )


def agency_payment_list(*, user) -> QuerySet:
    """What agencies collected on accounts of the user's practices, newest payment first."""
    return scope_to_user(
        AgencyPayment.objects.select_related("account", "agency", "payment_import", "posted_by"), user
    ).order_by("-paid_on", "-id")
