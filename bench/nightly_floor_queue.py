"""The queue refresh's floor for bench/nightly.py: the work queue's rules written by hand in SQL.

`collections_app.queues.services.queue_refresh` builds every rule of `collections_app.queues.rules`
as a Django Q and runs, per reason, one UPDATE clearing the items whose cause went away and one
INSERT ... SELECT opening the new ones, then one upsert and one DELETE of the queue entries. The
floor computes the same result with less machinery: one statement, a UNION ALL of the eleven rule
predicates by hand over the plain tables (each practice on its own date, with its own policy
columns), giving every (account, reason) that should be open, into a temporary table; then one
statement scoring the accounts (the score expression of `services.score_sql`). It writes nothing
to the book (the job also writes: clears, inserts, upserts), and is then checked against the open
work items and the queue entries the job left, both ways.

Run it after the jobs, on the book they left: queue_refresh is the last job, and the earlier ones
(aging, holds, promises, plans) change what the rules see.
"""

import time
from datetime import date

from collections_app.correspondence.business_days import us_federal_holidays
from collections_app.queues.rules import (
    EARLY_FOLLOW_UP_MAX_AGE_DAYS,
    INQUIRY_LEAD_BUSINESS_DAYS,
    PROBATE_DEADLINE_LEAD_DAYS,
)
from collections_app.queues.services import REASON_WEIGHTS, score_sql

# Shared conditions, spelled out in each branch below:
#   worked     the account is still ours: status not closed and not agency
#   held       an AccountHold not released (any kind, any practice)
#   dunnable   status 'active' and not held
#   owes       patient_balance > 0
NOT_HELD = (
    "NOT EXISTS (SELECT 1 FROM collections_app_accounthold h WHERE h.account_id = a.id AND h.released_at IS NULL)"
)

