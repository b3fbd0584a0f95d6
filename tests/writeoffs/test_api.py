"""The write-off API: propose (201 with the id), list with filters (paged, no N+1), approve, deny,
reverse, bulk approve (preview, then confirm), tier refusals (403) and other practices (404)."""

from decimal import Decimal

import pytest
from rest_framework.test import APIClient

from accounts.models import Transaction
from core.models import AuditEvent, Tier
from tests.conftest import post_visit
from tests.factories import PatientAccountFactory, StaffUserFactory
from tests.writeoffs.conftest import propose
from writeoffs.models import WriteOffRequest

Status = WriteOffRequest.Status


def client_for(user) -> APIClient:
    api = APIClient()
    api.force_authenticate(user)
    return api


@pytest.fixture
def waiting(medium, account):
    return propose(medium, account, "40.00")


@pytest.fixture
def south_manager(other_practice):
    return StaffUserFactory(username="south-manager", tier=Tier.MANAGEMENT, practices=[other_practice])


def test_a_rep_proposes_through_the_api(medium, account):
    response = client_for(medium).post(
        "/api/writeoffs/",
        {"account": account.pk, "amount": "12.34", "reason": "bad_debt", "note": "Skip-trace found nothing"},
        format="json",
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    request = WriteOffRequest.objects.get(pk=body["id"])
    assert (request.amount, request.reason, request.status) == (Decimal("12.34"), "bad_debt", "proposed")
    assert body["requested_by"] == "medium" and body["account_number"] == account.account_number


def test_proposing_visits_and_the_idempotency_key(medium, account):
    visit = account.encounters.order_by("date_of_service").first()
    api = client_for(medium)
    body = {"account": account.pk, "amount": "100.00", "reason": "charity", "encounters": [visit.pk]}
    first = api.post("/api/writeoffs/", body, format="json", HTTP_IDEMPOTENCY_KEY="abc-1")
    again = api.post("/api/writeoffs/", body, format="json", HTTP_IDEMPOTENCY_KEY="abc-1")
    assert first.status_code == 201 and first.json()["encounters"] == [visit.pk]
    assert again.status_code == 200 and again["Idempotent-Replayed"] == "true"
    assert again.json()["id"] == first.json()["id"]
    assert WriteOffRequest.objects.count() == 1


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"amount": "12.34", "reason": "bad_debt"}, "account"),
        ({"amount": "12.345", "reason": "bad_debt"}, "amount"),
        ({"amount": "900.00", "reason": "bad_debt"}, "amount"),
        ({"amount": "0.00", "reason": "bad_debt"}, "amount"),
        ({"amount": "10.00", "reason": "because"}, "reason"),
        ({"account": 2**70, "amount": "10.00", "reason": "bad_debt"}, "account"),
    ],
)
def test_bad_proposals_are_a_400_naming_the_field(medium, account, body, field):
    body = {"account": account.pk, **body} if field != "account" else body  # no id, or one too large
    response = client_for(medium).post("/api/writeoffs/", body, format="json")
    assert response.status_code == 400
    assert field in response.json()
    assert not WriteOffRequest.objects.exists()


def test_the_list_filters_pages_and_audits_without_n_plus_one(
    medium, manager, account, practice, django_assert_max_num_queries
):
    for n in range(6):
        extra = PatientAccountFactory(practice=practice)
        post_visit(extra, days_ago=150, charge="50.00", to_patient="50.00")
        propose(medium, extra, "5.00", reason="small_balance" if n % 2 else "administrative")
    posted = propose(medium, account, "30.00")
    from writeoffs import services

    services.writeoff_approve(acting_user=manager, request_id=posted.pk)
    api = client_for(medium)
    with django_assert_max_num_queries(12):
        response = api.get("/api/writeoffs/", {"page_size": 50})
    assert response.status_code == 200
    assert response.json()["count"] == 7
    assert api.get("/api/writeoffs/", {"status": "posted"}).json()["count"] == 1
    assert api.get("/api/writeoffs/", {"reason": "small_balance"}).json()["count"] == 3
    assert api.get("/api/writeoffs/", {"account": account.pk}).json()["results"][0]["id"] == posted.pk
    assert api.get("/api/writeoffs/", {"practice": practice.pk}).json()["count"] == 7
    assert api.get("/api/writeoffs/", {"status": "nonsense"}).status_code == 400
    assert AuditEvent.objects.filter(action="view", object_type="writeoffs.writeoffrequest").count() >= 7


def test_another_practice_sees_an_empty_list(outsider, waiting):
    response = client_for(outsider).get("/api/writeoffs/")
    assert response.status_code == 200 and response.json()["count"] == 0


def test_a_manager_approves_and_it_posts(manager, waiting, account):
    response = client_for(manager).post(f"/api/writeoffs/{waiting.pk}/approve/", format="json")
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["status"] == "posted" and body["decided_by"] == "manager" and len(body["entries"]) == 1
    account.refresh_from_db()
    assert account.patient_balance == Decimal("160.00")
    again = client_for(manager).post(f"/api/writeoffs/{waiting.pk}/approve/", format="json")
    assert again.status_code == 400
    assert "no longer waiting" in again.json()["non_field_errors"][0]


