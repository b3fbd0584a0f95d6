import re

from core.errors import ApplicationError

_DIGIT_RUNS = re.compile(r"(?:\d[ -]?){13,19}")

CARD_NUMBER_REFUSED = (
    "This looks like a card number. Never record card numbers: enter the payment processor's reference instead."
)


def luhn_valid(digits: str) -> bool:
    total = 0
    for index, char in enumerate(reversed(digits)):
        value = int(char)
        if index % 2 == 1:
            value *= 2
            if value > 9:
                value -= 9
        total += value
    return total % 10 == 0


def looks_like_card_number(text: str) -> bool:
    """13-19 digits (spaces or dashes allowed) passing the Luhn check (ISO/IEC 7812)."""
    for match in _DIGIT_RUNS.finditer(text or ""):
        digits = re.sub(r"\D", "", match.group())
        if 13 <= len(digits) <= 19 and luhn_valid(digits):
            return True
    return False


def refuse_card_numbers(field: str, text: str) -> None:
    """PCI DSS: card numbers are never stored; refuse any free text that carries one."""
    if looks_like_card_number(text):
        raise ApplicationError(CARD_NUMBER_REFUSED, field=field)
