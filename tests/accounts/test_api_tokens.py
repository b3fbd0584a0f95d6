"""API tokens: a lifetime, several per user with names, revocation by the user, by a Director and by a
password change or deactivation, only a hash stored, and an audit row for each issue, revocation
and refusal with no key in it."""

import hashlib
import json
import logging
from datetime import timedelta

import pytest
from django.contrib.admin import helpers
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from collections_app import services as staff_services
from core import auth
from core.models import ApiToken, AuditEvent, StaffUser
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "window-lantern-4471"
LISTED_FIELDS = {"id", "name", "created_at", "expires_at", "last_used_at", "revoked_at", "revoke_reason", "current"}


def _issue(username, name="", password=PASSWORD):
    response = APIClient().post(
        reverse("api-token"), {"username": username, "password": password, "name": name}, format="json"
    )
    assert response.status_code == 200, response.content
    return response.json()


def _with_token(key):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client


def _works(key) -> bool:
    response = _with_token(key).get(reverse("api-practice-list"))
    assert response.status_code in (200, 401), response.status_code
    return response.status_code == 200


def _refusal(key) -> str:
    response = _with_token(key).get(reverse("api-practice-list"))
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Token"
    return response.json()["detail"]


def _revoke_url(token_id):
    return reverse("api-token-revoke", args=[token_id])


@pytest.fixture
def clock(monkeypatch):
    """Move time forward without sleeping: `clock(hours=8)` is eight hours after the fixture started."""
    start = timezone.now()

    def move(**delta):
        monkeypatch.setattr(timezone, "now", lambda: start + timedelta(**delta))

    return move


# --- Issue -----------------------------------------------------------------------------------------


def test_a_token_opens_the_api_and_says_when_it_expires(medium, practice, settings):
    before = timezone.now()
    response = APIClient().post(
        reverse("api-token"), {"username": "medium", "password": PASSWORD, "name": "statement-export"}, format="json"
    )
    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"
    issued = response.json()
    assert set(issued) == {"token", "id", "name", "expires_at"}
    assert issued["name"] == "statement-export"
    token = ApiToken.objects.get(pk=issued["id"])
    assert token.user == medium
    lifetime = timedelta(hours=settings.API_TOKEN_LIFETIME_HOURS)
    assert before + lifetime <= token.expires_at <= timezone.now() + lifetime
    assert _works(issued["token"])


def test_the_lifetime_is_a_setting(medium, settings):
    settings.API_TOKEN_LIFETIME_HOURS = 2
    token = ApiToken.objects.get(pk=_issue("medium")["id"])
    assert token.expires_at - token.created_at == timedelta(hours=2)


def test_the_default_lifetime_is_one_shift(settings):
    assert settings.API_TOKEN_LIFETIME_HOURS == 8


def test_only_the_hash_of_the_key_is_stored(medium):
    issued = _issue("medium")
    row = ApiToken.objects.filter(pk=issued["id"]).values().get()
    assert row["key_hash"] == hashlib.sha256(issued["token"].encode()).hexdigest()
    assert issued["token"] not in json.dumps(row, default=str)


def test_each_user_may_hold_several_named_tokens(medium, practice):
    laptop = _issue("medium", "laptop")
    export = _issue("medium", "statement-export")
    assert laptop["token"] != export["token"]
    assert _works(laptop["token"]) and _works(export["token"])
    listed = _with_token(laptop["token"]).get(reverse("api-token-list")).json()["results"]
    assert [(t["name"], t["current"]) for t in listed] == [("statement-export", False), ("laptop", True)]


def test_a_token_name_longer_than_100_characters_is_refused(medium):
    response = APIClient().post(
        reverse("api-token"), {"username": "medium", "password": PASSWORD, "name": "x" * 101}, format="json"
    )
    assert response.status_code == 400
    assert set(response.json()) == {"name"}
    assert not ApiToken.objects.exists()


# --- Lifetime --------------------------------------------------------------------------------------


