"""Nightly jobs of core (found by core.nightly's autodiscovery)."""

from core import services
from core.nightly import JobContext, nightly_job


@nightly_job("api_token_purge", order=100, description="API tokens ended over the retention period deleted")
def api_token_purge_job(context: JobContext) -> dict[str, int]:
    return {"deleted": services.api_tokens_purge(as_of=context.as_of)}
