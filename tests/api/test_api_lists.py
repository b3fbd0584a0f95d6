"""API lists: the past-due flag from the nightly aging state, django-filter filters documented in
the schema, and page counts capped as on the web search."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from drf_spectacular.generators import SchemaGenerator
from rest_framework.test import APIClient

from accounts.models import AccountAgingState, PatientAccount
from collections_app.models import AccountHold, PromiseToPay
from core.api_support import ApiPaginator
from payment_plans.models import PaymentPlan
from tests.conftest import post_visit
from tests.factories import PatientAccountFactory

pytestmark = pytest.mark.django_db


def _client(user):
    client = APIClient()
    client.force_authenticate(user)
    return client


def _age(account, *, past_due):
    """What last night's aging job leaves for the account."""
    AccountAgingState.objects.update_or_create(
        account=account,
        defaults={
            "practice": account.practice,
            "patient_open": account.patient_balance,
            "oldest_open_service_on": date.today() - timedelta(days=100),
            "bucket": "91-120",
            "is_past_due": past_due,
        },
    )


@pytest.fixture
def flagged(account):
    _age(account, past_due=True)
    return account


@pytest.fixture
def current(practice):
    account = PatientAccountFactory(practice=practice, account_number="N0005678")
    post_visit(account, days_ago=5, charge="50.00", to_patient="50.00")
    _age(account, past_due=False)
    return account


# --- The past-due flag on account lists ------------------------------------------------------------


@pytest.mark.parametrize("tier", ["low", "medium", "manager", "director"])
def test_every_tier_sees_last_nights_past_due_flag_on_the_account_list(request, tier, flagged, current):
    rows = _client(request.getfixturevalue(tier)).get(reverse("api-account-list")).json()["results"]
    by_number = {row["account_number"]: row for row in rows}
    assert by_number["N0001234"]["past_due"] is True
    assert by_number["N0005678"]["past_due"] is False


def test_a_low_user_gets_the_flag_but_no_amounts(low, flagged):
    row = _client(low).get(reverse("api-account-list")).json()["results"][0]
    assert row["past_due"] is True
    assert "patient_balance" not in row and "status" not in row


def test_an_account_never_aged_is_not_past_due(medium, practice):
    PatientAccountFactory(practice=practice, account_number="N0000001")
    [row] = _client(medium).get(reverse("api-account-list")).json()["results"]
    assert row["past_due"] is False


def test_an_account_on_a_plan_since_last_night_loses_the_flag_at_once(medium, flagged):
    PatientAccount.objects.filter(pk=flagged.pk).update(status=PatientAccount.Status.PAYMENT_PLAN)
    [row] = _client(medium).get(reverse("api-account-list")).json()["results"]
    assert row["past_due"] is False


def test_the_past_due_filter_keeps_only_flagged_accounts(low, flagged, current):
    url = reverse("api-account-list")
    assert [r["account_number"] for r in _client(low).get(url, {"past_due": "true"}).json()["results"]] == ["N0001234"]
    assert [r["account_number"] for r in _client(low).get(url, {"past_due": "false"}).json()["results"]] == ["N0005678"]


def test_the_search_carries_the_flag_and_the_filter(medium, flagged, current):
    url = reverse("api-account-search") + "?past_due=true"
    rows = _client(medium).post(url, {"q": ""}, format="json").json()["results"]
    assert [(r["account_number"], r["past_due"]) for r in rows] == [("N0001234", True)]


def test_another_practices_user_sees_none_of_them(outsider, flagged, current):
    assert _client(outsider).get(reverse("api-account-list"), {"past_due": "true"}).json()["results"] == []


def test_the_account_list_runs_a_fixed_number_of_queries(medium, practice, django_assert_max_num_queries):
    for number in range(12):
        account = PatientAccountFactory(practice=practice, account_number=f"N1{number:06d}")
        _age(account, past_due=number % 2 == 0)
    client = _client(medium)
    with django_assert_max_num_queries(12):
        response = client.get(reverse("api-account-list"), {"past_due": "true"})
    assert response.json()["count"] == 0  # no balance: not collectible, so never flagged


# --- Capped counts ----------------------------------------------------------------------------------


def test_page_counts_stop_at_the_cap_and_say_so(medium, practice, monkeypatch):
    monkeypatch.setattr(ApiPaginator, "COUNT_CAP", 3)
    for number in range(5):
        PatientAccountFactory(practice=practice, account_number=f"N2{number:06d}")
    body = _client(medium).get(reverse("api-account-list"), {"page_size": 2}).json()
    assert body["count"] == 3 and body["count_capped"] is True
    assert len(body["results"]) == 2


