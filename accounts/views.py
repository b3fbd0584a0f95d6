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
from core.pagination import CappedPaginator, page_number, page_or_404

SEARCH_PAGE_SIZE = 50
# The user's last search, kept in their (server-side) session so that Back, or the account page's
# "Search" crumb, shows it again: the criteria and the page, never the results, which are looked up
# again through the scoped selector and audited each time they are shown. Logging out (or the idle
# timeout) flushes the session and the search with it.
LAST_SEARCH_KEY = "accounts:last_search"


@requires(FieldGroup.DEMOGRAPHICS)
def search(request):
    user = request.user
    if request.method == "POST" and request.POST.get("clear"):
        request.session.pop(LAST_SEARCH_KEY, None)
        return redirect("search")
    # Search terms are PHI: they travel in a POST body, never in the URL (history, proxies, logs).
    # A GET shows the search remembered from the last POST; anything in the query string is ignored.
    replay = request.method != "POST"
    data = request.session.get(LAST_SEARCH_KEY) if replay else request.POST
    shows_billing = can_see(user, FieldGroup.BILLING)
    practices = practice_list(user=user)
    form = AccountSearchForm(data, practices=practices, shows_billing=shows_billing)
    searching = form.is_bound and form.is_valid() and form.has_criteria()
    if form.is_bound and not searching and (replay or form.is_valid()):
        # Nothing to search for: an emptied search box forgets the search, and so does a remembered
        # one that no longer validates (a practice taken away since), which opens the page empty.
        request.session.pop(LAST_SEARCH_KEY, None)
        if replay:
            form = AccountSearchForm(practices=practices, shows_billing=shows_billing)
    if not replay and form.is_valid() and _submitted_by_browser(request):
        # A form the browser itself sent (the top bar's, the dashboard's, the search page's without
        # JavaScript) becomes a history entry, and Back to a POST answer that may not be stored
        # (no-store) is "Confirm Form Resubmission". Answer it with the search page by GET.
        if searching:
            _remember_search(request, {**form.criteria(), "page": page_number(data.get("page"))})
        return redirect("search")
    page = None
    if searching:
        page = _search_page(user, form, data.get("page"), shows_billing=shows_billing, replay=replay)
        _remember_search(request, {**form.criteria(), "page": page.number})
    context = {"form": form, "page": page}
    if request.htmx and not request.htmx.boosted:
        return render(request, "accounts/_search_results.html", context)
    return render(request, "accounts/search.html", context)


def _submitted_by_browser(request) -> bool:
    """A top-level form submission (Fetch Metadata), not htmx's request for the results fragment."""
    return request.headers.get("Sec-Fetch-Mode") == "navigate" and not request.htmx


def _search_page(user, form, raw_page, *, shows_billing: bool, replay: bool):
    criteria = AccountSearch(
        query=form.cleaned_data["q"],
        practice_id=form.cleaned_data["practice"],
        status=form.cleaned_data.get("status", ""),
    )
    paginator = CappedPaginator(account_search(user=user, search=criteria), SEARCH_PAGE_SIZE, cap=SEARCH_COUNT_CAP)
    if replay:
        # The remembered page may be past the end by now (accounts closed or moved since): the last.
        page = paginator.page(min(page_number(raw_page), paginator.num_pages))
    else:
        page = page_or_404(paginator, raw_page)
    groups = {FieldGroup.DEMOGRAPHICS} | ({FieldGroup.BILLING} if shows_billing else set())
    # One row per practice whose accounts were listed, carrying that practice, so the audit trail
    # filtered by practice finds the search: which accounts' names were listed, never what was
    # typed. A search that listed nothing is one row, with the practice searched in if one was chosen.
    by_practice: dict[int | None, list[int]] = {}
    for account in page.object_list:
        by_practice.setdefault(account.practice_id, []).append(account.pk)
    if not by_practice:
        by_practice[criteria.practice_id] = []
    for practice_id, shown in sorted(by_practice.items(), key=lambda item: item[0] or 0):
        audit_record(
            user=user,
            action=AuditEvent.Action.SEARCH,
            object_type="accounts.patientaccount",
            practice_id=practice_id,
            field_group=",".join(sorted(groups)),
            detail={"account_ids": shown, "result_count": paginator.count, "page": page.number},
        )
    return page


def _remember_search(request, criteria: dict) -> None:
    if request.session.get(LAST_SEARCH_KEY) != criteria:  # no session write when nothing changed
        request.session[LAST_SEARCH_KEY] = criteria


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
