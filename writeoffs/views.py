"""Write-off pages: the workspace panel a rep proposes from, the manager's approvals page (bulk
preview then confirm, denials, the night's small-balance runs, reversals) and a request's own page.

Thin views: the declared field group, the scoped selector (another practice's request is a 404),
one service call, an audit row for what was shown. The approval matrix (who may approve what
amount, never the requester) lives in the services; the pages only say what it answered.
"""

from decimal import Decimal

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_POST

from accounts.money import ZERO
from accounts.selectors import account_aging_today, account_get, aging_open_encounters, practice_list
from core.access import FieldGroup, can_see, get_scoped_or_404, requires, scope_to_user
from core.audit import audit_read, audit_reads
from core.display import staff_name
from core.errors import ApplicationError
from core.pagination import page_number
from core.panels import form_error_messages, panel_action
from writeoffs import selectors, services
from writeoffs.forms import (
    ApprovalFilterForm,
    ConfirmForm,
    DenyForm,
    ProposeForm,
    ReverseForm,
    RunDiscardForm,
    SelectionForm,
)
from writeoffs.models import SmallBalanceRun, WriteOffRequest

PANEL_KEY = "writeoffs"
PANEL_TEMPLATE = "writeoffs/_panel.html"
APPROVALS_PAGE_SIZE = 100
RECENTLY_POSTED_SHOWN = 25
PANEL_REQUESTS_SHOWN = 10
MESSAGE_PROPOSE_REPLAYED = "This write-off was already proposed (the form was sent twice): it waits for approval once."

Status = WriteOffRequest.Status

# --- the workspace panel -------------------------------------------------------------------------


def _open_encounters(account):
    return aging_open_encounters(account_aging_today(account))


def panel_context(request, account, *, form=None) -> dict:
    """The proposal form (Medium and up) and the account's write-off requests with their status."""
    open_encounters = _open_encounters(account)
    requests = list(
        selectors.requests_for_account(request.user, account).select_related("requested_by", "decided_by")[
            :PANEL_REQUESTS_SHOWN
        ]
    )
    waiting = [row for row in requests if row.status in (Status.PROPOSED, Status.APPROVED)]
    # What may still be proposed: the balance less what already waits (the service refuses more).
    proposable = account.patient_balance - sum((row.amount for row in waiting), ZERO)
    if form is None:
        form = ProposeForm(initial={"amount": max(proposable, ZERO)}, open_encounters=open_encounters)
    return {
        "writeoff_form": form,
        "writeoff_requests": requests,
        "writeoff_waiting": waiting,
        "writeoff_can_propose": proposable > ZERO,
        "writeoff_all_waiting": bool(waiting) and proposable <= ZERO,
    }


def _render_panel(request, account, *, form=None, flash=""):
    context = {**panel_context(request, account, form=form), "account": account, "panel_flash": flash}
    audit_read(
        user=request.user,
        obj=account,
        field_groups={FieldGroup.BILLING, FieldGroup.PROPOSE},
        detail={"panel": PANEL_KEY},
    )
    return render(request, PANEL_TEMPLATE, context)


@require_GET
@requires(FieldGroup.PROPOSE)
def writeoffs_panel(request, pk):
    """The panel on its own (the workspace loads it when opened, and after another panel acted)."""
    account = account_get(user=request.user, account_id=pk)
    return _render_panel(request, account)


@require_POST
@requires(FieldGroup.PROPOSE)
def writeoff_propose(request, pk):
    account = account_get(user=request.user, account_id=pk)
    form = ProposeForm(request.POST, open_encounters=_open_encounters(account))

    def perform(data):
        return services.writeoff_propose(acting_user=request.user, account_id=account.pk, **form.service_arguments())

    def success(created) -> str:
        if getattr(created, "replayed", False):
            return MESSAGE_PROPOSE_REPLAYED
        return f"Write-off of ${created.amount:,.2f} proposed: waiting for approval."

    def render_panel(*, form, flash):
        return _render_panel(request, account_get(user=request.user, account_id=pk), form=form, flash=flash)

    return panel_action(
        request,
        form=form,
        perform=perform,
        success=success,
        render_panel=render_panel,
        redirect_to=reverse("account-detail", args=[account.pk]),
        panel=PANEL_KEY,
    )


