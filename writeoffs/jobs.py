"""Nightly: the small-balance write-off run, per practice, under each practice's policy.

For each active practice with a threshold above zero, one query selects the accounts that qualify
(writeoffs.services.small_balance_candidates: balance above zero and at most the threshold, active
(never on hold, a plan, at an agency or closed), oldest open visit older than the minimum age, no
activity for the no-activity days, no write-off waiting), and three INSERT ... SELECT statements
over that query write one SmallBalanceRun's proposed requests, their history and audit rows: the
preview a manager confirms with its count and total. Requests under the practice's auto-approve amount post at once
(their history says so). Idempotent per (practice, date): the run is unique, a second night for
the same date finds it and changes nothing.

It runs after the aging snapshot (order 10: the oldest open visit comes from its account states),
the hold, promise and plan jobs (an account that went on a plan tonight is not touched), and before
the queue refresh (order 90), so written-off accounts leave the queue the same night.
"""

from accounts.models import Practice
from core.nightly import JobContext, nightly_job
from writeoffs.services import small_balance_run_create


def _practice_dates(context: JobContext) -> dict:
    if context.practice_dates:
        return context.practice_dates
    return {pk: context.as_of for pk in Practice.objects.filter(is_active=True).values_list("pk", flat=True)}


@nightly_job("small_balance_writeoffs", order=70, description="Small balances proposed for write-off")
def small_balance_writeoffs(context: JobContext) -> dict[str, int]:
    dates = _practice_dates(context)
    practices = list(
        Practice.objects.filter(pk__in=dates, is_active=True, small_balance_threshold__gt=0).order_by("pk")
    )
    counts = {"practices": 0, "runs_created": 0, "proposed": 0, "auto_approved": 0, "proposed_total": "0.00"}
    proposed_total = 0
    for done, practice in enumerate(practices, 1):
        run = small_balance_run_create(practice=practice, as_of=dates[practice.pk])
        counts["practices"] += 1
        if run.created_now:
            counts["runs_created"] += 1
            counts["proposed"] += run.account_count
            counts["auto_approved"] += run.auto_approved_count
            proposed_total += run.total
        context.progress(done, len(practices))
    counts["proposed_total"] = f"{proposed_total:.2f}"
    return counts
