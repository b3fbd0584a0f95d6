"""The statement and letter documents: what the printed PDF says (read back with pdftotext) for a
crafted account, minimum necessary, and the merged print render's page counts."""

import io
from datetime import timedelta
from decimal import Decimal

import pytest
from pypdf import PdfReader

from accounts.models import Guarantor
from accounts.selectors import practice_today
from collections_app.models import AccountHold
from reports.models import Statement
from reports.statements import documents
from tests.factories import ChargeLineFactory, EncounterFactory, PatientAccountFactory, PatientFactory
from tests.reports.statement_world import HAS_PDFTOTEXT, Kind, crafted_account, make_statement, pdf_text, post, squash

pytestmark = pytest.mark.skipif(not HAS_PDFTOTEXT, reason="pdftotext (poppler-utils) is not installed")


@pytest.fixture
def crafted(practice):
    return crafted_account(practice)


def test_statement_pdf_lists_each_visit_with_cpt_insurance_and_patient_share(crafted):
    statement = make_statement(crafted)
    text = pdf_text(documents.render_statement_pdf(statement))
    flat = squash(text)
    assert "Northside Pediatrics" in flat
    assert "Account A20260001" in flat
    assert "Office visit (CPT 99213)" in flat and "Blood draw (CPT 36415)" in flat
    assert "CPT 99214" in flat
    today = statement.statement_date
    first_line = next(line for line in text.splitlines() if f"{today - timedelta(days=75):%m/%d/%Y}" in line)
    assert squash(first_line).split()[-5:] == ["$175.00", "$100.00", "$40.00", "$0.00", "$35.00"]
    second_line = next(line for line in text.splitlines() if f"{today - timedelta(days=20):%m/%d/%Y}" in line)
    assert squash(second_line).split()[-5:] == ["$200.00", "$120.00", "$30.00", "$0.00", "$50.00"]
    assert "Payment received, thank you -$20.00" in flat


def test_statement_pdf_has_the_aging_amount_due_pay_by_and_remit_stub(crafted):
    statement = make_statement(crafted)
    flat = squash(pdf_text(documents.render_statement_pdf(statement)))
    # Current | 31-60 | 61-90 | 91-120 | over 120 | balance
    assert "Current 31-60 days 61-90 days 91-120 days Over 120 days Balance" in flat
    assert "$50.00 $0.00 $15.00 $0.00 $0.00 $65.00" in flat
    assert f"Amount due: $65.00 · Pay by: {statement.pay_by:%m/%d/%Y}" in flat
    assert "Amount enclosed $" in flat
    assert "Please detach and return the top portion with your payment" in flat
    assert statement.content["amount_due"] == "65.00"
    assert statement.content["aging"][2] == {"bucket": "61-90", "label": "61-90 days", "amount": "15.00"}


def test_statement_carries_no_birth_date_diagnosis_or_ssn(crafted):
    statement = make_statement(crafted)
    flat = squash(pdf_text(documents.render_statement_pdf(statement)))
    patient = crafted.patient
    assert f"{patient.date_of_birth:%m/%d/%Y}" not in flat
    assert "J06.9" not in flat and "E11.9" not in flat
    assert "123-45-6789" not in flat and "6789" not in flat
    assert patient.medical_record_number not in flat
    assert "date_of_birth" not in str(statement.content) and "diagnosis" not in str(statement.content)


@pytest.mark.parametrize(
    ("level", "words"),
    [
        (0, "Thank you for choosing Northside Pediatrics"),
        (1, "Your balance is past due"),
        (2, "more than 60 days past due"),
        (3, "more than 90 days past due"),
        (4, "FINAL NOTICE"),
    ],
)
def test_statement_message_follows_the_dunning_level(crafted, level, words):
    statement = make_statement(crafted, level=level)
    assert words in squash(pdf_text(documents.render_statement_pdf(statement)))


def test_one_statement_lists_every_account_of_the_guarantor_under_its_number(crafted, practice):
    child = PatientFactory(practice=practice, first_name="Diego", last_name="Garcia")
    second = PatientAccountFactory(
        practice=practice, patient=child, guarantor=crafted.guarantor, account_number="A20260002"
    )
    visit = EncounterFactory(account=second, date_of_service=practice_today(practice) - timedelta(days=40))
    ChargeLineFactory(encounter=visit, procedure_code="99392", amount=Decimal("90.00"))
    post(second, Kind.CHARGE, encounter=visit, day=visit.date_of_service, patient="90.00")
    statement = make_statement(crafted, covers=[crafted, second])
    flat = squash(pdf_text(documents.render_statement_pdf(statement)))
    assert "Account A20260001 · Patient: Maria Garcia" in flat
    assert "Account A20260002 · Patient: Diego Garcia" in flat
    assert "Preventive visit (CPT 99392)" in flat
    assert "$50.00 $90.00 $15.00 $0.00 $0.00 $155.00" in flat
    assert statement.content["amount_due"] == "155.00"


