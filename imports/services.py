"""The review list of remittance claims that matched nothing: a manager finds the claim (its
payment then posts exactly as the import would have posted it) or closes the entry with a note.
And uploaded imports: kept on private storage, run by a Celery task with its progress."""

import logging
import re
import tempfile
import uuid
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from accounts.models import Claim
from accounts.money import ZERO
from core.access import FieldGroup, check_field_group, get_scoped_or_404, practices_for, scope_to_user
from core.audit import audit_record
from core.errors import ApplicationError
from core.models import AuditEvent
from imports import uploads, x12
from imports.batches import Progress, Summary
from imports.models import ImportUpload, UnmatchedClaim
from imports.remittance import ClaimRejected, _Context, _post, _reverse, check_balances

MESSAGE_NOTE_NEEDED = "Say why this remittance claim is closed without a claim (not ours, a duplicate...)."
MESSAGE_CLAIM_ELSEWHERE = "Choose a claim of the remittance's practice."


def unmatched_claims_open(*, user):
    """The practice's review list, oldest first, scoped to the user's practices."""
    queryset = UnmatchedClaim.objects.filter(resolved_at__isnull=True).select_related("remittance")
    return scope_to_user(queryset, user).order_by("remittance__paid_on", "pk")


def _claim_payment(row: UnmatchedClaim) -> x12.ClaimPayment:
    """The remittance claim again, from the facts kept on the review list (totals by group)."""
    clp = x12.ClaimPayment(
        position=row.position,
        control_number=row.patient_control_number,
        status=row.claim_status,
        charge=row.charge_amount,
        paid=row.paid_amount,
        patient_responsibility=row.patient_responsibility,
        filing_indicator="",
        payer_claim_number=row.payer_claim_number,
    )
    for group, amount in (row.adjustments or {}).items():
        value = Decimal(amount)
        if value != ZERO:
            clp.adjustments.append(x12.Adjustment(group, "", value, row.position))
    return clp


@transaction.atomic
def unmatched_claim_resolve(*, acting_user, unmatched_id: int, claim_id: int | None = None, note: str = ""):
    """Post the remittance claim to `claim_id`, or close it with `note`. Management and up; a
    resolved entry stays as it is (a second click changes nothing)."""
    check_field_group(acting_user, FieldGroup.MANAGEMENT)
    row = get_scoped_or_404(UnmatchedClaim.objects.select_for_update(of=("self",)), acting_user, pk=unmatched_id)
    if row.resolved_at is not None:
        return row
    note = note.strip()
    if claim_id is None and not note:
        raise ApplicationError(MESSAGE_NOTE_NEEDED, field="note")
    if claim_id is not None:
        claim = Claim.objects.filter(pk=claim_id, account__practice_id=row.practice_id).first()
        if claim is None:
            raise ApplicationError(MESSAGE_CLAIM_ELSEWHERE, field="claim")
        remittance = row.remittance
        clp = _claim_payment(row)
        context = _Context(
            practice=remittance.practice,
            acting_user=acting_user,
            summary=Summary(),
            file_name="",
            remittance=None,
            row=remittance,
            payer=remittance.payer_key,
            effective_on=remittance.paid_on or timezone.localdate(),
        )
        try:
            check_balances(clp)
            if clp.is_reversal:
                _reverse(context, clp, claim)
            else:
                _post(context, clp, claim)
        except ClaimRejected as rejected:
            raise ApplicationError(rejected.reason, field="claim") from None
        row.matched_claim = claim
    row.resolved_at = timezone.now()
    row.resolved_by = acting_user
    row.resolution_note = note[:200]
    row.save(update_fields=["matched_claim", "resolved_at", "resolved_by", "resolution_note"])
    audit_record(
        user=acting_user,
        action=AuditEvent.Action.UPDATE,
        obj=row,
        field_group=FieldGroup.MANAGEMENT,
        detail={"resolved": True, "claim_id": claim_id},
    )
    return row


# --- Uploaded imports ----------------------------------------------------------------------------

logger = logging.getLogger(__name__)
CONTROL_CHARACTERS = re.compile(r"[\x00-\x1f\x7f]")
MESSAGE_UPLOAD_CRASHED = (
    "The import stopped before the end ({error}). What it posted stays, each claim or row whole; "
    "upload the same file again to finish it: what was imported is recognised and skipped."
)
MESSAGE_FILE_REFUSED = "The file was refused: {reason}"


@transaction.atomic
def import_upload_create(*, acting_user, practice_id: int, kind: str, upload, cutoff=None) -> ImportUpload:
    """Keep an uploaded file and queue its import (Management and up, for one of the user's
    practices). A file the import would refuse whole is refused here, with its field named, and
    nothing is kept."""
    check_field_group(acting_user, FieldGroup.MANAGEMENT)
    practice = practices_for(acting_user).filter(pk=practice_id).first()
    if practice is None:
        raise ApplicationError(uploads.MESSAGE_PRACTICE, field="practice")
    content = uploads.read_upload(upload)
    # The name as shown: its last part only, without control characters (a NUL cannot be stored).
    file_name = (CONTROL_CHARACTERS.sub("", Path((upload.name or "").replace("\\", "/")).name) or "upload")[:255]
    uploads.import_file_check(kind=kind, content=content, file_name=file_name, cutoff=cutoff)
    row = ImportUpload(
        practice=practice, kind=kind, file_name=file_name, size=len(content), cutoff=cutoff, uploaded_by=acting_user
    )
    # Stored under a random name: an uploaded file's name may carry a patient's.
    suffix = Path(file_name).suffix.lower()[:8]
    row.file.save(f"{uuid.uuid4().hex}{suffix}", ContentFile(content), save=False)
    row.save()
    audit_record(
        user=acting_user,
        action=AuditEvent.Action.CREATE,
        obj=row,
        field_group=FieldGroup.MANAGEMENT,
        detail={"kind": kind, "size": len(content)},
    )
    from imports.tasks import run_import_upload  # the task module imports this one

    transaction.on_commit(lambda: run_import_upload.delay(row.pk))
    return row


