"""Nightly: the aging snapshot. Every practice's open AR by bucket, and every account's aging state.

Patient amounts are aged exactly as `accounts.aging` ages them (by date of service, credits
applied oldest-first, a debit no encounter carries counts as current); insurance amounts are each
encounter's open insurance balance (insurance net > 0) aged by its date of service.

Set-based over all practices at once, each as of its own date: one pass over the ledger into a
temporary table of open items, then three statements (upsert account states, delete the states of
accounts that no longer owe, upsert the practice snapshot). Running it again for the same date
rewrites the same values: nothing changes.

    PracticeAgingSnapshot.account_count: accounts whose OLDEST open patient balance falls in the
    bucket, so the column adds up to the number of accounts that owe.
    AccountAgingState: one row per account with a patient balance open (patient_open > 0);
    oldest_open_service_on comes from encounters only (a debit no encounter carries has no date of
    service and counts as current: bucket 0-30, not past due on its own). The row holds no date and
    no age, so the upsert rewrites only the accounts whose balance, oldest open visit, bucket or
    past-due flag changed: a night in which nothing is paid and no balance crosses a bucket or the
    grace days writes nothing.
"""

from datetime import date

from django.db import connection

from accounts.aging import BUCKETS
from accounts.models import Practice
from core.nightly import JobContext, nightly_job

ITEMS_TABLE = "nightly_aging_items"


def bucket_case(age_sql: str) -> str:
    """SQL CASE giving the bucket label of an age in days (accounts.aging.BUCKETS)."""
    whens = " ".join(f"WHEN {age_sql} <= {last} THEN '{label}'" for label, _, last in BUCKETS if last is not None)
    return f"CASE {whens} ELSE '{BUCKETS[-1][0]}' END"


def _sql_dialect() -> dict[str, str]:
    if connection.vendor == "postgresql":
        return {
            "date_param": "%s::date",
            "age": "(pe.as_of - e.date_of_service)",
            "distinct": "IS DISTINCT FROM",
        }
    return {
        "date_param": "%s",
        "age": "CAST(julianday(pe.as_of) - julianday(e.date_of_service) AS INTEGER)",
        "distinct": "IS NOT",
    }


def _practice_dates_cte(practice_dates: dict[int, date]) -> tuple[str, list]:
    """`pd(practice_id, as_of, grace_days)`: each practice's date and statement grace days."""
    grace = dict(Practice.objects.filter(pk__in=practice_dates).values_list("pk", "statement_grace_days"))
    rows = [(pk, as_of, grace[pk]) for pk, as_of in sorted(practice_dates.items()) if pk in grace]
    dialect = _sql_dialect()
    is_pg = connection.vendor == "postgresql"
    values = ", ".join(f"(%s, {dialect['date_param']}, %s)" for _ in rows)
    params: list = []
    for pk, as_of, days in rows:
        params += [pk, as_of if is_pg else as_of.isoformat(), days]
    return f"pd(practice_id, as_of, grace_days) AS (VALUES {values})", params


