"""Statements by email where the patient consented: each to its own recipient only, a send log
row per message (sent or failed, never silent), out of the print file (reports.statements.emailing)."""

from datetime import timedelta
from smtplib import SMTPRecipientsRefused

import pytest
from django.core import mail
from django.core.mail.backends.base import BaseEmailBackend

from accounts.selectors import practice_today
from collections_app.models import Contact, ContactConsent
from core.models import AuditEvent
from reports.models import Statement, StatementBatch, StatementEmail
from reports.statements import batch as batch_module
from reports.statements import emailing
from tests.conftest import post_visit
from tests.factories import PatientAccountFactory
from tests.reports.statement_batch_helpers import make_batch, pdf_pages, pdf_text, read_file


class RefusingBackend(BaseEmailBackend):
    """A mail server that refuses every recipient."""

    def send_messages(self, email_messages):
        raise SMTPRecipientsRefused({"someone@example.com": (550, b"no such user")})


@pytest.fixture(autouse=True)
def storage(settings, tmp_path):
    settings.STATEMENT_CHUNK_SIZE = 2
    settings.PRIVATE_MEDIA_ROOT = tmp_path / "private"


def consenting_account(practice, email: str, **consent):
    account = PatientAccountFactory(practice=practice)
    post_visit(account, days_ago=50, charge="180.00", insurance_paid="60.00", to_patient="120.00")
    account.guarantor.email = email
    account.guarantor.save(update_fields=["email"])
    ContactConsent.objects.create(
        account=account,
        practice=practice,
        channel=ContactConsent.Channel.EMAIL_STATEMENTS,
        granted_on=consent.get("granted_on", practice_today(practice) - timedelta(days=30)),
        revoked_on=consent.get("revoked_on"),
    )
    account.refresh_from_db()
    return account


def plain_account(practice):
    account = PatientAccountFactory(practice=practice)
    post_visit(account, days_ago=50, charge="90.00", to_patient="90.00")
    account.refresh_from_db()
    return account


def print_batch(batch, capture):
    with capture(execute=True):
        batch_module.batch_print_start(batch)
    batch.refresh_from_db()
    return batch


def test_two_patients_in_one_batch_each_get_exactly_their_own_statement(practice, django_capture_on_commit_callbacks):
    first = consenting_account(practice, "ana@example.com")
    second = consenting_account(practice, "ben@example.com")
    mailed = plain_account(practice)
    batch = print_batch(make_batch(practice, 3, accounts=[first, second, mailed]), django_capture_on_commit_callbacks)

    assert batch.status == StatementBatch.Status.DONE
    assert len(mail.outbox) == 2
    by_address = {tuple(message.to): message for message in mail.outbox}
    assert set(by_address) == {("ana@example.com",), ("ben@example.com",)}
    for account, address in ((first, "ana@example.com"), (second, "ben@example.com")):
        message = by_address[(address,)]
        statement = Statement.objects.get(batch=batch, account=account)
        assert message.cc == [] and message.bcc == []
        assert len(message.attachments) == 1
        name, content, mimetype = message.attachments[0]
        assert (name, mimetype) == (f"statement-{statement.pk}.pdf", "application/pdf")
        assert content == read_file(statement.document)
        text = pdf_text(content)
        assert account.account_number in text
        other = second if account == first else first
        assert other.account_number not in text and mailed.account_number not in text
        assert statement.channel == Statement.Channel.EMAIL
        log = statement.emails.get()
        assert (log.status, log.to_address, log.error) == (StatementEmail.Status.SENT, address, "")
        contact = Contact.objects.get(account=account, channel=Contact.Channel.EMAIL)
        assert contact.outcome == Contact.Outcome.STATEMENT_SENT
    # The print file holds only the mailed statement.
    mailed_statement = Statement.objects.get(batch=batch, account=mailed)
    assert mailed_statement.channel == Statement.Channel.MAIL and not mailed_statement.emails.exists()
    printed = read_file(batch.print_file)
    assert pdf_pages(printed) == batch.page_count == mailed_statement.page_count
    assert mailed.account_number in pdf_text(printed) and first.account_number not in pdf_text(printed)
    assert AuditEvent.objects.filter(object_type="reports.statementemail").count() == 2


