"""The REST API: each endpoint's tier, practice scope, field groups per tier, audit, token auth,
filters, query counts and the OpenAPI schema."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
import yaml
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from rest_framework.test import APIClient

from accounts import api
from accounts.models import PatientAccount
from core.access import FieldGroup, declared_field_group
from core.models import AuditEvent, StaffUser, Tier
from tests.conftest import post_visit
from tests.factories import (
    PASSWORD,
    AppointmentFactory,
    PatientAccountFactory,
    PatientFactory,
)

pytestmark = pytest.mark.django_db

BALANCE_KEYS = {"patient_balance", "insurance_balance", "total_balance", "status", "aging", "last_patient_payment_on"}


@pytest.fixture
def api_client():
    return APIClient()


def _get(api_client, user, url, **params):
    api_client.force_login(user)
    return api_client.get(url, params)


SEARCH_OF_LIST = {"api-account-list": "api-account-search", "api-patient-list": "api-patient-search"}


def _search(api_client, user, list_name, **terms):
    """Search terms (PHI) go in a POST body to the list's search endpoint, never in the URL."""
    api_client.force_login(user)
    return api_client.post(reverse(SEARCH_OF_LIST[list_name]), terms, format="json")


def _urls(account):
    """Every read endpoint, filled with the fixture account (north practice), and its field group."""
    return {
        "practice list": (reverse("api-practice-list"), FieldGroup.DEMOGRAPHICS),
        "practice detail": (reverse("api-practice-detail", args=[account.practice_id]), FieldGroup.DEMOGRAPHICS),
        "patient list": (reverse("api-patient-list"), FieldGroup.DEMOGRAPHICS),
        "patient detail": (reverse("api-patient-detail", args=[account.patient_id]), FieldGroup.DEMOGRAPHICS),
        "account list": (reverse("api-account-list"), FieldGroup.DEMOGRAPHICS),
        "account detail": (reverse("api-account-detail", args=[account.pk]), FieldGroup.DEMOGRAPHICS),
        "account ledger": (reverse("api-account-ledger", args=[account.pk]), FieldGroup.BILLING),
        "schema": (reverse("api-schema"), FieldGroup.DEMOGRAPHICS),
        "docs": (reverse("api-docs"), FieldGroup.DEMOGRAPHICS),
    }


ENDPOINTS = [
    "practice list",
    "practice detail",
    "patient list",
    "patient detail",
    "account list",
    "account detail",
    "account ledger",
    "schema",
    "docs",
]
DETAIL_ENDPOINTS = ["practice detail", "patient detail", "account detail", "account ledger"]
PERSONA_TIERS = {"low": Tier.LOW, "medium": Tier.MEDIUM, "manager": Tier.MANAGEMENT, "director": Tier.DIRECTOR}


# --- Tier and practice scope ---------------------------------------------------------------------


@pytest.mark.parametrize("endpoint", ENDPOINTS)
@pytest.mark.parametrize("persona", list(PERSONA_TIERS))
def test_each_endpoint_answers_every_tier_it_allows_and_refuses_the_rest(
    api_client, personas, account, endpoint, persona
):
    from core.access import MINIMUM_TIER

    url, group = _urls(account)[endpoint]
    response = _get(api_client, personas[persona], url)
    expected = 200 if PERSONA_TIERS[persona] >= MINIMUM_TIER[group] else 403
    assert response.status_code == expected, response.content[:300]


def test_front_desk_cannot_read_the_ledger(api_client, low, account):
    response = _get(api_client, low, reverse("api-account-ledger", args=[account.pk]))
    assert response.status_code == 403
    assert "access tier" in response.json()["detail"]


@pytest.mark.parametrize("endpoint", DETAIL_ENDPOINTS)
def test_another_practices_user_gets_404_for_our_records(api_client, outsider, account, endpoint):
    url, _ = _urls(account)[endpoint]
    response = _get(api_client, outsider, url)
    assert response.status_code == 404
    assert response.json() == {"detail": "No such record in your practices."}


