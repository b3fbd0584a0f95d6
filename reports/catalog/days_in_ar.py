"""Days in AR: how many days of charges the office has outstanding, per practice."""

from decimal import Decimal

from django.db.models import DecimalField, F, Q, Sum
from django.db.models.functions import Coalesce

from accounts.models import Transaction
from accounts.money import ZERO
from reports import charts
from reports.framework import Chart, Column, Figure, Report, ReportParams, ReportResult, Table, register

MONEY_FIELD = DecimalField(max_digits=14, decimal_places=2)
Kind = Transaction.Kind


def _sum(expression):
    return Coalesce(Sum(expression, output_field=MONEY_FIELD), Decimal("0.00"), output_field=MONEY_FIELD)


def ending_ar(practice_ids: list[int], as_of) -> dict[int, tuple[Decimal, Decimal]]:
    """(patient, insurance) AR per practice at the end of `as_of`, from the ledger: one grouped query."""
    rows = (
        Transaction.objects.filter(account__practice_id__in=practice_ids, effective_on__lte=as_of)
        .values("account__practice_id")
        .annotate(patient=_sum("patient_amount"), insurance=_sum("insurance_amount"))
        .order_by()
    )
    return {row["account__practice_id"]: (row["patient"], row["insurance"]) for row in rows}


def charges_in(practice_ids: list[int], date_from, date_to) -> dict[int, Decimal]:
    """Gross charges dated in the period per practice, less reversals of charges dated in it."""
    gross = F("patient_amount") + F("insurance_amount")
    rows = (
        Transaction.objects.filter(
            Q(kind=Kind.CHARGE) | Q(kind=Kind.REVERSAL, reverses__kind=Kind.CHARGE),
            account__practice_id__in=practice_ids,
            effective_on__gte=date_from,
            effective_on__lte=date_to,
        )
        .values("account__practice_id")
        .annotate(charges=_sum(gross))
        .order_by()
    )
    return {row["account__practice_id"]: row["charges"] for row in rows}


def days_in_ar(ar: Decimal, charges: Decimal, days: int) -> Decimal | None:
    if charges <= 0 or days <= 0:
        return None
    return (ar * days / charges).quantize(Decimal("0.1"))


@register
class DaysInArReport(Report):
    slug = "days-in-ar"
    title = "Days in AR"
    description = "How many days of charges are outstanding, per practice."
    period = Report.PERIOD_RANGE
    default_days = 90
    order = 30

    def formula_for(self, params: ReportParams) -> str:
        days = params.days if params else self.default_days
        return (
            "Days in AR = AR at the end of the period ÷ average daily charges, where average daily charges = "
            f"gross charges dated in the period ÷ {days} days (the period's length). AR is patient plus "
            "insurance balance from the ledger on the last day of the period."
        )

    def compute(self, user, params: ReportParams) -> ReportResult:
        ids, days = params.practice_ids, params.days
        ar = ending_ar(ids, params.date_to)
        charges = charges_in(ids, params.date_from, params.date_to)
        rows = []
        total_patient = total_insurance = total_charges = ZERO
        for practice in params.practices:
            patient, insurance = ar.get(practice.pk, (ZERO, ZERO))
            charged = charges.get(practice.pk, ZERO)
            rows.append(
                {
                    "practice": practice.name,
                    "patient": patient,
                    "insurance": insurance,
                    "ar": patient + insurance,
                    "charges": charged,
                    "daily": (charged / days).quantize(Decimal("0.01")) if days else None,
                    "days": days_in_ar(patient + insurance, charged, days),
                }
            )
            total_patient, total_insurance, total_charges = (
                total_patient + patient,
                total_insurance + insurance,
                total_charges + charged,
            )
        total_ar = total_patient + total_insurance
        totals = {
            "practice": "All chosen practices",
            "patient": total_patient,
            "insurance": total_insurance,
            "ar": total_ar,
            "charges": total_charges,
            "daily": (total_charges / days).quantize(Decimal("0.01")) if days else None,
            "days": days_in_ar(total_ar, total_charges, days),
        }
        table = Table(
            key="practices",
            title="Days in AR by practice",
            columns=[
                Column("practice", "Practice"),
                Column("patient", "Patient AR", Column.MONEY),
                Column("insurance", "Insurance AR", Column.MONEY),
                Column("ar", "Ending AR", Column.MONEY),
                Column("charges", f"Charges in {days} days", Column.MONEY),
                Column("daily", "Average daily charges", Column.MONEY),
                Column("days", "Days in AR", Column.DAYS),
            ],
            rows=rows,
            totals=totals,
        )
        chart = charts.bar_chart(
            [row["practice"] for row in rows],
            [("Days in AR", [row["days"] for row in rows])],
            title=f"Days in AR on {params.date_to:%m/%d/%Y}",
            horizontal=True,
            kind=charts.DAYS,
        )
        notes = [
            f"Period: {params.date_from:%m/%d/%Y} to {params.date_to:%m/%d/%Y}, {days} days, both included.",
            "A practice with no charges in the period has no days-in-AR figure.",
        ]
        return ReportResult(
            tables=[table],
            charts=[Chart("Days in AR by practice", chart)],
            summary=[
                Figure("Days in AR", totals["days"], Column.DAYS),
                Figure("Ending AR", total_ar, Column.MONEY),
                Figure("Average daily charges", totals["daily"], Column.MONEY),
            ],
            notes=notes,
            source=f"The ledger, through {params.date_to:%m/%d/%Y}",
        )
