from celery import shared_task
from django.core import management


@shared_task(time_limit=600)
def clear_expired_sessions() -> str:
    management.call_command("clearsessions")
    return "cleared"
