"""Placing and releasing holds. A hold pauses statements, dunning and agency referral.

Several holds may be active at once (one per kind). The account shows status "hold" with the most
restrictive active kind as its hold reason; the status it had before the first hold is kept on each
hold and restored when the last one is released.
"""

import io
import logging
import re
from datetime import date, timedelta
from decimal import Decimal, InvalidOperation

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.utils import timezone
from pypdf import PdfReader
from pypdf.generic import ArrayObject, DictionaryObject, IndirectObject, NameObject

from accounts.models import Patient, PatientAccount
from accounts.money import to_money
from accounts.selectors import account_practice_today
from accounts.services import account_lock
from accounts.validators import refuse_card_numbers
from collections_app.holds.probate import claim_deadline_for
from collections_app.holds.selectors import KIND_PRIORITY
from collections_app.models import AccountHold
from collections_app.queues.services import queue_refresh_account
from core.access import FieldGroup
from core.audit import audit_record
from core.errors import ApplicationError
from core.models import AuditEvent
from payment_plans.models import PaymentPlan

Kind = AccountHold.Kind
logger = logging.getLogger(__name__)

BANKRUPTCY_CHAPTERS = (7, 11, 13)
# 45 CFR 149.620: a patient-provider dispute may be started within 120 days of the bill.
NO_SURPRISES_DISPUTE_DAYS = 120
PROBATE_REVIEW_DAYS_BEFORE_DEADLINE = 14
PDF_CONTENT_TYPES = {"application/pdf", "application/x-pdf"}
DISPUTE_WINDOW_ENDED = "Dispute window ended"

MESSAGE_UNKNOWN_KIND = "Choose the kind of hold."
MESSAGE_ALREADY_HELD = "This account already has an active {kind} hold."
MESSAGE_ACCOUNT_CLOSED = "A closed account cannot be put on hold."
MESSAGE_PLACED_IN_FUTURE = "A hold cannot start in the future."
MESSAGE_RELEASE_REASON = "Say why the hold is released."
MESSAGE_ALREADY_RELEASED = "This hold has already been released."
MESSAGE_NEEDS_ATTORNEY = "Enter the attorney's name."
MESSAGE_LETTER_NOT_PDF = "The Letter of Protection must be a PDF file."
MESSAGE_LETTER_TOO_LARGE = "The letter is larger than {limit}. Ask the attorney's office for a smaller copy."
MESSAGE_LETTER_UNREADABLE = (
    "The letter could not be opened as a PDF; it may be damaged. Ask the attorney's office to send it again."
)
MESSAGE_LETTER_ENCRYPTED = "The letter is password-protected. Ask the attorney's office for a copy without a password."
MESSAGE_LETTER_TOO_COMPLEX = "The letter has too many parts to check. Print it to a new PDF and upload that."
MESSAGE_LETTER_ACTIVE_CONTENT = (
    "The letter contains scripts, attached files or web page code, which are not accepted. Ask the "
    "attorney's office for a plain PDF, or print the letter to a new PDF and upload that."
)
MESSAGE_NEEDS_DEATH_DATE = "Enter the date of death."
MESSAGE_DEATH_IN_FUTURE = "The date of death cannot be in the future."
MESSAGE_PUBLISHED_NOTICE_BEFORE_DEATH = "The notice to creditors cannot have been published before the date of death."
MESSAGE_MAILED_NOTICE_BEFORE_DEATH = "The notice to creditors cannot have been mailed before the date of death."
MESSAGE_BAD_CHAPTER = "Choose chapter 7, 11 or 13."
MESSAGE_NEEDS_FILING_DATE = "Enter the date the bankruptcy was filed."
MESSAGE_NEEDS_CASE_NUMBER = "Enter the bankruptcy case number."
MESSAGE_NEEDS_DISPUTE_KIND = "Choose whether the dispute is about the balance or under the No Surprises Act."
MESSAGE_NEEDS_RECEIVED_DATE = "Enter the date the dispute was received."
MESSAGE_NOT_LOP = "Only a Letter of Protection hold has status checks and a letter."
MESSAGE_BAD_LOP_STATUS = "Choose the case status."
MESSAGE_NEEDS_SETTLEMENT = "Enter the settlement amount."
MESSAGE_BAD_SETTLEMENT = "Enter a settlement amount greater than zero."


