"""Business-day arithmetic for response due dates: weekends and US federal holidays are skipped.

Holidays are the ones 5 USC 6103(a) names, with the observed-day rule of Executive Order 11582
(a Saturday holiday is observed the Friday before, a Sunday holiday the Monday after). Juneteenth
is a holiday from 2021 (Pub. L. 117-17).
"""

import calendar
from datetime import date, timedelta
from functools import cache

SATURDAY, SUNDAY = 5, 6
MONDAY, THURSDAY = 0, 3


def _nth_weekday(year: int, month: int, weekday: int, n: int) -> date:
    first = date(year, month, 1)
    return first + timedelta(days=(weekday - first.weekday()) % 7 + 7 * (n - 1))


def _last_weekday(year: int, month: int, weekday: int) -> date:
    last = date(year, month, calendar.monthrange(year, month)[1])
    return last - timedelta(days=(last.weekday() - weekday) % 7)


def _observed(day: date) -> date:
    if day.weekday() == SATURDAY:
        return day - timedelta(days=1)
    if day.weekday() == SUNDAY:
        return day + timedelta(days=1)
    return day


@cache
def us_federal_holidays(year: int) -> frozenset[date]:
    """The days federal offices are closed in `year` (observed dates)."""
    fixed = [date(year, 1, 1), date(year, 7, 4), date(year, 11, 11), date(year, 12, 25)]
    if year >= 2021:
        fixed.append(date(year, 6, 19))
    floating = [
        _nth_weekday(year, 1, MONDAY, 3),  # Birthday of Martin Luther King, Jr.
        _nth_weekday(year, 2, MONDAY, 3),  # Washington's Birthday
        _last_weekday(year, 5, MONDAY),  # Memorial Day
        _nth_weekday(year, 9, MONDAY, 1),  # Labor Day
        _nth_weekday(year, 10, MONDAY, 2),  # Columbus Day
        _nth_weekday(year, 11, THURSDAY, 4),  # Thanksgiving Day
    ]
    observed = {_observed(day) for day in fixed} | set(floating)
    # New Year's Day on a Saturday is observed on December 31 of the year before.
    next_new_year = _observed(date(year + 1, 1, 1))
    if next_new_year.year == year:
        observed.add(next_new_year)
    return frozenset(day for day in observed if day.year == year)


def is_business_day(day: date) -> bool:
    return day.weekday() < SATURDAY and day not in us_federal_holidays(day.year)


def add_business_days(start: date, days: int) -> date:
    """The `days`-th business day after `start` (start itself never counts; 0 returns start)."""
    current, remaining = start, days
    while remaining > 0:
        current += timedelta(days=1)
        if is_business_day(current):
            remaining -= 1
    return current
