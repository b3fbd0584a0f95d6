"""Nightly: re-evaluate every queue rule over the whole book and rebuild the queue."""

from collections_app.queues.services import queue_refresh
from core.nightly import JobContext, nightly_job


@nightly_job("queue_refresh", order=90, description="Work queue: open and clear work items, rescore accounts")
def queue_refresh_job(context: JobContext) -> dict[str, int]:
    # After aging, promises and plan lapses (lower orders): the rules read what those jobs wrote.
    return queue_refresh(as_of_by_practice=dict(context.practice_dates))