def most_restrictive(kinds) -> str:
    present = set(kinds)
    return next((kind for kind in KIND_PRIORITY if kind in present), "")


# --- the Letter of Protection file ------------------------------------------------------------------
#
# Billing staff open the letter in their PDF viewer, so it must be a plain document: it parses as a
# PDF, has no password, and holds nothing a viewer runs or opens: JavaScript (a /JS entry, the Names
# tree's /JavaScript, OpenAction and AA actions of type JavaScript, XFA forms), Launch actions,
# embedded files (/EmbeddedFiles, /EF, file attachment annotations, GoToE) or RichMedia. Every object
# is checked, the ones reachable from the trailer and any other the cross-reference lists: a viewer
# that repairs a broken file may find those too. The raw bytes outside streams are searched as well,
# for the same names and for HTML markup: a file that is also a web page (a polyglot) is refused
# although it parses. The size comes first, so a large file is never parsed.

_LETTER_KEYS_REFUSED = {
    "/JS": "javascript",
    "/JavaScript": "javascript",
    "/XFA": "javascript",
    "/EmbeddedFiles": "embedded_file",
    "/EF": "embedded_file",
    "/RichMediaContent": "rich_media",
    "/RichMediaSettings": "rich_media",
}
_LETTER_NAMES_REFUSED = {
    "/S": {"/JavaScript": "javascript", "/Launch": "launch", "/GoToE": "embedded_file"},
    "/Type": {"/EmbeddedFile": "embedded_file"},
    "/Subtype": {"/RichMedia": "rich_media", "/FileAttachment": "embedded_file"},
}
# Stream data is skipped by the raw search (compressed bytes would match by chance); the objects
# inside compressed object streams are covered by the parsed check.
_STREAM_START = re.compile(rb"(?<![A-Za-z])stream\r?\n")
# A PDF name ends at white space or a delimiter.
_RAW_NAMES_REFUSED = re.compile(rb"/(?:JS|JavaScript|Launch|EmbeddedFiles?|RichMedia\w*|XFA)(?![^\s()<>\[\]{}/%])")
# None of these can be PDF syntax outside a string or a comment (a hex string holds hex digits only).
_HTML_MARKUP = re.compile(
    rb"<(?:!doctype|html|head|body|script|iframe|frame|object|embed|svg|img|meta|link|style|form)[\s>/]",
    re.IGNORECASE,
)
_HTML_SNIFFED_BYTES = 1024  # browsers sniff the start of a file, stream data included
# Dictionaries and arrays a letter may have (a 100-page letter with its fonts has a few thousand);
# a file with more is refused rather than walked: walking 100,000 takes pypdf about a second.
_LETTER_MAX_NODES = 100_000


class _LetterRefused(Exception):
    def __init__(self, reason: str, message: str):
        super().__init__(reason)
        self.reason, self.message = reason, message


def letter_too_large_message() -> str:
    limit = settings.LOP_LETTER_MAX_BYTES
    size = f"{limit / 2**20:.3g} MB" if limit >= 2**20 else f"{limit:,} bytes"
    return MESSAGE_LETTER_TOO_LARGE.format(limit=size)


def _refused_name(node: DictionaryObject) -> str | None:
    """Why this dictionary makes the letter unacceptable, or None."""
    for key in node:
        if key in _LETTER_KEYS_REFUSED:
            return _LETTER_KEYS_REFUSED[key]
    for key, refused in _LETTER_NAMES_REFUSED.items():
        value = dict.get(node, key)
        if isinstance(value, IndirectObject):
            value = value.get_object()
        if isinstance(value, NameObject) and value in refused:
            return refused[value]
    return None


