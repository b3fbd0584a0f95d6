"""The contacts API: each endpoint's tier, practice scope, validation and effect."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import Transaction
from accounts.validators import CARD_NUMBER_REFUSED
from collections_app.models import AccountNote, Contact, ContactConsent, PromiseToPay
from core.models import AuditEvent

pytestmark = pytest.mark.django_db


def today():
    return timezone.localdate()


@pytest.fixture
def api_client():
    return APIClient()


def _valid(name):
    return {
        "api-account-contacts": {"channel": "letter", "party": "patient", "outcome": "letter_sent"},
        "api-account-promises": {"amount": "40.00", "due_on": (today() + timedelta(days=7)).isoformat()},
        "api-account-payments": {"amount": "25.00", "method": "check", "reference": "1042"},
        "api-account-follow-up": {"follow_up_on": (today() + timedelta(days=14)).isoformat()},
        "api-account-notes": {"body": "Patient will call back Friday"},
        "api-account-flags": {"attorney_represented": True, "attorney_name": "Pat Lee"},
        "api-account-consents": {"channel": "text", "granted_how": "Signed intake form"},
        "api-account-consent-revoke": {"channel": "text"},
    }[name]


POSTS = [
    "api-account-contacts",
    "api-account-promises",
    "api-account-payments",
    "api-account-follow-up",
    "api-account-notes",
    "api-account-flags",
    "api-account-consents",
    "api-account-consent-revoke",
]
GETS = [
    "api-account-contacts",
    "api-account-promises",
    "api-account-notes",
    "api-account-flags",
    "api-account-consents",
]


def _post(api_client, user, name, account, data=None):
    api_client.force_login(user)
    return api_client.post(reverse(name, args=[account.pk]), data if data is not None else _valid(name), format="json")


@pytest.mark.parametrize("name", POSTS)
def test_each_post_is_refused_to_front_desk(api_client, low, account, name):
    assert _post(api_client, low, name, account).status_code == 403


@pytest.mark.parametrize("name", POSTS)
def test_each_post_is_404_for_another_practice(api_client, outsider, account, name):
    assert _post(api_client, outsider, name, account).status_code == 404


@pytest.mark.parametrize("name", [*GETS, "api-account-contact-decision"])
def test_each_read_is_refused_to_front_desk_and_404_elsewhere(api_client, low, outsider, account, name):
    url = reverse(name, args=[account.pk])
    params = {"channel": "outbound_call", "party": "patient"}
    api_client.force_login(low)
    assert api_client.get(url, params).status_code == 403
    api_client.force_login(outsider)
    assert api_client.get(url, params).status_code == 404


@pytest.mark.parametrize("name", GETS)
def test_each_read_works_for_a_rep_and_is_audited(api_client, medium, account, name):
    api_client.force_login(medium)
    response = api_client.get(reverse(name, args=[account.pk]))
    assert response.status_code == 200
    assert AuditEvent.objects.filter(
        user=medium, action=AuditEvent.Action.VIEW, object_type="accounts.patientaccount", object_id=str(account.pk)
    ).exists()


@pytest.mark.parametrize("name", [n for n in POSTS if n != "api-account-consent-revoke"])
def test_each_post_works_for_a_rep(api_client, medium, account, name):
    response = _post(api_client, medium, name, account)
    assert response.status_code in (200, 201), response.json()


def test_revoking_a_recorded_consent(api_client, medium, account):
    _post(api_client, medium, "api-account-consents", account)
    response = _post(api_client, medium, "api-account-consent-revoke", account)
    assert response.status_code == 200
    assert response.json()["revoked_on"] == today().isoformat()


@pytest.mark.parametrize(
    ("name", "data", "field"),
    [
        ("api-account-contacts", {"channel": "pigeon", "party": "patient", "outcome": "letter_sent"}, "channel"),
        ("api-account-contacts", {"channel": "letter", "party": "patient"}, "outcome"),
        ("api-account-promises", {"amount": "0.001", "due_on": "2026-01-01"}, "amount"),
        ("api-account-promises", {"amount": "-5.00", "due_on": "2099-01-01"}, "amount"),
        ("api-account-promises", {"amount": "5.00", "due_on": "2000-01-01"}, "due_on"),
        ("api-account-payments", {"amount": "10.00", "method": "bitcoin"}, "method"),
        ("api-account-payments", {"amount": "10.00", "method": "card"}, "reference"),
        ("api-account-payments", {"amount": "10.00", "method": "card", "reference": "4111111111111111"}, "reference"),
        ("api-account-follow-up", {"follow_up_on": "yesterday"}, "follow_up_on"),
        ("api-account-follow-up", {"follow_up_on": "2000-01-01"}, "follow_up_on"),
        ("api-account-notes", {"body": ""}, "body"),
        ("api-account-flags", {"attorney_represented": True}, "attorney_name"),
        ("api-account-consents", {"channel": "fax"}, "channel"),
        ("api-account-consent-revoke", {"channel": "text"}, "channel"),
    ],
)
def test_bad_input_is_a_400_with_field_errors_and_changes_nothing(api_client, medium, account, name, data, field):
    version = account.version
    response = _post(api_client, medium, name, account, data)
    assert response.status_code == 400
    assert field in response.json()
    account.refresh_from_db()
    assert account.version == version
    assert not Contact.objects.exists()
    assert not PromiseToPay.objects.exists()
    assert not AccountNote.objects.exists()
    assert not ContactConsent.objects.exists()
    assert not Transaction.objects.filter(account=account, kind=Transaction.Kind.PATIENT_PAYMENT).exists()


def test_a_card_number_is_refused_with_the_card_message(api_client, medium, account):
    data = {"amount": "10.00", "method": "card", "reference": "4111 1111 1111 1111"}
    response = _post(api_client, medium, "api-account-payments", account, data)
    assert response.json() == {"reference": [CARD_NUMBER_REFUSED]}


def test_a_payment_posts_and_returns_the_new_balance(api_client, medium, account):
    response = _post(api_client, medium, "api-account-payments", account)
    assert response.status_code == 201
    assert response.json()["account_patient_balance"] == "175.00"
    assert response.json()["patient_amount"] == "-25.00"
    account.refresh_from_db()
    assert account.patient_balance == Decimal("175.00")


def test_the_contact_decision_endpoint_returns_the_governor_answer(api_client, medium, account):
    account.attorney_represented = True
    account.save()
    api_client.force_login(medium)
    url = reverse("api-account-contact-decision", args=[account.pk])
    body = api_client.get(url, {"channel": "outbound_call", "party": "patient"}).json()
    assert body["allowed"] is False
    # (The call window may refuse too, depending on the hour the test runs.)
    assert body["reasons"][0] == {
        "code": "attorney_represented",
        "explanation": "represented by an attorney: contact the attorney",
    }
    assert body["next_allowed_at"] is None
    assert api_client.get(url, {"channel": "letter", "party": "attorney"}).json()["allowed"] is True
    assert api_client.get(url, {"channel": "inbound_call", "party": "patient"}).json()["allowed"] is True


def test_the_contact_decision_needs_a_channel_and_party(api_client, medium, account):
    api_client.force_login(medium)
    response = api_client.get(reverse("api-account-contact-decision", args=[account.pk]), {"channel": "smoke"})
    assert response.status_code == 400
    assert set(response.json()) == {"channel", "party"}


def test_a_refused_contact_is_a_400_naming_the_rules(api_client, medium, account):
    account.cease_communication_on = today() - timedelta(days=1)
    account.save()
    response = _post(api_client, medium, "api-account-contacts", account)
    assert response.status_code == 400
    body = response.json()
    assert body["rules"] == ["cease_communication"]
    assert "cease communication" in body["non_field_errors"][0]


def test_a_manager_override_through_the_api(api_client, manager, medium, account):
    account.cease_communication_on = today() - timedelta(days=1)
    account.save()
    data = {**_valid("api-account-contacts"), "override_reason": "Notice of termination, 1692c(c)(1)"}
    assert _post(api_client, medium, "api-account-contacts", account, data).status_code == 400
    response = _post(api_client, manager, "api-account-contacts", account, data)
    assert response.status_code == 201
    assert response.json()["override_by"] == "manager"


def test_the_contact_list_is_newest_first_and_paginated(api_client, medium, account, django_assert_max_num_queries):
    for days in range(3):
        Contact.objects.create(
            account=account,
            practice=account.practice,
            channel="letter",
            party="patient",
            outcome="letter_sent",
            occurred_at=timezone.now() - timedelta(days=days),
            logged_by=medium,
        )
    api_client.force_login(medium)
    url = reverse("api-account-contacts", args=[account.pk])
    api_client.get(url)
    with django_assert_max_num_queries(8):
        body = api_client.get(url).json()
    assert body["count"] == 3
    times = [row["occurred_at"] for row in body["results"]]
    assert times == sorted(times, reverse=True)
    assert body["results"][0]["logged_by"] == "medium"