def test_approval_is_403_for_the_requester_and_above_the_managers_limit(manager, director, account, practice):
    practice.writeoff_limit_management = Decimal("100.00")
    practice.save()
    own = propose(manager, account, "10.00")
    assert client_for(manager).post(f"/api/writeoffs/{own.pk}/approve/").status_code == 403
    large = propose(StaffUserFactory(username="rep2", tier=Tier.MEDIUM, practices=[practice]), account, "150.00")
    refused = client_for(manager).post(f"/api/writeoffs/{large.pk}/approve/")
    assert refused.status_code == 403 and "Director" in refused.json()["detail"]
    assert client_for(director).post(f"/api/writeoffs/{large.pk}/approve/").status_code == 200


def test_deny_needs_a_reason(manager, waiting):
    api = client_for(manager)
    missing = api.post(f"/api/writeoffs/{waiting.pk}/deny/", {"reason": ""}, format="json")
    assert missing.status_code == 400 and "reason" in missing.json()
    denied = api.post(f"/api/writeoffs/{waiting.pk}/deny/", {"reason": "Balance is disputed"}, format="json")
    assert denied.status_code == 200 and denied.json()["status"] == "denied"
    assert denied.json()["denial_reason"] == "Balance is disputed"


def test_reverse_through_the_api(manager, waiting, account):
    api = client_for(manager)
    api.post(f"/api/writeoffs/{waiting.pk}/approve/")
    response = api.post(f"/api/writeoffs/{waiting.pk}/reverse/", {"reason": "Wrong account"}, format="json")
    assert response.status_code == 200 and response.json()["status"] == "reversed"
    account.refresh_from_db()
    assert account.patient_balance == Decimal("200.00")


def test_bulk_approval_previews_then_posts_what_was_previewed(medium, manager, account, practice):
    second = PatientAccountFactory(practice=practice)
    post_visit(second, days_ago=150, charge="50.00", to_patient="50.00")
    ids = [
        propose(medium, account, "40.00").pk,
        propose(medium, second, "12.50").pk,
        propose(manager, second, "1.00").pk,
    ]
    api = client_for(manager)
    preview = api.post("/api/writeoffs/bulk-approve/", {"ids": ids}, format="json")
    assert preview.status_code == 200, preview.json()
    body = preview.json()
    assert (body["count"], body["total"], body["ids"]) == (2, "52.50", ids[:2])
    assert [row["id"] for row in body["refused"]] == [ids[2]]
    stale = api.post("/api/writeoffs/bulk-approve/", {"ids": ids, "fingerprint": "0" * 32}, format="json")
    assert stale.status_code == 400 and "fingerprint" in stale.json()
    assert not Transaction.objects.filter(kind="write_off").exists()
    posted = api.post("/api/writeoffs/bulk-approve/", {"ids": ids, "fingerprint": body["fingerprint"]}, format="json")
    assert posted.status_code == 201, posted.json()
    assert (posted.json()["count"], posted.json()["total"], posted.json()["ids"]) == (2, "52.50", ids[:2])
    assert -sum(Transaction.objects.filter(kind="write_off").values_list("patient_amount", flat=True)) == Decimal(
        "52.50"
    )


# --- every endpoint: the tier refused (403) and another practice (404) --------------------------------


def endpoints(waiting):
    return [
        ("get", "/api/writeoffs/", None),
        ("post", "/api/writeoffs/", {"account": waiting.account_id, "amount": "1.00", "reason": "bad_debt"}),
        ("post", f"/api/writeoffs/{waiting.pk}/approve/", {}),
        ("post", f"/api/writeoffs/{waiting.pk}/deny/", {"reason": "No"}),
        ("post", f"/api/writeoffs/{waiting.pk}/reverse/", {"reason": "No"}),
        ("post", "/api/writeoffs/bulk-approve/", {"ids": [waiting.pk]}),
    ]


@pytest.mark.parametrize("index", range(6))
def test_low_tier_is_refused_every_endpoint(low, waiting, index):
    method, path, body = endpoints(waiting)[index]
    response = getattr(client_for(low), method)(path, body, format="json")
    assert response.status_code == 403


@pytest.mark.parametrize("index", [2, 3, 4, 5])
def test_a_rep_is_refused_every_decision(medium, waiting, index):
    method, path, body = endpoints(waiting)[index]
    response = getattr(client_for(medium), method)(path, body, format="json")
    assert response.status_code == 403
    assert WriteOffRequest.objects.get(pk=waiting.pk).status == Status.PROPOSED


@pytest.mark.parametrize("index", [1, 2, 3, 4])
def test_another_practice_gets_404(outsider, south_manager, waiting, index):
    method, path, body = endpoints(waiting)[index]
    user = outsider if index == 1 else south_manager
    response = getattr(client_for(user), method)(path, body, format="json")
    assert response.status_code == 404
    assert WriteOffRequest.objects.get(pk=waiting.pk).status == Status.PROPOSED


def test_another_practice_bulk_preview_refuses_what_it_cannot_see(south_manager, waiting):
    response = client_for(south_manager).post("/api/writeoffs/bulk-approve/", {"ids": [waiting.pk]}, format="json")
    assert response.status_code == 200
    assert response.json()["count"] == 0
    assert response.json()["refused"] == [{"id": waiting.pk, "message": "No such write-off request in your practices."}]