# %(zone)s: the database session's "current time zone" Django uses for `occurred_at__date`.
FLOOR_OPEN_ITEMS_SQL = f"""
CREATE TEMP TABLE floor_open_items AS
WITH run AS (
    SELECT fd.practice_id, fd.as_of, p.final_notice_after_days, p.early_followup_after_days,
           p.claim_followup_days, p.appointment_alert_days, p.time_zone,
           (SELECT day::date FROM generate_series((fd.as_of + 1)::timestamp, (fd.as_of + 14)::timestamp, interval '1 day') day
            WHERE extract(isodow FROM day) < 6 AND day::date <> ALL(%(holidays)s)
            ORDER BY day OFFSET %(inquiry_lead)s - 1 LIMIT 1) AS inquiries_due_by
    FROM floor_dates fd JOIN accounts_practice p ON p.id = fd.practice_id
)
-- past due: aging says past due, owes, dunnable
SELECT a.id AS account_id, 'past_due'::varchar(30) AS reason
FROM accounts_patientaccount a JOIN run ON run.practice_id = a.practice_id
JOIN accounts_accountagingstate ag ON ag.account_id = a.id
WHERE ag.is_past_due AND a.patient_balance > 0 AND a.status = 'active' AND {NOT_HELD}
UNION ALL
-- follow-up date due: worked
SELECT a.id, 'follow_up_due'
FROM accounts_patientaccount a JOIN run ON run.practice_id = a.practice_id
WHERE a.follow_up_on <= run.as_of AND a.status NOT IN ('closed', 'agency')
UNION ALL
-- promise broken: a broken promise with no newer open or kept one; owes, worked, not on hold
SELECT a.id, 'promise_broken'
FROM accounts_patientaccount a JOIN run ON run.practice_id = a.practice_id
WHERE a.patient_balance > 0 AND a.status NOT IN ('closed', 'agency', 'hold') AND {NOT_HELD}
  AND EXISTS (
      SELECT 1 FROM collections_app_promisetopay b
      WHERE b.account_id = a.id AND b.status = 'broken'
        AND NOT EXISTS (SELECT 1 FROM collections_app_promisetopay n
                        WHERE n.account_id = b.account_id AND n.created_at > b.created_at
                          AND n.status IN ('open', 'kept')))
UNION ALL
-- plan lapsed: a lapsed payment plan; worked
SELECT a.id, 'plan_lapsed'
FROM accounts_patientaccount a JOIN run ON run.practice_id = a.practice_id
WHERE a.status NOT IN ('closed', 'agency')
  AND EXISTS (SELECT 1 FROM payment_plans_paymentplan pl WHERE pl.account_id = a.id AND pl.status = 'lapsed')
UNION ALL
-- returned mail not resolved: worked
SELECT a.id, 'returned_mail'
FROM accounts_patientaccount a JOIN run ON run.practice_id = a.practice_id
WHERE a.status NOT IN ('closed', 'agency')
  AND EXISTS (SELECT 1 FROM collections_app_returnedmail m WHERE m.account_id = a.id AND m.resolved_at IS NULL)
UNION ALL
-- inquiry unanswered and due within INQUIRY_LEAD_BUSINESS_DAYS business days (the inquiry's
-- practice's date); worked
SELECT a.id, 'inquiry_due'
FROM accounts_patientaccount a JOIN run ON run.practice_id = a.practice_id
WHERE a.status NOT IN ('closed', 'agency')
  AND EXISTS (SELECT 1 FROM collections_app_billinginquiry q JOIN run qr ON qr.practice_id = q.practice_id
              WHERE q.account_id = a.id AND q.responded_on IS NULL AND q.response_due_on <= qr.inquiries_due_by)
UNION ALL
-- appointment: the patient has a scheduled or checked-in appointment at the account's practice
-- from the practice's local midnight today to the end of today + appointment_alert_days (0: off);
-- aging past due, owes, worked
SELECT a.id, 'appointment_past_due'
FROM accounts_patientaccount a JOIN run ON run.practice_id = a.practice_id
JOIN accounts_accountagingstate ag ON ag.account_id = a.id
WHERE ag.is_past_due AND a.patient_balance > 0 AND a.status NOT IN ('closed', 'agency')
  AND EXISTS (SELECT 1 FROM accounts_appointment ap JOIN run ar ON ar.practice_id = ap.practice_id
              WHERE ap.patient_id = a.patient_id AND ap.practice_id = a.practice_id
                AND ap.status IN ('scheduled', 'checked_in') AND ar.appointment_alert_days > 0
                AND ap.starts_at >= (ar.as_of::timestamp AT TIME ZONE ar.time_zone)
                AND ap.starts_at < ((ar.as_of + ar.appointment_alert_days + 1)::timestamp AT TIME ZONE ar.time_zone))
UNION ALL
-- hold review: an unreleased hold whose review date has come, or a probate hold with no claim
-- filed and the claim deadline within PROBATE_DEADLINE_LEAD_DAYS (the hold's practice's date); worked
SELECT a.id, 'hold_review'
FROM accounts_patientaccount a JOIN run ON run.practice_id = a.practice_id
WHERE a.status NOT IN ('closed', 'agency')
  AND EXISTS (SELECT 1 FROM collections_app_accounthold h JOIN run hr ON hr.practice_id = h.practice_id
              WHERE h.account_id = a.id AND h.released_at IS NULL
                AND (h.review_on <= hr.as_of
                     OR (h.kind = 'probate' AND h.claim_filed_on IS NULL
                         AND h.claim_deadline_on <= hr.as_of + %(probate_lead)s)))
UNION ALL
-- final notice: oldest open service over final_notice_after_days ago, no cease-communication,
-- owes, dunnable, no final notice sent on or after the oldest open date of service
SELECT a.id, 'final_notice'
FROM accounts_patientaccount a JOIN run ON run.practice_id = a.practice_id
JOIN accounts_accountagingstate ag ON ag.account_id = a.id
WHERE ag.oldest_open_service_on < run.as_of - run.final_notice_after_days
  AND a.cease_communication_on IS NULL AND a.patient_balance > 0 AND a.status = 'active' AND {NOT_HELD}
  AND NOT EXISTS (SELECT 1 FROM collections_app_contact c
                  WHERE c.account_id = a.id AND c.outcome = 'final_notice_sent'
                    AND (c.occurred_at AT TIME ZONE %(zone)s)::date >= ag.oldest_open_service_on)
UNION ALL
-- early follow-up: oldest open service between early_followup_after_days (0: off) and
-- EARLY_FOLLOW_UP_MAX_AGE_DAYS ago, owes, dunnable, no contact of any kind since it
SELECT a.id, 'early_follow_up'
FROM accounts_patientaccount a JOIN run ON run.practice_id = a.practice_id
JOIN accounts_accountagingstate ag ON ag.account_id = a.id
WHERE run.early_followup_after_days > 0
  AND ag.oldest_open_service_on <= run.as_of - run.early_followup_after_days
  AND ag.oldest_open_service_on >= run.as_of - %(early_max_age)s
  AND a.patient_balance > 0 AND a.status = 'active' AND {NOT_HELD}
  AND NOT EXISTS (SELECT 1 FROM collections_app_contact c
                  WHERE c.account_id = a.id AND (c.occurred_at AT TIME ZONE %(zone)s)::date >= ag.oldest_open_service_on)
UNION ALL
-- claim follow-up: a denied claim, or one submitted or pending for over claim_followup_days;
-- every account, closed and at agency included
SELECT a.id, 'claim_follow_up'
FROM accounts_patientaccount a JOIN run ON run.practice_id = a.practice_id
WHERE EXISTS (SELECT 1 FROM accounts_claim c
              WHERE c.account_id = a.id
                AND (c.status = 'denied'
                     OR (c.status IN ('submitted', 'pending') AND c.submitted_on < run.as_of - run.claim_followup_days)))
"""


