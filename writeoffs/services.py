"""Every change to a write-off request: lock, check, change, post, audit, in one transaction.

States (DESIGN.md): proposed -> approved -> posted; proposed -> denied; posted -> reversed. Each
move writes a WriteOffHistory row and an audit row. Approval posts at once, so an approval is two
moves (approved, then posted) in one transaction.

Who: Medium and up propose (FieldGroup.PROPOSE). Management approves up to the practice's
`writeoff_limit_management`, a Director above it (`selectors.approval_refusal`). The requester
never approves or denies their own request: refused here (403), and by the database
(`writeoff_approver_is_not_requester`). A tier refusal is PermissionDenied (the API's 403); a
request outside the user's practices is Http404; any other refusal an ApplicationError.

Locks: the account first (accounts.services.account_lock, as every posting does), then the
request row. Two managers approving at once: the second waits on the account, then finds the
request no longer waiting and is refused, so it posts once.

Posting: WRITE_OFF rows through accounts.services.transaction_post (patient_amount negative,
write_off_reason = the reason, effective today in the practice's zone): one per named encounter
(the amount spread over them oldest visit first, each up to its open balance), or one for the
account. Reversal: transaction_reverse of each of them.

Bulk approval is all-or-nothing: one transaction locks every account (in id order), recomputes
the preview under the locks and posts only if its fingerprint is the one the manager saw; any
change in between refuses the whole batch, so what was previewed is exactly what posts.
"""

import hashlib
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from zoneinfo import ZoneInfo

from django.core.exceptions import PermissionDenied
from django.db import connection, transaction
from django.db.models import Exists, F, OuterRef, Q, Sum
from django.db.models.functions import Coalesce
from django.utils import timezone

from accounts.aging import account_aging
from accounts.models import AccountAgingState, Encounter, PatientAccount, Practice, Transaction
from accounts.money import ZERO, to_money
from accounts.selectors import practice_today
from accounts.services import account_lock, idempotency_key_clean, transaction_post, transaction_reverse
from accounts.validators import refuse_card_numbers
from core.access import FieldGroup, can_see, check_field_group, get_scoped_or_404, scope_to_user
from core.audit import audit_record
from core.errors import ApplicationError
from core.models import AuditEvent
from core.request_context import current_request
from writeoffs.models import Reason, SmallBalanceRun, WriteOffHistory, WriteOffRequest
from writeoffs.selectors import MESSAGE_TIER_CANNOT_APPROVE, approval_refusal

Status = WriteOffRequest.Status
Source = WriteOffRequest.Source
RunStatus = SmallBalanceRun.Status

ALLOWED_MOVES: dict[str, set[str]] = {
    Status.PROPOSED: {Status.APPROVED, Status.DENIED},
    Status.APPROVED: {Status.POSTED},
    Status.POSTED: {Status.REVERSED},
    Status.DENIED: set(),
    Status.REVERSED: set(),
}
OPEN_STATUSES = (Status.PROPOSED, Status.APPROVED)
NOTE_MAX_LENGTH = 500

MESSAGE_AMOUNT = "Enter the amount to write off, in dollars and cents."
MESSAGE_AMOUNT_NOT_POSITIVE = "The amount to write off must be more than zero."
MESSAGE_OVER_BALANCE = "The write-off (${amount:,.2f}) is more than the patient balance (${balance:,.2f})."
MESSAGE_OVER_BALANCE_WAITING = (
    "The write-off (${amount:,.2f}) is more than the patient balance (${balance:,.2f}) less the write-offs "
    "already waiting for approval on this account (${waiting:,.2f})."
)
MESSAGE_OVER_VISITS = (
    "The write-off (${amount:,.2f}) is more than the open balance of the visits chosen (${open:,.2f})."
)
MESSAGE_VISIT_ELSEWHERE = "One of the visits chosen is not on this account."
MESSAGE_REASON = "Choose why the balance is written off."
MESSAGE_NOTE_TOO_LONG = f"Keep the note to {NOTE_MAX_LENGTH} characters."
MESSAGE_KEY_REUSED = (
    "This form was already sent with a different write-off. Reload the account to see what was proposed."
)
MESSAGE_NOT_WAITING = "This write-off is no longer waiting for approval: it was {status} already."
MESSAGE_NOT_POSTED = "Only a posted write-off can be reversed; this one is {status}."
MESSAGE_DENIAL_REASON = "Say why the write-off is denied."
MESSAGE_REVERSAL_REASON = "Say why the write-off is reversed."
MESSAGE_BALANCE_CHANGED = (
    "The patient balance is now ${balance:,.2f}, less than this write-off (${amount:,.2f}). Deny it and propose "
    "the right amount."
)
MESSAGE_VISITS_CHANGED = (
    "The visits on this write-off now have ${open:,.2f} open, less than the write-off (${amount:,.2f}). Deny it and "
    "propose the right amount."
)
MESSAGE_PREVIEW_CHANGED = (
    "The write-offs changed since you previewed them (approved, denied or changed by someone else). Preview them "
    "again, then approve."
)
MESSAGE_NOTHING_TO_APPROVE = "None of the write-offs chosen can be approved by you."
MESSAGE_NOTHING_CHOSEN = "Choose the write-offs to approve."
MESSAGE_NOT_FOUND = "No such write-off request in your practices."
MESSAGE_RUN_NOT_WAITING = "This small-balance run is no longer waiting: it was {status} already."
MESSAGE_RUN_OVER_LIMIT = (
    "This run includes write-offs over the practice's limit of ${limit:,.2f}: a Director confirms it."
)
MESSAGE_RUN_DISCARD_REASON = "Say why the small-balance run is discarded."
NOTE_AUTO_APPROVED = "Auto-approved by practice policy (small balances under ${limit:,.2f})."
NOTE_LEFT_OUT = "Left out when the run was confirmed: the account changed after the preview."
NOTE_SMALL_BALANCE = "Nightly small-balance run of {day:%m/%d/%Y}."


