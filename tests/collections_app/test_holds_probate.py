"""Probate claim deadlines: UPC 3-801 (notice periods) capped by UPC 3-803 (bar after death), per state."""

from datetime import date

import pytest

from collections_app.holds.probate import add_months, claim_deadline_for, probate_claim_deadline, probate_rule_for_state

UPC = {"months_after_published_notice": 4, "days_after_mailed_notice": 60, "months_after_death_bar": 12}


@pytest.mark.parametrize(
    ("start", "months", "expected"),
    [
        (date(2025, 1, 31), 1, date(2025, 2, 28)),
        (date(2024, 1, 31), 1, date(2024, 2, 29)),
        (date(2025, 10, 31), 4, date(2026, 2, 28)),
        (date(2025, 3, 31), 1, date(2025, 4, 30)),
        (date(2025, 12, 15), 12, date(2026, 12, 15)),
        (date(2024, 2, 29), 12, date(2025, 2, 28)),
        (date(2025, 11, 30), 3, date(2026, 2, 28)),
    ],
)
def test_add_months_clamps_to_the_end_of_a_short_month(start, months, expected):
    assert add_months(start, months) == expected


@pytest.mark.parametrize(
    ("died_on", "published", "mailed", "expected"),
    [
        # No notice yet: barred one year after death.
        (date(2025, 3, 10), None, None, date(2026, 3, 10)),
        # Published notice: 4 months after publication.
        (date(2025, 3, 10), date(2025, 5, 1), None, date(2025, 9, 1)),
        # Published on Oct 31: 4 months lands on the last day of February.
        (date(2025, 8, 1), date(2025, 10, 31), None, date(2026, 2, 28)),
        # Mailed notice later than publication: 60 days after mailing wins over 4 months.
        (date(2025, 3, 10), date(2025, 5, 1), date(2025, 8, 15), date(2025, 10, 14)),
        # Mailed notice early: the 4 months after publication is later and wins.
        (date(2025, 3, 10), date(2025, 5, 1), date(2025, 5, 10), date(2025, 9, 1)),
        # Mailed only (publication unknown): 60 days after mailing.
        (date(2025, 3, 10), None, date(2025, 6, 1), date(2025, 7, 31)),
        # Notice very late: the bar one year after death comes first.
        (date(2025, 1, 31), date(2025, 11, 20), None, date(2026, 1, 31)),
        (date(2024, 2, 29), None, date(2025, 2, 1), date(2025, 2, 28)),
    ],
)
def test_upc_claim_deadline(died_on, published, mailed, expected):
    assert (
        probate_claim_deadline(died_on=died_on, published_notice_on=published, mailed_notice_on=mailed, **UPC)
        == expected
    )


@pytest.mark.django_db
def test_state_row_is_used_and_unknown_states_fall_back_to_the_upc_default():
    assert probate_rule_for_state("FL").state == "FL"
    assert probate_rule_for_state("ny").state == ""
    assert probate_rule_for_state("").state == ""


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("state", "published", "mailed", "expected"),
    [
        ("NY", date(2025, 2, 1), None, date(2025, 6, 1)),  # UPC default: 4 months after publication
        ("NY", None, date(2025, 2, 1), date(2025, 4, 2)),  # UPC default: 60 days after mailing
        ("NY", None, None, date(2026, 1, 15)),  # UPC default: barred 1 year after death
        ("NY", date(2025, 2, 1), date(2025, 5, 1), date(2025, 6, 30)),  # mailed late: 60 days after mailing wins
        ("NY", date(2025, 2, 1), date(2025, 2, 10), date(2025, 6, 1)),  # mailed early: 4 months after publication
        ("NY", date(2025, 11, 1), date(2025, 12, 1), date(2026, 1, 15)),  # both past the bar: the bar
        ("FL", date(2025, 2, 1), None, date(2025, 5, 1)),  # Florida: 3 months
        ("FL", None, date(2025, 2, 1), date(2025, 3, 3)),  # Florida: 30 days
        ("FL", date(2025, 2, 1), date(2025, 4, 15), date(2025, 5, 15)),  # Florida: the later of the two
        ("OH", None, None, date(2025, 7, 15)),  # Ohio: barred 6 months after death
        ("OH", date(2025, 6, 1), None, date(2025, 7, 15)),  # 6 months after notice is past the bar
        ("OH", date(2025, 2, 1), date(2025, 3, 1), date(2025, 7, 15)),  # the later of the two, capped by the bar
        ("IL", None, None, date(2027, 1, 15)),  # Illinois: 2 years
    ],
)
def test_claim_deadline_uses_the_practice_state(state, published, mailed, expected):
    deadline = claim_deadline_for(
        state=state, died_on=date(2025, 1, 15), published_notice_on=published, mailed_notice_on=mailed
    )
    assert deadline == expected
