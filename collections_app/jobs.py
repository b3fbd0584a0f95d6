"""The nightly jobs of the work of collecting. Each area keeps its jobs beside its services; importing
them here is what the registry's autodiscovery of `collections_app.jobs` registers."""

from collections_app.agencies import jobs as agencies_jobs
from collections_app.contacts import jobs as contacts_jobs
from collections_app.correspondence import jobs as correspondence_jobs
from collections_app.holds import jobs as holds_jobs
from collections_app.queues import jobs as queues_jobs

__all__ = ["agencies_jobs", "contacts_jobs", "correspondence_jobs", "holds_jobs", "queues_jobs"]
