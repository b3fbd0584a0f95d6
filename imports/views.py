"""The upload page (Management and up): upload an import file, watch its progress, read its report,
which is the summary `manage.py import_* --json` prints for the same file."""

from functools import wraps

from django.conf import settings
from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.template.defaultfilters import filesizeformat
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.http import require_GET, require_http_methods

from core.access import FieldGroup, requires
from core.audit import audit_read, audit_reads, audit_record
from core.errors import ApplicationError
from core.models import AuditEvent
from core.pagination import CappedPaginator, page_number
from imports import selectors, services
from imports.csv_import import LAYOUTS, template_csv
from imports.forms import CLOSE_REASONS, ImportUploadForm, UnmatchedCloseForm, UnmatchedPostForm, UnmatchedSearchForm
from imports.models import ImportUpload
from imports.uploads import too_large_message, upload_body_too_large
from imports.x12 import ADJUSTMENT_GROUPS

MANAGEMENT = FieldGroup.MANAGEMENT
UPLOADS_PAGE_SIZE = 25
UNMATCHED_PAGE_SIZE = 50
MESSAGE_POSTED = "Posted to the claim on account {account}, as the import would have posted it."
MESSAGE_CLOSED = "Closed without a claim; nothing was posted."
MESSAGE_ALREADY_RESOLVED = "This remittance claim was already resolved; nothing changed."
GROUP_LABELS = {
    "CO": "CO contractual obligation",
    "PR": "PR patient responsibility",
    "OA": "OA other adjustment",
    "PI": "PI payer initiated",
}
# CLP02, the claim's status as the payer adjudicated it (X12 835 code list 1029).
CLAIM_STATUS_LABELS = {
    "1": "Processed as primary",
    "2": "Processed as secondary",
    "3": "Processed as tertiary",
    "4": "Denied",
    "19": "Processed as primary, forwarded to another payer",
    "20": "Processed as secondary, forwarded to another payer",
    "21": "Processed as tertiary, forwarded to another payer",
    "22": "Reversal of a previous payment",
    "23": "Not our claim, forwarded to another payer",
    "25": "Predetermination only",
}
COUNT_LABELS = (
    ("files", "Files"),
    ("files_already_imported", "Files already imported"),
    ("files_refused", "Files refused"),
    ("claims", "Claims read"),
    ("claims_created", "Claims created"),
    ("claims_posted", "Claims posted"),
    ("claims_reversed", "Claims reversed"),
    ("claims_unchanged", "Claims already on file"),
    ("patients_created", "Patients created"),
    ("accounts_created", "Accounts created"),
    ("encounters_created", "Visits created"),
    ("appointments_created", "Appointments created"),
    ("rows", "Rows read"),
    ("postings", "Ledger postings"),
    ("provider_adjustments", "Provider-level adjustments (PLB)"),
)


def upload_body_limited(view):
    """Answer 413 to a body larger than a file and its form can make, before anything reads it.
    CsrfViewMiddleware would read (and spool to disk) the whole body first, so the view is exempt
    from it and checks CSRF itself, after the size (as collections_app.holds.views does)."""
    protected = csrf_protect(view)

    @wraps(view)
    def guarded(request, *args, **kwargs):
        if request.method == "POST" and upload_body_too_large(request):
            return HttpResponse(too_large_message(), status=413, content_type="text/plain; charset=utf-8")
        return protected(request, *args, **kwargs)

    guarded.csrf_exempt = True
    return guarded


def report_of(upload: ImportUpload) -> dict | None:
    """The summary as the page shows it: counts in words, adjustments by group, the lists."""
    summary = upload.summary or {}
    if not summary:
        return None
    adjustments = summary.get("adjustments", {})
    posted = summary.get("adjustments_posted", {})
    return {
        "counts": [(label, summary[key]) for key, label in COUNT_LABELS if summary.get(key)],
        "payments": summary.get("payments", "0.00"),
        "adjustments": [
            {"label": GROUP_LABELS[group], "in_file": adjustments.get(group), "posted": posted.get(group)}
            for group in ADJUSTMENT_GROUPS
        ],
        "has_adjustments": any(value not in ("0", "0.00", None) for value in (*adjustments.values(), *posted.values())),
        "unmatched": summary.get("unmatched_claims", []),
        "rejects": summary.get("rejects", []),
        "warnings": summary.get("warnings", []),
        "messages": summary.get("messages", []),
        "nothing_changed": upload.nothing_changed,
    }


