"""Producing statements and letters: the stored PDF of one statement, and "print a letter now".

A letter is produced only where the rules that govern letters allow it, asked of their owners,
never restated here: the compliance governor (`collections_app.contacts.compliance`, through
`contact_log`, which refuses a letter to a cease-communication account, to a represented patient,
under a bankruptcy stay, to a deceased patient, or to an address missing or known bad), and for
collection letters to the patient or guarantor `mailable_q` as well (statements and dunning pause
while the account is on hold).
"""

from decimal import Decimal

from django.core.files.base import ContentFile
from django.db import transaction

from accounts.models import PatientAccount
from accounts.selectors import practice_today
from accounts.services import account_lock
from collections_app.contacts.services import contact_log
from collections_app.correspondence import addresses
from collections_app.correspondence.selectors import mailable_q
from collections_app.models import AccountHold, BillingInquiry, Contact
from core.access import FieldGroup
from core.audit import audit_record
from core.errors import ApplicationError
from core.models import AuditEvent
from payment_plans.models import PaymentPlan
from reports.models import Statement
from reports.statements import documents

Kind = Statement.Kind
Recipient = Statement.Recipient

MESSAGE_KIND = "Choose which letter to print."
MESSAGE_RECIPIENT = "A {kind} goes to the guarantor or the patient."
MESSAGE_PAUSED = "Collection letters are paused on this account while it is on hold."
MESSAGE_NO_PLAN = "There is no payment plan on this account to write about."
MESSAGE_NO_RUNNING_PLAN = "The account has no active or lapsed payment plan."
MESSAGE_NO_LOP = "The account has no Letter of Protection hold: there is no attorney to write to."
MESSAGE_NO_PROBATE = "The account has no probate hold: there is no estate to write to."
MESSAGE_NO_INQUIRY = "The account has no billing inquiry to answer; write the response in the note."
MESSAGE_NOTE_TOO_LONG = "A note is at most {limit} characters."
NOTE_MAX_LENGTH = 2000

# Letters that go to someone other than the guarantor or patient, always.
KIND_RECIPIENT = {Kind.LOP_ACKNOWLEDGEMENT: Recipient.ATTORNEY, Kind.PROBATE_CLAIM: Recipient.ESTATE}
PARTY = {
    Recipient.GUARANTOR: Contact.Party.GUARANTOR,
    Recipient.PATIENT: Contact.Party.PATIENT,
    Recipient.ATTORNEY: Contact.Party.ATTORNEY,
    Recipient.ESTATE: Contact.Party.EXECUTOR,
}
# Asking the patient or guarantor to pay: paused with the account's collection (mailable_q).
COLLECTION_KINDS = frozenset(
    {
        Kind.STATEMENT,
        Kind.DUNNING_30,
        Kind.DUNNING_60,
        Kind.DUNNING_90,
        Kind.FINAL_NOTICE,
        Kind.NOTICE_501R,
        Kind.PLAN_REMINDER,
        Kind.PLAN_LAPSE,
    }
)
# What the contact log calls each: the agencies' rules and the 501(r) clock count these outcomes.
OUTCOME = {
    Kind.STATEMENT: Contact.Outcome.STATEMENT_SENT,
    Kind.FINAL_NOTICE: Contact.Outcome.FINAL_NOTICE_SENT,
    Kind.NOTICE_501R: Contact.Outcome.NOTICE_501R_SENT,
}
# The documents that count as the first statement after service (reports.apps FIRST_STATEMENT_ROWS).
FIRST_STATEMENT_KINDS = frozenset(
    {Kind.STATEMENT, Kind.DUNNING_30, Kind.DUNNING_60, Kind.DUNNING_90, Kind.FINAL_NOTICE}
)


def statement_document_store(statement: Statement) -> None:
    """Render one statement's PDF from its frozen content (computed now if it has none), save it
    to `statement.document` (private storage; the file name carries the id only) and set
    `page_count`. The account's own copy, and what a reprint serves."""
    fields = ["document", "page_count"]
    if not statement.content:
        statement.content = documents.statement_content(statement)
        fields.append("content")
    pdf, pages = documents.render_statement_pdf_with_pages(statement)
    statement.document.save(f"statement-{statement.pk}.pdf", ContentFile(pdf), save=False)
    statement.page_count = pages
    statement.save(update_fields=fields)


def _recipient_for(kind: str, recipient: str) -> str:
    if kind in KIND_RECIPIENT:
        return KIND_RECIPIENT[kind]
    if recipient not in (Recipient.GUARANTOR, Recipient.PATIENT):
        raise ApplicationError(MESSAGE_RECIPIENT.format(kind=Kind(kind).label.lower()), field="recipient")
    return recipient