def test_another_practices_user_sees_none_of_our_records_in_lists(api_client, outsider, account, other_account):
    accounts = _get(api_client, outsider, reverse("api-account-list")).json()
    assert [row["id"] for row in accounts["results"]] == [other_account.pk]
    patients = _get(api_client, outsider, reverse("api-patient-list")).json()
    assert [row["id"] for row in patients["results"]] == [other_account.patient_id]
    practices = _get(api_client, outsider, reverse("api-practice-list")).json()
    assert [row["code"] for row in practices["results"]] == ["south"]
    searched = _search(api_client, outsider, "api-account-list", q=account.account_number).json()
    assert searched["count"] == 0


def test_director_sees_every_practice(api_client, director, account, other_account):
    accounts = _get(api_client, director, reverse("api-account-list")).json()
    assert {row["id"] for row in accounts["results"]} == {account.pk, other_account.pk}


@pytest.mark.parametrize("endpoint", [e for e in ENDPOINTS if e != "docs"])
def test_anonymous_requests_are_refused(api_client, account, endpoint):
    url, _ = _urls(account)[endpoint]
    response = api_client.get(url)
    assert response.status_code in (401, 403)
    assert "patient" not in response.content.decode().lower()


def test_anonymous_visitor_to_the_docs_is_sent_to_sign_in(api_client):
    response = api_client.get(reverse("api-docs"))
    assert response.status_code == 302
    assert response["Location"].startswith("/login/?next=/api/docs/")


def test_every_api_view_declares_a_field_group_or_is_public():
    from django.urls import URLPattern, get_resolver

    def endpoints(patterns):
        for pattern in patterns:
            if isinstance(pattern, URLPattern):
                yield pattern
            else:  # an include(): the areas' api_urls
                yield from endpoints(pattern.url_patterns)

    resolver = get_resolver()
    api_patterns = next(p for p in resolver.url_patterns if str(p.pattern) == "api/").url_patterns
    checked = 0
    for pattern in endpoints(api_patterns):
        checked += 1
        view_class = pattern.callback.cls
        if getattr(view_class, "public", False):
            assert pattern.name == "api-token"
            continue
        assert declared_field_group(pattern.callback) is not None, pattern.name
    assert checked > 10


def test_every_api_view_is_a_thin_api_view():
    """One style for every app: core.api_support.Api (the drf-spectacular schema and docs aside)."""
    from django.urls import URLPattern, get_resolver

    from core.api_support import Api

    def endpoints(patterns):
        for pattern in patterns:
            if isinstance(pattern, URLPattern):
                yield pattern
            else:
                yield from endpoints(pattern.url_patterns)

    api_patterns = next(p for p in get_resolver().url_patterns if str(p.pattern) == "api/").url_patterns
    others = {pattern.name for pattern in endpoints(api_patterns) if not issubclass(pattern.callback.cls, Api)}
    assert others == {"api-schema", "api-docs"}


def test_a_view_without_a_pagination_class_does_not_page(rf):
    from django.core.exceptions import ImproperlyConfigured

    from core.api_support import Api

    view = Api()
    view.request = rf.get("/")
    assert view.paginator is None  # what DRF's browsable renderer asks every view
    with pytest.raises(ImproperlyConfigured, match="sets no pagination_class"):
        view.paginate(PatientAccount.objects.none())


# --- Field groups by tier ------------------------------------------------------------------------


def test_front_desk_sees_the_past_due_flag_but_no_amounts(api_client, low, account):
    data = _get(api_client, low, reverse("api-account-detail", args=[account.pk])).json()
    assert data["past_due"] is True
    assert data["patient"]["last_name"] == account.patient.last_name
    assert data["account_number"] == "N0001234"
    assert BALANCE_KEYS.isdisjoint(data), sorted(BALANCE_KEYS & set(data))
    assert "200.00" not in str(data) and "120.00" not in str(data)


def test_rep_sees_balances_and_aging_by_encounter(api_client, medium, account):
    data = _get(api_client, medium, reverse("api-account-detail", args=[account.pk])).json()
    assert data["patient_balance"] == "200.00"
    assert data["insurance_balance"] == "0.00"
    assert data["past_due"] is True
    buckets = {row["bucket"]: Decimal(row["amount"]) for row in data["aging"]["buckets"]}
    assert buckets == {
        "0-30": Decimal("0"),
        "31-60": Decimal("80.00"),
        "61-90": Decimal("0"),
        "91-120": Decimal("120.00"),
        "121+": Decimal("0"),
    }
    assert sum(buckets.values()) == Decimal(data["patient_balance"])
    assert sorted(row["open_amount"] for row in data["aging"]["encounters"]) == ["120.00", "80.00"]
    assert "ssn" not in data["patient"]


