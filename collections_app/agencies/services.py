"""Placing accounts with collection agencies, recalling them, and posting what agencies collect.

Placement is two steps, as the write-off bulk approval: `placement_preview` says how many accounts
and what total would go (and which of the chosen ones may not, with why) and a fingerprint;
`placement_place` locks the accounts in id order, recomputes the preview under the locks and
places only if the fingerprint is the one the manager saw. Each practice's accounts go to one
agency (the one chosen, or the practice's default) in one batch with one placement file.

Per practice policy (Practice.agency_bad_debt_at_placement) the balance is written off to bad debt
when placed: a WRITE_OFF row with write_off_reason "bad_debt" through transaction_post. A payment
afterwards (from the agency or straight to the practice) then posts with a bad-debt recovery row:
accounts.services.transaction_post adds it for any payment beyond the balance on an account with
unrecovered bad debt. What the account still owes is therefore its patient balance plus the bad
debt not yet recovered (`outstanding`).

A payment a patient makes to the practice on an account at an agency is listed (DirectPayment) and
goes to the agency with the next file it gets: the next placement or recall file for that agency
sends a direct-payments file beside it, and a manager can send one on its own at any time.

A placement leaves `placed` by recall (by hand; automatically when a hold is placed, a dispute
opened or the patient pays the practice in full: collections_app.agencies.receivers) or by closing
when the agency has collected it in full. Either way the account returns to active (or its payment
plan), or stays on hold with the hold restoring it to active rather than to the agency.
"""

import hashlib
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from accounts.aging import account_aging
from accounts.models import PatientAccount, Practice, Transaction
from accounts.money import ZERO, to_money
from accounts.selectors import practice_today
from accounts.services import BAD_DEBT_REASON, account_lock, bad_debt_unrecovered, transaction_post
from collections_app.agencies import files, rules
from collections_app.models import (
    AccountHold,
    Agency,
    AgencyFile,
    AgencyPayment,
    AgencyPaymentImport,
    DirectPayment,
    Placement,
    PlacementBatch,
)
from collections_app.queues.services import queue_refresh_account
from core.access import FieldGroup, check_field_group, scope_to_user
from core.audit import audit_record
from core.errors import ApplicationError
from core.models import MAX_ID, AuditEvent
from payment_plans.models import PaymentPlan

Status = Placement.Status
RecallReason = Placement.RecallReason
Kind = Transaction.Kind

MESSAGE_NOTHING_CHOSEN = "Choose the accounts to place."
MESSAGE_NOT_FOUND = "This account is not in your practices."
MESSAGE_NO_AGENCY = "{practice} has no default agency: choose the agency to place with."
MESSAGE_AGENCY_ELSEWHERE = "{agency} does not work for {practice}."
MESSAGE_AGENCY_INACTIVE = "{agency} no longer takes placements."
MESSAGE_PREVIEW_CHANGED = (
    "The accounts changed since the preview (a payment, a hold, another placement). Preview again."
)
MESSAGE_NOTHING_TO_PLACE = "None of the chosen accounts may be placed."
MESSAGE_NOT_PLACED = "This account is not at an agency now (it was {status})."
MESSAGE_NOTHING_TO_RECALL = "Choose the placements to recall."
MESSAGE_RECALL_NOTE = "Say why the accounts are recalled."
MESSAGE_NOTHING_TO_SEND = "There is nothing new to send to {agency}."
MESSAGE_LINE_UNKNOWN_ACCOUNT = "Line {line}: account {number} is not an account of {practice}."
MESSAGE_LINE_NOT_PLACED = "Line {line}: account {number} was never placed with {agency}."
MESSAGE_LINE_OVERPAID = (
    "Line {line}: account {number} owes ${owed:,.2f}, less than the ${gross:,.2f} the file says was collected."
)
MESSAGE_LINE_FUTURE = "Line {line}: the payment date {paid_on:%m/%d/%Y} is in the future."
MESSAGE_NEEDS_REFERENCE = "Enter the agency's remittance reference (check or remittance number)."
MESSAGE_GROSS = "Enter the gross amount collected, more than zero."
MESSAGE_COMMISSION = "The commission must be between zero and the gross amount."
MESSAGE_OVERPAID = "The account owes ${owed:,.2f}, less than ${gross:,.2f}."
MESSAGE_FUTURE = "The payment date cannot be in the future."


def _user_or_none(user):
    return user if getattr(user, "is_authenticated", False) else None


def outstanding(account: PatientAccount) -> Decimal:
    """What the patient still owes on a placed account: the balance plus unrecovered bad debt."""
    return max(account.patient_balance, ZERO) + bad_debt_unrecovered(account.pk)


def commission_for(agency: Agency, gross: Decimal) -> Decimal:
    return to_money(gross * agency.commission_rate / Decimal(100))


# --- placement: preview and confirm -----------------------------------------------------------------


@dataclass(frozen=True)
class PlacementGroup:
    practice: Practice
    agency: Agency
    account_ids: tuple[int, ...]
    total: Decimal


@dataclass(frozen=True)
class PlacementPreview:
    count: int
    total: Decimal
    account_ids: list[int]
    groups: list[PlacementGroup]
    refused: list[tuple[int, str]] = field(default_factory=list)
    fingerprint: str = ""


def _clean_ids(values) -> list[int]:
    ids = set()
    for value in values or ():
        try:
            ids.add(int(value))
        except (TypeError, ValueError):
            raise ApplicationError(MESSAGE_NOTHING_CHOSEN, field="accounts") from None
    if not ids or min(ids) < 1 or max(ids) > MAX_ID:
        raise ApplicationError(MESSAGE_NOTHING_CHOSEN, field="accounts")
    return sorted(ids)


