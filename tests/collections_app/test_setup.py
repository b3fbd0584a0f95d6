"""Set-up: strict environment parsing, production settings, start-up errors, /healthz."""

import json
import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.test import override_settings

from config.env import ImproperlyConfiguredEnv, env_bool, env_int, env_list, env_str, parse_database_url

ROOT = Path(__file__).resolve().parents[2]


# -- environment parsing ------------------------------------------------------------------------


@pytest.mark.parametrize("value", ["1", "true", "TRUE", "yes", "on", " True "])
def test_true_values_read_as_true(monkeypatch, value):
    monkeypatch.setenv("SOME_FLAG", value)
    assert env_bool("SOME_FLAG", False) is True


@pytest.mark.parametrize("value", ["0", "false", "no", "off", "Off"])
def test_false_values_read_as_false(monkeypatch, value):
    monkeypatch.setenv("SOME_FLAG", value)
    assert env_bool("SOME_FLAG", True) is False


def test_unset_or_empty_flag_takes_the_default(monkeypatch):
    monkeypatch.delenv("SOME_FLAG", raising=False)
    assert env_bool("SOME_FLAG", True) is True
    monkeypatch.setenv("SOME_FLAG", "")
    assert env_bool("SOME_FLAG", False) is False


def test_unclear_flag_stops_with_the_variable_named(monkeypatch):
    monkeypatch.setenv("DEBUG", "maybe")
    with pytest.raises(ImproperlyConfiguredEnv) as error:
        env_bool("DEBUG", False)
    assert str(error.value.code) == "configuration error: DEBUG must be true or false, not 'maybe'"


def test_whole_numbers_parse_and_bad_ones_are_named(monkeypatch):
    monkeypatch.setenv("LOGIN_FAILURE_LIMIT", "7")
    assert env_int("LOGIN_FAILURE_LIMIT", 5) == 7
    monkeypatch.setenv("LOGIN_FAILURE_LIMIT", "five")
    with pytest.raises(ImproperlyConfiguredEnv, match="LOGIN_FAILURE_LIMIT must be a whole number"):
        env_int("LOGIN_FAILURE_LIMIT", 5)
    monkeypatch.setenv("LOGIN_FAILURE_LIMIT", "0")
    with pytest.raises(ImproperlyConfiguredEnv, match="LOGIN_FAILURE_LIMIT must be at least 1"):
        env_int("LOGIN_FAILURE_LIMIT", 5, minimum=1)


def test_lists_split_on_commas_and_required_strings_are_required(monkeypatch):
    monkeypatch.setenv("ALLOWED_HOSTS", "example.org, www.example.org,,")
    assert env_list("ALLOWED_HOSTS", []) == ["example.org", "www.example.org"]
    monkeypatch.delenv("SECRET_KEY", raising=False)
    with pytest.raises(ImproperlyConfiguredEnv, match="SECRET_KEY is not set"):
        env_str("SECRET_KEY", required=True)


def test_postgres_url_becomes_a_database_entry():
    config = parse_database_url(
        "DATABASE_URL", "postgres://billing:s%40cret@db.internal:6543/collections?sslmode=require"
    )
    assert config["ENGINE"] == "django.db.backends.postgresql"
    assert (config["NAME"], config["USER"], config["PASSWORD"]) == ("collections", "billing", "s@cret")
    assert (config["HOST"], config["PORT"]) == ("db.internal", "6543")
    assert config["OPTIONS"] == {"sslmode": "require"}


def test_sqlite_url_becomes_a_file_database():
    config = parse_database_url("DATABASE_URL", "sqlite:////var/lib/collections/db.sqlite3")
    assert config == {"ENGINE": "django.db.backends.sqlite3", "NAME": "/var/lib/collections/db.sqlite3"}


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        ("postgres://host:notaport/db", "is not a valid URL"),
        ("mysql://user@host/db", "has unsupported scheme 'mysql'"),
        ("postgres://user@host:5432/", "names no database"),
        ("sqlite://", "needs a file path"),
    ],
)
def test_malformed_database_url_is_refused_by_name(url, problem):
    with pytest.raises(ImproperlyConfiguredEnv) as error:
        parse_database_url("DATABASE_URL", url)
    assert str(error.value.code).startswith(f"configuration error: DATABASE_URL {problem}")


# -- start-up, as an operator runs it -----------------------------------------------------------


def _manage(*args, **env_changes):
    """Run manage.py in a fresh interpreter with a controlled environment."""
    env = {key: value for key, value in os.environ.items() if key not in {"SECRET_KEY", "DJANGO_SETTINGS_MODULE"}}
    for key, value in env_changes.items():
        if value is None:
            env.pop(key, None)
        else:
            env[key] = value
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )


def _production(**env):
    return {"DJANGO_SETTINGS_MODULE": "config.settings.production", "ALLOWED_HOSTS": "example.org", **env}


def test_production_settings_pass_the_deployment_checklist():
    result = _manage("check", "--deploy", **_production(SECRET_KEY=secrets.token_urlsafe(64)))
    assert result.returncode == 0, result.stderr
    assert "System check identified no issues" in result.stdout
    assert "WARNING" not in result.stdout + result.stderr


def _assert_one_line_refusal(result, expected: str):
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    assert result.stderr.strip().splitlines() == [expected]


def test_production_without_secret_key_stops_with_one_line():
    result = _manage("check", **_production(SECRET_KEY=None))
    _assert_one_line_refusal(result, "configuration error: SECRET_KEY is not set")


def test_production_with_a_short_secret_key_stops_with_one_line():
    result = _manage("check", **_production(SECRET_KEY="too-short"))
    _assert_one_line_refusal(result, "configuration error: SECRET_KEY must be at least 50 characters")


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("postgres://host:notaport/db", "configuration error: DATABASE_URL is not a valid URL"),
        (
            "mysql://user@host/db",
            "configuration error: DATABASE_URL has unsupported scheme 'mysql'; use postgres:// or sqlite:///",
        ),
    ],
)
def test_malformed_database_url_stops_start_up_with_one_line(url, expected):
    result = _manage("check", DATABASE_URL=url)
    _assert_one_line_refusal(result, expected)


# -- /healthz -----------------------------------------------------------------------------------


@pytest.mark.django_db
@override_settings(REDIS_URL=None)
def test_healthz_answers_without_login_when_the_database_answers(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert json.loads(response.content) == {"database": "ok", "redis": "not configured"}
    assert "no-cache" in response["Cache-Control"]


@pytest.mark.django_db
@override_settings(REDIS_URL="redis://127.0.0.1:1/0")
def test_healthz_is_503_naming_redis_when_redis_does_not_answer(client):
    response = client.get("/healthz")
    assert response.status_code == 503
    assert json.loads(response.content) == {"database": "ok", "redis": "unavailable"}


@pytest.mark.django_db
def test_healthz_reports_redis_ok_when_configured_and_running(client):
    if not settings.REDIS_URL:
        pytest.skip("REDIS_URL is not set (make test without Redis); .ci/run sets it")
    response = client.get("/healthz")
    assert response.status_code == 200
    assert json.loads(response.content) == {"database": "ok", "redis": "ok"}


def test_healthz_is_marked_public_and_refuses_writes(client, db):
    from config.health import healthz

    assert healthz.public is True
    assert client.post("/healthz").status_code == 405
