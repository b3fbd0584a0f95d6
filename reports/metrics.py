"""Collection rate by month per practice: the net collection rate and the patient collection rate,
each beside the practice's target (Practice.target_collection_rate, a percent) with the gap.

Both are set-based: one grouped query each over the ledger, scoped to the practices the user may
see (`core.access.scope_to_user`), months by the ledger's transaction date (`effective_on`).

Net collection rate, month M:

    (payments - refunds) / (charges - contractual adjustments)

    payments    insurance payments, patient payments and agency payments dated in M
    refunds     refunds to patients dated in M
    charges     charges dated in M (patient and insurance shares)
    adjustments contractual adjustments dated in M
    A reversal counts against the kind of the row it reverses, in the month of the reversal's own
    date: a check that bounces in April lowers April's payments, not March's.

Patient collection rate, month M:

    patient balances paid within 120 days / patient balances that became the patient's in M

    A balance becomes the patient's when insurance transfers it to patient responsibility, when a
    charge is posted with a patient share (self-pay), or when a bad-debt recovery puts a written-off
    balance back. Each account's patient credits (patient and agency payments, and write-offs) are
    applied to its patient balances oldest first, by date; the part of a balance covered by payments
    dated no later than 120 days after the balance's own date counts as paid within 120 days.
    Write-offs use up balances without counting as paid. A row that was reversed, and its reversal,
    are left out on both sides (a bounced payment never paid anything). Payments apply oldest first
    whatever visit they name: the rate measures how the account pays, not which visit.
    A month's patient rate is final 120 days after the month ends; until then it can still rise.

Both rates are None where the denominator is zero or less (nothing to collect that month).
"""

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

from django.db import connection
from django.db.models import F, Sum
from django.db.models.functions import Coalesce, TruncMonth
from django.utils import timezone

from accounts.models import Practice, Transaction
from accounts.money import ZERO, to_money
from core.access import scope_to_user

Kind = Transaction.Kind
PATIENT_WINDOW_DAYS = 120
RATE_PLACES = Decimal("0.01")

PAYMENT_KINDS = (Kind.INSURANCE_PAYMENT, Kind.PATIENT_PAYMENT, Kind.AGENCY_PAYMENT)
NET_KINDS = (Kind.CHARGE, Kind.CONTRACTUAL_ADJUSTMENT, Kind.REFUND, *PAYMENT_KINDS)
# Patient side of the patient rate: what makes a balance the patient's, and what uses it up.
RESPONSIBILITY_KINDS = (Kind.CHARGE, Kind.TRANSFER_TO_PATIENT, Kind.BAD_DEBT_RECOVERY)
PATIENT_PAYING_KINDS = (Kind.PATIENT_PAYMENT, Kind.AGENCY_PAYMENT)
PATIENT_CREDIT_KINDS = (*PATIENT_PAYING_KINDS, Kind.WRITE_OFF)

NET_FORMULA = (
    "Net collection rate = (payments - refunds) ÷ (charges - contractual adjustments), by transaction date. "
    "Payments are insurance, patient and agency payments. A reversal counts against what it reverses, "
    "in the month it is dated."
)
PATIENT_FORMULA = (
    f"Patient collection rate = the share of balances that became the patient's in the month (transfers to "
    f"patient responsibility, the patient share of charges, bad-debt recoveries) paid within "
    f"{PATIENT_WINDOW_DAYS} days. Each account's payments and write-offs are applied to its balances "
    f"oldest first; write-offs use up a balance without paying it; reversed payments never count. "
    f"A month is final {PATIENT_WINDOW_DAYS} days after it ends."
)


def month_start(day: date) -> date:
    return day.replace(day=1)


def month_end(first: date) -> date:
    return next_month(first) - timedelta(days=1)


def next_month(first: date) -> date:
    return date(first.year + (first.month == 12), first.month % 12 + 1, 1)


def add_months(first: date, months: int) -> date:
    index = first.year * 12 + first.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def months_between(start: date, end: date) -> list[date]:
    """First days of the months from `start`'s month to `end`'s month, both included."""
    months, month = [], month_start(start)
    while month <= end:
        months.append(month)
        month = next_month(month)
    return months


def rate(numerator: Decimal, denominator: Decimal) -> Decimal | None:
    if denominator is None or denominator <= 0:
        return None
    return (Decimal(numerator) * 100 / Decimal(denominator)).quantize(RATE_PLACES, rounding=ROUND_HALF_UP)