def _agency_for(practice: Practice, agency: Agency | None, defaults: dict[int, Agency]) -> tuple[Agency | None, str]:
    if agency is not None:
        if agency.practice_id != practice.pk:
            return None, MESSAGE_AGENCY_ELSEWHERE.format(agency=agency.name, practice=practice.name)
        if not agency.is_active:
            return None, MESSAGE_AGENCY_INACTIVE.format(agency=agency.name)
        return agency, ""
    default = defaults.get(practice.pk)
    if default is None:
        return None, MESSAGE_NO_AGENCY.format(practice=practice.name)
    return default, ""


def _preview(acting_user, ids: list[int], agency_id: int | None) -> PlacementPreview:
    accounts = {
        account.pk: account
        for account in scope_to_user(PatientAccount.objects.filter(pk__in=ids), acting_user).select_related("practice")
    }
    practices = {account.practice_id: account.practice for account in accounts.values()}
    as_of = {practice: practice_today(practice) for practice in practices.values()}
    eligible = set(rules.candidate_queryset(as_of).filter(pk__in=list(accounts)).values_list("pk", flat=True))
    agency = scope_to_user(Agency.objects.all(), acting_user).filter(pk=agency_id).first() if agency_id else None
    if agency_id and agency is None:
        raise ApplicationError("Choose an agency of your practices.", field="agency")
    defaults = {
        row.practice_id: row
        for row in Agency.objects.filter(practice_id__in=list(practices), is_default=True, is_active=True)
    }
    refused: list[tuple[int, str]] = []
    grouped: dict[tuple[int, int], list[PatientAccount]] = defaultdict(list)
    agencies: dict[int, Agency] = {}
    for pk in ids:
        account = accounts.get(pk)
        if account is None:
            refused.append((pk, MESSAGE_NOT_FOUND))
            continue
        if pk not in eligible:
            reasons = rules.placement_refusals(account, as_of[account.practice]) or [MESSAGE_PREVIEW_CHANGED]
            refused.append((pk, " ".join(reasons)))
            continue
        chosen, why = _agency_for(account.practice, agency, defaults)
        if chosen is None:
            refused.append((pk, why))
            continue
        agencies[chosen.pk] = chosen
        grouped[(account.practice_id, chosen.pk)].append(account)
    groups = [
        PlacementGroup(
            practice=practices[practice_id],
            agency=agencies[chosen_id],
            account_ids=tuple(account.pk for account in rows),
            total=sum((account.patient_balance for account in rows), ZERO),
        )
        for (practice_id, chosen_id), rows in sorted(grouped.items())
    ]
    placed = [accounts[pk] for group in groups for pk in group.account_ids]
    total = sum((account.patient_balance for account in placed), ZERO)
    text = ";".join(f"{a.pk}:{a.patient_balance}:{a.version}" for a in sorted(placed, key=lambda a: a.pk))
    text += "|" + ",".join(f"{g.practice.pk}>{g.agency.pk}" for g in groups) + f"|{total}"
    return PlacementPreview(
        count=len(placed),
        total=total,
        account_ids=sorted(a.pk for a in placed),
        groups=groups,
        refused=refused,
        fingerprint=hashlib.sha256(text.encode()).hexdigest()[:32],
    )


def placement_preview(*, acting_user, account_ids, agency_id: int | None = None) -> PlacementPreview:
    """How many of these accounts would be placed, their total and agency, and why the rest may not."""
    check_field_group(acting_user, FieldGroup.MANAGEMENT)
    return _preview(acting_user, _clean_ids(account_ids), agency_id)


@transaction.atomic
def placement_place(
    *, acting_user, account_ids, fingerprint: str, agency_id: int | None = None
) -> list[PlacementBatch]:
    """Place exactly what the preview with this fingerprint showed, all or nothing."""
    check_field_group(acting_user, FieldGroup.MANAGEMENT)
    ids = _clean_ids(account_ids)
    scoped = sorted(scope_to_user(PatientAccount.objects.filter(pk__in=ids), acting_user).values_list("pk", flat=True))
    # Locks in id order (no deadlock with another batch); the preview is recomputed under them.
    locked = {pk: account_lock(account_id=pk, bump=False, related=("patient",)) for pk in scoped}
    preview = _preview(acting_user, ids, agency_id)
    if not fingerprint or preview.fingerprint != fingerprint:
        raise ApplicationError(MESSAGE_PREVIEW_CHANGED, field="fingerprint")
    if not preview.count:
        raise ApplicationError(MESSAGE_NOTHING_TO_PLACE, field="accounts")
    now = timezone.now()
    return [_place_group(acting_user, group, locked, now) for group in preview.groups]


def _place_group(acting_user, group: PlacementGroup, locked: dict[int, PatientAccount], now) -> PlacementBatch:
    practice = group.practice
    # The agency's row lock: agency_set_active takes it too, so an agency is never stopped while
    # accounts are being placed with it (nor placed with once stopped).
    agency = Agency.objects.select_for_update().get(pk=group.agency.pk)
    if not agency.is_active:
        raise ApplicationError(MESSAGE_AGENCY_INACTIVE.format(agency=agency.name), field="agency")
    today = practice_today(practice, now)
    batch = PlacementBatch.objects.create(
        practice=practice,
        agency=agency,
        placed_on=today,
        bad_debt_written_off=practice.agency_bad_debt_at_placement,
        placed_by=_user_or_none(acting_user),
        placed_at=now,
    )
    records = []
    for pk in group.account_ids:
        account = locked[pk]
        _placement, record = _place_account(acting_user, batch, account, today, now)
        records.append(record)
    content = files.placement_fixed_width(records) if agency.file_layout == Agency.FileLayout.FIXED_WIDTH else None
    extension, content_type = ("txt", "text/plain") if content is not None else ("csv", "text/csv")
    if content is None:
        content = files.placement_csv(records)
    batch.account_count = len(records)
    batch.total = sum((record.balance for record in records), ZERO)
    batch.file = AgencyFile.objects.create(
        kind=AgencyFile.Kind.PLACEMENT,
        practice=practice,
        agency=agency,
        file_name=f"placement-{practice.code}-{batch.pk}-{today:%Y%m%d}.{extension}",
        content_type=content_type,
        content=content,
        record_count=batch.account_count,
        total=batch.total,
        created_by=_user_or_none(acting_user),
        created_at=now,
    )
    batch.save(update_fields=["account_count", "total", "file"])
    # Payments patients made to the practice on earlier placements go out with this file.
    _direct_payments_send(acting_user, agency)
    audit_record(
        user=acting_user,
        action=AuditEvent.Action.CREATE,
        obj=batch,
        field_group=FieldGroup.MANAGEMENT,
        detail={"agency_id": agency.pk, "accounts": batch.account_count, "file_id": batch.file_id},
    )
    return batch