# --- helpers ---------------------------------------------------------------------------------------


def _user_or_none(user):
    return user if getattr(user, "is_authenticated", False) else None


def _money(value) -> Decimal:
    try:
        return to_money(value)
    except (InvalidOperation, TypeError, ValueError):
        raise ApplicationError(MESSAGE_AMOUNT, field="amount") from None


def _text(value, *, field: str, message: str = MESSAGE_NOTE_TOO_LONG) -> str:
    value = (value or "").strip()
    if len(value) > NOTE_MAX_LENGTH:
        raise ApplicationError(message, field=field)
    refuse_card_numbers(field, value)
    return value


def _history(request: WriteOffRequest, *, from_status: str, to_status: str, user, now, note: str = ""):
    return WriteOffHistory.objects.create(
        request=request,
        from_status=from_status,
        to_status=to_status,
        changed_by=_user_or_none(user),
        changed_at=now,
        note=note[:NOTE_MAX_LENGTH],
    )


def _audit(user, request: WriteOffRequest, *, action: str, detail: dict, field_group=FieldGroup.MANAGEMENT):
    audit_record(
        user=user,
        action=action,
        obj=request,
        practice_id=request.practice_id,
        field_group=field_group,
        detail={"account_id": request.account_id, **detail},
    )


def _move(request: WriteOffRequest, target: str, *, user, now, note: str = "", update_fields=(), job: str = ""):
    """One state move: check it is allowed, save, history row, audit row."""
    current = request.status
    if target not in ALLOWED_MOVES[current]:  # pragma: no cover - the callers check first
        raise ApplicationError(MESSAGE_NOT_WAITING.format(status=Status(current).label.lower()))
    request.status = target
    request.save(update_fields=["status", *update_fields])
    _history(request, from_status=current, to_status=target, user=user, now=now, note=note)
    detail = {"from": current, "to": target, "amount": str(request.amount), "reason": request.reason}
    if job:
        detail["job"] = job
    _audit(user, request, action=AuditEvent.Action.UPDATE, detail=detail)


def _status_words(status: str) -> str:
    return Status(status).label.lower()


def _scoped_request(acting_user, request_id) -> WriteOffRequest:
    return get_scoped_or_404(WriteOffRequest.objects.select_related("practice"), acting_user, pk=request_id)


def _waiting_on(account_id: int, *, excluding: int | None = None) -> Decimal:
    rows = WriteOffRequest.objects.filter(account_id=account_id, status__in=OPEN_STATUSES)
    if excluding is not None:
        rows = rows.exclude(pk=excluding)
    return to_money(rows.aggregate(total=Coalesce(Sum("amount"), ZERO))["total"])


def _open_by_encounter(account: PatientAccount, encounter_ids) -> dict[int, tuple[date, Decimal]]:
    """{encounter id: (date of service, open patient balance)} for the named visits, as of today."""
    aging = account_aging(account, as_of=practice_today(account.practice))
    wanted = set(encounter_ids)
    found = {row.encounter_id: (row.date_of_service, row.open_amount) for row in aging.encounters}
    return {pk: found.get(pk, (date.min, ZERO)) for pk in wanted}


