"""Batch printing: a batch's statements rendered in chunks across Celery workers, each account's own
copy stored, and one merged print file per batch for the print vendor.

1. `batch_print_start` (after the cycle's commit): the batch goes from pending to printing (the
   cycle has already marked for email each statement whose patient consented to statements by
   email: emailing.statements_route_to_email); the statements are numbered into chunks of
   `STATEMENT_CHUNK_SIZE` (`Statement.chunk`, by id); one `statement_batch_chunk` task per chunk
   is queued on commit.
2. A chunk (`batch_chunk_print`): the statements of the chunk that have no document yet are rendered
   in ONE WeasyPrint render (`documents.render_statements_pdf`) and the result is split by their
   page counts (pypdf) into each statement's own copy. The chunk file holds the chunk's mailed
   statements' pages. The copies are stored, in one transaction with the batch row locked, only
   for statements still without a document: a chunk delivered twice, or retried after a failure,
   never produces a letter twice.
3. When every chunk is done, `batch_print_finish` emails the statements marked for email (a failed
   send falls back to the mail, so no patient goes without), then joins the chunk files (and the
   fallbacks) into the batch's print file and records its page count and the printing time.

Progress is `chunks_done` of `chunk_count`. It is counted, under the batch row's lock, as the chunks
none of whose statements lacks a document, rather than incremented: the documents and the count
change in the same transaction, so a chunk delivered twice, retried, or finished while another one
failed is counted once, and the count can never pass `chunk_count` nor miss a chunk. A chunk that
fails records why in words on the batch (`error`, status failed) and is retried by
`batch_chunk_retry` (the jobs page's button); the chunks that succeeded keep their documents.

A worker killed outright (the hard time limit, the machine lost) records nothing: the batch stays
"printing". `progressed_at` is touched whenever printing starts, a chunk starts or is stored, and
the finish starts, so a batch printing whose last progress is older than a task may live (the
tasks' hard time limit, plus a margin: `stall_after`) has no live worker on it: it is stalled, and
the same retry is offered for it. Retrying prints only the unfinished chunks, so nothing is
produced twice even if a lost chunk turns up after all.
"""

import logging
from datetime import timedelta
from io import BytesIO

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import OperationalError, transaction
from django.utils import timezone
from pypdf import PdfReader, PdfWriter

from accounts.selectors import practice_today
from core.access import FieldGroup
from core.audit import audit_job_changes, audit_record
from core.errors import ApplicationError
from core.models import AuditEvent
from reports.models import Statement, StatementBatch
from reports.statements import emailing

logger = logging.getLogger(__name__)

JOB = "statement_batch"
DEFAULT_CHUNK_SIZE = 200
CHUNK_FOLDER = "print/chunks"

MESSAGE_CHUNK_FAILED = (
    "Chunk {chunk} of {count} could not be printed: {reason}. Retry it; the statements already printed are kept."
)
MESSAGE_FINISH_FAILED = "Every chunk is printed but the print file could not be written: {reason}. Retry it."
MESSAGE_PAGES_DISAGREE = "the renderer's page counts do not add up to the pages it produced"
MESSAGE_NOT_RETRYABLE = "Only a failed or stalled batch can be retried."
MESSAGE_STILL_PRINTING = "This batch is still printing. Retry is offered if it makes no progress for {minutes} minutes."
# Beyond the hard time limit: the worker's own clean-up and the broker's redelivery take a moment.
STALL_MARGIN = timedelta(minutes=5)


def stall_after() -> timedelta:
    """How long a printing batch may go without progress before it is stalled: no chunk or finish
    task outlives its hard time limit (reports.tasks), so past it plus a margin none is running."""
    from reports.tasks import STATEMENT_TASK_OPTIONS

    return timedelta(seconds=STATEMENT_TASK_OPTIONS["time_limit"]) + STALL_MARGIN


