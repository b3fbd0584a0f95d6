import os

from celery import Celery
from celery.schedules import crontab

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")

app = Celery("collections")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

app.conf.beat_schedule = {
    "clear-expired-sessions": {
        "task": "collections_app.tasks.clear_expired_sessions",
        "schedule": 60 * 60,
    },
    # Hourly, not once a night: a date's run starts in the first hour after the westernmost
    # practice's midnight (collections_app.nightly.runner explains the dates), and every other hour
    # is a no-op (the date's JobRun rows already succeeded). A failed job is retried the next hour.
    "nightly-jobs": {
        "task": "collections_app.tasks.run_nightly_chain",
        "schedule": crontab(minute=5),
        "options": {"expires": 50 * 60},  # a backed-up queue never runs two chains at once
    },
}