# --- propose ---------------------------------------------------------------------------------------


@transaction.atomic
def writeoff_propose(
    *,
    acting_user,
    account_id: int,
    amount,
    reason: str,
    note: str = "",
    encounter_ids=(),
    idempotency_key: str = "",
) -> WriteOffRequest:
    """A rep (Medium and up) proposes writing off part or all of an account's patient balance, or of
    some of its visits' open balances. Sent again with the same `idempotency_key`, it answers with
    the first request (`request.replayed`)."""
    check_field_group(acting_user, FieldGroup.PROPOSE)
    get_scoped_or_404(PatientAccount.objects.all(), acting_user, pk=account_id)
    amount = _money(amount)
    if amount <= 0:
        raise ApplicationError(MESSAGE_AMOUNT_NOT_POSITIVE, field="amount")
    if reason not in Reason.values:
        raise ApplicationError(MESSAGE_REASON, field="reason")
    note = _text(note, field="note")
    key = idempotency_key_clean(idempotency_key)
    try:
        encounter_ids = sorted({int(pk) for pk in encounter_ids or ()})
    except (TypeError, ValueError):
        raise ApplicationError(MESSAGE_VISIT_ELSEWHERE, field="encounters") from None

    # The lock orders this proposal after any posting or approval on the account: the balance and
    # what is waiting are read as they stand.
    account = account_lock(account_id=account_id, bump=False)
    if key:
        first = WriteOffRequest.objects.filter(account=account, idempotency_key=key).first()
        if first is not None:
            if first.amount != amount or first.reason != reason:
                raise ApplicationError(MESSAGE_KEY_REUSED, field="idempotency_key")
            first.replayed = True
            return first
    if encounter_ids:
        if Encounter.objects.filter(account=account, pk__in=encounter_ids).count() != len(encounter_ids):
            raise ApplicationError(MESSAGE_VISIT_ELSEWHERE, field="encounters")
        open_amount = sum((value for _, value in _open_by_encounter(account, encounter_ids).values()), ZERO)
        if amount > open_amount:
            raise ApplicationError(MESSAGE_OVER_VISITS.format(amount=amount, open=open_amount), field="amount")
    balance = account.patient_balance
    waiting = _waiting_on(account.pk)
    if amount > balance - waiting:
        message = MESSAGE_OVER_BALANCE_WAITING if waiting else MESSAGE_OVER_BALANCE
        raise ApplicationError(message.format(amount=amount, balance=balance, waiting=waiting), field="amount")

    now = timezone.now()
    request = WriteOffRequest.objects.create(
        practice_id=account.practice_id,
        account=account,
        amount=amount,
        reason=reason,
        note=note,
        status=Status.PROPOSED,
        source=Source.REP,
        requested_by=_user_or_none(acting_user),
        requested_at=now,
        idempotency_key=key,
    )
    if encounter_ids:
        request.encounters.set(encounter_ids)
    _history(request, from_status="", to_status=Status.PROPOSED, user=acting_user, now=now, note=note)
    _audit(
        acting_user,
        request,
        action=AuditEvent.Action.CREATE,
        field_group=FieldGroup.PROPOSE,
        detail={"amount": str(amount), "reason": reason, "encounters": encounter_ids},
    )
    # The account's page shows the proposal: its version moves (as account_lock(bump=True) would,
    # after the replay check so that a replay changes nothing).
    PatientAccount.objects.filter(pk=account.pk).update(version=F("version") + 1, updated_at=now)
    request.replayed = False
    return request


# --- approve and post ------------------------------------------------------------------------------


def _check_still_covered(request: WriteOffRequest, account: PatientAccount) -> None:
    """The balance (or the named visits' open balance) must still cover the write-off."""
    if request.amount > account.patient_balance:
        raise ApplicationError(
            MESSAGE_BALANCE_CHANGED.format(balance=account.patient_balance, amount=request.amount), field="amount"
        )
    encounter_ids = list(request.encounters.values_list("pk", flat=True))
    if encounter_ids:
        open_amount = sum((value for _, value in _open_by_encounter(account, encounter_ids).values()), ZERO)
        if request.amount > open_amount:
            raise ApplicationError(
                MESSAGE_VISITS_CHANGED.format(open=open_amount, amount=request.amount), field="amount"
            )


