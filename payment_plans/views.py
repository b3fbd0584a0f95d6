"""Payment plan pages: the workspace panel and its actions, the plan page, the agreement PDF.

Thin views: the declared field group, the scoped selector (another practice's plan is a 404), one
service call, an audit row for what was shown. Panel actions are htmx posts that re-render the
panel and send `HX-Trigger: account-changed` (the workspace reloads its timeline); without htmx
they redirect to the account page.
"""

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
from core.panels import panel_response
from payment_plans import selectors, services
from payment_plans.forms import PlanCancelForm, PlanCreateForm, PlanModifyForm
from payment_plans.pdf import render_agreement_pdf

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


def _render_panel(request, account, *, form=None, changed=False, error=None):
    context = {
        **panel_context(request, account, form=form),
        "account": account,
        "plan_error": error,
    }
    audit_read(user=request.user, obj=account, field_groups={FieldGroup.BILLING}, detail={"panel": "plans"})
    return panel_response(request, PANEL_TEMPLATE, context, changed=changed)


def _form_errors_message(form) -> str:
    return " ".join(str(message) for messages_ in form.errors.values() for message in messages_)


@require_POST
@requires(FieldGroup.BILLING)
def plan_create(request, pk):
    account = account_get(user=request.user, account_id=pk)
    form = PlanCreateForm(request.POST)
    created = False
    if form.is_valid():
        try:
            services.plan_create(acting_user=request.user, account_id=account.pk, **form.service_arguments())
            created = True
        except ApplicationError as error:
            error.add_to_form(form)
    if request.htmx:
        account.refresh_from_db(fields=["status", "patient_balance", "version"])
        return _render_panel(request, account, form=None if created else form, changed=created)
    if created:
        messages.success(request, "Payment plan set up.")
    else:
        messages.error(request, _form_errors_message(form))
    return redirect(reverse("account-detail", args=[account.pk]))


def _plan_action(request, pk, action):
    """Run `action(plan)`; re-render the panel (htmx) or redirect."""
    plan = selectors.plan_get(user=request.user, plan_id=pk)
    error = None
    try:
        action(plan)
    except ApplicationError as refused:
        error = refused.message
    if request.htmx:
        account = account_get(user=request.user, account_id=plan.account_id)
        return _render_panel(request, account, changed=error is None, error=error)
    if error:
        messages.error(request, error)
    # The plan page's own forms say so; the panel's (without htmx) go back to the account page.
    if request.POST.get("return_to") == "plan":
        return redirect(reverse("plan-detail", args=[plan.pk]))
    return redirect(reverse("account-detail", args=[plan.account_id]))


@require_POST
@requires(FieldGroup.BILLING)
def plan_activate(request, pk):
    return _plan_action(request, pk, lambda plan: services.plan_activate(acting_user=request.user, plan_id=plan.pk))


@require_POST
@requires(FieldGroup.BILLING)
def plan_cancel(request, pk):
    form = PlanCancelForm(request.POST)

    def cancel(plan):
        # A note the form refuses (too long) refuses the cancellation: the plan stays as it was.
        if not form.is_valid():
            raise ApplicationError(_form_errors_message(form), field="note")
        services.plan_cancel(acting_user=request.user, plan_id=plan.pk, note=form.cleaned_data["note"])

    return _plan_action(request, pk, cancel)


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
        "modify_form": modify_form or PlanModifyForm(initial={"frequency": plan.frequency}),
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
            services.plan_modify(
                acting_user=request.user, plan_id=plan.pk, reason=form.cleaned_data["reason"], **form.terms()
            )
        except ApplicationError as error:
            error.add_to_form(form)
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
