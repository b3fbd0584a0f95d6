"""The review list of remittance claims that matched nothing: a manager finds the claim (its
payment then posts exactly as the import would have posted it) or closes the entry with a note."""

from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from accounts.models import Claim
from accounts.money import ZERO
from core.access import FieldGroup, check_field_group, get_scoped_or_404, scope_to_user
from core.audit import audit_record
from core.errors import ApplicationError
from core.models import AuditEvent
from imports import x12
from imports.batches import Summary
from imports.models import UnmatchedClaim
from imports.remittance import ClaimRejected, _Context, _post, _reverse, check_balances

MESSAGE_NOTE_NEEDED = "Say why this remittance claim is closed without a claim (not ours, a duplicate...)."
MESSAGE_CLAIM_ELSEWHERE = "Choose a claim of the remittance's practice."


def unmatched_claims_open(*, user):
    """The practice's review list, oldest first, scoped to the user's practices."""
    queryset = UnmatchedClaim.objects.filter(resolved_at__isnull=True).select_related("remittance")
    return scope_to_user(queryset, user).order_by("remittance__paid_on", "pk")


def _claim_payment(row: UnmatchedClaim) -> x12.ClaimPayment:
    """The remittance claim again, from the facts kept on the review list (totals by group)."""
    clp = x12.ClaimPayment(
        position=row.position,
        control_number=row.patient_control_number,
        status=row.claim_status,
        charge=row.charge_amount,
        paid=row.paid_amount,
        patient_responsibility=row.patient_responsibility,
        filing_indicator="",
        payer_claim_number=row.payer_claim_number,
    )
    for group, amount in (row.adjustments or {}).items():
        value = Decimal(amount)
        if value != ZERO:
            clp.adjustments.append(x12.Adjustment(group, "", value, row.position))
    return clp


@transaction.atomic
def unmatched_claim_resolve(*, acting_user, unmatched_id: int, claim_id: int | None = None, note: str = ""):
    """Post the remittance claim to `claim_id`, or close it with `note`. Management and up; a
    resolved entry stays as it is (a second click changes nothing)."""
    check_field_group(acting_user, FieldGroup.MANAGEMENT)
    row = get_scoped_or_404(UnmatchedClaim.objects.select_for_update(of=("self",)), acting_user, pk=unmatched_id)
    if row.resolved_at is not None:
        return row
    note = note.strip()
    if claim_id is None and not note:
        raise ApplicationError(MESSAGE_NOTE_NEEDED, field="note")
    if claim_id is not None:
        claim = Claim.objects.filter(pk=claim_id, account__practice_id=row.practice_id).first()
        if claim is None:
            raise ApplicationError(MESSAGE_CLAIM_ELSEWHERE, field="claim")
        remittance = row.remittance
        clp = _claim_payment(row)
        context = _Context(
            practice=remittance.practice,
            acting_user=acting_user,
            summary=Summary(),
            file_name="",
            remittance=None,
            row=remittance,
            payer=remittance.payer_key,
            effective_on=remittance.paid_on or timezone.localdate(),
        )
        try:
            check_balances(clp)
            if clp.is_reversal:
                _reverse(context, clp, claim)
            else:
                _post(context, clp, claim)
        except ClaimRejected as rejected:
            raise ApplicationError(rejected.reason, field="claim") from None
        row.matched_claim = claim
    row.resolved_at = timezone.now()
    row.resolved_by = acting_user
    row.resolution_note = note[:200]
    row.save(update_fields=["matched_claim", "resolved_at", "resolved_by", "resolution_note"])
    audit_record(
        user=acting_user,
        action=AuditEvent.Action.UPDATE,
        obj=row,
        field_group=FieldGroup.MANAGEMENT,
        detail={"resolved": True, "claim_id": claim_id},
    )
    return row
