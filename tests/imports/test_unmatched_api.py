"""GET /api/imports/unmatched/ and /api/imports/unmatched/{id}/, POST .../{id}/resolve/: the review
list of remittance claims that matched no claim, for Management and up, within their practices."""

from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import call_command
from rest_framework.test import APIClient

from accounts.models import Claim, Transaction
from core.models import AuditEvent, Tier
from imports import selectors
from imports.models import UnmatchedClaim
from imports.services import unmatched_claim_resolve
from tests.factories import StaffUserFactory
from tests.imports.test_unmatched_resolve import arrived_before_its_claims

LIST = "/api/imports/unmatched/"


def detail_url(entry) -> str:
    return f"{LIST}{entry.pk}/"


def resolve_url(entry) -> str:
    return f"{LIST}{entry.pk}/resolve/"


def api(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


@pytest.fixture
def south_manager(other_practice):
    return StaffUserFactory(username="south-manager", tier=Tier.MANAGEMENT, practices=[other_practice])


@pytest.fixture
def waiting(practice):
    generated = arrived_before_its_claims(practice)[0]
    return generated, UnmatchedClaim.objects.get(), Claim.objects.get()


def test_a_manager_lists_the_waiting_entries_paged(manager, practice, django_assert_max_num_queries):
    arrived_before_its_claims(practice, count=3)
    client = api(manager)
    with django_assert_max_num_queries(5):
        response = client.get(LIST, {"page_size": 2})
    body = response.json()
    assert response.status_code == 200 and body["count"] == 3 and len(body["results"]) == 2 and body["next"]
    first = body["results"][0]
    assert first["status"] == "open" and first["remittance"]["trace_number"]
    assert set(first["adjustments"]) == {"CO", "PR", "OA", "PI"}
    assert AuditEvent.objects.filter(action=AuditEvent.Action.VIEW, object_type="imports.unmatchedclaim").count() == 2


def test_the_list_query_count_does_not_grow_with_its_entries(manager, practice, django_assert_num_queries):
    arrived_before_its_claims(practice, count=2)
    client = api(manager)
    client.get(LIST)
    with django_assert_num_queries(3):
        client.get(LIST)
    arrived_before_its_claims(practice, count=5, seed=62)
    with django_assert_num_queries(3):
        count = client.get(LIST).json()["count"]
    assert count == UnmatchedClaim.objects.count() > 2


def test_the_resolved_filter_lists_who_resolved_and_to_which_claim(manager, waiting):
    _, entry, claim = waiting
    unmatched_claim_resolve(acting_user=manager, unmatched_id=entry.pk, claim_id=claim.pk)
    client = api(manager)
    assert client.get(LIST).json()["count"] == 0
    [resolved] = client.get(LIST, {"status": "resolved"}).json()["results"]
    assert resolved["status"] == "resolved" and resolved["resolved_by"] == "manager"
    assert resolved["matched_claim"] == claim.pk and resolved["matched_account"] == claim.account_id
    assert resolved["resolved_at"]
    assert client.get(LIST, {"status": "bogus"}).status_code == 400


def test_the_detail_is_an_audited_read_with_the_suggested_claims(manager, waiting):
    _, entry, claim = waiting
    response = api(manager).get(detail_url(entry))
    body = response.json()
    assert response.status_code == 200
    assert [s["claim"] for s in body["suggestions"]] == [claim.pk]
    assert body["suggestions"][0]["reason"] == selectors.REASON_SAME_NUMBER
    read = AuditEvent.objects.get(action=AuditEvent.Action.VIEW, object_type="imports.unmatchedclaim")
    assert read.object_id == str(entry.pk) and read.detail == {"suggested_claim_ids": [claim.pk]}


@pytest.mark.parametrize("who", ["medium", "south_manager"])
def test_below_management_or_another_practice_is_refused(request, waiting, who):
    _, entry, claim = waiting
    client = api(request.getfixturevalue(who))
    expected = 403 if who == "medium" else 404
    assert client.get(detail_url(entry)).status_code == expected
    assert client.post(resolve_url(entry), {"claim": claim.pk}, format="json").status_code == expected
    if who == "medium":
        assert client.get(LIST).status_code == 403
    else:
        assert client.get(LIST).json()["count"] == 0
    entry.refresh_from_db()
    assert entry.resolved_at is None


def test_resolving_with_the_claim_posts_and_moves_the_balances(manager, waiting):
    generated, entry, claim = waiting
    response = api(manager).post(resolve_url(entry), {"claim": claim.pk}, format="json")
    body = response.json()
    assert response.status_code == 200 and body["status"] == "resolved" and body["matched_claim"] == claim.pk
    claim.account.refresh_from_db()
    assert (claim.account.patient_balance, claim.account.insurance_balance) == (generated.patient, Decimal("0.00"))
    call_command("check_ledger", stdout=StringIO())
    update = AuditEvent.objects.get(action=AuditEvent.Action.UPDATE, object_type="imports.unmatchedclaim")
    assert update.detail == {"resolved": True, "claim_id": claim.pk}


def test_closing_with_a_note_posts_nothing_and_a_second_resolve_changes_nothing(manager, waiting):
    _, entry, claim = waiting
    client = api(manager)
    closed = client.post(resolve_url(entry), {"note": "Sent back to payer"}, format="json")
    assert closed.status_code == 200 and closed.json()["resolution_note"] == "Sent back to payer"
    rows = Transaction.objects.count()
    again = client.post(resolve_url(entry), {"claim": claim.pk}, format="json")
    assert again.status_code == 200 and again.json()["matched_claim"] is None
    assert Transaction.objects.count() == rows


def test_no_note_and_no_claim_is_a_field_error(manager, waiting):
    _, entry, _ = waiting
    response = api(manager).post(resolve_url(entry), {"note": " "}, format="json")
    assert response.status_code == 400 and list(response.json()) == ["note"]


@pytest.mark.parametrize("claim", [999_999_999, 0, "x"])
def test_a_bad_claim_id_is_a_field_error(manager, waiting, claim):
    _, entry, _ = waiting
    response = api(manager).post(resolve_url(entry), {"claim": claim}, format="json")
    assert response.status_code == 400 and list(response.json()) == ["claim"]
    entry.refresh_from_db()
    assert entry.resolved_at is None
