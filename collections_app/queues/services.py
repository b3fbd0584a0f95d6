"""Queue writes: refreshing work items and queue entries, claiming the next account, releasing it,
reassigning accounts and assigning reps to practices and buckets.

The priority score
------------------
Every QueueEntry gets one score (higher is worked first), computed in SQL by `score_sql()`:

    score = reason weight                      the highest REASON_WEIGHTS of its open reasons (15-50)
          + more reasons                       +3 for each further open reason, at most +9
          + balance factor                     min(patient + insurance balance, $2,500) / $2,500 x 25
          + age factor                         whole weeks since the older of the oldest open item and
                                               the oldest open date of service, at most 26 weeks
                                               (182 days): weeks x 7 / 182 x 15
          + payment history factor             PAYMENT_HISTORY_FACTOR_SQL: 0 for now; a later
                                               factor (payments kept, plans completed) goes there

rounded to cents. Age counts in whole weeks so that a score moves once a week, not every night:
the nightly refresh rewrites only the entries whose score changed (at 1M accounts, rewriting every
entry every night cost ~20 s of the refresh). Ties go to the oldest item first, then the lowest
account id, so the order is total and two reps asking at once see the same list (QUEUE_ORDER).

Claiming
--------
`queue_claim_next` leases the top entry the rep may work for LEASE_MINUTES. A rep holds one lease:
asking again while it is live returns the same account (nothing else is claimed), unless the caller
asks to release it first (`release_current=True`: the "Next account" button on an account page).
A released account is not handed back to the same rep for RECENTLY_WORKED_MINUTES, so "Next"
moves on even when working the account did not change the queue; other reps may take it at once.
On PostgreSQL the candidate row is locked with SELECT ... FOR UPDATE SKIP LOCKED and the lease is
re-checked under the lock, so two reps never hold the same account; on SQLite, IMMEDIATE
transactions serialise writers and give the same guarantee.
"""

from datetime import date, timedelta

from django.core.exceptions import PermissionDenied
from django.db import connection, transaction
from django.db.models import Case, DateField, Exists, F, OuterRef, Q, Value, When
from django.utils import timezone

from accounts.models import PatientAccount, Practice
from accounts.selectors import practice_today
from accounts.services import account_lock
from collections_app.models import QueueEntry, RepAssignment, WorkItem
from collections_app.queues.rules import RULES, book_predicate, reasons_in_bucket
from core.access import FieldGroup, can_see, get_scoped_or_404, practice_ids_for
from core.audit import audit_record
from core.errors import ApplicationError
from core.models import AuditEvent, StaffUser, Tier
from core.request_context import current_request
from core.sql import among

Reason = WorkItem.Reason

LEASE_MINUTES = 30
RECENTLY_WORKED_MINUTES = 10
# How many top candidates per practice one claim attempt reads before locking one of them.
CANDIDATES_PER_PRACTICE = 40
CLAIM_ATTEMPTS = 4

# Reason weights: deadlines and broken commitments first, routine balance work last. Distinct
# values, so the highest weight names the top reason.
REASON_WEIGHTS: dict[str, int] = {
    Reason.PROMISE_BROKEN: 50,
    Reason.INQUIRY_DUE: 48,
    Reason.HOLD_REVIEW: 46,
    Reason.PLAN_LAPSED: 44,
    Reason.APPOINTMENT_PAST_DUE: 42,
    Reason.FINAL_NOTICE: 40,
    Reason.FOLLOW_UP_DUE: 38,
    Reason.RETURNED_MAIL: 32,
    Reason.CLAIM_FOLLOW_UP: 28,
    Reason.PAST_DUE: 25,
    Reason.EARLY_FOLLOW_UP: 15,
}
EXTRA_REASON_POINTS, EXTRA_REASON_CAP = 3, 9
BALANCE_CAP, BALANCE_POINTS = 2500, 25
AGE_CAP_DAYS, AGE_POINTS, AGE_STEP_DAYS = 182, 15, 7
PAYMENT_HISTORY_FACTOR_SQL = "0"

QUEUE_ORDER = ("-score", "oldest_item_on", "account_id")

