"""Celery tasks of the imports: an uploaded file's import, run outside the request."""

from celery import shared_task

from imports.services import import_upload_run

# A file of the largest size allowed (10 MB, some 20,000 claims) imports in minutes; the limit
# stops a stuck one. No automatic retry: the page says it stopped, and uploading the file again
# finishes it (what was imported is skipped).
IMPORT_TIME_LIMIT = 30 * 60
IMPORT_SOFT_TIME_LIMIT = 25 * 60


@shared_task(time_limit=IMPORT_TIME_LIMIT, soft_time_limit=IMPORT_SOFT_TIME_LIMIT, serializer="json")
def run_import_upload(upload_id: int) -> dict:
    """Run the uploaded import `upload_id` (an ImportUpload id); a second delivery does nothing."""
    return import_upload_run(upload_id=upload_id)
