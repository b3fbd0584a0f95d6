"""Developer default: `make run` with no environment uses SQLite and in-process tasks."""

from config.env import env_bool, env_str

from .base import *  # noqa: F403

DEBUG = env_bool("DEBUG", True)
SECRET_KEY = env_str("SECRET_KEY", "local-development-only-not-secret")
# `make run` collects static files every start: skip WhiteNoise's brotli/gzip pass (minutes on the
# API docs' bundles), which only pays off behind a real server (production settings keep it).
STORAGES = {
    **STORAGES,  # noqa: F405
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
