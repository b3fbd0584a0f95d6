"""Holds API: list and place (the LOP letter as multipart), release, status check; 400 with field
errors, 403 for a low tier, 404 for another practice."""

from datetime import date

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from rest_framework.test import APIClient

from collections_app.holds import services
from collections_app.models import AccountHold
from tests.factories import minimal_pdf

pytestmark = pytest.mark.django_db

PDF = minimal_pdf()


@pytest.fixture(autouse=True)
def private_storage(tmp_path, monkeypatch):
    from django.core.files.storage import FileSystemStorage

    field = AccountHold._meta.get_field("lop_letter")
    monkeypatch.setattr(field, "storage", FileSystemStorage(location=tmp_path / "private", base_url=None))
    return tmp_path / "private"


def api(user):
    client = APIClient()
    client.force_authenticate(user)
    return client


def dispute(user, account):
    return services.hold_place(acting_user=user, account_id=account.pk, kind="dispute", dispute_kind="balance")


def test_list_holds(medium, account):
    hold = dispute(medium, account)
    response = api(medium).get(reverse("api-account-holds", args=[account.pk]))
    assert response.status_code == 200
    assert [row["id"] for row in response.json()] == [hold.pk]
    assert response.json()[0]["is_active"] is True


def test_place_probate_hold_as_json(medium, account):
    response = api(medium).post(
        reverse("api-account-holds", args=[account.pk]),
        {
            "kind": "probate",
            "died_on": "2025-06-01",
            "published_notice_on": "2025-07-01",
            "mailed_notice_on": "2025-10-01",
        },
        format="json",
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["published_notice_on"], body["mailed_notice_on"]) == ("2025-07-01", "2025-10-01")
    assert body["claim_deadline_on"] == "2025-11-30"  # 60 days after mailing is later than 4 months after publication
    account.refresh_from_db()
    assert account.hold_reason == "probate"


def test_probate_notice_before_the_death_is_a_400_with_the_field(medium, account):
    response = api(medium).post(
        reverse("api-account-holds", args=[account.pk]),
        {"kind": "probate", "died_on": "2025-06-01", "mailed_notice_on": "2025-05-20"},
        format="json",
    )
    assert response.status_code == 400
    assert response.json() == {"mailed_notice_on": [services.MESSAGE_MAILED_NOTICE_BEFORE_DEATH]}
    assert not AccountHold.objects.exists()


def test_place_lop_hold_with_letter_as_multipart(medium, account, private_storage):
    letter = SimpleUploadedFile("lop.pdf", PDF, content_type="application/pdf")
    response = api(medium).post(
        reverse("api-account-holds", args=[account.pk]),
        {"kind": "lop", "attorney_name": "Sam Counsel", "accident_on": "2025-02-03", "lop_letter": letter},
        format="multipart",
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["has_letter"] is True
    assert body["letter_url"] == reverse("hold-letter", args=[body["id"]])
    assert (private_storage / AccountHold.objects.get().lop_letter.name).read_bytes() == PDF


def test_non_pdf_letter_is_a_400_with_the_field(medium, account):
    letter = SimpleUploadedFile("lop.pdf", b"GIF89a....", content_type="application/pdf")
    response = api(medium).post(
        reverse("api-account-holds", args=[account.pk]),
        {"kind": "lop", "attorney_name": "Sam", "lop_letter": letter},
        format="multipart",
    )
    assert response.status_code == 400
    assert response.json() == {"lop_letter": [services.MESSAGE_LETTER_NOT_PDF]}
    assert not AccountHold.objects.exists()


def test_bad_input_is_a_400_with_field_errors_and_changes_nothing(medium, account):
    response = api(medium).post(
        reverse("api-account-holds", args=[account.pk]), {"kind": "bankruptcy", "bankruptcy_chapter": 9}, format="json"
    )
    assert response.status_code == 400
    assert "bankruptcy_chapter" in response.json()
    response = api(medium).post(reverse("api-account-holds", args=[account.pk]), {"kind": "nope"}, format="json")
    assert response.status_code == 400 and "kind" in response.json()
    account.refresh_from_db()
    assert account.status == "active"


def test_release_requires_a_reason(medium, account):
    hold = dispute(medium, account)
    url = reverse("api-hold-release", args=[hold.pk])
    assert api(medium).post(url, {}, format="json").status_code == 400
    response = api(medium).post(url, {"reason": "Answered"}, format="json")
    assert response.status_code == 200
    assert response.json()["is_active"] is False
    account.refresh_from_db()
    assert account.status == "active"


def test_status_check(medium, account):
    hold = services.hold_place(acting_user=medium, account_id=account.pk, kind="lop", attorney_name="Sam")
    response = api(medium).post(
        reverse("api-hold-status-check", args=[hold.pk]),
        {"status": "settled", "settlement_amount": "900.00", "note": "Check coming"},
        format="json",
    )
    assert response.status_code == 200, response.json()
    assert response.json()["settlement_amount"] == "900.00"
    assert response.json()["status_checked_on"] is not None


def _calls(account, hold):
    return [
        ("get", reverse("api-account-holds", args=[account.pk]), {}),
        ("post", reverse("api-account-holds", args=[account.pk]), {"kind": "dispute", "dispute_kind": "balance"}),
        ("post", reverse("api-hold-release", args=[hold.pk]), {"reason": "x"}),
        ("post", reverse("api-hold-status-check", args=[hold.pk]), {"status": "pending"}),
    ]


@pytest.mark.parametrize("index", range(4))
def test_every_endpoint_refuses_low_tier(medium, low, account, index):
    hold = services.hold_place(acting_user=medium, account_id=account.pk, kind="lop", attorney_name="Sam")
    method, url, data = _calls(account, hold)[index]
    assert getattr(api(low), method)(url, data, format="json").status_code == 403


@pytest.mark.parametrize("index", range(4))
def test_every_endpoint_hides_other_practices(medium, outsider, account, index):
    hold = services.hold_place(acting_user=medium, account_id=account.pk, kind="lop", attorney_name="Sam")
    method, url, data = _calls(account, hold)[index]
    assert getattr(api(outsider), method)(url, data, format="json").status_code == 404
    hold.refresh_from_db()
    assert hold.is_active and hold.status_checked_on is None


def test_manager_and_director_may_place_holds(manager, director, account, other_account):
    url = reverse("api-account-holds", args=[account.pk])
    assert api(manager).post(url, {"kind": "dispute", "dispute_kind": "balance"}, format="json").status_code == 201
    url = reverse("api-account-holds", args=[other_account.pk])
    response = api(director).post(
        url,
        {"kind": "bankruptcy", "bankruptcy_chapter": 11, "filed_on": str(date(2025, 1, 2)), "case_number": "25-2"},
        format="json",
    )
    assert response.status_code == 201
