"""Nightly jobs of the contacts area."""

from collections_app.contacts.services import promise_check
from core.nightly import JobContext, nightly_job


@nightly_job("promise_check", order=40, description="Promises to pay kept or broken")
def promise_check_job(context: JobContext) -> dict[str, int]:
    # Each practice's own local date: a promise due "today" in Los Angeles is not yet broken when
    # it is already tomorrow in New York.
    return promise_check(as_of_by_practice=context.practice_dates)
