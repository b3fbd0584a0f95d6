"""Returned mail and appointment flags: how many came in, how many were worked, and how fast.

Returned mail: collections_app.ReturnedMail (received on a date, resolved at a time, with a
resolution). Appointment flags: the queue's work items "Upcoming appointment, past-due balance"
(collections_app.WorkItem, reason appointment_past_due), opened by the nightly appointment alerts
and cleared when the appointment passes or the balance is settled. Days to resolve are counted in the
practice's own calendar.
"""

import statistics
from collections import defaultdict
from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from collections_app.models import ReturnedMail, WorkItem
from reports import charts
from reports.framework import Chart, Column, Figure, Report, ReportParams, ReportResult, Table, register

FLAG = WorkItem.Reason.APPOINTMENT_PAST_DUE


def _local_date(moment: datetime, zone: str) -> date:
    return moment.astimezone(ZoneInfo(zone)).date()


class _Tally:
    def __init__(self):
        self.count = 0
        self.resolved = 0
        self.days: list[int] = []

    def add(self, days: int | None) -> None:
        self.count += 1
        if days is not None:
            self.resolved += 1
            self.days.append(days)

    def row(self, **lead) -> dict:
        return {
            **lead,
            "count": self.count,
            "resolved": self.resolved,
            "open": self.count - self.resolved,
            "average": (Decimal(sum(self.days)) / len(self.days)).quantize(Decimal("0.1")) if self.days else None,
            "median": Decimal(str(statistics.median(self.days))).quantize(Decimal("0.1")) if self.days else None,
        }


def _columns(first: Column, count_label: str, resolved_label: str, verb: str = "resolve") -> list[Column]:
    return [
        first,
        Column("count", count_label, Column.INT),
        Column("resolved", resolved_label, Column.INT),
        Column("open", "Still open", Column.INT),
        Column("average", f"Average days to {verb}", Column.DAYS),
        Column("median", f"Median days to {verb}", Column.DAYS),
    ]


@register
class ReturnedMailReport(Report):
    slug = "returned-mail"
    title = "Returned mail and appointment flags"
    description = "Returned mail and 'see billing office' appointment flags: counts and time to resolve."
    period = Report.PERIOD_RANGE
    default_days = 90
    order = 80
    formula = (
        "Counted by the date each came in (mail received, flag raised) within the period. Days to resolve = "
        "the practice-local date it was resolved - the date it came in; still open = not resolved by the end "
        "of the period. Average and median are over the resolved ones."
    )

    def compute(self, user, params: ReportParams) -> ReportResult:
        zones = {p.pk: p.time_zone for p in params.practices}
        names = {p.pk: p.name for p in params.practices}
        end = params.date_to
        mail_by_practice = defaultdict(_Tally)
        mail_by_reason = defaultdict(_Tally)
        mail_by_resolution = defaultdict(_Tally)
        mail = ReturnedMail.objects.filter(
            practice_id__in=params.practice_ids, received_on__gte=params.date_from, received_on__lte=end
        ).values_list("practice_id", "received_on", "resolved_at", "reason", "resolution")
        for practice_id, received_on, resolved_at, reason, resolution in mail:
            days = None
            if resolved_at is not None:
                resolved_on = _local_date(resolved_at, zones[practice_id])
                days = (resolved_on - received_on).days if resolved_on <= end else None
            mail_by_practice[practice_id].add(days)
            mail_by_reason[reason].add(days)
            if days is not None:
                mail_by_resolution[resolution].add(days)

        flags_by_practice = defaultdict(_Tally)
        flags = WorkItem.objects.filter(
            practice_id__in=params.practice_ids, reason=FLAG, opened_on__gte=params.date_from, opened_on__lte=end
        ).values_list("practice_id", "opened_on", "cleared_at")
        for practice_id, opened_on, cleared_at in flags:
            days = None
            if cleared_at is not None:
                cleared_on = _local_date(cleared_at, zones[practice_id])
                days = (cleared_on - opened_on).days if cleared_on <= end else None
            flags_by_practice[practice_id].add(days)

        def practice_rows(tallies) -> tuple[list[dict], dict]:
            rows = [tallies[p.pk].row(practice=p.name) for p in params.practices]
            everything = _Tally()
            for p in params.practices:
                everything.count += tallies[p.pk].count
                everything.resolved += tallies[p.pk].resolved
                everything.days += tallies[p.pk].days
            return rows, everything.row(practice="All chosen practices")

        mail_rows, mail_total = practice_rows(mail_by_practice)
        flag_rows, flag_total = practice_rows(flags_by_practice)
        resolution_labels = dict(ReturnedMail.Resolution.choices)
        tables = [
            Table(
                "mail",
                "Returned mail by practice",
                _columns(Column("practice", "Practice"), "Received", "Resolved"),
                mail_rows,
                mail_total,
            ),
            Table(
                "mail_reasons",
                "Returned mail by reason",
                _columns(Column("reason", "Why it came back"), "Received", "Resolved"),
                [
                    mail_by_reason[code].row(reason=label)
                    for code, label in ReturnedMail.Reason.choices
                    if code in mail_by_reason
                ],
            ),
            Table(
                "mail_resolutions",
                "How returned mail was resolved",
                [
                    Column("resolution", "Resolution"),
                    Column("count", "Resolved", Column.INT),
                    Column("average", "Average days to resolve", Column.DAYS),
                    Column("median", "Median days to resolve", Column.DAYS),
                ],
                [
                    mail_by_resolution[code].row(resolution=resolution_labels.get(code, code))
                    for code, _ in ReturnedMail.Resolution.choices
                    if code in mail_by_resolution
                ],
            ),
            Table(
                "flags",
                "Appointment flags by practice",
                _columns(Column("practice", "Practice"), "Flags raised", "Cleared", "clear"),
                flag_rows,
                flag_total,
                note="Upcoming appointment of a patient with a past-due balance: the front desk sees "
                "'see billing office'.",
            ),
        ]
        categories = [names[p.pk] for p in params.practices]
        chart_mail = charts.bar_chart(
            categories,
            [
                ("Resolved", [row["resolved"] for row in mail_rows]),
                ("Still open", [row["open"] for row in mail_rows]),
            ],
            title="Returned mail received, resolved and still open, by practice",
            empty_message="No returned mail came in during this period.",
            stacked=True,
            horizontal=len(categories) > 4,
            kind=charts.COUNT,
        )
        chart_flags = charts.bar_chart(
            categories,
            [
                ("Cleared", [row["resolved"] for row in flag_rows]),
                ("Still open", [row["open"] for row in flag_rows]),
            ],
            title="Appointment flags raised, cleared and still open, by practice",
            empty_message="No appointment flags were raised during this period.",
            stacked=True,
            horizontal=len(categories) > 4,
            kind=charts.COUNT,
        )
        return ReportResult(
            tables=tables,
            charts=[
                Chart("Returned mail: resolved and still open", chart_mail),
                Chart("Appointment flags: cleared and still open", chart_flags),
            ],
            summary=[
                Figure("Returned mail received", mail_total["count"], Column.INT),
                Figure("Returned mail still open", mail_total["open"], Column.INT),
                Figure("Median days to resolve mail", mail_total["median"], Column.DAYS),
                Figure("Appointment flags raised", flag_total["count"], Column.INT),
                Figure("Median days to clear a flag", flag_total["median"], Column.DAYS),
            ],
            notes=[
                f"Period: {params.date_from:%m/%d/%Y} to {end:%m/%d/%Y}, by the date each came in.",
                "Resolved after the end of the period counts as still open.",
            ],
            source="Returned mail log and the work queue",
        )
