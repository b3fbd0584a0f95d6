"""Agency recovery, from the placements and the payments agencies returned
(collections_app.agencies): what each agency collected, its commission (our fee to it) and the net
remitted to the practice, by agency, and by placement cohort (agency and month placed).

Two views, each with its own dates, both written on the page:
- By agency: agency payments dated in the period (`AgencyPayment.paid_on`), less reversals of them
  dated in the period (a bounced payment takes back its gross, commission and net), and the
  placements at the agency now with what of them is not yet collected.
- By placement cohort: the placements made in the period (`Placement.placed_on`), grouped by agency
  and month placed; what they collected through the end of the period (less reversals through
  then), and the recovery rate = gross collected / balance placed.

Commission is the amount recorded on each agency payment (from the agency's file, or the agency's
`commission_rate` applied when posted by hand), so a rate change later does not rewrite history.
Payments patients made to the practice directly are not agency recovery (the agency is told of
them in its direct-payments file) and are not counted here.
"""

from datetime import date

from django.db.models import Count, F, Sum
from django.db.models.functions import Coalesce, TruncMonth

from accounts.money import ZERO, to_money
from collections_app.models import Agency, AgencyPayment, Placement
from core.access import scope_to_user
from reports import charts
from reports.framework import Chart, Column, Figure, Report, ReportParams, ReportResult, Table, register
from reports.metrics import rate

MONEY_FIELDS = ("gross", "commission", "net")


def _month(value) -> date:
    return value.date() if hasattr(value, "date") else value


def _sums(queryset, month_field: str, sign: int, into: dict) -> None:
    """Add (sign = 1) or take away (sign = -1) gross, commission and net, by agency and month."""
    rows = (
        queryset.annotate(month=TruncMonth(month_field))
        .values("agency_id", "month")
        .annotate(**{name: Coalesce(Sum(name), ZERO) for name in MONEY_FIELDS}, payments=Count("id"))
        .order_by()
    )
    for row in rows:
        found = into.setdefault((row["agency_id"], _month(row["month"])), _blank())
        for name in MONEY_FIELDS:
            found[name] += sign * to_money(row[name])


def _blank() -> dict:
    return dict.fromkeys(MONEY_FIELDS, ZERO)


