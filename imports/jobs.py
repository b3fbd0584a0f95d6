"""Nightly jobs of the imports."""

from core.nightly import JobContext, nightly_job
from imports.services import import_uploads_stop_lost


@nightly_job(
    "import_uploads_stop_lost", order=105, description="Uploaded imports a lost worker left running marked stopped"
)
def import_uploads_stop_lost_job(context: JobContext) -> dict[str, int]:
    return {"stopped": import_uploads_stop_lost()}
