"""Developer default: `make run` with no environment uses SQLite and in-process tasks."""

from config.env import env_bool, env_str

from .base import *  # noqa: F403

DEBUG = env_bool("DEBUG", True)
SECRET_KEY = env_str("SECRET_KEY", "local-development-only-not-secret")  # noqa: F405
