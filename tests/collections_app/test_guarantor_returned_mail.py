"""Returned mail is recorded against the address it went to: a parent or spouse mailed at their own
address gets the bad-address flag on their guarantor record, not the patient's; statements and
letters to the guarantor stop while letters to the patient at a good address go on; correcting
the guarantor's address resumes them and resolves the research. The panel says whose address is bad."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.jobs import refresh_aging
from accounts.models import Guarantor, PatientAccount
from collections_app.contacts import compliance
from collections_app.contacts.compliance import contact_decision
from collections_app.correspondence import addresses, services
from collections_app.correspondence.selectors import mailable_q
from collections_app.models import Contact, ReturnedMail, WorkItem
from core.errors import ApplicationError
from core.models import AuditEvent
from reports.models import Statement
from reports.statements import cycle
from tests.conftest import post_visit
from tests.factories import PatientAccountFactory

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}
YESTERDAY = timezone.localdate() - timedelta(days=1)
NOON_NY = datetime(2026, 6, 10, 16, 0, tzinfo=ZoneInfo("UTC"))
NEW_ADDRESS = {"address_line1": "77 Birch Road", "city": "Troy", "state": "ny", "postal_code": "12180"}
RETURNED_MAIL = WorkItem.Reason.RETURNED_MAIL


def with_parent(account, *, line1="9 Oak Lane", postal_code="12180"):
    """The account's guarantor becomes the patient's parent, living at `line1`."""
    guarantor = account.guarantor
    guarantor.relationship, guarantor.patient, guarantor.first_name = Guarantor.Relationship.PARENT, None, "Dana"
    guarantor.address_line1, guarantor.city, guarantor.state, guarantor.postal_code = line1, "Troy", "NY", postal_code
    guarantor.save()
    patient = account.patient
    patient.address_line1, patient.postal_code = "12 Elm Street", "12180"
    patient.save(update_fields=["address_line1", "postal_code"])
    return account


@pytest.fixture
def parent_account(account):
    return with_parent(account)


def record(user, account, recipient=None):
    return services.returned_mail_record(
        acting_user=user, account_id=account.pk, received_on=YESTERDAY, reason="moved", recipient=recipient
    )


def mailable(account, **kwargs) -> bool:
    return PatientAccount.objects.filter(pk=account.pk).filter(mailable_q(**kwargs)).exists()


def letter_allowed(account, party) -> bool:
    account = PatientAccount.objects.select_related("patient", "guarantor", "practice").get(pk=account.pk)
    decision = contact_decision(account=account, channel=Contact.Channel.LETTER, party=party, at=NOON_NY)
    return not {compliance.NO_CONTACT_DETAIL, compliance.ADDRESS_BAD} & set(decision.codes)


def open_reasons(account) -> set[str]:
    return set(WorkItem.objects.filter(account=account, cleared_at__isnull=True).values_list("reason", flat=True))


def flags(account):
    account.patient.refresh_from_db()
    account.guarantor.refresh_from_db()
    return account.patient.address_is_bad, account.guarantor.address_is_bad


# --- Recording ----------------------------------------------------------------------------------


def test_mail_to_a_parent_at_their_own_address_marks_the_parents_address_bad(medium, parent_account):
    row = record(medium, parent_account)  # no recipient given: where the statements go, the parent
    assert (row.recipient, row.guarantor_id) == (ReturnedMail.Recipient.GUARANTOR, parent_account.guarantor_id)
    assert flags(parent_account) == (False, True)
    # Statements and letters to the parent stop; a letter to the patient at a good address does not.
    assert not mailable(parent_account)
    assert not letter_allowed(parent_account, Contact.Party.GUARANTOR)
    assert mailable(parent_account, party=addresses.PATIENT)
    assert letter_allowed(parent_account, Contact.Party.PATIENT)
    assert AuditEvent.objects.filter(
        object_type="accounts.guarantor", object_id=str(parent_account.guarantor_id), detail__fields=["address_is_bad"]
    ).exists()
    assert not AuditEvent.objects.filter(object_type="accounts.patient", detail__fields=["address_is_bad"]).exists()
    assert RETURNED_MAIL in open_reasons(parent_account)


def test_mail_to_the_patient_of_a_parent_account_marks_the_patients_address(medium, parent_account):
    row = record(medium, parent_account, recipient="patient")
    assert (row.recipient, row.guarantor_id) == (ReturnedMail.Recipient.PATIENT, None)
    assert flags(parent_account) == (True, False)
    assert mailable(parent_account)  # the statement to the parent at 9 Oak Lane still goes
    assert not mailable(parent_account, party=addresses.PATIENT)
    assert not letter_allowed(parent_account, Contact.Party.PATIENT)


def test_mail_to_a_self_guarantor_marks_the_patients_address_as_before(medium, account):
    row = record(medium, account, recipient="guarantor")  # the patient's own address was used
    assert (row.recipient, row.guarantor_id) == (ReturnedMail.Recipient.PATIENT, None)
    assert flags(account) == (True, False)
    assert not mailable(account) and not mailable(account, party=addresses.PATIENT)
    services.address_correct(acting_user=medium, patient_id=account.patient_id, **NEW_ADDRESS)
    row.refresh_from_db()
    assert row.resolution == ReturnedMail.Resolution.ADDRESS_CORRECTED
    assert mailable(account)


def test_mail_to_a_parent_at_the_patients_own_address_marks_the_patients_address(medium, account):
    same = with_parent(account, line1="12 Elm Street")
    row = record(medium, same, recipient="guarantor")
    assert row.recipient == ReturnedMail.Recipient.PATIENT
    assert flags(same) == (True, False)
    assert not mailable(same) and not letter_allowed(same, Contact.Party.GUARANTOR)  # one address, one answer


def test_an_unknown_recipient_is_refused(medium, parent_account):
    with pytest.raises(ApplicationError) as refused:
        record(medium, parent_account, recipient="neighbour")
    assert refused.value.field == "recipient"
    assert not ReturnedMail.objects.exists()


# --- Correcting and resolving -------------------------------------------------------------------


def test_correcting_the_guarantors_address_resumes_mail_and_resolves_the_research(medium, parent_account):
    to_parent = record(medium, parent_account)
    to_patient = record(medium, parent_account, recipient="patient")
    guarantor = services.guarantor_address_correct(
        acting_user=medium, guarantor_id=parent_account.guarantor_id, **NEW_ADDRESS
    )
    assert (guarantor.address_line1, guarantor.state, guarantor.address_is_bad) == ("77 Birch Road", "NY", False)
    to_parent.refresh_from_db()
    to_patient.refresh_from_db()
    assert to_parent.resolution == ReturnedMail.Resolution.ADDRESS_CORRECTED and to_parent.resolved_by == medium
    assert to_patient.resolved_at is None  # the patient's address is still to research
    assert mailable(parent_account) and letter_allowed(parent_account, Contact.Party.GUARANTOR)
    audit = AuditEvent.objects.get(
        object_type="accounts.guarantor", object_id=str(guarantor.pk), detail__reason="address_corrected"
    )
    assert audit.detail["fields"] == ["address_is_bad", "address_line1"]
    assert "77 Birch" not in str(audit.detail)  # field names, not the address
    assert AuditEvent.objects.filter(
        object_type="collections_app.returnedmail", object_id=str(to_parent.pk), detail__resolution="address_corrected"
    ).exists()
    assert RETURNED_MAIL in open_reasons(parent_account)  # the patient's item stays open
    services.address_correct(acting_user=medium, patient_id=parent_account.patient_id, **NEW_ADDRESS)
    assert RETURNED_MAIL not in open_reasons(parent_account)


def test_correcting_a_self_guarantors_address_here_is_refused(medium, account):
    with pytest.raises(ApplicationError):
        services.guarantor_address_correct(acting_user=medium, guarantor_id=account.guarantor_id, **NEW_ADDRESS)


def test_the_same_guarantor_address_is_refused_as_a_correction(medium, parent_account):
    record(medium, parent_account)
    same = {"address_line1": "9 Oak Lane", "city": "Troy", "state": "NY", "postal_code": "12180"}
    with pytest.raises(ApplicationError):
        services.guarantor_address_correct(acting_user=medium, guarantor_id=parent_account.guarantor_id, **same)
    assert flags(parent_account) == (False, True)


def test_confirming_the_guarantors_address_clears_only_the_guarantors_flag(medium, parent_account):
    to_parent = record(medium, parent_account)
    record(medium, parent_account, recipient="patient")
    services.returned_mail_resolve(acting_user=medium, returned_mail_id=to_parent.pk, resolution="address_confirmed")
    assert flags(parent_account) == (True, False)
    assert ReturnedMail.objects.filter(resolved_at__isnull=True).count() == 1


def test_unable_to_locate_the_guarantor_leaves_their_address_bad(medium, parent_account):
    to_parent = record(medium, parent_account)
    services.returned_mail_resolve(acting_user=medium, returned_mail_id=to_parent.pk, resolution="unable_to_locate")
    assert flags(parent_account) == (False, True)
    assert RETURNED_MAIL not in open_reasons(parent_account)


def test_a_parent_for_two_children_is_corrected_once_for_both(medium, practice, parent_account):
    sibling = PatientAccountFactory(practice=practice, guarantor=parent_account.guarantor)
    post_visit(sibling, days_ago=40, charge="170.00", insurance_paid="50.00", to_patient="120.00")
    record(medium, sibling)
    assert not mailable(parent_account) and not mailable(sibling)
    services.guarantor_address_correct(acting_user=medium, guarantor_id=parent_account.guarantor_id, **NEW_ADDRESS)
    assert mailable(parent_account) and mailable(sibling)
    assert RETURNED_MAIL not in open_reasons(sibling)


# --- The statement cycle ------------------------------------------------------------------------


def test_the_cycle_skips_a_parent_whose_mail_came_back(medium, practice):
    account = with_parent(PatientAccountFactory(practice=practice))
    post_visit(account, days_ago=40, charge="170.00", insurance_paid="50.00", to_patient="120.00")
    record(medium, account)
    as_of = timezone.localdate()
    refresh_aging({practice.pk: as_of})
    batch = cycle.statement_cycle_practice(practice, as_of)
    assert not Statement.objects.filter(covers=account).exists()
    assert batch.suppressed[cycle.REASON_ADDRESS] == 1


# --- The panel ----------------------------------------------------------------------------------


def test_panel_says_the_guarantors_address_is_bad(client, medium, parent_account, django_assert_max_num_queries):
    record(medium, parent_account)
    client.force_login(medium)
    with django_assert_max_num_queries(12):
        response = client.get(reverse("correspondence-panel", args=[parent_account.pk]), **HTMX)
    html = response.content.decode()
    assert "Guarantor's mailing address" in html
    assert "Bad address · statements and letters to the guarantor stopped" in html
    assert "letters to the patient stopped" not in html
    assert "Correct the guarantor's address" in html
    assert 'name="recipient"' in html and "Guarantor&#x27;s address" in html


def test_panel_of_a_self_guarantor_has_one_address_and_no_recipient_choice(client, medium, account):
    client.force_login(medium)
    html = client.get(reverse("correspondence-panel", args=[account.pk]), **HTMX).content.decode()
    assert "Guarantor's mailing address" not in html and 'name="recipient"' not in html


def test_workspace_header_names_whose_address_is_bad(client, medium, parent_account):
    record(medium, parent_account)
    client.force_login(medium)
    html = client.get(reverse("account-detail", args=[parent_account.pk])).content.decode()
    assert 'data-flag="guarantor-bad-address"' in html and "Guarantor&#x27;s address bad" in html
    assert 'data-flag="bad-address"' not in html
    assert 'data-testid="guarantor-address-bad"' in html  # beside the address on the guarantor card


def test_record_returned_mail_for_the_patient_from_the_panel(client, medium, parent_account):
    client.force_login(medium)
    response = client.post(
        reverse("returned-mail-record", args=[parent_account.pk]),
        {"received_on": YESTERDAY.isoformat(), "reason": "undeliverable", "recipient": "patient"},
        **HTMX,
    )
    assert response.status_code == 200
    assert flags(parent_account) == (True, False)
    html = response.content.decode()
    assert "Bad address · letters to the patient stopped" in html
    assert "Returned mail recorded; mailings to the patient&#x27;s address stopped." in html


def test_correct_the_guarantors_address_from_the_panel(client, medium, parent_account):
    row = record(medium, parent_account)
    client.force_login(medium)
    data = {f"guarantor-{name}": value for name, value in NEW_ADDRESS.items()}
    response = client.post(reverse("guarantor-address-correct", args=[parent_account.pk]), data, **HTMX)
    assert response.status_code == 200
    assert "Guarantor&#x27;s address corrected" in response.content.decode()
    assert flags(parent_account) == (False, False)
    row.refresh_from_db()
    assert row.resolution == ReturnedMail.Resolution.ADDRESS_CORRECTED


def test_guarantor_correction_shows_inline_errors(client, medium, parent_account):
    record(medium, parent_account)
    client.force_login(medium)
    data = {f"guarantor-{name}": value for name, value in {**NEW_ADDRESS, "postal_code": "1218"}.items()}
    response = client.post(reverse("guarantor-address-correct", args=[parent_account.pk]), data, **HTMX)
    assert "Enter a 5-digit ZIP code or ZIP+4." in response.content.decode()
    assert flags(parent_account) == (False, True)


def test_resolve_the_guarantors_returned_mail_from_a_siblings_account(client, medium, practice, parent_account):
    sibling = PatientAccountFactory(practice=practice, guarantor=parent_account.guarantor)
    row = record(medium, sibling)
    client.force_login(medium)
    url = reverse("returned-mail-resolve", args=[parent_account.pk, row.pk])
    assert client.post(url, {"resolution": "address_confirmed"}, **HTMX).status_code == 200
    assert flags(parent_account) == (False, False)


def _guarantor_correction(client, account):
    data = {f"guarantor-{name}": value for name, value in NEW_ADDRESS.items()}
    return client.post(reverse("guarantor-address-correct", args=[account.pk]), data, **HTMX)


def test_medium_tier_may_correct_the_guarantors_address(client, medium, parent_account):
    client.force_login(medium)
    assert _guarantor_correction(client, parent_account).status_code == 200
    parent_account.guarantor.refresh_from_db()
    assert parent_account.guarantor.address_line1 == "77 Birch Road"


def test_low_tier_may_not_correct_the_guarantors_address(client, low, medium, parent_account):
    record(medium, parent_account)
    client.force_login(low)
    assert _guarantor_correction(client, parent_account).status_code == 403
    assert flags(parent_account) == (False, True)


def test_another_practice_may_not_correct_the_guarantors_address(client, outsider, medium, parent_account):
    record(medium, parent_account)
    client.force_login(outsider)
    assert _guarantor_correction(client, parent_account).status_code == 404
    parent_account.guarantor.refresh_from_db()
    assert parent_account.guarantor.address_line1 == "9 Oak Lane" and parent_account.guarantor.address_is_bad


def test_another_practice_may_not_resolve_or_record_the_guarantors_mail(client, outsider, medium, parent_account):
    row = record(medium, parent_account)
    client.force_login(outsider)
    resolve = reverse("returned-mail-resolve", args=[parent_account.pk, row.pk])
    assert client.post(resolve, {"resolution": "address_confirmed"}, **HTMX).status_code == 404
    recorded = reverse("returned-mail-record", args=[parent_account.pk])
    data = {"received_on": YESTERDAY.isoformat(), "reason": "moved", "recipient": "guarantor"}
    assert client.post(recorded, data, **HTMX).status_code == 404
    assert ReturnedMail.objects.count() == 1 and flags(parent_account) == (False, True)


# --- The API ------------------------------------------------------------------------------------


def test_api_records_the_recipient_and_lists_the_guarantors_mail(medium, parent_account):
    client = APIClient()
    client.force_authenticate(medium)
    url = reverse("api-account-returned-mail", args=[parent_account.pk])
    response = client.post(url, {"received_on": YESTERDAY.isoformat(), "reason": "moved"}, format="json")
    assert response.status_code == 201
    assert response.json()["recipient"] == "guarantor"
    assert response.json()["guarantor"] == parent_account.guarantor_id
    assert [row["recipient"] for row in client.get(url).json()] == ["guarantor"]
    assert flags(parent_account) == (False, True)


def test_api_corrects_the_guarantors_address(medium, parent_account):
    record(medium, parent_account)
    client = APIClient()
    client.force_authenticate(medium)
    url = reverse("api-account-guarantor-address", args=[parent_account.pk])
    response = client.post(url, NEW_ADDRESS, format="json")
    assert response.status_code == 200
    assert response.json()["address_line1"] == "77 Birch Road" and response.json()["address_is_bad"] is False
    assert not ReturnedMail.objects.filter(resolved_at__isnull=True).exists()


def test_api_refuses_a_self_guarantors_address_here(medium, account):
    client = APIClient()
    client.force_authenticate(medium)
    url = reverse("api-account-guarantor-address", args=[account.pk])
    assert client.post(url, NEW_ADDRESS, format="json").status_code == 400


@pytest.mark.parametrize(("persona", "status"), [("low", 403), ("outsider", 404)])
def test_api_guarantor_address_refuses_low_tier_and_other_practices(personas, persona, status, medium, parent_account):
    record(medium, parent_account)
    client = APIClient()
    client.force_authenticate(personas[persona])
    url = reverse("api-account-guarantor-address", args=[parent_account.pk])
    assert client.post(url, NEW_ADDRESS, format="json").status_code == status
    assert flags(parent_account) == (False, True)