def _place_account(acting_user, batch: PlacementBatch, account: PatientAccount, today: date, now):
    practice = account.practice
    aging = account_aging(account, as_of=today)
    open_dates = sorted(row.date_of_service for row in aging.encounters if row.open_amount > 0)
    delinquent_on = rules.delinquent_since(practice, open_dates[0] if open_dates else None)
    balance = account.patient_balance
    placement = Placement.objects.create(
        batch=batch,
        account=account,
        practice=practice,
        agency=batch.agency,
        placed_on=today,
        placed_balance=balance,
        delinquent_since=delinquent_on,
        first_service_on=open_dates[0] if open_dates else None,
        last_service_on=open_dates[-1] if open_dates else None,
        last_payment_on=account.last_patient_payment_on,
        report_to_credit_bureaus=rules.may_report_to_credit_bureaus(
            balance=balance, delinquent_on=delinquent_on, as_of=today
        ),
    )
    if practice.agency_bad_debt_at_placement:
        row = transaction_post(
            acting_user=acting_user,
            account_id=account.pk,
            kind=Kind.WRITE_OFF,
            patient_amount=-balance,
            effective_on=today,
            write_off_reason=BAD_DEBT_REASON,
            reference=f"AGENCY-BAD-DEBT-{placement.pk}",
            memo=f"Bad debt at placement with {batch.agency.name}",
        )
        placement.write_off = row
        placement.save(update_fields=["write_off"])
    _set_status(account, PatientAccount.Status.AGENCY, acting_user)
    audit_record(
        user=acting_user,
        action=AuditEvent.Action.CREATE,
        obj=placement,
        field_group=FieldGroup.MANAGEMENT,
        detail={
            "account_id": account.pk,
            "agency_id": batch.agency_id,
            "batch_id": batch.pk,
            "bad_debt": bool(placement.write_off_id),
            "report_to_credit_bureaus": placement.report_to_credit_bureaus,
        },
    )
    queue_refresh_account(account_id=account.pk)
    patient = account.patient
    record = files.PlacementRecord(
        account_number=account.account_number,
        last_name=patient.last_name,
        first_name=patient.first_name,
        address_line1=patient.address_line1,
        address_line2=patient.address_line2,
        city=patient.city,
        state=patient.state,
        postal_code=patient.postal_code,
        date_of_birth=patient.date_of_birth,
        balance=balance,
        first_service_on=placement.first_service_on,
        last_service_on=placement.last_service_on,
        last_payment_on=placement.last_payment_on,
        report_to_credit_bureaus=placement.report_to_credit_bureaus,
    )
    return placement, record


def _set_status(account: PatientAccount, status: str, acting_user=None) -> None:
    """The account's status, with its version bumped (the account's page and forms see the change)."""
    if account.status == status:
        return
    PatientAccount.objects.filter(pk=account.pk).update(
        status=status, version=F("version") + 1, updated_at=timezone.now()
    )
    old, account.status = account.status, status
    account.version += 1
    audit_record(
        user=acting_user,
        action=AuditEvent.Action.UPDATE,
        obj=account,
        field_group=FieldGroup.BILLING,
        detail={"fields": ["status"], "status": status, "was": old},
    )


def _status_after_agency(account: PatientAccount) -> str:
    running = PaymentPlan.objects.filter(account=account, status__in=PaymentPlan.RUNNING_STATUSES).exists()
    return PatientAccount.Status.PAYMENT_PLAN if running else PatientAccount.Status.ACTIVE


def _leave_agency(account: PatientAccount, acting_user=None) -> None:
    """The account comes back from the agency: to active (or its plan); on hold it stays on hold,
    and the hold now restores it to active, not to the agency."""
    if account.status == PatientAccount.Status.AGENCY:
        _set_status(account, _status_after_agency(account), acting_user)
    AccountHold.objects.filter(
        account=account, released_at__isnull=True, status_before=PatientAccount.Status.AGENCY
    ).update(status_before=PatientAccount.Status.ACTIVE)


# --- recall -------------------------------------------------------------------------------------------


def recall_locked(*, acting_user, placement: Placement, account: PatientAccount, reason: str, note: str = "", now=None):
    """Recall one placement whose account the caller has locked (by hand, or from a hold or payment)."""
    now = now or timezone.now()
    placement.status = Status.RECALLED
    placement.recalled_at = now
    placement.recalled_by = _user_or_none(acting_user)
    placement.recall_reason = reason
    placement.recall_note = note[:300]
    placement.report_to_credit_bureaus = False
    placement.save(
        update_fields=[
            "status",
            "recalled_at",
            "recalled_by",
            "recall_reason",
            "recall_note",
            "report_to_credit_bureaus",
        ]
    )
    _leave_agency(account, acting_user)
    audit_record(
        user=acting_user,
        action=AuditEvent.Action.UPDATE,
        obj=placement,
        field_group=FieldGroup.MANAGEMENT,
        detail={"account_id": account.pk, "status": Status.RECALLED, "reason": reason},
    )
    queue_refresh_account(account_id=account.pk)
    return placement