def _post_entries(request: WriteOffRequest, account: PatientAccount, *, user) -> list[Transaction]:
    """The WRITE_OFF rows of an approved request: per named visit (oldest first, each up to its
    open balance), or one for the account."""
    today = practice_today(account.practice)
    memo = f"Write-off request {request.pk}: {Reason(request.reason).label}"
    encounter_ids = list(request.encounters.values_list("pk", flat=True))
    parts: list[tuple[int | None, Decimal]] = []
    if encounter_ids:
        remaining = request.amount
        open_by = _open_by_encounter(account, encounter_ids)
        for pk, (_, open_amount) in sorted(open_by.items(), key=lambda item: (item[1][0], item[0])):
            share = min(remaining, open_amount)
            if share > 0:
                parts.append((pk, share))
                remaining -= share
        if remaining > 0:  # checked just before; kept so a write-off never posts short
            raise ApplicationError(
                MESSAGE_VISITS_CHANGED.format(open=request.amount - remaining, amount=request.amount)
            )
    else:
        parts.append((None, request.amount))
    rows = []
    for number, (encounter_id, share) in enumerate(parts, 1):
        rows.append(
            transaction_post(
                acting_user=user,
                account_id=account.pk,
                kind=Transaction.Kind.WRITE_OFF,
                patient_amount=-share,
                effective_on=today,
                encounter_id=encounter_id,
                memo=memo,
                write_off_reason=request.reason,
                # One posting per request and part, whatever retries: the ledger answers a replay.
                idempotency_key=f"writeoff-{request.pk}-{number}",
            )
        )
    request.entries.add(*rows)
    return rows


def _approve_locked(request: WriteOffRequest, account: PatientAccount, *, user, now, note: str = "", job: str = ""):
    """Approve and post a request whose account and row are locked and whose checks passed."""
    request.decided_by = _user_or_none(user)
    request.decided_at = now
    _move(request, Status.APPROVED, user=user, now=now, note=note, update_fields=["decided_by", "decided_at"], job=job)
    _post_entries(request, account, user=user)
    request.posted_at = now
    _move(request, Status.POSTED, user=user, now=now, update_fields=["posted_at"], job=job)
    return request


def _lock_request(request_id: int) -> tuple[PatientAccount, WriteOffRequest]:
    """Account first (as every posting), then the request row."""
    account_id = WriteOffRequest.objects.values_list("account_id", flat=True).get(pk=request_id)
    account = account_lock(account_id=account_id, bump=False)
    request = WriteOffRequest.objects.select_for_update().select_related("practice").get(pk=request_id)
    return account, request


def _refuse_unless_may_approve(user, request: WriteOffRequest) -> None:
    refusal = approval_refusal(user, request)
    if refusal is not None:
        raise PermissionDenied(refusal)


@transaction.atomic
def writeoff_approve(*, acting_user, request_id: int) -> WriteOffRequest:
    """Approve a waiting request and post it at once (proposed -> approved -> posted)."""
    check_field_group(acting_user, FieldGroup.MANAGEMENT)
    _scoped_request(acting_user, request_id)
    account, request = _lock_request(request_id)
    if request.status != Status.PROPOSED:
        raise ApplicationError(MESSAGE_NOT_WAITING.format(status=_status_words(request.status)))
    _refuse_unless_may_approve(acting_user, request)
    _check_still_covered(request, account)
    return _approve_locked(request, account, user=acting_user, now=timezone.now())


@transaction.atomic
def writeoff_deny(*, acting_user, request_id: int, reason: str) -> WriteOffRequest:
    """Deny a waiting request, with the reason (required)."""
    check_field_group(acting_user, FieldGroup.MANAGEMENT)
    _scoped_request(acting_user, request_id)
    reason = _text(reason, field="reason")
    if not reason:
        raise ApplicationError(MESSAGE_DENIAL_REASON, field="reason")
    request = WriteOffRequest.objects.select_for_update().select_related("practice").get(pk=request_id)
    if request.status != Status.PROPOSED:
        raise ApplicationError(MESSAGE_NOT_WAITING.format(status=_status_words(request.status)))
    if request.requested_by_id is not None and request.requested_by_id == acting_user.pk:
        raise PermissionDenied(approval_refusal(acting_user, request))
    now = timezone.now()
    request.decided_by = _user_or_none(acting_user)
    request.decided_at = now
    request.denial_reason = reason
    _move(
        request,
        Status.DENIED,
        user=acting_user,
        now=now,
        note=reason,
        update_fields=["decided_by", "decided_at", "denial_reason"],
    )
    return request