def _letter_objects(reader: PdfReader):
    """Every dictionary of the file: from the trailer and from every object the cross-reference lists."""
    stack: list = [reader.trailer]
    for generation, table in reader.xref.items():
        stack.extend(IndirectObject(number, generation, reader) for number in table)
    stack.extend(IndirectObject(number, 0, reader) for number in reader.xref_objStm)
    seen: set[tuple[int, int]] = set()
    nodes = 0
    while stack:
        node = stack.pop()
        if isinstance(node, IndirectObject):
            if (node.idnum, node.generation) in seen:
                continue
            seen.add((node.idnum, node.generation))
            node = node.get_object()
        if isinstance(node, DictionaryObject):  # streams too: their dictionary, never their data
            children = dict.values(node)
            yield node
        elif isinstance(node, ArrayObject):
            children = list.__iter__(node)
        else:
            continue
        nodes += 1
        if nodes > _LETTER_MAX_NODES:
            raise _LetterRefused("too_many_objects", MESSAGE_LETTER_TOO_COMPLEX)
        stack.extend(child for child in children if isinstance(child, IndirectObject | DictionaryObject | ArrayObject))


def _outside_streams(data: bytes) -> bytes:
    """The file without its stream data, in one pass (a regex with `.*?endstream` is quadratic on a
    file of many `stream` keywords and no `endstream`). An unterminated stream is kept, to be searched."""
    parts, position = [], 0
    while (start := _STREAM_START.search(data, position)) is not None:
        end = data.find(b"endstream", start.end())
        if end == -1:
            break
        parts.append(data[position : start.start()])
        position = end + len(b"endstream")
    parts.append(data[position:])
    return b" ".join(parts)


def _check_letter_bytes(data: bytes) -> None:
    if not data.startswith(b"%PDF-"):
        raise _LetterRefused("not_pdf", MESSAGE_LETTER_NOT_PDF)
    outside_streams = _outside_streams(data)
    if _HTML_MARKUP.search(data[:_HTML_SNIFFED_BYTES]) or _HTML_MARKUP.search(outside_streams):
        raise _LetterRefused("html", MESSAGE_LETTER_ACTIVE_CONTENT)
    if _RAW_NAMES_REFUSED.search(outside_streams):
        raise _LetterRefused("active_content_raw", MESSAGE_LETTER_ACTIVE_CONTENT)
    try:
        reader = PdfReader(io.BytesIO(data), strict=False)
        if reader.is_encrypted:
            raise _LetterRefused("encrypted", MESSAGE_LETTER_ENCRYPTED)
        if len(reader.pages) < 1:
            raise _LetterRefused("no_pages", MESSAGE_LETTER_UNREADABLE)
        for node in _letter_objects(reader):
            reason = _refused_name(node)
            if reason:
                raise _LetterRefused(reason, MESSAGE_LETTER_ACTIVE_CONTENT)
    except _LetterRefused:
        raise
    except Exception as error:  # a parser of untrusted input may fail in any way
        raise _LetterRefused(f"unreadable:{type(error).__name__}", MESSAGE_LETTER_UNREADABLE) from None


def _letter_content(letter) -> ContentFile:
    """The uploaded letter checked (size first, then the PDF itself); what is stored is what was checked."""
    limit = settings.LOP_LETTER_MAX_BYTES
    if letter.size is not None and letter.size > limit:
        raise ApplicationError(letter_too_large_message(), field="lop_letter")
    content_type = (getattr(letter, "content_type", "") or "").split(";")[0].strip().lower()
    if content_type not in PDF_CONTENT_TYPES:
        raise ApplicationError(MESSAGE_LETTER_NOT_PDF, field="lop_letter")
    letter.seek(0)
    data = letter.read(limit + 1)
    letter.seek(0)
    if len(data) > limit:
        raise ApplicationError(letter_too_large_message(), field="lop_letter")
    try:
        _check_letter_bytes(data)
    except _LetterRefused as refused:
        # Ids only in the log (the request id ties it to the user); never the file or its name.
        logger.warning("letter of protection refused: %s (%d bytes)", refused.reason, len(data))
        raise ApplicationError(refused.message, field="lop_letter") from None
    return ContentFile(data)


