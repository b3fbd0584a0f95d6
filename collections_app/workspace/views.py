"""The account page (the rep's workspace), its activity timeline, and the front desk's schedule.

For the billing tiers the account page adds header flags, the queue's claim bar and the action
panels to the balances, aging and ledger. Each panel is rendered with only its own context plus
`account`, `key` and the request's context (`user`, `can`), exactly as its own htmx actions
re-render it, so a panel looks the same on first load and after an action.
"""

from dataclasses import dataclass

from django import forms
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import render
from django.template.loader import render_to_string
from django.utils.safestring import SafeString, mark_safe

from accounts.selectors import (
    account_aging_today,
    account_get,
    account_sees_billing_office,
    aging_open_encounters,
    ledger_page_with_balances,
    patient_upcoming_appointments,
    practice_list,
)
from collections_app.queues.views import claim_bar_context
from collections_app.workspace import panels
from collections_app.workspace.selectors import (
    TIMELINE_PAGE_SIZE,
    account_flags,
    account_timeline,
    guarantor_other_accounts,
    hold_reason_label,
    schedule_appointments,
    schedule_window,
)
from core.access import FieldGroup, can_see, requires
from core.audit import audit_read, audit_reads
from core.pagination import page_number

CLAIM_BAR_TEMPLATE = "collections_app/queues/_claim_bar.html"
SCHEDULE_PAGE_SIZE = 50
SCHEDULE_MAX_DAYS = 31
# The account page lists the oldest open encounters first; an account with hundreds of visits
# shows the rest on request (the heaviest accounts must still open in well under 300 ms).
OPEN_ENCOUNTERS_SHOWN = 50


@dataclass(frozen=True)
class RenderedPanel:
    key: str
    title: str
    html: SafeString


def _render_fragment(request, template: str, context: dict) -> SafeString:
    return mark_safe(render_to_string(template, context, request=request))  # noqa: S308 - rendered by Django's engine


def workspace_panels(request, account) -> list[RenderedPanel]:
    """The panels this user's tier may see, in registry order; the others' queries never run."""
    rendered = []
    for panel in panels.PANELS:
        if not can_see(request.user, panel.field_group):
            continue
        context = panel.context(request, account) or {}
        context = {**context, "account": account, "key": panel.key, "panel_title": panel.title}
        rendered.append(RenderedPanel(panel.key, panel.title, _render_fragment(request, panel.template, context)))
    return rendered


def claim_bar(request, account) -> SafeString:
    """The work queue's claim bar, when it has something to say about this account."""
    context = claim_bar_context(request, account)
    if context is None:
        return mark_safe("")
    return _render_fragment(request, CLAIM_BAR_TEMPLATE, {**context, "account": account})


def workspace_context(request, account) -> dict:
    """What the billing tiers see on the account page beyond balances and the ledger."""
    return {
        "flags": account_flags(account),
        "guarantor_accounts": guarantor_other_accounts(user=request.user, account=account),
        "claim_bar": claim_bar(request, account),
        "panels": workspace_panels(request, account),
        "timeline_page_size": TIMELINE_PAGE_SIZE,
    }


@requires(FieldGroup.DEMOGRAPHICS)
def account_page(request, pk):
    """The account page: demographics, appointments and the past-due flag for every tier; balances,
    aging, the ledger and the rep's workspace (flags, claim bar, action panels) from Medium up."""
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
        "past_due": account_sees_billing_office(account, aging),
        "practice_today": aging.as_of,
        "hold_reason_label": hold_reason_label(account.hold_reason),
        "appointments": list(patient_upcoming_appointments(patient=patient)),
        "shows_billing": shows_billing,
        "shows_identifiers": shows_identifiers,
    }
    if shows_billing:
        groups.add(FieldGroup.BILLING)
        open_encounters = aging_open_encounters(aging)
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
                "ledger": ledger_page_with_balances(account=account, raw_page=1),
            }
        )
        # The rep's workspace: header flags, the queue's claim bar, the action panels (each runs
        # its own queries only for tiers that may see it); the timeline loads by htmx afterwards.
        context.update(workspace_context(request, account))
    if shows_identifiers:
        groups.add(FieldGroup.DIRECTOR)
    audit_read(user=user, obj=account, field_groups=groups)
    return render(request, "collections_app/workspace/account_page.html", context)


def _offset(raw) -> int:
    try:
        return max(int(str(raw)), 0)
    except (TypeError, ValueError):
        return 0


@requires(FieldGroup.BILLING)
def account_timeline_view(request, pk):
    """The account's activity, newest first (the account page loads it and re-fetches it on
    `account-changed`); `?offset=` returns the next rows for "show more"."""
    account = account_get(user=request.user, account_id=pk)
    page = account_timeline(user=request.user, account=account, offset=_offset(request.GET.get("offset")))
    audit_read(
        user=request.user,
        obj=account,
        field_groups={FieldGroup.BILLING},
        detail={"timeline_offset": page.offset, "timeline_events": len(page.events)},
    )
    context = {"account": account, "timeline": page}
    if request.htmx and page.offset:
        return render(request, "collections_app/workspace/_timeline_items.html", context)
    if request.htmx:
        return render(request, "collections_app/workspace/_timeline.html", context)
    return render(request, "collections_app/workspace/timeline_page.html", context)


class ScheduleFilterForm(forms.Form):
    practice = forms.TypedChoiceField(coerce=int, required=False, empty_value=None)
    day = forms.DateField(required=False, input_formats=["%Y-%m-%d", "%m/%d/%Y"])
    days = forms.IntegerField(required=False, min_value=0, max_value=SCHEDULE_MAX_DAYS)

    def __init__(self, *args, practices, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["practice"].choices = [("", "All my practices")] + [(p.pk, p.name) for p in practices]


@requires(FieldGroup.DEMOGRAPHICS)
def schedule(request):
    """Upcoming appointments in the user's practices, each patient with a past-due balance flagged
    "See billing office": the flag only, never an amount, for every tier."""
    user = request.user
    practices = list(practice_list(user=user))
    form = ScheduleFilterForm(request.GET or None, practices=practices)
    filters = form.cleaned_data if form.is_bound and form.is_valid() else {}
    if filters.get("practice"):
        practices = [p for p in practices if p.pk == filters["practice"]]
    window = schedule_window(practices, day=filters.get("day"), days=filters.get("days"))
    paginator = Paginator(schedule_appointments(user=user, window=window), SCHEDULE_PAGE_SIZE)
    number = page_number(request.GET.get("page"))
    if number > paginator.num_pages:
        raise Http404("No such page.")
    page = paginator.page(number)
    appointments = list(page.object_list)
    patients = list({appointment.patient_id: appointment.patient for appointment in appointments}.values())
    audit_reads(user=user, objects=patients, field_groups={FieldGroup.DEMOGRAPHICS, FieldGroup.PAST_DUE_FLAG})
    query = request.GET.copy()
    query.pop("page", None)
    context = {
        "form": form,
        "window": window,
        "page": page,
        "appointments": appointments,
        "flagged_count": sum(1 for appointment in appointments if appointment.see_billing_office),
        "query": query.urlencode(),
    }
    if request.htmx and not request.htmx.boosted:
        return render(request, "collections_app/workspace/_schedule_results.html", context)
    return render(request, "collections_app/workspace/schedule.html", context)
