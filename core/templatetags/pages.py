"""Display helpers for the server-rendered pages: money, phone numbers, times and empty values,
billing-office style. Times and the dash come from core.display (one format, one zone rule)."""

from decimal import Decimal

from django import template
from django.utils import timezone

from core import display

register = template.Library()


@register.filter
def when(value, practice_zone=None) -> str:
    """A moment something happened, labelled with its zone: "12/02/2026 3:04 PM EST".

    `{{ run.started_at|when }}` for a time tied to no practice (the user's zone, else the
    office's); `{{ hold.placed_at|when:account.practice.time_zone }}` for one that happened at a
    practice (the user's zone when they chose one in My settings, else the practice's). "—" when
    missing. The rule, and why a chosen zone may move a practice's time: core/display.py.
    """
    return display.display_time(value, practice_zone)


@register.filter
def clock(value, zone) -> str:
    """A time on a practice's or patient's own clock, always in that zone: "Thu 12/03/2026 11:15
    AM CST" (an appointment, the governor's next allowed call). The user's zone does not move it."""
    return display.clock_time(value, zone)


@register.filter
def or_dash(value):
    """The one way an empty value is written: "—" for None, "" and empty lists (0 stays 0)."""
    if value is None or value == "" or value == [] or value == {}:
        return display.EMPTY
    return value


@register.filter
def staff_name(user) -> str:
    """A staff member by name ("Jane Rep"), the username when no name is set, "—" for nobody."""
    return display.staff_name(user) or display.EMPTY


@register.filter
def words(code) -> str:
    """A stored code spelled out: 'accounts_restored' -> 'Accounts restored'."""
    return display.words(code)


@register.filter
def zone_name(zone) -> str:
    """'America/Los_Angeles' -> 'Pacific (Los Angeles)'."""
    return display.zone_name(zone)


@register.filter
def money(value) -> str:
    """$1,234.56 and -$50.00; exact Decimal formatting, never through float."""
    if value is None or value == "":
        return ""
    amount = Decimal(value).quantize(Decimal("0.01"))
    sign = "-" if amount < 0 else ""
    return f"{sign}${abs(amount):,.2f}"


@register.filter
def signed_amount(value) -> str:
    """Ledger cells: 1,234.56 / -50.00, blank for zero (a row moves one balance or both)."""
    if value is None or value == "":
        return ""
    amount = Decimal(value).quantize(Decimal("0.01"))
    if amount == 0:
        return ""
    return f"{amount:,.2f}"


@register.filter
def phone(value) -> str:
    """Stored as digits; shown as (555) 123-4567 when it is a ten-digit number."""
    digits = "".join(ch for ch in str(value or "") if ch.isdigit())
    if len(digits) == 10:
        return f"({digits[:3]}) {digits[3:6]}-{digits[6:]}"
    return str(value or "")


@register.filter
def age(date_of_birth, today=None) -> str:
    """Whole years of age on `today` ("" when the date is missing). Pass the practice's today
    (`{{ dob|age:today }}`, accounts.selectors.practice_today): the server's date is UTC's."""
    if not date_of_birth:
        return ""
    today = today or timezone.localdate()
    years = today.year - date_of_birth.year - ((today.month, today.day) < (date_of_birth.month, date_of_birth.day))
    return str(max(years, 0))


@register.filter
def page_position(page) -> str:
    """ "Page 2 of 7", or just "Page 2" when the count stopped at the cap (the last page is not known)."""
    paginator = page.paginator
    if getattr(paginator, "is_capped", False):
        return f"Page {page.number}"
    return f"Page {page.number} of {paginator.num_pages}"
