"""Page plumbing for the account page's action panels and its activity timeline.

An area's panel is a template plus a context function. Every htmx action of a panel goes through
`panel_action`: parse the form, call one service, and either re-render the panel (htmx) or
redirect with the outcome as a message. On success the response tells the page the account
changed (`ACCOUNT_CHANGED`, naming the panel that acted), and the workspace re-fetches its figures,
its timeline and the other open panels. Areas yield `TimelineEvent`s for the activity timeline,
which the workspace merges.
"""

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from django import forms
from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render

from core.display import words
from core.errors import ApplicationError

# The event a panel's response sends when it changed the account. Its detail names the panel that
# acted (`{"panel": "contacts"}`), so that panel is not fetched a second time.
ACCOUNT_CHANGED = "account-changed"


# Each kind of timeline event as the office says it (the event's tag on the page).
TIMELINE_KIND_LABELS = {
    "contact": "Contact",
    "promise": "Promise to pay",
    "note": "Note",
    "consent": "Consent",
    "payment": "Payment",
    "adjustment": "Adjustment",
    "plan": "Payment plan",
    "hold": "Hold",
    "mail": "Returned mail",
    "inquiry": "Billing inquiry",
    "letter": "Letter",
    "change": "Change",
    "approval": "Approval",
}


@dataclass(frozen=True)
class TimelineEvent:
    when: datetime  # aware datetime; date-only events use the practice's local midnight
    kind: str  # "contact", "letter", "note", "payment", "plan", "hold", "mail", "inquiry", "change", ...
    title: str  # short, e.g. "Outbound call: left message"
    detail: str = ""  # the rep's notes or a one-line summary
    actor: str = ""  # username of who did it ("" for the system)
    extra: dict = field(default_factory=dict)
    # Filled in by the workspace when it merges the timeline: the actor by name ("Jane Rep"), and
    # whether the event has a date but no time of day (shown as the date alone).
    actor_name: str = ""
    all_day: bool = False

    @property
    def kind_label(self) -> str:
        return TIMELINE_KIND_LABELS.get(self.kind) or words(self.kind)


def announce_account_changed(response: HttpResponse, *, panel: str) -> HttpResponse:
    response["HX-Trigger"] = json.dumps({ACCOUNT_CHANGED: {"panel": panel}})
    return response


def panel_response(request, template: str, context: dict, *, changed: bool, panel: str = ""):
    """A panel re-rendered after an htmx action, telling the workspace when the account changed."""
    response = render(request, template, context)
    if changed:
        announce_account_changed(response, panel=panel)
    return response


def form_error_messages(form: forms.Form) -> list[str]:
    return [str(message) for errors in form.errors.values() for message in errors]


def panel_action(
    request,
    *,
    form: forms.Form,
    perform: Callable[[dict], object],
    success: str | Callable[[object], str],
    render_panel: Callable[..., HttpResponse],
    redirect_to: str,
    panel: str,
) -> HttpResponse:
    """The one shape of a panel action.

    `perform(cleaned_data)` calls the service; a refusal (ApplicationError) lands on the form beside
    its field, and bad input changes nothing. `success` is the note shown after it, or a function of
    what `perform` returned (a replayed payment says so). With htmx, `render_panel(form=..., flash=...)` answers:
    on success with no bound form and the success note, else with the bound form and its errors;
    a success also announces `ACCOUNT_CHANGED`. Without htmx the outcome becomes a message and the
    browser goes to `redirect_to`.
    """
    done = False
    if form.is_valid():
        try:
            result = perform(form.cleaned_data)
        except ApplicationError as refused:
            refused.add_to_form(form)
        else:
            done = True
            success = success(result) if callable(success) else success
    if not request.htmx:
        if done:
            messages.success(request, success)
        for message in form_error_messages(form):
            messages.error(request, message)
        return redirect(redirect_to)
    response = render_panel(form=None if done else form, flash=success if done else "")
    if done:
        announce_account_changed(response, panel=panel)
    return response
