"""Inquiry response due dates: business days skip weekends and US federal holidays (5 USC 6103)."""

from datetime import date

import pytest

from collections_app.correspondence.business_days import add_business_days, is_business_day, us_federal_holidays


@pytest.mark.parametrize(
    ("start", "days", "expected"),
    [
        (date(2025, 3, 3), 1, date(2025, 3, 4)),  # Monday + 1: Tuesday
        (date(2025, 3, 7), 1, date(2025, 3, 10)),  # Friday + 1: Monday
        (date(2025, 3, 7), 10, date(2025, 3, 21)),  # Friday + 10: two weeks later
        (date(2025, 3, 8), 1, date(2025, 3, 10)),  # received Saturday: Monday is the first
        (date(2025, 3, 9), 5, date(2025, 3, 14)),  # received Sunday
        (date(2025, 3, 5), 3, date(2025, 3, 10)),  # Wednesday + 3 across a weekend
        (date(2025, 3, 5), 0, date(2025, 3, 5)),
        (date(2025, 11, 26), 1, date(2025, 11, 28)),  # Thanksgiving skipped
        (date(2025, 12, 24), 1, date(2025, 12, 26)),  # Christmas skipped
        (date(2025, 12, 31), 1, date(2026, 1, 2)),  # New Year's Day skipped
        (date(2026, 7, 2), 1, date(2026, 7, 6)),  # July 4 2026 is a Saturday: observed Friday July 3
        (date(2025, 5, 23), 1, date(2025, 5, 27)),  # Memorial Day weekend
    ],
)
def test_add_business_days(start, days, expected):
    assert add_business_days(start, days) == expected


@pytest.mark.parametrize(
    "holiday",
    [
        date(2025, 1, 20),  # Martin Luther King, Jr. Day
        date(2025, 2, 17),  # Washington's Birthday
        date(2025, 6, 19),  # Juneteenth
        date(2025, 9, 1),  # Labor Day
        date(2025, 10, 13),  # Columbus Day
        date(2025, 11, 11),  # Veterans Day
        date(2021, 12, 31),  # New Year's Day 2022 fell on a Saturday
        date(2023, 1, 2),  # New Year's Day 2023 fell on a Sunday
    ],
)
def test_federal_holidays_are_not_business_days(holiday):
    assert holiday in us_federal_holidays(holiday.year)
    assert not is_business_day(holiday)


def test_juneteenth_only_from_2021():
    assert date(2020, 6, 19) not in us_federal_holidays(2020)
    assert len(us_federal_holidays(2025)) == 11
