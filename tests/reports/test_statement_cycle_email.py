"""The statement cycle sends a consenting patient's statement by email only: the cycle marks it for
email (emailing.emailable_q), logs no letter for it, and batch printing emails it to its own
recipient and logs the email; everyone else's is mailed and logged as a letter; a failed email
falls back to the print file and is logged as the letter mailed instead."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core import mail
from django.utils import timezone

from accounts.jobs import refresh_aging
from collections_app.models import Contact, ContactConsent
from reports.models import Statement, StatementBatch, StatementEmail
from reports.statements import batch as batch_module
from reports.statements import cycle, emailing
from tests.conftest import post_visit
from tests.factories import PatientAccountFactory
from tests.reports.statement_batch_helpers import pdf_text, read_file

REFUSING = "tests.reports.test_statement_email.RefusingBackend"  # a mail server that refuses everyone


@pytest.fixture(autouse=True)
def storage(settings, tmp_path):
    settings.STATEMENT_CHUNK_SIZE = 2
    settings.PRIVATE_MEDIA_ROOT = tmp_path / "private"


def owing(practice, *, email="", consent=False, balance="120.00"):
    account = PatientAccountFactory(practice=practice)
    post_visit(account, days_ago=40, charge=str(Decimal(balance) + 50), insurance_paid="50.00", to_patient=balance)
    if email:
        account.guarantor.email = email
        account.guarantor.save(update_fields=["email"])
    if consent:
        ContactConsent.objects.create(
            account=account,
            practice=practice,
            channel=ContactConsent.Channel.EMAIL_STATEMENTS,
            granted_on=timezone.localdate() - timedelta(days=10),
        )
    account.refresh_from_db()
    return account


def run_cycle(practice, capture, *, print_now: bool):
    as_of = timezone.localdate()
    refresh_aging({practice.pk: as_of})
    with capture(execute=print_now):
        batch = cycle.statement_cycle_practice(practice, as_of)
    batch.refresh_from_db()
    return batch


def contacts(account, channel):
    return Contact.objects.filter(account=account, channel=channel)


def test_the_cycle_marks_a_consenting_patients_statement_for_email_and_logs_no_letter(
    practice, django_capture_on_commit_callbacks
):
    emailed = owing(practice, email="ana@example.com", consent=True)
    mailed = owing(practice, email="ben@example.com")  # an address but no consent: the mail
    batch = run_cycle(practice, django_capture_on_commit_callbacks, print_now=False)

    by_account = {s.account_id: s for s in batch.statements.all()}
    assert by_account[emailed.pk].channel == Statement.Channel.EMAIL
    assert by_account[emailed.pk].mailed_on is None  # until the email goes
    assert by_account[mailed.pk].channel == Statement.Channel.MAIL
    assert by_account[mailed.pk].mailed_on == batch.run_on
    assert not contacts(emailed, Contact.Channel.LETTER).exists()
    assert contacts(mailed, Contact.Channel.LETTER).count() == 1
    assert mail.outbox == []  # nothing is sent before printing


def test_printed_the_emailed_statement_goes_by_email_only_and_the_other_by_mail(
    practice, django_capture_on_commit_callbacks
):
    emailed = owing(practice, email="ana@example.com", consent=True)
    mailed = owing(practice)
    batch = run_cycle(practice, django_capture_on_commit_callbacks, print_now=True)

    assert batch.status == StatementBatch.Status.DONE
    statement = Statement.objects.get(batch=batch, account=emailed)
    assert [message.to for message in mail.outbox] == [["ana@example.com"]]
    assert statement.emails.get().status == StatementEmail.Status.SENT
    assert statement.mailed_on == timezone.localdate()
    # One contact-log entry for the emailed statement, of the email kind; the other one a letter.
    assert list(Contact.objects.filter(account=emailed).values_list("channel", "outcome")) == [
        (Contact.Channel.EMAIL, Contact.Outcome.STATEMENT_SENT)
    ]
    assert list(Contact.objects.filter(account=mailed).values_list("channel", flat=True)) == [Contact.Channel.LETTER]
    printed = pdf_text(read_file(batch.print_file))
    assert mailed.account_number in printed and emailed.account_number not in printed


def test_each_consenting_patient_is_emailed_their_own_statement_only(practice, django_capture_on_commit_callbacks):
    first = owing(practice, email="ana@example.com", consent=True)
    second = owing(practice, email="ben@example.com", consent=True, balance="75.00")
    run_cycle(practice, django_capture_on_commit_callbacks, print_now=True)

    assert sorted(tuple(message.to) for message in mail.outbox) == [("ana@example.com",), ("ben@example.com",)]
    for message in mail.outbox:
        own, other = (first, second) if message.to == ["ana@example.com"] else (second, first)
        assert message.cc == [] and message.bcc == [] and len(message.attachments) == 1
        text = pdf_text(message.attachments[0][1])
        assert own.account_number in text and other.account_number not in text


def test_a_failed_email_is_mailed_and_logged_as_the_letter_instead(
    practice, settings, django_capture_on_commit_callbacks
):
    settings.EMAIL_BACKEND = REFUSING
    account = owing(practice, email="refused@example.com", consent=True)
    batch = run_cycle(practice, django_capture_on_commit_callbacks, print_now=True)

    statement = Statement.objects.get(batch=batch, account=account)
    assert statement.channel == Statement.Channel.MAIL
    assert statement.emails.get().status == StatementEmail.Status.FAILED
    assert statement.mailed_on == timezone.localdate()
    letter = Contact.objects.get(account=account)
    assert letter.channel == Contact.Channel.LETTER
    assert letter.notes.startswith(emailing.MAILED_INSTEAD_NOTE)
    assert account.account_number in pdf_text(read_file(batch.print_file))


def test_a_consent_revoked_before_sending_falls_back_to_the_mail(practice, django_capture_on_commit_callbacks):
    account = owing(practice, email="ana@example.com", consent=True)
    batch = run_cycle(practice, django_capture_on_commit_callbacks, print_now=False)
    ContactConsent.objects.filter(account=account).update(revoked_on=timezone.localdate() - timedelta(days=1))

    with django_capture_on_commit_callbacks(execute=True):
        batch_module.batch_print_start(batch)
    assert mail.outbox == []
    statement = Statement.objects.get(batch=batch, account=account)
    assert statement.channel == Statement.Channel.MAIL
    assert statement.emails.get().error == emailing.MESSAGE_NO_CONSENT
    assert list(Contact.objects.filter(account=account).values_list("channel", flat=True)) == [Contact.Channel.LETTER]