def test_a_token_stops_working_after_its_lifetime(medium, settings, clock):
    key = _issue("medium", "nightly-sync")["token"]
    clock(hours=settings.API_TOKEN_LIFETIME_HOURS, minutes=-1)
    assert _works(key)
    clock(hours=settings.API_TOKEN_LIFETIME_HOURS, seconds=1)
    assert _refusal(key) == auth.MESSAGE_EXPIRED
    refused = AuditEvent.objects.get(action=AuditEvent.Action.TOKEN_REFUSED)
    assert (refused.user, refused.detail) == (medium, {"name": "nightly-sync", "reason": "expired"})
    # An expired token is no longer listed.
    session = APIClient()
    session.force_login(medium)
    assert session.get(reverse("api-token-list")).json()["results"] == []


def test_an_unknown_key_is_refused_without_an_audit_row(db):
    assert _refusal("not-a-key-we-issued") == auth.MESSAGE_INVALID
    assert _refusal("x" * 5000) == auth.MESSAGE_INVALID
    assert not AuditEvent.objects.exists()


# --- Revoked by the user ---------------------------------------------------------------------------


def test_a_user_revokes_one_of_their_tokens_and_it_is_refused(medium):
    laptop = _issue("medium", "laptop")
    export = _issue("medium", "statement-export")
    client = _with_token(laptop["token"])
    response = client.post(_revoke_url(export["id"]))
    assert response.status_code == 200
    assert response.json()["revoke_reason"] == "owner" and response.json()["revoked_at"]
    assert _refusal(export["token"]) == auth.MESSAGE_REVOKED
    assert _works(laptop["token"])
    assert [t["name"] for t in client.get(reverse("api-token-list")).json()["results"]] == ["laptop"]
    revoked = AuditEvent.objects.get(action=AuditEvent.Action.TOKEN_REVOKED)
    assert (revoked.user, revoked.object_id, revoked.detail["reason"]) == (medium, str(export["id"]), "owner")


def test_revoking_twice_changes_nothing_the_second_time(medium):
    export = _issue("medium", "statement-export")
    session = APIClient()
    session.force_login(medium)
    first = session.post(_revoke_url(export["id"])).json()
    second = session.post(_revoke_url(export["id"])).json()
    assert first["revoked_at"] == second["revoked_at"]
    assert AuditEvent.objects.filter(action=AuditEvent.Action.TOKEN_REVOKED).count() == 1


def test_a_token_may_revoke_itself(medium):
    laptop = _issue("medium", "laptop")
    client = _with_token(laptop["token"])
    assert client.post(_revoke_url(laptop["id"])).json()["current"] is True
    assert _refusal(laptop["token"]) == auth.MESSAGE_REVOKED


def test_another_user_cannot_revoke_or_see_someone_elses_token(medium, outsider, director):
    mine = _issue("medium", "laptop")
    for other in (outsider, director):  # a Director too: Directors revoke others' tokens in the admin
        client = _with_token(_issue(other.username, "theirs")["token"])
        assert client.post(_revoke_url(mine["id"])).status_code == 404
        assert [t["name"] for t in client.get(reverse("api-token-list")).json()["results"]] == ["theirs"]
    assert _works(mine["token"])
    assert not AuditEvent.objects.filter(action=AuditEvent.Action.TOKEN_REVOKED).exists()


def test_the_token_endpoints_are_for_any_signed_in_staff_and_nobody_else(low, medium):
    token = _issue("medium")
    anonymous = APIClient()
    assert anonymous.get(reverse("api-token-list")).status_code == 401
    assert anonymous.post(_revoke_url(token["id"])).status_code == 401
    session = APIClient()
    session.force_login(low)  # the browser keeps its session
    assert session.get(reverse("api-token-list")).status_code == 200
    assert session.post(_revoke_url(token["id"])).status_code == 404


def test_the_list_never_shows_a_key_or_its_hash(medium):
    issued = [_issue("medium", "laptop"), _issue("medium", "statement-export")]
    response = _with_token(issued[0]["token"]).get(reverse("api-token-list"))
    body = response.content.decode()
    assert all(set(row) == LISTED_FIELDS for row in response.json()["results"])
    for token in issued:
        assert token["token"] not in body
        assert hashlib.sha256(token["token"].encode()).hexdigest() not in body


