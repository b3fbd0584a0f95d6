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
from collections.abc import Iterable
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
    encounters = (
        Encounter.objects.filter(pk__in=[key for key in net_by_encounter if key is not None])
        .order_by("date_of_service", "id")
        .values_list("id", "date_of_service", "rendering_provider")
    )
    return aging_from_nets(net_by_encounter, encounters, as_of=as_of)


def aging_from_nets(
    net_by_encounter: dict[int | None, Decimal], encounters: Iterable[tuple[int, date, str]], *, as_of: date
) -> AccountAging:
    """The aging of one account from its net patient amount per encounter as of `as_of` (None:
    the rows on no encounter, i.e. payments and credits not applied to a visit) and its encounters
    as (id, date of service, rendering provider) ordered by date of service, then id.

    Credits not applied to a visit pay the oldest open encounters first; what is left of them is
    the unapplied credit."""
    net_by_encounter = dict(net_by_encounter)
    pooled = net_by_encounter.pop(None, ZERO)
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


class Basis:
    """What an open amount is aged from. Date of service is the rule of DESIGN.md; the others are
    the views a billing manager asks for beside it."""

    DATE_OF_SERVICE = "date_of_service"
    FIRST_STATEMENT = "first_statement"
    LAST_ACTIVITY = "last_activity"
    CHOICES = (
        (DATE_OF_SERVICE, "Date of service"),
        (FIRST_STATEMENT, "First statement"),
        (LAST_ACTIVITY, "Last activity"),
    )


# Where first-statement dates live: (table, account column, date column), one row per statement
# mailed to the account. The statements are recorded above this layer (reports), which names its
# table here when it loads (`first_statement_source_set`). An open balance ages from the first
# statement mailed on or after its date of service (on or before the as-of date); a balance no
# statement has covered yet is current. While no source is set (an installation without the
# statements), the basis falls back to the date of service and FIRST_STATEMENT_FALLBACK says so.
_first_statement_source: tuple[str, str, str] | None = None


def first_statement_source_set(table: str, account_column: str, date_column: str) -> None:
    global _first_statement_source
    _first_statement_source = (table, account_column, date_column)


def first_statement_source() -> tuple[str, str, str] | None:
    return _first_statement_source


FIRST_STATEMENT_FALLBACK = (
    "No statement dates are recorded yet, so the first-statement basis ages each balance from its "
    "date of service until the statement cycle records the statements it mails."
)
FIRST_STATEMENT_NOTE = (
    "First statement: each open patient balance ages from the first statement mailed for it (on or "
    "after its date of service); a balance no statement has covered yet is current. Insurance "
    "balances age from the date of service."
)

GROUP_PRACTICE, GROUP_PROVIDER, GROUP_PAYER = "practice", "provider", "payer"
NO_VISIT = "(no visit)"
SELF_PAY = "(self-pay)"


def _bucket_case(age_sql: str) -> str:
    """SQL CASE giving the bucket label of an age in days (BUCKETS; a negative age is current)."""
    whens = " ".join(f"WHEN {age_sql} <= {last} THEN '{label}'" for label, _, last in BUCKETS if last is not None)
    return f"CASE {whens} ELSE '{BUCKETS[-1][0]}' END"


