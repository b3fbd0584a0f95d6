"""Statements by email, where the patient consented (ContactConsent "statements by email").

Designed against two known failures of other systems: every statement sent to every patient
(OpenEMR #8321) and no record of what was sent or failed (OpenEMR #8016). So:

- one message per statement, built from that statement alone: its own PDF, addressed to its own
  recipient (the statement's guarantor, or its account's patient) as the address reads at the
  moment of sending, never from a list gathered earlier;
- one `StatementEmail` row per message, sent or failed with the reason in words, in the same
  transaction as the send (the statement row locked, so two workers never send it twice);
- a message that fails is not lost: the statement goes back to the mail and into the print file,
  and the contact log records the letter mailed instead;
- which statements go by email is decided once, when the batch is made (`statements_route_to_email`,
  called by the statement cycle): such a statement is logged as an email when it is sent, never as
  a letter as well.

The backend is Django's (`EMAIL_BACKEND`: the console by default, SMTP by settings).
"""

import logging
import smtplib

from django.conf import settings
from django.core.mail import EmailMessage
from django.db import transaction
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone

from accounts.selectors import practice_today
from collections_app.models import Contact, ContactConsent
from core.access import FieldGroup
from core.audit import audit_job_changes
from core.models import AuditEvent
from reports.models import Statement, StatementBatch, StatementEmail

logger = logging.getLogger(__name__)

JOB = "statement_email"
EMAILED_NOTE = "Statement emailed"
MAILED_INSTEAD_NOTE = "Email failed, mailed instead"
# The documents a patient may receive by email (attorneys and estates are written to, never emailed).
EMAIL_RECIPIENTS = (Statement.Recipient.GUARANTOR, Statement.Recipient.PATIENT)

MESSAGE_NO_ADDRESS = "No email address on file for the recipient; mailed instead."
MESSAGE_NO_CONSENT = "The patient no longer consents to statements by email; mailed instead."
MESSAGE_NO_DOCUMENT = "The statement has no document to attach; mailed instead."
MESSAGE_SEND_FAILED = "The mail server did not accept the message ({reason}); mailed instead."

# The contact log's outcome for each kind emailed (501(r) counts from "statement sent").
OUTCOME_FOR_KIND = {
    Statement.Kind.STATEMENT: Contact.Outcome.STATEMENT_SENT,
    Statement.Kind.FINAL_NOTICE: Contact.Outcome.FINAL_NOTICE_SENT,
    Statement.Kind.NOTICE_501R: Contact.Outcome.NOTICE_501R_SENT,
}


def consent_in_force_q(*, as_of, account_ref: str = "account_id") -> Exists:
    return Exists(
        ContactConsent.objects.filter(
            account_id=OuterRef(account_ref),
            channel=ContactConsent.Channel.EMAIL_STATEMENTS,
            granted_on__lte=as_of,
        ).filter(Q(revoked_on__isnull=True) | Q(revoked_on__gt=as_of))
    )


def emailable_q(*, as_of) -> Q:
    """Statements that go by email: the patient consented as of `as_of` and the recipient (the
    guarantor, or the patient) has an address."""
    has_address = Q(recipient=Statement.Recipient.GUARANTOR) & ~Q(guarantor__email="")
    has_address |= Q(recipient=Statement.Recipient.PATIENT) & ~Q(account__patient__email="")
    return Q(recipient__in=EMAIL_RECIPIENTS) & has_address & Q(consent_in_force_q(as_of=as_of))


def statements_route_to_email(statements: QuerySet, *, as_of) -> set[int]:
    """Mark the statements that go by email (emailable_q as of the batch's date) for email, before
    anything is printed or logged: they go out by email only, and are logged as an email when sent.
    The ids marked. Their mailing date stays empty until the email goes (or, failing, the mail)."""
    ids = set(
        statements.filter(emailable_q(as_of=as_of), channel=Statement.Channel.MAIL, document="").values_list(
            "pk", flat=True
        )
    )
    if ids:
        Statement.objects.filter(pk__in=ids).update(channel=Statement.Channel.EMAIL, mailed_on=None)
    return ids


def statement_email_address(statement: Statement) -> str:
    """The address of this statement's own recipient, read now."""
    if statement.recipient == Statement.Recipient.GUARANTOR:
        return statement.guarantor.email.strip()
    if statement.recipient == Statement.Recipient.PATIENT:
        return statement.account.patient.email.strip()
    return ""


def _subject(statement: Statement) -> str:
    return f"Your {statement.get_kind_display().lower()} from {statement.practice.name}"


def _body(statement: Statement) -> str:
    return (
        f"Your {statement.get_kind_display().lower()} from {statement.practice.name} dated "
        f"{statement.statement_date:%m/%d/%Y} is attached as a PDF.\n\n"
        "Questions about your bill? Call our billing office at the number on the statement.\n"
    )


