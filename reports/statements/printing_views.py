"""Statement batches' printing on the jobs page: each batch's progress (chunks printed of its
chunks, polled while it prints) and "Retry" for a failed batch, or one stalled printing (its
worker lost: batch.batch_is_stalled) (Management and up).

The jobs page belongs to collections_app, which may not import reports: `jobs_section` is handed
to its registry (core.nightly.jobs_page_section) in reports' AppConfig. Batches hold counts and
practice names only, no PHI; they are still scoped to the user's practices.
"""

from django.contrib import messages
from django.db.models import Q
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_POST

from core.access import FieldGroup, can_see, get_scoped_or_404, requires, scope_to_user
from core.errors import ApplicationError
from reports.models import StatementBatch
from reports.statements.batch import batch_chunk_retry, batches_mark_stalled, stall_after_minutes

# The jobs page shows every batch still printing or failed, and the latest printed ones.
RECENT_PRINTED = 5
MESSAGE_RETRY_QUEUED = "Printing batch {pk} again: {chunks}. Statements already printed are kept."
MESSAGE_RETRY_FINISH = "Writing the print file of batch {pk} again."

UNFINISHED = [StatementBatch.Status.PENDING, StatementBatch.Status.PRINTING, StatementBatch.Status.FAILED]


def _batches(user):
    return scope_to_user(StatementBatch.objects.select_related("practice"), user).order_by("-created_at", "-id")


def jobs_section(request) -> str:
    """The "Statement batches" section of the jobs page (two queries)."""
    if not can_see(request.user, FieldGroup.MANAGEMENT):
        return ""
    batches = list(_batches(request.user).filter(Q(status__in=UNFINISHED) | Q(chunk_count__gt=0))[:20])
    unfinished = [b for b in batches if b.status in UNFINISHED]
    shown = batches_mark_stalled(unfinished + [b for b in batches if b.status not in UNFINISHED][:RECENT_PRINTED])
    if not shown:
        return ""
    context = {"batches": shown, "stall_minutes": stall_after_minutes()}
    return render_to_string("reports/statements/_jobs_batches.html", context, request=request)


@require_GET
@requires(FieldGroup.MANAGEMENT)
def batch_progress(request, pk: int):
    """The htmx partial of one batch's progress: polls itself every 2 s while it prints."""
    batch = get_scoped_or_404(StatementBatch.objects.select_related("practice"), request.user, pk=pk)
    batches_mark_stalled([batch])
    back = request.GET.get("next", "")
    if not url_has_allowed_host_and_scheme(back, {request.get_host()}, require_https=request.is_secure()):
        back = ""
    context = {"batch": batch, "back": back, "stall_minutes": stall_after_minutes()}
    return render(request, "reports/statements/_batch_progress.html", context)


@require_POST
@requires(FieldGroup.MANAGEMENT)
def batch_retry(request, pk: int):
    """Print a failed or stalled batch's unfinished chunks again (or its print file, when every
    chunk is done)."""
    batch = get_scoped_or_404(StatementBatch.objects.all(), request.user, pk=pk)
    try:
        chunks = batch_chunk_retry(batch, acting_user=request.user)
    except ApplicationError as exc:
        messages.error(request, str(exc))
    else:
        if chunks:
            named = f"chunk{'s' if len(chunks) > 1 else ''} {', '.join(str(n) for n in chunks)}"
            messages.success(request, MESSAGE_RETRY_QUEUED.format(pk=batch.pk, chunks=named))
        else:
            messages.success(request, MESSAGE_RETRY_FINISH.format(pk=batch.pk))
    # Back where the button was: the jobs page, or the batch's own page (a local path only).
    back = request.POST.get("next", "")
    if back and url_has_allowed_host_and_scheme(back, {request.get_host()}, require_https=request.is_secure()):
        return redirect(back)
    return redirect("jobs")