# One statement, one pass over the chosen practices' ledger: each encounter's open patient amount
# (credits that name no encounter and encounters paid past zero fill the oldest encounters first),
# debits no encounter carries (current), the unapplied credit, and each encounter's open insurance
# amount (the insurance net of encounters still owed; what insurance overpaid or posted without an
# encounter is its own line, so the insurance column reconciles with the stored balance too).
_AGING_SQL = """
WITH per_encounter AS (
    SELECT a.practice_id, a.id AS account_id, t.encounter_id, {payer_select} AS payer,
           SUM(t.patient_amount) AS net, SUM(t.insurance_amount) AS insurance_net{last_select}
    FROM accounts_transaction t
    JOIN accounts_patientaccount a ON a.id = t.account_id
    WHERE a.practice_id IN ({practice_ids}) AND t.effective_on <= {as_of} {status_filter}
    GROUP BY a.practice_id, a.id, t.encounter_id{payer_group}
),
{account_last}pools AS (
    SELECT practice_id, account_id, payer, SUM(-net) AS pool FROM per_encounter
    WHERE encounter_id IS NULL OR net < 0
    GROUP BY practice_id, account_id, payer
),
visits AS (
    -- one join with the encounters, for the patient and the insurance side both
    SELECT p.practice_id, p.account_id, p.payer, p.encounter_id, e.date_of_service, e.rendering_provider,
           p.net, p.insurance_net
    FROM per_encounter p JOIN accounts_encounter e ON e.id = p.encounter_id
    WHERE p.net > 0 OR p.insurance_net > 0
),
debits AS (
    SELECT v.*,
           SUM(v.net) OVER (PARTITION BY v.account_id ORDER BY v.date_of_service, v.encounter_id
                            ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS running,
           SUM(v.net) OVER (PARTITION BY v.account_id) AS owed
    FROM visits v WHERE v.net > 0
),
items AS (
    SELECT d.practice_id, {group_debit} AS group_key, 'patient' AS kind, {aged_from} AS aged_from,
           CASE WHEN d.running - COALESCE(CASE WHEN p.pool > 0 THEN p.pool ELSE 0 END, 0) <= 0 THEN 0
                WHEN d.running - COALESCE(CASE WHEN p.pool > 0 THEN p.pool ELSE 0 END, 0) >= d.net THEN d.net
                ELSE d.running - COALESCE(CASE WHEN p.pool > 0 THEN p.pool ELSE 0 END, 0) END AS amount
    FROM debits d LEFT JOIN pools p ON p.account_id = d.account_id {join_last_debit}
    UNION ALL
    SELECT p.practice_id, {group_pool}, 'patient', {aged_from_pool}, -p.pool
    FROM pools p {join_last_pool} WHERE p.pool < 0
    UNION ALL
    -- credit that no open visit absorbs: on the account's last debit (running = owed there only,
    -- the nets being positive), or the whole pool of an account owing on no visit. Compared to
    -- half a cent: SQLite sums money in floating point, and two orders of summing may differ.
    SELECT p.practice_id, {group_pool}, 'credit', NULL, p.pool - d.owed
    FROM debits d JOIN pools p ON p.account_id = d.account_id
    WHERE ABS(d.running - d.owed) < 0.005 AND p.pool - d.owed > 0.005
    UNION ALL
    SELECT p.practice_id, {group_pool}, 'credit', NULL, p.pool
    FROM pools p WHERE p.pool > 0 AND NOT EXISTS (SELECT 1 FROM debits d WHERE d.account_id = p.account_id)
    UNION ALL
    SELECT v.practice_id, {group_insurance}, 'insurance', {aged_from_insurance}, v.insurance_net
    FROM visits v {join_last_insurance}
    WHERE v.insurance_net > 0
    UNION ALL
    SELECT pe.practice_id, {group_pool_pe}, 'insurance_credit', NULL, -pe.insurance_net
    FROM per_encounter pe
    WHERE pe.insurance_net <> 0 AND (pe.encounter_id IS NULL OR pe.insurance_net < 0)
)
SELECT practice_id, group_key, kind, CASE WHEN aged_from IS NULL THEN '' ELSE {bucket} END AS bucket,
       SUM(amount)
FROM items WHERE amount <> 0
GROUP BY practice_id, group_key, kind, CASE WHEN aged_from IS NULL THEN '' ELSE {bucket} END
"""


@dataclass
class AgingCell:
    """Open AR of one practice and group (a provider, a payer, or the whole practice)."""

    practice_id: int
    group: str
    patient: "OrderedDict[str, Decimal]" = field(default_factory=empty_buckets)
    insurance: "OrderedDict[str, Decimal]" = field(default_factory=empty_buckets)
    unapplied_credit: Decimal = ZERO  # patient credit no open encounter absorbs
    insurance_credit: Decimal = ZERO  # insurance overpaid, or posted without an encounter (net)

    @property
    def patient_balance(self) -> Decimal:
        return sum(self.patient.values(), ZERO) - self.unapplied_credit

    @property
    def insurance_balance(self) -> Decimal:
        return sum(self.insurance.values(), ZERO) - self.insurance_credit


