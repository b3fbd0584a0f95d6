"""Nightly: how many accounts of each practice are ready to place with an agency, and their total.

The candidates themselves are the rule (collections_app.agencies.rules) read when a manager opens
the candidates page; the night keeps each practice's count and total for its date, so the page and
the reports can say how the pile grew. One aggregate query over all practices, each on its own
date, and one upsert per practice: running it again for a date rewrites the same numbers.
"""

from django.db.models import Count, Q, Sum
from django.db.models.functions import Coalesce

from accounts.models import Practice
from accounts.money import ZERO
from collections_app.agencies import rules
from collections_app.models import AgencyCandidateCount
from core.nightly import JobContext, nightly_job


def candidate_counts(practices_as_of: dict[Practice, object]) -> dict[int, dict]:
    """Per practice: candidates, their balance, and how many the agency could report to the bureaus
    (balance of $500 or more; the year of delinquency is checked at placement from the ledger)."""
    rows = (
        rules.candidate_queryset(practices_as_of)
        .order_by()
        .values("practice_id")
        .annotate(
            count=Count("id"),
            total=Coalesce(Sum("patient_balance"), ZERO),
            reportable=Count("id", filter=Q(patient_balance__gte=rules.CREDIT_REPORT_MIN_BALANCE)),
        )
    )
    return {row["practice_id"]: row for row in rows}


@nightly_job("agency_candidates", order=80, description="Accounts ready to place with a collection agency")
def agency_candidates(context: JobContext) -> dict[str, int]:
    dates = context.practice_dates or {
        pk: context.as_of for pk in Practice.objects.filter(is_active=True).values_list("pk", flat=True)
    }
    practices = {practice: dates[practice.pk] for practice in Practice.objects.filter(pk__in=list(dates))}
    counts = candidate_counts(practices)
    written = 0
    for practice, as_of in sorted(practices.items(), key=lambda item: item[0].pk):
        row = counts.get(practice.pk, {"count": 0, "total": ZERO, "reportable": 0})
        values = {"account_count": row["count"], "total": row["total"], "reportable_count": row["reportable"]}
        AgencyCandidateCount.objects.update_or_create(practice=practice, as_of=as_of, defaults=values)
        written += 1
    return {
        "practices": written,
        "candidates": sum(row["count"] for row in counts.values()),
    }
