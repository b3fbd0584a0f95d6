"""Odd input to the API gets a 200 with no (or the right) results, or a 400 naming the field:
never a 500. The test client re-raises server errors, so a 500 fails these tests loudly."""

from datetime import date

import pytest
from django.urls import reverse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rest_framework.test import APIClient

from tests.factories import PatientAccountFactory, PatientFactory

pytestmark = pytest.mark.django_db

LONG = "x" * 10_000


@pytest.fixture
def rep(medium, account):
    client = APIClient()
    client.force_login(medium)
    return client


SEARCH = {"api-account-list": "api-account-search", "api-patient-list": "api-patient-search"}


def search(client, endpoint, body):
    """Search terms go in a POST body to the list's search endpoint, never in the URL."""
    return client.post(reverse(SEARCH[endpoint]), body, format="json")


def _assert_ok_or_field_error(response, field):
    assert response.status_code in (200, 400), response.content[:300]
    if response.status_code == 400:
        assert field in response.json(), response.json()
    return response


# --- Search text -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "q",
    [
        "'",
        '"',
        "'; DROP TABLE accounts_patientaccount; --",
        '" OR 1=1 --',
        "%",
        "_",
        "%%__",
        "\\",
        "\\%",
        "日本語",
        "😀",
        "Zoë",
        "<script>alert(1)</script>",
        "1970-02-30",
        "13/45/2020",
        "00/00/0000",
        "+1 (555) 000-0000 ext. 9",
        "9" * 99,
        "-",
        ",",
        ", ,",
        "x,",  # no fixture name starts with X
        ",x",
        "\u200b",
        "\ufeff",
    ],
)
@pytest.mark.parametrize("endpoint", ["api-account-list", "api-patient-list"])
def test_odd_search_text_finds_nothing_and_never_fails(rep, endpoint, q):
    response = _assert_ok_or_field_error(search(rep, endpoint, {"q": q}), "q")
    if response.status_code == 200:
        assert response.json()["results"] == []


@pytest.mark.parametrize("endpoint", ["api-account-list", "api-patient-list"])
def test_ten_thousand_characters_is_a_field_error(rep, endpoint):
    response = search(rep, endpoint, {"q": LONG})
    assert response.status_code == 400
    assert "no more than 100 characters" in response.json()["q"][0]


@pytest.mark.parametrize("endpoint", ["api-account-list", "api-patient-list"])
def test_nul_character_is_a_field_error(rep, endpoint):
    response = search(rep, endpoint, {"q": "Gar\x00cia"})
    assert response.status_code == 400
    assert "q" in response.json()


def test_apostrophe_names_are_found(medium, practice):
    account = PatientAccountFactory(
        practice=practice, patient=PatientFactory(practice=practice, first_name="Sean", last_name="O'Brien")
    )
    client = APIClient()
    client.force_login(medium)
    for q in ("O'Brien", "o'brien", "Sean O'Brien", "O'Brien, Sean"):
        data = search(client, "api-account-list", {"q": q}).json()
        assert [row["id"] for row in data["results"]] == [account.pk], q


def test_accented_names_are_found(medium, practice):
    account = PatientAccountFactory(
        practice=practice, patient=PatientFactory(practice=practice, first_name="Jürgen", last_name="Müller")
    )
    client = APIClient()
    client.force_login(medium)
    data = search(client, "api-account-list", {"q": "Müller"}).json()
    assert [row["id"] for row in data["results"]] == [account.pk]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(q=st.text(max_size=120))
def test_any_search_text_is_a_200_or_a_field_error(rep, q):
    _assert_ok_or_field_error(search(rep, "api-account-list", {"q": q}), "q")
    _assert_ok_or_field_error(search(rep, "api-patient-list", {"q": q}), "q")


# --- Typed filters -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value",
    ["1970-02-30", "1970-13-01", "17/05/1970", "not-a-date", "0000-00-00", "99999-01-01", "1970-05-17T00:00", LONG],
)
def test_bad_date_of_birth_is_a_field_error(rep, value):
    response = search(rep, "api-patient-list", {"date_of_birth": value})
    assert response.status_code == 400
    assert "date_of_birth" in response.json()


@pytest.mark.parametrize("value", ["0001-01-01", "9999-12-31", "2000-02-29"])
def test_unlikely_but_real_dates_of_birth_find_nobody(rep, value):
    response = search(rep, "api-patient-list", {"date_of_birth": value})
    assert response.status_code == 200
    assert response.json()["count"] == 0


def test_date_of_birth_filter_finds_the_patient(rep, account):
    assert account.patient.date_of_birth == date(1970, 5, 17)
    data = search(rep, "api-patient-list", {"date_of_birth": "1970-05-17"}).json()
    assert [row["id"] for row in data["results"]] == [account.patient_id]


@pytest.mark.parametrize(
    "value", ["abc", "-1", "0", "1.5", "1e3", "99999999999999999999", "0x1", LONG, "'1'", "1 OR 1=1"]
)
@pytest.mark.parametrize("endpoint", ["api-account-list", "api-patient-list"])
def test_bad_practice_is_a_field_error(rep, endpoint, value):
    response = rep.get(reverse(endpoint), {"practice": value})
    assert response.status_code == 400
    assert "practice" in response.json()


@pytest.mark.parametrize(
    "value", ["abc", "NaN", "Infinity", "-Infinity", "1e999", "12.345", "10000000000000", "$10", "1,000.00", LONG]
)
def test_bad_min_patient_balance_is_a_field_error(rep, value):
    response = rep.get(reverse("api-account-list"), {"min_patient_balance": value})
    assert response.status_code == 400
    assert "min_patient_balance" in response.json()


