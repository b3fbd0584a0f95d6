"""The holds panel of the account workspace, its htmx actions, and the audited LOP letter view."""

from functools import wraps

from django.conf import settings
from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.http import require_GET, require_POST

from accounts.selectors import account_get
from collections_app.holds.forms import HoldPlaceForm, HoldReleaseForm, LopLetterAttachForm, LopStatusCheckForm
from collections_app.holds.selectors import account_holds_for_panel, hold_get
from collections_app.holds.services import (
    hold_place,
    hold_release,
    letter_too_large_message,
    lop_letter_attach,
    lop_status_check,
)
from collections_app.models import AccountHold
from core.access import FieldGroup, requires
from core.audit import audit_read
from core.downloads import phi_pdf_download
from core.panels import form_error_messages, panel_action

PANEL_KEY = "holds"
PANEL_TEMPLATE = "collections_app/holds/_panel.html"
# Room beside the letter in an upload's body: the form's other fields and the multipart framing.
UPLOAD_BODY_MARGIN_BYTES = 512 * 1024


def upload_body_too_large(request) -> bool:
    """The declared body is larger than a letter and its form can make (read before the body is)."""
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0  # Django reads no body when the length is not a number
    return length > settings.LOP_LETTER_MAX_BYTES + UPLOAD_BODY_MARGIN_BYTES


def upload_body_limited(view):
    """Answer 413 to a body larger than a letter and its form can make, before anything reads it.

    CsrfViewMiddleware reads request.POST before any view runs, and for a multipart body that
    streams the whole upload to a temporary file. So the wrapped view is exempt from the middleware
    and checks CSRF itself (csrf_protect), after the size."""
    protected = csrf_protect(view)

    @wraps(view)
    def guarded(request, *args, **kwargs):
        if upload_body_too_large(request):
            return HttpResponse(
                f"{letter_too_large_message()} Nothing was saved.", status=413, content_type="text/plain; charset=utf-8"
            )
        return protected(request, *args, **kwargs)

    guarded.csrf_exempt = True
    return guarded


def panel_context(request, account, *, place_form=None, form_errors=None) -> dict:
    active, released = account_holds_for_panel(account=account)
    form_errors = form_errors or {}
    for hold in active:
        hold.release_errors = form_errors.get(f"release-{hold.pk}", [])
        hold.check_errors = form_errors.get(f"check-{hold.pk}", [])
        hold.letter_errors = form_errors.get(f"letter-{hold.pk}", [])
    return {
        "holds_active": active,
        "holds_released": released,
        "hold_place_form": place_form or HoldPlaceForm(),
        "lop_statuses": AccountHold.LopStatus.choices,
    }


def _act(request, account, *, form, perform, success: str, row: str = ""):
    """One hold action through core.panels.panel_action. A row action's errors show on its row."""

    def render_panel(*, form, flash):
        fresh = account_get(user=request.user, account_id=account.pk)
        # A row action's errors show on the hold's row; the place-a-hold form shows its own.
        errors = {"form_errors": {row: form_error_messages(form) if form else []}}
        overrides = errors if row else {"place_form": form}
        context = {**panel_context(request, fresh, **overrides), "account": fresh, "panel_flash": flash}
        return render(request, PANEL_TEMPLATE, context)

    return panel_action(
        request,
        form=form,
        perform=perform,
        success=success,
        render_panel=render_panel,
        redirect_to=reverse("account-detail", args=[account.pk]),
        panel=PANEL_KEY,
    )


def _hold_of_account(request, account, hold_pk) -> AccountHold:
    hold = hold_get(user=request.user, hold_id=hold_pk)
    if hold.account_id != account.pk:
        raise Http404("No such hold on this account.")
    return hold


@requires(FieldGroup.BILLING)
@require_GET
def holds_panel(request, pk):
    account = account_get(user=request.user, account_id=pk)
    audit_read(user=request.user, obj=account, field_groups={FieldGroup.BILLING}, detail={"panel": "holds"})
    context = {**panel_context(request, account), "account": account}
    return render(request, PANEL_TEMPLATE, context)


@requires(FieldGroup.BILLING)
@require_GET
def hold_kind_fields(request, pk):
    """The fields of the chosen kind (htmx swaps them into the place-a-hold form)."""
    account = account_get(user=request.user, account_id=pk)
    form = HoldPlaceForm(initial={"kind": request.GET.get("kind", "")})
    kind = request.GET.get("kind", "")
    return render(
        request,
        "collections_app/holds/_kind_fields.html",
        {"account": account, "fields": form.kind_fields(kind), "kind": kind},
    )


@upload_body_limited
@requires(FieldGroup.BILLING)
@require_POST
def hold_place_view(request, pk):
    account = account_get(user=request.user, account_id=pk)
    form = HoldPlaceForm(request.POST, request.FILES)

    def perform(data):
        kind = data["kind"]
        hold_place(
            acting_user=request.user,
            account_id=account.pk,
            kind=kind,
            lop_letter=data.get("lop_letter") if kind == AccountHold.Kind.LOP else None,
            **form.details(),
        )

    return _act(request, account, form=form, perform=perform, success="Hold placed.")


@requires(FieldGroup.BILLING)
@require_POST
def hold_release_view(request, pk, hold_pk):
    account = account_get(user=request.user, account_id=pk)
    hold = _hold_of_account(request, account, hold_pk)

    def perform(data):
        hold_release(acting_user=request.user, hold_id=hold.pk, reason=data["reason"])

    form = HoldReleaseForm(request.POST)
    return _act(request, account, form=form, perform=perform, success="Hold released.", row=f"release-{hold.pk}")


@requires(FieldGroup.BILLING)
@require_POST
def lop_status_check_view(request, pk, hold_pk):
    account = account_get(user=request.user, account_id=pk)
    hold = _hold_of_account(request, account, hold_pk)

    def perform(data):
        lop_status_check(
            acting_user=request.user,
            hold_id=hold.pk,
            status=data["status"],
            settlement_amount=data["settlement_amount"],
            note=data["note"],
        )

    form = LopStatusCheckForm(request.POST)
    return _act(request, account, form=form, perform=perform, success="Status check recorded.", row=f"check-{hold.pk}")


@upload_body_limited
@requires(FieldGroup.BILLING)
@require_POST
def lop_letter_attach_view(request, pk, hold_pk):
    account = account_get(user=request.user, account_id=pk)
    hold = _hold_of_account(request, account, hold_pk)

    def perform(data):
        lop_letter_attach(acting_user=request.user, hold_id=hold.pk, lop_letter=data["lop_letter"])

    form = LopLetterAttachForm(request.POST, request.FILES)
    return _act(request, account, form=form, perform=perform, success="Letter attached.", row=f"letter-{hold.pk}")


@requires(FieldGroup.BILLING)
@require_GET
def lop_letter(request, pk):
    """The Letter of Protection PDF: private storage, served only here, every read audited.

    A download, never shown in the browser's tab: a letter stored before uploads were checked may still
    hold script, and `sandbox` keeps any document it becomes from running with the app's origin."""
    hold = hold_get(user=request.user, hold_id=pk)
    if not hold.lop_letter:
        raise Http404("This hold has no letter on file.")
    try:
        handle = hold.lop_letter.open("rb")
    except FileNotFoundError:
        raise Http404("The letter file is missing.") from None
    audit_read(
        user=request.user,
        obj=hold,
        field_groups={FieldGroup.BILLING},
        detail={"account_id": hold.account_id, "document": "lop_letter"},
    )
    return phi_pdf_download(handle, filename=f"letter-of-protection-{hold.pk}.pdf")
