"""Print a letter now (reports.statements.services.letter_produce): the letter is made, stored and
mailed today, on the account's contact timeline and in the audit trail, and only where the rules
that govern letters allow it."""

import io
from datetime import timedelta
from decimal import Decimal

import pytest
from pypdf import PdfReader

from accounts.selectors import practice_today
from collections_app.models import AccountHold, Contact
from core.errors import ApplicationError
from core.models import AuditEvent
from reports.models import Statement
from reports.statements import services
from tests.reports.statement_world import HAS_PDFTOTEXT, crafted_account, pdf_text, squash

pytestmark = pytest.mark.skipif(not HAS_PDFTOTEXT, reason="pdftotext (poppler-utils) is not installed")
Kind = Statement.Kind


@pytest.fixture(autouse=True)
def private_root(tmp_path, settings, monkeypatch):
    """The real private storage (collections_app.models.private_storage), in a temporary folder."""
    from collections_app.models import private_storage

    settings.PRIVATE_MEDIA_ROOT = tmp_path / "private"
    monkeypatch.setattr(Statement._meta.get_field("document"), "storage", private_storage())
    return tmp_path / "private"


@pytest.fixture
def crafted(practice):
    return crafted_account(practice)


def stored_text(statement) -> str:
    with statement.document.open("rb") as handle:
        return squash(pdf_text(handle.read()))


def test_letter_is_stored_mailed_today_logged_and_audited(crafted, medium):
    letter = services.letter_produce(account=crafted, kind=Kind.DUNNING_30, user=medium)
    today = practice_today(crafted.practice)
    assert letter.mailed_on == today and letter.statement_date == today
    assert letter.dunning_level == 1 and letter.amount_due == Decimal("65.00")
    assert letter.created_by == medium
    assert list(letter.covers.all()) == [crafted]
    assert letter.page_count == len(PdfReader(io.BytesIO(letter.document.read())).pages) == 1
    assert "more than 30 days past due" in stored_text(letter)
    assert str(crafted.account_number) not in letter.document.name
    contact = Contact.objects.get(account=crafted)
    assert (contact.channel, contact.party, contact.outcome) == (
        Contact.Channel.LETTER,
        Contact.Party.GUARANTOR,
        Contact.Outcome.LETTER_SENT,
    )
    assert contact.logged_by == medium
    audit = AuditEvent.objects.get(object_type="reports.statement", object_id=str(letter.pk))
    assert audit.action == AuditEvent.Action.CREATE and audit.user == medium
    assert audit.detail["kind"] == "dunning_30" and audit.detail["covers"] == [crafted.pk]


@pytest.mark.parametrize(
    ("kind", "outcome"),
    [
        (Kind.FINAL_NOTICE, Contact.Outcome.FINAL_NOTICE_SENT),
        (Kind.NOTICE_501R, Contact.Outcome.NOTICE_501R_SENT),
        (Kind.STATEMENT, Contact.Outcome.STATEMENT_SENT),
    ],
)
def test_notices_the_agency_rules_count_are_logged_as_such(crafted, medium, kind, outcome):
    services.letter_produce(account=crafted, kind=kind, user=medium)
    assert Contact.objects.get(account=crafted).outcome == outcome


def test_a_printed_statement_sets_the_first_statement_date_once(crafted, medium):
    statement = services.letter_produce(account=crafted, kind=Kind.STATEMENT, user=medium)
    crafted.refresh_from_db()
    assert crafted.first_statement_on == statement.mailed_on
    assert "Amount due: $65.00" in stored_text(statement)
    earlier = statement.mailed_on - timedelta(days=40)
    type(crafted).objects.filter(pk=crafted.pk).update(first_statement_on=earlier)
    services.letter_produce(account=crafted, kind=Kind.DUNNING_30, user=medium)
    crafted.refresh_from_db()
    assert crafted.first_statement_on == earlier


def test_refused_for_a_cease_communication_account_and_nothing_is_made(crafted, medium):
    type(crafted).objects.filter(pk=crafted.pk).update(
        cease_communication_on=practice_today(crafted.practice) - timedelta(days=1)
    )
    with pytest.raises(ApplicationError, match="cease communication"):
        services.letter_produce(account=crafted, kind=Kind.DUNNING_60, user=medium)
    assert not Statement.objects.exists()
    assert not Contact.objects.exists()
    assert not AuditEvent.objects.filter(object_type="reports.statement").exists()