# One pass over the ledger: an open item is an encounter's open patient amount (after oldest-first
# credits), a debit no encounter carries (current), or an encounter's open insurance amount.
ITEMS_SQL = """
CREATE TEMP TABLE {table} {on_commit} AS
WITH {pd},
per_encounter AS (
    SELECT a.practice_id, pd.as_of, pd.grace_days, t.account_id, t.encounter_id,
           SUM(t.patient_amount) AS net, SUM(t.insurance_amount) AS insurance_net
    FROM accounts_transaction t
    JOIN accounts_patientaccount a ON a.id = t.account_id
    JOIN pd ON pd.practice_id = a.practice_id
    WHERE t.effective_on <= pd.as_of
    GROUP BY a.practice_id, pd.as_of, pd.grace_days, t.account_id, t.encounter_id
),
pools AS (
    SELECT practice_id, as_of, grace_days, account_id, SUM(-net) AS pool FROM per_encounter
    WHERE encounter_id IS NULL OR net < 0
    GROUP BY practice_id, as_of, grace_days, account_id
),
debits AS (
    SELECT pe.practice_id, pe.as_of, pe.grace_days, pe.account_id, e.date_of_service, {age} AS age_days, pe.net,
           SUM(pe.net) OVER (PARTITION BY pe.account_id ORDER BY e.date_of_service, pe.encounter_id
                             ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS running
    FROM per_encounter pe JOIN accounts_encounter e ON e.id = pe.encounter_id
    WHERE pe.net > 0
),
items AS (
    SELECT d.practice_id, d.as_of, d.grace_days, d.account_id, d.date_of_service,
           CASE WHEN d.age_days < 0 THEN 0 ELSE d.age_days END AS age_days,
           CASE WHEN d.running - COALESCE(CASE WHEN p.pool > 0 THEN p.pool ELSE 0 END, 0) <= 0 THEN 0
                WHEN d.running - COALESCE(CASE WHEN p.pool > 0 THEN p.pool ELSE 0 END, 0) >= d.net THEN d.net
                ELSE d.running - COALESCE(CASE WHEN p.pool > 0 THEN p.pool ELSE 0 END, 0) END AS patient_open,
           0 AS insurance_open
    FROM debits d LEFT JOIN pools p ON p.account_id = d.account_id
    UNION ALL
    SELECT practice_id, as_of, grace_days, account_id, NULL, 0, -pool, 0 FROM pools WHERE pool < 0
    UNION ALL
    SELECT pe.practice_id, pe.as_of, pe.grace_days, pe.account_id, e.date_of_service,
           CASE WHEN {age} < 0 THEN 0 ELSE {age} END, 0, pe.insurance_net
    FROM per_encounter pe JOIN accounts_encounter e ON e.id = pe.encounter_id
    WHERE pe.insurance_net > 0
)
SELECT practice_id, as_of, grace_days, account_id, date_of_service, age_days, patient_open, insurance_open
FROM items WHERE patient_open > 0 OR insurance_open > 0
"""

STATES_SQL = """
INSERT INTO accounts_accountagingstate
    (account_id, practice_id, patient_open, oldest_open_service_on, bucket, is_past_due)
SELECT account_id, practice_id, patient_open, oldest_service_on,
       {bucket}, (oldest_age IS NOT NULL AND oldest_age > grace_days)
FROM (
    SELECT account_id, practice_id, grace_days, ROUND(SUM(patient_open), 2) AS patient_open,
           MIN(date_of_service) AS oldest_service_on,
           MAX(CASE WHEN date_of_service IS NOT NULL THEN age_days END) AS oldest_age
    FROM {table} WHERE patient_open > 0
    GROUP BY account_id, practice_id, grace_days
) owed
WHERE patient_open > 0
ON CONFLICT (account_id) DO UPDATE SET
    practice_id = EXCLUDED.practice_id, patient_open = EXCLUDED.patient_open,
    oldest_open_service_on = EXCLUDED.oldest_open_service_on, bucket = EXCLUDED.bucket,
    is_past_due = EXCLUDED.is_past_due
WHERE accounts_accountagingstate.practice_id {distinct} EXCLUDED.practice_id
   OR accounts_accountagingstate.patient_open {distinct} EXCLUDED.patient_open
   OR accounts_accountagingstate.oldest_open_service_on {distinct} EXCLUDED.oldest_open_service_on
   OR accounts_accountagingstate.bucket {distinct} EXCLUDED.bucket
   OR accounts_accountagingstate.is_past_due {distinct} EXCLUDED.is_past_due
"""

# States of the night's practices whose accounts no longer owe (paid, adjusted, credited).
DELETE_STATES_SQL = """
DELETE FROM accounts_accountagingstate
WHERE practice_id IN ({practice_ids})
  AND NOT EXISTS (SELECT 1 FROM {table} i WHERE i.account_id = accounts_accountagingstate.account_id
                                         AND i.patient_open > 0)
"""