@transaction.atomic
def writeoff_reverse(*, acting_user, request_id: int, reason: str) -> WriteOffRequest:
    """Reverse a posted write-off (Management and up): a reversal entry for each of its ledger
    rows, so the balance comes back (posted -> reversed)."""
    check_field_group(acting_user, FieldGroup.MANAGEMENT)
    _scoped_request(acting_user, request_id)
    reason = _text(reason, field="reason")
    if not reason:
        raise ApplicationError(MESSAGE_REVERSAL_REASON, field="reason")
    account, request = _lock_request(request_id)
    if request.status != Status.POSTED:
        raise ApplicationError(MESSAGE_NOT_POSTED.format(status=_status_words(request.status)))
    today = practice_today(account.practice)
    for entry in request.entries.filter(reversed_by__isnull=True).order_by("pk"):
        transaction_reverse(
            acting_user=acting_user,
            transaction_id=entry.pk,
            reason=f"Write-off request {request.pk} reversed: {reason}",
            effective_on=today,
        )
    now = timezone.now()
    request.reversed_by = _user_or_none(acting_user)
    request.reversed_at = now
    request.reversal_reason = reason
    _move(
        request,
        Status.REVERSED,
        user=acting_user,
        now=now,
        note=reason,
        update_fields=["reversed_by", "reversed_at", "reversal_reason"],
    )
    return request


# --- bulk approval -------------------------------------------------------------------------------


@dataclass(frozen=True)
class BulkPreview:
    """What a bulk approval would post: `request_ids` (the ones this user may approve now), their
    `count` and `total`, the `refused` ones with why, and a `fingerprint` of ids and total that the
    confirmation must send back."""

    count: int
    total: Decimal
    request_ids: list[int]
    refused: list[tuple[int, str]] = field(default_factory=list)
    fingerprint: str = ""


def _fingerprint(approvable: list[WriteOffRequest], total: Decimal) -> str:
    text = ";".join(f"{request.pk}:{request.amount}" for request in approvable) + f"|{total}"
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def _clean_ids(request_ids) -> list[int]:
    ids = set()
    for value in request_ids or ():
        try:
            ids.add(int(value))
        except (TypeError, ValueError):
            raise ApplicationError(MESSAGE_NOTHING_CHOSEN, field="ids") from None
    return sorted(ids)


def _preview(acting_user, ids: list[int]) -> tuple[BulkPreview, list[WriteOffRequest]]:
    found = {
        request.pk: request
        for request in _scoped_requests(acting_user).filter(pk__in=ids).select_related("practice", "account")
    }
    approvable, refused = [], []
    covered: dict[int, Decimal] = {}
    for pk in ids:
        request = found.get(pk)
        if request is None:
            refused.append((pk, MESSAGE_NOT_FOUND))
            continue
        if request.status != Status.PROPOSED:
            refused.append((pk, MESSAGE_NOT_WAITING.format(status=_status_words(request.status))))
            continue
        refusal = approval_refusal(acting_user, request)
        if refusal is not None:
            refused.append((pk, refusal))
            continue
        balance = request.account.patient_balance
        used = covered.get(request.account_id, ZERO)
        if used + request.amount > balance:
            refused.append((pk, MESSAGE_BALANCE_CHANGED.format(balance=balance - used, amount=request.amount)))
            continue
        covered[request.account_id] = used + request.amount
        approvable.append(request)
    total = sum((request.amount for request in approvable), ZERO)
    preview = BulkPreview(
        count=len(approvable),
        total=total,
        request_ids=[request.pk for request in approvable],
        refused=refused,
        fingerprint=_fingerprint(approvable, total),
    )
    return preview, approvable


def _scoped_requests(acting_user):
    return scope_to_user(WriteOffRequest.objects.all(), acting_user)


def writeoff_bulk_preview(*, acting_user, request_ids) -> BulkPreview:
    """The count and total a bulk approval of these requests would post, and which are refused."""
    check_field_group(acting_user, FieldGroup.MANAGEMENT)
    ids = _clean_ids(request_ids)
    if not ids:
        raise ApplicationError(MESSAGE_NOTHING_CHOSEN, field="ids")
    return _preview(acting_user, ids)[0]