def floor_entries_sql() -> str:
    """The queue entries of the floor's accounts: top reason by weight, +points per further reason,
    balance and age factors (services.score_sql). An item keeps the date it was opened (the open
    item's opened_on; a new one opens on the run's date)."""
    weights = ", ".join(f"('{reason}', {weight})" for reason, weight in REASON_WEIGHTS.items())
    score = score_sql(
        top_weight="i.top_weight",
        item_count="i.item_count",
        balance="(a.patient_balance + a.insurance_balance)",
        age_days="(i.as_of - LEAST(i.oldest_item_on, COALESCE(ag.oldest_open_service_on, i.oldest_item_on)))",
    )
    return f"""
CREATE TEMP TABLE floor_entries AS
WITH weights(reason, weight) AS (VALUES {weights})
SELECT i.account_id, a.practice_id, {score} AS score, top.reason AS top_reason, i.oldest_item_on
FROM (
    SELECT f.account_id, MIN(fd.as_of) AS as_of, MAX(wt.weight) AS top_weight, COUNT(*) AS item_count,
           MIN(COALESCE(w.opened_on, fd.as_of)) AS oldest_item_on
    FROM floor_open_items f
    JOIN weights wt ON wt.reason = f.reason
    JOIN accounts_patientaccount fa ON fa.id = f.account_id
    JOIN floor_dates fd ON fd.practice_id = fa.practice_id
    LEFT JOIN collections_app_workitem w ON w.account_id = f.account_id AND w.reason = f.reason AND w.cleared_at IS NULL
    GROUP BY f.account_id
) i
JOIN weights top ON top.weight = i.top_weight
JOIN accounts_patientaccount a ON a.id = i.account_id
LEFT JOIN accounts_accountagingstate ag ON ag.account_id = a.id
"""


OPEN_ITEMS = """
    SELECT account_id, reason FROM collections_app_workitem
    WHERE cleared_at IS NULL AND practice_id IN (SELECT practice_id FROM floor_dates)"""
