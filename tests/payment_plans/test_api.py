"""The plan API: set-up under policy (400 with field errors), reads, transitions, tiers and scope."""

from decimal import Decimal

import pytest
from rest_framework.test import APIClient

from core.models import AuditEvent
from payment_plans.models import PaymentPlan


@pytest.fixture
def api():
    return APIClient()


def _as(api, user):
    api.force_authenticate(user)
    return api


def _endpoints(account, plan):
    return [
        ("get", f"/api/accounts/{account.pk}/plans/", None),
        ("post", f"/api/accounts/{account.pk}/plans/", {"installment_count": 2}),
        ("get", f"/api/plans/{plan.pk}/", None),
        ("post", f"/api/plans/{plan.pk}/activate/", {}),
        ("post", f"/api/plans/{plan.pk}/cancel/", {}),
        ("post", f"/api/plans/{plan.pk}/modify/", {"installment_count": 2}),
    ]


def test_set_up_a_plan(api, medium, account):
    response = _as(api, medium).post(
        f"/api/accounts/{account.pk}/plans/",
        {"installment_amount": "50.00", "frequency": "biweekly", "activate": True},
        format="json",
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["status"] == "active" and body["total_amount"] == "200.00"
    assert [row["amount"] for row in body["installments"]] == ["50.00"] * 4
    assert [row["to_status"] for row in body["history"]] == ["proposed", "active"]
    assert "autopay_token" not in body


def test_policy_refusal_is_a_400_with_the_field_and_changes_nothing(api, medium, account):
    response = _as(api, medium).post(f"/api/accounts/{account.pk}/plans/", {"installment_count": 10}, format="json")
    assert response.status_code == 400
    assert "Each installment must be at least $25.00" in response.json()["installment_count"][0]
    assert not PaymentPlan.objects.exists()


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"installment_count": "many"}, "installment_count"),
        ({"installment_count": 0}, "installment_count"),
        ({"installment_count": 2, "frequency": "weekly"}, "frequency"),
        ({"installment_count": 2, "start_on": "31/02/2026"}, "start_on"),
        ({"installment_count": 2, "total": "12.345"}, "total"),
        ({"installment_count": 2, "day_of_month": 40}, "day_of_month"),
    ],
)
def test_bad_input_is_a_400_with_field_errors(api, medium, account, payload, field):
    response = _as(api, medium).post(f"/api/accounts/{account.pk}/plans/", payload, format="json")
    assert response.status_code == 400
    assert field in response.json()
    assert not PaymentPlan.objects.exists()


def test_list_and_read_are_audited(api, medium, account, active_plan):
    api = _as(api, medium)
    listing = api.get(f"/api/accounts/{account.pk}/plans/")
    assert listing.status_code == 200 and [row["id"] for row in listing.json()] == [active_plan.pk]
    detail = api.get(f"/api/plans/{active_plan.pk}/")
    assert detail.status_code == 200 and len(detail.json()["installments"]) == 4
    reads = AuditEvent.objects.filter(action=AuditEvent.Action.VIEW, object_type="payment_plans.paymentplan")
    assert reads.count() == 2


def test_transitions(api, medium, account):
    api = _as(api, medium)
    plan_id = api.post(f"/api/accounts/{account.pk}/plans/", {"installment_count": 4}, format="json").json()["id"]
    assert api.post(f"/api/plans/{plan_id}/activate/").json()["status"] == "active"
    modified = api.post(f"/api/plans/{plan_id}/modify/", {"installment_count": 2, "reason": "x"}, format="json").json()
    assert (modified["revision"], modified["installment_amount"]) == (2, "100.00")
    assert api.post(f"/api/plans/{plan_id}/cancel/", {"note": "n"}, format="json").json()["status"] == "cancelled"
    refused = api.post(f"/api/plans/{plan_id}/activate/")
    assert refused.status_code == 400
    assert refused.json()["non_field_errors"] == ["A cancelled plan cannot become active."]


def test_low_tier_is_refused_every_endpoint(api, low, account, active_plan):
    api = _as(api, low)
    for method, url, payload in _endpoints(account, active_plan):
        assert getattr(api, method)(url, payload, format="json").status_code == 403, url
    active_plan.refresh_from_db()
    assert active_plan.status == "active"


def test_another_practice_gets_404_from_every_endpoint(api, outsider, account, active_plan):
    api = _as(api, outsider)
    for method, url, payload in _endpoints(account, active_plan):
        assert getattr(api, method)(url, payload, format="json").status_code == 404, url
    active_plan.refresh_from_db()
    assert (active_plan.status, active_plan.revision) == ("active", 1)
    assert PaymentPlan.objects.count() == 1


def test_anonymous_is_refused(api, account, active_plan):
    for method, url, payload in _endpoints(account, active_plan):
        assert getattr(api, method)(url, payload, format="json").status_code in (401, 403), url


def test_managers_and_directors_may_use_the_api(api, manager, director, active_plan):
    for user in (manager, director):
        assert _as(api, user).get(f"/api/plans/{active_plan.pk}/").json()["total_amount"] == str(Decimal("200.00"))
