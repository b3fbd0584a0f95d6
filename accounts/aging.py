"""Aging of patient balances by date of service, as of any date, rebuilt from the ledger.

The rule (DESIGN.md): each encounter's open patient balance is aged from its date of service;
credits that name no encounter (a patient payment, an agency payment) apply to the oldest open
encounter first. Credits that overpay one encounter join that pool. What no encounter can absorb is
an unapplied credit; a debit with no encounter (a refund of a credit) ages as current.

For every account and date: sum(buckets) - unapplied_credit == patient balance as of that date.
The account version runs in Python over one grouped query; the practice version is one SQL
statement (window functions) so a report never loops over accounts.
"""

from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from django.db import connection
from django.db.models import Sum

from accounts.models import Encounter, Transaction
from accounts.money import CENT, ZERO

# (label, first day, last day); the last bucket is open-ended.
BUCKETS: tuple[tuple[str, int, int | None], ...] = (
    ("0-30", 0, 30),
    ("31-60", 31, 60),
    ("61-90", 61, 90),
    ("91-120", 91, 120),
    ("121+", 121, None),
)
BUCKET_LABELS = tuple(label for label, _, _ in BUCKETS)


def bucket_for(days: int) -> str:
    for label, _, last in BUCKETS:
        if last is None or days <= last:
            return label
    raise AssertionError("unreachable")


def empty_buckets() -> "OrderedDict[str, Decimal]":
    return OrderedDict((label, ZERO) for label in BUCKET_LABELS)


@dataclass
class OpenEncounter:
    encounter_id: int
    date_of_service: date
    charged: Decimal  # net patient responsibility on this encounter as of the date
    open_amount: Decimal
    age_days: int
    bucket: str
    rendering_provider: str = ""


@dataclass
class AccountAging:
    as_of: date
    encounters: list[OpenEncounter] = field(default_factory=list)
    buckets: "OrderedDict[str, Decimal]" = field(default_factory=empty_buckets)
    unapplied_credit: Decimal = ZERO

    @property
    def balance(self) -> Decimal:
        return sum(self.buckets.values(), ZERO) - self.unapplied_credit

    @property
    def oldest_open_age_days(self) -> int | None:
        ages = [row.age_days for row in self.encounters if row.open_amount > 0]
        return max(ages) if ages else None


def account_aging(account, *, as_of: date) -> AccountAging:
    """Open patient balance per encounter and by bucket for one account, as of a date."""
    sums = (
        Transaction.objects.filter(account=account, effective_on__lte=as_of)
        .values("encounter_id")
        .annotate(net=Sum("patient_amount"))
        .order_by()
    )
    # quantize: SQLite sums in floating point; PostgreSQL's numeric sums are exact already.
    net_by_encounter = {row["encounter_id"]: (row["net"] or ZERO).quantize(CENT) for row in sums}
    pooled = net_by_encounter.pop(None, ZERO)
    encounters = (
        Encounter.objects.filter(pk__in=net_by_encounter.keys())
        .order_by("date_of_service", "id")
        .values_list("id", "date_of_service", "rendering_provider")
    )
    result = AccountAging(as_of=as_of)
    pool = -pooled
    debits = []
    for encounter_id, date_of_service, provider in encounters:
        net = net_by_encounter[encounter_id]
        if net > 0:
            debits.append((encounter_id, date_of_service, net, provider))
        else:
            pool -= net
    if pool < 0:
        # A debit nobody's encounter carries (e.g. refund of a credit): current.
        result.buckets["0-30"] += -pool
        pool = ZERO
    for encounter_id, date_of_service, net, provider in debits:
        applied = min(net, pool)
        pool -= applied
        open_amount = net - applied
        age = max((as_of - date_of_service).days, 0)
        bucket = bucket_for(age)
        result.encounters.append(
            OpenEncounter(encounter_id, date_of_service, net, open_amount, age, bucket, rendering_provider=provider)
        )
        result.buckets[bucket] += open_amount
    result.unapplied_credit = pool
    return result