@dataclass
class MonthRate:
    """One practice's month: the sums behind both rates, and the practice's target."""

    practice_id: int
    month: date
    target: Decimal
    charges: Decimal = ZERO
    contractual_adjustments: Decimal = ZERO
    payments: Decimal = ZERO
    refunds: Decimal = ZERO
    patient_responsibility: Decimal = ZERO
    patient_paid: Decimal = ZERO
    as_of: date | None = None

    @property
    def net_collected(self) -> Decimal:
        return self.payments - self.refunds

    @property
    def net_collectible(self) -> Decimal:
        return self.charges - self.contractual_adjustments

    @property
    def net_rate(self) -> Decimal | None:
        return rate(self.net_collected, self.net_collectible)

    @property
    def net_gap(self) -> Decimal | None:
        return None if self.net_rate is None else self.net_rate - self.target

    @property
    def patient_rate(self) -> Decimal | None:
        return rate(self.patient_paid, self.patient_responsibility)

    @property
    def patient_gap(self) -> Decimal | None:
        return None if self.patient_rate is None else self.patient_rate - self.target

    @property
    def patient_final_on(self) -> date:
        return month_end(self.month) + timedelta(days=PATIENT_WINDOW_DAYS)

    @property
    def patient_is_final(self) -> bool:
        return self.as_of is not None and self.as_of >= self.patient_final_on


# --- the sums ------------------------------------------------------------------------------------


def net_sums(*, practice_ids: list[int], start: date, end: date) -> dict[tuple[int, date], dict[str, Decimal]]:
    """{(practice, month): {charges, contractual_adjustments, payments, refunds}} for rows dated
    `start`..`end`: one grouped query (practice, month, kind counted) over the ledger."""
    if not practice_ids:
        return {}
    # Rows of the kinds counted, and reversals of them by the kind they reverse, in one UNION ALL:
    # a LEFT JOIN of every row to what it reverses would hash the whole ledger (15 s at 1M accounts)
    # for the few rows that are reversals.
    dated = Transaction.objects.filter(
        account__practice_id__in=practice_ids, effective_on__gte=start, effective_on__lte=end
    )
    amount = Coalesce(Sum(F("patient_amount") + F("insurance_amount")), ZERO)
    direct = (
        dated.filter(kind__in=NET_KINDS)
        .annotate(month=TruncMonth("effective_on"), counted_kind=F("kind"))
        .values("account__practice_id", "month", "counted_kind")
        .annotate(amount=amount)
        .order_by()
    )
    reversals = (
        dated.filter(kind=Kind.REVERSAL, reverses__kind__in=NET_KINDS)
        .annotate(month=TruncMonth("effective_on"), counted_kind=F("reverses__kind"))
        .values("account__practice_id", "month", "counted_kind")
        .annotate(amount=amount)
        .order_by()
    )
    rows = direct.union(reversals, all=True)
    sums: dict[tuple[int, date], dict[str, Decimal]] = {}
    for row in rows:
        month = row["month"].date() if hasattr(row["month"], "date") else row["month"]
        found = sums.setdefault(
            (row["account__practice_id"], month),
            {"charges": ZERO, "contractual_adjustments": ZERO, "payments": ZERO, "refunds": ZERO},
        )
        amount = to_money(row["amount"])
        kind = row["counted_kind"]
        # Ledger signs: a charge and a refund raise a balance, a payment and an adjustment lower it.
        if kind == Kind.CHARGE:
            found["charges"] += amount
        elif kind == Kind.CONTRACTUAL_ADJUSTMENT:
            found["contractual_adjustments"] -= amount
        elif kind == Kind.REFUND:
            found["refunds"] += amount
        else:
            found["payments"] -= amount
    return sums


PATIENT_SQL = """
WITH events AS (
    SELECT t.id, t.account_id, a.practice_id, t.effective_on, t.patient_amount AS amount,
           SUM(t.patient_amount) OVER (PARTITION BY t.account_id ORDER BY t.effective_on, t.id
                                       ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS upto
    FROM accounts_transaction t
    JOIN accounts_patientaccount a ON a.id = t.account_id
    WHERE a.practice_id IN ({practices}) AND t.effective_on <= {end}
      AND t.kind IN ({responsibility}) AND t.patient_amount > 0
      AND NOT EXISTS (SELECT 1 FROM accounts_transaction r
                      WHERE r.reverses_id = t.id AND r.kind = 'reversal' AND r.effective_on <= {as_of})
),
credits AS (
    SELECT t.account_id, t.effective_on, t.kind IN ({paying}) AS is_payment, -t.patient_amount AS amount,
           SUM(-t.patient_amount) OVER (PARTITION BY t.account_id ORDER BY t.effective_on, t.id
                                        ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS upto
    FROM accounts_transaction t
    JOIN accounts_patientaccount a ON a.id = t.account_id
    WHERE a.practice_id IN ({practices}) AND t.effective_on <= {as_of}
      AND t.kind IN ({credits}) AND t.patient_amount < 0
      AND NOT EXISTS (SELECT 1 FROM accounts_transaction r
                      WHERE r.reverses_id = t.id AND r.kind = 'reversal' AND r.effective_on <= {as_of})
),
paid AS (
    SELECT e.id, SUM({least}(c.upto, e.upto) - {greatest}(c.upto - c.amount, e.upto - e.amount)) AS paid
    FROM events e
    JOIN credits c ON c.account_id = e.account_id AND c.is_payment
         AND c.upto > e.upto - e.amount AND c.upto - c.amount < e.upto
         AND c.effective_on <= {window_end}
    WHERE e.effective_on >= {start}
    GROUP BY e.id
)
SELECT e.practice_id, {month} AS month, SUM(e.amount), COALESCE(SUM(p.paid), 0)
FROM events e LEFT JOIN paid p ON p.id = e.id
WHERE e.effective_on >= {start}
GROUP BY e.practice_id, {month}
"""