MESSAGE_NOT_A_REP = "Only billing staff work the queue."
MESSAGE_NOT_YOUR_CLAIM = "Another rep holds this account; only they or a manager can release it."
MESSAGE_NOT_IN_QUEUE = "This account is not in the work queue."
MESSAGE_REP_INACTIVE = "Choose an active billing rep."
MESSAGE_REP_PRACTICE = "That rep does not work this account's practice."
MESSAGE_MANAGERS_ONLY = "Only managers reassign accounts and assign reps."
MESSAGE_ALREADY_ASSIGNED = "That rep is already assigned to this practice and bucket."


# --- Refresh: rules -> work items -> queue entries ---------------------------------------------


def _practices_as_of(as_of_by_practice: dict[int, date]) -> list[tuple[Practice, date]]:
    practices = Practice.objects.in_bulk(list(as_of_by_practice))
    return [(practices[pk], as_of) for pk, as_of in sorted(as_of_by_practice.items()) if pk in practices]


def _open_items(rule, predicate, practices_as_of, now, account_ids) -> int:
    """INSERT ... SELECT the accounts the rule matches that have no open item for its reason."""
    already_open = WorkItem.objects.filter(account=OuterRef("pk"), reason=rule.reason, cleared_at__isnull=True)
    matches = PatientAccount.objects.filter(predicate).filter(~Exists(already_open))
    if account_ids is not None:
        matches = among(matches, "pk", account_ids)
    opened_on = Case(
        *[When(practice_id=practice.pk, then=Value(as_of)) for practice, as_of in practices_as_of],
        output_field=DateField(),
    )
    columns = matches.annotate(q_account=F("pk"), q_practice=F("practice_id"), q_opened_on=opened_on)
    select_sql, params = columns.values_list("q_account", "q_practice", "q_opened_on").query.sql_with_params()
    table = WorkItem._meta.db_table
    # ON CONFLICT: a per-account refresh racing the nightly run finds the item already open.
    sql = (
        f"INSERT INTO {table} (account_id, practice_id, reason, opened_on, opened_at, cleared_because, detail) "
        f"SELECT src.q_account, src.q_practice, %s, src.q_opened_on, %s, '', '{{}}' FROM ({select_sql}) src "
        "WHERE 1 = 1 ON CONFLICT DO NOTHING"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [rule.reason, connection.ops.adapt_datetimefield_value(now), *params])
        return max(cursor.rowcount, 0)


def _clear_items(rule, predicate, practice_ids, now, account_ids) -> int:
    """One UPDATE: open items of the rule's reason whose account the rule no longer matches."""
    items = WorkItem.objects.filter(reason=rule.reason, cleared_at__isnull=True, practice_id__in=practice_ids)
    if account_ids is not None:
        items = among(items, "account_id", account_ids)
    if predicate is not None:
        items = items.filter(~Exists(PatientAccount.objects.filter(predicate, pk=OuterRef("account_id"))))
    return items.update(cleared_at=now, cleared_because=rule.cleared_because)


def _vendor_sql() -> dict[str, str]:
    if connection.vendor == "postgresql":
        return {
            "least": "LEAST({0}, {1})",
            "greatest": "GREATEST({0}, {1})",
            "days": "({0}::date - {1})",
            "json": "CAST({0} AS jsonb)",
            "differs": "{0} IS DISTINCT FROM {1}",
            "round": "ROUND(({0})::numeric, 2)",
        }
    return {
        "least": "MIN({0}, {1})",
        "greatest": "MAX({0}, {1})",
        "days": "CAST(julianday({0}) - julianday({1}) AS INTEGER)",
        "json": "{0}",
        "differs": "{0} IS NOT {1}",
        "round": "ROUND({0}, 2)",
    }


def _weight_case(column: str) -> str:
    whens = " ".join(f"WHEN '{reason}' THEN {weight}" for reason, weight in REASON_WEIGHTS.items())
    return f"CASE {column} {whens} ELSE 0 END"