@transaction.atomic
def writeoff_bulk_approve(*, acting_user, request_ids, fingerprint: str) -> list[WriteOffRequest]:
    """Approve and post, all or nothing, exactly what `writeoff_bulk_preview` showed (its
    fingerprint): the accounts are locked in id order and the preview recomputed under the locks."""
    check_field_group(acting_user, FieldGroup.MANAGEMENT)
    ids = _clean_ids(request_ids)
    if not ids:
        raise ApplicationError(MESSAGE_NOTHING_CHOSEN, field="ids")
    account_ids = sorted(set(_scoped_requests(acting_user).filter(pk__in=ids).values_list("account_id", flat=True)))
    accounts = {pk: account_lock(account_id=pk, bump=False) for pk in account_ids}
    # Locked rows read afresh: a request approved by someone else meanwhile is seen as posted.
    list(WriteOffRequest.objects.select_for_update().filter(pk__in=ids).values_list("pk", flat=True))
    preview, approvable = _preview(acting_user, ids)
    if not fingerprint or preview.fingerprint != fingerprint:
        raise ApplicationError(MESSAGE_PREVIEW_CHANGED, field="fingerprint")
    if not approvable:
        raise ApplicationError(MESSAGE_NOTHING_TO_APPROVE, field="ids")
    now = timezone.now()
    posted = []
    for request in approvable:
        account = accounts[request.account_id]
        account.refresh_from_db(fields=["patient_balance", "insurance_balance", "version", "updated_at"])
        _check_still_covered(request, account)
        posted.append(_approve_locked(request, account, user=acting_user, now=now))
    return posted


# --- the nightly small-balance run -----------------------------------------------------------------


def small_balance_candidates(practice: Practice, as_of: date):
    """The accounts the night's run proposes, as a queryset of (id, patient_balance) rows.

    An account qualifies when all of these hold on `as_of`:
    - its patient balance is more than zero and at most the practice's threshold;
    - it is active: never on hold, on a payment plan, at an agency or closed;
    - its oldest open visit (the nightly aging state) is older than the minimum age;
    - nothing happened on it for the no-activity days. Activity is any change to the account
      (`updated_at`: every ledger posting, contact, note, hold, plan or flag moves it through
      accounts.services.account_lock), a patient or agency payment (`last_patient_payment_on`), or
      a ledger row dated within the window (an import dated on the day counts even if it was
      bulk-loaded). Each is checked: an account is quiet only if all three are old enough;
    - no write-off request of it is open (waiting for approval).
    One query (the practice's account index on (practice, status, balance) narrows it first).
    """
    cutoff = as_of - timedelta(days=practice.small_balance_no_activity_days)
    oldest_before = as_of - timedelta(days=practice.small_balance_min_age_days)
    # The account changed on or before the cutoff date in the practice's zone: before the next midnight.
    quiet_since = practice_midnight(practice, cutoff + timedelta(days=1))
    recent_ledger = Transaction.objects.filter(account_id=OuterRef("pk"), effective_on__gt=cutoff)
    open_request = WriteOffRequest.objects.filter(account_id=OuterRef("pk"), status__in=OPEN_STATUSES)
    aging = AccountAgingState.objects.filter(account_id=OuterRef("pk"), oldest_open_service_on__lt=oldest_before)
    return (
        PatientAccount.objects.filter(
            practice_id=practice.pk,
            status=PatientAccount.Status.ACTIVE,
            patient_balance__gt=0,
            patient_balance__lte=practice.small_balance_threshold,
            updated_at__lt=quiet_since,
        )
        .filter(Q(last_patient_payment_on__isnull=True) | Q(last_patient_payment_on__lte=cutoff))
        .filter(Exists(aging))
        .exclude(Exists(recent_ledger))
        .exclude(Exists(open_request))
        .order_by("id")
        .values_list("id", "patient_balance")
    )


def practice_midnight(practice: Practice, day: date) -> datetime:
    """The first instant of `day` in the practice's zone."""
    return datetime(day.year, day.month, day.day, tzinfo=ZoneInfo(practice.time_zone))


JOB = "small_balance_writeoffs"


def small_balance_run_create(*, practice: Practice, as_of: date, auto_post: bool = True) -> SmallBalanceRun:
    """The night's small-balance run for one practice: the candidates become proposed requests of
    one SmallBalanceRun (the preview a manager confirms); those under the practice's auto-approve
    amount post at once. Idempotent: the run for (practice, as_of) is made once; a second call
    returns it and changes nothing. Call inside a transaction (the nightly runner does)."""
    existing = SmallBalanceRun.objects.filter(practice=practice, run_on=as_of).first()
    if existing is not None:
        existing.created_now = False
        return existing
    now = timezone.now()
    run = SmallBalanceRun.objects.create(practice=practice, run_on=as_of, created_at=now)
    rows = _insert_run_requests(run, small_balance_candidates(practice, as_of), now=now)
    limit = practice.small_balance_auto_approve_under
    auto_ids = {pk for pk, _, amount in rows if auto_post and limit > 0 and amount < limit}
    waiting = [amount for pk, _, amount in rows if pk not in auto_ids]
    auto_note = NOTE_AUTO_APPROVED.format(limit=limit)
    auto = list(WriteOffRequest.objects.filter(pk__in=auto_ids).order_by("account_id")) if auto_ids else []
    for request in auto:  # account id order: the locks are taken in one order
        account = account_lock(account_id=request.account_id, bump=False)
        request.practice = practice
        _approve_locked(request, account, user=None, now=now, note=auto_note, job=JOB)
    run.account_count = len(waiting)
    run.total = sum(waiting, ZERO)
    run.auto_approved_count = len(auto)
    run.auto_approved_total = sum((request.amount for request in auto), ZERO)
    if not waiting:
        run.status = RunStatus.POSTED
        run.decided_at = now
    run.save()
    run.created_now = True
    return run