@register
class AgenciesReport(Report):
    slug = "agencies"
    title = "Agency recovery"
    description = "What each agency collected, its commission and the net to the practice; by placement cohort."
    formula = (
        "Gross = what the agency collected from patients (agency payments dated in the period, less reversals "
        "of them). Commission = the agency's fee recorded on each payment. Net = gross - commission, what the "
        "agency remits. Cohort recovery rate = gross collected through the end of the period on the placements "
        "made in a month / the balance placed that month."
    )
    period = Report.PERIOD_RANGE
    default_days = 365
    order = 70

    def compute(self, user, params: ReportParams) -> ReportResult:
        start, end, ids = params.date_from, params.date_to, params.practice_ids
        payments = scope_to_user(AgencyPayment.objects.filter(practice_id__in=ids), user)
        placements = scope_to_user(Placement.objects.filter(practice_id__in=ids), user)
        agencies = {
            agency.pk: agency
            for agency in scope_to_user(Agency.objects.filter(practice_id__in=ids), user).select_related("practice")
        }

        # By agency and month paid: payments in the period, less their reversals in the period.
        paid: dict[tuple[int, date], dict] = {}
        _sums(payments.filter(paid_on__gte=start, paid_on__lte=end), "paid_on", 1, paid)
        reversal_on = "transaction__reversed_by__effective_on"
        _sums(
            payments.filter(**{f"{reversal_on}__gte": start, f"{reversal_on}__lte": end}),
            reversal_on,
            -1,
            paid,
        )

        # By cohort: placements made in the period, and what they collected through its end.
        cohorts = {
            (row["agency_id"], _month(row["month"])): row
            for row in placements.filter(placed_on__gte=start, placed_on__lte=end)
            .annotate(month=TruncMonth("placed_on"))
            .values("agency_id", "month")
            .annotate(accounts=Count("id"), placed=Coalesce(Sum("placed_balance"), ZERO))
            .order_by()
        }
        cohort_payments = payments.filter(placement__placed_on__gte=start, placement__placed_on__lte=end)
        collected: dict[tuple[int, date], dict] = {}
        _sums(cohort_payments.filter(paid_on__lte=end), "placement__placed_on", 1, collected)
        _sums(cohort_payments.filter(**{f"{reversal_on}__lte": end}), "placement__placed_on", -1, collected)

        at_agency = {
            row["agency_id"]: row
            for row in placements.filter(status=Placement.Status.PLACED)
            .values("agency_id")
            .annotate(accounts=Count("id"), outstanding=Coalesce(Sum(F("placed_balance") - F("collected")), ZERO))
            .order_by()
        }

        def agency_sort(pk: int):
            agency = agencies[pk]
            return (agency.practice.name, agency.name, pk)

        shown = sorted(
            {pk for pk, _ in paid} | {pk for pk, _ in cohorts} | set(at_agency) | set(agencies), key=agency_sort
        )
        by_agency = []
        for pk in shown:
            agency = agencies[pk]
            mine = [values for (agency_id, _), values in paid.items() if agency_id == pk]
            now = at_agency.get(pk, {})
            by_agency.append(
                {
                    "practice": agency.practice.name,
                    "agency": agency.name,
                    "commission_rate": agency.commission_rate,
                    **{name: sum((v[name] for v in mine), ZERO) for name in MONEY_FIELDS},
                    "accounts": now.get("accounts", 0),
                    "outstanding": to_money(now.get("outstanding", ZERO)),
                }
            )
        by_cohort = []
        for key in sorted(cohorts, key=lambda key: (agency_sort(key[0]), key[1])):
            agency, row, got = agencies[key[0]], cohorts[key], collected.get(key, _blank())
            by_cohort.append(
                {
                    "practice": agency.practice.name,
                    "agency": agency.name,
                    "cohort": f"{key[1]:%m/%Y}",
                    "accounts": row["accounts"],
                    "placed": to_money(row["placed"]),
                    **got,
                    "recovery_rate": rate(got["gross"], to_money(row["placed"])),
                }
            )

        totals = {name: sum((r[name] for r in by_agency), ZERO) for name in (*MONEY_FIELDS, "outstanding")}
        placed_total = sum((r["placed"] for r in by_cohort), ZERO)
        cohort_gross = sum((r["gross"] for r in by_cohort), ZERO)
        money = Column.MONEY
        tables = [
            Table(
                key="by_agency",
                title="By agency, collected in the period",
                columns=[
                    Column("practice", "Practice"),
                    Column("agency", "Agency"),
                    Column("commission_rate", "Commission rate", Column.PERCENT),
                    Column("gross", "Collected (gross)", money),
                    Column("commission", "Commission (fees)", money),
                    Column("net", "Net to the practice", money),
                    Column("accounts", "Accounts at the agency now", Column.INT),
                    Column("outstanding", "Placed, not yet collected", money),
                ],
                rows=by_agency,
                totals={
                    "practice": "All agencies",
                    **totals,
                    "accounts": sum(r["accounts"] for r in by_agency),
                }
                if len(by_agency) > 1
                else None,
            ),
            Table(
                key="by_cohort",
                title="By agency and month placed (placements made in the period)",
                columns=[
                    Column("practice", "Practice"),
                    Column("agency", "Agency"),
                    Column("cohort", "Placed in"),
                    Column("accounts", "Accounts placed", Column.INT),
                    Column("placed", "Balance placed", money),
                    Column("gross", "Collected (gross)", money),
                    Column("commission", "Commission (fees)", money),
                    Column("net", "Net to the practice", money),
                    Column("recovery_rate", "Recovery rate", Column.PERCENT),
                ],
                rows=by_cohort,
                totals={
                    "practice": "All cohorts",
                    "accounts": sum(r["accounts"] for r in by_cohort),
                    "placed": placed_total,
                    **{name: sum((r[name] for r in by_cohort), ZERO) for name in MONEY_FIELDS},
                    "recovery_rate": rate(cohort_gross, placed_total),
                }
                if len(by_cohort) > 1
                else None,
                note="Collected through the end of the period, whenever in the period it was paid.",
            ),
        ]
        months = sorted({month for _, month in paid})
        series = [
            (agencies[pk].name, [paid.get((pk, month), _blank())["gross"] for month in months])
            for pk in shown
            if any(agency_id == pk for agency_id, _ in paid)
        ]
        chart = charts.bar_chart(
            [f"{month:%b '%y}" for month in months],
            series,
            title="Collected by agencies, gross, by month paid",
            stacked=True,
        )
        return ReportResult(
            tables=tables,
            charts=[Chart("Collected by agencies, by month paid", chart)],
            summary=[
                Figure("Collected (gross)", totals["gross"], money),
                Figure("Commission (fees)", totals["commission"], money),
                Figure("Net to the practice", totals["net"], money),
                Figure("Accounts at an agency now", sum(r["accounts"] for r in by_agency), Column.INT),
            ],
            source="Agency payments and placements recorded by the office; placements at an agency now",
            notes=[
                "Payments are counted on the date the agency collected them; a reversal (a returned payment) "
                "is taken off in the month it was reversed.",
                "Payments patients make to the practice directly are not agency recovery and are not counted.",
            ],
        )
