"""Probate creditor-claim deadlines: pure date arithmetic over a ProbateClaimRule row.

Uniform Probate Code 3-801(b): a creditor must present a claim within 4 months after the first
publication of the notice to creditors; a creditor given notice by mail has until the later of those
4 months or 60 days after the mailing. UPC 3-803(a)(1): every claim is barred 1 year after death,
whatever notice was given. States change the numbers (ProbateClaimRule rows), not the shape.
"""

import calendar
from datetime import date, timedelta

from collections_app.models import ProbateClaimRule


def add_months(start: date, months: int) -> date:
    """The same day `months` later; a day the target month lacks becomes its last day (Jan 31 + 1 -> Feb 28/29)."""
    month_index = start.month - 1 + months
    year, month = start.year + month_index // 12, month_index % 12 + 1
    return date(year, month, min(start.day, calendar.monthrange(year, month)[1]))


def probate_claim_deadline(
    *,
    died_on: date,
    months_after_published_notice: int,
    days_after_mailed_notice: int,
    months_after_death_bar: int,
    published_notice_on: date | None = None,
    mailed_notice_on: date | None = None,
) -> date:
    """The last day to present a claim against the estate.

    No notice yet: the bar after death. Published notice only: the published period, capped by the
    bar. Mailed notice: the later of the published period (when publication is known) and the mailed
    period, capped by the bar. A mailed notice without a known publication date counts from the
    mailing alone: the earlier, safer date for the office to file by.
    """
    bar = add_months(died_on, months_after_death_bar)
    notice_deadlines = []
    if published_notice_on is not None:
        notice_deadlines.append(add_months(published_notice_on, months_after_published_notice))
    if mailed_notice_on is not None:
        notice_deadlines.append(mailed_notice_on + timedelta(days=days_after_mailed_notice))
    if not notice_deadlines:
        return bar
    return min(max(notice_deadlines), bar)


def probate_rule_for_state(state: str):
    """The state's row of the claim table, or the UPC default (the row with an empty state)."""
    rules = {rule.state: rule for rule in ProbateClaimRule.objects.filter(state__in={(state or "").upper(), ""})}
    return rules.get((state or "").upper()) or rules.get("")


def claim_deadline_for(
    *, state: str, died_on: date, published_notice_on: date | None = None, mailed_notice_on: date | None = None
) -> date:
    """The claim deadline in the practice's state for the notices recorded on a probate hold."""
    rule = probate_rule_for_state(state)
    if rule is None:  # the table was emptied: fall back to the UPC numbers
        published, mailed, bar = 4, 60, 12
    else:
        published = rule.months_after_published_notice
        mailed = rule.days_after_mailed_notice
        bar = rule.months_after_death_bar
    return probate_claim_deadline(
        died_on=died_on,
        months_after_published_notice=published,
        days_after_mailed_notice=mailed,
        months_after_death_bar=bar,
        published_notice_on=published_notice_on,
        mailed_notice_on=mailed_notice_on,
    )