def score_sql(*, top_weight: str, item_count: str, balance: str, age_days: str) -> str:
    """The priority score as one SQL expression over the given column expressions (module docstring)."""
    sql = _vendor_sql()
    extra = sql["least"].format(f"{EXTRA_REASON_POINTS} * ({item_count} - 1)", EXTRA_REASON_CAP)
    balance_factor = (
        sql["least"].format(sql["greatest"].format(balance, 0), BALANCE_CAP) + f" * {BALANCE_POINTS}.0 / {BALANCE_CAP}"
    )
    # Integer division on both databases (the day count is an integer): whole weeks.
    capped_days = sql["least"].format(sql["greatest"].format(age_days, 0), AGE_CAP_DAYS)
    age_factor = f"({capped_days} / {AGE_STEP_DAYS}) * {AGE_STEP_DAYS} * {AGE_POINTS}.0 / {AGE_CAP_DAYS}"
    return sql["round"].format(
        f"{top_weight} + {extra} + {balance_factor} + {age_factor} + {PAYMENT_HISTORY_FACTOR_SQL}"
    )


def _rebuild_entries(practices_as_of, now, account_ids) -> tuple[int, int]:
    """Upsert one QueueEntry per account with open items (claims kept), delete the rest."""
    sql = _vendor_sql()
    practice_ids = [practice.pk for practice, _ in practices_as_of]
    placeholders = ", ".join(["%s"] * len(practice_ids))
    scope_params: list = list(practice_ids)
    item_scope = f"w.practice_id IN ({placeholders})"
    account_scope = ""
    if account_ids is not None and connection.vendor == "postgresql":
        item_scope += " AND w.account_id = ANY(%s::bigint[])"
        account_scope = " AND account_id = ANY(%s::bigint[])"
        scope_params.append(list(account_ids))
    elif account_ids is not None:
        account_placeholders = ", ".join(["%s"] * len(account_ids))
        item_scope += f" AND w.account_id IN ({account_placeholders})"
        account_scope = f" AND account_id IN ({account_placeholders})"
        scope_params.extend(account_ids)
    as_of_case = "CASE a.practice_id " + " ".join("WHEN %s THEN %s" for _ in practices_as_of) + " END"
    adapt_date = connection.ops.adapt_datefield_value
    as_of_params = [value for practice, as_of in practices_as_of for value in (practice.pk, adapt_date(as_of))]
    weight = _weight_case("w.reason")
    reasons_by_weight = sorted(REASON_WEIGHTS, key=REASON_WEIGHTS.get, reverse=True)
    reason_list = " || ".join(
        f"MAX(CASE WHEN w.reason = '{reason}' THEN '\"{reason}\",' ELSE '' END)" for reason in reasons_by_weight
    )
    reasons_json = sql["json"].format(f"'[' || RTRIM({reason_list}, ',') || ']'")
    top_reason = "CASE i.top_weight " + " ".join(f"WHEN {w} THEN '{r}'" for r, w in REASON_WEIGHTS.items()) + " END"
    since = sql["least"].format("i.oldest_item_on", "COALESCE(ag.oldest_open_service_on, i.oldest_item_on)")
    score = score_sql(
        top_weight="i.top_weight",
        item_count="i.item_count",
        balance="(a.patient_balance + a.insurance_balance)",
        age_days=sql["days"].format(as_of_case, since),
    )
    table = QueueEntry._meta.db_table
    updated = ("practice_id", "assigned_rep_id", "score", "top_reason", "reasons", "oldest_item_on")
    changed = " OR ".join(sql["differs"].format(f"{table}.{column}", f"excluded.{column}") for column in updated)
    upsert = f"""
        INSERT INTO {table} (account_id, practice_id, assigned_rep_id, score, top_reason, reasons, oldest_item_on,
                             updated_at)
        SELECT i.account_id, a.practice_id, a.assigned_rep_id, {score}, {top_reason}, i.reasons, i.oldest_item_on, %s
        FROM (
            SELECT w.account_id, MAX({weight}) AS top_weight, COUNT(*) AS item_count,
                   MIN(w.opened_on) AS oldest_item_on, {reasons_json} AS reasons
            FROM {WorkItem._meta.db_table} w
            WHERE w.cleared_at IS NULL AND {item_scope}
            GROUP BY w.account_id
        ) i
        JOIN {PatientAccount._meta.db_table} a ON a.id = i.account_id
        LEFT JOIN accounts_accountagingstate ag ON ag.account_id = a.id
        WHERE 1 = 1
        ON CONFLICT (account_id) DO UPDATE SET
            {", ".join(f"{column} = excluded.{column}" for column in updated)}, updated_at = excluded.updated_at
        WHERE {changed}
    """
    entry_scope = f"practice_id IN ({placeholders})" + account_scope
    delete = f"""
        DELETE FROM {table} WHERE {entry_scope} AND NOT EXISTS (
            SELECT 1 FROM {WorkItem._meta.db_table} w WHERE w.account_id = {table}.account_id AND w.cleared_at IS NULL
        )
    """
    with connection.cursor() as cursor:
        cursor.execute(upsert, [*as_of_params, connection.ops.adapt_datetimefield_value(now), *scope_params])
        upserted = max(cursor.rowcount, 0)
        cursor.execute(delete, scope_params)
        deleted = max(cursor.rowcount, 0)
    return upserted, deleted


