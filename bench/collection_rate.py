"""Collection rate for a year of one practice: reports.metrics.compute_rates (the report's and the
nightly snapshot's code: one ORM grouped query for the net rate, one statement for the patient
rate) beside one hand-written SQL statement computing the same figures, interleaved, median of 5.
Target: within 1.5x of the hand-written query, with the same numbers.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/collections_bench \
    DJANGO_SETTINGS_MODULE=config.settings.local .venv/bin/python bench/collection_rate.py [--runs 5]
"""

import argparse
import os
import statistics
import sys
import time
from datetime import date
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")

import django

django.setup()

from django.db import connection  # noqa: E402
from django.db.models import Count  # noqa: E402

from accounts.models import Practice  # noqa: E402
from accounts.money import to_money  # noqa: E402
from reports.metrics import add_months, compute_rates, month_end, month_start  # noqa: E402

# The floor: net sums by month and counted kind, and the patient rate's oldest-first matching of
# credits to balances on each account's running totals, in one statement.
FLOOR_SQL = """
WITH net AS (
    SELECT date_trunc('month', t.effective_on)::date AS month,
           SUM(CASE WHEN COALESCE(o.kind, t.kind) = 'charge' THEN t.patient_amount + t.insurance_amount END) AS charges,
           -SUM(CASE WHEN COALESCE(o.kind, t.kind) = 'contractual_adjustment'
                     THEN t.patient_amount + t.insurance_amount END) AS adjustments,
           -SUM(CASE WHEN COALESCE(o.kind, t.kind) IN ('insurance_payment', 'patient_payment', 'agency_payment')
                     THEN t.patient_amount + t.insurance_amount END) AS payments,
           SUM(CASE WHEN COALESCE(o.kind, t.kind) = 'refund' THEN t.patient_amount + t.insurance_amount END) AS refunds
    FROM accounts_transaction t
    JOIN accounts_patientaccount a ON a.id = t.account_id AND a.practice_id = %(practice)s
    LEFT JOIN accounts_transaction o ON o.id = t.reverses_id
    WHERE t.effective_on BETWEEN %(start)s AND %(end)s
    GROUP BY 1
),
events AS (
    SELECT t.id, t.account_id, t.effective_on, t.patient_amount AS amount,
           SUM(t.patient_amount) OVER (PARTITION BY t.account_id ORDER BY t.effective_on, t.id) AS upto
    FROM accounts_transaction t
    JOIN accounts_patientaccount a ON a.id = t.account_id AND a.practice_id = %(practice)s
    WHERE t.effective_on <= %(end)s AND t.patient_amount > 0
      AND t.kind IN ('charge', 'transfer_to_patient', 'bad_debt_recovery')
      AND NOT EXISTS (SELECT 1 FROM accounts_transaction r WHERE r.reverses_id = t.id AND r.effective_on <= %(as_of)s)
),
credits AS (
    SELECT t.account_id, t.effective_on, t.kind <> 'write_off' AS is_payment, -t.patient_amount AS amount,
           SUM(-t.patient_amount) OVER (PARTITION BY t.account_id ORDER BY t.effective_on, t.id) AS upto
    FROM accounts_transaction t
    JOIN accounts_patientaccount a ON a.id = t.account_id AND a.practice_id = %(practice)s
    WHERE t.effective_on <= %(as_of)s AND t.patient_amount < 0
      AND t.kind IN ('patient_payment', 'agency_payment', 'write_off')
      AND NOT EXISTS (SELECT 1 FROM accounts_transaction r WHERE r.reverses_id = t.id AND r.effective_on <= %(as_of)s)
),
patient AS (
    SELECT date_trunc('month', e.effective_on)::date AS month, SUM(e.amount) AS responsibility,
           COALESCE(SUM(p.paid), 0) AS paid
    FROM events e
    LEFT JOIN (
        SELECT e.id, SUM(LEAST(c.upto, e.upto) - GREATEST(c.upto - c.amount, e.upto - e.amount)) AS paid
        FROM events e JOIN credits c ON c.account_id = e.account_id AND c.is_payment
             AND c.upto > e.upto - e.amount AND c.upto - c.amount < e.upto AND c.effective_on <= e.effective_on + 120
        WHERE e.effective_on >= %(start)s
        GROUP BY e.id
    ) p ON p.id = e.id
    WHERE e.effective_on >= %(start)s
    GROUP BY 1
)
SELECT COALESCE(net.month, patient.month), net.charges, net.adjustments, net.payments, net.refunds,
       patient.responsibility, patient.paid
FROM net FULL JOIN patient ON patient.month = net.month
ORDER BY 1
"""