def test_plan_installment_due_is_on_the_statement(crafted, medium):
    from payment_plans import services as plans

    plan = plans.plan_create(
        acting_user=medium,
        account_id=crafted.pk,
        installment_amount=Decimal("25.00"),
        start_on=practice_today(crafted.practice) + timedelta(days=7),
    )
    plans.plan_activate(acting_user=medium, plan_id=plan.pk)
    statement = make_statement(crafted)
    flat = squash(pdf_text(documents.render_statement_pdf(statement)))
    assert statement.content["plan_due"]["amount_due"] == "25.00"
    assert statement.content["amount_due"] == "25.00"
    assert "the installment of $25.00 is due by" in flat


def test_guarantor_who_is_not_the_patient_gets_it_at_their_own_address(practice):
    patient = PatientFactory(practice=practice, first_name="Wei", last_name="Nguyen", address_line1="1 Kid Lane")
    guarantor = Guarantor.objects.create(
        practice=practice,
        patient=None,
        relationship=Guarantor.Relationship.PARENT,
        first_name="Lan",
        last_name="Nguyen",
        address_line1="9 Parent Road",
        city="Troy",
        state="NY",
        postal_code="12180",
    )
    account = PatientAccountFactory(practice=practice, patient=patient, guarantor=guarantor)
    statement = make_statement(account)
    assert statement.content["recipient"] == {
        "name": "Lan Nguyen",
        "address_lines": ["9 Parent Road", "Troy, NY 12180"],
    }


LETTER_WORDS = {
    Statement.Kind.DUNNING_30: ["more than 30 days past due", "payment plan", "Amount enclosed"],
    Statement.Kind.DUNNING_60: ["Second notice", "more than 60 days past due"],
    Statement.Kind.DUNNING_90: ["Third notice", "more than 90 days past due"],
    Statement.Kind.FINAL_NOTICE: [
        "Final notice before referral to a collection agency",
        "referred to a collection agency after",
    ],
    Statement.Kind.NOTICE_501R: [
        "501(r)",
        "extraordinary collection action",
        "Financial Assistance Policy",
        "plain-language summary",
        "credit reporting agencies",
    ],
    Statement.Kind.PLAN_AGREEMENT: ["Payment plan agreement"],
    Statement.Kind.PLAN_REMINDER: ["Payment plan reminder"],
    Statement.Kind.PLAN_LAPSE: ["Your payment plan has lapsed"],
    Statement.Kind.LOP_ACKNOWLEDGEMENT: ["letter of protection", "hold collection"],
    Statement.Kind.PROBATE_CLAIM: ["Claim against the estate", "amount of the claim is $65.00"],
    Statement.Kind.INQUIRY_RESPONSE: ["Response to your billing inquiry"],
    Statement.Kind.ADDRESS_REQUEST: ["returned to us as undeliverable", "correct mailing address"],
}
RECIPIENTS = {
    Statement.Kind.LOP_ACKNOWLEDGEMENT: Statement.Recipient.ATTORNEY,
    Statement.Kind.PROBATE_CLAIM: Statement.Recipient.ESTATE,
}


@pytest.mark.parametrize("kind", sorted(LETTER_WORDS))
def test_every_letter_renders_with_its_words_and_without_birth_date_or_diagnosis(crafted, kind):
    statement = make_statement(crafted, kind, recipient=RECIPIENTS.get(kind, Statement.Recipient.GUARANTOR))
    flat = squash(pdf_text(documents.render_statement_pdf(statement)))
    for words in LETTER_WORDS[kind]:
        assert words in flat
    assert "Account A20260001" in flat
    assert f"{crafted.patient.date_of_birth:%m/%d/%Y}" not in flat
    assert "J06.9" not in flat and "123-45-6789" not in flat


def test_dunning_letter_asks_for_the_balance(crafted):
    statement = make_statement(crafted, Statement.Kind.DUNNING_60)
    flat = squash(pdf_text(documents.render_statement_pdf(statement)))
    assert "balance of $65.00" in flat and "amount due of $65.00" in flat


def test_final_notice_covering_two_accounts_asks_for_both_and_names_each(crafted, practice):
    child = PatientFactory(practice=practice, first_name="Diego", last_name="Garcia")
    second = PatientAccountFactory(
        practice=practice, patient=child, guarantor=crafted.guarantor, account_number="A20260002"
    )
    visit = EncounterFactory(account=second, date_of_service=practice_today(practice) - timedelta(days=100))
    ChargeLineFactory(encounter=visit, procedure_code="99392", amount=Decimal("90.00"))
    post(second, Kind.CHARGE, encounter=visit, day=visit.date_of_service, patient="90.00")
    statement = make_statement(crafted, Statement.Kind.FINAL_NOTICE, covers=[crafted, second])
    flat = squash(pdf_text(documents.render_statement_pdf(statement)))
    assert "A20260001 $65.00" in flat and "A20260002 $90.00" in flat
    assert statement.content["amount_due"] == "155.00"