def _check_prerequisites(account: PatientAccount, kind: str, note: str) -> None:
    """What the letter is about has to exist: a plan, the attorney's or the estate's hold, an inquiry."""
    plans = PaymentPlan.objects.filter(account=account)
    holds = AccountHold.objects.filter(account=account, released_at__isnull=True)
    if kind == Kind.PLAN_AGREEMENT and not plans.filter(status__in=PaymentPlan.OPEN_STATUSES).exists():
        raise ApplicationError(MESSAGE_NO_PLAN, field="kind")
    if (
        kind in (Kind.PLAN_REMINDER, Kind.PLAN_LAPSE)
        and not plans.filter(status__in=PaymentPlan.RUNNING_STATUSES).exists()
    ):
        raise ApplicationError(MESSAGE_NO_RUNNING_PLAN, field="kind")
    if kind == Kind.LOP_ACKNOWLEDGEMENT and not holds.filter(kind=AccountHold.Kind.LOP).exists():
        raise ApplicationError(MESSAGE_NO_LOP, field="kind")
    if kind == Kind.PROBATE_CLAIM and not holds.filter(kind=AccountHold.Kind.PROBATE).exists():
        raise ApplicationError(MESSAGE_NO_PROBATE, field="kind")
    if kind == Kind.INQUIRY_RESPONSE and not note and not BillingInquiry.objects.filter(account=account).exists():
        raise ApplicationError(MESSAGE_NO_INQUIRY, field="note")


def _covers(account: PatientAccount, kind: str) -> list[int]:
    """A statement covers every account of its guarantor in the practice that owes and may be
    mailed; a letter is about its own account."""
    if kind != Kind.STATEMENT:
        return [account.pk]
    others = (
        PatientAccount.objects.filter(
            practice_id=account.practice_id, guarantor_id=account.guarantor_id, patient_balance__gt=0
        )
        .exclude(pk=account.pk)
        .filter(mailable_q())
        .values_list("pk", flat=True)
    )
    return [account.pk, *others]


def letter_produce(*, account, kind: str, user, recipient: str = Recipient.GUARANTOR, note: str = "") -> Statement:
    """Print a letter now (the caller's view has checked the user may work the account): the
    Statement with its content frozen and its PDF stored, mailed today (the practice's date),
    logged on the account's contact timeline as a letter, and audited. Refused with an
    ApplicationError, producing nothing, where the letter rules say no."""
    if kind not in Kind.values:
        raise ApplicationError(MESSAGE_KIND, field="kind")
    recipient = _recipient_for(kind, recipient)
    note = (note or "").strip()
    if len(note) > NOTE_MAX_LENGTH:
        raise ApplicationError(MESSAGE_NOTE_TOO_LONG.format(limit=NOTE_MAX_LENGTH), field="note")
    with transaction.atomic():
        # Every account the document covers is locked, in id order (two statements to one
        # guarantor lock alike): the content is read from their ledgers, first_statement_on set.
        cover_ids = sorted(_covers(account, kind))
        locked = {pk: account_lock(account_id=pk, related=("patient", "guarantor")) for pk in cover_ids}
        account = locked[account.pk]
        _check_prerequisites(account, kind, note)
        party = PARTY[recipient]
        # The governor, through the contact log: a refusal raises here, before anything is made.
        contact = _contact(user, account, kind, party)
        # The one mailing rule adds the hold pause to what the governor checked for a collection
        # letter to the patient or guarantor; refusing here rolls the contact back with the rest.
        consumer = party in (Contact.Party.GUARANTOR, Contact.Party.PATIENT)
        mailable = PatientAccount.objects.filter(pk=account.pk).filter(mailable_q(party=_mailing_party(party)))
        if kind in COLLECTION_KINDS and consumer and not mailable.exists():
            raise ApplicationError(MESSAGE_PAUSED)
        today = practice_today(account.practice)
        statement = Statement.objects.create(
            account=account,
            practice_id=account.practice_id,
            guarantor_id=account.guarantor_id,
            kind=kind,
            recipient=recipient,
            channel=Statement.Channel.MAIL,
            dunning_level=documents.DUNNING_LEVELS.get(kind, 0),
            statement_date=today,
            pay_by=documents.pay_by_default(today),
            mailed_on=today,
            created_by=user if getattr(user, "is_authenticated", False) else None,
        )
        statement.covers.set(cover_ids)
        content = documents.statement_content(statement)
        content["note"] = note
        statement.content = content
        statement.amount_due = Decimal(content.get("amount_due", "0.00"))
        statement.save(update_fields=["content", "amount_due"])
        statement_document_store(statement)
        if kind in FIRST_STATEMENT_KINDS:
            PatientAccount.objects.filter(pk__in=cover_ids, first_statement_on__isnull=True).update(
                first_statement_on=today
            )
        audit_record(
            user=user,
            action=AuditEvent.Action.CREATE,
            obj=statement,
            field_group=FieldGroup.BILLING,
            detail={
                "account_id": account.pk,
                "kind": kind,
                "recipient": recipient,
                "covers": cover_ids,
                "contact_id": contact.pk,
                "page_count": statement.page_count,
            },
        )
    return statement


def _mailing_party(party: str) -> str:
    return addresses.PATIENT if party == Contact.Party.PATIENT else addresses.GUARANTOR


def _contact(user, account, kind: str, party: str) -> Contact:
    return contact_log(
        acting_user=user,
        account_id=account.pk,
        channel=Contact.Channel.LETTER,
        party=party,
        outcome=OUTCOME.get(kind, Contact.Outcome.LETTER_SENT),
        notes=f"{Kind(kind).label} printed",
    )
