"""The manager's dashboard (Management and Director): each practice's collection rate against its
target with a twelve-month trend, AR by bucket, write-offs waiting for approval, and the team's
work today around the practice figures of collections_app's dashboard.

The site's home URL is `home` here: reports sit above collections_app, so the top layer composes
the page. `collections_app.views.home_page` builds the tier's dashboard as an unrendered
TemplateResponse; for managers this adds the figures below and draws reports/dashboard.html, which
includes collections_app's own sections (the practices table, the team's work loaded after the
page). Reps and the front desk get collections_app's page untouched.

Every figure reads a nightly table, never the ledger, so the page costs the same at a million
accounts: the collection-rate snapshot (reports.jobs), the aging snapshot (accounts.jobs) and the
waiting write-off requests (a partial index): three queries on top of collections_app's.
"""

from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import Count, Max, Min, OuterRef, Subquery, Sum
from django.db.models.functions import Coalesce
from django.template.response import TemplateResponse
from django.utils import timezone

from accounts.aging import BUCKET_LABELS
from accounts.models import PracticeAgingSnapshot
from accounts.money import ZERO
from collections_app.views import home_page
from core.access import FieldGroup, can_see, requires, scope_to_user
from reports import charts
from reports.metrics import NET_FORMULA, PATIENT_FORMULA, PATIENT_WINDOW_DAYS, add_months, month_end, month_start
from reports.models import CollectionRateSnapshot

TREND_MONTHS = 12
DASHBOARD_TEMPLATE = "reports/dashboard.html"


@dataclass
class PracticeRates:
    practice: object
    target: Decimal
    months: list[date]
    snapshots: dict[date, CollectionRateSnapshot] = field(default_factory=dict)
    chart: str = ""

    def _latest(self, attribute: str, *, final_only: bool = False):
        """The latest month with a figure, and for the patient rate optionally the latest final
        one: (month, value)."""
        for month in reversed(self.months):
            snapshot = self.snapshots.get(month)
            if snapshot is None or getattr(snapshot, attribute) is None:
                continue
            if final_only and snapshot.as_of < _final_on(month):
                continue
            return month, getattr(snapshot, attribute)
        return None, None

    @property
    def net(self):
        month, value = self._latest("net_rate")
        return {"month": month, "rate": value, **gap_words(value, self.target)}

    @property
    def patient(self):
        """The latest final month: a month still inside its 120 days would read low."""
        month, value = self._latest("patient_rate", final_only=True)
        return {"month": month, "rate": value, **gap_words(value, self.target)}

    @property
    def as_of(self):
        dates = [snapshot.as_of for snapshot in self.snapshots.values()]
        return max(dates) if dates else None


def gap_words(value, target) -> dict:
    """The gap to target in points, in words and with an arrow, so it reads without colour."""
    if value is None:
        return {"gap": None, "gap_text": "", "standing": ""}
    gap = value - target
    points = f"{abs(gap).quantize(Decimal('0.1'), rounding=ROUND_HALF_UP)} pts"
    if gap > 0:
        return {"gap": gap, "gap_text": f"▲ {points} above target", "standing": "above"}
    if gap < 0:
        return {"gap": gap, "gap_text": f"▼ {points} below target", "standing": "below"}
    return {"gap": gap, "gap_text": "On target", "standing": "on"}


def _final_on(month: date) -> date:
    return month_end(month) + timedelta(days=PATIENT_WINDOW_DAYS)


def collection_rate_trends(*, user, practices, today: date) -> list[PracticeRates]:
    """Each practice's last twelve complete months from the nightly snapshot (the current month is
    only days old and would read low): one query."""
    this_month = month_start(today)
    months = [add_months(this_month, n) for n in range(-TREND_MONTHS, 0)]
    trends = {
        practice.pk: PracticeRates(practice=practice, target=practice.target_collection_rate, months=months)
        for practice in practices
    }
    rows = scope_to_user(CollectionRateSnapshot.objects.all(), user).filter(
        practice_id__in=list(trends), month__gte=months[0], month__lte=months[-1]
    )
    for snapshot in rows:
        trends[snapshot.practice_id].snapshots[snapshot.month] = snapshot
    for trend in trends.values():
        trend.chart = _trend_chart(trend)
    return list(trends.values())


def _trend_chart(trend: PracticeRates) -> str:
    """Net rate, the patient rate of final months, and the patient rate so far of months still
    inside their 120 days (its own line, joined to the last final month), against the target."""
    months = trend.months
    labels = [f"{m:%b}" for m in months]  # the card names the year range
    snapshots = [trend.snapshots.get(month) for month in months]
    net = [getattr(s, "net_rate", None) for s in snapshots]
    final = [s is not None and s.as_of >= _final_on(m) for s, m in zip(snapshots, months, strict=True)]
    patient_final = [s.patient_rate if s is not None and ok else None for s, ok in zip(snapshots, final, strict=True)]
    patient_open = [
        s.patient_rate if s is not None and not ok else None for s, ok in zip(snapshots, final, strict=True)
    ]
    for index in range(1, len(months)):
        if patient_open[index] is not None and final[index - 1]:
            patient_open[index - 1] = patient_final[index - 1]
            break
    rates = [value for value in (*net, *patient_final, *patient_open) if value is not None]
    return charts.line_chart(
        labels,
        [
            ("Net rate", net),
            ("Patient rate", patient_final),
            ("Patient, still open", patient_open),
        ],
        target=trend.target,
        target_label="Target",
        title=f"{trend.practice.name}: collection rate by month against target",
        y_min=Decimal("0"),
        y_max=max([Decimal("100"), *rates]),
    )


