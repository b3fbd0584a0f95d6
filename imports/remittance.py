"""835 remittance advice: payments and adjustments to the ledger, claim by claim.

Each claim (CLP) matches the practice's claim whose patient control number is CLP01. Before
anything is posted the claim must balance (X12 835 balancing rules): CLP03 - CLP04 equals the sum
of its adjustments, each service line's SVC02 - SVC03 equals the sum of its own, and CLP05
(patient responsibility) equals the sum of the PR adjustments at claim and service level. A claim
that does not balance is rejected with its segment number and nothing of it is posted.

What a claim posts, each in the claim's own transaction (never half a claim), through
accounts.services.transaction_post:
- CLP04 as one insurance payment (EFT/ERA);
- CO (contractual), OA (other) and PI (payer initiated) totals, each as a contractual adjustment:
  the only kind the posting rules let lower (or, for a negative amount, raise) the insurance
  balance alone; the group and its reason codes are in the memo and the reference;
- PR (patient responsibility) as a transfer to the patient: out of insurance, onto the patient.
References are "835:<payer>:<trace>:<payer claim number>:<group>" (trace: TRN02, the check or EFT
number), so importing the same remittance again replays every posting and changes nothing.

CLP02 = 22 is the payer reversing an earlier adjudication: its postings by the same payer on the
claim's visit, from another remittance and not yet reversed, whose payment equals the reversal's
CLP04 (negated), are reversed with transaction_reverse. PLB provider adjustments are kept on the
remittance, never posted to a patient. A claim that matches nothing goes to the review list
(UnmatchedClaim) with the remittance's facts; nothing about the patient is logged.
"""

from __future__ import annotations

import gc
import hashlib
import logging
import re
from collections import defaultdict
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.db import transaction
from django.db.models import F

from accounts import services as ledger
from accounts.events import ledger_run
from accounts.models import Claim, Practice, Transaction
from accounts.money import ZERO
from accounts.selectors import practice_today
from core.errors import ApplicationError
from core.sql import among, update_from_values
from imports import x12
from imports.batches import (
    Progress,
    Summary,
    already_imported_message,
    batch_already_imported,
    batch_finish,
    batch_start,
    break_digit_runs,
)
from imports.models import ImportBatch, ProviderAdjustment, Remittance, UnmatchedClaim

logger = logging.getLogger(__name__)
Kind = Transaction.Kind

ADJUSTMENT_KIND = {
    "CO": Kind.CONTRACTUAL_ADJUSTMENT,
    "OA": Kind.CONTRACTUAL_ADJUSTMENT,
    "PI": Kind.CONTRACTUAL_ADJUSTMENT,
    "PR": Kind.TRANSFER_TO_PATIENT,
}
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]")
# Claims per database transaction; their postings go to the ledger as one batch. Each batch pays
# a fixed cost (eleven queue-rule statements, the lock, the look-ups): 5,000 claims spread it ten
# times thinner than 500 did (100,000 claims: 2,275 claims/s against 1,882 at 2,000 a chunk, the
# same quiet machine), and hold their accounts' row locks for about two seconds: a rep saving a
# payment on one of them waits that long at most.
CLAIMS_PER_CHUNK = 5000


class ClaimRejected(Exception):
    def __init__(self, reason: str, position: int):
        super().__init__(reason)
        self.reason = reason
        self.position = position


def _part(text: str, limit: int) -> str:
    """A reference part: no colons or odd bytes; a long value becomes a stable digest."""
    clean = break_digit_runs(_UNSAFE.sub("_", text.strip()))
    if len(clean) <= limit:
        return clean
    return break_digit_runs(hashlib.sha256(clean.encode()).hexdigest())[:limit]


def payer_key(remittance: x12.Remittance) -> str:
    return _part(remittance.payer_identifier or remittance.payer_id or remittance.payer_name or "payer", 15)


def reference_prefix(payer: str, trace: str = "") -> str:
    return f"835:{payer}:" + (f"{_part(trace, 24)}:" if trace else "")


def claim_reference(payer: str, trace: str, clp: x12.ClaimPayment, line: str) -> str:
    # 4 + 16 + 25 + 25 + 4 <= 80 (Transaction.reference).
    return f"{reference_prefix(payer, trace)}{_part(clp.payer_claim_number or clp.control_number, 24)}:{line}"


