"""Celery tasks. The nightly ones call the same runner as `manage.py run_nightly`."""

from datetime import date

from celery import shared_task
from django.core import management
from django.db import OperationalError

from collections_app.nightly.runner import run_nightly

# The nightly chain is bounded by Celery's hard limit; a RUNNING JobRun older than that is taken
# over by the next run (collections_app.nightly.runner.STALE_RUNNING_AFTER).
NIGHTLY_SOFT_TIME_LIMIT = 25 * 60
NIGHTLY_TIME_LIMIT = 30 * 60


class NightlyJobFailed(Exception):
    """A nightly job failed; its JobRun row says why, and the next run for the date retries it."""


class NightlyJobInterrupted(NightlyJobFailed):
    """A job failed on a deadlock, serialization failure or lost connection: Celery retries soon."""


NIGHTLY_TASK_OPTIONS = {
    "time_limit": NIGHTLY_TIME_LIMIT,
    "soft_time_limit": NIGHTLY_SOFT_TIME_LIMIT,
    "serializer": "json",
    "autoretry_for": (OperationalError, NightlyJobInterrupted),
    "retry_backoff": 30,  # 30 s, 60 s, 120 s (with jitter)
    "retry_backoff_max": 600,
    "retry_jitter": True,
    "max_retries": 3,
}


def _results(as_of: str | None, job: str | None) -> list[dict]:
    results = run_nightly(as_of=date.fromisoformat(as_of) if as_of else None, job=job)
    failed = [result for result in results if result.failed]
    if failed:
        summary = "; ".join(result.line() for result in failed)
        if any(result.transient for result in failed):
            raise NightlyJobInterrupted(summary)
        raise NightlyJobFailed(summary)
    return [result.as_dict() for result in results]


@shared_task(**NIGHTLY_TASK_OPTIONS)
def run_nightly_chain(as_of: str | None = None) -> list[dict]:
    """Every nightly job in order for `as_of` (ISO date; default: tonight by each practice's time
    zone). Jobs already done for the date are skipped, so the hourly beat is a no-op until a new
    date comes round."""
    return _results(as_of, None)


@shared_task(**NIGHTLY_TASK_OPTIONS)
def run_nightly_job(name: str, as_of: str | None = None) -> list[dict]:
    """One nightly job for `as_of` (ISO date; default: tonight)."""
    return _results(as_of, name)


@shared_task(time_limit=600)
def clear_expired_sessions() -> str:
    management.call_command("clearsessions")
    return "cleared"