def _clean_text(details: dict) -> dict:
    cleaned = {}
    for name, value in details.items():
        if isinstance(value, str):
            value = value.strip()
            refuse_card_numbers(name, value)
        cleaned[name] = value
    return cleaned


def _hold_details(*, kind: str, practice, placed_on: date, today: date, details: dict) -> dict:
    """Check the fields a kind needs and work out its review and end dates."""
    if kind == Kind.LOP:
        if not details.get("attorney_name"):
            raise ApplicationError(MESSAGE_NEEDS_ATTORNEY, field="attorney_name")
        return {
            "lop_status": AccountHold.LopStatus.PENDING,
            "review_on": placed_on + timedelta(days=practice.lop_review_days),
        }
    if kind == Kind.PROBATE:
        died_on = details.get("died_on")
        published_notice_on, mailed_notice_on = details.get("published_notice_on"), details.get("mailed_notice_on")
        if died_on is None:
            raise ApplicationError(MESSAGE_NEEDS_DEATH_DATE, field="died_on")
        if died_on > today:
            raise ApplicationError(MESSAGE_DEATH_IN_FUTURE, field="died_on")
        if published_notice_on is not None and published_notice_on < died_on:
            raise ApplicationError(MESSAGE_PUBLISHED_NOTICE_BEFORE_DEATH, field="published_notice_on")
        if mailed_notice_on is not None and mailed_notice_on < died_on:
            raise ApplicationError(MESSAGE_MAILED_NOTICE_BEFORE_DEATH, field="mailed_notice_on")
        deadline = claim_deadline_for(
            state=practice.state,
            died_on=died_on,
            published_notice_on=published_notice_on,
            mailed_notice_on=mailed_notice_on,
        )
        return {
            "claim_deadline_on": deadline,
            "review_on": deadline - timedelta(days=PROBATE_REVIEW_DAYS_BEFORE_DEADLINE),
        }
    if kind == Kind.BANKRUPTCY:
        if details.get("bankruptcy_chapter") not in BANKRUPTCY_CHAPTERS:
            raise ApplicationError(MESSAGE_BAD_CHAPTER, field="bankruptcy_chapter")
        if details.get("filed_on") is None:
            raise ApplicationError(MESSAGE_NEEDS_FILING_DATE, field="filed_on")
        if not details.get("case_number"):
            raise ApplicationError(MESSAGE_NEEDS_CASE_NUMBER, field="case_number")
        return {}
    # Dispute
    dispute_kind = details.get("dispute_kind")
    if dispute_kind not in AccountHold.DisputeKind.values:
        raise ApplicationError(MESSAGE_NEEDS_DISPUTE_KIND, field="dispute_kind")
    received_on = details.get("received_on")
    if received_on is None:
        raise ApplicationError(MESSAGE_NEEDS_RECEIVED_DATE, field="received_on")
    if dispute_kind == AccountHold.DisputeKind.NO_SURPRISES:
        return {"ends_on": received_on + timedelta(days=NO_SURPRISES_DISPUTE_DAYS)}
    return {}