def check_balances(clp: x12.ClaimPayment) -> None:
    """The 835 balancing rules; ClaimRejected names the segment that does not balance."""
    if clp.error is not None:
        raise ClaimRejected(clp.error.reason, clp.error.position or clp.position)
    total = sum((adj.amount for adj in clp.all_adjustments()), ZERO)
    if clp.charge - clp.paid != total:
        raise ClaimRejected(
            f"claim {clp.control_number}: charge {clp.charge} minus payment {clp.paid} is {clp.charge - clp.paid}, "
            f"but its adjustments sum to {total}",
            clp.position,
        )
    for svc in clp.services:
        svc_total = sum((adj.amount for adj in svc.adjustments), ZERO)
        if svc.charge - svc.paid != svc_total:
            raise ClaimRejected(
                f"service line {svc.code}: charge {svc.charge} minus payment {svc.paid} is {svc.charge - svc.paid}, "
                f"but its adjustments sum to {svc_total}",
                svc.position,
            )
    pr = clp.total("PR")
    stated = clp.patient_responsibility if clp.patient_responsibility is not None else ZERO
    if stated != pr:
        raise ClaimRejected(
            f"claim {clp.control_number}: CLP05 patient responsibility {stated} differs from its PR adjustments {pr}",
            clp.position,
        )
    if not clp.is_reversal:
        if clp.paid < 0:
            raise ClaimRejected(f"claim {clp.control_number}: a negative payment outside a reversal", clp.position)
        if pr < 0:
            raise ClaimRejected(f"claim {clp.control_number}: negative patient responsibility", clp.position)


@dataclass
class _Context:
    practice: Practice
    acting_user: object
    summary: Summary
    file_name: str
    remittance: x12.Remittance
    row: Remittance
    payer: str
    effective_on: date


def import_835(
    *, practice: Practice, content: bytes | str, file_name: str, acting_user=None, progress: Progress | None = None
) -> Summary:
    """Import one 835 file for a practice; a malformed file is refused whole, with its segment."""
    summary = Summary(files=1)
    progress = progress or Progress()
    try:
        interchange = x12.read_as(content, "835")
        remittances = x12.parse_835(interchange)
    except x12.X12Error as error:
        return _refused(practice, file_name, content, error, summary, ImportBatch.Kind.X12_835, acting_user)
    digest = interchange.digest
    earlier = batch_already_imported(practice=practice, kind=ImportBatch.Kind.X12_835, digest=digest)
    if earlier is not None:
        summary.files_already_imported = 1
        summary.messages.append(already_imported_message(earlier, file_name))
        return summary
    summary.warnings.extend(f"{file_name}: {w}" for w in interchange.warnings)
    _note_reused_interchange(practice, interchange, file_name, summary)
    batch = batch_start(
        practice=practice,
        kind=ImportBatch.Kind.X12_835,
        file_name=file_name,
        digest=digest,
        acting_user=acting_user,
        interchange_sender=interchange.sender[:15],
        interchange_control_number=interchange.control_number[:9],
    )
    progress.start("Posting remittance claims", sum(len(remittance.claims) for remittance in remittances))
    # The work queue follows the file's postings once, when all are posted (ledger_run).
    with _parsed_file_frozen(), ledger_run():
        for remittance in remittances:
            _import_remittance(practice, batch, remittance, file_name, summary, acting_user, progress)
    batch_finish(batch, summary)
    return summary


@contextmanager
def _parsed_file_frozen():
    """The parsed file is a few objects per segment that live until the import ends: frozen
    (gc.freeze), the cyclic collector stops walking them again at every collection, which cost a
    fifth of the import's CPU. What posting creates is collected as usual."""
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


def _refused(practice, file_name, content, error, summary, kind, acting_user) -> Summary:
    summary.files_refused = 1
    summary.reject(file_name, error.reason, segment=error.position)
    raw = content.encode() if isinstance(content, str) else content
    batch = batch_start(
        practice=practice,
        kind=kind,
        file_name=file_name,
        digest=hashlib.sha256(raw).hexdigest(),
        acting_user=acting_user,
    )
    batch_finish(batch, summary, refused=True)
    return summary


def _note_reused_interchange(practice, interchange: x12.Interchange, file_name: str, summary: Summary) -> None:
    if not interchange.control_number:
        return
    same = (
        ImportBatch.objects.filter(
            practice=practice,
            interchange_sender=interchange.sender[:15],
            interchange_control_number=interchange.control_number[:9],
            status=ImportBatch.Status.DONE,
        )
        .order_by("started_at")
        .first()
    )
    if same is not None:
        summary.warnings.append(
            f"{file_name}: interchange {interchange.control_number} from sender {interchange.sender} was seen "
            f"before in {same.file_name} with other content; imported, each posting once by its reference"
        )


