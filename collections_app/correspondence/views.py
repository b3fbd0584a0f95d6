"""The mail and inquiries panel of the account workspace and its htmx actions."""

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from accounts.selectors import account_get, account_practice_today
from collections_app.correspondence.forms import (
    AddressCorrectionForm,
    InquiryOpenForm,
    InquiryRespondForm,
    ReturnedMailForm,
    ReturnedMailResolveForm,
)
from collections_app.correspondence.selectors import correspondence_for_panel, inquiry_get, returned_mail_get
from collections_app.correspondence.services import (
    address_correct,
    inquiry_open,
    inquiry_respond,
    returned_mail_record,
    returned_mail_resolve,
)
from core.access import FieldGroup, requires
from core.audit import audit_read
from core.errors import ApplicationError
from core.panels import panel_response

PANEL_TEMPLATE = "collections_app/correspondence/_panel.html"


def panel_context(request, account, *, forms: dict | None = None, row_errors: dict | None = None) -> dict:
    today = account_practice_today(account)
    context = correspondence_for_panel(account=account, today=today)
    row_errors = row_errors or {}
    for row in context["mail_open"]:
        row.errors = row_errors.get(f"mail-{row.pk}", [])
    for inquiry in context["inquiries_open"]:
        inquiry.errors = row_errors.get(f"inquiry-{inquiry.pk}", [])
    forms = forms or {}
    patient = account.patient
    context.update(
        {
            "patient": patient,
            "today": today,
            "returned_mail_form": forms.get("returned_mail") or ReturnedMailForm(initial={"received_on": today}),
            "address_form": forms.get("address")
            or AddressCorrectionForm(initial={name: getattr(patient, name) for name in patient.ADDRESS_FIELDS}),
            "inquiry_form": forms.get("inquiry") or InquiryOpenForm(initial={"channel": "phone"}),
            "resolutions": ReturnedMailResolveForm.base_fields["resolution"].choices,
            "overdue_count": sum(1 for inquiry in context["inquiries_open"] if inquiry.is_overdue),
        }
    )
    return context


def _respond(request, account, *, changed: bool, success: str = "", **overrides):
    if not request.htmx:
        if changed:
            messages.success(request, success)
        else:
            for form in (overrides.get("forms") or {}).values():
                for errors in form.errors.values():
                    messages.error(request, " ".join(errors))
            for errors in (overrides.get("row_errors") or {}).values():
                messages.error(request, " ".join(errors))
        return redirect(reverse("account-detail", args=[account.pk]))
    if changed:
        account = account_get(user=request.user, account_id=account.pk)
    context = {**panel_context(request, account, **overrides), "account": account}
    return panel_response(request, PANEL_TEMPLATE, context, changed=changed)


def _form_errors(form) -> list[str]:
    return [message for errors in form.errors.values() for message in errors]


@requires(FieldGroup.BILLING)
@require_GET
def correspondence_panel(request, pk):
    account = account_get(user=request.user, account_id=pk)
    audit_read(
        user=request.user,
        obj=account,
        field_groups={FieldGroup.BILLING, FieldGroup.DEMOGRAPHICS},
        detail={"panel": "correspondence"},
    )
    return render(request, PANEL_TEMPLATE, {**panel_context(request, account), "account": account})


@requires(FieldGroup.BILLING)
@require_POST
def returned_mail_record_view(request, pk):
    account = account_get(user=request.user, account_id=pk)
    form = ReturnedMailForm(request.POST)
    if form.is_valid():
        try:
            returned_mail_record(acting_user=request.user, account_id=account.pk, **form.cleaned_data)
        except ApplicationError as error:
            error.add_to_form(form)
        else:
            return _respond(request, account, changed=True, success="Returned mail recorded; mailings stopped.")
    return _respond(request, account, changed=False, forms={"returned_mail": form})


@requires(FieldGroup.BILLING)
@require_POST
def address_correct_view(request, pk):
    account = account_get(user=request.user, account_id=pk)
    form = AddressCorrectionForm(request.POST)
    if form.is_valid():
        try:
            address_correct(acting_user=request.user, patient_id=account.patient_id, **form.cleaned_data)
        except ApplicationError as error:
            error.add_to_form(form)
        else:
            return _respond(request, account, changed=True, success="Address corrected; mailings resume.")
    return _respond(request, account, changed=False, forms={"address": form})


@requires(FieldGroup.BILLING)
@require_POST
def returned_mail_resolve_view(request, pk, mail_pk):
    account = account_get(user=request.user, account_id=pk)
    row = returned_mail_get(user=request.user, returned_mail_id=mail_pk)
    if row.patient_id != account.patient_id:
        raise Http404("No such returned mail on this account.")
    form = ReturnedMailResolveForm(request.POST)
    errors = []
    if form.is_valid():
        try:
            returned_mail_resolve(
                acting_user=request.user, returned_mail_id=row.pk, resolution=form.cleaned_data["resolution"]
            )
        except ApplicationError as error:
            errors.append(error.message)
        else:
            return _respond(request, account, changed=True, success="Returned mail resolved.")
    else:
        errors = _form_errors(form)
    return _respond(request, account, changed=False, row_errors={f"mail-{row.pk}": errors})


@requires(FieldGroup.BILLING)
@require_POST
def inquiry_open_view(request, pk):
    account = account_get(user=request.user, account_id=pk)
    form = InquiryOpenForm(request.POST)
    if form.is_valid():
        try:
            inquiry_open(acting_user=request.user, account_id=account.pk, **form.cleaned_data)
        except ApplicationError as error:
            error.add_to_form(form)
        else:
            return _respond(request, account, changed=True, success="Inquiry logged.")
    return _respond(request, account, changed=False, forms={"inquiry": form})


@requires(FieldGroup.BILLING)
@require_POST
def inquiry_respond_view(request, pk, inquiry_pk):
    account = account_get(user=request.user, account_id=pk)
    inquiry = inquiry_get(user=request.user, inquiry_id=inquiry_pk)
    if inquiry.account_id != account.pk:
        raise Http404("No such inquiry on this account.")
    form = InquiryRespondForm(request.POST)
    errors = []
    if form.is_valid():
        try:
            inquiry_respond(acting_user=request.user, inquiry_id=inquiry.pk, response=form.cleaned_data["response"])
        except ApplicationError as error:
            errors.append(error.message)
        else:
            return _respond(request, account, changed=True, success="Response recorded.")
    else:
        errors = _form_errors(form)
    return _respond(request, account, changed=False, row_errors={f"inquiry-{inquiry.pk}": errors})
