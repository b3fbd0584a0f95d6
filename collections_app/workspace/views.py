"""The account workspace around the account page, its activity timeline, and the front desk's schedule.

The account page (`accounts.views.account_detail`) asks `workspace_context` for the billing tiers'
part: header flags, the queue's claim bar and the action panels. Each panel is rendered with only its
own context plus `account`, `key` and the request's context (`user`, `can`), exactly as its own htmx
actions re-render it, so a panel looks the same on first load and after an action.
"""

from dataclasses import dataclass

from django import forms
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import render
from django.template import TemplateDoesNotExist
from django.template.loader import get_template, render_to_string
from django.utils.module_loading import import_string
from django.utils.safestring import SafeString, mark_safe

from accounts.selectors import account_get, practice_list
from collections_app.access import FieldGroup, can_see, requires
from collections_app.audit import audit_read, audit_reads
from collections_app.pagination import page_number
from collections_app.workspace import panels
from collections_app.workspace.selectors import (
    TIMELINE_PAGE_SIZE,
    account_flags,
    account_timeline,
    guarantor_other_accounts,
    schedule_appointments,
    schedule_window,
)

CLAIM_BAR_CONTEXT = "collections_app.queues.views.claim_bar_context"
CLAIM_BAR_TEMPLATE = "collections_app/queues/_claim_bar.html"
SCHEDULE_PAGE_SIZE = 50
SCHEDULE_MAX_DAYS = 31


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
        context = import_string(panel.context)(request, account) or {}
        context = {**context, "account": account, "key": panel.key, "panel_title": panel.title}
        rendered.append(RenderedPanel(panel.key, panel.title, _render_fragment(request, panel.template, context)))
    return rendered


def claim_bar(request, account) -> SafeString:
    """The work queue's claim bar, when the queues area provides one (and has something to say)."""
    try:
        claim_bar_context = import_string(CLAIM_BAR_CONTEXT)
        template = get_template(CLAIM_BAR_TEMPLATE)
    except (ImportError, TemplateDoesNotExist):
        return mark_safe("")
    context = claim_bar_context(request, account)
    if context is None:
        return mark_safe("")
    return mark_safe(template.render({**context, "account": account}, request))  # noqa: S308


def workspace_context(request, account) -> dict:
    """What the billing tiers see on the account page beyond balances and the ledger."""
    return {
        "flags": account_flags(account),
        "guarantor_accounts": guarantor_other_accounts(user=request.user, account=account),
        "claim_bar": claim_bar(request, account),
        "panels": workspace_panels(request, account),
        "timeline_page_size": TIMELINE_PAGE_SIZE,
    }


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