def test_last_used_is_written_at_most_once_a_minute(medium, clock):
    key = _issue("medium")["token"]
    client = _with_token(key)

    def token_updates():
        with CaptureQueriesContext(connection) as queries:
            assert client.get(reverse("api-token-list")).status_code == 200
        return sum(1 for q in queries if q["sql"].startswith("UPDATE") and "core_apitoken" in q["sql"])

    assert token_updates() == 1
    first_use = ApiToken.objects.get().last_used_at
    assert first_use is not None
    clock(seconds=30)
    assert token_updates() == 0
    clock(seconds=61)
    assert token_updates() == 1
    assert ApiToken.objects.get().last_used_at > first_use


# --- Revoked by a Director in the admin ------------------------------------------------------------


def test_a_director_lists_every_token_in_the_admin_without_keys(client, director, medium, low):
    issued = [_issue("medium", "statement-export"), _issue("low", "front-desk-kiosk")]
    client.force_login(director)
    response = client.get(reverse("admin:core_apitoken_changelist"))
    assert response.status_code == 200
    page = response.content.decode()
    for heading in ("User", "Name", "Issued", "Expires", "Last used", "Revoked", "State"):
        assert heading in page
    assert "statement-export" in page and "front-desk-kiosk" in page
    for token in issued:
        assert token["token"] not in page
        assert hashlib.sha256(token["token"].encode()).hexdigest() not in page
    detail = client.get(reverse("admin:core_apitoken_change", args=[issued[0]["id"]])).content.decode()
    assert hashlib.sha256(issued[0]["token"].encode()).hexdigest() not in detail


def test_a_director_revokes_a_token_in_the_admin_and_it_is_refused(client, director, medium):
    export = _issue("medium", "statement-export")
    laptop = _issue("medium", "laptop")
    client.force_login(director)
    response = client.post(
        reverse("admin:core_apitoken_changelist"),
        {"action": "revoke", helpers.ACTION_CHECKBOX_NAME: [export["id"]]},
    )
    assert response.status_code == 302
    assert _refusal(export["token"]) == auth.MESSAGE_REVOKED
    assert _works(laptop["token"])
    token = ApiToken.objects.get(pk=export["id"])
    assert (token.revoked_by, token.revoke_reason) == (director, ApiToken.RevokeReason.DIRECTOR)
    revoked = AuditEvent.objects.get(action=AuditEvent.Action.TOKEN_REVOKED)
    assert (revoked.user, revoked.detail["reason"], revoked.detail["token_user"]) == (director, "director", medium.pk)


def test_tokens_cannot_be_added_edited_or_deleted_in_the_admin(client, director, medium):
    token = _issue("medium")
    client.force_login(director)
    assert client.get(reverse("admin:core_apitoken_add")).status_code == 403
    assert client.get(reverse("admin:core_apitoken_delete", args=[token["id"]])).status_code == 403
    far = (timezone.now() + timedelta(days=365)).strftime("%Y-%m-%d %H:%M:%S")
    client.post(reverse("admin:core_apitoken_change", args=[token["id"]]), {"expires_at": far})
    assert ApiToken.objects.get(pk=token["id"]).expires_at < timezone.now() + timedelta(days=1)


def test_the_token_admin_is_for_directors_only(client, manager, medium):
    export = _issue("medium")
    client.force_login(manager)
    assert client.get(reverse("admin:core_apitoken_changelist")).status_code == 403
    response = client.post(
        reverse("admin:core_apitoken_changelist"), {"action": "revoke", helpers.ACTION_CHECKBOX_NAME: [export["id"]]}
    )
    assert response.status_code == 403
    assert _works(export["token"])


# --- Password change and deactivation --------------------------------------------------------------


def test_a_password_change_revokes_all_of_the_users_tokens(medium, low):
    keys = [_issue("medium", "laptop")["token"], _issue("medium", "statement-export")["token"]]
    others = _issue("low", "kiosk")["token"]
    user = StaffUser.objects.get(pk=medium.pk)
    user.set_password(NEW_PASSWORD)
    user.save()
    assert [_refusal(key) for key in keys] == [auth.MESSAGE_REVOKED] * 2
    assert _works(others)
    assert set(ApiToken.objects.filter(user=medium).values_list("revoke_reason", flat=True)) == {"password_changed"}
    rows = AuditEvent.objects.filter(action=AuditEvent.Action.TOKEN_REVOKED)
    assert [(r.user, r.username, r.detail["reason"]) for r in rows] == [(None, "(automatic)", "password_changed")] * 2
    # The new password gets a new token that works.
    assert _works(_issue("medium", password=NEW_PASSWORD)["token"])