def ours(practice, start, end, as_of):
    rows = compute_rates(practices=[practice], start=start, end=end, as_of=as_of)
    return {
        r.month: (r.charges, r.contractual_adjustments, r.payments, r.refunds, r.patient_responsibility, r.patient_paid)
        for r in rows
        if r.charges or r.payments or r.patient_responsibility
    }


def floor(practice, start, end, as_of):
    with connection.cursor() as cursor:
        cursor.execute(FLOOR_SQL, {"practice": practice.pk, "start": start, "end": end, "as_of": as_of})
        rows = cursor.fetchall()
    money = lambda v: to_money(v if v is not None else Decimal("0"))  # noqa: E731
    return {row[0]: tuple(money(v) for v in row[1:]) for row in rows}


def timed(func, *args):
    started = time.perf_counter()
    result = func(*args)
    return (time.perf_counter() - started) * 1000, result


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    practice = (
        Practice.objects.only("id", "code", "name", "target_collection_rate")
        .annotate(size=Count("accounts"))
        .order_by("-size")
        .first()
    )
    as_of = date.today()
    end = month_end(add_months(month_start(as_of), -1))
    start = add_months(month_start(as_of), -12)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT COUNT(*) FROM accounts_transaction t JOIN accounts_patientaccount a ON a.id = t.account_id "
            "WHERE a.practice_id = %s AND t.effective_on BETWEEN %s AND %s",
            [practice.pk, start, end],
        )
        ledger_rows = cursor.fetchone()[0]
    print(f"practice {practice.code}: {practice.size:,} accounts, {ledger_rows:,} ledger rows dated {start} to {end}")
    timed(ours, practice, start, end, as_of)  # warm the cache once for both
    timed(floor, practice, start, end, as_of)
    ours_ms, floor_ms = [], []
    for _ in range(args.runs):
        ms, mine = timed(ours, practice, start, end, as_of)
        ours_ms.append(ms)
        ms, theirs = timed(floor, practice, start, end, as_of)
        floor_ms.append(ms)
        if mine != theirs:
            months = sorted(set(mine) | set(theirs))
            diff = [(m, mine.get(m), theirs.get(m)) for m in months if mine.get(m) != theirs.get(m)]
            raise SystemExit(f"different numbers: {diff[:3]}")
    ours_median, floor_median = statistics.median(ours_ms), statistics.median(floor_ms)
    print(f"compute_rates (12 months): median {ours_median:.0f} ms  runs {[round(m) for m in ours_ms]}")
    print(f"hand-written SQL floor:    median {floor_median:.0f} ms  runs {[round(m) for m in floor_ms]}")
    print(f"ratio {ours_median / floor_median:.2f}x (target within 1.5x); same numbers for {len(mine)} months")
    for month, values in sorted(mine.items()):
        charges, adjustments, payments, refunds, responsibility, paid = values
        net = (payments - refunds) * 100 / (charges - adjustments) if charges - adjustments else None
        patient = paid * 100 / responsibility if responsibility else None
        print(
            f"  {month:%Y-%m}  net {net:.1f}%  patient {patient:.1f}%"
            if net is not None and patient is not None
            else f"  {month:%Y-%m}  {values}"
        )


if __name__ == "__main__":
    main()