# --- the approvals page --------------------------------------------------------------------------


def _waiting(user, filters: dict):
    # The nightly run's own requests are approved or discarded as one run (the runs table above).
    return (
        selectors.waiting_for_approval(
            user,
            practice_ids=[filters["practice"]] if filters.get("practice") else None,
            reason=filters.get("reason") or None,
        )
        .filter(small_balance_run__isnull=True)
        .select_related("practice", "account__patient", "requested_by")
    )


def _recently_posted(user):
    """The latest posted write-offs in the user's practices, newest first (to reverse one)."""
    return (
        scope_to_user(WriteOffRequest.objects.filter(status=Status.POSTED, posted_at__isnull=False), user)
        .select_related("practice", "account__patient", "decided_by")
        .order_by("-posted_at", "-id")[:RECENTLY_POSTED_SHOWN]
    )


def _runs_waiting(user):
    return selectors.small_balance_runs_waiting(user).select_related("practice")


def _patients(rows):
    return list({row.account.patient_id: row.account.patient for row in rows}.values())


@require_GET
@requires(FieldGroup.MANAGEMENT)
def approvals(request):
    """Write-offs waiting in the user's practices, oldest first, with the night's small-balance
    runs and the latest posted ones."""
    user = request.user
    practices = list(practice_list(user=user))
    form = ApprovalFilterForm(request.GET or None, practices=practices)
    filters = form.cleaned_data if form.is_bound and form.is_valid() else {}
    paginator = Paginator(_waiting(user, filters), APPROVALS_PAGE_SIZE)
    number = page_number(request.GET.get("page"))
    if number > paginator.num_pages:
        raise Http404("No such page.")
    page = paginator.page(number)
    waiting = list(page.object_list)
    rows = [{"request": row, "refusal": selectors.approval_refusal(user, row)} for row in waiting]
    posted = list(_recently_posted(user))
    runs = list(_runs_waiting(user))
    audit_reads(
        user=user, objects=_patients(waiting + posted), field_groups={FieldGroup.BILLING, FieldGroup.MANAGEMENT}
    )
    query = request.GET.copy()
    query.pop("page", None)
    context = {
        "form": form,
        "filtering": bool(filters.get("practice") or filters.get("reason")),
        "page": page,
        "rows": rows,
        "waiting_total": sum((row.amount for row in waiting), ZERO),
        "runs": runs,
        "posted": posted,
        "query": query.urlencode(),
        "show_practice": len(practices) > 1,
        "deny_form": DenyForm(),
        "reverse_form": ReverseForm(),
        "discard_form": RunDiscardForm(),
    }
    return render(request, "writeoffs/approvals.html", context)


def _preview_context(user, preview) -> dict:
    chosen = (
        scope_to_user(WriteOffRequest.objects.filter(pk__in=list(preview.request_ids)), user)
        .select_related("practice", "account__patient", "requested_by")
        .order_by("requested_at", "id")
    )
    refused_reasons = dict(preview.refused)
    refused = (
        scope_to_user(WriteOffRequest.objects.filter(pk__in=list(refused_reasons)), user)
        .select_related("practice", "account__patient")
        .order_by("requested_at", "id")
    )
    refused_rows = [{"request": row, "why": refused_reasons[row.pk]} for row in refused]
    # A refused id that is not in the user's practices (or no longer exists) is named by number only.
    shown = {row["request"].pk for row in refused_rows}
    unknown = [(pk, why) for pk, why in preview.refused if pk not in shown]
    return {"preview": preview, "chosen": list(chosen), "refused_rows": refused_rows, "refused_unknown": unknown}