SNAPSHOT_SQL = """
INSERT INTO accounts_practiceagingsnapshot
    (practice_id, as_of, bucket, patient_amount, insurance_amount, account_count)
WITH {pd},
labels(bucket, position) AS (VALUES {labels}),
amounts AS (
    SELECT practice_id, {item_bucket} AS bucket,
           ROUND(SUM(patient_open), 2) AS patient_amount, ROUND(SUM(insurance_open), 2) AS insurance_amount
    FROM {table}
    GROUP BY practice_id, {item_bucket}
),
owing AS (
    SELECT s.practice_id, s.bucket, COUNT(*) AS accounts
    FROM accounts_accountagingstate s JOIN pd ON pd.practice_id = s.practice_id
    GROUP BY s.practice_id, s.bucket
)
SELECT pd.practice_id, pd.as_of, labels.bucket, COALESCE(amounts.patient_amount, 0),
       COALESCE(amounts.insurance_amount, 0), COALESCE(owing.accounts, 0)
FROM pd CROSS JOIN labels
LEFT JOIN amounts ON amounts.practice_id = pd.practice_id AND amounts.bucket = labels.bucket
LEFT JOIN owing ON owing.practice_id = pd.practice_id AND owing.bucket = labels.bucket
WHERE 1 = 1
ON CONFLICT (practice_id, as_of, bucket) DO UPDATE SET
    patient_amount = EXCLUDED.patient_amount, insurance_amount = EXCLUDED.insurance_amount,
    account_count = EXCLUDED.account_count
WHERE accounts_practiceagingsnapshot.patient_amount {distinct} EXCLUDED.patient_amount
   OR accounts_practiceagingsnapshot.insurance_amount {distinct} EXCLUDED.insurance_amount
   OR accounts_practiceagingsnapshot.account_count {distinct} EXCLUDED.account_count
"""


def refresh_aging(practice_dates: dict[int, date], *, progress=None) -> dict[str, int]:
    """Rebuild the aging snapshot and account states for these practices, each as of its date.
    Call inside a transaction (the runner does)."""
    if not practice_dates:
        return {"practices": 0, "accounts_owing": 0, "states_written": 0, "states_deleted": 0, "snapshot_rows": 0}
    steps = 4
    pd, pd_params = _practice_dates_cte(practice_dates)
    dialect = _sql_dialect()
    is_pg = connection.vendor == "postgresql"
    labels = ", ".join(f"('{label}', {position})" for position, (label, _, _) in enumerate(BUCKETS))
    practice_ids = ", ".join(str(int(pk)) for pk in sorted(practice_dates))
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {ITEMS_TABLE}")
        cursor.execute(
            ITEMS_SQL.format(table=ITEMS_TABLE, on_commit="ON COMMIT DROP" if is_pg else "", pd=pd, age=dialect["age"]),
            pd_params,
        )
        if is_pg:
            cursor.execute(f"ANALYZE {ITEMS_TABLE}")
        _progress(progress, 1, steps)
        cursor.execute(STATES_SQL.format(table=ITEMS_TABLE, bucket=bucket_case("COALESCE(oldest_age, 0)"), **dialect))
        states_written = max(cursor.rowcount, 0)
        _progress(progress, 2, steps)
        cursor.execute(DELETE_STATES_SQL.format(table=ITEMS_TABLE, practice_ids=practice_ids))
        states_deleted = max(cursor.rowcount, 0)
        _progress(progress, 3, steps)
        cursor.execute(
            SNAPSHOT_SQL.format(
                pd=pd, labels=labels, table=ITEMS_TABLE, item_bucket=bucket_case("age_days"), **dialect
            ),
            pd_params,
        )
        snapshot_rows = max(cursor.rowcount, 0)
        cursor.execute(
            f"WITH {pd} SELECT COALESCE(SUM(s.account_count), 0) FROM accounts_practiceagingsnapshot s "
            "JOIN pd ON pd.practice_id = s.practice_id AND pd.as_of = s.as_of",
            pd_params,
        )
        accounts_owing = int(cursor.fetchone()[0])
        cursor.execute(f"DROP TABLE IF EXISTS {ITEMS_TABLE}")
        if is_pg and states_written + states_deleted:
            # The jobs after this one (promises, plans, queue rules) join the account states at once:
            # fresh statistics keep the planner from treating a table that just grew from nothing to
            # 500k rows as empty (seen at 1M: a nested loop that ran for minutes). Sampled: ~0.1 s.
            cursor.execute("ANALYZE accounts_accountagingstate")
        _progress(progress, 4, steps)
    return {
        "practices": len(practice_dates),
        "accounts_owing": accounts_owing,
        "states_written": states_written,
        "states_deleted": states_deleted,
        "snapshot_rows": snapshot_rows,
    }


def _progress(progress, done: int, total: int) -> None:
    if progress is not None:
        progress(done, total)


@nightly_job("aging_snapshot", order=10, description="Aging snapshot: AR by bucket and each account's aging")
def aging_snapshot(context: JobContext) -> dict[str, int]:
    # First: promise checks, plan lapses and the queue rules read the account states it writes.
    return refresh_aging(context.practice_dates, progress=context.progress)