# The run's requests, their history and their audit rows, each one INSERT ... SELECT over the
# candidate query (set-based: no Python object per account; bench/small_balance.py measures it).
_INSERT_REQUESTS = """
INSERT INTO writeoffs_writeoffrequest
    (practice_id, account_id, amount, reason, note, status, source, small_balance_run_id, requested_at,
     denial_reason, reversal_reason, idempotency_key)
SELECT %s, c.id, c.patient_balance, %s, %s, %s, %s, %s, %s, '', '', ''
FROM ({candidates}) c
RETURNING id, account_id, amount
"""
_INSERT_HISTORY = """
INSERT INTO writeoffs_writeoffhistory (request_id, from_status, to_status, changed_at, note)
SELECT id, '', %s, %s, %s FROM writeoffs_writeoffrequest WHERE small_balance_run_id = %s
"""
_INSERT_AUDIT = """
INSERT INTO core_auditevent
    (occurred_at, username, action, object_type, object_id, practice_id, field_group, request_id, detail)
SELECT %s, '', %s, 'writeoffs.writeoffrequest', CAST(id AS TEXT), practice_id, %s, '',
       {detail}
FROM writeoffs_writeoffrequest WHERE small_balance_run_id = %s
"""
_AUDIT_DETAIL = {
    "postgresql": "jsonb_build_object('account_id', account_id, 'amount', CAST(amount AS TEXT), 'job', %s)",
    "sqlite": "json_object('account_id', account_id, 'amount', printf('%%.2f', amount), 'job', %s)",
}


def _insert_run_requests(run: SmallBalanceRun, candidates, *, now) -> list[tuple[int, int, Decimal]]:
    """(request id, account id, amount) of the proposed requests made for `candidates`."""
    sql, params = candidates.order_by().values_list("id", "patient_balance").query.sql_with_params()
    moment = connection.ops.adapt_datetimefield_value(now)
    note = NOTE_SMALL_BALANCE.format(day=run.run_on)
    with connection.cursor() as cursor:
        cursor.execute(
            _INSERT_REQUESTS.format(candidates=sql),
            [
                run.practice_id,
                Reason.SMALL_BALANCE,
                note,
                Status.PROPOSED,
                Source.SMALL_BALANCE_RUN,
                run.pk,
                moment,
                *params,
            ],
        )
        # str(): SQLite answers a float for a decimal column.
        rows = [(pk, account_id, to_money(str(amount))) for pk, account_id, amount in cursor.fetchall()]
        if rows:
            cursor.execute(_INSERT_HISTORY, [Status.PROPOSED, moment, note, run.pk])
            cursor.execute(
                _INSERT_AUDIT.format(detail=_AUDIT_DETAIL[connection.vendor]),
                [moment, AuditEvent.Action.CREATE, FieldGroup.MANAGEMENT, JOB, run.pk],
            )
    return rows


def _lock_run(acting_user, run_id: int) -> SmallBalanceRun:
    check_field_group(acting_user, FieldGroup.MANAGEMENT)
    get_scoped_or_404(SmallBalanceRun.objects.all(), acting_user, pk=run_id)
    run = SmallBalanceRun.objects.select_for_update().select_related("practice").get(pk=run_id)
    if run.status != RunStatus.PREVIEW:
        raise ApplicationError(MESSAGE_RUN_NOT_WAITING.format(status=RunStatus(run.status).label.lower()))
    return run