@transaction.atomic
def placement_recall(*, acting_user, placement_ids, note: str = "") -> tuple[list[Placement], list[AgencyFile]]:
    """Recall these placements (one or a batch) and make each agency's recall file at once."""
    check_field_group(acting_user, FieldGroup.MANAGEMENT)
    note = (note or "").strip()
    ids = set()
    for value in placement_ids or ():
        try:
            ids.add(int(value))
        except (TypeError, ValueError):
            raise ApplicationError(MESSAGE_NOTHING_TO_RECALL, field="placements") from None
    if not ids or min(ids) < 1 or max(ids) > MAX_ID:
        raise ApplicationError(MESSAGE_NOTHING_TO_RECALL, field="placements")
    rows = list(
        scope_to_user(Placement.objects.filter(pk__in=ids), acting_user)
        .values_list("pk", "account_id")
        .order_by("account_id")
    )
    if len(rows) != len(ids):
        raise ApplicationError(MESSAGE_NOT_FOUND, field="placements")
    now = timezone.now()
    recalled = []
    for pk, account_id in rows:
        account = account_lock(account_id=account_id)
        placement = Placement.objects.select_for_update().get(pk=pk)
        if placement.status != Status.PLACED:
            raise ApplicationError(MESSAGE_NOT_PLACED.format(status=placement.get_status_display().lower()))
        recalled.append(
            recall_locked(
                acting_user=acting_user,
                placement=placement,
                account=account,
                reason=RecallReason.BY_HAND,
                note=note,
                now=now,
            )
        )
    made = [
        recall_file_build(acting_user=acting_user, agency_id=agency_id)
        for agency_id in sorted({placement.agency_id for placement in recalled})
    ]
    return recalled, made


@transaction.atomic
def recall_file_build(*, acting_user, agency_id: int) -> AgencyFile:
    """The recall file for an agency: every placement recalled since its last recall file."""
    check_field_group(acting_user, FieldGroup.MANAGEMENT)
    agency = scope_to_user(Agency.objects.select_related("practice"), acting_user).get(pk=agency_id)
    pending = list(
        Placement.objects.select_for_update(of=("self",))
        .filter(agency=agency, status=Status.RECALLED, recall_file__isnull=True)
        .select_related("account__patient")
        .order_by("recalled_at", "id")
    )
    if not pending:
        raise ApplicationError(MESSAGE_NOTHING_TO_SEND.format(agency=agency.name))
    zone_today = practice_today(agency.practice)
    rows = [
        (
            p.account.account_number,
            p.account.patient.last_name,
            p.account.patient.first_name,
            p.placed_on,
            practice_today(agency.practice, p.recalled_at),
            p.get_recall_reason_display(),
        )
        for p in pending
    ]
    made = AgencyFile.objects.create(
        kind=AgencyFile.Kind.RECALL,
        practice=agency.practice,
        agency=agency,
        file_name=f"recall-{agency.practice.code}-{agency.pk}-{zone_today:%Y%m%d}.csv",
        content=files.recall_csv(rows),
        record_count=len(rows),
        total=sum((p.placed_balance for p in pending), ZERO),
        created_by=_user_or_none(acting_user),
    )
    Placement.objects.filter(pk__in=[p.pk for p in pending]).update(recall_file=made)
    audit_record(
        user=acting_user,
        action=AuditEvent.Action.CREATE,
        obj=made,
        field_group=FieldGroup.MANAGEMENT,
        detail={"kind": made.kind, "agency_id": agency.pk, "records": len(rows)},
    )
    _direct_payments_send(acting_user, agency)
    return made


def _direct_payments_send(acting_user, agency: Agency) -> AgencyFile | None:
    """The direct-payments file for everything patients paid the practice since the last one, or
    None when there is nothing to tell. Locks the rows it reports (two managers: one file)."""
    pending = list(
        DirectPayment.objects.select_for_update(of=("self",))
        .filter(agency=agency, reported_in__isnull=True)
        .select_related("placement__account")
        .order_by("paid_on", "id")
    )
    if not pending:
        return None
    today = practice_today(agency.practice)
    made = AgencyFile.objects.create(
        kind=AgencyFile.Kind.DIRECT_PAYMENTS,
        practice=agency.practice,
        agency=agency,
        file_name=f"direct-payments-{agency.practice.code}-{agency.pk}-{today:%Y%m%d}.csv",
        content=files.direct_payments_csv(
            [(row.placement.account.account_number, row.paid_on, row.amount) for row in pending]
        ),
        record_count=len(pending),
        total=sum((row.amount for row in pending), ZERO),
        created_by=_user_or_none(acting_user),
    )
    DirectPayment.objects.filter(pk__in=[row.pk for row in pending]).update(reported_in=made)
    audit_record(
        user=acting_user,
        action=AuditEvent.Action.CREATE,
        obj=made,
        field_group=FieldGroup.MANAGEMENT,
        detail={"kind": made.kind, "agency_id": agency.pk, "records": len(pending)},
    )
    return made


@transaction.atomic
def direct_payments_file_build(*, acting_user, agency_id: int) -> AgencyFile:
    """Tell the agency what patients paid the practice directly since the last such file. (Every
    placement or recall file made for the agency also sends this file when there is anything to
    tell: a direct payment goes out with the next file the agency gets, whichever it is.)"""
    check_field_group(acting_user, FieldGroup.MANAGEMENT)
    agency = scope_to_user(Agency.objects.select_related("practice"), acting_user).get(pk=agency_id)
    made = _direct_payments_send(acting_user, agency)
    if made is None:
        raise ApplicationError(MESSAGE_NOTHING_TO_SEND.format(agency=agency.name))
    return made


# --- what follows the ledger and holds (collections_app.agencies.receivers) ----------------------------


