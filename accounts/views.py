"""Account pages: search, the ledger's further pages, open encounters, and demographics editing.

The account page itself is the rep's workspace (collections_app.workspace.views.account_page).

Thin views: parse, ask the access policy (the declared field group, the scoped selector), render,
and write the audit row for what was shown. Balances, aging and the ledger go into the context
only for tiers that may see them.
"""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.urls import reverse

from accounts.forms import AccountSearchForm, PatientDemographicsForm
from accounts.selectors import (
    SEARCH_COUNT_CAP,
    AccountSearch,
    account_aging_today,
    account_get,
    account_search,
    aging_open_encounters,
    ledger_page_with_balances,
    patient_get,
    practice_list,
    practice_today,
)
from accounts.services import patient_update_demographics
from core.access import FieldGroup, can_see, requires
from core.audit import audit_read, audit_record
from core.errors import ApplicationError
from core.models import AuditEvent
from core.pagination import CappedPaginator, page_or_404

SEARCH_PAGE_SIZE = 50


@requires(FieldGroup.DEMOGRAPHICS)
def search(request):
    user = request.user
    # Search terms are PHI: they travel in a POST body, never in the URL (history, proxies, logs).
    data = request.POST if request.method == "POST" else None
    shows_billing = can_see(user, FieldGroup.BILLING)
    form = AccountSearchForm(data, practices=practice_list(user=user), shows_billing=shows_billing)
    page = None
    if form.is_bound and form.is_valid() and form.has_criteria():
        criteria = AccountSearch(
            query=form.cleaned_data["q"],
            practice_id=form.cleaned_data["practice"],
            status=form.cleaned_data.get("status", ""),
        )
        paginator = CappedPaginator(account_search(user=user, search=criteria), SEARCH_PAGE_SIZE, cap=SEARCH_COUNT_CAP)
        page = page_or_404(paginator, data.get("page"))
        shown = [account.pk for account in page.object_list]
        groups = {FieldGroup.DEMOGRAPHICS} | ({FieldGroup.BILLING} if shows_billing else set())
        # One row per search: which accounts' names were listed, never what was typed.
        audit_record(
            user=user,
            action=AuditEvent.Action.SEARCH,
            object_type="accounts.patientaccount",
            field_group=",".join(sorted(groups)),
            detail={"account_ids": shown, "result_count": paginator.count, "page": page.number},
        )
    context = {"form": form, "page": page}
    if request.htmx and not request.htmx.boosted:
        return render(request, "accounts/_search_results.html", context)
    return render(request, "accounts/search.html", context)


@requires(FieldGroup.BILLING)
def account_ledger_page(request, pk):
    """Further pages of the ledger (htmx swaps them into the account page)."""
    account = account_get(user=request.user, account_id=pk)
    ledger = ledger_page_with_balances(account=account, raw_page=request.GET.get("page"))
    audit_read(user=request.user, obj=account, field_groups={FieldGroup.BILLING}, detail={"ledger_page": ledger.number})
    context = {"account": account, "ledger": ledger}
    if request.htmx:
        return render(request, "accounts/_ledger.html", context)
    return render(request, "accounts/account_ledger.html", context)


@requires(FieldGroup.BILLING)
def account_open_encounters(request, pk):
    """Every open encounter of the account (the account page shows the oldest few)."""
    account = account_get(user=request.user, account_id=pk)
    aging = account_aging_today(account)
    audit_read(user=request.user, obj=account, field_groups={FieldGroup.BILLING}, detail={"open_encounters": "all"})
    context = {"account": account, "open_encounters": aging_open_encounters(aging)}
    return render(request, "accounts/_open_encounter_rows.html", context)


def _add_errors(form, error: ValidationError) -> None:
    if hasattr(error, "error_dict"):
        for field, messages_ in error.message_dict.items():
            form.add_error(field if field in form.fields else None, messages_)
    else:
        form.add_error(None, error.messages)


@requires(FieldGroup.DEMOGRAPHICS)
def patient_edit(request, pk):
    user = request.user
    patient = patient_get(user=user, patient_id=pk)
    saved = False
    if request.method == "POST":
        form = PatientDemographicsForm(request.POST, today=practice_today(patient.practice))
        if form.is_valid():
            try:
                patient = patient_update_demographics(
                    acting_user=user,
                    patient_id=patient.pk,
                    expected_updated_at=form.cleaned_data["updated_at"],
                    **form.changes(),
                )
            except ApplicationError as error:
                error.add_to_form(form)
            except ValidationError as error:
                _add_errors(form, error)
            else:
                if not request.htmx:
                    messages.success(request, "Demographics saved.")
                    return redirect(reverse("patient-edit", args=[patient.pk]))
                saved = True
                form = PatientDemographicsForm.for_patient(patient)
    else:
        form = PatientDemographicsForm.for_patient(patient)
        audit_read(user=user, obj=patient, field_groups={FieldGroup.DEMOGRAPHICS})
    context = {
        "patient": patient,
        "form": form,
        "saved": saved,
        "accounts": list(patient.accounts.order_by("account_number").only("id", "account_number", "status")),
        "address_history": list(patient.address_history.select_related("recorded_by").order_by("-recorded_at")),
    }
    if request.htmx:
        return render(request, "accounts/_patient_form.html", context)
    return render(request, "accounts/patient_edit.html", context)
