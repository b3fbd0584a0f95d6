"""Filters of the statement and letter documents, whose frozen content keeps dates as ISO text."""

from datetime import date

from django import template

register = template.Library()


@register.filter
def usdate(value) -> str:
    """ "2026-12-06" (or a date) as the office writes it: 12/06/2026; blank stays blank."""
    if not value:
        return ""
    day = value if isinstance(value, date) else date.fromisoformat(str(value))
    return f"{day:%m/%d/%Y}"


@register.filter
def is_nonzero(value) -> bool:
    """A money string other than "0.00" (and not blank)."""
    return bool(value) and value not in ("0.00", "-0.00", "0")
