"""Agency recovery from what the ledger holds: agency payments and bad-debt recoveries dated in the
period (each net of reversals of it dated in the period), by practice and month, and the accounts at
an agency now (status "agency").

Agency names, placement dates and commission (fees) arrive with placements (the agencies and
placements part of the collection cycle). Until then each row's agency and cohort come from
`ledger_grouping`, which knows neither: the report says so on the page. Placements drop in by
replacing `ledger_grouping` with one that annotates each ledger row's agency and placement month
(from the account's placement) and a fee, keeping the same keys.
"""

from django.db.models import Count, F, Sum
from django.db.models.functions import Coalesce, TruncMonth

from accounts.models import PatientAccount, Transaction
from accounts.money import ZERO, to_money
from core.access import scope_to_user
from reports import charts
from reports.framework import Chart, Column, Figure, Report, ReportParams, ReportResult, Table, register

Kind = Transaction.Kind
RECOVERY_KINDS = (Kind.AGENCY_PAYMENT, Kind.BAD_DEBT_RECOVERY)


def ledger_grouping(queryset, *, kind_field: str):
    """Group ledger rows by practice, month and kind. Agency and cohort are not in the ledger."""
    return (
        queryset.annotate(month=TruncMonth("effective_on"), counted_kind=F(kind_field))
        .values("account__practice_id", "month", "counted_kind")
        .annotate(amount=Coalesce(Sum(F("patient_amount")), ZERO))
        .order_by()
    )


@register
class AgenciesReport(Report):
    slug = "agencies"
    title = "Agency recovery"
    description = "What agencies recovered, by practice and month, gross; accounts at an agency now."
    formula = (
        "Recovered gross = agency payments dated in the period, less reversals of them. Bad-debt recoveries = "
        "balances put back after a bad-debt write-off because money came in, dated in the period. "
        "Net of fees = gross less the agency's commission (arrives with placements)."
    )
    period = Report.PERIOD_RANGE
    default_days = 365
    order = 70

    def compute(self, user, params: ReportParams) -> ReportResult:
        start, end, ids = params.date_from, params.date_to, params.practice_ids
        dated = scope_to_user(
            Transaction.objects.filter(account__practice_id__in=ids, effective_on__gte=start, effective_on__lte=end),
            user,
            practice_field="account__practice",
        )
        rows = ledger_grouping(dated.filter(kind__in=RECOVERY_KINDS), kind_field="kind").union(
            ledger_grouping(
                dated.filter(kind=Kind.REVERSAL, reverses__kind__in=RECOVERY_KINDS), kind_field="reverses__kind"
            ),
            all=True,
        )
        sums = {}
        for row in rows:
            month = row["month"].date() if hasattr(row["month"], "date") else row["month"]
            found = sums.setdefault((row["account__practice_id"], month), {"gross": ZERO, "recoveries": ZERO})
            amount = to_money(row["amount"])
            if row["counted_kind"] == Kind.AGENCY_PAYMENT:
                found["gross"] -= amount  # a payment lowers the patient balance
            else:
                found["recoveries"] += amount
        at_agency = {
            row["practice_id"]: row
            for row in scope_to_user(PatientAccount.objects.filter(practice_id__in=ids, status="agency"), user)
            .values("practice_id")
            .annotate(accounts=Count("pk"), balance=Coalesce(Sum("patient_balance"), ZERO))
            .order_by()
        }
        names = {p.pk: p.name for p in params.practices}
        by_month = [
            {
                "practice": names[pk],
                "month": f"{month:%m/%Y}",
                "gross": values["gross"],
                "recoveries": values["recoveries"],
            }
            for (pk, month), values in sorted(sums.items(), key=lambda item: (names[item[0][0]], item[0][1]))
        ]
        by_practice = []
        for practice in params.practices:
            mine = [values for (pk, _), values in sums.items() if pk == practice.pk]
            found = at_agency.get(practice.pk, {})
            by_practice.append(
                {
                    "practice": practice.name,
                    "gross": sum((v["gross"] for v in mine), ZERO),
                    "recoveries": sum((v["recoveries"] for v in mine), ZERO),
                    "fees": None,
                    "net": None,
                    "accounts": found.get("accounts", 0),
                    "balance": to_money(found.get("balance", ZERO)),
                }
            )
        gross = sum((r["gross"] for r in by_practice), ZERO)
        tables = [
            Table(
                key="by_practice",
                title="By practice",
                columns=[
                    Column("practice", "Practice"),
                    Column("gross", "Recovered (gross)", Column.MONEY),
                    Column("recoveries", "Bad-debt recoveries", Column.MONEY),
                    Column("fees", "Agency fees", Column.MONEY),
                    Column("net", "Recovered net of fees", Column.MONEY),
                    Column("accounts", "Accounts at an agency now", Column.INT),
                    Column("balance", "Their patient balance", Column.MONEY),
                ],
                rows=by_practice,
                totals={
                    "practice": "All practices",
                    "gross": gross,
                    "recoveries": sum((r["recoveries"] for r in by_practice), ZERO),
                    "accounts": sum(r["accounts"] for r in by_practice),
                    "balance": sum((r["balance"] for r in by_practice), ZERO),
                }
                if len(by_practice) > 1
                else None,
            ),
            Table(
                key="by_month",
                title="By practice and month paid",
                # With placements: Column("agency", "Agency") and Column("cohort", "Placed in") after
                # the practice, and fees and net, from `ledger_grouping`'s keys.
                columns=[
                    Column("practice", "Practice"),
                    Column("month", "Month paid"),
                    Column("gross", "Recovered (gross)", Column.MONEY),
                    Column("recoveries", "Bad-debt recoveries", Column.MONEY),
                ],
                rows=by_month,
            ),
        ]
        months = sorted({month for (_, month) in sums})
        series = [
            (p.name, [sums.get((p.pk, month), {}).get("gross", ZERO) for month in months]) for p in params.practices
        ]
        chart = charts.bar_chart(
            [f"{month:%b '%y}" for month in months],
            series,
            title="Recovered by agencies, gross, by month",
            stacked=True,
        )
        return ReportResult(
            tables=tables,
            charts=[Chart("Recovered by agencies, by month", chart)],
            summary=[
                Figure("Recovered (gross)", gross, Column.MONEY),
                Figure("Accounts at an agency now", sum(r["accounts"] for r in by_practice), Column.INT),
            ],
            source="The ledger's agency payments and bad-debt recoveries dated in the period; account statuses now",
            notes=[
                "Agency names, placement cohorts and agency fees arrive with placements: until then recovery is "
                "shown by practice and month paid, gross, and the fee and net columns are empty.",
            ],
        )