def test_a_count_under_the_cap_is_exact(medium, account):
    body = _client(medium).get(reverse("api-account-list")).json()
    assert body["count"] == 1 and body["count_capped"] is False


# --- Filters on the account's lists -------------------------------------------------------------------


def test_the_ledger_filters_by_kind_and_date(medium, account):
    url = reverse("api-account-ledger", args=[account.pk])
    client = _client(medium)
    charges = client.get(url, {"kind": "charge"}).json()["results"]
    assert len(charges) == 2 and {row["kind"] for row in charges} == {"charge"}
    recent = date.today() - timedelta(days=60)
    rows = client.get(url, {"effective_on_after": recent.isoformat()}).json()["results"]
    assert rows and all(row["effective_on"] >= recent.isoformat() for row in rows)


def test_the_ledger_filter_is_for_billing_tiers_only(low, account):
    response = _client(low).get(reverse("api-account-ledger", args=[account.pk]), {"kind": "charge"})
    assert response.status_code == 403


def test_the_ledger_filter_of_another_practices_account_is_404(outsider, account):
    response = _client(outsider).get(reverse("api-account-ledger", args=[account.pk]), {"kind": "charge"})
    assert response.status_code == 404


@pytest.mark.parametrize(
    "query, field",
    [({"kind": "gift"}, "kind"), ({"effective_on_after": "yesterday"}, "effective_on"), ({"past_due": "x"}, None)],
)
def test_a_bad_filter_value_is_a_400_naming_the_filter(medium, account, query, field):
    url = reverse("api-account-list") if "past_due" in query else reverse("api-account-ledger", args=[account.pk])
    response = _client(medium).get(url, query)
    if field is None:  # a boolean that is neither true nor false filters nothing, as DRF's BooleanField reads it
        assert response.status_code == 200
        return
    assert response.status_code == 400
    assert field in response.json()


def test_promises_filter_by_status(medium, account):
    for status in (PromiseToPay.Status.OPEN, PromiseToPay.Status.BROKEN):
        PromiseToPay.objects.create(
            account=account,
            practice=account.practice,
            amount=Decimal("20.00"),
            promised_on=date.today(),
            due_on=date.today() + timedelta(days=7),
            status=status,
        )
    rows = _client(medium).get(reverse("api-account-promises", args=[account.pk]), {"status": "broken"}).json()
    assert [row["status"] for row in rows] == ["broken"]


def test_plans_filter_by_status(medium, account):
    PaymentPlan.objects.filter(account=account).delete()
    rows = _client(medium).get(reverse("api-account-plans", args=[account.pk]), {"status": "active"}).json()
    assert rows == []
    response = _client(medium).get(reverse("api-account-plans", args=[account.pk]), {"status": "sideways"})
    assert response.status_code == 400 and "status" in response.json()


def test_holds_filter_by_kind_and_whether_in_force(medium, account):
    AccountHold.objects.create(
        account=account, practice=account.practice, kind=AccountHold.Kind.DISPUTE, placed_on=date.today()
    )
    url = reverse("api-account-holds", args=[account.pk])
    client = _client(medium)
    assert [row["kind"] for row in client.get(url, {"active": "true"}).json()] == ["dispute"]
    assert client.get(url, {"active": "false"}).json() == []
    assert client.get(url, {"kind": "probate"}).json() == []


# --- The schema documents the filters ------------------------------------------------------------------


def _operation(path, method="get"):
    schema = SchemaGenerator().get_schema(request=None, public=True)
    return schema["paths"][path][method]


@pytest.mark.parametrize(
    "path, names",
    [
        ("/api/accounts/", {"past_due"}),
        ("/api/accounts/{id}/ledger/", {"kind", "effective_on_after", "effective_on_before"}),
        ("/api/accounts/{id}/promises/", {"status", "due_on_after", "due_on_before"}),
        ("/api/accounts/{id}/plans/", {"status"}),
        ("/api/accounts/{id}/holds/", {"kind", "active"}),
    ],
)
def test_the_schema_documents_each_lists_filters(path, names):
    parameters = {p["name"]: p for p in _operation(path)["parameters"] if p["in"] == "query"}
    assert names <= set(parameters)
    assert all(parameters[name].get("description") for name in names)


def test_the_schema_documents_the_capped_count_and_the_flag():
    schema = SchemaGenerator().get_schema(request=None, public=True)
    page = schema["components"]["schemas"]["PaginatedAccountListList"]
    assert page["properties"]["count"]["maximum"] == 1000
    assert "count_capped" in page["required"]
    assert "past_due" in schema["components"]["schemas"]["AccountList"]["properties"]