def _import_remittance(
    practice, batch, remittance: x12.Remittance, file_name, summary: Summary, acting_user, progress: Progress
) -> None:
    payer = payer_key(remittance)
    trace = remittance.trace_number or remittance.control_number
    effective_on = remittance.payment_date or remittance.production_date or practice_today(practice)
    with transaction.atomic():
        row, _ = Remittance.objects.get_or_create(
            practice=practice,
            payer_key=payer,
            trace_number=trace[:50],
            defaults={
                "batch": batch,
                "payer_name": remittance.payer_name[:100],
                "payment_amount": remittance.payment_amount,
                "payment_method": remittance.method[:3],
                "paid_on": effective_on,
            },
        )
        sequence: dict[int, int] = defaultdict(int)
        for plb in remittance.provider_adjustments:
            sequence[plb.position] += 1
            _, created = ProviderAdjustment.objects.get_or_create(
                remittance=row,
                position=plb.position,
                sequence=sequence[plb.position],
                defaults={
                    "provider_identifier": plb.provider_id[:50],
                    "fiscal_period_end": plb.period_end,
                    "reason_code": plb.reason[:2],
                    "reference": plb.reference[:50],
                    "amount": plb.amount,
                },
            )
            summary.provider_adjustments += int(created)
    context = _Context(practice, acting_user, summary, file_name, remittance, row, payer, effective_on)
    claims = remittance.claims
    for start in range(0, len(claims), CLAIMS_PER_CHUNK):
        with transaction.atomic():
            _import_chunk(context, claims[start : start + CLAIMS_PER_CHUNK])
        progress.step(len(claims[start : start + CLAIMS_PER_CHUNK]))  # once the chunk committed


def _import_chunk(context: _Context, chunk: list[x12.ClaimPayment]) -> None:
    """Post a chunk of claims in one transaction: the matches in one query, the postings of
    consecutive claims as one batch (transactions_post_many) with their claims' updates. A batch
    with a refused posting is posted again claim by claim, each in its own savepoint, so only the
    refused claim rolls back and is reported. A reversal, or a claim seen again, posts the batch
    before it first: the ledger sees the claims in the file's order."""
    summary, file_name = context.summary, context.file_name
    matches = _match_many(context.practice, chunk)
    pending: list[_Pending] = []
    pending_claims: set[int] = set()
    for clp in chunk:
        summary.claims += 1
        totals = clp.totals()
        for group in x12.ADJUSTMENT_GROUPS:
            summary.adjustments[group] += totals[group]
        try:
            check_balances(clp)
            claim = _matched(matches, clp)
            if claim is None:
                _record_unmatched(context, clp)
                continue
            if clp.is_reversal or claim.pk in pending_claims:
                _post_pending(context, pending)
                pending, pending_claims = [], set()
            if clp.is_reversal:
                # One claim, one savepoint: a refusal rolls back the claim's other reversals.
                with transaction.atomic():
                    changed = _reverse(context, clp, claim)
                _count(context, clp, changed, 0)  # _reverse counts its postings
                continue
            pending.append(_Pending(clp, claim, _postings(context, clp, claim, totals), totals))
            pending_claims.add(claim.pk)
        except ClaimRejected as rejected:
            summary.reject(file_name, rejected.reason, segment=rejected.position)
        except ApplicationError as error:
            summary.reject(file_name, f"claim {clp.control_number}: {error.message}", segment=clp.position)
    _post_pending(context, pending)


@dataclass(slots=True)
class MatchedClaim:
    """The columns of a claim that posting its remittance reads (a Claim instance per line costs
    more to build than the line's postings)."""

    pk: int
    account_id: int
    encounter_id: int
    billed_amount: Decimal
    payer_claim_number: str
    patient_control_number: str


def _match_many(practice: Practice, chunk: list[x12.ClaimPayment]) -> dict[str, list[MatchedClaim]]:
    numbers = {clp.control_number for clp in chunk}
    matches: dict[str, list[MatchedClaim]] = defaultdict(list)
    claims = among(Claim.objects.filter(account__practice=practice), "patient_control_number", numbers, "text[]")
    found = claims.values_list(
        "pk", "account_id", "encounter_id", "billed_amount", "payer_claim_number", "patient_control_number"
    )
    for columns in found:
        claim = MatchedClaim(*columns)
        matches[claim.patient_control_number].append(claim)
    return matches


def _matched(matches: dict[str, list[MatchedClaim]], clp: x12.ClaimPayment) -> MatchedClaim | None:
    found = matches.get(clp.control_number, [])
    if len(found) > 1:
        raise ClaimRejected(
            f"claim {clp.control_number}: the patient control number matches more than one claim", clp.position
        )
    return found[0] if found else None


