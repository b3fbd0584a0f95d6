"""Which mailing address a letter to the patient or guarantor goes to, and whether it will do.

One rule, in two forms that must agree (tests/collections_app/test_mailing_address.py checks them
against each other): `letter_address` for one account (the compliance governor's letter check) and
`mailing_address_q` for many (correspondence.selectors.mailable_q, so the statement cycle, the plan
letters and print-a-letter-now).

- A letter to the guarantor who is the patient (relationship "self"), or to the patient, goes to
  the patient's address: the record the office keeps current, and the one returned mail marks bad.
- A letter to any other guarantor (a parent, a spouse...) goes to the guarantor's own address: the
  patient's address says nothing about where the guarantor lives. Mail that comes back from it marks
  the guarantor's own address bad (Guarantor.address_is_bad), not the patient's.
- One address, one answer: a guarantor whose address is the patient's (same first line and ZIP
  code) is mailed at an address the patient's flag already speaks for. Returned mail sent to such a
  guarantor is recorded against the patient's address (`returned_to`), and a bad patient address
  makes that guarantor's bad too. This also covers returned mail recorded before the recipient was
  kept, which always marked the patient's address.

The statement's recipient block (reports.statements.documents.recipient_block) prints the same
address.
"""

from dataclasses import dataclass

from django.db.models import F, Q

from accounts.models import Guarantor

PATIENT = "patient"
GUARANTOR = "guarantor"


@dataclass(frozen=True)
class LetterAddress:
    who: str  # "the patient" or "the guarantor", for the governor's reasons
    line1: str
    bad: bool

    @property
    def usable(self) -> bool:
        return bool(self.line1) and not self.bad


def writes_to_guarantor_record(*, party: str, relationship: str) -> bool:
    """True where the letter goes to the guarantor's own address rather than the patient's."""
    return party == GUARANTOR and relationship != Guarantor.Relationship.SELF


def _same_address(guarantor, patient) -> bool:
    return (guarantor.address_line1, guarantor.postal_code) == (patient.address_line1, patient.postal_code)


def returned_to(account, *, recipient: str | None = None) -> str:
    """Whose address record a letter to `recipient` ("patient" or "guarantor"; None: whoever the
    account's statements go to) came back from: GUARANTOR only for a guarantor who is not the
    patient and lives at an address of their own; PATIENT otherwise."""
    patient, guarantor = account.patient, account.guarantor
    if recipient is None:
        recipient = GUARANTOR
    if writes_to_guarantor_record(party=recipient, relationship=guarantor.relationship) and not _same_address(
        guarantor, patient
    ):
        return GUARANTOR
    return PATIENT


def letter_address(account, *, party: str = GUARANTOR) -> LetterAddress:
    """The address a letter to `party` ("patient" or "guarantor") of this account goes to."""
    patient, guarantor = account.patient, account.guarantor
    if writes_to_guarantor_record(party=party, relationship=guarantor.relationship):
        bad = guarantor.address_is_bad or (patient.address_is_bad and _same_address(guarantor, patient))
        return LetterAddress(who="the guarantor", line1=guarantor.address_line1, bad=bad)
    return LetterAddress(who="the patient", line1=patient.address_line1, bad=patient.address_is_bad)


def mailing_address_q(prefix: str = "", *, party: str = GUARANTOR) -> Q:
    """Accounts (prefix "") or rows reaching an account (e.g. "plan__account__") whose letter to
    `party` has an address on file that is not known bad."""
    patient_usable = Q(**{f"{prefix}patient__address_is_bad": False}) & ~Q(**{f"{prefix}patient__address_line1": ""})
    if party != GUARANTOR:
        return patient_usable
    at_bad_patient_address = Q(
        **{
            f"{prefix}patient__address_is_bad": True,
            f"{prefix}guarantor__address_line1": F(f"{prefix}patient__address_line1"),
            f"{prefix}guarantor__postal_code": F(f"{prefix}patient__postal_code"),
        }
    )
    guarantor_usable = (
        Q(**{f"{prefix}guarantor__address_is_bad": False})
        & ~Q(**{f"{prefix}guarantor__address_line1": ""})
        & ~at_bad_patient_address
    )
    is_self = Q(**{f"{prefix}guarantor__relationship": Guarantor.Relationship.SELF})
    return (is_self & patient_usable) | (~is_self & guarantor_usable)