# Which optional fields each kind keeps (anything else given is ignored, never stored on the wrong kind).
KIND_FIELDS: dict[str, tuple[str, ...]] = {
    Kind.LOP: ("attorney_name", "attorney_firm", "attorney_phone", "attorney_email", "accident_on"),
    Kind.PROBATE: (
        "died_on",
        "estate_name",
        "executor_name",
        "executor_phone",
        "executor_address",
        "court",
        "published_notice_on",
        "mailed_notice_on",
    ),
    Kind.BANKRUPTCY: ("bankruptcy_chapter", "filed_on"),
    Kind.DISPUTE: ("dispute_kind", "received_on"),
}
COMMON_FIELDS = ("case_number", "notes")


@transaction.atomic
def hold_place(
    *,
    acting_user,
    account_id: int,
    kind: str,
    placed_on: date | None = None,
    lop_letter=None,
    **details,
) -> AccountHold:
    """Put the account on hold. `details` are the kind's fields (KIND_FIELDS) plus case_number and notes."""
    if kind not in Kind.values:
        raise ApplicationError(MESSAGE_UNKNOWN_KIND, field="kind")
    allowed = set(KIND_FIELDS[kind]) | set(COMMON_FIELDS)
    details = _clean_text({name: value for name, value in details.items() if name in allowed and value is not None})
    # Only a Letter of Protection hold keeps a letter (a file given with another kind is ignored). It
    # is checked before the account is locked: parsing a large PDF takes a moment.
    letter = _letter_content(lop_letter) if kind == Kind.LOP and lop_letter is not None else None
    # The account lock serialises hold changes, so two reps placing holds at once agree on
    # status_before and on which kind is the most restrictive.
    account = account_lock(account_id=account_id, related=("patient",))
    if account.status == PatientAccount.Status.CLOSED:
        raise ApplicationError(MESSAGE_ACCOUNT_CLOSED)
    today = account_practice_today(account)
    placed_on = placed_on or today
    if placed_on > today:
        raise ApplicationError(MESSAGE_PLACED_IN_FUTURE, field="placed_on")
    if kind == Kind.DISPUTE and details.get("received_on") is None:
        details["received_on"] = placed_on
    active = list(AccountHold.objects.filter(account=account, released_at__isnull=True).values("kind", "status_before"))
    if any(row["kind"] == kind for row in active):
        raise ApplicationError(MESSAGE_ALREADY_HELD.format(kind=Kind(kind).label), field="kind")
    derived = _hold_details(kind=kind, practice=account.practice, placed_on=placed_on, today=today, details=details)
    status_before = active[0]["status_before"] if active else account.status
    if status_before == PatientAccount.Status.HOLD:
        status_before = PatientAccount.Status.ACTIVE
    hold = AccountHold(
        account=account,
        practice_id=account.practice_id,
        kind=kind,
        placed_on=placed_on,
        placed_by=acting_user if getattr(acting_user, "is_authenticated", False) else None,
        status_before=status_before,
        **details,
        **derived,
    )
    if letter is not None:
        hold.lop_letter.save(f"lop-{account.pk}.pdf", letter, save=False)
    try:
        _hold_write(acting_user=acting_user, account=account, hold=hold, active=active, details=details)
    except BaseException:
        # The file is outside the transaction: a refusal or failure after it was written must not
        # leave a letter on disk that no hold points to.
        if hold.lop_letter:
            hold.lop_letter.delete(save=False)
        raise
    return hold


