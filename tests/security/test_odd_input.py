"""Odd input never gets a 500: it is a 400 with a message, or an empty answer."""

import pytest
from django.urls import reverse

ODD_PAGES = ["²", "³", "١٢", "0", "-3", "abc", "9" * 10_000, "1e3", " 1", "1\x00"]
PAGINATED_APIS = ["api-practice-list", "api-patient-list", "api-account-list", "api-job-runs", "api-queue"]


@pytest.mark.parametrize("raw", ODD_PAGES)
@pytest.mark.parametrize("name", PAGINATED_APIS)
@pytest.mark.parametrize("parameter", ["page", "page_size"])
def test_odd_page_numbers_on_every_paginated_endpoint_are_a_400_not_a_500(client, director, name, raw, parameter):
    client.force_login(director)
    response = client.get(reverse(name), {parameter: raw})
    assert response.status_code in (200, 400, 404), (name, raw, response.status_code)
    if response.status_code == 400 and response["Content-Type"].startswith("application/json"):
        assert parameter in response.json()  # a NUL byte is refused before the API, as plain text


@pytest.mark.parametrize("raw", ODD_PAGES)
@pytest.mark.parametrize("path", ["/queue/", "/audit/", "/jobs/"])
def test_odd_page_numbers_on_pages_are_never_a_500(client, director, raw, path):
    client.force_login(director)
    assert client.get(path, {"page": raw}).status_code in (200, 400, 404)


@pytest.mark.parametrize("length", [151, 256, 5000])
def test_a_very_long_username_at_sign_in_is_refused_not_a_500(client, db, length):
    response = client.post(reverse("login"), {"username": "u" * length, "password": "whatever-it-is"})
    assert response.status_code in (200, 400)
    response = client.post(
        reverse("api-token"), {"username": "u" * length, "password": "x"}, content_type="application/json"
    )
    assert response.status_code == 400


@pytest.mark.parametrize("value", ["%00", "\x00", "a\x00b"])
def test_a_nul_byte_in_admin_list_filters_is_not_a_500(client, director, value):
    client.force_login(director)
    response = client.get("/admin/accounts/practice/", {"state": value})
    assert response.status_code < 500


def test_a_nul_byte_in_any_query_string_is_a_400(client, director):
    client.force_login(director)
    response = client.get("/queue/", {"page": "1\x00"})
    assert response.status_code == 400 and "NUL" in response.content.decode()