@dataclass
class _Pending:
    clp: x12.ClaimPayment
    claim: Claim | MatchedClaim
    postings: list[ledger.Posting]
    totals: dict[str, Decimal]


def _post_pending(context: _Context, pending: list[_Pending]) -> None:
    if not pending:
        return
    try:
        with transaction.atomic():
            changes = _post_claims(context, pending)
    except ApplicationError:
        # A posting was refused: claim by claim, so that only its claim rolls back and is reported.
        for each in pending:
            try:
                with transaction.atomic():
                    ((change, new),) = _post_claims(context, [each])
            except ApplicationError as error:
                context.summary.reject(
                    context.file_name, f"claim {each.clp.control_number}: {error.message}", segment=each.clp.position
                )
                continue
            _count(context, each.clp, change is not None, new, each.totals)
        return
    for each, (change, new) in zip(pending, changes, strict=True):
        _count(context, each.clp, change is not None, new, each.totals)


def _post_claims(context: _Context, pending: list[_Pending]) -> list[tuple[tuple | None, int]]:
    """The claims' postings as one batch: per claim its update (None: all on file) and how many of
    its postings are new. The claims are updated before the batch is announced, so the queue
    refresh that follows it sees them paid (as after one posting at a time)."""
    changes: list[tuple[tuple | None, int]] = []

    def update_claims(rows: list[Transaction]) -> None:
        start = 0
        for each in pending:
            end = start + len(each.postings)
            changes.append(_posted(context, each, rows[start:end]))
            start = end
        _claims_update([change for change, _ in changes if change is not None])

    ledger.transactions_post_many(
        acting_user=context.acting_user,
        postings=[posting for each in pending for posting in each.postings],
        before_announcing=update_claims,
    )
    return changes


def _count(context: _Context, clp: x12.ClaimPayment, changed: bool, postings: int, totals=None) -> None:
    """A claim committed: the payments and adjustments count as posted (new or found on file)."""
    summary = context.summary
    totals = totals or clp.totals()
    summary.postings += postings
    if changed:
        if clp.is_reversal:
            summary.claims_reversed += 1
        else:
            summary.claims_posted += 1
    else:
        summary.claims_unchanged += 1
    summary.payments += clp.paid
    for group in x12.ADJUSTMENT_GROUPS:
        summary.adjustments_posted[group] += totals[group]


def _memo(clp: x12.ClaimPayment, group: str, trace: str) -> str:
    reasons = sorted({adj.reason for adj in clp.all_adjustments() if adj.group == group})
    return break_digit_runs(f"ERA {trace}: {group} {' '.join(reasons)}")[:200]


def _postings(
    context: _Context, clp: x12.ClaimPayment, claim: Claim | MatchedClaim, totals=None
) -> list[ledger.Posting]:
    trace = context.row.trace_number
    totals = totals or clp.totals()
    postings: list[tuple[str, str, Decimal, Decimal]] = []
    if clp.paid:
        postings.append(("PAY", Kind.INSURANCE_PAYMENT, ZERO, -clp.paid))
    for group in ("CO", "OA", "PI"):
        value = totals[group]
        if value:
            postings.append((group, ADJUSTMENT_KIND[group], ZERO, -value))
    pr = totals["PR"]
    if pr:
        postings.append(("PR", Kind.TRANSFER_TO_PATIENT, pr, -pr))
    # claim_reference and the payment's memo, their claim and file parts worked out once.
    reference = claim_reference(context.payer, trace, clp, "")
    payment_memo = break_digit_runs(f"ERA {trace}")[:200]
    return [
        ledger.Posting(
            account_id=claim.account_id,
            kind=kind,
            patient_amount=patient_amount,
            insurance_amount=insurance_amount,
            effective_on=context.effective_on,
            encounter_id=claim.encounter_id,
            payment_method=Transaction.PaymentMethod.EFT if kind == Kind.INSURANCE_PAYMENT else "",
            reference=reference + line,
            memo=_memo(clp, line, trace) if line != "PAY" else payment_memo,
        )
        for line, kind, patient_amount, insurance_amount in postings
    ]


