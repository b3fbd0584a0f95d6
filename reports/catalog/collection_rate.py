"""Collection rate against each practice's target, by month: the net and the patient collection
rate (reports.metrics, which defines both), each beside the target with the gap.

API contract: GET /api/reports/collection-rate/?practice=&from=&to= (and ?format=csv|pdf). Months
are whole calendar months from `from`'s month to `to`'s month, figured from the ledger as of today
(the office's date), so a month's figures match the dashboard's nightly snapshot of the same day.
"""

from decimal import Decimal

from django import forms

from accounts.money import ZERO
from reports import charts
from reports.framework import Chart, Column, Figure, Report, ReportParams, ReportResult, Table, office_today, register
from reports.metrics import (
    NET_FORMULA,
    PATIENT_FORMULA,
    PATIENT_WINDOW_DAYS,
    MonthRate,
    compute_rates,
    month_end,
    month_start,
    months_between,
    rate,
)
from reports.models import CollectionRateSnapshot

SOURCE_NIGHTLY, SOURCE_LEDGER = "nightly", "ledger"
SNAPSHOT_SUMS = (
    "charges",
    "contractual_adjustments",
    "payments",
    "refunds",
    "patient_responsibility",
    "patient_paid",
)


def nightly_rates(*, params, today):
    """The months of the nightly snapshot (one query), and the rest from the ledger now: a year of
    a large practice takes the ledger tens of seconds, the snapshot milliseconds. Returns the
    months and the date the nightly figures were computed as of (None: none were used)."""
    first, last = month_start(params.date_from), min(month_end(month_start(params.date_to)), today)
    months = months_between(first, last) if first <= last else []
    found = {
        (row.practice_id, row.month): row
        for row in CollectionRateSnapshot.objects.filter(
            practice_id__in=params.practice_ids, month__gte=first, month__lte=last
        )
    }
    missing = [m for p in params.practices for m in months if (p.pk, m) not in found]
    live = {}
    if missing:
        for row in compute_rates(practices=params.practices, start=min(missing), end=max(missing), as_of=today):
            live[(row.practice_id, row.month)] = row
    rows, as_of = [], None
    for practice in params.practices:
        for month in months:
            snapshot = found.get((practice.pk, month))
            if snapshot is None:
                rows.append(live[(practice.pk, month)])
                continue
            row = MonthRate(practice_id=practice.pk, month=month, target=practice.target_collection_rate)
            for key in SNAPSHOT_SUMS:
                setattr(row, key, getattr(snapshot, key))
            row.as_of, row.practice = snapshot.as_of, practice
            as_of = max(as_of or snapshot.as_of, snapshot.as_of)
            rows.append(row)
    return rows, as_of, bool(missing)


def _gap(value, target):
    return None if value is None else value - target


