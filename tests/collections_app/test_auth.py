"""Signing in: lockout after repeated failures (django-axes) and the idle session timeout."""

import time

import pytest
from django.conf import settings
from django.core.cache import cache
from django.test import override_settings
from django.urls import reverse

from core.middleware import LAST_ACTIVITY_KEY
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db


def _sign_in(client, username, password):
    return client.post("/login/", {"username": username, "password": password})


def _signed_in(client) -> bool:
    return "_auth_user_id" in client.session


def test_correct_password_signs_in(client, medium):
    response = _sign_in(client, "medium", PASSWORD)
    assert response.status_code == 302
    assert _signed_in(client)


def test_wrong_password_is_refused_without_saying_which_part_was_wrong(client, medium):
    response = _sign_in(client, "medium", "not-the-password")
    assert response.status_code == 200
    assert not _signed_in(client)
    assert b"Please enter a correct username and password" in response.content


@override_settings(AXES_FAILURE_LIMIT=3)
def test_login_is_locked_after_the_failure_limit_even_with_the_right_password(client, medium):
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        assert _sign_in(client, "medium", "not-the-password").status_code == 200
    locked = _sign_in(client, "medium", "not-the-password")
    assert locked.status_code == 429
    assert b"Account locked" in locked.content

    response = _sign_in(client, "medium", PASSWORD)
    assert response.status_code == 429
    assert not _signed_in(client)


def test_default_failure_limit_locks_after_five_failures(client, medium):
    assert settings.AXES_FAILURE_LIMIT == 5  # LOGIN_FAILURE_LIMIT unset
    statuses = [_sign_in(client, "medium", "not-the-password").status_code for _ in range(5)]
    assert statuses == [200, 200, 200, 200, 429]
    assert _sign_in(client, "medium", PASSWORD).status_code == 429


@override_settings(AXES_FAILURE_LIMIT=3)
def test_lockout_of_one_username_leaves_others_able_to_sign_in(client, medium, low):
    for _ in range(3):
        _sign_in(client, "medium", "not-the-password")
    response = _sign_in(client, "low", PASSWORD)
    assert response.status_code == 302
    assert _signed_in(client)


def _set_last_activity(client, seconds_ago: int) -> None:
    """The last request, `seconds_ago` (in the session and in the cache, where every request writes it)."""
    session = client.session
    session[LAST_ACTIVITY_KEY] = int(time.time()) - seconds_ago
    session.save()
    cache.set(f"last-activity:{session.session_key}", int(time.time()) - seconds_ago)


def test_idle_session_ends_and_next_request_goes_to_login_with_timeout_notice(client, medium):
    client.force_login(medium)
    assert client.get("/").status_code == 200
    _set_last_activity(client, 20 * 60)

    response = client.get("/")
    assert response.status_code == 302
    assert response["Location"] == "/login/?timeout=1"
    assert not _signed_in(client)
    # And the session really ended: the next request is an ordinary login redirect.
    assert client.get("/").status_code == 302


def test_session_active_within_the_idle_limit_stays_signed_in(client, medium):
    client.force_login(medium)
    client.get("/")
    _set_last_activity(client, 10 * 60)
    assert client.get("/").status_code == 200
    assert _signed_in(client)


@override_settings(SESSION_IDLE_TIMEOUT_SECONDS=120)
def test_idle_limit_is_configurable(client, medium):
    client.force_login(medium)
    client.get("/")
    _set_last_activity(client, 5 * 60)
    assert client.get("/")["Location"] == "/login/?timeout=1"


def test_timed_out_login_page_explains_why(client, db):
    response = client.get("/login/?timeout=1")
    assert response.status_code == 200
    assert response.context["timed_out"] is True


def test_failures_from_outside_do_not_lock_the_user_out_of_the_office(client, medium, settings):
    """The lockout is by username and client address together: an attacker elsewhere locks only
    themselves out."""
    settings.AXES_FAILURE_LIMIT = 3
    for _ in range(3):
        client.post(reverse("login"), {"username": "medium", "password": "wrong-guess"}, REMOTE_ADDR="203.0.113.9")
    refused = client.post(reverse("login"), {"username": "medium", "password": PASSWORD}, REMOTE_ADDR="203.0.113.9")
    assert refused.status_code == 429  # the right password, from the address that kept guessing
    client.logout()
    office = client.post(reverse("login"), {"username": "medium", "password": PASSWORD}, REMOTE_ADDR="10.0.0.12")
    assert office.status_code == 302 and client.session.get("_auth_user_id") == str(medium.pk)


def test_behind_a_proxy_the_lockout_follows_the_address_the_proxy_saw(client, medium, settings):
    """With one trusted proxy, the address comes from the right end of X-Forwarded-For: an attacker
    who rotates the header's left part stays one address, and the office behind the same proxy
    still signs in."""
    settings.AXES_FAILURE_LIMIT = 3
    settings.TRUSTED_PROXY_COUNT = 1
    proxy = {"REMOTE_ADDR": "10.0.0.2"}
    for forged in ("1.1.1.1", "2.2.2.2", "3.3.3.3"):
        client.post(
            reverse("login"),
            {"username": "medium", "password": "wrong-guess"},
            HTTP_X_FORWARDED_FOR=f"{forged}, 203.0.113.9",
            **proxy,
        )
    refused = client.post(
        reverse("login"),
        {"username": "medium", "password": PASSWORD},
        HTTP_X_FORWARDED_FOR="4.4.4.4, 203.0.113.9",
        **proxy,
    )
    assert refused.status_code == 429
    office = client.post(
        reverse("login"), {"username": "medium", "password": PASSWORD}, HTTP_X_FORWARDED_FOR="198.51.100.7", **proxy
    )
    assert office.status_code == 302 and client.session.get("_auth_user_id") == str(medium.pk)


def test_without_a_trusted_proxy_a_forwarded_header_is_ignored(client, medium, settings):
    settings.AXES_FAILURE_LIMIT = 3
    for forged in ("1.1.1.1", "2.2.2.2", "3.3.3.3"):
        client.post(
            reverse("login"),
            {"username": "medium", "password": "wrong-guess"},
            HTTP_X_FORWARDED_FOR=forged,
            REMOTE_ADDR="203.0.113.9",
        )
    refused = client.post(
        reverse("login"),
        {"username": "medium", "password": PASSWORD},
        HTTP_X_FORWARDED_FOR="5.5.5.5",
        REMOTE_ADDR="203.0.113.9",
    )
    assert refused.status_code == 429


@override_settings(SESSION_IDLE_TIMEOUT_SECONDS=120)
def test_the_idle_limit_counts_from_the_last_request_to_the_second(client, medium):
    """A request 50 s after the last stamp renews it: 119 s after that request the session still
    lives (a once-a-minute stamp would have ended it early), at 121 s it ends."""
    client.force_login(medium)
    client.get("/")
    _set_last_activity(client, 50)
    assert client.get("/").status_code == 200
    assert abs(cache.get(f"last-activity:{client.session.session_key}") - int(time.time())) <= 1
    _set_last_activity(client, 119)
    assert client.get("/").status_code == 200
    _set_last_activity(client, 121)
    assert client.get("/")["Location"] == "/login/?timeout=1"
