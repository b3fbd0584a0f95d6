"""Celery tasks of the reports: the statement batch's chunks and its finish (reports.statements.batch).

Each takes ids, calls one function and returns a small summary; a lost connection or a deadlock is
retried by Celery, any other failure is recorded on the batch in words and retried from the jobs
page. A chunk redelivered (acks_late after a lost worker) prints nothing twice: see batch.py.
"""

from celery import Task, shared_task
from django.db import OperationalError


class StatementBatchTask(Task):
    """When Celery gives up on a chunk or the finish (its retries used up), the batch says so in
    words and the jobs page offers Retry, instead of showing "printing" for ever."""

    def on_failure(self, exc, task_id, args, kwargs, einfo):
        from reports.statements.batch import batch_step_failed

        batch_id = kwargs.get("batch_id", args[0] if args else None)
        chunk = kwargs.get("chunk", args[1] if len(args) > 1 else None)
        if batch_id is not None:
            batch_step_failed(batch_id=batch_id, chunk=chunk, exc=exc)


STATEMENT_TASK_OPTIONS = {
    "base": StatementBatchTask,
    "time_limit": 30 * 60,
    "soft_time_limit": 25 * 60,
    "serializer": "json",
    "acks_late": True,
    "autoretry_for": (OperationalError,),
    "retry_backoff": 30,
    "retry_backoff_max": 600,
    "retry_jitter": True,
    "max_retries": 3,
}


@shared_task(**STATEMENT_TASK_OPTIONS)
def statement_batch_chunk(batch_id: int, chunk: int) -> dict:
    """Render one chunk of a statement batch and store each statement's copy."""
    from reports.statements.batch import batch_chunk_print

    return batch_chunk_print(batch_id=batch_id, chunk=chunk)


@shared_task(**STATEMENT_TASK_OPTIONS)
def statement_batch_finish(batch_id: int) -> dict:
    """Email the batch's emailed statements and write its merged print file."""
    from reports.statements.batch import batch_print_finish

    return batch_print_finish(batch_id=batch_id)