@pytest.mark.parametrize(("value", "count"), [("-5", 1), ("0", 1), ("0.01", 1), ("200.00", 1), ("200.01", 0)])
def test_min_patient_balance_edges(rep, value, count):
    response = rep.get(reverse("api-account-list"), {"min_patient_balance": value})
    assert response.status_code == 200
    assert response.json()["count"] == count


@pytest.mark.parametrize("value", ["bogus", "ACTIVE", "'active'", LONG, "hold;"])
def test_bad_status_is_a_field_error(rep, value):
    response = rep.get(reverse("api-account-list"), {"status": value})
    assert response.status_code == 400
    assert "status" in response.json()


@pytest.mark.parametrize(
    "value", ["patient__ssn", "password", "-", "name,account_number", "?", "id; DROP TABLE x", LONG, "--name"]
)
def test_unknown_ordering_is_a_field_error(rep, value):
    response = rep.get(reverse("api-account-list"), {"ordering": value})
    assert response.status_code == 400
    assert "ordering" in response.json()


@pytest.mark.parametrize("name", ["q", "practice", "date_of_birth", "min_patient_balance", "status", "ordering"])
@pytest.mark.parametrize("blank", ["", "   ", "\t\n"])
def test_blank_filters_count_as_not_given(rep, account, name, blank):
    """As an HTML form sends them: an empty field is no filter; blank search text searches nothing."""
    endpoint = "api-patient-list" if name == "date_of_birth" else "api-account-list"
    if name in ("q", "date_of_birth"):  # search terms: in a POST body
        response = search(rep, endpoint, {name: blank})
    else:
        response = rep.get(reverse(endpoint), {name: blank})
    if name == "date_of_birth" and response.status_code == 400:
        _assert_ok_or_field_error(response, name)
    elif blank == "" or name == "q":
        assert response.status_code == 200
        assert response.json()["count"] == 1
    else:  # whitespace in a typed field: either read as empty or refused by name
        _assert_ok_or_field_error(response, name)


def test_unknown_query_parameters_are_ignored(rep, account):
    response = rep.get(reverse("api-account-list"), {"colour": "blue", "patient__ssn": "123-45-6789"})
    assert response.status_code == 200
    assert response.json()["count"] == 1


def test_repeated_parameters_use_the_last_value(rep, account):
    response = rep.get(reverse("api-account-list") + f"?practice=999999&practice={account.practice_id}")
    assert response.status_code == 200
    assert response.json()["count"] == 1


# --- Paging ------------------------------------------------------------------------------------

PAGED = ["api-account-list", "api-patient-list", "api-practice-list", "api-account-ledger"]


def _paged_url(endpoint, account):
    return reverse(endpoint, args=[account.pk]) if endpoint == "api-account-ledger" else reverse(endpoint)


@pytest.mark.parametrize("value", ["0", "-1", "-999", "abc", "1.5", "", "1e3", "99999999999", " 1", LONG])
@pytest.mark.parametrize("name", ["page", "page_size"])
@pytest.mark.parametrize("endpoint", PAGED)
def test_bad_page_numbers_are_field_errors(rep, account, endpoint, name, value):
    response = rep.get(_paged_url(endpoint, account), {name: value})
    assert response.status_code == 400
    assert name in response.json()


@pytest.mark.parametrize("endpoint", PAGED)
def test_a_page_past_the_end_is_not_found(rep, account, endpoint):
    response = rep.get(_paged_url(endpoint, account), {"page": "9999"})
    assert response.status_code == 404


@pytest.mark.parametrize("endpoint", PAGED)
def test_a_huge_page_size_is_capped(rep, account, endpoint):
    response = rep.get(_paged_url(endpoint, account), {"page_size": "1000000"})
    assert response.status_code == 200
    assert len(response.json()["results"]) <= 200


def test_page_size_is_honoured(rep, practice):
    for _ in range(4):
        PatientAccountFactory(practice=practice)
    data = rep.get(reverse("api-account-list"), {"page_size": "2", "page": "2"}).json()
    assert data["count"] == 5 and len(data["results"]) == 2 and data["previous"]


# --- Ids in the path ---------------------------------------------------------------------------


@pytest.mark.parametrize("pk", ["0", "999999999", "9223372036854775807", "99999999999999999999999"])
@pytest.mark.parametrize(
    "endpoint", ["api-account-detail", "api-account-ledger", "api-patient-detail", "api-practice-detail"]
)
def test_ids_that_match_nothing_are_not_found(rep, endpoint, pk):
    url = reverse(endpoint, args=[1]).replace("/1/", f"/{pk}/")
    response = rep.get(url)
    assert response.status_code == 404


@pytest.mark.parametrize(
    "path", ["/api/accounts/-1/", "/api/accounts/abc/", "/api/accounts/1.5/", "/api/accounts/%00/"]
)
def test_ids_that_are_not_numbers_are_not_found(rep, path):
    assert rep.get(path).status_code == 404


# --- Token endpoint ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"username": "medium"},
        {"password": "x"},
        {"username": "", "password": ""},
        {"username": LONG, "password": "x"},
        {"username": "medium", "password": "x" * 5000},
        {"username": "me\x00dium", "password": "x"},
        {"username": ["medium"], "password": {"a": 1}},
        {"username": "日本語", "password": "😀"},
        {"username": "' OR 1=1 --", "password": "' OR 1=1 --"},
    ],
)
def test_odd_token_requests_are_refused_with_a_400(medium, body):
    response = APIClient().post(reverse("api-token"), body, format="json")
    assert response.status_code == 400
    assert "token" not in response.json()


def test_malformed_json_is_a_400():
    response = APIClient().post(reverse("api-token"), "{not json", content_type="application/json")
    assert response.status_code == 400


def test_token_endpoint_only_accepts_post():
    assert APIClient().get(reverse("api-token")).status_code == 405
