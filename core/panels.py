"""Page plumbing for the account page's action panels and its activity timeline.

An area's panel is a template plus a context function; each htmx action re-renders its panel with
`panel_response`, which tells the page when the account changed. Areas yield `TimelineEvent`s for
the activity timeline, which the workspace merges.
"""

from dataclasses import dataclass, field
from datetime import datetime

from django.shortcuts import render

# The event a panel's response sends when it changed the account: the workspace re-fetches its
# activity timeline, figures and header on it (`hx-trigger="account-changed from:body"`).
ACCOUNT_CHANGED = "account-changed"


@dataclass(frozen=True)
class TimelineEvent:
    when: datetime  # aware datetime; date-only events use the practice's local midnight
    kind: str  # "contact", "letter", "note", "payment", "plan", "hold", "mail", "inquiry", "change", ...
    title: str  # short, e.g. "Outbound call: left message"
    detail: str = ""  # the rep's notes or a one-line summary
    actor: str = ""  # username of who did it ("" for the system)
    extra: dict = field(default_factory=dict)


def panel_response(request, template: str, context: dict, *, changed: bool):
    """A panel re-rendered after an htmx action, telling the workspace when the account changed."""
    response = render(request, template, context)
    if changed:
        response["HX-Trigger"] = ACCOUNT_CHANGED
    return response
