"""The account workspace's action panels, one per area, in the order the page shows them.

Each area owns its panel: a template, a function building its context, and optionally a function
listing its events for the activity timeline. The workspace page imports them by dotted path, so an
area is added here with one line and never edits the page itself.
"""

from dataclasses import dataclass

from django.shortcuts import render

from collections_app.access import FieldGroup

# The event a panel's response sends when it changed the account: the workspace re-fetches its
# activity timeline on it (`hx-trigger="account-changed from:body"`).
ACCOUNT_CHANGED = "account-changed"


def panel_response(request, template: str, context: dict, *, changed: bool):
    """A panel re-rendered after an htmx action, telling the workspace when the account changed."""
    response = render(request, template, context)
    if changed:
        response["HX-Trigger"] = ACCOUNT_CHANGED
    return response


@dataclass(frozen=True)
class Panel:
    key: str
    title: str
    template: str
    # f(request, account) -> dict: the template's context (the panel's own queries).
    context: str
    # f(account) -> iterable[TimelineEvent]: this area's entries in the activity timeline.
    timeline: str | None
    field_group: FieldGroup = FieldGroup.BILLING


PANELS: tuple[Panel, ...] = (
    Panel(
        "contacts",
        "Contact and payment",
        "collections_app/contacts/_panel.html",
        "collections_app.contacts.views.panel_context",
        "collections_app.contacts.selectors.timeline_events",
    ),
    Panel(
        "plans",
        "Payment plan",
        "payment_plans/_panel.html",
        "payment_plans.views.panel_context",
        "payment_plans.selectors.timeline_events",
    ),
    Panel(
        "holds",
        "Holds and flags",
        "collections_app/holds/_panel.html",
        "collections_app.holds.views.panel_context",
        "collections_app.holds.selectors.timeline_events",
    ),
    Panel(
        "correspondence",
        "Mail and inquiries",
        "collections_app/correspondence/_panel.html",
        "collections_app.correspondence.views.panel_context",
        "collections_app.correspondence.selectors.timeline_events",
    ),
)
