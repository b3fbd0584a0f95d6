"""Rep productivity over a period: accounts worked, contacts, promises made and kept, dollars
collected, plans set up, per rep.

"Worked" and "collected" are the dashboard's own rules (collections_app.dashboard.team_work, run
over the period instead of today): an account is worked by a rep when they logged a contact, took a
promise, posted a payment or wrote a note on it; collected is patient and agency payments posted in
the period less reversals of them posted in the period, counted for the rep who posted the payment,
by when it was entered (posted), not the date it is dated. The period is each practice's local dates.
Promises kept: of the promises the rep took in the period, those kept by now. Plans set up: payment
plans the rep created in the period, whatever happened to them after.
"""

from django.db.models import Count, Q

from accounts.money import ZERO
from collections_app.dashboard import period_days, team_work
from collections_app.models import PromiseToPay
from core.access import scope_to_user
from core.display import staff_name
from payment_plans.models import PaymentPlan
from reports import charts
from reports.framework import Chart, Column, Figure, Report, ReportParams, ReportResult, Table, register
from reports.metrics import rate
from reports.periods import in_local_period


@register
class ProductivityReport(Report):
    slug = "productivity"
    title = "Rep productivity"
    description = "Per rep: accounts worked, contacts, promises made and kept, dollars collected, plans set up."
    formula = (
        "Accounts worked = distinct accounts on which the rep logged a contact, took a promise, posted a payment "
        "or wrote a note in the period. Collected = patient and agency payments the rep posted in the period, "
        "less reversals of them posted in the period. Promises kept = promises taken in the period and kept by "
        "now. Plans set up = payment plans the rep created in the period."
    )
    period = Report.PERIOD_RANGE
    default_days = 30
    order = 40

    def compute(self, user, params: ReportParams) -> ReportResult:
        days = period_days(params.practices, params.date_from, params.date_to)
        team = team_work(user=user, days=days)
        promises = {
            row["created_by_id"]: row
            for row in scope_to_user(
                PromiseToPay.objects.filter(
                    in_local_period(params.practices, params.date_from, params.date_to, "created_at")
                ),
                user,
            )
            .values("created_by_id")
            .annotate(made=Count("pk"), kept=Count("pk", filter=Q(status=PromiseToPay.Status.KEPT)))
            .order_by()
        }
        plans = dict(
            scope_to_user(
                PaymentPlan.objects.filter(
                    in_local_period(params.practices, params.date_from, params.date_to, "created_at")
                ),
                user,
            )
            .values("created_by_id")
            .annotate(n=Count("pk"))
            .order_by()
            .values_list("created_by_id", "n")
        )
        rows = []
        for row in team.rows:
            pk = row.rep.pk
            made = promises.get(pk, {}).get("made", 0)
            kept = promises.get(pk, {}).get("kept", 0)
            rows.append(
                {
                    "rep": staff_name(row.rep),
                    "accounts_worked": row.accounts_worked,
                    "contacts": row.contacts,
                    "promises_made": made,
                    "promises_kept": kept,
                    "kept_rate": rate(kept, made),
                    "payments": row.payments,
                    "collected": row.collected,
                    "plans": plans.get(pk, 0),
                }
            )
        rows.sort(key=lambda r: (-r["collected"], -r["accounts_worked"], r["rep"]))
        totals = {"rep": "Team"}
        for key in ("accounts_worked", "contacts", "promises_made", "promises_kept", "payments", "plans"):
            totals[key] = sum(r[key] for r in rows)
        totals["collected"] = sum((r["collected"] for r in rows), ZERO)
        totals["kept_rate"] = rate(totals["promises_kept"], totals["promises_made"])
        table = Table(
            key="by_rep",
            title="By rep",
            columns=[
                Column("rep", "Rep"),
                Column("accounts_worked", "Accounts worked", Column.INT),
                Column("contacts", "Contacts", Column.INT),
                Column("promises_made", "Promises made", Column.INT),
                Column("promises_kept", "Promises kept", Column.INT),
                Column("kept_rate", "Kept", Column.PERCENT),
                Column("payments", "Payments posted", Column.INT),
                Column("collected", "Collected", Column.MONEY),
                Column("plans", "Plans set up", Column.INT),
            ],
            rows=rows,
            totals=totals,
        )
        shown = [r for r in rows if r["collected"] or r["accounts_worked"]][:15]
        worked_chart = charts.bar_chart(
            [r["rep"] for r in shown],
            [("Accounts worked", [r["accounts_worked"] for r in shown]), ("Contacts", [r["contacts"] for r in shown])],
            title="Accounts worked and contacts by rep",
            horizontal=True,
            kind=charts.COUNT,
        )
        collected_chart = charts.bar_chart(
            [r["rep"] for r in shown],
            [("Collected", [r["collected"] for r in shown])],
            title="Collected by rep",
            horizontal=True,
        )
        return ReportResult(
            tables=[table],
            charts=[Chart("Accounts worked and contacts", worked_chart), Chart("Collected by rep", collected_chart)],
            summary=[
                Figure("Collected", totals["collected"], Column.MONEY),
                Figure("Accounts worked", totals["accounts_worked"], Column.INT),
                Figure(
                    "Promises kept",
                    totals["kept_rate"],
                    Column.PERCENT,
                    note=f"{totals['promises_kept']} of {totals['promises_made']}",
                ),
                Figure("Plans set up", totals["plans"], Column.INT),
            ],
            source="The contact log, promises, notes, payment plans and ledger postings, by when they were entered",
            notes=["Reps of your practices with nothing done in the period are listed too."],
        )
