"""Reads of uploaded imports and of the review list, scoped by the access policy."""

from typing import NamedTuple

from django.db.models import QuerySet, Value

from accounts.models import Claim, control_number_key, control_number_key_of
from core.access import get_scoped_or_404, scope_to_user
from imports.models import ImportUpload, UnmatchedClaim


def import_upload_list(*, user, practice_id: int | None = None, status: str = ""):
    """The user's practices' uploads, newest first."""
    queryset = scope_to_user(ImportUpload.objects.select_related("practice", "uploaded_by"), user)
    if practice_id:
        queryset = queryset.filter(practice_id=practice_id)
    if status:
        queryset = queryset.filter(status=status)
    return queryset.order_by("-uploaded_at", "-pk")


def import_upload_get(*, user, upload_id: int) -> ImportUpload:
    """One upload of the user's practices, or 404."""
    return get_scoped_or_404(ImportUpload.objects.select_related("practice", "uploaded_by"), user, pk=upload_id)


# --- The review list of remittance claims that matched no claim -------------------------------------

UNMATCHED_OPEN = "open"
UNMATCHED_RESOLVED = "resolved"
UNMATCHED_STATUSES = ((UNMATCHED_OPEN, "Waiting"), (UNMATCHED_RESOLVED, "Resolved"))
SUGGESTION_LIMIT = 10
# A control number shorter than this, as a prefix, would suggest half the practice's claims.
SHORTEST_PREFIX = 5


class Suggestion(NamedTuple):
    claim: Claim
    reason: str


REASON_SAME_NUMBER = "Same patient control number, punctuation and leading zeros aside"
REASON_PREFIX = "Patient control number starts the same"
REASON_CHARGE_AND_DATE = "Same billed charge and date of service"
REASON_SEARCHED = "Found by your search"
REASONS = {0: REASON_SAME_NUMBER, 1: REASON_PREFIX, 2: REASON_CHARGE_AND_DATE}


def unmatched_claim_list(*, user, status: str = UNMATCHED_OPEN, practice_id: int | None = None):
    """The user's practices' review list: waiting entries oldest first (the order they are worked),
    resolved ones latest resolved first."""
    queryset = scope_to_user(
        UnmatchedClaim.objects.select_related("practice", "remittance", "resolved_by", "matched_claim__account"), user
    )
    if practice_id:
        queryset = queryset.filter(practice_id=practice_id)
    if status == UNMATCHED_RESOLVED:
        return queryset.filter(resolved_at__isnull=False).order_by("-resolved_at", "-pk")
    return queryset.filter(resolved_at__isnull=True).order_by("remittance__paid_on", "pk")


def unmatched_claim_get(*, user, unmatched_id: int) -> UnmatchedClaim:
    """One entry of the user's practices, or 404."""
    queryset = UnmatchedClaim.objects.select_related(
        "practice", "remittance", "resolved_by", "matched_claim__account__patient", "matched_claim__encounter"
    )
    return get_scoped_or_404(queryset, user, pk=unmatched_id)


def _successor(key: str) -> str:
    """The first string after every string starting with `key`: an upper bound an index can use."""
    return key[:-1] + chr(ord(key[-1]) + 1)


def _ranked_ids(branches: list[QuerySet], limit: int) -> list[tuple[int, int]]:
    """(claim id, rank) of the best `limit` claims the branches find, best rank then newest first:
    one UNION query, each branch walking its own index (an OR across them would not)."""
    if not branches:
        return []
    first, *rest = [branch.values_list("pk", "rank") for branch in branches]
    rows = first.union(*rest).order_by("rank", "-pk") if rest else first.order_by("rank", "-pk")
    best: dict[int, int] = {}
    for pk, rank in rows[: limit * len(branches)]:
        best.setdefault(pk, rank)  # a claim two branches find keeps its better rank (rows come best first)
    return sorted(best.items(), key=lambda item: (item[1], -item[0]))[:limit]


def _claims_in_order(ranked: list[tuple[int, int]], reasons: dict[int, str]) -> list[Suggestion]:
    claims = Claim.objects.select_related("account__patient", "encounter").in_bulk([pk for pk, _ in ranked])
    return [Suggestion(claims[pk], reasons[rank]) for pk, rank in ranked if pk in claims]


def _practice_claims(practice_id: int) -> QuerySet:
    return Claim.objects.filter(account__practice_id=practice_id).alias(key=control_number_key())


def _number_branches(practice_id: int, number: str) -> list[QuerySet]:
    """Claims whose control number is `number` once punctuation and leading zeros are set aside, or
    one is the start of the other (a payer that cut it short, a billing system that added a suffix)."""
    key = control_number_key_of(number)
    if not key:
        return []
    claims = _practice_claims(practice_id)
    branches = [claims.filter(key=key).annotate(rank=Value(0))]
    shorter = [key[:end] for end in range(SHORTEST_PREFIX, len(key))]
    if shorter:
        branches.append(claims.filter(key__in=shorter).annotate(rank=Value(1)))
    if len(key) >= SHORTEST_PREFIX:
        # The range is what the index serves; startswith keeps the answer exact under any collation.
        longer = claims.filter(key__gt=key, key__lt=_successor(key), key__startswith=key)
        branches.append(longer.annotate(rank=Value(1)))
    return branches


def unmatched_claim_suggestions(*, entry: UnmatchedClaim, limit: int = SUGGESTION_LIMIT) -> list[Suggestion]:
    """Claims of the entry's practice it may belong to, best first, at most `limit`, with why: the
    same control number set apart from punctuation and leading zeros, one number the start of the
    other, or the same billed charge on a visit of the same date of service. Two queries."""
    branches = _number_branches(entry.practice_id, entry.patient_control_number)
    if entry.service_date is not None:
        same_visit = Claim.objects.filter(
            encounter__practice_id=entry.practice_id,
            encounter__date_of_service=entry.service_date,
            account__practice_id=entry.practice_id,
            billed_amount=entry.charge_amount,
        )
        branches.append(same_visit.annotate(rank=Value(2)))
    return _claims_in_order(_ranked_ids(branches, limit), REASONS)


def unmatched_claim_search(*, entry: UnmatchedClaim, query: str, limit: int = SUGGESTION_LIMIT) -> list[Suggestion]:
    """Claims of the entry's practice by a claim's patient control number (as the suggestions match
    it, a start of it too) or the account number (exactly, as typed or in upper case). Two queries."""
    query = query.strip()
    if not query:
        return []
    branches = _number_branches(entry.practice_id, query)
    by_account = Claim.objects.filter(
        account__practice_id=entry.practice_id, account__account_number__in={query, query.upper()}
    )
    branches.append(by_account.annotate(rank=Value(1)))
    return _claims_in_order(_ranked_ids(branches, limit), dict.fromkeys(REASONS, REASON_SEARCHED))
