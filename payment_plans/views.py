"""Payment plan pages: the workspace panel and its actions, the plan page, the agreement PDF.

Thin views: the declared field group, the scoped selector (another practice's plan is a 404), one
service call, an audit row for what was shown. Panel actions are htmx posts that re-render the
panel and send `HX-Trigger: account-changed` (the workspace reloads its timeline); without htmx
they redirect to the account page.
"""

from django import forms
from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from accounts.money import ZERO
from accounts.selectors import account_get
from core.access import FieldGroup, requires
from core.audit import audit_read, audit_record
from core.errors import ApplicationError
from core.models import AuditEvent
from core.panels import form_error_messages, panel_action
from payment_plans import selectors, services
from payment_plans.forms import PlanCancelForm, PlanCreateForm, PlanModifyForm
from payment_plans.pdf import render_agreement_pdf

PANEL_KEY = "plans"
MESSAGE_MODIFY_REPLAYED = "This change was already saved (the form was sent twice): the plan has it once."
PANEL_TEMPLATE = "payment_plans/_panel.html"


def _plan_summary(plan) -> dict:
    schedule = selectors.plan_schedule(plan)
    open_rows = [row for row in schedule if row.paid_on is None]
    paid = sum((row.paid_amount for row in schedule), ZERO)
    owed = sum((row.amount for row in schedule), ZERO)
    return {
        "schedule": schedule,
        "next_due": open_rows[0] if open_rows else None,
        "paid_total": paid,
        "remaining": owed - paid,
        "paid_count": len(schedule) - len(open_rows),
    }


def panel_context(request, account, *, form=None) -> dict:
    """The current plan's summary, or the set-up form when the account has no open plan."""
    plan = selectors.current_plan(account)
    context = {"plan": plan, "plan_form": None, "plan_summary": None}
    if plan is not None:
        context["plan_summary"] = _plan_summary(plan)
    if plan is None or not plan.is_open:
        context["plan_form"] = form or PlanCreateForm(initial={"total": account.patient_balance, "activate": True})
    return context


def _render_panel(request, account, *, form=None, flash="", error=None, offer=None):
    context = {
        **panel_context(request, account, form=form),
        "account": account,
        "panel_flash": flash,
        "plan_error": error,
        "plan_offer": offer,
    }
    audit_read(user=request.user, obj=account, field_groups={FieldGroup.BILLING}, detail={"panel": "plans"})
    return render(request, PANEL_TEMPLATE, context)


@require_GET
@requires(FieldGroup.BILLING)
def plans_panel(request, pk):
    """The panel on its own (the workspace loads it when opened, and after another panel acted)."""
    account = account_get(user=request.user, account_id=pk)
    return _render_panel(request, account)


@require_POST
@requires(FieldGroup.BILLING)
def plan_create(request, pk):
    account = account_get(user=request.user, account_id=pk)

    def perform(data):
        services.plan_create(acting_user=request.user, account_id=account.pk, **form.service_arguments())

    def render_panel(*, form, flash):
        return _render_panel(request, account_get(user=request.user, account_id=pk), form=form, flash=flash)

    form = PlanCreateForm(request.POST)
    return panel_action(
        request,
        form=form,
        perform=perform,
        success="Payment plan set up.",
        render_panel=render_panel,
        redirect_to=reverse("account-detail", args=[account.pk]),
        panel=PANEL_KEY,
    )


@require_POST
@requires(FieldGroup.BILLING)
def plan_preview(request, pk):
    """The schedule the rep is about to offer, before anything is saved: dates and amounts to read
    to the patient. Nothing changes; "Set up plan" then saves exactly this."""
    account = account_get(user=request.user, account_id=pk)
    form = PlanCreateForm(request.POST)
    offer = None
    if form.is_valid():
        try:
            offer = services.plan_preview(account_id=account.pk, **form.preview_arguments())
        except ApplicationError as error:
            error.add_to_form(form)
    if not request.htmx:
        return render(
            request, "payment_plans/plan_preview_page.html", {"account": account, "form": form, "offer": offer}
        )
    return _render_panel(request, account, form=form, offer=offer)