def _status_context(upload: ImportUpload) -> dict:
    return {"upload": upload, "report": report_of(upload) if upload.finished else None}


@require_http_methods(["GET", "POST"])
@upload_body_limited
@requires(MANAGEMENT)
def upload_page(request):
    """GET: the upload form and the recent uploads of the user's practices. POST: keep the file and
    queue its import, then show its progress."""
    user = request.user
    if request.method == "POST":
        form = ImportUploadForm(request.POST, request.FILES, user=user)
        if form.is_valid():
            data = form.cleaned_data
            try:
                upload = services.import_upload_create(
                    acting_user=user,
                    practice_id=data["practice"].pk,
                    kind=data["kind"],
                    upload=data["file"],
                    cutoff=data.get("cutoff"),
                )
            except ApplicationError as refused:
                form.add_error(refused.field if refused.field in form.fields else None, refused.message)
            else:
                return redirect("import-upload-detail", pk=upload.pk)
    else:
        form = ImportUploadForm(user=user)
    paginator = CappedPaginator(selectors.import_upload_list(user=user), UPLOADS_PAGE_SIZE)
    number = page_number(request.GET.get("page"))
    if number > paginator.num_pages:
        raise Http404("No such page.")
    page = paginator.page(number)
    uploads = list(page.object_list)
    # File names may name a patient: the list is a read like any other.
    audit_reads(user=user, objects=uploads, field_groups={MANAGEMENT})
    context = {
        "form": form,
        "page": page,
        "uploads": uploads,
        "csv_templates": [(kind, f"{kind.title()} template") for kind in LAYOUTS],
        "limit": filesizeformat(settings.IMPORT_UPLOAD_MAX_BYTES),
    }
    return render(request, "imports/uploads.html", context, status=400 if form.errors else 200)


@require_GET
@requires(MANAGEMENT)
def upload_detail(request, pk: int):
    """One upload: its progress while it runs (the status part polls itself), then the report."""
    upload = selectors.import_upload_get(user=request.user, upload_id=pk)
    audit_read(user=request.user, obj=upload, field_groups={MANAGEMENT}, detail={"status": upload.status})
    return render(request, "imports/upload_detail.html", _status_context(upload))


@require_GET
@requires(MANAGEMENT)
def upload_progress(request, pk: int):
    """The htmx part: polls every second while the upload waits or runs; the finished version
    carries no trigger, so polling stops. The report appearing is a read, audited once."""
    upload = selectors.import_upload_get(user=request.user, upload_id=pk)
    if upload.finished:
        audit_read(user=request.user, obj=upload, field_groups={MANAGEMENT}, detail={"status": upload.status})
    return render(request, "imports/_upload_status.html", _status_context(upload))