@register
class CollectionRateReport(Report):
    slug = "collection-rate"
    title = "Collection rate against target"
    description = "Net and patient collection rate by month for each practice, beside its target, with the gap."
    formula = f"{NET_FORMULA} {PATIENT_FORMULA} Gap = rate - the practice's target, in percentage points."
    period = Report.PERIOD_RANGE
    default_days = 365
    order = 20

    def option_fields(self) -> dict:
        return {
            "source": forms.ChoiceField(
                label="Figures",
                required=False,
                initial=SOURCE_NIGHTLY,
                choices=[
                    (SOURCE_NIGHTLY, "Last night's figures (months not in them: from the ledger now)"),
                    (SOURCE_LEDGER, "From the ledger now (slower)"),
                ],
            )
        }

    def compute(self, user, params: ReportParams) -> ReportResult:
        today = office_today()
        if params.options.get("source") == SOURCE_LEDGER:
            months = compute_rates(practices=params.practices, start=params.date_from, end=params.date_to, as_of=today)
            source = f"The ledger, by transaction date, as of {today:%m/%d/%Y}"
        else:
            months, nightly_as_of, partly_live = nightly_rates(params=params, today=today)
            if nightly_as_of is None:
                source = f"The ledger, by transaction date, as of {today:%m/%d/%Y} (no nightly figures yet)"
            else:
                source = f"Nightly figures as of {nightly_as_of:%m/%d/%Y}" + (
                    f"; months not in them from the ledger as of {today:%m/%d/%Y}" if partly_live else ""
                )
        rows, totals = [], {}
        for month in months:
            rows.append(
                {
                    "practice": month.practice.name,
                    "month": f"{month.month:%m/%Y}",
                    "charges": month.charges,
                    "contractual_adjustments": month.contractual_adjustments,
                    "payments": month.payments,
                    "refunds": month.refunds,
                    "net_rate": month.net_rate,
                    "target": month.target,
                    "net_gap": month.net_gap,
                    "patient_responsibility": month.patient_responsibility,
                    "patient_paid": month.patient_paid,
                    "patient_rate": month.patient_rate,
                    "patient_gap": month.patient_gap,
                    "patient_final": "final"
                    if month.patient_is_final
                    else f"open to {month.patient_final_on:%m/%d/%Y}",
                }
            )
            for key in (
                "charges",
                "contractual_adjustments",
                "payments",
                "refunds",
                "patient_responsibility",
                "patient_paid",
            ):
                totals[key] = totals.get(key, ZERO) + getattr(month, key)
        net_total = rate(
            totals.get("payments", ZERO) - totals.get("refunds", ZERO),
            totals.get("charges", ZERO) - totals.get("contractual_adjustments", ZERO),
        )
        patient_total = rate(totals.get("patient_paid", ZERO), totals.get("patient_responsibility", ZERO))
        lead = [Column("practice", "Practice"), Column("month", "Month")]
        net_table = Table(
            key="net",
            title="Net collection rate by practice and month",
            columns=[
                *lead,
                Column("charges", "Charges", Column.MONEY),
                Column("contractual_adjustments", "Contractual adjustments", Column.MONEY),
                Column("payments", "Payments", Column.MONEY),
                Column("refunds", "Refunds", Column.MONEY),
                Column("net_rate", "Net rate", Column.PERCENT),
                Column("target", "Target", Column.PERCENT),
                Column("net_gap", "Gap (pts)", Column.PERCENT),
            ],
            rows=rows,
            totals={"practice": "All months", **totals, "net_rate": net_total},
        )
        patient_table = Table(
            key="patient",
            title="Patient collection rate by practice and month",
            columns=[
                *lead,
                Column("patient_responsibility", "Became the patient's", Column.MONEY),
                Column("patient_paid", f"Paid within {PATIENT_WINDOW_DAYS} days", Column.MONEY),
                Column("patient_rate", "Patient rate", Column.PERCENT),
                Column("target", "Target", Column.PERCENT),
                Column("patient_gap", "Gap (pts)", Column.PERCENT),
                Column("patient_final", "Rate is"),
            ],
            rows=rows,
            totals={"practice": "All months", **totals, "patient_rate": patient_total},
        )
        result = ReportResult(
            tables=[net_table, patient_table],
            source=source,
            notes=[
                "A reversal counts against what it reverses, in the month it is dated (a bounced check lowers "
                "the month it bounced in).",
                f"A month's patient rate is final {PATIENT_WINDOW_DAYS} days after the month ends; until then it "
                "can still rise.",
                "Totals are over all the months and practices shown, figured from the summed amounts.",
            ],
        )
        result.summary = [
            Figure("Net collection rate", net_total, Column.PERCENT, note="all months shown"),
            Figure("Patient collection rate", patient_total, Column.PERCENT, note="all months shown"),
        ]
        for practice in params.practices:
            own = [m for m in months if m.practice_id == practice.pk]
            if not own:
                continue
            labels = [
                f"{m.month:%b}" + (f" '{m.month:%y}" if i == 0 or m.month.month == 1 else "") for i, m in enumerate(own)
            ]
            svg = charts.line_chart(
                labels,
                [
                    ("Net collection rate", [m.net_rate for m in own]),
                    ("Patient collection rate", [m.patient_rate for m in own]),
                ],
                target=practice.target_collection_rate,
                target_label="Target",
                title=f"{practice.name}: collection rate by month against target",
                y_min=Decimal("0"),
                y_max=max([Decimal("100"), *[v for m in own for v in (m.net_rate, m.patient_rate) if v is not None]]),
            )
            result.charts.append(Chart(f"{practice.name}: collection rate against target", svg))
        return result