def test_account_paid_in_full_is_not_past_due(api_client, low, practice):
    account = PatientAccountFactory(practice=practice)
    post_visit(account, days_ago=200, charge="100.00", insurance_paid="100.00", to_patient="0.00")
    data = _get(api_client, low, reverse("api-account-detail", args=[account.pk])).json()
    assert data["past_due"] is False


def test_front_desk_account_list_has_names_but_no_balances(api_client, low, medium, account):
    low_row = _get(api_client, low, reverse("api-account-list")).json()["results"][0]
    assert low_row["patient"]["first_name"] == account.patient.first_name
    assert BALANCE_KEYS.isdisjoint(low_row)
    medium_row = _get(api_client, medium, reverse("api-account-list")).json()["results"][0]
    assert medium_row["patient_balance"] == "200.00"
    assert medium_row["status"] == "active"


@pytest.mark.parametrize(
    ("persona", "sees_ssn"), [("low", False), ("medium", False), ("manager", False), ("director", True)]
)
def test_only_directors_see_the_full_ssn(api_client, personas, account, persona, sees_ssn):
    data = _get(api_client, personas[persona], reverse("api-patient-detail", args=[account.patient_id])).json()
    assert ("ssn" in data) is sees_ssn
    assert ("123-45-6789" in str(data)) is sees_ssn
    listed = _get(api_client, personas[persona], reverse("api-patient-list")).json()
    assert "123-45-6789" not in str(listed)


def test_patient_detail_shows_upcoming_appointments_and_accounts(api_client, low, account):
    AppointmentFactory(patient=account.patient, reason="Follow-up")
    data = _get(api_client, low, reverse("api-patient-detail", args=[account.patient_id])).json()
    assert [row["reason"] for row in data["upcoming_appointments"]] == ["Follow-up"]
    assert data["accounts"] == [{"id": account.pk, "account_number": "N0001234"}]
    assert data["address_line1"] == "12 Elm Street"


@pytest.mark.parametrize(
    ("persona", "sees_plan_rules", "sees_limits"),
    [("low", False, False), ("medium", True, False), ("manager", True, True), ("director", True, True)],
)
def test_practice_policy_fields_by_tier(api_client, personas, practice, persona, sees_plan_rules, sees_limits):
    data = _get(api_client, personas[persona], reverse("api-practice-detail", args=[practice.pk])).json()
    assert data["code"] == "north"
    assert ("plan_min_installment" in data) is sees_plan_rules
    assert ("writeoff_limit_management" in data) is sees_limits
    assert ("target_collection_rate" in data) is sees_limits


def test_ledger_lists_postings_in_order_with_signed_amounts(api_client, medium, account):
    data = _get(api_client, medium, reverse("api-account-ledger", args=[account.pk])).json()
    assert data["count"] == 8
    rows = data["results"]
    assert [row["effective_on"] for row in rows] == sorted(row["effective_on"] for row in rows)
    assert sum(Decimal(row["patient_amount"]) for row in rows) == Decimal("200.00")
    assert rows[0]["kind"] == "charge" and rows[0]["insurance_amount"] == "300.00"
    assert rows[0]["date_of_service"] == str(date.today() - timedelta(days=100))


def test_ledger_shows_which_row_reverses_which(api_client, medium, account):
    from accounts import services

    payment = services.transaction_post(
        acting_user=medium, account_id=account.pk, kind="patient_payment", patient_amount="-25.00",
        payment_method="cash", effective_on=date.today(),
    )  # fmt: skip
    reversal = services.transaction_reverse(acting_user=medium, transaction_id=payment.pk, reason="bounced")
    rows = _get(api_client, medium, reverse("api-account-ledger", args=[account.pk])).json()["results"]
    by_id = {row["id"]: row for row in rows}
    assert by_id[payment.pk]["reversed_by"] == reversal.pk
    assert by_id[reversal.pk]["reverses"] == payment.pk


def test_ledger_pages(api_client, medium, account):
    first = _get(api_client, medium, reverse("api-account-ledger", args=[account.pk]), page_size=3).json()
    assert len(first["results"]) == 3 and first["next"]
    last = _get(api_client, medium, reverse("api-account-ledger", args=[account.pk]), page_size=3, page=3).json()
    assert len(last["results"]) == 2 and last["next"] is None


