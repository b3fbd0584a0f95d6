"""Schedule math, free of the database: due dates and the exact split of an amount into installments."""

import calendar
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_DOWN, Decimal

from accounts.money import CENT, split_evenly, to_money

MONTHLY = "monthly"
BIWEEKLY = "biweekly"


@dataclass(frozen=True)
class ScheduledInstallment:
    number: int
    due_on: date
    amount: Decimal


def add_months(day: date, months: int, *, day_of_month: int | None = None) -> date:
    """The same day `months` later; a day the month lacks (31 in February) is its last day."""
    wanted = day_of_month or day.day
    month_index = day.year * 12 + day.month - 1 + months
    year, month = divmod(month_index, 12)
    month += 1
    return date(year, month, min(wanted, calendar.monthrange(year, month)[1]))


def first_monthly_due(start_on: date, day_of_month: int) -> date:
    """The first date on or after `start_on` that falls on the chosen day (or its month's last day)."""
    candidate = add_months(start_on, 0, day_of_month=day_of_month)
    if candidate < start_on:
        candidate = add_months(start_on, 1, day_of_month=day_of_month)
    return candidate


def due_dates(*, start_on: date, count: int, frequency: str, day_of_month: int | None = None) -> list[date]:
    """`count` strictly increasing due dates from `start_on`."""
    if frequency == BIWEEKLY:
        return [start_on + timedelta(days=14 * n) for n in range(count)]
    day = day_of_month or start_on.day
    first = first_monthly_due(start_on, day)
    return [add_months(first, n, day_of_month=day) for n in range(count)]


def count_for_amount(financed: Decimal, installment_amount: Decimal) -> int:
    """How many installments of `installment_amount` pay `financed`, the last one smaller when the
    amount does not divide it (at least one)."""
    financed, installment_amount = to_money(financed), to_money(installment_amount)
    whole, rest = divmod(financed, installment_amount)
    return max(1, int(whole) + (1 if rest else 0))


def build_schedule_of_amount(
    *, financed: Decimal, installment_amount: Decimal, start_on: date, frequency: str, day_of_month: int | None = None
) -> list[ScheduledInstallment]:
    """What the patient agreed to pay each time: every installment is exactly `installment_amount`
    except the last, which is what remains ($463.95 at $50: 9 x $50.00 and $13.95). They always sum
    to `financed`."""
    financed, installment_amount = to_money(financed), to_money(installment_amount)
    count = count_for_amount(financed, installment_amount)
    amount = min(installment_amount, financed)
    shares = [amount] * (count - 1) + [financed - amount * (count - 1)]
    dates = due_dates(start_on=start_on, count=count, frequency=frequency, day_of_month=day_of_month)
    return [
        ScheduledInstallment(n, due_on, share) for n, (due_on, share) in enumerate(zip(dates, shares, strict=True), 1)
    ]


def build_schedule(
    *, financed: Decimal, count: int, start_on: date, frequency: str, day_of_month: int | None = None
) -> list[ScheduledInstallment]:
    """Split `financed` into `count` installments (each share rounded down, the remainder on the
    last: accounts.money.split_evenly), numbered from 1. They always sum to `financed`."""
    shares = split_evenly(financed, count)
    dates = due_dates(start_on=start_on, count=count, frequency=frequency, day_of_month=day_of_month)
    return [
        ScheduledInstallment(n, due_on, amount) for n, (due_on, amount) in enumerate(zip(dates, shares, strict=True), 1)
    ]


def minimum_installment(*, financed: Decimal, practice_minimum: Decimal, max_months: int) -> Decimal:
    """The practice's minimum installment, or the balance spread over the maximum term (rounded down
    to the cent, as the schedule splits), whichever is larger."""
    spread = (to_money(financed) / max(max_months, 1)).quantize(CENT, rounding=ROUND_DOWN)
    return max(to_money(practice_minimum), spread)


def term_end(first_due: date, max_months: int) -> date:
    """Installments must fall before this date: `max_months` months after the first one."""
    return add_months(first_due, max_months)


def most_installments(frequency: str, max_months: int) -> int:
    """An upper bound on installments within `max_months` (the exact check is `term_end`)."""
    if frequency == BIWEEKLY:
        return max_months * 31 // 14 + 1
    return max(max_months, 1)
