"""Account pages: search, the account page, its ledger, and demographics editing.

Thin views: parse, ask the access policy (the declared field group, the scoped selector), render,
and write the audit row for what was shown. Balances, aging and the ledger go into the context
only for tiers that may see them.
"""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Exists, OuterRef, Q, Sum
from django.db.models.functions import Coalesce
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.functional import cached_property

from accounts.forms import AccountSearchForm, PatientDemographicsForm
from accounts.models import Transaction
from accounts.money import ZERO
from accounts.selectors import (
    SEARCH_COUNT_CAP,
    AccountSearch,
    account_aging_today,
    account_get,
    account_is_past_due,
    account_ledger,
    account_search,
    patient_get,
    patient_upcoming_appointments,
    practice_list,
)
from accounts.services import patient_update_demographics
from collections_app.access import FieldGroup, can_see, requires
from collections_app.audit import audit_read, audit_record
from collections_app.errors import ApplicationError
from collections_app.models import AuditEvent
from collections_app.pagination import page_number
from collections_app.workspace.selectors import hold_reason_label
from collections_app.workspace.views import workspace_context

SEARCH_PAGE_SIZE = 50
LEDGER_PAGE_SIZE = 50
# The account page lists the oldest open encounters first; an account with hundreds of visits
# shows the rest on request (the heaviest accounts must still open in well under 300 ms).
OPEN_ENCOUNTERS_SHOWN = 50


class CappedPaginator(Paginator):
    """Counts at most SEARCH_COUNT_CAP + 1 rows: a common surname at 1M patients is "1,000+"."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.cap = SEARCH_COUNT_CAP
        self.cap_display = f"{self.cap:,}"

    @cached_property
    def count(self) -> int:
        # No ordering and no joined columns: counting needs neither.
        return self.object_list.order_by().values("pk")[: self.cap + 1].count()

    @property
    def is_capped(self) -> bool:
        return self.count > self.cap


def _page_or_404(paginator: Paginator, raw):
    number = page_number(raw)
    if number > paginator.num_pages:
        raise Http404("No such page.")
    return paginator.page(number)


@requires(FieldGroup.DEMOGRAPHICS)
def search(request):
    user = request.user
    # Search terms are PHI: they travel in a POST body, never in the URL (history, proxies, logs).
    data = request.POST if request.method == "POST" else None
    form = AccountSearchForm(data, practices=practice_list(user=user))
    page = None
    if form.is_bound and form.is_valid() and form.has_criteria():
        criteria = AccountSearch(
            query=form.cleaned_data["q"],
            practice_id=form.cleaned_data["practice"],
            status=form.cleaned_data["status"],
        )
        paginator = CappedPaginator(account_search(user=user, search=criteria), SEARCH_PAGE_SIZE)
        page = _page_or_404(paginator, data.get("page"))
        shown = [account.pk for account in page.object_list]
        groups = {FieldGroup.DEMOGRAPHICS} | ({FieldGroup.BILLING} if can_see(user, FieldGroup.BILLING) else set())
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


def _ledger_page(account, raw_page):
    """One page of the ledger, newest first, each row with the patient balance after it.

    The newest row leaves the stored patient balance (it always equals the ledger: check_ledger),
    so walking back from it needs no running-sum query; later pages subtract the newer rows.
    """
    newest_first = (
        account_ledger(account=account)
        .reverse()
        .annotate(is_reversed=Exists(Transaction.objects.filter(reverses=OuterRef("pk"))))
    )
    paginator = Paginator(newest_first, LEDGER_PAGE_SIZE)
    page = _page_or_404(paginator, raw_page)
    rows = list(page.object_list)
    balance = account.patient_balance
    if rows and page.number > 1:
        newest = rows[0]
        newer = Transaction.objects.filter(account=account).filter(
            Q(effective_on__gt=newest.effective_on) | Q(effective_on=newest.effective_on, id__gt=newest.id)
        )
        balance -= newer.aggregate(total=Coalesce(Sum("patient_amount"), ZERO))["total"]
    for row in rows:
        row.patient_balance_after = balance
        balance -= row.patient_amount
    page.rows = rows
    return page


def _open_encounters(aging) -> list:
    """Encounters with an open patient balance, oldest first."""
    return [row for row in aging.encounters if row.open_amount > 0]


@requires(FieldGroup.DEMOGRAPHICS)
def account_detail(request, pk):
    user = request.user
    account = account_get(user=user, account_id=pk)
    patient = account.patient
    aging = account_aging_today(account)
    shows_billing = can_see(user, FieldGroup.BILLING)
    shows_identifiers = can_see(user, FieldGroup.DIRECTOR)
    groups = {FieldGroup.DEMOGRAPHICS, FieldGroup.PAST_DUE_FLAG}
    context = {
        "account": account,
        "patient": patient,
        "guarantor": account.guarantor,
        "past_due": account_is_past_due(account, aging),
        "hold_reason_label": hold_reason_label(account.hold_reason),
        "appointments": list(patient_upcoming_appointments(patient=patient)),
        "shows_billing": shows_billing,
        "shows_identifiers": shows_identifiers,
    }
    if shows_billing:
        groups.add(FieldGroup.BILLING)
        open_encounters = _open_encounters(aging)
        context.update(
            {
                "balances": {
                    "patient": account.patient_balance,
                    "insurance": account.insurance_balance,
                    "total": account.total_balance,
                },
                "aging": aging,
                "open_encounters": open_encounters[:OPEN_ENCOUNTERS_SHOWN],
                "open_encounter_count": len(open_encounters),
                "ledger": _ledger_page(account, 1),
            }
        )
        # The rep's workspace: header flags, the queue's claim bar, the action panels (each runs
        # its own queries only for tiers that may see it); the timeline loads by htmx afterwards.
        context.update(workspace_context(request, account))
    if shows_identifiers:
        groups.add(FieldGroup.DIRECTOR)
    audit_read(user=user, obj=account, field_groups=groups)
    return render(request, "accounts/account_detail.html", context)


@requires(FieldGroup.BILLING)
def account_ledger_page(request, pk):
    """Further pages of the ledger (htmx swaps them into the account page)."""
    account = account_get(user=request.user, account_id=pk)
    ledger = _ledger_page(account, request.GET.get("page"))
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
    context = {"account": account, "open_encounters": _open_encounters(aging)}
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
        form = PatientDemographicsForm(request.POST)
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