# --- Audit ---------------------------------------------------------------------------------------


def _audit_rows(**filters):
    return list(AuditEvent.objects.filter(**filters).order_by("id"))


def test_account_detail_read_is_audited_with_the_groups_shown(api_client, low, medium, account):
    _get(api_client, low, reverse("api-account-detail", args=[account.pk]))
    _get(api_client, medium, reverse("api-account-detail", args=[account.pk]))
    rows = _audit_rows(object_type="accounts.patientaccount", object_id=str(account.pk))
    assert [(row.user, row.action, row.field_group) for row in rows] == [
        (low, "view", "demographics,past_due_flag"),
        (medium, "view", "billing,demographics,past_due_flag"),
    ]
    assert rows[0].practice_id == account.practice_id
    assert rows[0].client_address == "127.0.0.1" and rows[0].request_id


def test_patient_detail_read_is_audited_and_says_when_the_ssn_was_shown(api_client, manager, director, account):
    _get(api_client, manager, reverse("api-patient-detail", args=[account.patient_id]))
    _get(api_client, director, reverse("api-patient-detail", args=[account.patient_id]))
    rows = _audit_rows(object_type="accounts.patient", object_id=str(account.patient_id))
    assert [row.field_group for row in rows] == ["demographics", "demographics,director"]


def test_list_writes_one_audit_row_per_account_on_the_page(api_client, medium, practice, account):
    others = [PatientAccountFactory(practice=practice) for _ in range(3)]
    _get(api_client, medium, reverse("api-account-list"), page_size=2)
    rows = _audit_rows(object_type="accounts.patientaccount")
    assert len(rows) == 2
    assert {row.action for row in rows} == {"view"}
    assert {int(row.object_id) for row in rows} <= {account.pk, *(o.pk for o in others)}


def test_search_is_audited_as_a_search_without_the_search_text(api_client, medium, garcia_and_smith):
    garcia, _ = garcia_and_smith
    _search(api_client, medium, "api-account-list", q="Garcia")
    _search(api_client, medium, "api-patient-list", q="Garcia")
    rows = _audit_rows(action="search")
    assert {(row.object_type, row.object_id) for row in rows} == {
        ("accounts.patientaccount", str(garcia.pk)),
        ("accounts.patient", str(garcia.patient_id)),
    }
    assert all("garcia" not in str(row.detail).lower() for row in AuditEvent.objects.all())


def test_ledger_read_is_audited_as_billing(api_client, medium, account):
    _get(api_client, medium, reverse("api-account-ledger", args=[account.pk]))
    [row] = _audit_rows(object_type="accounts.patientaccount")
    assert (row.action, row.field_group, row.detail) == ("view", "billing", {"ledger_page": 1})


def test_refused_and_missing_reads_write_no_view_rows(api_client, low, outsider, account):
    _get(api_client, low, reverse("api-account-ledger", args=[account.pk]))
    _get(api_client, outsider, reverse("api-account-detail", args=[account.pk]))
    assert not AuditEvent.objects.filter(action__in=["view", "search"]).exists()


# --- Token authentication ------------------------------------------------------------------------


def _obtain_token(api_client, username, password):
    return api_client.post(reverse("api-token"), {"username": username, "password": password}, format="json")


def test_token_from_username_and_password_opens_the_api(medium, account):
    client = APIClient()
    response = _obtain_token(client, "medium", PASSWORD)
    assert response.status_code == 200
    token = response.json()["token"]
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    listed = client.get(reverse("api-account-list"))
    assert listed.status_code == 200
    assert listed.json()["results"][0]["patient_balance"] == "200.00"
    assert _audit_rows(action="login", user=medium)
    # Each sign-in issues another token (tests/accounts/test_api_tokens.py: lifetime, revocation).
    assert _obtain_token(APIClient(), "medium", PASSWORD).json()["token"] != token


def test_token_of_a_low_tier_user_gets_low_tier_fields(low, account):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {_obtain_token(client, 'low', PASSWORD).json()['token']}")
    data = client.get(reverse("api-account-detail", args=[account.pk])).json()
    assert data["past_due"] is True and "patient_balance" not in data
    assert client.get(reverse("api-account-ledger", args=[account.pk])).status_code == 403


