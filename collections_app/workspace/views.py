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
from django.urls import reverse
from django.utils.safestring import SafeString, mark_safe
from django.views.decorators.http import require_GET

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
class PanelSlot:
    """A panel's place on the account page. The first response carries only the slot; the panel
    loads by htmx when the rep opens it (the first panel opens by itself)."""

    key: str
    title: str
    url: str
    opens_itself: bool


def _render_fragment(request, template: str, context: dict) -> SafeString:
    return mark_safe(render_to_string(template, context, request=request))  # noqa: S308 - rendered by Django's engine


def workspace_panels(request, account) -> list[PanelSlot]:
    """The panels this user's tier may see, in registry order; none of their queries run here."""
    visible = [panel for panel in panels.PANELS if can_see(request.user, panel.field_group)]
    return [
        PanelSlot(panel.key, panel.title, reverse(panel.url_name, args=[account.pk]), opens_itself=index == 0)
        for index, panel in enumerate(visible)
    ]


def claim_bar(request, account) -> SafeString:
    """The work queue's claim bar, when it has something to say about this account."""
    context = claim_bar_context(request, account)
    if context is None:
        return mark_safe("")
    return _render_fragment(request, CLAIM_BAR_TEMPLATE, {**context, "account": account})


def account_figures_context(request, account) -> tuple[dict, set]:
    """What the account page shows of the account itself: header, cards, the "See billing office"
    flag and, for the billing tiers, balances, aging, open encounters and the ledger's first page.
    The page renders it first; after an action the refresh re-renders exactly this. Returns the
    context and the field groups it showed (for the audit row)."""
    user = request.user
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
                "flags": account_flags(account),
                "guarantor_accounts": guarantor_other_accounts(user=user, account=account),
            }
        )
    if shows_identifiers:
        groups.add(FieldGroup.DIRECTOR)
    return context, groups


@requires(FieldGroup.DEMOGRAPHICS)
def account_page(request, pk):
    """The account page: demographics, appointments and the past-due flag for every tier; balances,
    aging, the ledger and the rep's workspace (flags, claim bar, action panels) from Medium up.
    The first response is the account, its balances and its ledger; the panels and the activity
    timeline load by htmx afterwards."""
    account = account_get(user=request.user, account_id=pk)
    context, groups = account_figures_context(request, account)
    context["appointments"] = list(patient_upcoming_appointments(patient=account.patient))
    if context["shows_billing"]:
        context.update(
            {
                "claim_bar": claim_bar(request, account),
                "panels": workspace_panels(request, account),
                "timeline_page_size": TIMELINE_PAGE_SIZE,
            }
        )
    audit_read(user=request.user, obj=account, field_groups=groups)
    return render(request, "collections_app/workspace/account_page.html", context)


@requires(FieldGroup.BILLING)
@require_GET
def account_refresh(request, pk):
    """After an action changed the account (`account-changed`): the header, cards, flag, balances,
    aging and ledger re-rendered from the server, each swapped into its place (htmx out of band)."""
    account = account_get(user=request.user, account_id=pk)
    context, groups = account_figures_context(request, account)
    audit_read(user=request.user, obj=account, field_groups=groups, detail={"refresh": "figures"})
    return render(request, "collections_app/workspace/_account_refresh.html", {**context, "oob": True})


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