def test_refused_to_a_represented_patient_but_the_attorney_gets_the_lop_acknowledgement(crafted, medium):
    AccountHold.objects.create(
        account=crafted,
        practice=crafted.practice,
        kind=AccountHold.Kind.LOP,
        placed_on=practice_today(crafted.practice),
        attorney_name="Sam Lee",
        attorney_firm="Lee & Park LLP",
    )
    with pytest.raises(ApplicationError, match="attorney"):
        services.letter_produce(account=crafted, kind=Kind.DUNNING_30, user=medium)
    letter = services.letter_produce(account=crafted, kind=Kind.LOP_ACKNOWLEDGEMENT, user=medium)
    assert letter.recipient == Statement.Recipient.ATTORNEY
    assert Contact.objects.get(account=crafted).party == Contact.Party.ATTORNEY
    assert "Dear Sam Lee," in stored_text(letter)


def test_refused_to_an_address_mail_came_back_from(crafted, medium):
    crafted.patient.address_is_bad = True
    crafted.patient.save(update_fields=["address_is_bad"])
    with pytest.raises(ApplicationError, match="mail came back"):
        services.letter_produce(account=crafted, kind=Kind.STATEMENT, user=medium)
    assert not Statement.objects.exists()


def test_dunning_pauses_on_a_dispute_hold_but_the_inquiry_is_still_answered(crafted, medium):
    from collections_app.models import BillingInquiry

    today = practice_today(crafted.practice)
    AccountHold.objects.create(
        account=crafted, practice=crafted.practice, kind=AccountHold.Kind.DISPUTE, placed_on=today
    )
    with pytest.raises(ApplicationError, match="paused"):
        services.letter_produce(account=crafted, kind=Kind.FINAL_NOTICE, user=medium)
    assert not Contact.objects.exists()
    BillingInquiry.objects.create(
        account=crafted,
        practice=crafted.practice,
        channel=BillingInquiry.Channel.PHONE,
        question="Why was the blood draw billed?",
        received_on=today - timedelta(days=2),
        response_due_on=today + timedelta(days=8),
        response="The blood draw was billed separately from the visit, as your plan requires.",
        responded_on=today,
    )
    letter = services.letter_produce(account=crafted, kind=Kind.INQUIRY_RESPONSE, user=medium)
    assert "billed separately from the visit" in stored_text(letter)


def test_plan_reminder_names_the_next_installment_and_needs_a_plan(crafted, medium):
    from payment_plans import services as plans

    with pytest.raises(ApplicationError, match="payment plan"):
        services.letter_produce(account=crafted, kind=Kind.PLAN_REMINDER, user=medium)
    due = practice_today(crafted.practice) + timedelta(days=7)
    plan = plans.plan_create(
        acting_user=medium, account_id=crafted.pk, installment_amount=Decimal("25.00"), start_on=due
    )
    plans.plan_activate(acting_user=medium, plan_id=plan.pk)
    letter = services.letter_produce(account=crafted, kind=Kind.PLAN_REMINDER, user=medium)
    first_due = plan.installments.order_by("due_on").first().due_on
    assert f"installment of $25.00 is due on {first_due:%m/%d/%Y}" in stored_text(letter)


def test_the_note_prints_and_a_dunning_letter_cannot_go_to_an_attorney(crafted, medium):
    letter = services.letter_produce(
        account=crafted, kind=Kind.ADDRESS_REQUEST, user=medium, note="Our office moved to 7 Main Street."
    )
    assert "Our office moved to 7 Main Street." in stored_text(letter)
    with pytest.raises(ApplicationError):
        services.letter_produce(
            account=crafted, kind=Kind.DUNNING_30, user=medium, recipient=Statement.Recipient.ATTORNEY
        )


def test_store_document_of_a_cycle_statement_sets_its_pages(crafted, private_root):
    today = practice_today(crafted.practice)
    statement = Statement.objects.create(
        account=crafted,
        practice=crafted.practice,
        guarantor=crafted.guarantor,
        statement_date=today,
        kind=Kind.STATEMENT,
    )
    statement.covers.set([crafted])
    services.statement_document_store(statement)
    statement.refresh_from_db()
    assert statement.page_count == 1
    assert statement.document.name.endswith(f"statement-{statement.pk}.pdf")
    assert (private_root / statement.document.name).stat().st_mode & 0o077 == 0
    assert statement.content["amount_due"] == "65.00"
    assert "Account A20260001" in stored_text(statement)