def test_wrong_password_gets_no_token_and_is_audited(api_client, medium):
    response = _obtain_token(api_client, "medium", "not-the-password")
    assert response.status_code == 400
    assert response.json() == {"non_field_errors": ["Unable to sign in with that username and password."]}
    assert _audit_rows(action="login_failed", username="medium")


def test_token_endpoint_locks_out_after_repeated_failures_even_with_the_right_password(api_client, medium, settings):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        assert _obtain_token(api_client, "medium", "not-the-password").status_code in (400, 429)
    locked = _obtain_token(api_client, "medium", PASSWORD)
    assert locked.status_code == 429
    assert "token" not in locked.json()


def test_failures_on_the_token_endpoint_count_towards_the_login_page_lockout(client, api_client, medium, settings):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        _obtain_token(api_client, "medium", "not-the-password")
    client.post("/login/", {"username": "medium", "password": PASSWORD})
    assert "_auth_user_id" not in client.session


def test_inactive_user_gets_no_token_and_an_old_token_stops_working(medium, account):
    client = APIClient()
    token = _obtain_token(client, "medium", PASSWORD).json()["token"]
    StaffUser.objects.filter(pk=medium.pk).update(is_active=False)
    assert _obtain_token(APIClient(), "medium", PASSWORD).status_code == 400
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    assert client.get(reverse("api-account-list")).status_code in (401, 403)


def test_bad_token_is_refused(api_client, account):
    api_client.credentials(HTTP_AUTHORIZATION="Token 0123456789abcdef0123456789abcdef01234567")
    assert api_client.get(reverse("api-account-list")).status_code in (401, 403)


def test_token_view_is_marked_public_for_the_url_walk():
    assert api.TokenObtainApi.public is True
    assert api.TokenObtainApi.field_group is None


# --- Search and filters --------------------------------------------------------------------------


@pytest.fixture
def garcia_and_smith(practice):
    garcia = PatientAccountFactory(
        practice=practice,
        account_number="N0000001",
        patient=PatientFactory(practice=practice, first_name="Maria", last_name="Garcia", phone="5185550101",
                               date_of_birth=date(1984, 3, 9)),
    )  # fmt: skip
    smith = PatientAccountFactory(
        practice=practice,
        account_number="N0000002",
        patient=PatientFactory(practice=practice, first_name="James", last_name="Smith", phone="5185550202",
                               date_of_birth=date(1990, 11, 30)),
    )  # fmt: skip
    post_visit(smith, days_ago=40, charge="500.00", insurance_paid="0.00", to_patient="500.00")
    return garcia, smith


@pytest.mark.parametrize(
    ("q", "expected"),
    [
        ("garcia", ["Garcia"]),
        ("Maria Garcia", ["Garcia"]),
        ("Smith, James", ["Smith"]),
        ("GAR", ["Garcia"]),
        ("1990-11-30", ["Smith"]),
        ("11/30/1990", ["Smith"]),
        ("(518) 555-0101", ["Garcia"]),
        ("N0000002", ["Smith"]),
        ("n0000002", ["Smith"]),
        ("", ["Garcia", "Smith"]),
        ("Nobody", []),
    ],
)
def test_account_search_by_name_date_of_birth_phone_and_account_number(
    api_client, medium, garcia_and_smith, q, expected
):
    data = _search(api_client, medium, "api-account-list", q=q).json()
    assert [row["patient"]["last_name"] for row in data["results"]] == expected


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"q": "smith"}, ["Smith"]),
        ({"q": "5185550101"}, ["Garcia"]),
        ({"date_of_birth": "1984-03-09"}, ["Garcia"]),
        ({"q": "garcia", "date_of_birth": "1990-11-30"}, []),
    ],
)
def test_patient_search(api_client, low, garcia_and_smith, params, expected):
    data = _search(api_client, low, "api-patient-list", **params).json()
    assert [row["last_name"] for row in data["results"]] == expected


def test_patient_search_by_medical_record_number(api_client, low, garcia_and_smith):
    garcia, _ = garcia_and_smith
    mrn = garcia.patient.medical_record_number
    data = _search(api_client, low, "api-patient-list", q=mrn.lower()).json()
    assert [row["id"] for row in data["results"]] == [garcia.patient_id]