def stall_after_minutes() -> int:
    return int(stall_after().total_seconds() // 60)


def batch_is_stalled(batch: StatementBatch, *, now=None) -> bool:
    """Printing, and no chunk started or stored (nor the finish started) for longer than any task
    may run: the worker was lost and nothing will move it on but a retry. Or still waiting to print
    that long after it was made: the queue did not take it (the cycle's hand-over is logged and
    let go, so the night's statements stay made)."""
    if batch.status not in (StatementBatch.Status.PRINTING, StatementBatch.Status.PENDING):
        return False
    last = batch.progressed_at or batch.created_at
    return last < (now or timezone.now()) - stall_after()


def batches_mark_stalled(batches) -> list[StatementBatch]:
    """Set `stalled` on each batch for the pages that offer Retry (no query)."""
    now = timezone.now()
    for batch in batches:
        batch.stalled = batch_is_stalled(batch, now=now)
    return list(batches)


def _touch(batch_id: int) -> None:
    """Progress: the batch is being worked on now (one UPDATE, only while printing or failed)."""
    StatementBatch.objects.filter(
        pk=batch_id, status__in=(StatementBatch.Status.PRINTING, StatementBatch.Status.FAILED)
    ).update(progressed_at=timezone.now())


def chunk_size() -> int:
    return max(1, int(getattr(settings, "STATEMENT_CHUNK_SIZE", DEFAULT_CHUNK_SIZE)))


def chunk_file_name(batch_id: int, chunk: int) -> str:
    return f"{CHUNK_FOLDER}/batch-{batch_id}-chunk-{chunk}.pdf"


def _storage():
    return StatementBatch._meta.get_field("print_file").storage


def _chunks_done(batch: StatementBatch) -> int:
    """The chunks none of whose statements still lacks its document."""
    unfinished = (
        Statement.objects.filter(batch_id=batch.pk, document="").values_list("chunk", flat=True).distinct().count()
    )
    return batch.chunk_count - unfinished


def _queue_chunks(batch_id: int, chunks) -> None:
    from reports.tasks import statement_batch_chunk

    for chunk in chunks:
        statement_batch_chunk.delay(batch_id, chunk)


def _queue_finish(batch_id: int) -> None:
    from reports.tasks import statement_batch_finish

    statement_batch_finish.delay(batch_id)


def batch_print_start(batch: StatementBatch, *, acting_user=None) -> None:
    """Number the batch's statements into chunks and queue their printing (on commit). A batch
    already started is left alone, so calling this twice queues nothing twice."""
    with transaction.atomic():
        batch = StatementBatch.objects.select_for_update().get(pk=batch.pk)
        if batch.status != StatementBatch.Status.PENDING:
            return
        statements = Statement.objects.filter(batch_id=batch.pk)
        emailed = statements.filter(channel=Statement.Channel.EMAIL).count()
        ids = list(statements.order_by("pk").values_list("pk", flat=True))
        size = chunk_size()
        chunks = []
        for number, start in enumerate(range(0, len(ids), size), 1):
            Statement.objects.filter(pk__in=ids[start : start + size]).update(chunk=number)
            chunks.append(number)
        batch.chunk_count = len(chunks)
        batch.chunks_done = _chunks_done(batch)
        batch.status = StatementBatch.Status.PRINTING
        batch.error = ""
        batch.progressed_at = timezone.now()
        batch.save(update_fields=["chunk_count", "chunks_done", "status", "error", "progressed_at"])
        detail = {"action": "batch_print_start", "statements": len(ids), "chunks": len(chunks), "emailed": emailed}
        _audit_batch(batch, acting_user=acting_user, detail=detail)
        pending = list(statements.filter(document="").order_by("chunk").values_list("chunk", flat=True).distinct())
        batch_id = batch.pk
        if pending:
            transaction.on_commit(lambda: _queue_chunks(batch_id, pending))
        else:
            transaction.on_commit(lambda: _queue_finish(batch_id))


def _audit_batch(batch: StatementBatch, *, acting_user, detail: dict) -> None:
    if acting_user is not None and getattr(acting_user, "is_authenticated", False):
        audit_record(
            user=acting_user, action=AuditEvent.Action.UPDATE, obj=batch, field_group=FieldGroup.BILLING, detail=detail
        )
    else:
        audit_job_changes(
            job=JOB,
            object_type="reports.statementbatch",
            changes=[(batch.pk, batch.practice_id, detail)],
            occurred_at=timezone.now(),
            field_group=FieldGroup.BILLING,
        )


def _pdf_bytes(writer: PdfWriter) -> bytes:
    out = BytesIO()
    writer.write(out)
    return out.getvalue()


def _stored_reader(statement: Statement) -> PdfReader:
    with statement.document.open("rb") as handle:
        return PdfReader(BytesIO(handle.read()))


def render_and_split(statements: list[Statement]) -> tuple[bytes, PdfReader | None, dict[int, tuple[int, int]]]:
    """One render of `statements` and where each one's pages are in it: {pk: (first page, count)}."""
    if not statements:
        return b"", None, {}
    from reports.statements.documents import render_statements_pdf

    pdf, page_counts = render_statements_pdf(statements)
    reader = PdfReader(BytesIO(pdf))
    if len(page_counts) != len(statements) or sum(page_counts) != len(reader.pages):
        raise ValueError(MESSAGE_PAGES_DISAGREE)
    spans, first = {}, 0
    for statement, count in zip(statements, page_counts, strict=True):
        spans[statement.pk] = (first, count)
        first += count
    return pdf, reader, spans


def _own_copy(reader: PdfReader, first: int, count: int) -> bytes:
    writer = PdfWriter()
    for index in range(first, first + count):
        writer.add_page(reader.pages[index])
    return _pdf_bytes(writer)


def _chunk_file(statements: list[Statement], pdf: bytes, reader, spans) -> bytes:
    """The chunk's mailed statements' pages, in order: the render itself when it is exactly that."""
    mailed = [s for s in statements if s.channel == Statement.Channel.MAIL]
    if mailed and len(spans) == len(statements) == len(mailed):
        return pdf
    writer = PdfWriter()
    for statement in mailed:
        if statement.pk in spans:
            first, count = spans[statement.pk]
            for index in range(first, first + count):
                writer.add_page(reader.pages[index])
        else:
            for page in _stored_reader(statement).pages:
                writer.add_page(page)
    return _pdf_bytes(writer)


def _save_over(name: str, data: bytes) -> str:
    storage = _storage()
    if storage.exists(name):
        storage.delete(name)
    return storage.save(name, ContentFile(data))


def failure_reason(exc: BaseException) -> str:
    """Why a chunk failed, in words; never the exception's text (it could quote a document)."""
    if isinstance(exc, ValueError) and str(exc) == MESSAGE_PAGES_DISAGREE:
        return MESSAGE_PAGES_DISAGREE
    if isinstance(exc, OperationalError):
        return "the database was out of reach after several tries"
    if isinstance(exc, FileNotFoundError):
        return "a statement's stored document is missing"
    if isinstance(exc, OSError):
        return f"the document storage refused a file ({type(exc).__name__})"
    return f"the PDF renderer stopped ({type(exc).__name__})"


def batch_chunk_print(*, batch_id: int, chunk: int) -> dict:
    """Print one chunk: render the statements without a document, store each one's copy, write the
    chunk file, count the chunk, and queue the finish when it was the last."""
    batch = StatementBatch.objects.get(pk=batch_id)
    if batch.status not in (StatementBatch.Status.PRINTING, StatementBatch.Status.FAILED):
        return {"batch": batch_id, "chunk": chunk, "outcome": "skipped"}
    _touch(batch_id)
    statements = list(
        Statement.objects.filter(batch_id=batch_id, chunk=chunk)
        .select_related("account", "guarantor", "practice")
        .order_by("pk")
    )
    missing = [s for s in statements if not s.document]
    try:
        pdf, reader, spans = render_and_split(missing)
        copies = {pk: _own_copy(reader, first, count) for pk, (first, count) in spans.items()}
        _save_over(chunk_file_name(batch_id, chunk), _chunk_file(statements, pdf, reader, spans))
        stored = _store_and_count(batch_id, chunk, missing, copies, spans)
    except OperationalError:
        raise  # a lost connection or a deadlock: Celery retries the chunk
    except Exception as exc:
        logger.warning("Statement batch %s chunk %s failed: %s", batch_id, chunk, type(exc).__name__)
        _chunk_failed(batch_id, chunk, exc)
        return {"batch": batch_id, "chunk": chunk, "outcome": "failed"}
    return {"batch": batch_id, "chunk": chunk, "outcome": "printed", "stored": stored}


def _store_and_count(batch_id: int, chunk: int, missing, copies: dict[int, bytes], spans) -> int:
    with transaction.atomic():
        batch = StatementBatch.objects.select_for_update().get(pk=batch_id)
        # Under the batch lock: another delivery of this chunk may have stored them meanwhile.
        still_missing = set(
            Statement.objects.filter(pk__in=[s.pk for s in missing], document="").values_list("pk", flat=True)
        )
        stored = [s for s in missing if s.pk in still_missing]
        for statement in stored:
            statement.document.save(f"statement-{statement.pk}.pdf", ContentFile(copies[statement.pk]), save=False)
            statement.page_count = spans[statement.pk][1]
        Statement.objects.bulk_update(stored, ["document", "page_count"])
        if stored:
            audit_job_changes(
                job=JOB,
                object_type="reports.statement",
                changes=[
                    (s.pk, s.practice_id, {"action": "document_stored", "batch": batch_id, "chunk": chunk})
                    for s in stored
                ],
                occurred_at=timezone.now(),
                field_group=FieldGroup.BILLING,
                action=AuditEvent.Action.CREATE,
            )
        was_done = batch.chunks_done
        batch.chunks_done = _chunks_done(batch)
        batch.progressed_at = timezone.now()
        fields = ["chunks_done", "progressed_at"]
        if batch.chunks_done == batch.chunk_count and batch.status == StatementBatch.Status.FAILED:
            # Every chunk is printed after all (another delivery of the failed one succeeded).
            batch.status, batch.error = StatementBatch.Status.PRINTING, ""
            fields += ["status", "error"]
        batch.save(update_fields=fields)
        if batch.chunks_done == batch.chunk_count and was_done < batch.chunk_count:
            transaction.on_commit(lambda: _queue_finish(batch_id))
    return len(stored)


def _chunk_failed(batch_id: int, chunk: int, exc: BaseException) -> None:
    with transaction.atomic():
        batch = StatementBatch.objects.select_for_update().get(pk=batch_id)
        if batch.status == StatementBatch.Status.DONE:
            return
        batch.status = StatementBatch.Status.FAILED
        message = MESSAGE_CHUNK_FAILED.format(chunk=chunk, count=batch.chunk_count, reason=failure_reason(exc))
        batch.error = message[:300]
        batch.save(update_fields=["status", "error"])
        detail = {"action": "chunk_failed", "chunk": chunk, "error": type(exc).__name__}
        _audit_batch(batch, acting_user=None, detail=detail)


def batch_step_failed(*, batch_id: int, chunk: int | None, exc: BaseException) -> None:
    """A chunk (or the finish, `chunk` None) that Celery gave up on: recorded like any failure."""
    if chunk is not None:
        _chunk_failed(batch_id, chunk, exc)
        return
    with transaction.atomic():
        batch = StatementBatch.objects.select_for_update().get(pk=batch_id)
        if batch.status == StatementBatch.Status.DONE:
            return
        batch.status = StatementBatch.Status.FAILED
        batch.error = MESSAGE_FINISH_FAILED.format(reason=failure_reason(exc))[:300]
        batch.save(update_fields=["status", "error"])
        _audit_batch(batch, acting_user=None, detail={"action": "print_file_failed", "error": type(exc).__name__})


def unfinished_chunks(batch: StatementBatch) -> list[int]:
    return list(
        Statement.objects.filter(batch_id=batch.pk, document="")
        .order_by("chunk")
        .values_list("chunk", flat=True)
        .distinct()
    )


def batch_chunk_retry(batch: StatementBatch, chunk: int | None = None, *, acting_user=None) -> list[int]:
    """Print a failed chunk again (every unfinished chunk when `chunk` is None). Statements that
    already have their document are not rendered again. Also restarts the finish of a batch whose
    chunks are all printed but whose print file is missing (a worker lost at the last step). A batch
    still printing may be retried only once it is stalled (`batch_is_stalled`); one still waiting
    to print that long is started."""
    with transaction.atomic():
        batch = StatementBatch.objects.select_for_update().get(pk=batch.pk)
        stalled = batch_is_stalled(batch)
        if batch.status == StatementBatch.Status.PENDING and stalled:
            # Never handed to the printing queue: start it now (numbered into chunks, queued).
            batch_print_start(batch, acting_user=acting_user)
            return unfinished_chunks(batch)
        if batch.status not in (StatementBatch.Status.FAILED, StatementBatch.Status.PRINTING):
            raise ApplicationError(MESSAGE_NOT_RETRYABLE)
        if batch.status == StatementBatch.Status.PRINTING and not stalled:
            # A live worker may be on it: queueing its chunks again would only race it.
            raise ApplicationError(MESSAGE_STILL_PRINTING.format(minutes=stall_after_minutes()))
        unfinished = unfinished_chunks(batch)
        chunks = [chunk] if chunk is not None and chunk in unfinished else ([] if chunk is not None else unfinished)
        batch.status, batch.error = StatementBatch.Status.PRINTING, ""
        batch.chunks_done = _chunks_done(batch)
        batch.progressed_at = timezone.now()
        batch.save(update_fields=["status", "error", "chunks_done", "progressed_at"])
        detail = {"action": "chunk_retry", "chunks": chunks, "stalled": stalled}
        _audit_batch(batch, acting_user=acting_user, detail=detail)
        batch_id = batch.pk
        if chunks:
            transaction.on_commit(lambda: _queue_chunks(batch_id, chunks))
        elif not unfinished:
            transaction.on_commit(lambda: _queue_finish(batch_id))
    return chunks


def batch_print_finish(*, batch_id: int) -> dict:
    """Email the statements marked for email, then join the chunk files into the print file. A
    failure here leaves every chunk printed; the retry runs this step again (emails already sent
    or failed are not sent again)."""
    try:
        return _finish(batch_id)
    except OperationalError:
        raise
    except Exception as exc:
        logger.warning("Statement batch %s print file failed: %s", batch_id, type(exc).__name__)
        batch_step_failed(batch_id=batch_id, chunk=None, exc=exc)
        return {"batch": batch_id, "outcome": "failed"}


def _finish(batch_id: int) -> dict:
    batch = StatementBatch.objects.get(pk=batch_id)
    if batch.status == StatementBatch.Status.DONE or _chunks_done(batch) != batch.chunk_count:
        return {"batch": batch_id, "outcome": "skipped"}
    _touch(batch_id)
    email_counts = emailing.batch_emails_send(batch)
    with transaction.atomic():
        batch = StatementBatch.objects.select_for_update().select_related("practice").get(pk=batch_id)
        if batch.status == StatementBatch.Status.DONE:
            return {"batch": batch_id, "outcome": "skipped"}
        writer = PdfWriter()
        chunk_files = []
        for chunk in range(1, batch.chunk_count + 1):
            name = chunk_file_name(batch_id, chunk)
            data = _chunk_bytes(batch_id, chunk, name)
            if data:
                writer.append(PdfReader(BytesIO(data)))
            chunk_files.append(name)
        # Statements whose email failed go out by mail after all: they were not in their chunk file.
        fallbacks = (
            Statement.objects.filter(batch_id=batch_id, channel=Statement.Channel.MAIL)
            .filter(emails__status="failed")
            .distinct()
            .order_by("pk")
        )
        for statement in fallbacks:
            writer.append(_stored_reader(statement))
        page_count = len(writer.pages)
        if page_count:
            name = f"batch-{batch_id}-{batch.run_on:%Y%m%d}.pdf"
            batch.print_file.save(name, ContentFile(_pdf_bytes(writer)), save=False)
        today = practice_today(batch.practice)
        mailed = Statement.objects.filter(batch_id=batch_id, channel=Statement.Channel.MAIL)
        mailed.filter(mailed_on__isnull=True).update(mailed_on=today)
        batch.page_count = page_count
        batch.printed_at = timezone.now()
        batch.status = StatementBatch.Status.DONE
        batch.chunks_done = batch.chunk_count
        batch.error = ""
        batch.save(update_fields=["print_file", "page_count", "printed_at", "status", "chunks_done", "error"])
        detail = {"action": "batch_printed", "pages": page_count, "mailed": mailed.count(), **email_counts}
        _audit_batch(batch, acting_user=None, detail=detail)
        transaction.on_commit(lambda: _delete_chunk_files(chunk_files))
    return {"batch": batch_id, "outcome": "printed", "pages": page_count, **email_counts}


def _chunk_bytes(batch_id: int, chunk: int, name: str) -> bytes:
    storage = _storage()
    if storage.exists(name):
        with storage.open(name, "rb") as handle:
            return handle.read()
    # Lost (or never written, a chunk whose statements all had documents): rebuilt from the copies.
    statements = list(
        Statement.objects.filter(batch_id=batch_id, chunk=chunk, channel=Statement.Channel.MAIL)
        .exclude(emails__status="failed")
        .order_by("pk")
    )
    if not statements:
        return b""
    writer = PdfWriter()
    for statement in statements:
        for page in _stored_reader(statement).pages:
            writer.add_page(page)
    return _pdf_bytes(writer)


def _delete_chunk_files(names) -> None:
    storage = _storage()
    for name in names:
        if storage.exists(name):
            storage.delete(name)