def _hold_write(*, acting_user, account: PatientAccount, hold: AccountHold, active: list[dict], details: dict) -> None:
    """hold_place's writes: the hold, the account's status, a probate's date of death, the audit rows."""
    kind = hold.kind
    try:
        with transaction.atomic():
            hold.save()
    except IntegrityError:  # a concurrent placement of the same kind won the race
        raise ApplicationError(MESSAGE_ALREADY_HELD.format(kind=Kind(kind).label), field="kind") from None
    hold_reason = most_restrictive([row["kind"] for row in active] + [kind])
    account.status, account.hold_reason = PatientAccount.Status.HOLD, hold_reason
    account.save(update_fields=["status", "hold_reason"])
    if kind == Kind.PROBATE:
        marked = Patient.objects.filter(pk=account.patient_id, deceased_on__isnull=True).update(
            deceased_on=details["died_on"], updated_at=timezone.now()
        )
        if marked:
            audit_record(
                user=acting_user,
                action=AuditEvent.Action.UPDATE,
                object_type="accounts.patient",
                object_id=account.patient_id,
                practice_id=account.practice_id,
                field_group=FieldGroup.DEMOGRAPHICS,
                detail={"fields": ["deceased_on"], "hold_id": hold.pk},
            )
    audit_record(
        user=acting_user,
        action=AuditEvent.Action.CREATE,
        obj=hold,
        field_group=FieldGroup.BILLING,
        detail={"account_id": account.pk, "kind": kind, "fields": sorted(details), "letter": bool(hold.lop_letter)},
    )
    audit_record(
        user=acting_user,
        action=AuditEvent.Action.UPDATE,
        obj=account,
        field_group=FieldGroup.BILLING,
        detail={"fields": ["status", "hold_reason"], "status": "hold", "hold_reason": hold_reason, "hold_id": hold.pk},
    )
    queue_refresh_account(account_id=account.pk)


def _status_after_holds(account: PatientAccount, status_before: str) -> str:
    """The status the account returns to: the one before the hold, except that a payment plan set up
    or ended while the account was on hold decides between active and payment_plan."""
    Status = PatientAccount.Status
    if status_before not in ("", Status.ACTIVE, Status.PAYMENT_PLAN):
        return status_before  # agency, closed
    running = PaymentPlan.objects.filter(account=account, status__in=PaymentPlan.RUNNING_STATUSES).exists()
    return Status.PAYMENT_PLAN if running else Status.ACTIVE


def _restore_account(account: PatientAccount, *, remaining_kinds: list[str], status_before: str) -> dict:
    """Write the account's status after a release; returns what changed for the audit row."""
    if account.status != PatientAccount.Status.HOLD:
        return {}
    if remaining_kinds:
        changes = {"hold_reason": most_restrictive(remaining_kinds)}
    else:
        changes = {"status": _status_after_holds(account, status_before), "hold_reason": ""}
    for name, value in changes.items():
        setattr(account, name, value)
    account.save(update_fields=list(changes))
    return changes


@transaction.atomic
def hold_release(*, acting_user, hold_id: int, reason: str) -> AccountHold:
    reason = (reason or "").strip()
    if not reason:
        raise ApplicationError(MESSAGE_RELEASE_REASON, field="reason")
    refuse_card_numbers("reason", reason)
    account_id = AccountHold.objects.values_list("account_id", flat=True).get(pk=hold_id)
    account = account_lock(account_id=account_id)
    hold = AccountHold.objects.get(pk=hold_id)
    if hold.released_at is not None:
        raise ApplicationError(MESSAGE_ALREADY_RELEASED)
    hold.released_at = timezone.now()
    hold.released_by = acting_user if getattr(acting_user, "is_authenticated", False) else None
    hold.release_reason = reason[:300]
    hold.save(update_fields=["released_at", "released_by", "release_reason"])
    remaining = list(
        AccountHold.objects.filter(account=account, released_at__isnull=True).values_list("kind", flat=True)
    )
    changes = _restore_account(account, remaining_kinds=remaining, status_before=hold.status_before)
    audit_record(
        user=acting_user,
        action=AuditEvent.Action.UPDATE,
        obj=hold,
        field_group=FieldGroup.BILLING,
        detail={"account_id": account.pk, "kind": hold.kind, "fields": ["released_at", "release_reason"]},
    )
    if changes:
        audit_record(
            user=acting_user,
            action=AuditEvent.Action.UPDATE,
            obj=account,
            field_group=FieldGroup.BILLING,
            detail={"fields": sorted(changes), **changes, "hold_id": hold.pk},
        )
    queue_refresh_account(account_id=account.pk)
    return hold


