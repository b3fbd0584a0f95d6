"""Payment plans by practice: active and lapsed now, set up, completed and defaulted in the period,
the default rate, and the dollars paid through plans. Four grouped queries.

    Running in the period: activated on or before the period's last day and not completed,
        defaulted or cancelled before its first day (PlanStatusChange, the plan's history).
    Default rate = plans defaulted in the period / plans running in the period.
    Dollars through plans: patient payments dated in the period, not reversed, on an account whose
        plan was running that day (payment_plans' own rule: a plan takes the account's patient
        payments from its set-up date).
"""

from django.db.models import Count, Exists, F, Min, OuterRef, Q, Subquery, Sum
from django.db.models.functions import Coalesce

from accounts.models import Transaction
from accounts.money import ZERO, to_money
from core.access import scope_to_user
from payment_plans.models import PaymentPlan, PlanStatusChange
from payment_plans.services import PLAN_PAYMENT_KINDS
from reports import charts
from reports.framework import Chart, Column, Figure, Report, ReportParams, ReportResult, Table, register
from reports.metrics import rate

Status = PaymentPlan.Status
ENDED = (Status.COMPLETED, Status.DEFAULTED, Status.CANCELLED)


def _first_change(statuses):
    return Subquery(
        PlanStatusChange.objects.filter(plan=OuterRef("pk"), to_status__in=statuses)
        .order_by()
        .values("plan")
        .annotate(first=Min("as_of"))
        .values("first")
    )


@register
class PaymentPlansReport(Report):
    slug = "payment-plans"
    title = "Payment plans"
    description = "Active, lapsed and defaulted plans, the default rate and the dollars paid through plans."
    formula = (
        "Default rate = plans defaulted in the period / plans running in the period (activated by its last day "
        "and not completed, defaulted or cancelled before its first). Dollars through plans = patient payments "
        "dated in the period, not reversed, on accounts whose plan was running that day."
    )
    period = Report.PERIOD_RANGE
    default_days = 90
    order = 50

    def compute(self, user, params: ReportParams) -> ReportResult:
        start, end, ids = params.date_from, params.date_to, params.practice_ids
        plans = scope_to_user(PaymentPlan.objects.filter(practice_id__in=ids), user)
        counts = {
            row["practice_id"]: row
            for row in plans.values("practice_id")
            .annotate(
                active=Count("pk", filter=Q(status=Status.ACTIVE)),
                lapsed=Count("pk", filter=Q(status=Status.LAPSED)),
                set_up=Count("pk", filter=Q(created_on__gte=start, created_on__lte=end)),
            )
            .order_by()
        }
        changes = {
            row["practice_id"]: row
            for row in scope_to_user(
                PlanStatusChange.objects.filter(practice_id__in=ids, as_of__gte=start, as_of__lte=end), user
            )
            .values("practice_id")
            .annotate(
                defaulted=Count("plan", distinct=True, filter=Q(to_status=Status.DEFAULTED)),
                completed=Count("plan", distinct=True, filter=Q(to_status=Status.COMPLETED)),
            )
            .order_by()
        }
        running = dict(
            plans.annotate(activated_on=_first_change([Status.ACTIVE]), ended_on=_first_change(ENDED))
            .filter(activated_on__lte=end)
            .filter(Q(ended_on__isnull=True) | Q(ended_on__gte=start))
            .values("practice_id")
            .annotate(n=Count("pk"))
            .order_by()
            .values_list("practice_id", "n")
        )
        plan_running_then = (
            PaymentPlan.objects.filter(account_id=OuterRef("account_id"), created_on__lte=OuterRef("effective_on"))
            .exclude(status__in=[Status.PROPOSED])
            .filter(
                ~Exists(
                    PlanStatusChange.objects.filter(
                        plan=OuterRef("pk"), to_status__in=ENDED, as_of__lt=OuterRef(OuterRef("effective_on"))
                    )
                )
            )
        )
        dollars = dict(
            scope_to_user(
                Transaction.objects.filter(
                    account__practice_id__in=ids,
                    kind__in=PLAN_PAYMENT_KINDS,
                    effective_on__gte=start,
                    effective_on__lte=end,
                    reversed_by__isnull=True,
                ),
                user,
                practice_field="account__practice",
            )
            .filter(Exists(plan_running_then))
            .values("account__practice_id")
            .annotate(paid=Coalesce(Sum(-F("patient_amount")), ZERO))
            .order_by()
            .values_list("account__practice_id", "paid")
        )
        rows = []
        for practice in params.practices:
            found, moved = counts.get(practice.pk, {}), changes.get(practice.pk, {})
            row = {
                "practice": practice.name,
                "active": found.get("active", 0),
                "lapsed": found.get("lapsed", 0),
                "set_up": found.get("set_up", 0),
                "running": running.get(practice.pk, 0),
                "completed": moved.get("completed", 0),
                "defaulted": moved.get("defaulted", 0),
                "dollars": to_money(dollars.get(practice.pk, ZERO)),
            }
            row["default_rate"] = rate(row["defaulted"], row["running"])
            rows.append(row)
        totals = {"practice": "All practices"}
        for key in ("active", "lapsed", "set_up", "running", "completed", "defaulted"):
            totals[key] = sum(r[key] for r in rows)
        totals["dollars"] = sum((r["dollars"] for r in rows), ZERO)
        totals["default_rate"] = rate(totals["defaulted"], totals["running"])
        table = Table(
            key="by_practice",
            title="By practice",
            columns=[
                Column("practice", "Practice"),
                Column("active", "Active now", Column.INT),
                Column("lapsed", "Lapsed now", Column.INT),
                Column("set_up", "Set up in period", Column.INT),
                Column("running", "Running in period", Column.INT),
                Column("completed", "Paid off in period", Column.INT),
                Column("defaulted", "Defaulted in period", Column.INT),
                Column("default_rate", "Default rate", Column.PERCENT),
                Column("dollars", "Paid through plans", Column.MONEY),
            ],
            rows=rows,
            totals=totals if len(rows) > 1 else None,
        )
        chart = charts.bar_chart(
            [r["practice"] for r in rows],
            [("Active", [r["active"] for r in rows]), ("Lapsed", [r["lapsed"] for r in rows])],
            title="Plans active and lapsed now, by practice",
            stacked=True,
            kind=charts.COUNT,
            horizontal=True,
        )
        return ReportResult(
            tables=[table],
            charts=[Chart("Plans active and lapsed now", chart)],
            summary=[
                Figure("Active plans", totals["active"], Column.INT),
                Figure("Lapsed plans", totals["lapsed"], Column.INT),
                Figure(
                    "Default rate",
                    totals["default_rate"],
                    Column.PERCENT,
                    note=f"{totals['defaulted']} of {totals['running']} running",
                ),
                Figure("Paid through plans", totals["dollars"], Column.MONEY),
            ],
            source="Payment plans and their history; patient payments from the ledger",
            notes=["Active and lapsed are today's counts; the other columns cover the period."],
        )
