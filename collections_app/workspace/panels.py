"""The account workspace's action panels, one per area, in the order the page shows them.

Each area owns its panel: a page of its own that renders it (the workspace loads it by htmx when
the rep opens it) and optionally a function listing its events for the activity timeline. An area
is added here with one entry and never edits the page itself.
"""

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from collections_app.contacts import selectors as contacts_selectors
from collections_app.correspondence import selectors as correspondence_selectors
from collections_app.holds import selectors as holds_selectors
from core.access import FieldGroup
from core.panels import TimelineEvent
from payment_plans import selectors as plan_selectors
from writeoffs import timeline as writeoff_timeline


@dataclass(frozen=True)
class Panel:
    key: str
    title: str
    # The panel on its own (GET): the page loads it when the rep opens it, and after another
    # panel changed the account.
    url_name: str
    # f(account) -> iterable of TimelineEvent: this area's entries in the activity timeline.
    timeline: Callable[..., Iterable[TimelineEvent]] | None
    field_group: FieldGroup = FieldGroup.BILLING


PANELS: tuple[Panel, ...] = (
    Panel(
        "contacts",
        "Contact and payment",
        "contacts-panel",
        contacts_selectors.timeline_events,
    ),
    Panel(
        "plans",
        "Payment plan",
        "plans-panel",
        plan_selectors.timeline_events,
    ),
    Panel(
        "holds",
        "Holds and flags",
        "holds-panel",
        holds_selectors.timeline_events,
    ),
    Panel(
        "correspondence",
        "Mail and inquiries",
        "correspondence-panel",
        correspondence_selectors.timeline_events,
    ),
    Panel(
        "writeoffs",
        "Write-offs",
        "writeoffs-panel",
        writeoff_timeline.timeline_events,
        field_group=FieldGroup.PROPOSE,
    ),
)


def panel_register(panel: Panel) -> None:
    """A higher layer adds its panel (after these) from its AppConfig.ready(): this layer may not
    import it. Registering the same key again replaces that panel in its place."""
    global PANELS
    keys = [existing.key for existing in PANELS]
    if panel.key in keys:
        PANELS = tuple(panel if existing.key == panel.key else existing for existing in PANELS)
    else:
        PANELS = (*PANELS, panel)
