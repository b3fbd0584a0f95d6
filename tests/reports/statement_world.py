"""The crafted account the statement and letter tests read back from the printed PDF, and the
helpers that post to its ledger and produce its statements."""

import shutil
import subprocess
from datetime import timedelta
from decimal import Decimal

from accounts import services as ledger
from accounts.models import Transaction
from accounts.selectors import practice_today
from reports.models import Statement
from reports.statements import documents
from tests.factories import ChargeLineFactory, EncounterFactory, PatientAccountFactory, PatientFactory

Kind = Transaction.Kind
HAS_PDFTOTEXT = shutil.which("pdftotext") is not None


def pdf_text(pdf: bytes) -> str:
    result = subprocess.run(["pdftotext", "-layout", "-", "-"], input=pdf, capture_output=True, check=True)
    return result.stdout.decode()


def squash(text: str) -> str:
    return " ".join(text.split())


def post(account, kind, *, encounter=None, day, patient="0.00", insurance="0.00", **extra):
    return ledger.transaction_post(
        acting_user=None,
        account_id=account.pk,
        kind=kind,
        patient_amount=Decimal(patient),
        insurance_amount=Decimal(insurance),
        encounter_id=encounter.pk if encounter else None,
        effective_on=day,
        **extra,
    )


def crafted_account(practice):
    """Two visits billed to insurance, each paid, adjusted and left partly to the patient, and a
    patient payment that pays the oldest visit first:

    visit 1, 75 days ago: 99213 $150 + 36415 $25; insurance paid 100, adjusted 40, patient 35
    visit 2, 20 days ago: 99214 $200; insurance paid 120, adjusted 30, patient 50
    patient paid $20 ten days ago -> balance 65.00: 15.00 in 61-90 days, 50.00 current."""
    today = practice_today(practice)
    patient = PatientFactory(practice=practice, first_name="Maria", last_name="Garcia", ssn="123-45-6789")
    account = PatientAccountFactory(practice=practice, patient=patient, account_number="A20260001")
    first = EncounterFactory(account=account, date_of_service=today - timedelta(days=75), diagnosis_codes=["J06.9"])
    ChargeLineFactory(encounter=first, procedure_code="99213", amount=Decimal("150.00"))
    ChargeLineFactory(encounter=first, procedure_code="36415", amount=Decimal("25.00"))
    second = EncounterFactory(account=account, date_of_service=today - timedelta(days=20), diagnosis_codes=["E11.9"])
    ChargeLineFactory(encounter=second, procedure_code="99214", amount=Decimal("200.00"))
    for encounter, charge, paid, adjusted, share in (
        (first, "175.00", "100.00", "40.00", "35.00"),
        (second, "200.00", "120.00", "30.00", "50.00"),
    ):
        day = encounter.date_of_service
        post(account, Kind.CHARGE, encounter=encounter, day=day, insurance=charge)
        post(account, Kind.INSURANCE_PAYMENT, encounter=encounter, day=day + timedelta(days=5), insurance=f"-{paid}")
        post(
            account,
            Kind.CONTRACTUAL_ADJUSTMENT,
            encounter=encounter,
            day=day + timedelta(days=5),
            insurance=f"-{adjusted}",
        )
        post(
            account,
            Kind.TRANSFER_TO_PATIENT,
            encounter=encounter,
            day=day + timedelta(days=5),
            patient=share,
            insurance=f"-{share}",
        )
    post(
        account,
        Kind.PATIENT_PAYMENT,
        day=today - timedelta(days=10),
        patient="-20.00",
        payment_method="check",
        reference="CHK-1001",
    )
    account.refresh_from_db()
    assert account.patient_balance == Decimal("65.00")
    return account


def make_statement(
    account, kind=Statement.Kind.STATEMENT, *, recipient=Statement.Recipient.GUARANTOR, level=0, covers=None
):
    today = practice_today(account.practice)
    statement = Statement.objects.create(
        account=account,
        practice=account.practice,
        guarantor=account.guarantor,
        kind=kind,
        recipient=recipient,
        dunning_level=level,
        statement_date=today,
        pay_by=today + timedelta(days=21),
    )
    statement.covers.set(covers or [account])
    statement.content = documents.statement_content(statement)
    statement.save(update_fields=["content"])
    return statement