_PRACTICE_AGING_SQL = """
WITH per_encounter AS (
    -- one pass over the practice's ledger: net patient amount per encounter (NULL: no encounter)
    SELECT t.account_id, t.encounter_id, SUM(t.patient_amount) AS net
    FROM accounts_transaction t
    JOIN accounts_patientaccount a ON a.id = t.account_id
    WHERE a.practice_id = %(practice_id)s AND t.effective_on <= %(as_of)s
    GROUP BY t.account_id, t.encounter_id
),
pools AS (
    -- credits to apply oldest-first: rows naming no encounter, and encounters paid past zero
    SELECT account_id, SUM(-net) AS pool FROM per_encounter
    WHERE encounter_id IS NULL OR net < 0
    GROUP BY account_id
),
debits AS (
    SELECT p.account_id, e.date_of_service, p.net,
           SUM(p.net) OVER (PARTITION BY p.account_id ORDER BY e.date_of_service, p.encounter_id
                            ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS running
    FROM per_encounter p JOIN accounts_encounter e ON e.id = p.encounter_id
    WHERE p.net > 0
),
open_amounts AS (
    -- FIFO: encounter i keeps clamp(running_i - pool, 0, net_i) once credits fill older ones.
    SELECT d.date_of_service,
           CASE WHEN d.running - COALESCE(CASE WHEN p.pool > 0 THEN p.pool ELSE 0 END, 0) <= 0 THEN 0
                WHEN d.running - COALESCE(CASE WHEN p.pool > 0 THEN p.pool ELSE 0 END, 0) >= d.net THEN d.net
                ELSE d.running - COALESCE(CASE WHEN p.pool > 0 THEN p.pool ELSE 0 END, 0) END AS open_amount
    FROM debits d LEFT JOIN pools p ON p.account_id = d.account_id
)
SELECT 'open' AS kind, {age_expr} AS age_days, SUM(open_amount) FROM open_amounts
WHERE open_amount <> 0 GROUP BY 2
UNION ALL
-- debits no encounter carries (pool below zero): current
SELECT 'open', 0, SUM(-pool) FROM pools WHERE pool < 0
UNION ALL
-- credits no encounter can absorb: the unapplied credit
SELECT 'credit', 0, SUM(p.pool - COALESCE(d.total, 0))
FROM pools p LEFT JOIN (
    SELECT account_id, SUM(net) AS total FROM per_encounter WHERE encounter_id IS NOT NULL AND net > 0
    GROUP BY account_id
) d
     ON d.account_id = p.account_id
WHERE p.pool > COALESCE(d.total, 0)
"""


def practice_aging(practice_id: int, *, as_of: date) -> dict:
    """Patient AR by bucket for one practice as of a date, computed live from the ledger.

    Returns {"buckets": {label: amount}, "unapplied_credit": amount, "balance": amount}.
    The caller must already have checked the user may see the practice (reports do, via access).
    """
    if connection.vendor == "postgresql":
        age_expr = "(%(as_of)s::date - date_of_service)"
    else:
        age_expr = "CAST(julianday(%(as_of)s) - julianday(date_of_service) AS INTEGER)"
    params = {"practice_id": practice_id, "as_of": as_of.isoformat() if connection.vendor != "postgresql" else as_of}
    buckets, credit = empty_buckets(), ZERO
    with connection.cursor() as cursor:
        cursor.execute(_PRACTICE_AGING_SQL.format(age_expr=age_expr), params)
        for kind, age_days, amount in cursor.fetchall():
            if amount is None:
                continue
            amount = Decimal(amount).quantize(CENT)  # SQLite sums in floating point
            if kind == "credit":
                credit += amount
            else:
                buckets[bucket_for(max(int(age_days), 0))] += amount
    balance = sum(buckets.values(), ZERO) - credit
    return {"buckets": buckets, "unapplied_credit": credit, "balance": balance}
