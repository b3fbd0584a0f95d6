"""Write-offs in the period: by reason, practice and approver, from the requests posted in the
period (writeoffs.WriteOffRequest) and from the ledger's write-off rows dated in the period (every
write-off, whoever posted it, net of reversals); bad debt as a share of gross patient revenue.

    Gross patient revenue: charges dated in the period, patient and insurance shares, before
        contractual adjustments (the practice's gross charges for patient services).
    Bad debt % = ledger write-offs for reason "bad debt" dated in the period, less reversals of them
        dated in the period / gross patient revenue.
Three grouped queries.
"""

from django.db.models import Count, F, Q, Sum
from django.db.models.functions import Coalesce

from accounts.models import Transaction
from accounts.money import ZERO, to_money
from core.access import scope_to_user
from core.display import staff_name
from core.models import StaffUser
from reports import charts
from reports.framework import Chart, Column, Figure, Report, ReportParams, ReportResult, Table, register
from reports.metrics import rate
from reports.periods import in_local_period
from writeoffs.models import Reason, WriteOffRequest

Kind = Transaction.Kind
REASONS = dict(Reason.choices)


@register
class WriteOffsReport(Report):
    slug = "write-offs"
    title = "Write-offs"
    description = "Write-offs by reason, practice and approver; bad debt as a share of gross patient revenue."
    formula = (
        "Bad debt % = bad-debt write-offs dated in the period (less their reversals) / gross patient revenue. "
        "Gross patient revenue = charges dated in the period, patient and insurance shares, before contractual "
        "adjustments."
    )
    period = Report.PERIOD_RANGE
    default_days = 90
    order = 60

    def compute(self, user, params: ReportParams) -> ReportResult:
        start, end, ids = params.date_from, params.date_to, params.practice_ids
        names = {p.pk: p.name for p in params.practices}
        requests = list(
            scope_to_user(WriteOffRequest.objects.filter(practice_id__in=ids), user)
            .filter(in_local_period(params.practices, start, end, "posted_at"))
            .filter(status__in=[WriteOffRequest.Status.POSTED, WriteOffRequest.Status.REVERSED])
            .values("practice_id", "reason", "decided_by_id")
            .annotate(
                count=Count("pk"),
                amount=Coalesce(Sum("amount"), ZERO),
                reversed=Count("pk", filter=Q(status=WriteOffRequest.Status.REVERSED)),
            )
            .order_by()
        )
        dated = scope_to_user(
            Transaction.objects.filter(account__practice_id__in=ids, effective_on__gte=start, effective_on__lte=end),
            user,
            practice_field="account__practice",
        )
        written = -(F("patient_amount") + F("insurance_amount"))
        ledger_rows = (
            dated.filter(kind=Kind.WRITE_OFF)
            .annotate(reason=F("write_off_reason"))
            .values("account__practice_id", "reason")
            .annotate(amount=Coalesce(Sum(written), ZERO))
            .order_by()
            .union(
                dated.filter(kind=Kind.REVERSAL, reverses__kind=Kind.WRITE_OFF)
                .annotate(reason=F("reverses__write_off_reason"))
                .values("account__practice_id", "reason")
                .annotate(amount=Coalesce(Sum(written), ZERO))
                .order_by(),
                all=True,
            )
        )
        ledger = {}
        for row in ledger_rows:
            key = (row["account__practice_id"], row["reason"])
            ledger[key] = ledger.get(key, ZERO) + to_money(row["amount"])
        revenue = dict(
            dated.filter(kind=Kind.CHARGE)
            .values("account__practice_id")
            .annotate(gross=Coalesce(Sum(F("patient_amount") + F("insurance_amount")), ZERO))
            .order_by()
            .values_list("account__practice_id", "gross")
        )
        approvers = StaffUser.objects.in_bulk({r["decided_by_id"] for r in requests if r["decided_by_id"]})

        by_reason = []
        for code, label in REASONS.items():
            amount = sum((v for (_, reason), v in ledger.items() if reason == code), ZERO)
            mine = [r for r in requests if r["reason"] == code]
            by_reason.append(
                {
                    "reason": label,
                    "requests": sum(r["count"] for r in mine),
                    "requested_amount": sum((r["amount"] for r in mine), ZERO),
                    "ledger_amount": amount,
                }
            )
        other = sum((v for (_, reason), v in ledger.items() if reason not in REASONS), ZERO)
        if other:
            by_reason.append({"reason": "Other", "requests": 0, "requested_amount": ZERO, "ledger_amount": other})

        by_practice = []
        for practice in params.practices:
            gross = to_money(revenue.get(practice.pk, ZERO))
            bad_debt = ledger.get((practice.pk, Reason.BAD_DEBT), ZERO)
            total = sum((v for (pk, _), v in ledger.items() if pk == practice.pk), ZERO)
            by_practice.append(
                {
                    "practice": practice.name,
                    "written_off": total,
                    "bad_debt": bad_debt,
                    "gross_revenue": gross,
                    "bad_debt_percent": rate(bad_debt, gross),
                }
            )
        by_approver = []
        for r in sorted(requests, key=lambda r: (names[r["practice_id"]], r["decided_by_id"] or 0, r["reason"])):
            by_approver.append(
                {
                    "approver": staff_name(approvers.get(r["decided_by_id"]))
                    if r["decided_by_id"]
                    else "Auto-approved",
                    "practice": names[r["practice_id"]],
                    "reason": REASONS.get(r["reason"], r["reason"]),
                    "count": r["count"],
                    "amount": to_money(r["amount"]),
                    "reversed": r["reversed"],
                }
            )
        gross_all = sum((r["gross_revenue"] for r in by_practice), ZERO)
        bad_all = sum((r["bad_debt"] for r in by_practice), ZERO)
        written_all = sum((r["written_off"] for r in by_practice), ZERO)
        tables = [
            Table(
                key="by_reason",
                title="By reason",
                columns=[
                    Column("reason", "Reason"),
                    Column("requests", "Requests posted", Column.INT),
                    Column("requested_amount", "Requested amount", Column.MONEY),
                    Column("ledger_amount", "Written off in the ledger", Column.MONEY),
                ],
                rows=by_reason,
                totals={
                    "reason": "All reasons",
                    "requests": sum(r["requests"] for r in by_reason),
                    "requested_amount": sum((r["requested_amount"] for r in by_reason), ZERO),
                    "ledger_amount": written_all,
                },
            ),
            Table(
                key="by_practice",
                title="By practice",
                columns=[
                    Column("practice", "Practice"),
                    Column("written_off", "Written off", Column.MONEY),
                    Column("bad_debt", "Bad debt", Column.MONEY),
                    Column("gross_revenue", "Gross patient revenue", Column.MONEY),
                    Column("bad_debt_percent", "Bad debt %", Column.PERCENT),
                ],
                rows=by_practice,
                totals={
                    "practice": "All practices",
                    "written_off": written_all,
                    "bad_debt": bad_all,
                    "gross_revenue": gross_all,
                    "bad_debt_percent": rate(bad_all, gross_all),
                }
                if len(by_practice) > 1
                else None,
            ),
            Table(
                key="by_approver",
                title="Requests posted, by approver",
                columns=[
                    Column("approver", "Approver"),
                    Column("practice", "Practice"),
                    Column("reason", "Reason"),
                    Column("count", "Requests", Column.INT),
                    Column("amount", "Amount", Column.MONEY),
                    Column("reversed", "Since reversed", Column.INT),
                ],
                rows=by_approver,
            ),
        ]
        shown = [r for r in by_reason if r["ledger_amount"]]
        chart = charts.bar_chart(
            [r["reason"] for r in shown],
            [("Written off", [r["ledger_amount"] for r in shown])],
            title="Written off by reason",
            horizontal=True,
        )
        return ReportResult(
            tables=tables,
            charts=[Chart("Written off by reason", chart)],
            summary=[
                Figure("Written off", written_all, Column.MONEY),
                Figure("Bad debt", bad_all, Column.MONEY),
                Figure("Bad debt % of gross patient revenue", rate(bad_all, gross_all), Column.PERCENT),
            ],
            source="Write-off requests posted in the period (by when they posted, each practice's time zone) and "
            "the ledger's write-off rows dated in the period",
            notes=[
                "The ledger column counts every write-off dated in the period, less reversals dated in the period; "
                "the request columns count requests that posted in the period, reversed or not.",
            ],
        )
