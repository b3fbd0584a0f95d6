"""The mail and inquiries panel of the account workspace and its htmx actions."""

from django.http import Http404
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from accounts.selectors import account_get, account_practice_today
from collections_app.correspondence.addresses import GUARANTOR, writes_to_guarantor_record
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
    guarantor_address_correct,
    inquiry_open,
    inquiry_respond,
    returned_mail_record,
    returned_mail_resolve,
)
from collections_app.models import ReturnedMail
from core.access import FieldGroup, requires
from core.audit import audit_read
from core.panels import form_error_messages, panel_action

PANEL_KEY = "correspondence"
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
    patient, guarantor = account.patient, account.guarantor
    # A guarantor who is not the patient is mailed at their own address (correspondence.addresses):
    # the panel shows and corrects that address beside the patient's.
    own_address = writes_to_guarantor_record(party=GUARANTOR, relationship=guarantor.relationship)
    mail_goes_to = ReturnedMail.Recipient.GUARANTOR if own_address else ReturnedMail.Recipient.PATIENT
    context.update(
        {
            "patient": patient,
            "guarantor": guarantor,
            "guarantor_own_address": own_address,
            "today": today,
            "returned_mail_form": forms.get("returned_mail")
            or ReturnedMailForm(initial={"received_on": today, "recipient": mail_goes_to}),
            "address_form": forms.get("address")
            or AddressCorrectionForm(initial={name: getattr(patient, name) for name in patient.ADDRESS_FIELDS}),
            "guarantor_address_form": forms.get("guarantor_address")
            or AddressCorrectionForm(
                prefix="guarantor", initial={name: getattr(guarantor, name) for name in guarantor.ADDRESS_FIELDS}
            ),
            "inquiry_form": forms.get("inquiry") or InquiryOpenForm(initial={"channel": "phone"}),
            "resolutions": ReturnedMailResolveForm.base_fields["resolution"].choices,
            "overdue_count": sum(1 for inquiry in context["inquiries_open"] if inquiry.is_overdue),
        }
    )
    return context


def _act(request, account, *, form, perform, success, form_key: str = "", row: str = ""):
    """One mail or inquiry action through core.panels.panel_action: a form's errors show on the form
    (`form_key`), a row action's on its row (`row`)."""

    def render_panel(*, form, flash):
        fresh = account_get(user=request.user, account_id=account.pk)
        overrides = {}
        if form is not None:
            overrides = {"row_errors": {row: form_error_messages(form)}} if row else {"forms": {form_key: form}}
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

    def perform(data):
        return returned_mail_record(
            acting_user=request.user,
            account_id=account.pk,
            received_on=data["received_on"],
            reason=data["reason"],
            recipient=data.get("recipient") or None,
        )

    def success(row) -> str:  # "...mailings to the guarantor's address stopped."
        return f"Returned mail recorded; mailings to the {row.get_recipient_display().lower()} stopped."

    form = ReturnedMailForm(request.POST)
    return _act(request, account, form=form, perform=perform, success=success, form_key="returned_mail")


@requires(FieldGroup.BILLING)
@require_POST
def address_correct_view(request, pk):
    account = account_get(user=request.user, account_id=pk)

    def perform(data):
        address_correct(acting_user=request.user, patient_id=account.patient_id, **data)

    form = AddressCorrectionForm(request.POST)
    return _act(
        request, account, form=form, perform=perform, success="Address corrected; mailings resume.", form_key="address"
    )


@requires(FieldGroup.BILLING)
@require_POST
def guarantor_address_correct_view(request, pk):
    """Correct the address of the account's guarantor who is mailed at their own address."""
    account = account_get(user=request.user, account_id=pk)

    def perform(data):  # a guarantor who is the patient is refused: the patient's address is theirs
        guarantor_address_correct(acting_user=request.user, guarantor_id=account.guarantor_id, **data)

    form = AddressCorrectionForm(request.POST, prefix="guarantor")
    success = "Guarantor's address corrected; mailings to the guarantor resume."
    return _act(request, account, form=form, perform=perform, success=success, form_key="guarantor_address")


@requires(FieldGroup.BILLING)
@require_POST
def returned_mail_resolve_view(request, pk, mail_pk):
    account = account_get(user=request.user, account_id=pk)
    row = returned_mail_get(user=request.user, returned_mail_id=mail_pk)
    # Mail from the patient's address, or from this account's guarantor's own address.
    if row.guarantor_id is not None:
        on_this_account = row.guarantor_id == account.guarantor_id
    else:
        on_this_account = row.patient_id == account.patient_id
    if not on_this_account:
        raise Http404("No such returned mail on this account.")

    def perform(data):
        returned_mail_resolve(acting_user=request.user, returned_mail_id=row.pk, resolution=data["resolution"])

    form = ReturnedMailResolveForm(request.POST)
    return _act(request, account, form=form, perform=perform, success="Returned mail resolved.", row=f"mail-{row.pk}")


@requires(FieldGroup.BILLING)
@require_POST
def inquiry_open_view(request, pk):
    account = account_get(user=request.user, account_id=pk)

    def perform(data):
        inquiry_open(acting_user=request.user, account_id=account.pk, **data)

    form = InquiryOpenForm(request.POST)
    return _act(request, account, form=form, perform=perform, success="Inquiry logged.", form_key="inquiry")


@requires(FieldGroup.BILLING)
@require_POST
def inquiry_respond_view(request, pk, inquiry_pk):
    account = account_get(user=request.user, account_id=pk)
    inquiry = inquiry_get(user=request.user, inquiry_id=inquiry_pk)
    if inquiry.account_id != account.pk:
        raise Http404("No such inquiry on this account.")

    def perform(data):
        inquiry_respond(acting_user=request.user, inquiry_id=inquiry.pk, response=data["response"])

    form = InquiryRespondForm(request.POST)
    row = f"inquiry-{inquiry.pk}"
    return _act(request, account, form=form, perform=perform, success="Response recorded.", row=row)