def test_a_director_resetting_a_password_in_the_admin_revokes_the_tokens(client, director, medium):
    key = _issue("medium", "laptop")["token"]
    client.force_login(director)
    response = client.post(
        reverse("admin:auth_user_password_change", args=[medium.pk]),
        {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD, "usable_password": "true"},
    )
    assert response.status_code == 302
    assert _refusal(key) == auth.MESSAGE_REVOKED


def test_signing_in_again_does_not_revoke_the_users_other_tokens(medium):
    first = _issue("medium", "laptop")["token"]
    _issue("medium", "desktop")  # a sign-in saves last_login
    assert _works(first)


def test_deactivation_revokes_all_of_the_users_tokens(director, medium):
    key = _issue("medium", "laptop")["token"]
    staff_services.staff_set_active(acting_user=director, staff_user=medium, is_active=False)
    assert _refusal(key) == auth.MESSAGE_REVOKED
    assert ApiToken.objects.get().revoke_reason == ApiToken.RevokeReason.DEACTIVATED
    assert AuditEvent.objects.filter(action=AuditEvent.Action.TOKEN_REVOKED, detail__reason="deactivated").exists()


def test_a_user_deactivated_behind_the_models_back_is_refused_too(medium):
    key = _issue("medium", "laptop")["token"]
    StaffUser.objects.filter(pk=medium.pk).update(is_active=False)  # no signal
    assert _refusal(key) == auth.MESSAGE_INACTIVE
    assert AuditEvent.objects.filter(action=AuditEvent.Action.TOKEN_REFUSED, detail__reason="user_inactive").exists()


# --- The audit trail holds no key --------------------------------------------------------------------


def test_issue_revoke_and_refusal_are_audited_with_no_key_in_rows_or_logs(medium, director, caplog, clock):
    caplog.set_level(logging.DEBUG)
    issued = [_issue("medium", "laptop"), _issue("medium", "statement-export"), _issue("medium", "old")]
    session = APIClient()
    session.force_login(medium)
    session.post(_revoke_url(issued[0]["id"]))
    _refusal(issued[0]["token"])
    clock(hours=24)
    _refusal(issued[2]["token"])
    actions = list(
        AuditEvent.objects.filter(action__startswith="token_").order_by("id").values_list("action", "object_id")
    )
    assert actions == [
        ("token_issued", str(issued[0]["id"])),
        ("token_issued", str(issued[1]["id"])),
        ("token_issued", str(issued[2]["id"])),
        ("token_revoked", str(issued[0]["id"])),
        ("token_refused", str(issued[0]["id"])),
        ("token_refused", str(issued[2]["id"])),
    ]
    rows = json.dumps(list(AuditEvent.objects.values()), default=str)
    for token in issued:
        for secret in (token["token"], hashlib.sha256(token["token"].encode()).hexdigest()):
            assert secret not in rows
            assert secret not in caplog.text


def test_the_schema_documents_the_token_endpoints(medium):
    import yaml

    session = APIClient()
    session.force_login(medium)
    schema = yaml.safe_load(session.get(reverse("api-schema")).content)
    assert {"/api/auth/tokens/", "/api/auth/tokens/{id}/revoke/"} <= set(schema["paths"])
    assert {"token", "id", "name", "expires_at"} <= set(schema["components"]["schemas"]["TokenOutput"]["properties"])
    assert "name" in schema["components"]["schemas"]["TokenInput"]["properties"]


@pytest.mark.parametrize(("value", "message"), [("25", "must be at most 24"), ("0", "must be at least 1")])
def test_a_lifetime_outside_1_to_24_hours_stops_start_up_naming_the_variable(value, message):
    import os
    import subprocess
    import sys

    env = {**os.environ, "API_TOKEN_LIFETIME_HOURS": value, "DJANGO_SETTINGS_MODULE": "config.settings.test"}
    result = subprocess.run(
        [sys.executable, "-c", "import config.settings.test"], env=env, capture_output=True, text=True, check=False
    )
    assert result.returncode != 0
    assert f"configuration error: API_TOKEN_LIFETIME_HOURS {message}" in result.stderr