@transaction.atomic
def lop_letter_attach(*, acting_user, hold_id: int, lop_letter) -> AccountHold:
    """Attach (or replace) the Letter of Protection PDF on an active LOP hold."""
    if lop_letter is None:
        raise ApplicationError(MESSAGE_LETTER_NOT_PDF, field="lop_letter")
    letter = _letter_content(lop_letter)
    account_id = AccountHold.objects.values_list("account_id", flat=True).get(pk=hold_id)
    account_lock(account_id=account_id)
    hold = AccountHold.objects.get(pk=hold_id)
    if hold.kind != Kind.LOP:
        raise ApplicationError(MESSAGE_NOT_LOP)
    if hold.released_at is not None:
        raise ApplicationError(MESSAGE_ALREADY_RELEASED)
    replaced = bool(hold.lop_letter)
    # The replaced file is kept on disk: the audit trail may point at what was read before.
    hold.lop_letter.save(f"lop-{account_id}.pdf", letter, save=False)
    try:
        hold.save(update_fields=["lop_letter"])
        audit_record(
            user=acting_user,
            action=AuditEvent.Action.UPDATE,
            obj=hold,
            field_group=FieldGroup.BILLING,
            detail={"account_id": account_id, "fields": ["lop_letter"], "replaced": replaced},
        )
    except BaseException:
        hold.lop_letter.delete(save=False)  # the new file only; the row still names the replaced one
        raise
    return hold


@transaction.atomic
def lop_status_check(
    *,
    acting_user,
    hold_id: int,
    status: str,
    settlement_amount: Decimal | str | None = None,
    note: str = "",
    checked_on: date | None = None,
) -> AccountHold:
    """Record a call to the attorney's office: the case status, a settlement when it comes, the next check date."""
    if status not in AccountHold.LopStatus.values:
        raise ApplicationError(MESSAGE_BAD_LOP_STATUS, field="status")
    amount = None
    if settlement_amount not in (None, ""):
        try:
            amount = to_money(settlement_amount)
        except (InvalidOperation, TypeError, ValueError):
            raise ApplicationError(MESSAGE_BAD_SETTLEMENT, field="settlement_amount") from None
        if amount <= 0:
            raise ApplicationError(MESSAGE_BAD_SETTLEMENT, field="settlement_amount")
    if status == AccountHold.LopStatus.SETTLED and amount is None:
        raise ApplicationError(MESSAGE_NEEDS_SETTLEMENT, field="settlement_amount")
    note = (note or "").strip()
    refuse_card_numbers("note", note)
    account_id = AccountHold.objects.values_list("account_id", flat=True).get(pk=hold_id)
    account = account_lock(account_id=account_id)
    hold = AccountHold.objects.get(pk=hold_id)
    if hold.kind != Kind.LOP:
        raise ApplicationError(MESSAGE_NOT_LOP)
    if hold.released_at is not None:
        raise ApplicationError(MESSAGE_ALREADY_RELEASED)
    checked_on = checked_on or account_practice_today(account)
    hold.lop_status = status
    hold.status_checked_on = checked_on
    hold.review_on = checked_on + timedelta(days=account.practice.lop_review_days)
    fields = ["lop_status", "status_checked_on", "review_on"]
    if amount is not None:
        hold.settlement_amount = amount
        fields.append("settlement_amount")
    if note:
        hold.notes = f"{hold.notes}\n{checked_on:%m/%d/%Y}: {note}".strip()
        fields.append("notes")
    hold.save(update_fields=fields)
    audit_record(
        user=acting_user,
        action=AuditEvent.Action.UPDATE,
        obj=hold,
        field_group=FieldGroup.BILLING,
        detail={"account_id": account.pk, "fields": sorted(fields), "lop_status": status},
    )
    queue_refresh_account(account_id=account.pk)
    return hold
