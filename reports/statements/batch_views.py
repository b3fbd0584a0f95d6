"""The manager's statement batches (Management and up): each batch's date, practice, statements,
total, the accounts the cycle left out by reason, print progress and the merged print file (a
download of every statement in it: audited), and a batch's page with its statements.

Thin views: the declared field group, a scoped selector (another practice's batch is a 404), an
audit row for every statement shown or file downloaded.
"""

from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import render
from django.views.decorators.http import require_GET

from accounts.selectors import practice_list
from core.access import FieldGroup, requires
from core.audit import audit_read, audit_reads
from core.downloads import phi_pdf_download
from core.pagination import page_number
from reports.models import StatementBatch
from reports.statements import batch_selectors as selectors
from reports.statements.batch import batch_is_stalled, stall_after_minutes
from reports.statements.views import DUNNING_LEVEL_WORDS

MANAGEMENT = FieldGroup.MANAGEMENT
PAGE_SIZE = 50


def _describe(batch: StatementBatch) -> StatementBatch:
    """What the list and the batch page show beside the row's own fields."""
    batch.suppressed_rows = [(reason, count) for reason, count in (batch.suppressed or {}).items() if count]
    batch.suppressed_total = sum(count for _, count in batch.suppressed_rows)
    batch.printing = batch.status == StatementBatch.Status.PRINTING
    batch.stalled = batch_is_stalled(batch)
    batch.percent_done = int(100 * batch.chunks_done / batch.chunk_count) if batch.chunk_count else 0
    return batch


@require_GET
@requires(MANAGEMENT)
def batch_list(request):
    paginator = Paginator(selectors.batch_list(user=request.user), PAGE_SIZE)
    number = page_number(request.GET.get("page"))
    if number > max(paginator.num_pages, 1):
        raise Http404("No such page.")
    page = paginator.page(number)
    context = {
        "page": page,
        "batches": [_describe(batch) for batch in page.object_list],
        "show_practice": len(list(practice_list(user=request.user))) > 1,
    }
    return render(request, "reports/statements/batches.html", context)


@require_GET
@requires(MANAGEMENT)
def batch_detail(request, pk):
    batch = _describe(selectors.batch_get(user=request.user, batch_id=pk))
    statements = selectors.batch_statements(batch=batch)
    for statement in statements:
        statement.level_words = DUNNING_LEVEL_WORDS.get(statement.dunning_level, "")
    audit_reads(user=request.user, objects=statements, field_groups={FieldGroup.BILLING, MANAGEMENT})
    context = {
        "batch": batch,
        "statements": statements,
        "more_statements": batch.statement_count > len(statements),
        "back": request.path,
        "stall_minutes": stall_after_minutes(),
    }
    return render(request, "reports/statements/batch_detail.html", context)


@require_GET
@requires(MANAGEMENT)
def batch_print_file(request, pk):
    """The merged print file for the print vendor: every statement of the batch (audited)."""
    batch = selectors.batch_get(user=request.user, batch_id=pk)
    if not batch.print_file:
        raise Http404("This batch has no print file yet.")
    try:
        handle = batch.print_file.open("rb")
    except FileNotFoundError:
        raise Http404("The print file is missing; print the batch again.") from None
    audit_read(
        user=request.user,
        obj=batch,
        field_groups={FieldGroup.DEMOGRAPHICS, FieldGroup.BILLING, MANAGEMENT},
        detail={"download": "print_file", "statements": batch.statement_count, "pages": batch.page_count},
    )
    return phi_pdf_download(handle, filename=f"statement-batch-{batch.pk}.pdf")