@require_POST
@requires(FieldGroup.MANAGEMENT)
def approvals_preview(request):
    """What "Approve selected" would post: count and total, and the ones this user may not approve,
    with why. Nothing posts here; the confirm carries the preview's fingerprint."""
    form = SelectionForm(request.POST)
    if not form.is_valid():
        for message in form_error_messages(form):
            messages.error(request, message)
        return redirect(reverse("writeoff-approvals"))
    try:
        preview = services.writeoff_bulk_preview(acting_user=request.user, request_ids=form.cleaned_data["requests"])
    except ApplicationError as refused:
        messages.error(request, refused.message)
        return redirect(reverse("writeoff-approvals"))
    context = _preview_context(request.user, preview)
    audit_reads(
        user=request.user,
        objects=_patients(context["chosen"] + [row["request"] for row in context["refused_rows"]]),
        field_groups={FieldGroup.BILLING, FieldGroup.MANAGEMENT},
    )
    context["confirm_form"] = ConfirmForm(
        initial={"requests": list(preview.request_ids), "fingerprint": preview.fingerprint}
    )
    return render(request, "writeoffs/approvals_preview.html", context)


@require_POST
@requires(FieldGroup.MANAGEMENT)
def approvals_confirm(request):
    """Post what the preview showed. A changed selection (another manager approved one meanwhile,
    an amount changed) no longer matches the fingerprint: the service refuses, nothing posts."""
    form = ConfirmForm(request.POST)
    if not form.is_valid():
        for message in form_error_messages(form):
            messages.error(request, message)
        return redirect(reverse("writeoff-approvals"))
    try:
        posted = services.writeoff_bulk_approve(
            acting_user=request.user,
            request_ids=form.cleaned_data["requests"],
            fingerprint=form.cleaned_data["fingerprint"],
        )
    except ApplicationError as refused:
        messages.error(request, refused.message)
        return redirect(reverse("writeoff-approvals"))
    total = sum((Decimal(row.amount) for row in posted), ZERO)
    count = len(posted)
    messages.success(request, f"Posted {count} write-off{'s' if count != 1 else ''} totalling ${total:,.2f}.")
    return redirect(reverse("writeoff-approvals"))


def _back(request, default: str) -> str:
    """Where a request's action returns: the page it was sent from (approvals or the request's
    page), never another site."""
    target = request.POST.get("next", "")
    local = target.startswith("/") and not target.startswith("//")
    if local and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return target
    return default


def _act_on_request(request, pk, *, form, perform, success: str):
    writeoff = _request_get(request.user, pk)
    if form.is_valid():
        try:
            perform(writeoff, form.cleaned_data)
        except ApplicationError as refused:
            messages.error(request, refused.message)
        except PermissionDenied as refused:
            # The approval matrix said no for this one (their own proposal, above their limit).
            messages.error(request, str(refused))
        else:
            messages.success(request, success)
    else:
        for message in form_error_messages(form):
            messages.error(request, message)
    return HttpResponseRedirect(_back(request, reverse("writeoff-detail", args=[writeoff.pk])))


@require_POST
@requires(FieldGroup.MANAGEMENT)
def writeoff_approve(request, pk):
    def perform(writeoff, data):
        services.writeoff_approve(acting_user=request.user, request_id=writeoff.pk)

    return _act_on_request(request, pk, form=forms.Form(request.POST), perform=perform, success="Write-off posted.")


@require_POST
@requires(FieldGroup.MANAGEMENT)
def writeoff_deny(request, pk):
    def perform(writeoff, data):
        services.writeoff_deny(acting_user=request.user, request_id=writeoff.pk, reason=data["reason"])

    return _act_on_request(request, pk, form=DenyForm(request.POST), perform=perform, success="Write-off denied.")


