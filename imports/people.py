"""Patients, guarantors and accounts as imports find or create them (837P, Synthea, CSV).

A patient is found by practice and medical record number. An imported file names the number it
has: the member id of a subscriber who is the patient (837P), the export's patient id (Synthea),
the MRN column (CSV). A dependent in an 837P has no member id of their own, so their number is
derived from name and date of birth ("D" + 15 hex digits), the same in every file that names them.
Each patient has one account per practice here; an import adds to the first one.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date

from accounts import services as ledger
from accounts.models import Guarantor, Patient, PatientAccount, Practice

Insurance = PatientAccount.InsuranceType

# SBR09 claim filing indicator codes (X12 005010X222A2) to the account's kind of insurance.
FILING_INDICATOR = {
    "MA": Insurance.MEDICARE,
    "MB": Insurance.MEDICARE,
    "16": Insurance.MEDICARE,
    "MC": Insurance.MEDICAID,
    "WC": Insurance.WORKERS_COMP,
    "09": Insurance.SELF_PAY,
    "ZZ": Insurance.SELF_PAY,
}
SEX = {"F": Patient.Sex.FEMALE, "M": Patient.Sex.MALE, "U": Patient.Sex.UNKNOWN}


@dataclass
class PersonFacts:
    last_name: str
    first_name: str
    date_of_birth: date | None
    middle_name: str = ""
    sex: str = ""
    address_line1: str = ""
    address_line2: str = ""
    city: str = ""
    state: str = ""
    postal_code: str = ""
    phone: str = ""
    email: str = ""

    def address(self) -> dict[str, str]:
        return {
            "address_line1": self.address_line1[:200],
            "address_line2": self.address_line2[:200],
            "city": self.city[:100],
            "state": self.state[:2].upper(),
            "postal_code": self.postal_code[:10],
        }


def derived_record_number(facts: PersonFacts) -> str:
    key = f"{facts.last_name.strip().upper()}|{facts.first_name.strip().upper()}|{facts.date_of_birth}"
    return "D" + hashlib.sha256(key.encode()).hexdigest()[:15].upper()


def patient_build(*, practice: Practice, record_number: str, facts: PersonFacts) -> Patient:
    """A new patient as the file names them, not yet saved (patient_find_or_create saves it; a
    bulk import saves many at once)."""
    return Patient(
        practice=practice,
        medical_record_number=record_number[:30],
        first_name=facts.first_name[:100] or "(none)",
        middle_name=facts.middle_name[:100],
        last_name=facts.last_name[:100],
        date_of_birth=facts.date_of_birth,
        sex=SEX.get(facts.sex.upper()[:1], Patient.Sex.UNKNOWN),
        phone=facts.phone[:20],
        email=facts.email[:254],
        **facts.address(),
    )


def patient_find_or_create(*, practice: Practice, record_number: str, facts: PersonFacts, acting_user=None):
    """(patient, created). An existing patient's address follows the file when the file has one
    and it differs (the old address is kept in the history); names typed in the office are kept."""
    patient = Patient.objects.filter(practice=practice, medical_record_number=record_number).first()
    if patient is None:
        patient = patient_build(practice=practice, record_number=record_number, facts=facts)
        patient.save(force_insert=True)
        return patient, True
    new_address = facts.address()
    if new_address["address_line1"] and any(getattr(patient, k) != v for k, v in new_address.items()):
        patient = ledger.patient_update_demographics(acting_user=acting_user, patient_id=patient.pk, **new_address)
    return patient, False


def _free_account_number(practice: Practice, wanted: str) -> str:
    wanted = wanted[:30]
    if not PatientAccount.objects.filter(practice=practice, account_number=wanted).exists():
        return wanted
    n = 2
    while True:
        candidate = f"{wanted[:26]}-{n}"
        if not PatientAccount.objects.filter(practice=practice, account_number=candidate).exists():
            return candidate
        n += 1


def account_find_or_create(
    *,
    practice: Practice,
    patient: Patient,
    guarantor: PersonFacts | None = None,
    relationship: str = Guarantor.Relationship.SELF,
    insurance: str = Insurance.COMMERCIAL,
    payer_name: str = "",
    opened_on: date | None = None,
    account_number: str = "",
):
    """(account, created): the patient's account at the practice, or a new one whose guarantor is
    the patient (relationship self) or the person named (a subscriber, a parent)."""
    account = PatientAccount.objects.filter(practice=practice, patient=patient).order_by("pk").first()
    if account is not None:
        return account, False
    person, account = account_build(
        practice=practice,
        patient=patient,
        guarantor=guarantor,
        relationship=relationship,
        insurance=insurance,
        payer_name=payer_name,
        opened_on=opened_on,
        account_number=_free_account_number(practice, account_number or patient.medical_record_number),
    )
    person.save(force_insert=True)
    account.guarantor = person
    account.save(force_insert=True)
    return account, True


def account_build(
    *,
    practice: Practice,
    patient: Patient,
    account_number: str,
    guarantor: PersonFacts | None = None,
    relationship: str = Guarantor.Relationship.SELF,
    insurance: str = Insurance.COMMERCIAL,
    payer_name: str = "",
    opened_on: date | None = None,
) -> tuple[Guarantor, PatientAccount]:
    """A new account and its guarantor, not yet saved (the guarantor first), numbered
    `account_number` (free: the caller checked)."""
    if guarantor is None or relationship == Guarantor.Relationship.SELF:
        person = Guarantor(
            practice=practice,
            patient=patient,
            relationship=Guarantor.Relationship.SELF,
            first_name=patient.first_name,
            last_name=patient.last_name,
            phone=patient.phone,
            email=patient.email,
            **{name: getattr(patient, name) for name in Patient.ADDRESS_FIELDS},
        )
    else:
        person = Guarantor(
            practice=practice,
            relationship=relationship,
            first_name=guarantor.first_name[:100] or "(none)",
            last_name=guarantor.last_name[:100],
            phone=guarantor.phone[:20],
            **guarantor.address(),
        )
    extra = {"opened_on": opened_on} if opened_on else {}
    account = PatientAccount(
        practice=practice,
        account_number=account_number,
        patient=patient,
        guarantor=person,
        primary_insurance=insurance,
        payer_name=payer_name[:100],
        **extra,
    )
    return person, account
