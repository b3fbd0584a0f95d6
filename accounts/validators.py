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


# A stretch of digits, spaces and dashes long enough to hold 13 digits, from a digit to a digit:
# every card-number match lies inside one. This simple class is scanned three times faster than
# _DIGIT_RUNS, whose nested repeat is tried again at each digit of the many short numbers an
# import's references carry; _DIGIT_RUNS then runs over the few stretches found.
_STRETCHES = re.compile(r"\d[\d -]{11,}\d")


def looks_like_card_number(text: str) -> bool:
    """13-19 digits (spaces or dashes allowed) passing the Luhn check (ISO/IEC 7812)."""
    for stretch in _STRETCHES.finditer(text or ""):
        for match in _DIGIT_RUNS.finditer(stretch.group()):
            digits = re.sub(r"\D", "", match.group())
            if 13 <= len(digits) <= 19 and luhn_valid(digits):
                return True
    return False


def texts_without_card_numbers(texts) -> set[str]:
    """Those of `texts` that carry no card number, found with one search over them all (a batch's
    references and memos): a line break ends every digit run, so the joined text has a card
    number exactly when one of the texts has. Only when it has is each text searched alone."""
    texts = {text or "" for text in texts}
    if not looks_like_card_number("\n".join(texts)):
        return texts
    return {text for text in texts if not looks_like_card_number(text)}


def refuse_card_numbers(field: str, text: str) -> None:
    """PCI DSS: card numbers are never stored; refuse any free text that carries one."""
    if looks_like_card_number(text):
        raise ApplicationError(CARD_NUMBER_REFUSED, field=field)