def _progress_writer(upload_id: int):
    def report(stage: str, done: int, total: int) -> None:
        # Its own autocommitted UPDATE: the import commits claim by claim, so the page sees each step.
        ImportUpload.objects.filter(pk=upload_id).update(
            stage=stage[:100], progress_done=min(done, total), progress_total=total
        )

    return report


def _run(upload: ImportUpload, progress: Progress) -> Summary:
    from imports.claims import import_837
    from imports.csv_import import import_csv
    from imports.remittance import import_835
    from imports.synthea import import_synthea

    with upload.file.open("rb") as stored:
        content = stored.read()
    common = {"practice": upload.practice, "acting_user": upload.uploaded_by, "progress": progress}
    kind = upload.kind
    if kind == ImportUpload.Kind.X12_835:
        return import_835(content=content, file_name=upload.file_name, **common)
    if kind == ImportUpload.Kind.X12_837P:
        return import_837(content=content, file_name=upload.file_name, **common)
    if kind in uploads.CSV_KINDS:
        return import_csv(kind=uploads.CSV_KINDS[kind], content=content, file_name=upload.file_name, **common)
    with tempfile.TemporaryDirectory(prefix="synthea-") as temporary:
        # The folder's name is the one the report and "already imported" messages show.
        folder = Path(temporary) / (Path(upload.file_name).stem[:80] or "synthea")
        folder.mkdir(mode=0o700)
        progress.start("Unpacking the .zip", 1)
        uploads.synthea_unpack(content, folder)
        progress.step()
        return import_synthea(folder=folder, cutoff=upload.cutoff, **common)


def import_upload_run(*, upload_id: int) -> dict:
    """Run one uploaded import (the Celery task calls this). Claimed by a conditional UPDATE from
    queued to running, so a task delivered twice runs the import once; the import is idempotent
    besides (the same file again changes nothing and says so)."""
    now = timezone.now()
    claimed = ImportUpload.objects.filter(pk=upload_id, status=ImportUpload.Status.QUEUED).update(
        status=ImportUpload.Status.RUNNING, started_at=now, stage="Reading the file"
    )
    if not claimed:
        status = ImportUpload.objects.filter(pk=upload_id).values_list("status", flat=True).first()
        return {"upload": upload_id, "status": status or "missing", "ran": False}
    upload = ImportUpload.objects.select_related("practice", "uploaded_by").get(pk=upload_id)
    try:
        summary = _run(upload, Progress(_progress_writer(upload_id)))
    except ApplicationError as error:
        return _finish(upload_id, status=ImportUpload.Status.FAILED, error=error.message)
    except Exception as error:  # the page must say it stopped, whatever stopped it
        # The exception's class only, no traceback: its message may quote a row of the file (PHI).
        logger.error("import upload %s stopped: %s", upload_id, type(error).__name__)
        return _finish(upload_id, status=ImportUpload.Status.FAILED, error=MESSAGE_UPLOAD_CRASHED.format(
            error=type(error).__name__
        ))  # fmt: skip
    report = summary.to_json()
    if summary.files_refused and summary.files_refused == summary.files:
        reason = summary.rejects[0]["reason"] if summary.rejects else "see below"
        error = MESSAGE_FILE_REFUSED.format(reason=reason)
        return _finish(upload_id, status=ImportUpload.Status.FAILED, summary=report, error=error)
    return _finish(upload_id, status=ImportUpload.Status.DONE, summary=report)


MESSAGE_UPLOAD_LOST = (
    "The import stopped: it made no progress for longer than an import may run (the worker was "
    "lost). What it posted stays, each claim or row whole; upload the same file again to finish it."
)
# An import runs at most its task's hard time limit (imports.tasks.IMPORT_TIME_LIMIT); one still
# "importing" this long after it started has no worker left on it. One still waiting a day after
# it was uploaded was never taken (its task was lost with the broker's queue).
LOST_AFTER = timedelta(minutes=40)
NEVER_TAKEN_AFTER = timedelta(days=1)


def import_uploads_stop_lost(*, now=None) -> int:
    """Mark as stopped the uploads a lost worker left "importing" (started longer ago than any
    import may run) or that no worker ever took (waiting for a day), so their page says so
    instead of a progress bar that never moves. The count marked; again, it marks nothing more."""
    now = now or timezone.now()
    lost = ImportUpload.objects.filter(
        Q(status=ImportUpload.Status.RUNNING, started_at__lt=now - LOST_AFTER)
        | Q(status=ImportUpload.Status.QUEUED, uploaded_at__lt=now - NEVER_TAKEN_AFTER)
    )
    return lost.update(status=ImportUpload.Status.FAILED, stage="Stopped", error=MESSAGE_UPLOAD_LOST, finished_at=now)


def _finish(upload_id: int, *, status: str, summary: dict | None = None, error: str = "") -> dict:
    stage = "Done" if status == ImportUpload.Status.DONE else "Stopped"
    with transaction.atomic():
        upload = ImportUpload.objects.select_for_update().get(pk=upload_id)
        upload.status = status
        upload.stage = stage
        upload.summary = summary or {}
        upload.error = error[:500]
        upload.finished_at = timezone.now()
        if status == ImportUpload.Status.DONE:
            upload.progress_done = upload.progress_total
        upload.save(update_fields=["status", "stage", "summary", "error", "finished_at", "progress_done"])
    return {"upload": upload_id, "status": status, "ran": True}
