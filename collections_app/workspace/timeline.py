"""One entry of an account's activity timeline. Areas yield these; the workspace merges them."""

from dataclasses import dataclass, field
from datetime import datetime


@dataclass(frozen=True)
class TimelineEvent:
    when: datetime  # aware datetime; date-only events use the practice's local midnight
    kind: str  # "contact", "letter", "note", "payment", "plan", "hold", "mail", "inquiry", "change", ...
    title: str  # short, e.g. "Outbound call: left message"
    detail: str = ""  # the rep's notes or a one-line summary
    actor: str = ""  # username of who did it ("" for the system)
    extra: dict = field(default_factory=dict)