def after_posting(*, posting: Transaction, account_id: int, acting_user) -> None:
    """A payment on an account at an agency: a direct payment is listed for the agency's next file;
    paid in full, the placement ends (closed if the agency collected it, recalled if the patient
    paid the practice); under $500 owed, the agency may no longer report it."""
    kind = posting.kind
    reversed_kind = None
    if kind == Kind.REVERSAL:
        reversed_kind = Transaction.objects.values_list("kind", flat=True).get(pk=posting.reverses_id)
        if reversed_kind not in (Kind.PATIENT_PAYMENT, Kind.AGENCY_PAYMENT):
            return
    elif kind not in (Kind.PATIENT_PAYMENT, Kind.AGENCY_PAYMENT):
        return
    placement = Placement.objects.filter(account_id=account_id, status=Status.PLACED).select_for_update().first()
    if placement is None:
        return
    if Kind.PATIENT_PAYMENT in (kind, reversed_kind):
        DirectPayment.objects.create(
            placement=placement,
            agency_id=placement.agency_id,
            practice_id=placement.practice_id,
            transaction=posting,
            paid_on=posting.effective_on,
            amount=-posting.patient_amount,
        )
    if reversed_kind == Kind.AGENCY_PAYMENT:
        Placement.objects.filter(pk=placement.pk).update(collected=F("collected") - posting.patient_amount)
    account = account_lock(account_id=account_id, bump=False)
    owed = outstanding(account)
    if owed <= 0 and kind == Kind.PATIENT_PAYMENT:
        recall_locked(acting_user=acting_user, placement=placement, account=account, reason=RecallReason.PAID_IN_FULL)
    elif owed <= 0 and kind == Kind.AGENCY_PAYMENT:
        placement.status, placement.closed_at, placement.report_to_credit_bureaus = Status.CLOSED, timezone.now(), False
        placement.save(update_fields=["status", "closed_at", "report_to_credit_bureaus"])
        _leave_agency(account, acting_user)
        audit_record(
            user=acting_user,
            action=AuditEvent.Action.UPDATE,
            obj=placement,
            field_group=FieldGroup.MANAGEMENT,
            detail={"account_id": account.pk, "status": Status.CLOSED},
        )
    elif placement.report_to_credit_bureaus and owed < rules.CREDIT_REPORT_MIN_BALANCE:
        placement.report_to_credit_bureaus = False
        placement.save(update_fields=["report_to_credit_bureaus"])


def after_hold_placed(*, hold: AccountHold) -> None:
    """A hold (LOP, probate, bankruptcy, dispute) recalls the account from its agency at once."""
    placement = Placement.objects.filter(account_id=hold.account_id, status=Status.PLACED).select_for_update().first()
    if placement is None:
        return
    account = account_lock(account_id=hold.account_id, bump=False)
    reason = RecallReason.DISPUTE if hold.kind == AccountHold.Kind.DISPUTE else RecallReason.HOLD
    recall_locked(
        acting_user=hold.placed_by, placement=placement, account=account, reason=reason, note=hold.get_kind_display()
    )
    # The hold being written still says "agency" in memory; the row now says active (_leave_agency).
    hold.status_before = PatientAccount.Status.ACTIVE


# --- agency payments ------------------------------------------------------------------------------------


@dataclass
class PostedLine:
    line_number: int | None
    account_number: str
    paid_on: date
    gross: Decimal
    commission: Decimal
    net: Decimal
    already_posted: bool
    recovered: Decimal = ZERO


@dataclass
class PaymentImportResult:
    payment_import: AgencyPaymentImport
    lines: list[PostedLine]
    replayed: bool = False

    @property
    def posted_count(self) -> int:
        return sum(1 for line in self.lines if not line.already_posted)


def _post_payment(
    *,
    acting_user,
    agency: Agency,
    placement: Placement,
    paid_on: date,
    gross: Decimal,
    commission: Decimal,
    reference: str,
    payment_import=None,
    line_number=None,
) -> tuple[AgencyPayment, bool]:
    net = gross - commission
    row = transaction_post(
        acting_user=acting_user,
        account_id=placement.account_id,
        kind=Kind.AGENCY_PAYMENT,
        patient_amount=-gross,
        effective_on=paid_on,
        reference=reference,
        memo=f"{agency.name}: gross ${gross:,.2f}, commission ${commission:,.2f}, net ${net:,.2f}"[:200],
    )
    if row.replayed:
        existing = AgencyPayment.objects.filter(transaction=row).first()
        if existing is not None:
            return existing, True
    payment = AgencyPayment.objects.create(
        placement=placement,
        account_id=placement.account_id,
        practice_id=placement.practice_id,
        agency=agency,
        payment_import=payment_import,
        line_number=line_number,
        paid_on=paid_on,
        gross=gross,
        commission=commission,
        net=net,
        transaction=row,
        posted_by=_user_or_none(acting_user),
    )
    Placement.objects.filter(pk=placement.pk).update(collected=F("collected") + gross)
    audit_record(
        user=acting_user,
        action=AuditEvent.Action.POST,
        obj=payment,
        field_group=FieldGroup.MANAGEMENT,
        detail={
            "account_id": placement.account_id,
            "transaction_id": row.pk,
            "import_id": getattr(payment_import, "pk", None),
        },
    )
    return payment, False


def _latest_placements(agency: Agency, account_ids) -> dict[int, Placement]:
    latest: dict[int, Placement] = {}
    for placement in Placement.objects.filter(agency=agency, account_id__in=list(account_ids)).order_by(
        "placed_on", "id"
    ):
        latest[placement.account_id] = placement
    return latest


def _file_reference(agency: Agency, line, occurrence: int) -> str:
    """A row's ledger reference: the same row in any file of this agency names the same posting."""
    gross, commission = files.cents(line.gross, 1), files.cents(line.commission, 1)
    # Letters between the numbers: no run of digits the card-number guard could mistake for a card.
    return f"AGY{agency.pk}D{line.paid_on:%Y%m%d}G{gross}C{commission}N{occurrence}"


