"""One mailing-address rule (collections_app.correspondence.addresses): a letter to a guarantor who
is not the patient goes to the guarantor's address, so mailable_q (statements, plan letters) checks
the guarantor's address there and the patient's otherwise, exactly as the compliance governor does."""

import itertools
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from accounts.jobs import refresh_aging
from accounts.models import Guarantor, PatientAccount
from collections_app.contacts import compliance
from collections_app.contacts.compliance import contact_decision
from collections_app.correspondence import addresses
from collections_app.correspondence.selectors import mailable_q
from collections_app.models import Contact
from reports.models import Statement
from reports.statements import cycle
from tests.conftest import post_visit
from tests.factories import PatientAccountFactory

pytestmark = pytest.mark.django_db

NOON_NY = datetime(2026, 6, 10, 16, 0, tzinfo=ZoneInfo("UTC"))
SELF = Guarantor.Relationship.SELF
PARENT = Guarantor.Relationship.PARENT


def account_with(
    practice,
    *,
    relationship,
    patient_line1="12 Elm Street",
    patient_bad=False,
    guarantor_line1="",
    guarantor_bad=False,
):
    account = PatientAccountFactory(practice=practice)
    patient, guarantor = account.patient, account.guarantor
    patient.address_line1, patient.address_is_bad = patient_line1, patient_bad
    patient.save(update_fields=["address_line1", "address_is_bad"])
    guarantor.relationship, guarantor.address_line1 = relationship, guarantor_line1
    guarantor.address_is_bad = guarantor_bad
    if relationship != SELF:
        guarantor.patient, guarantor.first_name = None, "Dana"
        guarantor.city, guarantor.state, guarantor.postal_code = patient.city, patient.state, patient.postal_code
    guarantor.save()
    return account


def mailable(account, **kwargs) -> bool:
    return PatientAccount.objects.filter(pk=account.pk).filter(mailable_q(**kwargs)).exists()


def letter_allowed(account, party=Contact.Party.GUARANTOR) -> bool:
    decision = contact_decision(account=account, channel=Contact.Channel.LETTER, party=party, at=NOON_NY)
    return not {compliance.NO_CONTACT_DETAIL, compliance.ADDRESS_BAD} & set(decision.codes)


def test_a_parent_guarantor_is_mailed_at_their_own_address_whatever_the_patients(practice):
    # The patient's address is missing and known bad; the parent's is on file: the parent is mailed.
    account = account_with(practice, relationship=PARENT, patient_line1="", patient_bad=True, guarantor_line1="9 Oak")
    assert mailable(account)
    assert letter_allowed(account)


def test_a_parent_guarantor_without_an_address_is_not_mailed_though_the_patient_has_one(practice):
    account = account_with(practice, relationship=PARENT, guarantor_line1="")
    assert not mailable(account)
    assert not letter_allowed(account)
    decision = contact_decision(
        account=account, channel=Contact.Channel.LETTER, party=Contact.Party.GUARANTOR, at=NOON_NY
    )
    assert "no mailing address on file for the guarantor" in decision.explanation
    # A letter to the patient still goes to the patient's address.
    assert mailable(account, party=addresses.PATIENT)
    assert letter_allowed(account, party=Contact.Party.PATIENT)


def test_a_parent_at_the_patients_address_that_mail_came_back_from_is_not_mailed(practice):
    # Mail that came back from the patient's address (or was recorded before the recipient was
    # kept) marks the patient's address bad; the parent lives at that same address.
    account = account_with(practice, relationship=PARENT, patient_bad=True, guarantor_line1="12 Elm Street")
    assert not mailable(account) and not letter_allowed(account)
    decision = contact_decision(
        account=account, channel=Contact.Channel.LETTER, party=Contact.Party.GUARANTOR, at=NOON_NY
    )
    assert decision.codes == [compliance.ADDRESS_BAD]
    # The same street in another ZIP code is another address.
    account.guarantor.postal_code = "10001"
    account.guarantor.save(update_fields=["postal_code"])
    assert mailable(account) and letter_allowed(account)


def test_a_parent_whose_own_address_mail_came_back_from_is_not_mailed_but_the_patient_is(practice):
    account = account_with(practice, relationship=PARENT, guarantor_line1="9 Oak", guarantor_bad=True)
    assert not mailable(account) and not letter_allowed(account)
    assert mailable(account, party=addresses.PATIENT) and letter_allowed(account, party=Contact.Party.PATIENT)


def test_a_self_guarantors_own_flag_is_not_read(practice):
    # A guarantor who is the patient is mailed at the patient's address: the patient's flag decides.
    account = account_with(practice, relationship=SELF, guarantor_line1="12 Elm Street", guarantor_bad=True)
    assert mailable(account) and letter_allowed(account)


def test_a_self_guarantor_is_mailed_at_the_patients_address(practice):
    account = account_with(practice, relationship=SELF, guarantor_line1="")
    assert mailable(account) and letter_allowed(account)
    bad = account_with(practice, relationship=SELF, patient_bad=True, guarantor_line1="9 Oak")
    assert not mailable(bad) and not letter_allowed(bad)


@pytest.mark.parametrize(
    ("relationship", "patient_line1", "patient_bad", "guarantor_line1", "guarantor_bad", "party"),
    list(
        itertools.product(
            (SELF, PARENT),
            ("12 Elm Street", ""),
            (False, True),
            ("9 Oak", "12 Elm Street", ""),
            (False, True),
            (addresses.GUARANTOR, addresses.PATIENT),
        )
    ),
)
def test_mailable_q_and_the_governor_are_one_rule(
    practice, relationship, patient_line1, patient_bad, guarantor_line1, guarantor_bad, party
):
    account = account_with(
        practice,
        relationship=relationship,
        patient_line1=patient_line1,
        patient_bad=patient_bad,
        guarantor_line1=guarantor_line1,
        guarantor_bad=guarantor_bad,
    )
    account = PatientAccount.objects.select_related("patient", "guarantor", "practice").get(pk=account.pk)
    governor_party = Contact.Party.GUARANTOR if party == addresses.GUARANTOR else Contact.Party.PATIENT
    assert mailable(account, party=party) == letter_allowed(account, governor_party)
    assert mailable(account, party=party) == addresses.letter_address(account, party=party).usable


def owing(account):
    post_visit(account, days_ago=40, charge="170.00", insurance_paid="50.00", to_patient="120.00")
    return account


def test_the_cycle_writes_to_a_parent_at_the_parents_address(practice):
    mailed = owing(account_with(practice, relationship=PARENT, patient_line1="", guarantor_line1="9 Oak"))
    left_out = owing(account_with(practice, relationship=PARENT, guarantor_line1=""))
    as_of = timezone.localdate()
    refresh_aging({practice.pk: as_of})
    batch = cycle.statement_cycle_practice(practice, as_of)

    statement = Statement.objects.get(batch=batch)
    assert statement.account_id == mailed.pk
    assert statement.content["recipient"]["address_lines"][0] == "9 Oak"
    assert not Statement.objects.filter(covers=left_out).exists()
    assert batch.suppressed[cycle.REASON_ADDRESS] == 1
