"""Returned mail, address correction and inquiry endpoints: 400 with field errors, 403 low tier,
404 another practice."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from collections_app.correspondence import services
from collections_app.models import BillingInquiry, ReturnedMail

pytestmark = pytest.mark.django_db

YESTERDAY = timezone.localdate() - timedelta(days=1)
ADDRESS = {"address_line1": "9 Oak Lane", "city": "Troy", "state": "NY", "postal_code": "12180"}


def api(user):
    client = APIClient()
    client.force_authenticate(user)
    return client


def returned(user, account):
    return services.returned_mail_record(acting_user=user, account_id=account.pk, received_on=YESTERDAY, reason="moved")


def inquiry(user, account):
    return services.inquiry_open(acting_user=user, account_id=account.pk, channel="phone", question="Q")


def test_record_and_list_returned_mail(medium, account):
    url = reverse("api-account-returned-mail", args=[account.pk])
    response = api(medium).post(url, {"received_on": YESTERDAY.isoformat(), "reason": "refused"}, format="json")
    assert response.status_code == 201, response.json()
    listed = api(medium).get(url).json()
    assert [row["reason"] for row in listed] == ["refused"]
    account.patient.refresh_from_db()
    assert account.patient.address_is_bad


def test_returned_mail_bad_input_is_400(medium, account):
    url = reverse("api-account-returned-mail", args=[account.pk])
    response = api(medium).post(url, {"received_on": "2099-01-01", "reason": "moved"}, format="json")
    assert response.status_code == 400 and "received_on" in response.json()
    response = api(medium).post(url, {"reason": "lost"}, format="json")
    assert response.status_code == 400 and {"received_on", "reason"} <= set(response.json())
    assert not ReturnedMail.objects.exists()


def test_correct_address(medium, account):
    returned(medium, account)
    response = api(medium).post(reverse("api-patient-address", args=[account.patient_id]), ADDRESS, format="json")
    assert response.status_code == 200, response.json()
    assert response.json()["address_is_bad"] is False
    assert ReturnedMail.objects.get().resolution == "address_corrected"


def test_correct_address_bad_zip_is_400(medium, account):
    response = api(medium).post(
        reverse("api-patient-address", args=[account.patient_id]), {**ADDRESS, "postal_code": "x"}, format="json"
    )
    assert response.status_code == 400
    assert response.json() == {"postal_code": [services.MESSAGE_BAD_POSTAL_CODE]}


def test_resolve_returned_mail(medium, account):
    row = returned(medium, account)
    url = reverse("api-returned-mail-resolve", args=[row.pk])
    assert api(medium).post(url, {"resolution": "address_corrected"}, format="json").status_code == 400
    response = api(medium).post(url, {"resolution": "address_confirmed"}, format="json")
    assert response.status_code == 200 and response.json()["resolution"] == "address_confirmed"


def test_open_list_and_respond_to_inquiries(medium, account):
    url = reverse("api-account-inquiries", args=[account.pk])
    response = api(medium).post(
        url, {"channel": "portal", "question": "Balance?", "received_on": "2025-03-07"}, format="json"
    )
    assert response.status_code == 201, response.json()
    assert response.json()["response_due_on"] == "2025-03-21"
    assert [row["channel"] for row in api(medium).get(url).json()] == ["portal"]
    respond = reverse("api-inquiry-respond", args=[response.json()["id"]])
    assert api(medium).post(respond, {}, format="json").status_code == 400
    answered = api(medium).post(respond, {"response": "Zero"}, format="json")
    assert answered.status_code == 200 and answered.json()["responded_on"]


def test_inquiry_bad_input_is_400(medium, account):
    response = api(medium).post(
        reverse("api-account-inquiries", args=[account.pk]), {"channel": "fax", "question": ""}, format="json"
    )
    assert response.status_code == 400
    assert {"channel", "question"} <= set(response.json())
    assert not BillingInquiry.objects.exists()


def _calls(account, row, asked):
    return [
        ("get", reverse("api-account-returned-mail", args=[account.pk]), {}),
        (
            "post",
            reverse("api-account-returned-mail", args=[account.pk]),
            {"received_on": "2025-01-02", "reason": "moved"},
        ),
        ("post", reverse("api-returned-mail-resolve", args=[row.pk]), {"resolution": "address_confirmed"}),
        ("post", reverse("api-patient-address", args=[account.patient_id]), ADDRESS),
        ("get", reverse("api-account-inquiries", args=[account.pk]), {}),
        ("post", reverse("api-account-inquiries", args=[account.pk]), {"channel": "phone", "question": "Q"}),
        ("post", reverse("api-inquiry-respond", args=[asked.pk]), {"response": "A"}),
    ]


@pytest.mark.parametrize("index", range(7))
def test_every_endpoint_refuses_low_tier(medium, low, account, index):
    method, url, data = _calls(account, returned(medium, account), inquiry(medium, account))[index]
    assert getattr(api(low), method)(url, data, format="json").status_code == 403


@pytest.mark.parametrize("index", range(7))
def test_every_endpoint_hides_other_practices(medium, outsider, account, index):
    row, asked = returned(medium, account), inquiry(medium, account)
    method, url, data = _calls(account, row, asked)[index]
    assert getattr(api(outsider), method)(url, data, format="json").status_code == 404
    row.refresh_from_db()
    asked.refresh_from_db()
    account.patient.refresh_from_db()
    assert row.resolved_at is None and asked.responded_on is None and account.patient.address_line1 != "9 Oak Lane"