@transaction.atomic
def agency_payment_import(*, acting_user, agency_id: int, data: bytes, file_name: str = "") -> PaymentImportResult:
    """Post an agency's payment file: every row or none. A file that does not reconcile (its TOTAL
    line against its rows, a row's net against gross less commission), names an account that was
    not placed with the agency, or pays more than an account owes, is refused naming the line.
    The same file again posts nothing; a row seen in an earlier file (same account, date, gross,
    commission) is not posted twice: each row's ledger reference is made from those values."""
    check_field_group(acting_user, FieldGroup.MANAGEMENT)
    agency = scope_to_user(Agency.objects.select_related("practice"), acting_user).filter(pk=agency_id).first()
    if agency is None:
        raise ApplicationError("Choose an agency of your practices.", field="agency")
    parsed = files.parse_payment_file(data)
    earlier = AgencyPaymentImport.objects.filter(agency=agency, digest=parsed.digest).first()
    if earlier is not None:
        lines = [
            PostedLine(p.line_number, p.account.account_number, p.paid_on, p.gross, p.commission, p.net, True)
            for p in earlier.payments.select_related("account").order_by("line_number", "id")
        ]
        return PaymentImportResult(payment_import=earlier, lines=lines, replayed=True)
    practice = agency.practice
    today = practice_today(practice)
    numbers = {line.account_number for line in parsed.lines}
    accounts = dict(
        PatientAccount.objects.filter(practice=practice, account_number__in=numbers).values_list("account_number", "pk")
    )
    for line in parsed.lines:
        if line.account_number not in accounts:
            raise ApplicationError(
                MESSAGE_LINE_UNKNOWN_ACCOUNT.format(
                    line=line.line_number, number=line.account_number, practice=practice.name
                ),
                field="file",
            )
        if line.paid_on > today:
            raise ApplicationError(
                MESSAGE_LINE_FUTURE.format(line=line.line_number, paid_on=line.paid_on), field="file"
            )
    placements = _latest_placements(agency, accounts.values())
    for line in parsed.lines:
        if accounts[line.account_number] not in placements:
            raise ApplicationError(
                MESSAGE_LINE_NOT_PLACED.format(line=line.line_number, number=line.account_number, agency=agency.name),
                field="file",
            )
    locked = {pk: account_lock(account_id=pk, bump=False) for pk in sorted(set(accounts.values()))}
    owed = {pk: outstanding(account) for pk, account in locked.items()}
    payment_import = AgencyPaymentImport.objects.create(
        practice=practice,
        agency=agency,
        file_name=file_name[:200],
        digest=parsed.digest,
        row_count=len(parsed.lines),
        gross_total=parsed.gross_total,
        commission_total=parsed.commission_total,
        net_total=parsed.net_total,
        uploaded_by=_user_or_none(acting_user),
    )
    seen: dict[tuple, int] = defaultdict(int)
    result = []
    for line in parsed.lines:
        pk = accounts[line.account_number]
        key = (pk, line.paid_on, line.gross, line.commission)
        seen[key] += 1
        reference = _file_reference(agency, line, seen[key])
        if not Transaction.objects.filter(account_id=pk, reference=reference).exists():
            if line.gross > owed[pk]:
                raise ApplicationError(
                    MESSAGE_LINE_OVERPAID.format(
                        line=line.line_number, number=line.account_number, owed=owed[pk], gross=line.gross
                    ),
                    field="file",
                )
            owed[pk] -= line.gross
        _payment, already = _post_payment(
            acting_user=acting_user,
            agency=agency,
            placement=placements[pk],
            paid_on=line.paid_on,
            gross=line.gross,
            commission=line.commission,
            reference=reference,
            payment_import=payment_import,
            line_number=line.line_number,
        )
        result.append(
            PostedLine(
                line.line_number, line.account_number, line.paid_on, line.gross, line.commission, line.net, already
            )
        )
    audit_record(
        user=acting_user,
        action=AuditEvent.Action.CREATE,
        obj=payment_import,
        field_group=FieldGroup.MANAGEMENT,
        detail={"agency_id": agency.pk, "rows": len(result), "posted": sum(1 for r in result if not r.already_posted)},
    )
    return PaymentImportResult(payment_import=payment_import, lines=result)


@transaction.atomic
def agency_payment_record(
    *, acting_user, placement_id: int, paid_on: date, gross, commission=None, reference: str
) -> tuple[AgencyPayment, bool]:
    """Post one agency payment by hand (from the agency's remittance statement). The commission
    defaults to the agency's rate; the same reference again posts nothing."""
    check_field_group(acting_user, FieldGroup.MANAGEMENT)
    reference = (reference or "").strip()
    if not reference:
        raise ApplicationError(MESSAGE_NEEDS_REFERENCE, field="reference")
    placement = (
        scope_to_user(Placement.objects.select_related("agency", "practice"), acting_user)
        .filter(pk=placement_id)
        .first()
    )
    if placement is None:
        raise ApplicationError(MESSAGE_NOT_FOUND, field="placement")
    gross = to_money(gross)
    if gross <= 0:
        raise ApplicationError(MESSAGE_GROSS, field="gross")
    commission = commission_for(placement.agency, gross) if commission in (None, "") else to_money(commission)
    if commission < 0 or commission > gross:
        raise ApplicationError(MESSAGE_COMMISSION, field="commission")
    if paid_on > practice_today(placement.practice):
        raise ApplicationError(MESSAGE_FUTURE, field="paid_on")
    account = account_lock(account_id=placement.account_id, bump=False)
    full_reference = f"AGYH{placement.agency_id}-{reference}"[:80]
    if not Transaction.objects.filter(account=account, reference=full_reference).exists():
        owed = outstanding(account)
        if gross > owed:
            raise ApplicationError(MESSAGE_OVERPAID.format(owed=owed, gross=gross), field="gross")
    return _post_payment(
        acting_user=acting_user,
        agency=placement.agency,
        placement=placement,
        paid_on=paid_on,
        gross=gross,
        commission=commission,
        reference=full_reference,
    )