def _refresh(practices_as_of, *, account_ids: list[int] | None = None) -> dict[str, int]:
    now = timezone.now()
    practice_ids = [practice.pk for practice, _ in practices_as_of]
    counts = {"opened": 0, "cleared": 0}
    # Only open items are cleared: for a few accounts, ask once which have any (a batch of new
    # accounts from an import has none) instead of running every rule's clearing UPDATE.
    with_open = account_ids
    if account_ids is not None:
        open_items = among(WorkItem.objects.filter(cleared_at__isnull=True), "account_id", account_ids)
        with_open = list(open_items.values_list("account_id", flat=True).distinct())
    for rule in RULES:
        predicate = book_predicate(rule, practices_as_of)
        cleared = _clear_items(rule, predicate, practice_ids, now, with_open) if with_open != [] else 0
        opened = _open_items(rule, predicate, practices_as_of, now, account_ids) if predicate is not None else 0
        counts["opened"] += opened
        counts["cleared"] += cleared
        if opened or cleared:
            counts[f"opened_{rule.reason}"] = opened
            counts[f"cleared_{rule.reason}"] = cleared
    if account_ids is None and connection.vendor == "postgresql" and (counts["opened"] or counts["cleared"]):
        # The entry rebuild groups the items just written: plan it on their real numbers.
        with connection.cursor() as cursor:
            cursor.execute(f"ANALYZE {WorkItem._meta.db_table}")
    counts["entries_written"], counts["entries_removed"] = _rebuild_entries(practices_as_of, now, account_ids)
    return counts


@transaction.atomic
def queue_refresh(*, as_of_by_practice: dict[int, date]) -> dict[str, int]:
    """Re-evaluate every rule over the whole book (each practice on its own local date), set-based:
    per reason one INSERT ... SELECT and one UPDATE, then one upsert and one DELETE of queue
    entries. Running it again for the same dates opens and clears nothing."""
    practices_as_of = _practices_as_of(as_of_by_practice)
    if not practices_as_of:
        return {"opened": 0, "cleared": 0, "entries_written": 0, "entries_removed": 0}
    return _refresh(practices_as_of)


@transaction.atomic
def queue_refresh_account(*, account_id: int) -> None:
    """Re-evaluate every queue rule for one account now (after a payment, an address correction, a
    hold placed or released, an inquiry answered...): open items that now apply, clear the rest."""
    account = PatientAccount.objects.select_related("practice").filter(pk=account_id).first()
    if account is None:
        return
    _refresh([(account.practice, practice_today(account.practice))], account_ids=[account_id])


# At most this many accounts per refresh statement (SQLite allows 32,766 parameters a statement;
# PostgreSQL takes them as one array parameter).
REFRESH_ACCOUNTS_PER_STATEMENT = 1000
REFRESH_ACCOUNTS_PER_STATEMENT_POSTGRESQL = 10_000


@transaction.atomic
def queue_refresh_accounts(*, account_ids) -> None:
    """queue_refresh_account for many accounts at once (after a batch of postings), set-based as
    the nightly refresh is: per rule one INSERT ... SELECT and one UPDATE over those accounts, each
    practice on its own local date. Leaves the queue as refreshing each account alone would."""
    wanted = sorted(set(account_ids))
    if not wanted:
        return
    step = REFRESH_ACCOUNTS_PER_STATEMENT
    if connection.vendor == "postgresql":
        step = REFRESH_ACCOUNTS_PER_STATEMENT_POSTGRESQL
    for start in range(0, len(wanted), step):
        chunk = wanted[start : start + step]
        practice_ids = set(among(PatientAccount.objects, "pk", chunk).values_list("practice_id", flat=True).distinct())
        if not practice_ids:
            continue
        practices = Practice.objects.in_bulk(list(practice_ids))
        practices_as_of = [(practices[pk], practice_today(practices[pk])) for pk in sorted(practices)]
        _refresh(practices_as_of, account_ids=chunk)


