"""Strict parsing of the environment.

Every setting read from the environment goes through here, so a malformed value stops start-up
with one line naming the variable instead of a traceback deep inside Django.
"""

import os
import sys
from urllib.parse import parse_qs, unquote, urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError


class ImproperlyConfiguredEnv(SystemExit):
    """Exit with a one-line message that names the variable."""

    def __init__(self, variable: str, problem: str):
        super().__init__(f"configuration error: {variable} {problem}")


def env_str(name: str, default: str | None = None, *, required: bool = False) -> str | None:
    value = os.environ.get(name)
    if value is None or value == "":
        if required:
            raise ImproperlyConfiguredEnv(name, "is not set")
        return default
    return value


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    lowered = value.strip().lower()
    if lowered in {"1", "true", "yes", "on"}:
        return True
    if lowered in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfiguredEnv(name, f"must be true or false, not {value!r}")


def env_int(name: str, default: int, *, minimum: int | None = None) -> int:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    try:
        number = int(value)
    except ValueError:
        raise ImproperlyConfiguredEnv(name, f"must be a whole number, not {value!r}") from None
    if minimum is not None and number < minimum:
        raise ImproperlyConfiguredEnv(name, f"must be at least {minimum}")
    return number


def env_time_zone(name: str, default: str) -> str:
    value = env_str(name, default)
    try:
        ZoneInfo(value)
    except (ValueError, ZoneInfoNotFoundError):
        raise ImproperlyConfiguredEnv(name, f"is not a known time zone: {value!r} (e.g. America/New_York)") from None
    return value


def env_list(name: str, default: list[str]) -> list[str]:
    value = os.environ.get(name)
    if value is None or value.strip() == "":
        return default
    return [item.strip() for item in value.split(",") if item.strip()]


def parse_database_url(name: str, url: str) -> dict:
    """postgres://user:pass@host:port/name?options or sqlite:///path into a DATABASES entry."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise ImproperlyConfiguredEnv(name, "is not a valid URL") from None
    scheme = parts.scheme
    if scheme == "sqlite":
        # sqlite:///relative.sqlite3 or sqlite:////absolute/path.sqlite3
        path = unquote(parts.path)[1:]
        if not path:
            raise ImproperlyConfiguredEnv(name, "needs a file path, e.g. sqlite:///db.sqlite3")
        return {"ENGINE": "django.db.backends.sqlite3", "NAME": path}
    if scheme not in {"postgres", "postgresql", "pgsql"}:
        raise ImproperlyConfiguredEnv(name, f"has unsupported scheme {scheme!r}; use postgres:// or sqlite:///")
    database = unquote(parts.path.lstrip("/"))
    if not database:
        raise ImproperlyConfiguredEnv(name, "names no database (postgres://user@host:5432/NAME)")
    options = {key: values[-1] for key, values in parse_qs(parts.query).items()}
    config = {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": database,
        "USER": unquote(parts.username or ""),
        "PASSWORD": unquote(parts.password or ""),
        "HOST": parts.hostname or "",
        "PORT": str(port or ""),
        "CONN_MAX_AGE": env_int("DATABASE_CONN_MAX_AGE", 60, minimum=0),
        "CONN_HEALTH_CHECKS": True,
    }
    if options:
        config["OPTIONS"] = options
    return config


def is_management_command(*names: str) -> bool:
    return len(sys.argv) > 1 and sys.argv[1] in names
