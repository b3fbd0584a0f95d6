"""Demo write-offs, so a fresh `make run` shows the manager approvals waiting: a few the rep
proposed (bad debt, charity, an administrative correction, one above the manager's limit that
waits for a Director) and one already posted (through the services) that may be reversed. Deterministic for a seed and
date; a handful of rows whatever the number of accounts (the candidates are the first accounts by
id that fit, one indexed scan). The nightly small-balance run (`make run` runs it after seeding)
adds its own preview.
"""

import random
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.db import transaction

from accounts.models import PatientAccount
from accounts.selectors import practice_today
from core.access import practice_ids_for
from core.models import StaffUser
from writeoffs import services
from writeoffs.models import Reason, WriteOffHistory, WriteOffRequest

# (reason, share of the balance, note, days ago)
PROPOSALS = (
    (Reason.BAD_DEBT, Decimal("1"), "Final notice returned unanswered; skip-trace found no new address.", 6),
    (
        Reason.CHARITY,
        Decimal("1"),
        "Financial assistance approved: household income under 200% of the poverty line.",
        4,
    ),
    (Reason.ADMINISTRATIVE, Decimal("0.25"), "Duplicate charge billed in error; corrected claim sent.", 3),
    (Reason.BAD_DEBT, Decimal("1"), "No payment in 14 months after three statements and two calls.", 2),
    (Reason.CHARITY, Decimal("0.5"), "Sliding-scale discount per the practice's assistance policy.", 1),
)
CANDIDATES = 200


def _at(day: date, hour: int, zone: str) -> datetime:
    return datetime.combine(day, time(hour, 0), tzinfo=ZoneInfo(zone))


@transaction.atomic
def seed_writeoff_requests(*, seed: int, today: date) -> dict[str, int]:
    rep = StaffUser.objects.filter(username="medium").first()
    if rep is None:
        return {"writeoff_requests": 0}
    rnd = random.Random(seed * 104729 + today.toordinal())
    candidates = list(
        PatientAccount.objects.filter(
            practice_id__in=practice_ids_for(rep),
            status=PatientAccount.Status.ACTIVE,
            patient_balance__gte=Decimal("40.00"),
        )
        .select_related("practice")
        .order_by("id")[:CANDIDATES]
    )
    if not candidates:
        return {"writeoff_requests": 0}
    rnd.shuffle(candidates)
    # Spread over the practices: the first of each, then the second of each...
    seen: dict[int, int] = {}
    turn: dict[int, int] = {}
    for account in candidates:
        turn[account.pk] = seen.get(account.practice_id, 0)
        seen[account.practice_id] = turn[account.pk] + 1
    candidates.sort(key=lambda account: turn[account.pk])
    above = next((a for a in candidates if a.patient_balance > a.practice.writeoff_limit_management), None)
    within = [a for a in candidates if a.patient_balance <= a.practice.writeoff_limit_management]
    chosen, posted_example = within[: len(PROPOSALS)], within[len(PROPOSALS) : len(PROPOSALS) + 1]
    rows = []
    for account, (reason, share, note, days_ago) in zip(chosen, PROPOSALS, strict=False):
        amount = (account.patient_balance * share).quantize(Decimal("0.01"))
        rows.append((account, reason, amount, note, days_ago))
    if above is not None:
        note = "Patient moved out of state; collection costs exceed the balance."
        rows.append((above, Reason.BAD_DEBT, above.patient_balance, note, 5))
    requests = [
        WriteOffRequest(
            practice_id=account.practice_id,
            account_id=account.pk,
            amount=amount,
            reason=reason,
            note=note,
            requested_by=rep,
            requested_at=_at(today - timedelta(days=days_ago), 10 + index % 6, account.practice.time_zone),
        )
        for index, (account, reason, amount, note, days_ago) in enumerate(rows)
    ]
    WriteOffRequest.objects.bulk_create(requests)
    WriteOffHistory.objects.bulk_create(
        WriteOffHistory(
            request_id=request.pk,
            to_status=WriteOffRequest.Status.PROPOSED,
            changed_by=rep,
            changed_at=request.requested_at,
            note=request.note,
        )
        for request in requests
    )
    # One already posted (proposed by the rep, approved by the manager through the services, so
    # its ledger entry and balance are real): the approvals page lists it to reverse.
    manager = StaffUser.objects.filter(username="manager").first()
    posted = 0
    # The services post on the practice's real today: only when the data is seeded for today.
    for account in posted_example if manager is not None else ():
        if practice_today(account.practice) != today:
            continue
        request = services.writeoff_propose(
            acting_user=rep,
            account_id=account.pk,
            amount=account.patient_balance,
            reason=Reason.BAD_DEBT,
            note="Returned mail twice; no phone on file; 18 months without payment.",
        )
        services.writeoff_approve(acting_user=manager, request_id=request.pk)
        posted += 1
    return {"writeoff_requests": len(requests) + posted}
