"""The account workspace's action panels, one per area, in the order the page shows them.

Each area owns its panel: a template, a function building its context, and optionally a function
listing its events for the activity timeline. An area is added here with one entry and never edits
the page itself.
"""

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from collections_app.contacts import selectors as contacts_selectors
from collections_app.contacts import views as contacts_views
from collections_app.correspondence import selectors as correspondence_selectors
from collections_app.correspondence import views as correspondence_views
from collections_app.holds import selectors as holds_selectors
from collections_app.holds import views as holds_views
from core.access import FieldGroup
from core.panels import TimelineEvent
from payment_plans import selectors as plan_selectors
from payment_plans import views as plan_views


@dataclass(frozen=True)
class Panel:
    key: str
    title: str
    template: str
    # f(request, account) -> dict: the template's context (the panel's own queries).
    context: Callable[..., dict]
    # f(account) -> iterable of TimelineEvent: this area's entries in the activity timeline.
    timeline: Callable[..., Iterable[TimelineEvent]] | None
    field_group: FieldGroup = FieldGroup.BILLING


PANELS: tuple[Panel, ...] = (
    Panel(
        "contacts",
        "Contact and payment",
        "collections_app/contacts/_panel.html",
        contacts_views.panel_context,
        contacts_selectors.timeline_events,
    ),
    Panel(
        "plans",
        "Payment plan",
        "payment_plans/_panel.html",
        plan_views.panel_context,
        plan_selectors.timeline_events,
    ),
    Panel(
        "holds",
        "Holds and flags",
        "collections_app/holds/_panel.html",
        holds_views.panel_context,
        holds_selectors.timeline_events,
    ),
    Panel(
        "correspondence",
        "Mail and inquiries",
        "collections_app/correspondence/_panel.html",
        correspondence_views.panel_context,
        correspondence_selectors.timeline_events,
    ),
)