# --- agency upkeep (Management: the agencies of their own practices) ----------------------------------
#
# Agencies belong to one practice (Agency.practice; a name is unique within it). A manager adds,
# changes and stops using the agencies of the practices they may see; nothing here needs a
# Director: the practice is fixed once the agency exists (its placements, files and payments are
# that practice's), and every change writes an audit row with the old and new values, so the
# audit trail shows who changed a commission rate and when. An agency is never deleted.

AGENCY_FIELDS = (
    "name",
    "contact_name",
    "phone",
    "email",
    "mailing_address",
    "commission_rate",
    "file_layout",
    "is_default",
)
COMMISSION_MAX = Decimal("100")

MESSAGE_AGENCY_NAME = "Enter the agency's name."
MESSAGE_AGENCY_NAME_TAKEN = "{practice} already has an agency named {name}."
MESSAGE_AGENCY_PRACTICE = "Choose one of your practices."
MESSAGE_AGENCY_PHONE = "Enter a ten-digit phone number, area code first."
MESSAGE_AGENCY_EMAIL = "Enter an email address such as placements@agency.example."
MESSAGE_AGENCY_RATE = "Enter the commission as a percent from 0 to 100, with at most two decimals (e.g. 25 or 27.50)."
MESSAGE_AGENCY_LAYOUT = "Choose CSV or fixed-width for the placement file."
MESSAGE_AGENCY_TOO_LONG = "Keep this to {limit} characters."
MESSAGE_AGENCY_CHANGED = "Someone else changed this agency since you opened it. Here it is as it is now."
MESSAGE_AGENCY_DEFAULT_INACTIVE = "{agency} no longer takes placements, so it cannot be the practice's default."
MESSAGE_AGENCY_HAS_PLACEMENTS = (
    "{agency} still has {count} account{s} placed with it. Recall {them} (Placements and files) "
    "before it stops taking placements."
)


def phone_digits(value) -> str:
    """A phone number as its ten digits ('' when none given); a leading 1 is dropped."""
    digits = "".join(ch for ch in str(value or "") if ch.isascii() and ch.isdigit())
    if len(digits) == 11 and digits.startswith("1"):
        digits = digits[1:]
    if digits and len(digits) != 10:
        raise ApplicationError(MESSAGE_AGENCY_PHONE, field="phone")
    return digits


def commission_percent(value) -> Decimal:
    """A commission rate: a percent from 0 to 100 with at most two decimals, as a Decimal."""
    try:
        rate = Decimal(str(value).strip().rstrip("%").strip())
    except (ArithmeticError, ValueError, TypeError):
        raise ApplicationError(MESSAGE_AGENCY_RATE, field="commission_rate") from None
    if not rate.is_finite() or rate < 0 or rate > COMMISSION_MAX or rate != rate.quantize(Decimal("0.01")):
        raise ApplicationError(MESSAGE_AGENCY_RATE, field="commission_rate")
    return rate.quantize(Decimal("0.01"))


def _agency_values(values: dict) -> dict:
    """The given agency fields checked and normalised (the form and the API check types first)."""
    clean = {}
    for name, value in values.items():
        if name in ("name", "contact_name", "email", "mailing_address"):
            value = (value or "").strip()
            limit = Agency._meta.get_field(name).max_length
            if limit and len(value) > limit:
                raise ApplicationError(MESSAGE_AGENCY_TOO_LONG.format(limit=limit), field=name)
        if name == "name" and not value:
            raise ApplicationError(MESSAGE_AGENCY_NAME, field="name")
        if name == "email" and value:
            try:
                validate_email(value)
            except ValidationError:
                raise ApplicationError(MESSAGE_AGENCY_EMAIL, field="email") from None
        if name == "phone":
            value = phone_digits(value)
        if name == "commission_rate":
            value = commission_percent(value)
        if name == "file_layout" and value not in Agency.FileLayout.values:
            raise ApplicationError(MESSAGE_AGENCY_LAYOUT, field="file_layout")
        if name == "is_default":
            value = bool(value)
        clean[name] = value
    return clean


def _name_taken(practice: Practice, name: str, exclude_pk: int | None = None) -> bool:
    same = Agency.objects.filter(practice=practice, name__iexact=name)
    if exclude_pk is not None:
        same = same.exclude(pk=exclude_pk)
    return same.exists()


def _take_default(acting_user, agency: Agency, now) -> None:
    """Make `agency` its practice's default: the one before it stops being the default (one default
    per practice, a partial unique constraint), with its own audit row."""
    earlier = list(
        Agency.objects.select_for_update().filter(practice_id=agency.practice_id, is_default=True).exclude(pk=agency.pk)
    )
    for other in earlier:
        Agency.objects.filter(pk=other.pk).update(is_default=False, updated_at=now)
        audit_record(
            user=acting_user,
            action=AuditEvent.Action.UPDATE,
            obj=other,
            field_group=FieldGroup.MANAGEMENT,
            detail={"fields": ["is_default"], "changes": {"is_default": {"was": True, "now": False}}},
        )


def _scoped_agency_for_update(acting_user, agency_id) -> Agency:
    agency = (
        scope_to_user(Agency.objects.select_for_update(of=("self",)).select_related("practice"), acting_user)
        .filter(pk=agency_id)
        .first()
    )
    if agency is None:
        raise ApplicationError("Choose an agency of your practices.", field="agency")
    return agency