@require_GET
@requires(MANAGEMENT)
def csv_template(request, kind: str):
    """The header row and one example row of a CSV kind (README, "Imports"): no patient's data."""
    if kind not in LAYOUTS:
        raise Http404("No such template.")
    response = HttpResponse(template_csv(kind), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{kind}-template.csv"'
    return response


@require_GET
@requires(MANAGEMENT)
def unmatched_list(request):
    """The review list: remittance claims that matched no claim of the practice. Waiting ones oldest
    first, or (`?status=resolved`) those resolved, latest first, with who resolved them and how.
    Names and member ids are PHI: each entry shown is an audited read."""
    status = request.GET.get("status")
    status = status if status in dict(selectors.UNMATCHED_STATUSES) else selectors.UNMATCHED_OPEN
    paginator = CappedPaginator(selectors.unmatched_claim_list(user=request.user, status=status), UNMATCHED_PAGE_SIZE)
    number = page_number(request.GET.get("page"))
    if number > paginator.num_pages:
        raise Http404("No such page.")
    page = paginator.page(number)
    entries = list(page.object_list)
    audit_reads(user=request.user, objects=entries, field_groups={MANAGEMENT})
    context = {"page": page, "entries": entries, "status": status, "statuses": selectors.UNMATCHED_STATUSES}
    return render(request, "imports/unmatched.html", context)


@require_http_methods(["GET", "POST"])
@requires(MANAGEMENT)
def unmatched_resolve(request, pk: int):
    """One entry of the review list: the remittance's facts and the claims it may belong to. POST
    `action` search (the terms stay in the body: control and account numbers identify a patient),
    post (to the chosen `claim`) or close (with a `note`). A resolved entry shows how it was."""
    user = request.user
    entry = selectors.unmatched_claim_get(user=user, unmatched_id=pk)
    action = request.POST.get("action") if request.method == "POST" else None
    search_form = UnmatchedSearchForm(request.POST if action == "search" else None)
    post_form = UnmatchedPostForm(request.POST if action == "post" else None)
    close_form = UnmatchedCloseForm(request.POST if action == "close" else None)
    resolving = {"post": post_form, "close": close_form}.get(action)
    if resolving is not None and entry.resolved_at is not None:
        messages.info(request, MESSAGE_ALREADY_RESOLVED)
        return redirect("import-unmatched-resolve", pk=entry.pk)
    if resolving is not None and resolving.is_valid():
        try:
            resolved = services.unmatched_claim_resolve(
                acting_user=user,
                unmatched_id=entry.pk,
                claim_id=resolving.cleaned_data.get("claim"),
                note=resolving.cleaned_data.get("note", ""),
            )
        except ApplicationError as refused:
            field = refused.field if refused.field in resolving.fields else None
            resolving.add_error(field, refused.message)
        else:
            if resolved.matched_claim_id:
                account = resolved.matched_claim.account
                messages.success(request, MESSAGE_POSTED.format(account=account.account_number))
            else:
                messages.success(request, MESSAGE_CLOSED)
            return redirect("import-unmatched-resolve", pk=entry.pk)
    suggestions = [] if entry.resolved_at else selectors.unmatched_claim_suggestions(entry=entry)
    found = None
    if search_form.is_bound and search_form.is_valid() and entry.resolved_at is None:
        found = selectors.unmatched_claim_search(entry=entry, query=search_form.cleaned_data["q"])
        # Which claims were listed, never what was typed.
        audit_record(
            user=user,
            action=AuditEvent.Action.SEARCH,
            object_type="accounts.claim",
            practice_id=entry.practice_id,
            field_group=MANAGEMENT,
            detail={"unmatched_id": entry.pk, "claim_ids": [found_one.claim.pk for found_one in found]},
        )
    detail = {"suggested_claim_ids": [suggestion.claim.pk for suggestion in suggestions]}
    audit_read(user=user, obj=entry, field_groups={MANAGEMENT}, detail=detail)
    chosen = post_form.data.get("claim") if post_form.is_bound else None
    context = {
        "entry": entry,
        "remittance": entry.remittance,
        "adjustments": [
            {"label": GROUP_LABELS[group], "amount": amount} for group, amount in entry.adjustment_totals.items()
        ],
        "claim_status": CLAIM_STATUS_LABELS.get(entry.claim_status, entry.claim_status),
        "suggestions": suggestions,
        "found": found,
        "chosen": str(chosen) if chosen else "",
        "search_form": search_form,
        "post_form": post_form,
        "close_form": close_form,
        "close_reasons": CLOSE_REASONS,
    }
    refused = any(form.is_bound and form.errors for form in (search_form, post_form, close_form))
    return render(request, "imports/unmatched_resolve.html", context, status=400 if refused else 200)