@dataclass
class AgingByBucket:
    as_of: date | None
    buckets: list[dict]
    total_patient: Decimal
    total_insurance: Decimal
    by_practice: list[dict]
    chart: str

    @property
    def total(self) -> Decimal:
        return self.total_patient + self.total_insurance


def ar_by_bucket(*, user, practices) -> AgingByBucket:
    """Open AR by bucket from each practice's latest nightly aging snapshot: one query."""
    ids = [practice.pk for practice in practices]
    latest = (
        PracticeAgingSnapshot.objects.filter(practice_id=OuterRef("practice_id"))
        .order_by()
        .values("practice_id")
        .annotate(latest=Max("as_of"))
        .values("latest")
    )
    rows = list(
        scope_to_user(PracticeAgingSnapshot.objects.all(), user)
        .filter(practice_id__in=ids, as_of=Subquery(latest))
        .values("practice_id", "as_of", "bucket", "patient_amount", "insurance_amount", "account_count")
    )
    buckets = {label: {"bucket": label, "patient": ZERO, "insurance": ZERO, "accounts": 0} for label in BUCKET_LABELS}
    per_practice = {
        practice.pk: {"practice": practice, "as_of": None, **{label: ZERO for label in BUCKET_LABELS}, "total": ZERO}
        for practice in practices
    }
    for row in rows:
        if row["bucket"] not in buckets:
            continue
        bucket = buckets[row["bucket"]]
        bucket["patient"] += row["patient_amount"]
        bucket["insurance"] += row["insurance_amount"]
        bucket["accounts"] += row["account_count"]
        found = per_practice[row["practice_id"]]
        found["as_of"] = row["as_of"]
        found[row["bucket"]] += row["patient_amount"] + row["insurance_amount"]
        found["total"] += row["patient_amount"] + row["insurance_amount"]
    ordered = [buckets[label] for label in BUCKET_LABELS]
    for bucket in ordered:
        bucket["total"] = bucket["patient"] + bucket["insurance"]
    dates = [row["as_of"] for row in rows]
    chart = charts.bar_chart(
        [f"{label} days" for label in BUCKET_LABELS],
        [("Patient", [b["patient"] for b in ordered]), ("Insurance", [b["insurance"] for b in ordered])],
        title="Open AR by aging bucket, patient and insurance",
        stacked=True,
        width=620,
        height=280,
    )
    for practice_row in per_practice.values():
        practice_row["cells"] = [practice_row[label] for label in BUCKET_LABELS]
    return AgingByBucket(
        as_of=max(dates) if dates else None,
        buckets=ordered,
        total_patient=sum((b["patient"] for b in ordered), ZERO),
        total_insurance=sum((b["insurance"] for b in ordered), ZERO),
        by_practice=list(per_practice.values()),
        chart=chart,
    )


def approvals_waiting(*, user) -> dict:
    """Write-off requests waiting for a decision in the user's practices: count, total, oldest."""
    try:
        from writeoffs.selectors import approvals_waiting_summary
    except ImportError:  # the write-offs selectors arrive with the approval pages
        approvals_waiting_summary = None
    if approvals_waiting_summary is not None:
        return approvals_waiting_summary(user)
    from writeoffs.models import WriteOffRequest

    return scope_to_user(WriteOffRequest.objects.filter(status=WriteOffRequest.Status.PROPOSED), user).aggregate(
        count=Count("pk"), total=Coalesce(Sum("amount"), ZERO), oldest_requested_at=Min("requested_at")
    )


def manager_figures(*, user, practices, today: date) -> dict:
    return {
        "rates": collection_rate_trends(user=user, practices=practices, today=today),
        "aging": ar_by_bucket(user=user, practices=practices),
        "approvals": approvals_waiting(user=user),
        "net_formula": NET_FORMULA,
        "patient_formula": PATIENT_FORMULA,
        "bucket_labels": BUCKET_LABELS,
    }


@requires(FieldGroup.DEMOGRAPHICS)
def home(request):
    """The site's home: collections_app's dashboard for every tier, and for Management and
    Director the manager's dashboard around it."""
    response = home_page(request)
    if not isinstance(response, TemplateResponse) or not can_see(request.user, FieldGroup.MANAGEMENT):
        return response.render() if isinstance(response, TemplateResponse) else response
    context = response.context_data
    practices = [row["practice"] for row in context["rows"]]
    today = max(context["dates"]) if context["dates"] else timezone.localdate()
    context.update(manager_figures(user=request.user, practices=practices, today=today))
    response.template_name = DASHBOARD_TEMPLATE
    return response.render()