def test_the_address_is_read_when_sending(practice, django_capture_on_commit_callbacks):
    account = consenting_account(practice, "old@example.com")
    batch = make_batch(practice, 1, accounts=[account])
    with django_capture_on_commit_callbacks(execute=False):
        batch_module.batch_print_start(batch)
    batch_module.batch_chunk_print(batch_id=batch.pk, chunk=1)
    account.guarantor.email = "new@example.com"
    account.guarantor.save(update_fields=["email"])

    batch_module.batch_print_finish(batch_id=batch.pk)

    assert [message.to for message in mail.outbox] == [["new@example.com"]]
    assert StatementEmail.objects.get().to_address == "new@example.com"


@pytest.mark.parametrize("consent", ["none", "revoked", "no_address"])
def test_no_consent_or_no_address_means_the_mail(practice, consent, django_capture_on_commit_callbacks):
    if consent == "none":
        account = plain_account(practice)
        account.guarantor.email = "x@example.com"
        account.guarantor.save(update_fields=["email"])
    elif consent == "revoked":
        account = consenting_account(practice, "x@example.com", revoked_on=practice_today(practice) - timedelta(days=1))
    else:
        account = consenting_account(practice, "")
    batch = print_batch(make_batch(practice, 1, accounts=[account]), django_capture_on_commit_callbacks)

    assert mail.outbox == []
    statement = batch.statements.get()
    assert statement.channel == Statement.Channel.MAIL and not statement.emails.exists()
    assert batch.page_count == statement.page_count


def test_a_failed_send_is_logged_and_the_statement_is_mailed_instead(
    practice, settings, django_capture_on_commit_callbacks
):
    settings.EMAIL_BACKEND = "tests.reports.test_statement_email.RefusingBackend"
    account = consenting_account(practice, "refused@example.com")
    mailed = plain_account(practice)
    batch = print_batch(make_batch(practice, 2, accounts=[account, mailed]), django_capture_on_commit_callbacks)

    statement = Statement.objects.get(batch=batch, account=account)
    log = statement.emails.get()
    assert log.status == StatementEmail.Status.FAILED
    assert log.error == emailing.MESSAGE_SEND_FAILED.format(reason="the address was refused")
    assert "550" not in log.error and "no such user" not in log.error
    assert statement.channel == Statement.Channel.MAIL
    assert Contact.objects.filter(account=account, channel=Contact.Channel.EMAIL).count() == 0
    # Not lost: it is in the print file beside the other one.
    printed = read_file(batch.print_file)
    assert pdf_pages(printed) == batch.page_count == statement.page_count + mailed.statements.get().page_count
    assert account.account_number in pdf_text(printed)


def test_a_statement_is_emailed_once(practice, django_capture_on_commit_callbacks):
    account = consenting_account(practice, "once@example.com")
    batch = print_batch(make_batch(practice, 1, accounts=[account]), django_capture_on_commit_callbacks)
    statement = batch.statements.get()

    assert emailing.statement_email_send(statement_id=statement.pk) is None
    assert emailing.batch_emails_send(batch) == {"emailed": 0, "email_failed": 0}
    assert len(mail.outbox) == 1 and StatementEmail.objects.count() == 1


def test_attorneys_and_estates_are_never_emailed(practice, django_capture_on_commit_callbacks):
    account = consenting_account(practice, "estate@example.com")
    batch = make_batch(practice, 1, accounts=[account], route_email=False)
    batch.statements.update(recipient=Statement.Recipient.ATTORNEY)
    assert emailing.statements_route_to_email(batch.statements.all(), as_of=batch.run_on) == set()
    batch = print_batch(batch, django_capture_on_commit_callbacks)
    assert mail.outbox == [] and batch.statements.get().channel == Statement.Channel.MAIL