ENTRIES = """
    SELECT account_id, practice_id, score, top_reason, oldest_item_on FROM collections_app_queueentry
    WHERE practice_id IN (SELECT practice_id FROM floor_dates)"""

# Each must return no rows; a few rows of each are printed when one does.
FLOOR_QUEUE_CHECKS = {
    "open items the job left that the floor does not have": f"{OPEN_ITEMS} EXCEPT SELECT account_id, reason FROM floor_open_items",
    "floor items the job did not leave open": f"SELECT account_id, reason FROM floor_open_items EXCEPT {OPEN_ITEMS}",
    "queue entries the job left that the floor does not have (or scores differently)": f"""
        {ENTRIES} EXCEPT SELECT account_id, practice_id, score, top_reason, oldest_item_on FROM floor_entries""",
    "floor queue entries the job did not leave (or scored differently)": f"""
        SELECT account_id, practice_id, score, top_reason, oldest_item_on FROM floor_entries EXCEPT {ENTRIES}""",
}


def create_floor_dates(cursor, practice_dates: dict[int, date]) -> None:
    """The run's practices with their local dates, as the runner hands them to every job."""
    cursor.execute("DROP TABLE IF EXISTS floor_dates")
    cursor.execute("CREATE TEMP TABLE floor_dates (practice_id bigint PRIMARY KEY, as_of date NOT NULL)")
    if practice_dates:
        cursor.executemany("INSERT INTO floor_dates VALUES (%s, %s)", sorted(practice_dates.items()))
    cursor.execute("ANALYZE floor_dates")


def run_queue_floor(cursor, practice_dates: dict[int, date], *, zone: str, log) -> dict:
    """The queue floor, timed (open items, then entry scores), then checked against what the job left."""
    cursor.execute("DROP TABLE IF EXISTS floor_open_items, floor_entries")
    create_floor_dates(cursor, practice_dates)
    params = {
        "inquiry_lead": INQUIRY_LEAD_BUSINESS_DAYS,
        # US federal holidays (observed) around the run dates, as the inquiry rule skips them.
        "holidays": sorted(
            {
                day
                for as_of in set(practice_dates.values())
                for year in (as_of.year, as_of.year + 1)
                for day in us_federal_holidays(year)
            }
        ),
        "probate_lead": PROBATE_DEADLINE_LEAD_DAYS,
        "early_max_age": EARLY_FOLLOW_UP_MAX_AGE_DAYS,
        "zone": zone,
    }
    started = time.monotonic()
    cursor.execute(FLOOR_OPEN_ITEMS_SQL, params)
    items_seconds = time.monotonic() - started
    started = time.monotonic()
    cursor.execute("ANALYZE floor_open_items")  # as the job analyzes its work items before scoring
    cursor.execute(floor_entries_sql())
    entries_seconds = time.monotonic() - started
    cursor.execute("SELECT COUNT(*) FROM floor_open_items")
    items = cursor.fetchone()[0]
    cursor.execute("SELECT COUNT(*) FROM floor_entries")
    entries = cursor.fetchone()[0]
    log(
        f"queue floor: {items:,} open items in {items_seconds:.2f} s, "
        f"{entries:,} scored entries in {entries_seconds:.2f} s"
    )
    mismatches = {}
    for label, sql in FLOOR_QUEUE_CHECKS.items():
        cursor.execute(f"SELECT COUNT(*) FROM ({sql}) differences")
        count = cursor.fetchone()[0]
        if count:
            mismatches[label] = count
            cursor.execute(f"SELECT * FROM ({sql}) differences ORDER BY 1, 2 LIMIT 5")
            log(f"  {label}: {count:,}, e.g. {cursor.fetchall()}")
    cursor.execute("DROP TABLE IF EXISTS floor_open_items, floor_entries, floor_dates")
    return {"seconds": items_seconds + entries_seconds, "mismatches": mismatches}