def _send_failure_reason(exc: BaseException) -> str:
    # The exception's text can carry the address or the server's reply; the log keeps its kind.
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return "the address was refused"
    if isinstance(exc, smtplib.SMTPAuthenticationError):
        return "the mail server refused our sign-in"
    if isinstance(exc, (smtplib.SMTPException, OSError)):
        return f"{type(exc).__name__}"
    return type(exc).__name__


def statement_email_send(*, statement_id: int) -> StatementEmail | None:
    """Email one statement to its own recipient, once. Returns the send log row, or None when the
    statement was emailed (or tried) before."""
    with transaction.atomic():
        statement = (
            Statement.objects.select_for_update(of=("self",))
            .select_related("guarantor", "account__patient", "practice")
            .get(pk=statement_id)
        )
        if statement.channel != Statement.Channel.EMAIL or statement.emails.exists():
            return None
        today = practice_today(statement.practice)
        address = statement_email_address(statement)
        consented = Statement.objects.filter(pk=statement.pk).filter(consent_in_force_q(as_of=today)).exists()
        error = ""
        if not address:
            error = MESSAGE_NO_ADDRESS
        elif not consented:
            error = MESSAGE_NO_CONSENT
        elif not statement.document:
            error = MESSAGE_NO_DOCUMENT
        else:
            try:
                with statement.document.open("rb") as handle:
                    attachment = handle.read()
                message = EmailMessage(
                    subject=_subject(statement),
                    body=_body(statement),
                    from_email=settings.DEFAULT_FROM_EMAIL,
                    to=[address],
                )
                message.attach(f"statement-{statement.pk}.pdf", attachment, "application/pdf")
                message.send(fail_silently=False)
            except Exception as exc:
                logger.warning("Email of statement %s failed: %s", statement.pk, type(exc).__name__)
                error = MESSAGE_SEND_FAILED.format(reason=_send_failure_reason(exc))
        now = timezone.now()
        row = StatementEmail.objects.create(
            statement=statement,
            to_address=address[:254],
            status=StatementEmail.Status.FAILED if error else StatementEmail.Status.SENT,
            error=error[:300],
            attempted_at=now,
        )
        if error:
            # Not lost: it goes into the batch's print file and out by mail, and the contact log
            # says a letter went (the finish gives it the mailing date).
            statement.channel = Statement.Channel.MAIL
            statement.save(update_fields=["channel"])
            _log_contacts(statement, occurred_at=now, channel=Contact.Channel.LETTER)
        else:
            if statement.mailed_on is None:
                statement.mailed_on = today
                statement.save(update_fields=["mailed_on"])
            _log_contacts(statement, occurred_at=now)
        audit_job_changes(
            job=JOB,
            object_type="reports.statementemail",
            changes=[(row.pk, statement.practice_id, {"statement": statement.pk, "status": row.status})],
            occurred_at=now,
            field_group=FieldGroup.BILLING,
            action=AuditEvent.Action.CREATE,
        )
    return row


def _log_contacts(statement: Statement, *, occurred_at, channel: str = Contact.Channel.EMAIL) -> None:
    """The email (or, where it failed, the letter mailed instead) on the contact log (the account's
    timeline) of every account the statement covers: one entry per account, of one channel."""
    account_ids = set(statement.covers.values_list("pk", flat=True)) | {statement.account_id}
    party = Contact.Party.PATIENT if statement.recipient == Statement.Recipient.PATIENT else Contact.Party.GUARANTOR
    outcome = OUTCOME_FOR_KIND.get(statement.kind, Contact.Outcome.LETTER_SENT)
    note = EMAILED_NOTE if channel == Contact.Channel.EMAIL else MAILED_INSTEAD_NOTE
    Contact.objects.bulk_create(
        [
            Contact(
                account_id=account_id,
                practice_id=statement.practice_id,
                channel=channel,
                party=party,
                outcome=outcome,
                notes=f"{note}: {statement.get_kind_display().lower()} (statement {statement.pk})",
                occurred_at=occurred_at,
            )
            for account_id in sorted(account_ids)
        ]
    )


def batch_emails_send(batch: StatementBatch) -> dict[str, int]:
    """Send every statement of the batch marked for email and not sent or tried before."""
    counts = {"emailed": 0, "email_failed": 0}
    pending = (
        Statement.objects.filter(batch_id=batch.pk, channel=Statement.Channel.EMAIL, emails__isnull=True)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    for statement_id in list(pending):
        row = statement_email_send(statement_id=statement_id)
        if row is None:
            continue
        counts["emailed" if row.status == StatementEmail.Status.SENT else "email_failed"] += 1
    return counts
