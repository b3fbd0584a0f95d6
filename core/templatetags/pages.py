"""Display helpers for the server-rendered pages: money and phone numbers, billing-office style."""

from decimal import Decimal

from django import template
from django.utils import timezone

register = template.Library()


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