# --- Claiming the next account -----------------------------------------------------------------


def _require_billing(user) -> None:
    if not can_see(user, FieldGroup.BILLING):
        raise PermissionDenied(MESSAGE_NOT_A_REP)


def _rep_scope(user) -> list[tuple[int, list[str] | None]]:
    """(practice id, reasons or None for all work) the rep may work: their practices, narrowed by
    their RepAssignment rows (a practice and a bucket each) when they have any."""
    practice_ids = practice_ids_for(user)
    assignments = list(RepAssignment.objects.filter(rep=user).values_list("practice_id", "bucket"))
    if not assignments:
        return [(practice_id, None) for practice_id in practice_ids]
    reasons: dict[int, set[str] | None] = {}
    for practice_id, bucket in assignments:
        if practice_id not in practice_ids:
            continue
        if bucket == RepAssignment.Bucket.ALL or reasons.get(practice_id, set()) is None:
            reasons[practice_id] = None
        else:
            reasons.setdefault(practice_id, set()).update(reasons_in_bucket(bucket))
    return [(pk, None if found is None else sorted(found)) for pk, found in sorted(reasons.items())]


def _in_scope(practice_id: int, reasons: list[str] | None) -> Q:
    condition = Q(practice_id=practice_id)
    if reasons is not None:
        open_in_bucket = WorkItem.objects.filter(
            account=OuterRef("account_id"), cleared_at__isnull=True, reason__in=reasons
        )
        condition &= Exists(open_in_bucket)
    return condition


def _mine_or_nobodys(user) -> Q:
    return Q(assigned_rep=user) | Q(assigned_rep__isnull=True)


def workable_entries(*, user):
    """Queue entries this rep may work (leased or not): see `_rep_scope`, assigned to them or to nobody."""
    allowed = Q(pk__in=[])
    for practice_id, reasons in _rep_scope(user):
        allowed |= _in_scope(practice_id, reasons)
    return QueueEntry.objects.filter(allowed).filter(_mine_or_nobodys(user))


def _lease_free(now) -> Q:
    return Q(claim_expires_at__isnull=True) | Q(claim_expires_at__lte=now)


def _candidate_ids(user, now, per_practice: int) -> list[int]:
    """The top free entries of each practice the rep works, read without locks: per practice one
    index walk (queue_practice_score), all in one UNION ALL on PostgreSQL. One ordered query over
    several practices would sort every entry they hold."""
    recently_mine = Q(claimed_by=user, claim_expires_at__gt=now - timedelta(minutes=RECENTLY_WORKED_MINUTES))
    free = QueueEntry.objects.filter(_lease_free(now), _mine_or_nobodys(user)).exclude(recently_mine)
    tops = [
        free.filter(_in_scope(practice_id, reasons))
        .order_by(*QUEUE_ORDER)
        .values_list("account_id", flat=True)[:per_practice]
        for practice_id, reasons in _rep_scope(user)
    ]
    if not tops:
        return []
    if connection.features.supports_slicing_ordering_in_compound and len(tops) > 1:
        return list(tops[0].union(*tops[1:], all=True))
    return [account_id for top in tops for account_id in top]


def _lease_one(user, ids: list[int], now, expires) -> int | None:
    """Lease the best still-free candidate in one statement. On PostgreSQL the row is locked with
    FOR UPDATE SKIP LOCKED (a row another rep is leasing right now is skipped, and a row they
    leased meanwhile fails the re-checked lease condition); SQLite serialises writers."""
    table = QueueEntry._meta.db_table
    lock = " FOR UPDATE SKIP LOCKED" if connection.features.has_select_for_update_skip_locked else ""
    marks = ", ".join(["%s"] * len(ids))
    sql = f"""
        UPDATE {table} SET claimed_by_id = %s, claim_expires_at = %s, updated_at = %s
        WHERE account_id = (
            SELECT account_id FROM {table}
            WHERE account_id IN ({marks})
              AND (claim_expires_at IS NULL OR claim_expires_at <= %s)
              AND (assigned_rep_id = %s OR assigned_rep_id IS NULL)
            ORDER BY score DESC, oldest_item_on, account_id
            LIMIT 1{lock}
        )
        RETURNING account_id
    """
    adapt = connection.ops.adapt_datetimefield_value
    with connection.cursor() as cursor:
        cursor.execute(sql, [user.pk, adapt(expires), adapt(now), *ids, adapt(now), user.pk])
        row = cursor.fetchone()
    return row[0] if row else None


