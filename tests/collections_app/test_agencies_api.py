"""Agencies API: Medium reads agencies and candidates, Management places, recalls and posts agency
payments; 403 for a lower tier, 404 or nothing for another practice; lists without N+1."""

from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from rest_framework.test import APIClient

from accounts.jobs import refresh_aging
from accounts.ledger_check import ledger_mismatches
from accounts.models import PatientAccount
from accounts.selectors import practice_today
from collections_app.agencies import services
from collections_app.models import Placement
from tests.collections_app.agencies_support import make_agency, ready_account

pytestmark = pytest.mark.django_db


def api(user):
    client = APIClient()
    client.force_authenticate(user)
    return client


def placed(practice, manager):
    account = ready_account(practice, balance="600.00", account_number="N2000001")
    preview = services.placement_preview(acting_user=manager, account_ids=[account.pk])
    [batch] = services.placement_place(acting_user=manager, account_ids=[account.pk], fingerprint=preview.fingerprint)
    return batch.placements.get()


def outsider_practice_id(user) -> int:
    from core.access import practice_ids_for

    return sorted(practice_ids_for(user))[0]


def test_medium_lists_agencies_and_the_outsider_sees_none_of_ours(practice, medium, outsider, low):
    agency = make_agency(practice)
    response = api(medium).get("/api/agencies/")
    assert response.status_code == 200
    assert [(row["id"], row["commission_rate"]) for row in response.json()] == [(agency.pk, "25.00")]
    assert api(outsider).get("/api/agencies/").json() == []
    assert api(low).get("/api/agencies/").status_code == 403


def test_candidates_list_pages_without_n_plus_one(practice, medium, outsider, low, django_assert_max_num_queries):
    for _ in range(6):
        ready_account(practice)
    ready_account(practice, final_notice_days_ago=3)  # not yet
    refresh_aging({practice.pk: practice_today(practice)})  # the night's aging: the oldest open visit
    with django_assert_max_num_queries(10):
        response = api(medium).get("/api/placements/candidates/", {"page_size": 50})
    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 6
    assert {row["patient_balance"] for row in body["results"]} == {"600.00"}
    assert body["results"][0]["report_to_credit_bureaus"] is True
    assert api(outsider).get("/api/placements/candidates/").json()["count"] == 0
    assert api(low).get("/api/placements/candidates/").status_code == 403
    assert api(medium).get("/api/placements/candidates/", {"min_balance": "abc"}).status_code == 400
    # Another practice's id is a field error, not an empty list that looks like "no candidates".
    theirs = api(medium).get("/api/placements/candidates/", {"practice": outsider_practice_id(outsider)})
    assert theirs.status_code == 400 and "practice" in theirs.json()
    assert api(medium).get("/api/placements/candidates/", {"practice": practice.pk}).json()["count"] == 6


def test_manager_previews_then_places_a_batch(practice, manager):
    agency = make_agency(practice)
    one = ready_account(practice, balance="600.00")
    two = ready_account(practice, balance="300.00")
    not_ready = ready_account(practice, final_notice_days_ago=None)
    client = api(manager)
    preview = client.post("/api/placements/", {"accounts": [one.pk, two.pk, not_ready.pk]}, format="json")
    assert preview.status_code == 200, preview.json()
    body = preview.json()
    assert (body["count"], body["total"]) == (2, "900.00")
    assert body["refused"] == [{"account": not_ready.pk, "reason": "No final notice has been sent."}]
    assert body["groups"][0]["agency"] == agency.pk
    assert not Placement.objects.exists()
    placed_response = client.post(
        "/api/placements/",
        {"accounts": [one.pk, two.pk, not_ready.pk], "fingerprint": body["fingerprint"]},
        format="json",
    )
    assert placed_response.status_code == 201, placed_response.json()
    result = placed_response.json()
    assert (result["count"], result["total"]) == (2, "900.00")
    download = client.get(result["batches"][0]["file_url"])
    assert download.status_code == 200 and one.account_number in download.content.decode()
    assert PatientAccount.objects.get(pk=one.pk).status == PatientAccount.Status.AGENCY


def test_a_stale_fingerprint_places_nothing(practice, manager):
    make_agency(practice)
    account = ready_account(practice)
    response = api(manager).post("/api/placements/", {"accounts": [account.pk], "fingerprint": "stale"}, format="json")
    assert response.status_code == 400 and "fingerprint" in response.json()
    assert not Placement.objects.exists()


def test_medium_may_not_place_recall_or_post(practice, manager, medium, low):
    make_agency(practice)
    placement = placed(practice, manager)
    for user in (medium, low):
        client = api(user)
        assert client.post("/api/placements/", {"accounts": [placement.account_id]}, format="json").status_code == 403
        assert client.post(f"/api/placements/{placement.pk}/recall/", {}, format="json").status_code == 403
        assert client.post("/api/agency-payments/", {}, format="json").status_code == 403


def test_another_practices_manager_gets_404_and_places_nothing(practice, other_practice, manager, director):
    from core.models import Tier
    from tests.factories import StaffUserFactory

    make_agency(practice)
    placement = placed(practice, manager)
    south = StaffUserFactory(username="south-manager", tier=Tier.MANAGEMENT, practices=[other_practice])
    client = api(south)
    assert client.post(f"/api/placements/{placement.pk}/recall/", {}, format="json").status_code == 404
    preview = client.post("/api/placements/", {"accounts": [placement.account_id]}, format="json")
    assert preview.status_code == 404
    response = client.post(
        "/api/agency-payments/",
        {"placement": placement.pk, "paid_on": "2026-01-02", "gross": "10.00", "reference": "R1"},
        format="json",
    )
    assert response.status_code == 404