@require_POST
@requires(FieldGroup.MANAGEMENT)
def writeoff_reverse(request, pk):
    def perform(writeoff, data):
        services.writeoff_reverse(acting_user=request.user, request_id=writeoff.pk, reason=data["reason"])

    return _act_on_request(
        request, pk, form=ReverseForm(request.POST), perform=perform, success="Write-off reversed on the ledger."
    )


def _run_get(user, pk) -> SmallBalanceRun:
    return selectors.small_balance_run_get(user, pk)


@require_POST
@requires(FieldGroup.MANAGEMENT)
def small_balance_run_approve(request, pk):
    run = _run_get(request.user, pk)
    try:
        done = services.small_balance_run_approve(acting_user=request.user, run_id=run.pk)
    except ApplicationError as refused:
        messages.error(request, refused.message)
    except PermissionDenied as refused:
        messages.error(request, str(refused))
    else:
        count = done.posted_count
        text = (
            f"Small-balance run of {run.run_on:%m/%d/%Y} for {run.practice.name} posted: "
            f"{count} write-off{'s' if count != 1 else ''} totalling ${done.posted_total:,.2f}."
        )
        if done.left_out:
            text += f" {len(done.left_out)} left out: the account changed after the preview."
        messages.success(request, text)
    return redirect(reverse("writeoff-approvals"))


@require_POST
@requires(FieldGroup.MANAGEMENT)
def small_balance_run_discard(request, pk):
    run = _run_get(request.user, pk)
    form = RunDiscardForm(request.POST)
    if not form.is_valid():
        for message in form_error_messages(form):
            messages.error(request, message)
        return redirect(reverse("writeoff-approvals"))
    try:
        services.small_balance_run_discard(acting_user=request.user, run_id=run.pk, reason=form.cleaned_data["reason"])
    except ApplicationError as refused:
        messages.error(request, refused.message)
    else:
        messages.success(request, f"Small-balance run of {run.run_on:%m/%d/%Y} for {run.practice.name} discarded.")
    return redirect(reverse("writeoff-approvals"))


# --- a request's page ----------------------------------------------------------------------------


def _request_get(user, pk) -> WriteOffRequest:
    """One request in the user's practices, or 404."""
    queryset = WriteOffRequest.objects.select_related(
        "practice", "account__patient", "requested_by", "decided_by", "reversed_by", "small_balance_run"
    )
    return get_scoped_or_404(queryset, user, pk=pk)


@require_GET
@requires(FieldGroup.BILLING)
def writeoff_detail(request, pk):
    """The request: account, amount, reason, visits, its history (who, when, what), the ledger
    entries it posted and the actions this user may take."""
    user = request.user
    writeoff = _request_get(user, pk)
    history = list(writeoff.history.select_related("changed_by").order_by("changed_at", "id"))
    entries = list(writeoff.entries.select_related("encounter").order_by("effective_on", "id"))
    encounters = list(writeoff.encounters.order_by("date_of_service", "id"))
    manages = can_see(user, FieldGroup.MANAGEMENT)
    context = {
        "writeoff": writeoff,
        "account": writeoff.account,
        "patient": writeoff.account.patient,
        "history": history,
        "entries": entries,
        "encounters": encounters,
        "requested_by_name": staff_name(writeoff.requested_by) if writeoff.requested_by else "",
        "may_approve": writeoff.status == Status.PROPOSED and manages and selectors.can_approve(user, writeoff),
        "may_deny": writeoff.status == Status.PROPOSED and manages,
        "may_reverse": writeoff.status == Status.POSTED and manages,
        "is_requester": writeoff.requested_by_id == user.pk,
        "deny_form": DenyForm(),
        "reverse_form": ReverseForm(),
    }
    audit_read(
        user=user,
        obj=writeoff,
        field_groups={FieldGroup.BILLING},
        detail={"account_id": writeoff.account_id},
    )
    return render(request, "writeoffs/detail.html", context)