def _claim_audit_row(user, account_id: int, practice_id: int, action: str, **detail) -> AuditEvent:
    context = current_request.get()
    return AuditEvent(
        user=user,
        username=user.get_username(),
        action=AuditEvent.Action.UPDATE,
        object_type="collections_app.queueentry",
        object_id=str(account_id),
        practice_id=practice_id,
        field_group=str(FieldGroup.BILLING),
        client_address=context.client_address,
        request_id=context.request_id,
        detail={"queue": action, **detail},
    )


def _audit_claim(user, entry: QueueEntry, action: str, **detail) -> None:
    _claim_audit_row(user, entry.account_id, entry.practice_id, action, **detail).save()


def _release_held(user, now) -> list[tuple[int, int]]:
    """End the rep's live leases in one statement; (account id, practice id) of each."""
    table = QueueEntry._meta.db_table
    adapt = connection.ops.adapt_datetimefield_value
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET claim_expires_at = %s, updated_at = %s WHERE claimed_by_id = %s "
            "AND claim_expires_at > %s RETURNING account_id, practice_id",
            [adapt(now), adapt(now), user.pk, adapt(now)],
        )
        return list(cursor.fetchall())


ENTRY_WITH_ACCOUNT = ("account", "account__practice", "account__patient")


def _account_of(entry: QueueEntry) -> PatientAccount:
    account = entry.account
    account.queue_entry = entry
    return account


@transaction.atomic
def queue_claim_next(
    *, acting_user, lease_minutes: int = LEASE_MINUTES, release_current: bool = False
) -> PatientAccount | None:
    """Lease the highest-scored account this rep may work and return it (its `queue_entry` holds
    the reasons and the lease), or None when nothing is left. See the module docstring."""
    _require_billing(acting_user)
    now = timezone.now()
    audits = []
    if release_current:
        audits = [_claim_audit_row(acting_user, *held, "release") for held in _release_held(acting_user, now)]
    else:
        held = QueueEntry.objects.filter(claimed_by=acting_user, claim_expires_at__gt=now)
        entry = held.select_related(*ENTRY_WITH_ACCOUNT).first()
        if entry is not None:
            return _account_of(entry)
    expires = now + timedelta(minutes=lease_minutes)
    per_practice = CANDIDATES_PER_PRACTICE
    for _ in range(CLAIM_ATTEMPTS):
        ids = _candidate_ids(acting_user, now, per_practice)
        if not ids:
            break
        account_id = _lease_one(acting_user, ids, now, expires)
        if account_id is not None:
            entry = QueueEntry.objects.select_related(*ENTRY_WITH_ACCOUNT).get(pk=account_id)
            audits.append(_claim_audit_row(acting_user, account_id, entry.practice_id, "claim", minutes=lease_minutes))
            AuditEvent.objects.bulk_create(audits)
            return _account_of(entry)
        per_practice *= 2  # every candidate was taken meanwhile: look further down
    AuditEvent.objects.bulk_create(audits)
    return None


@transaction.atomic
def queue_release(*, acting_user, account_id: int) -> QueueEntry:
    """End a lease: the rep's own, or (managers) anyone's. The account stays in the queue."""
    _require_billing(acting_user)
    entry = get_scoped_or_404(QueueEntry.objects.select_for_update(), acting_user, account_id=account_id)
    now = timezone.now()
    live = entry.claim_expires_at is not None and entry.claim_expires_at > now
    if not live:
        return entry
    if entry.claimed_by_id != acting_user.pk and not can_see(acting_user, FieldGroup.MANAGEMENT):
        raise ApplicationError(MESSAGE_NOT_YOUR_CLAIM)
    entry.claim_expires_at = now
    entry.save(update_fields=["claim_expires_at", "updated_at"])
    _audit_claim(acting_user, entry, "release", claimed_by=entry.claimed_by_id)
    return entry