def test_final_notice_names_the_date_after_which_it_may_be_referred(crafted):
    statement = make_statement(crafted, Statement.Kind.FINAL_NOTICE)
    after = statement.statement_date + timedelta(days=30)
    assert f"collection agency after {after:%m/%d/%Y}" in squash(pdf_text(documents.render_statement_pdf(statement)))


def test_501r_notice_gives_at_least_30_days(crafted):
    statement = make_statement(crafted, Statement.Kind.NOTICE_501R)
    after = statement.statement_date + timedelta(days=30)
    assert statement.content["action_after"] >= after.isoformat()
    assert f"after {after:%m/%d/%Y}" in squash(pdf_text(documents.render_statement_pdf(statement)))


def test_probate_claim_goes_to_the_estate_with_the_date_of_death(crafted):
    today = practice_today(crafted.practice)
    AccountHold.objects.create(
        account=crafted,
        practice=crafted.practice,
        kind=AccountHold.Kind.PROBATE,
        placed_on=today,
        died_on=today - timedelta(days=12),
        estate_name="Estate of Maria Garcia",
        executor_name="Rosa Garcia",
        executor_address="4 Oak Street, Albany, NY 12207",
        claim_deadline_on=today + timedelta(days=60),
    )
    statement = make_statement(crafted, Statement.Kind.PROBATE_CLAIM, recipient=Statement.Recipient.ESTATE)
    flat = squash(pdf_text(documents.render_statement_pdf(statement)))
    assert statement.content["recipient"] == {
        "name": "Estate of Maria Garcia",
        "address_lines": ["c/o Rosa Garcia", "4 Oak Street, Albany, NY 12207"],
    }
    assert "Estate of Maria Garcia" in flat and "c/o Rosa Garcia" in flat and "4 Oak Street" in flat
    assert f"who died on {today - timedelta(days=12):%m/%d/%Y}" in flat
    assert f"{crafted.patient.date_of_birth:%m/%d/%Y}" not in flat


def test_lop_acknowledgement_goes_to_the_attorney(crafted):
    AccountHold.objects.create(
        account=crafted,
        practice=crafted.practice,
        kind=AccountHold.Kind.LOP,
        placed_on=practice_today(crafted.practice),
        attorney_name="Sam Lee",
        attorney_firm="Lee & Park LLP",
    )
    statement = make_statement(crafted, Statement.Kind.LOP_ACKNOWLEDGEMENT, recipient=Statement.Recipient.ATTORNEY)
    flat = squash(pdf_text(documents.render_statement_pdf(statement)))
    assert statement.content["recipient"] == {"name": "Sam Lee", "address_lines": ["Lee & Park LLP"]}
    assert "Lee & Park LLP" in flat and "Dear Sam Lee," in flat
    assert "your client, Maria Garcia" in flat


def test_merged_render_returns_each_page_count_summing_to_the_file(crafted, practice):
    long_account = PatientAccountFactory(practice=practice, account_number="A20269999")
    today = practice_today(practice)
    for n in range(60):
        visit = EncounterFactory(account=long_account, date_of_service=today - timedelta(days=200 - n))
        ChargeLineFactory(encounter=visit, procedure_code="99213", amount=Decimal("10.00"))
        post(long_account, Kind.CHARGE, encounter=visit, day=visit.date_of_service, patient="10.00")
    statements = [
        make_statement(crafted),
        make_statement(long_account),
        make_statement(crafted, Statement.Kind.DUNNING_30),
    ]
    pdf, counts = documents.render_statements_pdf(statements)
    assert len(PdfReader(io.BytesIO(pdf)).pages) == sum(counts)
    assert counts[0] == 1 and counts[1] >= 2 and counts[2] == 1
    pages = pdf_text(pdf).split("\f")
    # Each document numbers its own pages, and begins on its own page.
    assert "A20269999" in pages[1] and "Page 1" in pages[1]
    assert "Continued on the next page" in pages[1]
    assert "Page 2" in pages[2]
    assert "Your balance is past due" in pages[sum(counts[:2])]
    single = documents.render_statement_pdf(statements[1])
    assert len(PdfReader(io.BytesIO(single)).pages) == counts[1]


def test_render_uses_the_frozen_content_not_the_ledger_now(crafted):
    statement = make_statement(crafted)
    post(crafted, Kind.PATIENT_PAYMENT, day=statement.statement_date, patient="-65.00", payment_method="cash")
    flat = squash(pdf_text(documents.render_statement_pdf(statement)))
    assert "Amount due: $65.00" in flat
