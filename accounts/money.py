"""Money is Decimal with two places, end to end. One rounding rule, one splitting rule."""

from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal

CENT = Decimal("0.01")
ZERO = Decimal("0.00")
# The one shape of a money field, for model, form and serializer fields alike: up to
# $9,999,999,999.99, two places.
MONEY = {"max_digits": 12, "decimal_places": 2}


def to_money(value) -> Decimal:
    """Round to cents, half up (the rule statements and remittances use)."""
    if isinstance(value, float):
        raise TypeError("money is never a float; pass a str or Decimal")
    return Decimal(value).quantize(CENT, rounding=ROUND_HALF_UP)


def split_evenly(total: Decimal, parts: int) -> list[Decimal]:
    """Each share rounded down, the remainder on the last share; the shares sum to the total."""
    if parts < 1:
        raise ValueError("parts must be at least 1")
    total = to_money(total)
    share = (total / parts).quantize(CENT, rounding=ROUND_DOWN)
    shares = [share] * (parts - 1)
    shares.append(total - share * (parts - 1))
    return shares