def test_practice_filter(api_client, director, account, other_account):
    data = _get(api_client, director, reverse("api-account-list"), practice=other_account.practice_id).json()
    assert [row["id"] for row in data["results"]] == [other_account.pk]
    patients = _get(api_client, director, reverse("api-patient-list"), practice=account.practice_id).json()
    assert [row["id"] for row in patients["results"]] == [account.patient_id]


def test_filtering_by_a_practice_you_do_not_work_is_a_field_error(api_client, medium, account, other_account):
    response = _get(api_client, medium, reverse("api-account-list"), practice=other_account.practice_id)
    assert response.status_code == 400
    assert response.json() == {"practice": ["Not one of your practices."]}


def test_status_and_balance_filters_and_ordering_for_reps(api_client, medium, account, garcia_and_smith):
    garcia, smith = garcia_and_smith
    PatientAccount.objects.filter(pk=garcia.pk).update(status="hold", hold_reason="dispute")
    on_hold = _get(api_client, medium, reverse("api-account-list"), status="hold").json()
    assert [row["id"] for row in on_hold["results"]] == [garcia.pk]
    owing = _get(api_client, medium, reverse("api-account-list"), min_patient_balance="150.00").json()
    assert {row["id"] for row in owing["results"]} == {account.pk, smith.pk}
    by_balance = _get(api_client, medium, reverse("api-account-list"), ordering="-patient_balance").json()
    assert [row["patient_balance"] for row in by_balance["results"]] == ["500.00", "200.00", "0.00"]
    by_number = _get(api_client, medium, reverse("api-account-list"), ordering="-account_number").json()
    assert [row["account_number"] for row in by_number["results"]] == ["N0001234", "N0000002", "N0000001"]


@pytest.mark.parametrize(
    "params",
    [{"min_patient_balance": "10.00"}, {"status": "active"}, {"ordering": "-patient_balance"}],
)
def test_front_desk_cannot_filter_or_sort_by_billing_information(api_client, low, account, params):
    response = _search(api_client, low, "api-account-list", **params)
    assert response.status_code == 403
    assert next(iter(params)) in response.json()["detail"]


def test_unknown_ordering_is_a_field_error(api_client, medium, account):
    response = _get(api_client, medium, reverse("api-account-list"), ordering="patient__ssn")
    assert response.status_code == 400
    assert "ordering" in response.json()


# --- Query counts --------------------------------------------------------------------------------


def _query_count(api_client, url, **params) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = api_client.get(url, params)
    assert response.status_code == 200
    return len(queries)


@pytest.mark.parametrize("persona", ["low", "medium"])
def test_account_list_queries_do_not_grow_with_the_page(
    api_client, personas, practice, persona, django_assert_max_num_queries
):
    api_client.force_login(personas[persona])
    for _ in range(2):
        PatientAccountFactory(practice=practice)
    url = reverse("api-account-list")
    api_client.get(url)  # warm the session's last-activity stamp
    small = _query_count(api_client, url, page_size=50)
    for _ in range(23):
        PatientAccountFactory(practice=practice)
    large = _query_count(api_client, url, page_size=50)
    assert large == small
    with django_assert_max_num_queries(10):
        response = api_client.post(reverse("api-account-search") + "?page_size=50", {"q": "a"}, format="json")
    assert response.status_code == 200


def test_patient_list_queries_do_not_grow_with_the_page(api_client, low, practice):
    api_client.force_login(low)
    PatientFactory(practice=practice)
    url = reverse("api-patient-list")
    api_client.get(url)
    small = _query_count(api_client, url)
    for _ in range(24):
        PatientFactory(practice=practice)
    assert _query_count(api_client, url) == small


def test_ledger_queries_do_not_grow_with_the_page(api_client, medium, practice, django_assert_max_num_queries):
    account = PatientAccountFactory(practice=practice)
    post_visit(account, days_ago=30)
    api_client.force_login(medium)
    url = reverse("api-account-ledger", args=[account.pk])
    api_client.get(url)
    small = _query_count(api_client, url)
    for days_ago in range(35, 155, 10):  # 12 more visits, two ledger rows each
        post_visit(account, days_ago=days_ago)
    assert _query_count(api_client, url) == small
    with django_assert_max_num_queries(10):
        assert len(api_client.get(url).json()["results"]) == 26


# --- Schema and docs -----------------------------------------------------------------------------


