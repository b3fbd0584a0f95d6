"""Work queue API: POST /api/queue/next/ (the DESIGN.md contract), release, my queue, reassign."""

import pytest
from django.utils import timezone

from accounts.models import PatientAccount
from collections_app.models import QueueEntry, WorkItem
from core.models import Tier
from tests.factories import StaffUserFactory, queued_account

Reason = WorkItem.Reason


def queued(practice, score="50", *, reasons=(Reason.FINAL_NOTICE, Reason.PAST_DUE), assigned_rep=None):
    return queued_account(
        practice, score, reasons=reasons, assigned_rep=assigned_rep, patient_balance="80.25", insurance_balance="10.00"
    )


@pytest.fixture
def api(client):
    def as_user(user):
        client.force_login(user)
        return client

    return as_user


@pytest.fixture
def other_manager(other_practice):
    return StaffUserFactory(username="othermanager", tier=Tier.MANAGEMENT, practices=[other_practice])


def test_next_returns_the_claimed_account_with_reasons_and_lease(api, medium, practice):
    account = queued(practice)
    response = api(medium).post("/api/queue/next/", {}, content_type="application/json")
    assert response.status_code == 200
    body = response.json()
    assert body["id"] == account.pk
    assert body["account_number"] == account.account_number
    assert body["practice"] == practice.pk
    assert body["patient_name"] == account.patient.full_name
    assert (body["patient_balance"], body["insurance_balance"]) == ("80.25", "10.00")
    assert [r["code"] for r in body["reasons"]] == [Reason.FINAL_NOTICE, Reason.PAST_DUE]
    assert body["reasons"][0]["label"] == "Final notice due"
    assert body["top_reason"] == Reason.FINAL_NOTICE
    assert body["claim_expires_at"]


def test_next_again_returns_the_same_account_until_released(api, medium, practice):
    first, second = queued(practice, "90"), queued(practice, "10")
    client = api(medium)
    assert client.post("/api/queue/next/").json()["id"] == first.pk
    assert client.post("/api/queue/next/").json()["id"] == first.pk
    moved = client.post("/api/queue/next/", {"release_current": True}, content_type="application/json")
    assert moved.json()["id"] == second.pk


def test_next_with_an_empty_queue_is_404_with_a_message(api, medium, practice):
    response = api(medium).post("/api/queue/next/")
    assert response.status_code == 404
    assert "Nothing left" in response.json()["detail"]


def test_next_refuses_bad_input_and_claims_nothing(api, medium, practice):
    queued(practice)
    response = api(medium).post("/api/queue/next/", {"lease_minutes": 1}, content_type="application/json")
    assert response.status_code == 400
    assert "lease_minutes" in response.json()
    assert not QueueEntry.objects.filter(claimed_by__isnull=False).exists()


def test_next_refuses_low_tier_and_anonymous(api, client, low, practice):
    queued(practice)
    assert client.post("/api/queue/next/").status_code in (401, 403)
    assert api(low).post("/api/queue/next/").status_code == 403


def test_next_never_returns_another_practices_account(api, outsider, practice):
    queued(practice)
    assert api(outsider).post("/api/queue/next/").status_code == 404


def test_next_works_with_token_auth(client, medium, practice):
    from core.services import api_token_issue

    account = queued(practice)
    _, key = api_token_issue(user=medium, name="queue test")
    response = client.post("/api/queue/next/", HTTP_AUTHORIZATION=f"Token {key}")
    assert response.status_code == 200
    assert response.json()["id"] == account.pk


def test_release_api(api, medium, low, outsider, practice):
    account = queued(practice)
    api(medium).post("/api/queue/next/")
    assert api(low).post(f"/api/queue/{account.pk}/release/").status_code == 403
    assert api(outsider).post(f"/api/queue/{account.pk}/release/").status_code == 404
    response = api(medium).post(f"/api/queue/{account.pk}/release/")
    assert response.status_code == 200
    assert response.json()["account"] == account.pk
    assert QueueEntry.objects.get(account=account).claim_expires_at <= timezone.now()


def test_my_queue_api_lists_best_first(api, medium, low, outsider, practice, django_assert_max_num_queries):
    low_score, high_score = queued(practice, "10"), queued(practice, "90")
    client = api(medium)
    with django_assert_max_num_queries(10):
        response = client.get("/api/queue/")
    assert response.status_code == 200
    assert [row["account"] for row in response.json()["results"]] == [high_score.pk, low_score.pk]
    assert api(low).get("/api/queue/").status_code == 403
    assert api(outsider).get("/api/queue/").json()["results"] == []


def test_reassign_api(api, manager, medium, low, other_manager, practice):
    account = queued(practice)
    payload = {"account": account.pk, "rep": medium.pk}
    for refused in (low, medium):
        assert api(refused).post("/api/queue/reassign/", payload, content_type="application/json").status_code == 403
    assert api(other_manager).post("/api/queue/reassign/", payload, content_type="application/json").status_code == 404
    response = api(manager).post("/api/queue/reassign/", payload, content_type="application/json")
    assert response.status_code == 200
    assert response.json() == {"account": account.pk, "assigned_rep": medium.pk}
    assert QueueEntry.objects.get(account=account).assigned_rep == medium


def test_reassign_api_refuses_a_rep_of_another_practice_with_a_field_error(api, manager, outsider, practice):
    account = queued(practice)
    response = api(manager).post(
        "/api/queue/reassign/", {"account": account.pk, "rep": outsider.pk}, content_type="application/json"
    )
    assert response.status_code == 400
    assert "rep" in response.json()
    assert PatientAccount.objects.get(pk=account.pk).assigned_rep is None
