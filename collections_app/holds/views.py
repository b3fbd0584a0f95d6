"""The holds panel of the account workspace, its htmx actions, and the audited LOP letter view."""

from django.contrib import messages
from django.http import FileResponse, Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from accounts.selectors import account_get
from collections_app.holds.forms import HoldPlaceForm, HoldReleaseForm, LopStatusCheckForm
from collections_app.holds.selectors import account_holds_for_panel, hold_get
from collections_app.holds.services import hold_place, hold_release, lop_letter_attach, lop_status_check
from collections_app.models import AccountHold
from core.access import FieldGroup, requires
from core.audit import audit_read
from core.errors import ApplicationError
from core.panels import panel_response

PANEL_TEMPLATE = "collections_app/holds/_panel.html"


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


def _panel_response(request, account, *, changed: bool, **context_overrides):
    if not request.htmx:
        if not changed:
            for errors in (context_overrides.get("form_errors") or {}).values():
                messages.error(request, " ".join(errors))
            place_form = context_overrides.get("place_form")
            if place_form is not None and place_form.errors:
                messages.error(request, "The hold was not placed: " + " ".join(place_form.errors.get("__all__", [])))
        return redirect(reverse("account-detail", args=[account.pk]))
    context = {**panel_context(request, account, **context_overrides), "account": account}
    return panel_response(request, PANEL_TEMPLATE, context, changed=changed)


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


@requires(FieldGroup.BILLING)
@require_POST
def hold_place_view(request, pk):
    account = account_get(user=request.user, account_id=pk)
    form = HoldPlaceForm(request.POST, request.FILES)
    if form.is_valid():
        kind = form.cleaned_data["kind"]
        try:
            hold_place(
                acting_user=request.user,
                account_id=account.pk,
                kind=kind,
                lop_letter=form.cleaned_data.get("lop_letter") if kind == AccountHold.Kind.LOP else None,
                **form.details(),
            )
        except ApplicationError as error:
            error.add_to_form(form)
        else:
            if not request.htmx:
                messages.success(request, "Hold placed.")
            account = account_get(user=request.user, account_id=pk)
            return _panel_response(request, account, changed=True)
    return _panel_response(request, account, changed=False, place_form=form)


@requires(FieldGroup.BILLING)
@require_POST
def hold_release_view(request, pk, hold_pk):
    account = account_get(user=request.user, account_id=pk)
    hold = _hold_of_account(request, account, hold_pk)
    form = HoldReleaseForm(request.POST)
    errors = []
    if form.is_valid():
        try:
            hold_release(acting_user=request.user, hold_id=hold.pk, reason=form.cleaned_data["reason"])
        except ApplicationError as error:
            errors.append(error.message)
        else:
            if not request.htmx:
                messages.success(request, "Hold released.")
            account = account_get(user=request.user, account_id=pk)
            return _panel_response(request, account, changed=True)
    else:
        errors.extend(message for field_errors in form.errors.values() for message in field_errors)
    return _panel_response(request, account, changed=False, form_errors={f"release-{hold.pk}": errors})


@requires(FieldGroup.BILLING)
@require_POST
def lop_status_check_view(request, pk, hold_pk):
    account = account_get(user=request.user, account_id=pk)
    hold = _hold_of_account(request, account, hold_pk)
    form = LopStatusCheckForm(request.POST)
    errors = []
    if form.is_valid():
        try:
            lop_status_check(
                acting_user=request.user,
                hold_id=hold.pk,
                status=form.cleaned_data["status"],
                settlement_amount=form.cleaned_data["settlement_amount"],
                note=form.cleaned_data["note"],
            )
        except ApplicationError as error:
            errors.append(error.message)
        else:
            if not request.htmx:
                messages.success(request, "Status check recorded.")
            return _panel_response(request, account, changed=True)
    else:
        errors.extend(message for field_errors in form.errors.values() for message in field_errors)
    return _panel_response(request, account, changed=False, form_errors={f"check-{hold.pk}": errors})


@requires(FieldGroup.BILLING)
@require_POST
def lop_letter_attach_view(request, pk, hold_pk):
    account = account_get(user=request.user, account_id=pk)
    hold = _hold_of_account(request, account, hold_pk)
    errors = []
    try:
        lop_letter_attach(acting_user=request.user, hold_id=hold.pk, lop_letter=request.FILES.get("lop_letter"))
    except ApplicationError as error:
        errors.append(error.message)
    else:
        if not request.htmx:
            messages.success(request, "Letter attached.")
        return _panel_response(request, account, changed=True)
    return _panel_response(request, account, changed=False, form_errors={f"letter-{hold.pk}": errors})


@requires(FieldGroup.BILLING)
@require_GET
def lop_letter(request, pk):
    """The Letter of Protection PDF: private storage, served only here, every read audited."""
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
    response = FileResponse(
        handle, content_type="application/pdf", as_attachment=False, filename=f"letter-of-protection-{hold.pk}.pdf"
    )
    response["Cache-Control"] = "no-store, private"
    response["X-Content-Type-Options"] = "nosniff"
    return response