def aging_by_group(
    practice_ids: list[int],
    *,
    as_of: date,
    basis: str = Basis.DATE_OF_SERVICE,
    group_by: str = GROUP_PRACTICE,
    include_agency: bool = True,
    agency_only: bool = False,
) -> list[AgingCell]:
    """Patient and insurance AR by bucket for these practices as of a date, rebuilt from the
    ledger in one statement (a posting dated after `as_of` changes nothing), grouped by practice,
    rendering provider or the account's payer. `include_agency=False` leaves out accounts placed
    with an agency (their current status); `agency_only=True` ages those accounts alone. The
    caller has checked the user may see the practices.

    For each practice (and in total over its groups), patient buckets - unapplied credit equals
    the sum of the patient amounts posted up to `as_of`; so does insurance for insurance amounts.
    """
    if not practice_ids:
        return []
    is_pg = connection.vendor == "postgresql"
    as_of_sql = "%(as_of)s::date" if is_pg else "%(as_of)s"

    def age_of(column: str) -> str:
        if is_pg:
            return f"({as_of_sql} - {column})"
        return f"CAST(julianday({as_of_sql}) - julianday({column}) AS INTEGER)"

    if basis == Basis.LAST_ACTIVITY:
        aged_from, aged_from_pool, aged_from_insurance = "l.last_on", "l.last_on", "l.last_on"
        joins = {
            "join_last_debit": "JOIN account_last l ON l.account_id = d.account_id",
            "join_last_pool": "JOIN account_last l ON l.account_id = p.account_id",
            "join_last_insurance": "JOIN account_last l ON l.account_id = v.account_id",
        }
    elif basis == Basis.FIRST_STATEMENT and first_statement_source() is not None:
        table, account_column, date_column = first_statement_source()

        def first_statement(alias: str, service: str) -> str:
            return (
                f"COALESCE((SELECT MIN(s.{date_column}) FROM {table} s WHERE s.{account_column} = {alias}.account_id "
                f"AND s.{date_column} >= {service} AND s.{date_column} <= {as_of_sql}), {as_of_sql})"
            )

        aged_from = first_statement("d", "d.date_of_service")
        aged_from_pool = as_of_sql
        aged_from_insurance = "v.date_of_service"  # insurance is billed by claim, not by statement
        joins = dict.fromkeys(("join_last_debit", "join_last_pool", "join_last_insurance"), "")
    else:
        aged_from, aged_from_pool, aged_from_insurance = "d.date_of_service", as_of_sql, "v.date_of_service"
        joins = dict.fromkeys(("join_last_debit", "join_last_pool", "join_last_insurance"), "")

    payer = f"COALESCE(NULLIF(a.payer_name, ''), '{SELF_PAY}')"
    if group_by == GROUP_PROVIDER:
        groups = {
            "group_debit": "d.rendering_provider",
            "group_pool": f"'{NO_VISIT}'",
            "group_insurance": "v.rendering_provider",
            "group_pool_pe": f"'{NO_VISIT}'",
        }
    elif group_by == GROUP_PAYER:
        groups = {
            "group_debit": "d.payer",
            "group_pool": "p.payer",
            "group_insurance": "v.payer",
            "group_pool_pe": "pe.payer",
        }
    else:
        groups = dict.fromkeys(("group_debit", "group_pool", "group_insurance", "group_pool_pe"), "''")
    sql = _AGING_SQL.format(
        practice_ids=", ".join(str(int(pk)) for pk in practice_ids),
        as_of=as_of_sql,
        status_filter=(
            "AND a.status = 'agency'" if agency_only else "" if include_agency else "AND a.status <> 'agency'"
        ),
        payer_select=payer if group_by == GROUP_PAYER else "''",
        payer_group=", a.payer_name" if group_by == GROUP_PAYER else "",
        last_select=", MAX(t.effective_on) AS last_on" if basis == Basis.LAST_ACTIVITY else "",
        account_last=(
            "account_last AS (SELECT account_id, MAX(last_on) AS last_on FROM per_encounter GROUP BY account_id),\n"
            if basis == Basis.LAST_ACTIVITY
            else ""
        ),
        aged_from=aged_from,
        aged_from_pool=aged_from_pool,
        aged_from_insurance=aged_from_insurance,
        bucket=_bucket_case(age_of("aged_from")),
        **joins,
        **groups,
    )
    params = {"as_of": as_of if is_pg else as_of.isoformat()}
    cells: dict[tuple[int, str], AgingCell] = {}
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    for practice_id, group, kind, bucket, amount in rows:
        if amount is None:
            continue
        amount = Decimal(amount).quantize(CENT)  # SQLite sums in floating point
        cell = cells.get((practice_id, group or ""))
        if cell is None:
            cell = cells[(practice_id, group or "")] = AgingCell(practice_id=practice_id, group=group or "")
        if kind == "patient":
            cell.patient[bucket] += amount
        elif kind == "insurance":
            cell.insurance[bucket] += amount
        elif kind == "credit":
            cell.unapplied_credit += amount
        else:
            cell.insurance_credit += amount
    return sorted(cells.values(), key=lambda c: (c.practice_id, c.group))


def practice_aging(practice_id: int, *, as_of: date) -> dict:
    """Patient AR by bucket for one practice as of a date, computed live from the ledger
    (aging_by_group, by date of service, every account).

    Returns {"buckets": {label: amount}, "unapplied_credit": amount, "balance": amount}.
    The caller must already have checked the user may see the practice (reports do, via access).
    """
    buckets, credit = empty_buckets(), ZERO
    for cell in aging_by_group([practice_id], as_of=as_of):
        for label, amount in cell.patient.items():
            buckets[label] += amount
        credit += cell.unapplied_credit
    balance = sum(buckets.values(), ZERO) - credit
    return {"buckets": buckets, "unapplied_credit": credit, "balance": balance}