@transaction.atomic
def agency_create(
    *,
    acting_user,
    practice_id: int,
    name: str,
    commission_rate,
    contact_name: str = "",
    phone: str = "",
    email: str = "",
    mailing_address: str = "",
    file_layout: str = Agency.FileLayout.CSV,
    is_default: bool = False,
) -> Agency:
    """A new agency for one of the user's practices."""
    check_field_group(acting_user, FieldGroup.MANAGEMENT)
    try:
        practice_pk = int(practice_id)
    except (TypeError, ValueError):
        practice_pk = 0
    practice = None
    if 1 <= practice_pk <= MAX_ID:
        practice = (
            scope_to_user(Practice.objects.filter(is_active=True), acting_user, practice_field="pk")
            .filter(pk=practice_pk)
            .first()
        )
    if practice is None:
        raise ApplicationError(MESSAGE_AGENCY_PRACTICE, field="practice")
    values = _agency_values(
        {
            "name": name,
            "contact_name": contact_name,
            "phone": phone,
            "email": email,
            "mailing_address": mailing_address,
            "commission_rate": commission_rate,
            "file_layout": file_layout,
            "is_default": is_default,
        }
    )
    # Serialise adding agencies to one practice (the name check, the one default).
    list(Practice.objects.select_for_update().filter(pk=practice.pk).values_list("pk", flat=True))
    if _name_taken(practice, values["name"]):
        raise ApplicationError(
            MESSAGE_AGENCY_NAME_TAKEN.format(practice=practice.name, name=values["name"]), field="name"
        )
    now = timezone.now()
    try:
        with transaction.atomic():
            agency = Agency(practice=practice, created_at=now, updated_at=now, **{**values, "is_default": False})
            agency.save()
    except IntegrityError:
        raise ApplicationError(
            MESSAGE_AGENCY_NAME_TAKEN.format(practice=practice.name, name=values["name"]), field="name"
        ) from None
    if values["is_default"]:
        _take_default(acting_user, agency, now)
        Agency.objects.filter(pk=agency.pk).update(is_default=True)
        agency.is_default = True
    audit_record(
        user=acting_user,
        action=AuditEvent.Action.CREATE,
        obj=agency,
        field_group=FieldGroup.MANAGEMENT,
        detail={"fields": sorted(values), "commission_rate": str(agency.commission_rate), "default": agency.is_default},
    )
    return agency


def _audit_value(value):
    return value if isinstance(value, bool) else str(value)


@transaction.atomic
def agency_update(*, acting_user, agency_id: int, expected_updated_at=None, is_active=None, **changes) -> Agency:
    """Change an agency's name, contact, commission rate, file layout or default; with `is_active`,
    start or stop its taking placements too (agency_set_active). A commission change applies to
    payments posted from now on; what was posted keeps the commission it was posted with."""
    check_field_group(acting_user, FieldGroup.MANAGEMENT)
    unknown = set(changes) - set(AGENCY_FIELDS)
    if unknown:
        raise TypeError(f"agency_update() got unexpected fields: {sorted(unknown)}")
    agency = _scoped_agency_for_update(acting_user, agency_id)
    if expected_updated_at is not None and agency.updated_at != expected_updated_at:
        raise ApplicationError(MESSAGE_AGENCY_CHANGED)
    values = _agency_values(changes)
    if "name" in values and _name_taken(agency.practice, values["name"], exclude_pk=agency.pk):
        raise ApplicationError(
            MESSAGE_AGENCY_NAME_TAKEN.format(practice=agency.practice.name, name=values["name"]), field="name"
        )
    if is_active is not None and bool(is_active) != agency.is_active:
        agency = _set_active(acting_user, agency, bool(is_active))
    if values.get("is_default") and not agency.is_active:
        raise ApplicationError(MESSAGE_AGENCY_DEFAULT_INACTIVE.format(agency=agency.name), field="is_default")
    changed = {name: value for name, value in values.items() if getattr(agency, name) != value}
    if not changed:
        return agency
    now = timezone.now()
    if changed.get("is_default"):
        _take_default(acting_user, agency, now)
    record = {
        name: {"was": _audit_value(getattr(agency, name)), "now": _audit_value(value)}
        for name, value in changed.items()
    }
    for name, value in changed.items():
        setattr(agency, name, value)
    agency.updated_at = now
    agency.save(update_fields=[*changed, "updated_at"])
    audit_record(
        user=acting_user,
        action=AuditEvent.Action.UPDATE,
        obj=agency,
        field_group=FieldGroup.MANAGEMENT,
        detail={"fields": sorted(changed), "changes": record},
    )
    return agency


def _set_active(acting_user, agency: Agency, active: bool) -> Agency:
    """The caller holds the agency's row lock: placement takes the same lock (_place_group), so no
    account is placed with an agency while it is being stopped."""
    if agency.is_active == active:
        return agency
    fields = ["is_active", "updated_at"]
    if not active:
        count = Placement.objects.filter(agency=agency, status=Status.PLACED).count()
        if count:
            raise ApplicationError(
                MESSAGE_AGENCY_HAS_PLACEMENTS.format(
                    agency=agency.name, count=count, s="s" if count != 1 else "", them="them" if count != 1 else "it"
                ),
                field="is_active",
            )
        if agency.is_default:
            # An agency that takes no placements is no practice's default: each placement then names one.
            agency.is_default = False
            fields.append("is_default")
    agency.is_active = active
    agency.updated_at = timezone.now()
    agency.save(update_fields=fields)
    audit_record(
        user=acting_user,
        action=AuditEvent.Action.UPDATE,
        obj=agency,
        field_group=FieldGroup.MANAGEMENT,
        detail={"fields": sorted(set(fields) - {"updated_at"}), "is_active": active},
    )
    return agency


@transaction.atomic
def agency_set_active(*, acting_user, agency_id: int, active: bool) -> Agency:
    """Stop an agency taking placements (refused, in words, while accounts are placed with it; it
    stops being the default), or take it back. Its files, payments and history stay."""
    check_field_group(acting_user, FieldGroup.MANAGEMENT)
    return _set_active(acting_user, _scoped_agency_for_update(acting_user, agency_id), bool(active))
