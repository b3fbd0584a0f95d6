"""Schedule math as properties: exact splits, valid and increasing due dates, month ends, biweekly spacing."""

import calendar
from datetime import date, timedelta
from decimal import Decimal
from itertools import pairwise

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from accounts.models import Practice
from core.errors import ApplicationError
from payment_plans.schedule import (
    BIWEEKLY,
    MONTHLY,
    add_months,
    build_schedule,
    build_schedule_of_amount,
    count_for_amount,
    due_dates,
    minimum_installment,
    term_end,
)
from payment_plans.services import plan_terms

amounts = st.decimals(min_value=Decimal("0.01"), max_value=Decimal("99999.99"), places=2)
counts = st.integers(min_value=1, max_value=60)
start_dates = st.dates(min_value=date(2020, 1, 1), max_value=date(2035, 12, 31))
days = st.integers(min_value=1, max_value=31)
# A loaded CI machine must not turn slowness into a failure.
no_deadline = settings(deadline=None)


@no_deadline
@given(financed=amounts, count=counts, start_on=start_dates, day=days, frequency=st.sampled_from([MONTHLY, BIWEEKLY]))
def test_installments_sum_to_the_financed_amount_with_valid_increasing_dates(financed, count, start_on, day, frequency):
    schedule = build_schedule(financed=financed, count=count, start_on=start_on, frequency=frequency, day_of_month=day)
    assert len(schedule) == count
    assert sum(row.amount for row in schedule) == financed
    assert [row.number for row in schedule] == list(range(1, count + 1))
    # Each share rounded down, the remainder on the last: all equal but the last, which is not smaller.
    assert len({row.amount for row in schedule[:-1]}) <= 1
    assert schedule[-1].amount >= schedule[0].amount
    assert all(row.amount.as_tuple().exponent == -2 for row in schedule)
    dates = [row.due_on for row in schedule]
    assert dates[0] >= start_on
    assert all(earlier < later for earlier, later in pairwise(dates))


@no_deadline
@given(start_on=start_dates, count=counts, day=days)
def test_monthly_dates_fall_on_the_chosen_day_or_the_months_last_day(start_on, count, day):
    dates = due_dates(start_on=start_on, count=count, frequency=MONTHLY, day_of_month=day)
    for due in dates:
        last = calendar.monthrange(due.year, due.month)[1]
        assert due.day == min(day, last)
    months = [due.year * 12 + due.month for due in dates]
    assert all(later - earlier == 1 for earlier, later in pairwise(months))
    assert dates[0] - start_on < timedelta(days=31)


@no_deadline
@given(start_on=start_dates, count=counts)
def test_biweekly_dates_are_fourteen_days_apart(start_on, count):
    dates = due_dates(start_on=start_on, count=count, frequency=BIWEEKLY)
    assert dates[0] == start_on
    assert all((later - earlier).days == 14 for earlier, later in pairwise(dates))


@pytest.mark.parametrize(
    ("start_on", "expected"),
    [
        (date(2026, 1, 31), [date(2026, 1, 31), date(2026, 2, 28), date(2026, 3, 31), date(2026, 4, 30)]),
        (date(2028, 1, 31), [date(2028, 1, 31), date(2028, 2, 29), date(2028, 3, 31), date(2028, 4, 30)]),
    ],
)
def test_day_31_is_the_last_day_of_shorter_months(start_on, expected):
    assert due_dates(start_on=start_on, count=4, frequency=MONTHLY, day_of_month=31) == expected


def test_a_due_day_already_past_this_month_starts_next_month():
    assert due_dates(start_on=date(2026, 3, 20), count=2, frequency=MONTHLY, day_of_month=5) == [
        date(2026, 4, 5),
        date(2026, 5, 5),
    ]


def test_add_months_keeps_the_chosen_day_after_a_short_month():
    assert add_months(date(2026, 2, 28), 1, day_of_month=31) == date(2026, 3, 31)


@pytest.mark.parametrize(
    ("financed", "count", "shares"),
    [
        ("0.03", 3, ["0.01", "0.01", "0.01"]),
        ("0.01", 1, ["0.01"]),
        ("100.00", 3, ["33.33", "33.33", "33.34"]),
        ("99999.99", 7, ["14285.71"] * 6 + ["14285.73"]),
    ],
)
def test_awkward_amounts_split_exactly(financed, count, shares):
    schedule = build_schedule(financed=Decimal(financed), count=count, start_on=date(2026, 1, 1), frequency=MONTHLY)
    assert [row.amount for row in schedule] == [Decimal(share) for share in shares]


@no_deadline
@given(financed=amounts, amount=amounts)
def test_an_installment_amount_is_what_the_patient_pays_each_time_the_last_takes_the_rest(financed, amount):
    assume(financed / amount <= 600)
    schedule = build_schedule_of_amount(
        financed=financed, installment_amount=amount, start_on=date(2026, 1, 1), frequency=MONTHLY
    )
    assert sum(row.amount for row in schedule) == financed
    assert len(schedule) == count_for_amount(financed, amount)
    assert all(row.amount == min(amount, financed) for row in schedule[:-1])
    assert 0 < schedule[-1].amount <= amount


def test_fifty_dollars_a_month_on_463_95_is_nine_fifties_and_the_rest():
    schedule = build_schedule_of_amount(
        financed=Decimal("463.95"), installment_amount=Decimal("50"), start_on=date(2026, 1, 1), frequency=MONTHLY
    )
    assert [row.amount for row in schedule] == [Decimal("50.00")] * 9 + [Decimal("13.95")]


def test_minimum_installment_is_the_larger_of_the_practice_minimum_and_the_spread():
    assert minimum_installment(financed=Decimal("200"), practice_minimum=Decimal("25"), max_months=24) == Decimal(
        "25.00"
    )
    assert minimum_installment(financed=Decimal("1000"), practice_minimum=Decimal("25"), max_months=24) == Decimal(
        "41.66"
    )


@no_deadline
@given(
    financed=amounts,
    count=st.integers(min_value=1, max_value=80),
    start_on=start_dates,
    day=days,
    frequency=st.sampled_from([MONTHLY, BIWEEKLY]),
    max_months=st.integers(min_value=1, max_value=36),
    practice_minimum=st.decimals(min_value=Decimal("1.00"), max_value=Decimal("100.00"), places=2),
)
def test_accepted_terms_always_meet_the_practice_policy(
    financed, count, start_on, day, frequency, max_months, practice_minimum
):
    """Whatever the input, the policy either refuses with a message or gives a schedule that sums to
    the amount, meets the minimum installment and ends within the maximum term."""

    practice = Practice(plan_min_installment=practice_minimum, plan_max_months=max_months)
    try:
        terms = plan_terms(
            practice=practice,
            financed=financed,
            installment_count=count,
            frequency=frequency,
            day_of_month=day,
            start_on=start_on,
            today=start_on,
        )
    except ApplicationError as refused:
        assert refused.field == "installment_count" and refused.message
        return
    rows = terms.installments
    assert sum(row.amount for row in rows) == financed
    minimum = minimum_installment(financed=financed, practice_minimum=practice_minimum, max_months=max_months)
    assert count == 1 or min(row.amount for row in rows) >= minimum
    assert rows[-1].due_on < term_end(rows[0].due_on, max_months)