def _quoted(values) -> str:
    return ", ".join(f"'{value}'" for value in values)  # our own constants, never user input


def patient_sql(*, practice_count: int) -> str:
    """The patient rate's statement for this database (the bench runs it as written here)."""
    is_pg = connection.vendor == "postgresql"
    return PATIENT_SQL.format(
        practices=", ".join([f"%(p{i})s" for i in range(practice_count)]),
        responsibility=_quoted(RESPONSIBILITY_KINDS),
        paying=_quoted(PATIENT_PAYING_KINDS),
        credits=_quoted(PATIENT_CREDIT_KINDS),
        least="LEAST" if is_pg else "MIN",
        greatest="GREATEST" if is_pg else "MAX",
        start="%(start)s::date" if is_pg else "%(start)s",
        end="%(end)s::date" if is_pg else "%(end)s",
        as_of="%(as_of)s::date" if is_pg else "%(as_of)s",
        window_end=f"e.effective_on + {PATIENT_WINDOW_DAYS}"
        if is_pg
        else f"date(e.effective_on, '+{PATIENT_WINDOW_DAYS} days')",
        month="date_trunc('month', e.effective_on)::date" if is_pg else "strftime('%%Y-%%m-01', e.effective_on)",
    )


def patient_sums(
    *, practice_ids: list[int], start: date, end: date, as_of: date
) -> dict[tuple[int, date], tuple[Decimal, Decimal]]:
    """{(practice, month): (became the patient's, paid within the window)} for balances dated
    `start`..`end`, payments counted up to `as_of`: one statement."""
    if not practice_ids:
        return {}
    is_pg = connection.vendor == "postgresql"
    params = {f"p{i}": pk for i, pk in enumerate(practice_ids)}
    params.update({"start": start, "end": end, "as_of": as_of})
    if not is_pg:
        params.update({key: params[key].isoformat() for key in ("start", "end", "as_of")})
    with connection.cursor() as cursor:
        cursor.execute(patient_sql(practice_count=len(practice_ids)), params)
        rows = cursor.fetchall()
    sums = {}
    for practice_id, month, responsibility, paid in rows:
        if isinstance(month, str):
            month = date.fromisoformat(month)
        sums[(practice_id, month)] = (to_money(Decimal(str(responsibility))), to_money(Decimal(str(paid))))
    return sums


# --- the rates -----------------------------------------------------------------------------------


def scoped_practices(*, user, practice_ids=None):
    """The practices asked for that the user may see (all of theirs when none are asked for)."""
    practices = scope_to_user(Practice.objects.all(), user, practice_field="pk")
    if practice_ids:
        practices = practices.filter(pk__in=list(practice_ids))
    return practices.order_by("name")


def compute_rates(*, practices, start: date, end: date, as_of: date | None = None) -> list[MonthRate]:
    """Every (practice, month) from `start`'s month to `end`'s month, computed from the ledger,
    counting what is dated no later than `as_of` (default today). Two queries."""
    practices = list(practices)
    as_of = as_of or timezone.localdate()
    first, last = month_start(start), min(month_end(month_start(end)), as_of)
    ids = [practice.pk for practice in practices]
    net = net_sums(practice_ids=ids, start=first, end=last) if first <= last else {}
    patient = patient_sums(practice_ids=ids, start=first, end=last, as_of=as_of) if first <= last else {}
    months = months_between(first, last) if first <= last else []
    rows = []
    for practice in practices:
        for month in months:
            row = MonthRate(practice_id=practice.pk, month=month, target=practice.target_collection_rate, as_of=as_of)
            for key, value in net.get((practice.pk, month), {}).items():
                setattr(row, key, value)
            row.patient_responsibility, row.patient_paid = patient.get((practice.pk, month), (ZERO, ZERO))
            row.practice = practice
            rows.append(row)
    return rows


def collection_rates(*, user, practice_ids=None, start: date, end: date, as_of: date | None = None):
    """The rates for the user's practices (or those of `practice_ids` the user may see)."""
    return compute_rates(
        practices=scoped_practices(user=user, practice_ids=practice_ids), start=start, end=end, as_of=as_of
    )
