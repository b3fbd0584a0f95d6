"""Nightly: the collection-rate snapshot, so the manager's dashboard draws its twelve-month trend
from rows instead of the ledger.

For each active practice, as of its own date: the current month and the five before it are
recomputed every night (a month's patient rate counts payments up to 120 days after the month
ends, so it can change for that long), and any of the last thirteen months not yet in the table are
filled in (the first night gives the dashboard its whole year). Two grouped queries per practice date
(reports.metrics.compute_rates) and one upsert: running it again for the same date writes the
same values.
"""

from collections import defaultdict

from django.db import connection

from accounts.models import Practice
from core.nightly import JobContext, nightly_job
from reports.metrics import add_months, compute_rates, month_end, month_start
from reports.models import CollectionRateSnapshot
from reports.statements import plan_letters  # noqa: F401 - registers the nightly job "plan_letters"

REFRESH_MONTHS = 6  # the current month and the five whose 120-day window may still be open
TREND_MONTHS = 13  # the current month and the twelve complete ones the dashboard draws

SNAPSHOT_FIELDS = [
    "as_of",
    "charges",
    "contractual_adjustments",
    "payments",
    "refunds",
    "patient_responsibility",
    "patient_paid",
    "net_rate",
    "patient_rate",
    "target",
]


def _analyze_if_never_analyzed() -> None:
    """A ledger just bulk-loaded (seed_demo, a first import) and never analyzed makes PostgreSQL
    plan the rate's joins for a handful of rows (seen: 11 s instead of 0.1 s for 3,000 accounts).
    Sampled ANALYZE, once: autovacuum keeps the statistics after that."""
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        for table in ("accounts_transaction", "accounts_patientaccount"):
            cursor.execute(
                "SELECT COALESCE(last_analyze, last_autoanalyze) IS NULL FROM pg_stat_user_tables WHERE relname = %s",
                [table],
            )
            found = cursor.fetchone()
            if found and found[0]:
                cursor.execute(f"ANALYZE {table}")


def refresh_collection_rates(practice_dates: dict, *, progress=None) -> dict[str, int]:
    _analyze_if_never_analyzed()
    practices = {
        p.pk: p
        for p in Practice.objects.filter(pk__in=list(practice_dates)).only(
            "id", "code", "name", "target_collection_rate"
        )
    }
    have = defaultdict(set)
    earliest = add_months(month_start(min(practice_dates.values())), -(TREND_MONTHS - 1)) if practice_dates else None
    for practice_id, month in CollectionRateSnapshot.objects.filter(
        practice_id__in=list(practices), month__gte=earliest
    ).values_list("practice_id", "month"):
        have[practice_id].add(month)
    # Practices sharing a date and a first month are computed together.
    groups = defaultdict(list)
    for pk, as_of in sorted(practice_dates.items()):
        if pk not in practices:
            continue
        this_month = month_start(as_of)
        trend = [add_months(this_month, -n) for n in range(TREND_MONTHS)]
        missing = [month for month in trend if month not in have[pk]]
        first = min([add_months(this_month, -(REFRESH_MONTHS - 1)), *missing])
        groups[(as_of, first)].append(practices[pk])
    snapshots = []
    for done, ((as_of, first), members) in enumerate(sorted(groups.items(), key=lambda item: item[0]), start=1):
        for row in compute_rates(practices=members, start=first, end=month_end(month_start(as_of)), as_of=as_of):
            snapshots.append(
                CollectionRateSnapshot(
                    practice_id=row.practice_id,
                    month=row.month,
                    as_of=as_of,
                    charges=row.charges,
                    contractual_adjustments=row.contractual_adjustments,
                    payments=row.payments,
                    refunds=row.refunds,
                    patient_responsibility=row.patient_responsibility,
                    patient_paid=row.patient_paid,
                    net_rate=row.net_rate,
                    patient_rate=row.patient_rate,
                    target=row.target,
                )
            )
        if progress is not None:
            progress(done, len(groups))
    CollectionRateSnapshot.objects.bulk_create(
        snapshots,
        batch_size=1000,
        update_conflicts=True,
        unique_fields=["practice", "month"],
        update_fields=SNAPSHOT_FIELDS,
    )
    return {"practices": len(practices), "months_written": len(snapshots)}


@nightly_job(
    "collection_rate_snapshot", order=95, description="Collection rate snapshot: each practice's months against target"
)
def collection_rate_snapshot(context: JobContext) -> dict[str, int]:
    return refresh_collection_rates(context.practice_dates, progress=context.progress)


@nightly_job("statement_cycle", order=75, description="Statement cycle: statements and dunning letters due tonight")
def statement_cycle(context: JobContext) -> dict[str, int]:
    # reports.statements.cycle: the rules, the suppressions and the batch per practice.
    from reports.statements.cycle import statement_cycle_run

    dates = context.practice_dates or {
        pk: context.as_of for pk in Practice.objects.filter(is_active=True).values_list("pk", flat=True)
    }
    return statement_cycle_run(dates, progress=context.progress)