def test_manager_recalls_a_placement(practice, manager):
    make_agency(practice)
    placement = placed(practice, manager)
    response = api(manager).post(f"/api/placements/{placement.pk}/recall/", {"note": "Practice request"}, format="json")
    assert response.status_code == 200, response.json()
    assert response.json()["status"] == "recalled"
    assert api(manager).post(f"/api/placements/{placement.pk}/recall/", {}, format="json").status_code == 400


def test_manager_posts_an_agency_payment_file_and_the_same_file_again_posts_nothing(practice, manager):
    agency = make_agency(practice)
    placed(practice, manager)
    day = (practice_today(practice) - timedelta(days=2)).isoformat()
    content = f"account_number,payment_date,gross,commission\r\nN2000001,{day},120.00,30.00\r\nTOTAL,1,120.00,30.00\r\n"

    def send():
        upload = SimpleUploadedFile("keystone.csv", content.encode(), content_type="text/csv")
        return api(manager).post("/api/agency-payments/", {"agency": agency.pk, "file": upload}, format="multipart")

    first = send()
    assert first.status_code == 201, first.json()
    assert (first.json()["gross_total"], first.json()["net_total"], first.json()["posted"]) == ("120.00", "90.00", 1)
    again = send()
    assert again.status_code == 200 and again.json()["replayed"] is True and again.json()["posted"] == 0
    assert ledger_mismatches()[0] == []


def test_a_file_that_does_not_add_up_is_refused_naming_the_line(practice, manager):
    agency = make_agency(practice)
    placed(practice, manager)
    day = (practice_today(practice) - timedelta(days=2)).isoformat()
    content = f"account_number,payment_date,gross,commission\nN2000001,{day},120.00,30.00\nTOTAL,1,125.00,30.00\n"
    upload = SimpleUploadedFile("keystone.csv", content.encode(), content_type="text/csv")
    response = api(manager).post("/api/agency-payments/", {"agency": agency.pk, "file": upload}, format="multipart")
    assert response.status_code == 400
    assert response.json()["file"][0].startswith("Line 3: the file states a gross total of $125.00")


def test_manager_posts_one_agency_payment_by_hand(practice, manager):
    make_agency(practice)
    placement = placed(practice, manager)
    body = {
        "placement": placement.pk,
        "paid_on": practice_today(practice).isoformat(),
        "gross": "40.00",
        "reference": "RMT-9",
    }
    response = api(manager).post("/api/agency-payments/", body, format="json")
    assert response.status_code == 201, response.json()
    assert response.json()["lines"][0]["commission"] == "10.00"
    assert api(manager).post("/api/agency-payments/", body, format="json").json()["replayed"] is True
    missing = api(manager).post("/api/agency-payments/", {"placement": placement.pk}, format="json")
    assert missing.status_code == 400 and "gross" in missing.json()


# --- every endpoint: the tier allowed, each lower tier refused, another practice's user ----------------


def endpoints(placement, agency):
    """(method, url, body, lowest tier allowed) for every agencies endpoint."""
    day = placement.placed_on.isoformat()
    upload = f"account_number,payment_date,gross,commission\r\n{placement.account.account_number},{day},10.00,2.50\r\n"
    return [
        ("get", "/api/agencies/", None, "medium"),
        ("get", "/api/placements/candidates/", None, "medium"),
        ("post", "/api/placements/", {"accounts": [placement.account_id]}, "manager"),
        ("post", f"/api/placements/{placement.pk}/recall/", {"note": "Back"}, "manager"),
        (
            "post",
            "/api/agency-payments/",
            {"placement": placement.pk, "paid_on": day, "gross": "10.00", "reference": "R-77"},
            "manager",
        ),
        ("file", "/api/agency-payments/", {"agency": agency.pk, "content": upload}, "manager"),
        ("get", f"/api/agency-files/{placement.batch.file_id}/", None, "manager"),
    ]


def call(user, method, url, body):
    client = api(user)
    if method == "get":
        return client.get(url)
    if method == "file":
        upload = SimpleUploadedFile("agency.csv", body["content"].encode(), content_type="text/csv")
        return client.post(url, {"agency": body["agency"], "file": upload}, format="multipart")
    return client.post(url, body, format="json")


TIERS = ("low", "medium", "manager", "director")


@pytest.mark.parametrize("index", range(7))
def test_every_endpoint_refuses_lower_tiers_and_allows_the_tier_named(request, practice, manager, index):
    agency = make_agency(practice)
    placement = placed(practice, manager)
    method, url, body, lowest = endpoints(placement, agency)[index]
    for tier in TIERS:
        response = call(request.getfixturevalue(tier), method, url, body)
        if TIERS.index(tier) < TIERS.index(lowest):
            assert response.status_code == 403, (tier, url)
        else:
            assert response.status_code in (200, 201), (tier, url, response.content[:300])
            # The first allowed call changed things (a recall, a payment): one allowed tier is enough.
            if method != "get":
                break


@pytest.mark.parametrize("index", range(7))
def test_every_endpoint_shows_another_practices_manager_nothing_of_ours(practice, other_practice, manager, index):
    from core.models import Tier
    from tests.factories import StaffUserFactory

    agency = make_agency(practice)
    placement = placed(practice, manager)
    method, url, body, _ = endpoints(placement, agency)[index]
    south = StaffUserFactory(username="south-manager", tier=Tier.MANAGEMENT, practices=[other_practice])
    response = call(south, method, url, body)
    if url in ("/api/agencies/", "/api/placements/candidates/"):
        assert response.status_code == 200
        body = response.json()
        assert (body if isinstance(body, list) else body["results"]) == []
    else:
        assert response.status_code == 404, (url, response.content[:300])
    placement.refresh_from_db()
    assert placement.status == Placement.Status.PLACED and placement.collected == 0
