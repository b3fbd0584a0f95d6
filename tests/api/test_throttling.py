"""Throttling: API_REQUESTS_PER_MINUTE per user over all their tokens, then 429 with Retry-After and
a JSON body. The test settings set a rate no test reaches; these tests set a low one."""

import pytest
from django.core.cache import cache
from django.urls import reverse
from rest_framework.test import APIClient

from core.services import api_token_issue
from core.throttling import ApiUserThrottle

pytestmark = pytest.mark.django_db


@pytest.fixture
def low_rate(settings, personas):
    settings.API_REQUESTS_PER_MINUTE = 3
    keys = [ApiUserThrottle.cache_format % {"scope": "user", "ident": user.pk} for user in personas.values()]
    cache.delete_many(keys)  # counts left by earlier tests on a shared cache
    yield
    cache.delete_many(keys)


def _with_token(user):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {api_token_issue(user=user, name='script')[1]}")
    return client


def test_past_the_rate_the_api_answers_429_with_retry_after_and_a_json_body(low_rate, medium):
    client = _with_token(medium)
    url = reverse("api-practice-list")
    assert [client.get(url).status_code for _ in range(3)] == [200, 200, 200]
    response = client.get(url)
    assert response.status_code == 429
    assert response["Content-Type"] == "application/json"
    assert 0 < int(response["Retry-After"]) <= 60
    assert "throttled" in response.json()["detail"].lower()


def test_a_second_token_buys_no_second_allowance(low_rate, medium):
    first, second = _with_token(medium), _with_token(medium)
    url = reverse("api-practice-list")
    for _ in range(3):
        assert first.get(url).status_code == 200
    assert second.get(url).status_code == 429


def test_one_users_requests_do_not_throttle_another(low_rate, medium, low):
    url = reverse("api-practice-list")
    busy = _with_token(medium)
    for _ in range(4):
        busy.get(url)
    assert _with_token(low).get(url).status_code == 200


def test_the_test_settings_never_throttle(settings):
    assert settings.API_REQUESTS_PER_MINUTE >= 100_000


def test_the_default_rate_is_600_a_minute():
    from config.settings import base

    assert base.API_REQUESTS_PER_MINUTE == 600