def test_schema_is_openapi_3_and_describes_the_endpoints(api_client, low):
    response = _get(api_client, low, reverse("api-schema"))
    schema = yaml.safe_load(response.content)
    assert schema["openapi"].startswith("3.")
    for path in ("/api/accounts/", "/api/accounts/{id}/", "/api/accounts/{id}/ledger/", "/api/patients/",
                 "/api/patients/{id}/", "/api/practices/", "/api/practices/{id}/", "/api/auth/token/"):  # fmt: skip
        assert path in schema["paths"], path
    detail = schema["components"]["schemas"]["AccountDetail"]
    assert "past_due" in detail["required"]
    assert "patient_balance" not in detail.get("required", [])  # absent for the Low tier


def test_schema_validates_without_warnings(tmp_path):
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(tmp_path / "schema.yaml"))
    assert (tmp_path / "schema.yaml").read_text().startswith("openapi: 3.")


def test_docs_page_uses_our_own_static_files(api_client, low):
    response = _get(api_client, low, reverse("api-docs"))
    assert response.status_code == 200
    page = response.content.decode()
    assert "/static/drf_spectacular_sidecar/swagger-ui-dist/" in page
    assert "cdn" not in page.lower()


API_MODULES = [
    "accounts.serializers",
    "core.api",
    "payment_plans.api",
    "collections_app.queues.api",
    "collections_app.contacts.api",
    "collections_app.holds.api",
    "collections_app.correspondence.api",
    "collections_app.nightly.api",
]


@pytest.mark.parametrize("module_name", API_MODULES)
def test_every_serializer_field_has_a_field_group(module_name):
    """A field added without a group would fail closed at run time; catch it here first."""
    from importlib import import_module

    from core.api_support import FieldGroupSerializerMixin

    checked = 0
    for serializer_class in vars(import_module(module_name)).values():
        if isinstance(serializer_class, type) and issubclass(
            serializer_class, FieldGroupSerializerMixin
        ) and serializer_class is not FieldGroupSerializerMixin:  # fmt: skip
            for name in serializer_class().fields:
                serializer_class.field_group_of(name)
            checked += 1
    assert checked


@pytest.mark.parametrize("module_name", API_MODULES)
def test_every_output_serializer_filters_by_field_group(module_name):
    """The one style: an `XxxOutput` renders only the tier's field groups (the public token's aside)."""
    from importlib import import_module

    from core.api_support import FieldGroupSerializerMixin

    unfiltered = [
        name
        for name, value in vars(import_module(module_name)).items()
        if name.endswith("Output") and isinstance(value, type) and not issubclass(value, FieldGroupSerializerMixin)
    ]
    assert unfiltered == (["TokenOutput"] if module_name == "accounts.serializers" else [])


def test_serializer_without_a_user_refuses_to_render(account):
    from accounts.serializers import AccountListOutput

    with pytest.raises(Exception, match="needs the request or user"):
        AccountListOutput(account).data  # noqa: B018


def test_serializer_with_a_user_in_context_renders_that_tier(low, account):
    from accounts.serializers import AccountListOutput

    data = AccountListOutput(account, context={"user": low}).data
    assert "patient_balance" not in data and data["account_number"] == "N0001234"


@pytest.mark.parametrize("name", ["api-account-list", "api-patient-list"])
@pytest.mark.parametrize("parameter", ["q", "date_of_birth"])
def test_search_terms_in_a_url_are_refused_and_say_where_they_go(api_client, medium, account, name, parameter):
    """Names and dates of birth never travel in a URL (server logs, proxies, history)."""
    response = _get(api_client, medium, reverse(name), **{parameter: "Garcia"})
    assert response.status_code == 400
    assert reverse(SEARCH_OF_LIST[name]) in response.json()[parameter][0]
    assert not AuditEvent.objects.filter(action=AuditEvent.Action.SEARCH).exists()


def test_search_by_post_is_scoped_and_audited(api_client, medium, outsider, account):
    found = _search(api_client, medium, "api-account-list", q=account.account_number).json()
    assert [row["id"] for row in found["results"]] == [account.pk]
    assert AuditEvent.objects.filter(user=medium, action=AuditEvent.Action.SEARCH).exists()
    assert _search(api_client, outsider, "api-account-list", q=account.account_number).json()["results"] == []