def _plan_act(request, pk, *, form, perform, success: str):
    """A plan action from the panel or the plan page: the panel re-renders (htmx, a refusal shown
    on top of it); the plan page's own forms (`return_to=plan`) go back to the plan page."""
    plan = selectors.plan_get(user=request.user, plan_id=pk)

    def render_panel(*, form, flash):
        account = account_get(user=request.user, account_id=plan.account_id)
        error = " ".join(form_error_messages(form)) if form is not None else None
        return _render_panel(request, account, flash=flash, error=error)

    back_to_plan = request.POST.get("return_to") == "plan"
    return panel_action(
        request,
        form=form,
        perform=lambda data: perform(plan, data),
        success=success,
        render_panel=render_panel,
        redirect_to=reverse("plan-detail", args=[plan.pk])
        if back_to_plan
        else reverse("account-detail", args=[plan.account_id]),
        panel=PANEL_KEY,
    )


@require_POST
@requires(FieldGroup.BILLING)
def plan_activate(request, pk):
    def perform(plan, data):
        services.plan_activate(acting_user=request.user, plan_id=plan.pk)

    return _plan_act(request, pk, form=forms.Form(request.POST), perform=perform, success="Payment plan started.")


@require_POST
@requires(FieldGroup.BILLING)
def plan_cancel(request, pk):
    # A note the form refuses (too long) refuses the cancellation: the plan stays as it was.
    def perform(plan, data):
        services.plan_cancel(acting_user=request.user, plan_id=plan.pk, note=data["note"])

    return _plan_act(request, pk, form=PlanCancelForm(request.POST), perform=perform, success="Payment plan cancelled.")


def _detail_context(plan, *, modify_form=None) -> dict:
    summary = _plan_summary(plan)
    return {
        "plan": plan,
        "account": plan.account,
        "summary": summary,
        "installments": selectors.plan_all_installments(plan),
        "payments": selectors.plan_payments(plan),
        "history": selectors.plan_history(plan),
        "revisions": selectors.plan_revisions(plan),
        "modify_form": modify_form or PlanModifyForm(initial={"frequency": plan.frequency, "revision": plan.revision}),
        "cancel_form": PlanCancelForm(),
    }


@require_GET
@requires(FieldGroup.BILLING)
def plan_detail(request, pk):
    plan = selectors.plan_get(user=request.user, plan_id=pk)
    audit_read(user=request.user, obj=plan, field_groups={FieldGroup.BILLING}, detail={"account_id": plan.account_id})
    return render(request, "payment_plans/plan_detail.html", _detail_context(plan))


@require_POST
@requires(FieldGroup.BILLING)
def plan_modify(request, pk):
    plan = selectors.plan_get(user=request.user, plan_id=pk)
    form = PlanModifyForm(request.POST)
    if form.is_valid():
        try:
            modified = services.plan_modify(
                acting_user=request.user,
                plan_id=plan.pk,
                reason=form.cleaned_data["reason"],
                expected_revision=form.cleaned_data.get("revision"),
                **form.terms(),
            )
        except ApplicationError as error:
            error.add_to_form(form)
        else:
            if modified.replayed:
                messages.info(request, MESSAGE_MODIFY_REPLAYED)
            else:
                messages.success(request, "Plan modified.")
            return redirect(reverse("plan-detail", args=[plan.pk]))
    audit_read(user=request.user, obj=plan, field_groups={FieldGroup.BILLING}, detail={"account_id": plan.account_id})
    return render(request, "payment_plans/plan_detail.html", _detail_context(plan, modify_form=form), status=400)


@require_GET
@requires(FieldGroup.BILLING)
def plan_agreement(request, pk):
    """The plan agreement to sign. Minimum necessary: who pays, the account, the terms and the
    schedule; no date of birth, diagnosis or identifiers."""
    plan = selectors.plan_get(user=request.user, plan_id=pk)
    pdf = render_agreement_pdf(plan, schedule=selectors.plan_schedule(plan))
    audit_record(
        user=request.user,
        action=AuditEvent.Action.EXPORT,
        obj=plan,
        field_group=FieldGroup.BILLING,
        detail={"account_id": plan.account_id, "document": "plan_agreement", "revision": plan.revision},
    )
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="plan-{plan.pk}-agreement.pdf"'
    response["Cache-Control"] = "no-store"
    return response