def _posted(context: _Context, pending: _Pending, rows: list[Transaction]) -> tuple[tuple | None, int]:
    """The claim as its new postings leave it (for _claims_update; None when all were on file),
    and how many are new."""
    new = sum(1 for row in rows if not row.replayed)
    if not new:
        return None, 0
    clp, claim = pending.clp, pending.claim
    adjusted = clp.paid + sum((pending.totals[g] for g in x12.ADJUSTMENT_GROUPS), ZERO)
    if clp.status == "4" or not clp.paid:
        status = Claim.Status.DENIED
    elif adjusted >= claim.billed_amount:
        status = Claim.Status.PAID
    else:
        status = Claim.Status.PARTIALLY_PAID
    change = (
        claim.pk,
        clp.paid,
        status,
        context.effective_on,
        claim.payer_claim_number or clp.payer_claim_number[:50],
    )
    claim.payer_claim_number = change[4]  # as on file for the claim's next remittance line
    return change, new


def _post(context: _Context, clp: x12.ClaimPayment, claim: Claim) -> bool:
    """Post one claim alone (a review-list entry matched by hand); True when something was new."""
    totals = clp.totals()
    ((change, new),) = _post_claims(context, [_Pending(clp, claim, _postings(context, clp, claim, totals), totals)])
    context.summary.postings += new
    return change is not None


def _claims_update(changes: list[tuple]) -> None:
    # One UPDATE for the batch's claims (a claim is in a batch at most once: _import_chunk).
    update_from_values(
        table=Claim._meta.db_table,
        columns={
            "id": "int",
            "paid": "money",
            "status": "text",
            "adjudicated_on": "date",
            "payer_claim_number": "text",
        },
        rows=changes,
        assignments=(
            "paid_amount = t.paid_amount + v.paid, status = v.status, adjudicated_on = v.adjudicated_on, "
            "payer_claim_number = v.payer_claim_number"
        ),
    )


def _reverse(context: _Context, clp: x12.ClaimPayment, claim: Claim | MatchedClaim) -> bool:
    """Reverse the payer's earlier postings on this visit whose payment the reversal names."""
    prefix = reference_prefix(context.payer)
    own = reference_prefix(context.payer, context.row.trace_number)
    rows = list(
        Transaction.objects.filter(
            account_id=claim.account_id, encounter_id=claim.encounter_id, reference__startswith=prefix
        )
        .exclude(reference__startswith=own)
        .exclude(kind=Kind.REVERSAL)
        .annotate(reversal_id=F("reversed_by__id"))
        .order_by("-id")
    )
    groups: dict[str, list[Transaction]] = defaultdict(list)
    for row in rows:
        groups[row.reference.split(":")[2]].append(row)

    def paid(group: list[Transaction]) -> Decimal:
        return sum((r.insurance_amount for r in group if r.kind == Kind.INSURANCE_PAYMENT), ZERO)

    # Newest remittance first; a reversal names its payment as a negative CLP04.
    for group in groups.values():
        if paid(group) != clp.paid:
            continue
        open_rows = [r for r in group if r.reversal_id is None]
        if not open_rows:
            return False  # reversed already: the same reversal again
        for row in open_rows:
            ledger.transaction_reverse(
                acting_user=context.acting_user,
                transaction_id=row.pk,
                reason=break_digit_runs(f"Payer reversal (835 claim status 22), ERA {context.row.trace_number}"),
                effective_on=context.effective_on,
            )
        context.summary.postings += len(open_rows)
        Claim.objects.filter(pk=claim.pk).update(
            paid_amount=F("paid_amount") + clp.paid, status=Claim.Status.PENDING, adjudicated_on=context.effective_on
        )
        return True
    raise ClaimRejected(
        f"claim {clp.control_number}: reversal of a payment of {-clp.paid} by this payer that is not on file",
        clp.position,
    )


def _record_unmatched(context: _Context, clp: x12.ClaimPayment) -> None:
    _, created = UnmatchedClaim.objects.get_or_create(
        remittance=context.row,
        position=clp.position,
        defaults={
            "practice": context.practice,
            "patient_control_number": clp.control_number[:38],
            "payer_claim_number": clp.payer_claim_number[:50],
            "claim_status": clp.status[:2],
            "charge_amount": clp.charge,
            "paid_amount": clp.paid,
            "patient_responsibility": clp.patient_responsibility or ZERO,
            "patient_last_name": clp.patient_last[:100],
            "patient_first_name": clp.patient_first[:100],
            "member_id": clp.member_id[:80],
            "service_date": clp.service_date,
            "adjustments": {group: str(clp.total(group)) for group in x12.ADJUSTMENT_GROUPS},
        },
    )
    # No PHI in the log or the summary: the control number and the segment, nothing about the patient.
    logger.info("835 claim at segment %s matched no claim of practice %s", clp.position, context.practice.code)
    context.summary.unmatched_claims.append(
        {
            "file": context.file_name,
            "segment": clp.position,
            "patient_control_number": clp.control_number,
            "paid": str(clp.paid),
            "new": created,
        }
    )