@transaction.atomic
def small_balance_run_approve(*, acting_user, run_id: int) -> SmallBalanceRun:
    """Confirm a night's preview: post exactly the requests it listed (still waiting). A request
    whose account changed after the preview (paid down, put on hold, a plan, an agency) is left
    out and denied, never posted short or against a balance no longer owed. The run carries
    `posted_count`, `posted_total` and `left_out` (ids) for the confirmation message."""
    run = _lock_run(acting_user, run_id)
    practice = run.practice
    requests = list(run.requests.filter(status=Status.PROPOSED).order_by("account_id"))
    limit = practice.writeoff_limit_management
    if not can_see(acting_user, FieldGroup.DIRECTOR) and any(request.amount > limit for request in requests):
        raise PermissionDenied(MESSAGE_RUN_OVER_LIMIT.format(limit=limit))
    if not can_see(acting_user, FieldGroup.MANAGEMENT):  # pragma: no cover - _lock_run checked
        raise PermissionDenied(MESSAGE_TIER_CANNOT_APPROVE)
    now = timezone.now()
    posted, left_out = [], []
    for request in requests:  # account id order: the locks are taken in one order
        account = account_lock(account_id=request.account_id, bump=False)
        request = WriteOffRequest.objects.select_for_update().select_related("practice").get(pk=request.pk)
        if request.status != Status.PROPOSED:
            continue
        if account.status != PatientAccount.Status.ACTIVE or request.amount > account.patient_balance:
            request.decided_by = _user_or_none(acting_user)
            request.decided_at = now
            request.denial_reason = NOTE_LEFT_OUT
            _move(
                request,
                Status.DENIED,
                user=acting_user,
                now=now,
                note=NOTE_LEFT_OUT,
                update_fields=["decided_by", "decided_at", "denial_reason"],
            )
            left_out.append(request.pk)
            continue
        posted.append(_approve_locked(request, account, user=acting_user, now=now))
    run.status = RunStatus.POSTED
    run.decided_at = now
    run.decided_by = _user_or_none(acting_user)
    run.save(update_fields=["status", "decided_at", "decided_by"])
    audit_record(
        user=acting_user,
        action=AuditEvent.Action.UPDATE,
        obj=run,
        practice_id=run.practice_id,
        field_group=FieldGroup.MANAGEMENT,
        detail={"to": RunStatus.POSTED, "posted": len(posted), "left_out": len(left_out)},
    )
    run.posted_count = len(posted)
    run.posted_total = sum((request.amount for request in posted), ZERO)
    run.left_out = left_out
    return run


@transaction.atomic
def small_balance_run_discard(*, acting_user, run_id: int, reason: str) -> SmallBalanceRun:
    """Discard a night's preview (with a reason): its waiting requests are denied, nothing posts."""
    reason = _text(reason, field="reason")
    if not reason:
        check_field_group(acting_user, FieldGroup.MANAGEMENT)
        raise ApplicationError(MESSAGE_RUN_DISCARD_REASON, field="reason")
    run = _lock_run(acting_user, run_id)
    now = timezone.now()
    waiting = list(run.requests.select_for_update().filter(status=Status.PROPOSED).values_list("pk", "account_id"))
    user = _user_or_none(acting_user)
    context = current_request.get()
    WriteOffRequest.objects.filter(pk__in=[pk for pk, _ in waiting], status=Status.PROPOSED).update(
        status=Status.DENIED, decided_by=user, decided_at=now, denial_reason=reason
    )
    WriteOffHistory.objects.bulk_create(
        [
            WriteOffHistory(
                request_id=pk,
                from_status=Status.PROPOSED,
                to_status=Status.DENIED,
                changed_by=user,
                changed_at=now,
                note=reason,
            )
            for pk, _ in waiting
        ],
        batch_size=2000,
    )
    AuditEvent.objects.bulk_create(
        [
            AuditEvent(
                user=user,
                username=user.get_username() if user else "",
                client_address=context.client_address,
                request_id=context.request_id,
                action=AuditEvent.Action.UPDATE,
                object_type="writeoffs.writeoffrequest",
                object_id=str(pk),
                practice_id=run.practice_id,
                field_group=FieldGroup.MANAGEMENT,
                occurred_at=now,
                detail={"account_id": account_id, "from": Status.PROPOSED, "to": Status.DENIED, "run": run.pk},
            )
            for pk, account_id in waiting
        ],
        batch_size=2000,
    )
    run.status = RunStatus.DISCARDED
    run.decided_at = now
    run.decided_by = user
    run.save(update_fields=["status", "decided_at", "decided_by"])
    audit_record(
        user=acting_user,
        action=AuditEvent.Action.UPDATE,
        obj=run,
        practice_id=run.practice_id,
        field_group=FieldGroup.MANAGEMENT,
        detail={"to": RunStatus.DISCARDED, "denied": len(waiting)},
    )
    return run