@transaction.atomic
def queue_claim_extend(*, acting_user, account_id: int, lease_minutes: int = LEASE_MINUTES) -> QueueEntry | None:
    """Working the account keeps it: the rep's live lease runs `lease_minutes` from now again. Not
    the rep's, or not live: nothing changes (another rep's claim is never taken this way)."""
    _require_billing(acting_user)
    entry = get_scoped_or_404(QueueEntry.objects.select_for_update(), acting_user, account_id=account_id)
    now = timezone.now()
    if entry.claimed_by_id != acting_user.pk or entry.claim_expires_at is None or entry.claim_expires_at <= now:
        return None
    entry.claim_expires_at = now + timedelta(minutes=lease_minutes)
    entry.save(update_fields=["claim_expires_at", "updated_at"])
    return entry


# --- Managers: reassigning accounts, assigning reps ---------------------------------------------


def _require_manager(user) -> None:
    if not can_see(user, FieldGroup.MANAGEMENT):
        raise PermissionDenied(MESSAGE_MANAGERS_ONLY)


def _check_rep_for_practice(rep_id, practice_id: int, *, field: str = "rep") -> StaffUser:
    rep = StaffUser.objects.filter(pk=rep_id).first()
    if rep is None or not rep.is_active or rep.tier < Tier.MEDIUM:
        raise ApplicationError(MESSAGE_REP_INACTIVE, field=field)
    if practice_id not in practice_ids_for(rep):
        raise ApplicationError(MESSAGE_REP_PRACTICE, field=field)
    return rep


@transaction.atomic
def account_reassign(*, acting_user, account_id: int, rep_id: int | None) -> PatientAccount:
    """Give an account to a rep (an active Medium+ user who works its practice), or to nobody."""
    _require_manager(acting_user)
    get_scoped_or_404(PatientAccount.objects.all(), acting_user, pk=account_id)
    account = account_lock(account_id=account_id)
    rep = None if rep_id is None else _check_rep_for_practice(rep_id, account.practice_id)
    previous = account.assigned_rep_id
    new = rep.pk if rep else None
    if previous == new:
        return account
    account.assigned_rep = rep
    account.save(update_fields=["assigned_rep"])
    QueueEntry.objects.filter(account_id=account.pk).update(assigned_rep=rep, updated_at=timezone.now())
    audit_record(
        user=acting_user,
        action=AuditEvent.Action.UPDATE,
        obj=account,
        field_group=FieldGroup.MANAGEMENT,
        detail={"fields": ["assigned_rep"], "from_rep": previous, "to_rep": new},
    )
    account.refresh_from_db()
    return account


@transaction.atomic
def rep_assignment_create(*, acting_user, rep_id: int, practice_id: int, bucket: str) -> RepAssignment:
    _require_manager(acting_user)
    practice = get_scoped_or_404(Practice.objects.all(), acting_user, practice_field="id", pk=practice_id)
    if bucket not in RepAssignment.Bucket.values:
        raise ApplicationError("Choose a bucket of work.", field="bucket")
    rep = _check_rep_for_practice(rep_id, practice.pk)
    if RepAssignment.objects.filter(rep=rep, practice=practice, bucket=bucket).exists():
        raise ApplicationError(MESSAGE_ALREADY_ASSIGNED, field="bucket")
    assignment = RepAssignment.objects.create(rep=rep, practice=practice, bucket=bucket, assigned_by=acting_user)
    audit_record(
        user=acting_user,
        action=AuditEvent.Action.ACCESS_CHANGE,
        obj=assignment,
        field_group=FieldGroup.MANAGEMENT,
        detail={"change": "assigned", "rep": rep.pk, "practice": practice.pk, "bucket": bucket},
    )
    return assignment


@transaction.atomic
def rep_assignment_delete(*, acting_user, assignment_id: int) -> None:
    _require_manager(acting_user)
    assignment = get_scoped_or_404(RepAssignment.objects.select_for_update(), acting_user, pk=assignment_id)
    audit_record(
        user=acting_user,
        action=AuditEvent.Action.ACCESS_CHANGE,
        obj=assignment,
        field_group=FieldGroup.MANAGEMENT,
        detail={
            "change": "unassigned",
            "rep": assignment.rep_id,
            "practice": assignment.practice_id,
            "bucket": assignment.bucket,
        },
    )
    assignment.delete()
