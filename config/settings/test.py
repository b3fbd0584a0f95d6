"""Settings for the test suite: PostgreSQL when DATABASE_URL is set, SQLite otherwise."""

from config.env import env_str

from .base import *  # noqa: F403

SECRET_KEY = env_str("SECRET_KEY", "test-only-not-secret")
DEBUG = False
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
CELERY_TASK_ALWAYS_EAGER = True
# Not throttled: a test that wants a 429 sets its own rate.
API_REQUESTS_PER_MINUTE = 1_000_000
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}

if DATABASES["default"]["ENGINE"].endswith("postgresql"):  # noqa: F405
    import os

    # One test database per run, so parallel runs on one server never drop each other's database.
    DATABASES["default"]["TEST"] = {"NAME": f"test_{DATABASES['default']['NAME']}_{os.getpid()}"}  # noqa: F405

# The fixtures' practices keep New York time, and many tests compare with timezone.localdate(): in
# the office's zone the two agree at every hour. (Under UTC, between midnight and 05:00 UTC the
# practice is still on the previous day and those comparisons are off by one.)
TIME_ZONE = "America/New_York"

# Documents the tests produce (statements, letters, print files, uploads) go to a folder of the
# run's own, not the checkout's private_media/; a test that wants its own sets it again.
import atexit  # noqa: E402
import shutil  # noqa: E402
import tempfile  # noqa: E402

PRIVATE_MEDIA_ROOT = Path(tempfile.mkdtemp(prefix="collections-test-private-"))  # noqa: F405
atexit.register(shutil.rmtree, PRIVATE_MEDIA_ROOT, ignore_errors=True)
