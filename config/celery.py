import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")

app = Celery("collections")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

# Jobs register themselves here (name -> schedule entry); the nightly framework adds to it.
app.conf.beat_schedule = {
    "clear-expired-sessions": {
        "task": "collections_app.tasks.clear_expired_sessions",
        "schedule": 60 * 60,
    },
}
