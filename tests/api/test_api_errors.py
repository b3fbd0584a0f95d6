"""Errors under /api/: JSON in one of two shapes (Error, FieldErrors), and every operation of the
schema has a summary and documents its error responses with those components."""

import pytest
from django.urls import reverse
from drf_spectacular.generators import SchemaGenerator
from rest_framework.test import APIClient

pytestmark = pytest.mark.django_db

ERROR = "#/components/schemas/Error"
FIELD_ERRORS = "#/components/schemas/FieldErrors"


@pytest.fixture(scope="module")
def schema():
    return SchemaGenerator().get_schema(request=None, public=True)


def _operations(schema):
    for path, methods in schema["paths"].items():
        for method, operation in methods.items():
            yield f"{method.upper()} {path}", operation


def _client(user=None):
    client = APIClient()
    if user is not None:
        client.force_authenticate(user)
    return client


def _schema_of(response):
    return response["content"]["application/json"]["schema"]["$ref"]


def test_every_operation_has_a_summary(schema):
    missing = [name for name, operation in _operations(schema) if not operation.get("summary")]
    assert missing == []


def test_every_operation_documents_its_errors_with_the_shared_components(schema):
    for name, operation in _operations(schema):
        responses = operation["responses"]
        public = operation.get("security") in (None, [], [{}])
        expected = {"429"} if public else {"401", "403", "404", "429"}
        assert expected <= set(responses), name
        for code in expected:
            assert _schema_of(responses[code]) == ERROR, (name, code)
            assert responses[code]["description"], (name, code)
        takes_input = operation.get("requestBody") or any(p["in"] == "query" for p in operation.get("parameters", []))
        if takes_input:
            assert _schema_of(responses["400"]) == FIELD_ERRORS, name


def test_the_error_components_say_what_they_hold(schema):
    components = schema["components"]["schemas"]
    assert components["Error"]["required"] == ["detail"]
    assert components["FieldErrors"]["properties"]["non_field_errors"]["type"] == "array"


def test_an_unknown_api_url_is_a_json_404(medium):
    response = _client(medium).get("/api/no-such-thing/")
    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert "schema" in response.json()["detail"]


def test_an_unknown_page_url_keeps_the_html_404(client, medium):
    client.force_login(medium)
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")


def test_a_record_of_another_practice_is_a_json_404(outsider, account):
    response = _client(outsider).get(reverse("api-account-detail", args=[account.pk]))
    assert response.status_code == 404
    assert response.json() == {"detail": "No such record in your practices."}


@pytest.mark.parametrize("page", ["0", "abc", "-3"])
def test_a_bad_page_number_is_a_400_naming_the_field(medium, page):
    response = _client(medium).get(reverse("api-account-list"), {"page": page})
    assert response.status_code == 400
    assert list(response.json()) == ["page"]


def test_an_unreadable_body_is_a_400_in_the_field_errors_shape(medium, account):
    response = _client(medium).generic(
        "POST", reverse("api-account-notes", args=[account.pk]), "{not json", content_type="application/json"
    )
    assert response.status_code == 400
    assert "detail" in response.json()


def test_no_credentials_is_a_json_401(db):
    response = _client().get(reverse("api-account-list"))
    assert response.status_code == 401
    assert set(response.json()) == {"detail"}


def test_a_tier_too_low_is_a_json_403(low, account):
    response = _client(low).get(reverse("api-account-ledger", args=[account.pk]))
    assert response.status_code == 403
    assert set(response.json()) == {"detail"}


def test_a_validation_error_without_a_field_is_under_non_field_errors():
    from rest_framework import exceptions

    from core.api_support import exception_handler

    response = exception_handler(exceptions.ValidationError("Nothing to do."), {})
    assert response.status_code == 400
    assert response.data == {"non_field_errors": ["Nothing to do."]}


@pytest.mark.parametrize("tier", ["low", "medium", "manager", "director"])
def test_the_api_docs_are_linked_from_the_navigation_for_every_tier(client, request, tier):
    client.force_login(request.getfixturevalue(tier))
    page = client.get(reverse("home")).content.decode()
    assert f'href="{reverse("api-docs")}"' in page


def test_the_api_docs_link_is_not_shown_signed_out(client):
    page = client.get(reverse("login")).content.decode()
    assert reverse("api-docs") not in page


def test_a_nul_byte_in_the_query_string_is_a_json_400_naming_the_parameter(medium):
    response = _client(medium).get(reverse("api-account-list"), {"page_size": "2\x00"})
    assert response.status_code == 400
    assert response["Content-Type"] == "application/json"
    assert list(response.json()) == ["page_size"]
