"""The statement cycle: which guarantors get a statement or dunning letter tonight, per practice
policy, and the batch that prints them (nightly job `statement_cycle`, reports/jobs.py).

Who gets one, on a practice's local date D:
- An account takes part when it owes (patient balance over zero), is active or on a payment plan,
  and nothing suppresses it (below). A guarantor gets ONE statement covering all their taking-part
  accounts in the practice (`Statement.covers`), filed under the account with the oldest open
  balance (then the largest balance, then the lowest id).
- Cadence: an account is due when no statement or letter of the cycle's kinds has covered it in
  the last `Practice.statement_cycle_days` days. A guarantor is due when one of their accounts is.
- At most one statement per guarantor in `Practice.statement_guarantor_min_days` days (at least one
  day: a second run for D finds D's statements and sends nothing).
- Minimum balance: the guarantor's combined patient balance over their taking-part accounts is at
  least `Practice.statement_min_balance`.

Suppressed (each account counted once, under the first reason in this order; the batch keeps the
counts, in words, among accounts that were due and whose guarantor was not written to lately):
1. placed with a collection agency (status "agency" or a placement still at the agency);
2. on hold: any hold reason or an active hold row (holds.selectors.collection_paused_q);
3. cease-communication (FDCPA 15 USC 1692c(c));
4. represented by an attorney (a Letter of Protection; 1692c(a)(2): the attorney, not the patient);
5. a bad address: returned mail, or none on file (the rest of correspondence.selectors.mailable_q,
   the one rule for mailing a patient, which also covers 2-4);
6. insurance still pending: a claim on the account is submitted, pending or under appeal, so the
   patient's share is not known yet;
7. the guarantor's combined balance is under the practice's statement minimum.

Dunning level (Statement.dunning_level: 0 statement, 1-3 the 30/60/90-day letters, 4 final
notice). It advances one step per statement sent for the same balance and never past what the
balance's age allows:
    level = min(cap(age), previous + 1), or min(cap(age), 0) with no previous
- age: days from the oldest open date of service over the covered accounts not on a payment plan
  (the nightly aging snapshot, accounts.AccountAgingState); accounts on a plan stay at level 0.
- cap: 0 up to 30 days, 1 at 31-60, 2 at 61-90, 3 over 90, 4 over max(90, the practice's
  final_notice_after_days).
- previous: the level of the guarantor's last statement of the cycle's kinds, when it was dated on
  or after that oldest open date of service (a statement about a balance since paid does not count).
So a balance billed every 30 days from its first week goes statement, 30, 60, 90 and the final
notice at about 120 days; later statements stay at the final notice until the account is placed.
The final notice's pay-by date is 30 days on (agencies.rules.FINAL_NOTICE_WAIT_DAYS: when it may be
placed); the others' is the practice's statement_grace_days.

Records: one StatementBatch per practice and date (statement count, total, suppressed counts), the
Statement rows (content frozen by documents.statement_contents, mailed on D), their covers, the
account's first_statement_on where empty (IRS 501(r) counts 120 days from it), a contact-log letter
per covered account (the final notice one is what agency candidates wait 30 days after), and an
audit row per statement. A statement whose patient consented to statements by email goes by email
only (emailing.emailable_q, as of D): it gets no letter here, and its contact-log entry is the email
when batch printing sends it (or the letter mailed instead, when the email fails).

Set-based: ONE query selects for every practice (each on its own date): the rules are the ORM
filters here, compiled to SQL and wrapped in a window over each guarantor's accounts, so each
account's first reason and cadence are computed once and the candidates and the suppressed come back
together; then bulk inserts. Idempotent per date: a practice with a cycle batch for D is skipped
(and the guarantor interval alone would send nothing twice). After commit the batch is handed to
batch printing (batch.batch_print_start).
"""

from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from django.db import connection, transaction
from django.db.models import (
    Case,
    Exists,
    F,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Value,
    When,
)
from django.utils import timezone

from accounts.models import Claim, PatientAccount, Practice
from accounts.money import ZERO, to_money
from collections_app.agencies.rules import FINAL_NOTICE_WAIT_DAYS, placed_exists
from collections_app.correspondence.selectors import mailable_q
from collections_app.holds.selectors import collection_paused_q
from collections_app.models import Contact
from collections_app.queues.rules import per_practice
from core.access import FieldGroup
from core.audit import audit_job_changes
from core.models import AuditEvent
from reports.models import Statement, StatementBatch
from reports.statements import emailing

JOB = "statement_cycle"
Kind = Statement.Kind
Status = PatientAccount.Status

# The documents the cycle sends and counts for its intervals, by dunning level.
KIND_OF_LEVEL = {
    0: Kind.STATEMENT,
    1: Kind.DUNNING_30,
    2: Kind.DUNNING_60,
    3: Kind.DUNNING_90,
    4: Kind.FINAL_NOTICE,
}
CYCLE_KINDS = tuple(KIND_OF_LEVEL.values())
FINAL_LEVEL = 4
# Ages (days from the oldest open date of service) above which levels 1, 2 and 3 may go out.
LEVEL_AGE_DAYS = (30, 60, 90)
TAKING_PART_STATUSES = (Status.ACTIVE, Status.PAYMENT_PLAN)
PENDING_CLAIM_STATUSES = (Claim.Status.SUBMITTED, Claim.Status.PENDING, Claim.Status.APPEALED)
INSERT_BATCH = 1000

# Suppression reasons as the batch list shows them, in the order an account is counted.
REASON_AGENCY = "Placed with a collection agency"
REASON_HOLD = "On hold"
REASON_CEASE = "Asked us to stop contact"
REASON_ATTORNEY = "Represented by an attorney"
REASON_ADDRESS = "Returned mail or no address on file"
REASON_INSURANCE = "Insurance still pending"
REASON_MINIMUM = "Balance under the statement minimum"
REASONS = (
    REASON_AGENCY,
    REASON_HOLD,
    REASON_CEASE,
    REASON_ATTORNEY,
    REASON_ADDRESS,
    REASON_INSURANCE,
    REASON_MINIMUM,
)

CONTACT_OUTCOME = {
    Kind.STATEMENT: Contact.Outcome.STATEMENT_SENT,
    Kind.DUNNING_30: Contact.Outcome.LETTER_SENT,
    Kind.DUNNING_60: Contact.Outcome.LETTER_SENT,
    Kind.DUNNING_90: Contact.Outcome.LETTER_SENT,
    Kind.FINAL_NOTICE: Contact.Outcome.FINAL_NOTICE_SENT,
}
CONTACT_NOTE = "{kind}, mailed by the statement cycle (statement {number})"


# --- the rules as filters on PatientAccount ------------------------------------------------------


def insurance_pending_q() -> Q:
    """A claim on the account the payer has not settled: submitted, pending or under appeal."""
    return Q(Exists(Claim.objects.filter(account=OuterRef("pk"), status__in=PENDING_CLAIM_STATUSES)))


def at_agency_q() -> Q:
    return Q(status=Status.AGENCY) | Q(placed_exists())


def suppression_rules() -> list[tuple[str, Q]]:
    """(reason, the accounts it applies to) for the account-level reasons, in counting order. The
    bad-address rule is what is left of mailable_q once holds, cease and attorney are counted."""
    return [
        (REASON_AGENCY, at_agency_q()),
        (REASON_HOLD, collection_paused_q()),
        (REASON_CEASE, Q(cease_communication_on__isnull=False)),
        (REASON_ATTORNEY, Q(attorney_represented=True)),
        (REASON_ADDRESS, ~mailable_q()),
        (REASON_INSURANCE, insurance_pending_q()),
    ]


def taking_part_q() -> Q:
    """Accounts a statement may list: owing, active or on a plan, and nothing suppressing them."""
    return (
        Q(patient_balance__gt=0, status__in=TAKING_PART_STATUSES)
        & ~Q(placed_exists())
        & mailable_q()
        & ~insurance_pending_q()
    )


def _cycle_statements() -> QuerySet:
    return Statement.objects.filter(kind__in=CYCLE_KINDS)


def _pairs(practices_as_of: dict[Practice, date]) -> list[tuple[Practice, date]]:
    return sorted(practices_as_of.items(), key=lambda item: item[0].pk)


def account_due_q(practices_as_of: dict[Practice, date]) -> Q:
    """No statement of the cycle has covered the account in its practice's cadence. Each
    practice's cut-off sits inside the subquery (queues.rules.per_practice), so the NOT EXISTS
    stays one anti-join over every practice."""

    def since(practice, as_of):
        return Q(statement__statement_date__gt=as_of - timedelta(days=max(practice.statement_cycle_days, 1)))

    recent = Statement.covers.through.objects.filter(
        per_practice(_pairs(practices_as_of), since, practice_field="statement__practice_id"),
        patientaccount_id=OuterRef("pk"),
        statement__kind__in=CYCLE_KINDS,
    )
    return ~Q(Exists(recent))


def guarantor_free_q(practices_as_of: dict[Practice, date]) -> Q:
    """The guarantor has had no statement of the cycle in the practice's guarantor interval."""

    def since(practice, as_of):
        return Q(statement_date__gt=as_of - timedelta(days=max(practice.statement_guarantor_min_days, 1)))

    recent = _cycle_statements().filter(
        per_practice(_pairs(practices_as_of), since), guarantor_id=OuterRef("guarantor_id")
    )
    return ~Q(Exists(recent))


def _in_practices(practices_as_of) -> Q:
    return Q(practice_id__in=sorted(practice.pk for practice in practices_as_of))


# --- selection -----------------------------------------------------------------------------------


@dataclass
class GuarantorStatement:
    guarantor_id: int
    account_ids: list[int]  # the account it is filed under first
    balances: dict[int, Decimal]
    amount: Decimal
    dunning_level: int
    oldest_open_service_on: date | None


@dataclass
class Selection:
    practice: Practice
    as_of: date
    statements: list[GuarantorStatement] = field(default_factory=list)
    suppressed: dict[str, int] = field(default_factory=dict)

    @property
    def total(self) -> Decimal:
        return sum((row.amount for row in self.statements), ZERO)


def level_cap(practice: Practice, age_days: int | None) -> int:
    """The highest dunning level a balance of this age allows."""
    if age_days is None:
        return 0
    if age_days > max(LEVEL_AGE_DAYS[-1], practice.final_notice_after_days):
        return FINAL_LEVEL
    return sum(1 for days in LEVEL_AGE_DAYS if age_days > days)


def dunning_level(
    practice: Practice, as_of: date, oldest: date | None, last_on: date | None, last_level: int | None
) -> int:
    age = (as_of - oldest).days if oldest is not None else None
    cap = level_cap(practice, age)
    if last_on is None or last_level is None or oldest is None or last_on < oldest:
        return min(cap, 0)
    return min(cap, last_level + 1)


def _first_reason() -> Case:
    """The position in suppression_rules() of the account's first reason; NULL when none applies
    (a CASE tries its WHENs in order, so an account is counted once, under its first reason)."""
    return Case(
        *(When(rule, then=Value(position)) for position, (_, rule) in enumerate(suppression_rules())),
        default=None,
        output_field=IntegerField(),
    )


def _base_rows(practices_as_of: dict[Practice, date]) -> QuerySet:
    """Owing accounts of guarantors the interval leaves free, with their first suppression reason
    and whether the account is due by its cadence: every rule is the ORM filter above. Columns are
    named (b_*) for the SQL that wraps it."""
    due = Case(When(account_due_q(practices_as_of), then=Value(1)), default=Value(0), output_field=IntegerField())
    return (
        PatientAccount.objects.filter(_in_practices(practices_as_of), patient_balance__gt=0)
        .exclude(status=Status.CLOSED)
        .filter(guarantor_free_q(practices_as_of))
        .annotate(
            b_id=F("pk"),
            b_practice=F("practice_id"),
            b_guarantor=F("guarantor_id"),
            b_status=F("status"),
            b_balance=F("patient_balance"),
            b_reason=_first_reason(),
            b_due=due,
            b_oldest=F("aging__oldest_open_service_on"),
        )
        .order_by()
        .values_list("b_id", "b_practice", "b_guarantor", "b_status", "b_balance", "b_reason", "b_due", "b_oldest")
    )


# One pass over the base rows (reason and due flag computed once per account): the taking-part
# accounts of guarantors with a due account, and the suppressed accounts that were due. The rules
# are the ORM's SQL (_base_rows); only the window and the last-statement lookups are written here.
# The base rows are a MATERIALIZED CTE: inlined, PostgreSQL evaluated the reason CASE and the due
# flag (their hashed subplans) twice per account, above the parallel scan (4.5 s instead of 3.0 s
# at 1M accounts).
SELECTION_SQL = """
WITH b AS MATERIALIZED ({base})
SELECT t.b_id, t.b_practice, t.b_guarantor, t.b_status, t.b_balance, t.b_reason, t.b_oldest,
       CASE WHEN t.b_reason IS NULL THEN (SELECT s.statement_date FROM reports_statement s
            WHERE s.guarantor_id = t.b_guarantor AND s.kind IN ({kinds})
            ORDER BY s.statement_date DESC, s.id DESC LIMIT 1) END AS last_on,
       CASE WHEN t.b_reason IS NULL THEN (SELECT s.dunning_level FROM reports_statement s
            WHERE s.guarantor_id = t.b_guarantor AND s.kind IN ({kinds})
            ORDER BY s.statement_date DESC, s.id DESC LIMIT 1) END AS last_level
FROM (
    SELECT b.b_id, b.b_practice, b.b_guarantor, b.b_status, b.b_balance, b.b_reason, b.b_due, b.b_oldest,
           MAX(CASE WHEN b.b_reason IS NULL AND b.b_status IN ({taking}) THEN b.b_due ELSE 0 END)
               OVER (PARTITION BY b.b_guarantor) AS guarantor_due
    FROM b
) t
WHERE (t.b_reason IS NULL AND t.b_status IN ({taking}) AND t.guarantor_due = 1)
   OR (t.b_reason IS NOT NULL AND t.b_due = 1)
ORDER BY t.b_guarantor, t.b_id
"""


def _as_date(value) -> date | None:
    return date.fromisoformat(value) if isinstance(value, str) else value


def _as_money(value) -> Decimal:
    # PostgreSQL returns numeric as Decimal; SQLite may return its REAL: through str, to cents.
    return to_money(value if isinstance(value, Decimal) else str(value))


def selection_rows(practices_as_of: dict[Practice, date]) -> list[tuple]:
    """The one selection query: (id, practice, guarantor, status, balance, reason position or
    None, oldest open date of service, guarantor's last cycle statement date and level)."""
    base_sql, params = _base_rows(practices_as_of).query.sql_with_params()
    taking = ", ".join(f"'{status}'" for status in TAKING_PART_STATUSES)
    kinds = ", ".join(f"'{kind}'" for kind in CYCLE_KINDS)
    sql = SELECTION_SQL.format(base=base_sql, taking=taking, kinds=kinds)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return [
            (pk, practice_id, guarantor_id, status, _as_money(balance), reason, _as_date(oldest), _as_date(last_on),
             last_level)
            for pk, practice_id, guarantor_id, status, balance, reason, oldest, last_on, last_level in cursor.fetchall()
        ]  # fmt: skip


def cycle_selections(practices_as_of: dict[Practice, date]) -> dict[int, Selection]:
    """Who gets what in each practice on its date, and how many accounts were left out and why:
    one query, whatever the number of practices."""
    selections = {practice.pk: Selection(practice=practice, as_of=as_of) for practice, as_of in practices_as_of.items()}
    if not selections:
        return selections
    reasons = [reason for reason, _ in suppression_rules()]
    for selection in selections.values():
        selection.suppressed = {**dict.fromkeys(reasons, 0), REASON_MINIMUM: 0}
    groups: dict[int, list] = {}
    for row in selection_rows(practices_as_of):
        if row[5] is not None:
            selections[row[1]].suppressed[reasons[row[5]]] += 1
        else:
            groups.setdefault(row[2], []).append(row)
    for guarantor_id, rows in groups.items():
        selection = selections[rows[0][1]]
        practice, as_of = selection.practice, selection.as_of
        total = sum((row[4] for row in rows), ZERO)
        if total < practice.statement_min_balance:
            selection.suppressed[REASON_MINIMUM] += len(rows)
            continue
        unplanned = [row[6] for row in rows if row[3] != Status.PAYMENT_PLAN and row[6] is not None]
        oldest = min(unplanned) if unplanned else None
        # Filed under the oldest open balance (an account with no aging row sorts last), then the largest.
        ordered = sorted(rows, key=lambda row: (row[6] is None, row[6] or as_of, -row[4], row[0]))
        selection.statements.append(
            GuarantorStatement(
                guarantor_id=guarantor_id,
                account_ids=[row[0] for row in ordered],
                balances={row[0]: row[4] for row in rows},
                amount=total,
                dunning_level=dunning_level(practice, as_of, oldest, rows[0][7], rows[0][8]),
                oldest_open_service_on=oldest,
            )
        )
    return selections


def cycle_selection(practice: Practice, as_of: date) -> Selection:
    return cycle_selections({practice: as_of})[practice.pk]


# --- production ----------------------------------------------------------------------------------


def _statement_contents_function():
    from reports.statements.documents import statement_contents

    return statement_contents


def _print_start_function():
    try:
        from reports.statements.batch import batch_print_start
    except ImportError:  # batch printing not installed yet: the batch waits on the list page
        return None
    return batch_print_start


def pay_by_for(practice: Practice, as_of: date, level: int) -> date:
    if level == FINAL_LEVEL:
        return as_of + timedelta(days=FINAL_NOTICE_WAIT_DAYS)
    return as_of + timedelta(days=practice.statement_grace_days)


def _produce(selection: Selection, batch: StatementBatch, now) -> list[Statement]:
    practice, as_of = selection.practice, selection.as_of
    statements = [
        Statement(
            account_id=row.account_ids[0],
            practice_id=practice.pk,
            guarantor_id=row.guarantor_id,
            batch=batch,
            kind=KIND_OF_LEVEL[row.dunning_level],
            recipient=Statement.Recipient.GUARANTOR,
            channel=Statement.Channel.MAIL,
            dunning_level=row.dunning_level,
            statement_date=as_of,
            amount_due=row.amount,
            pay_by=pay_by_for(practice, as_of, row.dunning_level),
            mailed_on=as_of,
            created_at=now,
        )
        for row in selection.statements
    ]
    _freeze_contents(statements, [row.account_ids for row in selection.statements], practice)
    Statement.objects.bulk_create(statements, batch_size=INSERT_BATCH)
    Covers = Statement.covers.through
    Covers.objects.bulk_create(
        (
            Covers(statement_id=statement.pk, patientaccount_id=account_id)
            for statement, row in zip(statements, selection.statements, strict=True)
            for account_id in row.account_ids
        ),
        batch_size=INSERT_BATCH,
    )
    return statements


def _freeze_contents(statements: list[Statement], covered: list[list[int]], practice: Practice) -> None:
    """Each document's content, frozen before the rows are inserted (no second write of 15,000
    rows); its amount due is what the document asks for (on a payment plan the installment due,
    not the balance)."""
    for statement in statements:
        statement.practice = practice
    contents = _statement_contents_function()(statements, covered)
    for statement, content in zip(statements, contents, strict=True):
        statement.content = content
        asked = content.get("amount_due")
        if asked is not None:
            statement.amount_due = Decimal(asked)


def _first_statements(batch: StatementBatch, as_of: date, now) -> set[int]:
    """first_statement_on = the batch's date on covered accounts that had none; the ids set."""
    covered = Statement.covers.through.objects.filter(statement__batch=batch).values("patientaccount_id")
    unset = PatientAccount.objects.filter(pk__in=covered, first_statement_on__isnull=True)
    ids = set(unset.values_list("pk", flat=True))
    if ids:
        PatientAccount.objects.filter(pk__in=covered, first_statement_on__isnull=True).update(
            first_statement_on=as_of, version=F("version") + 1, updated_at=now
        )
    return ids


def _route_email(statements: list[Statement], batch: StatementBatch, as_of: date) -> None:
    """The statements whose patient consented to statements by email go by email only: marked
    before anything is logged, so the contact log gets the email when it is sent (or the letter
    mailed instead, if it fails), never a letter as well."""
    emailed = emailing.statements_route_to_email(Statement.objects.filter(batch=batch), as_of=as_of)
    for statement in statements:
        if statement.pk in emailed:
            statement.channel, statement.mailed_on = Statement.Channel.EMAIL, None


def _log_letters(statements: list[Statement], selection: Selection, now) -> None:
    """A letter on the contact log of every account a mailed statement covers."""
    Contact.objects.bulk_create(
        (
            Contact(
                account_id=account_id,
                practice_id=statement.practice_id,
                channel=Contact.Channel.LETTER,
                party=Contact.Party.GUARANTOR,
                outcome=CONTACT_OUTCOME[statement.kind],
                notes=CONTACT_NOTE.format(kind=statement.get_kind_display(), number=statement.pk),
                occurred_at=now,
            )
            for statement, row in zip(statements, selection.statements, strict=True)
            if statement.channel == Statement.Channel.MAIL
            for account_id in row.account_ids
        ),
        batch_size=INSERT_BATCH,
    )


def _audit(batch: StatementBatch, statements, selection: Selection, first_set: set[int], now) -> None:
    audit_job_changes(
        job=JOB,
        object_type="reports.statementbatch",
        changes=[
            (
                batch.pk,
                batch.practice_id,
                {
                    "run_on": batch.run_on.isoformat(),
                    "statements": batch.statement_count,
                    "suppressed": batch.suppressed,
                },
            )
        ],
        occurred_at=now,
        field_group=FieldGroup.BILLING,
        action=AuditEvent.Action.CREATE,
    )
    audit_job_changes(
        job=JOB,
        object_type="reports.statement",
        changes=(
            (
                statement.pk,
                statement.practice_id,
                {
                    "account_id": statement.account_id,
                    "kind": statement.kind,
                    "covers": row.account_ids,
                    "first_statement_on_set": sorted(first_set.intersection(row.account_ids)),
                },
            )
            for statement, row in zip(statements, selection.statements, strict=True)
        ),
        occurred_at=now,
        field_group=FieldGroup.BILLING,
        action=AuditEvent.Action.CREATE,
    )


def _already_ran(practices_as_of: dict[Practice, date]) -> set[int]:
    """The practices whose cycle batch for their date exists (idempotent per date)."""
    done = set()
    for practice_id, run_on in StatementBatch.objects.filter(
        practice_id__in=[practice.pk for practice in practices_as_of], kind=StatementBatch.Kind.CYCLE
    ).values_list("practice_id", "run_on"):
        if any(practice.pk == practice_id and as_of == run_on for practice, as_of in practices_as_of.items()):
            done.add(practice_id)
    return done


def statement_batch_record(selection: Selection, *, now) -> StatementBatch:
    """One practice's batch from its selection: the rows, the frozen contents, the first statement
    dates, the contact log and the audit; printing starts after commit."""
    practice, as_of = selection.practice, selection.as_of
    with transaction.atomic():
        batch = StatementBatch.objects.create(
            practice=practice,
            kind=StatementBatch.Kind.CYCLE,
            run_on=as_of,
            status=StatementBatch.Status.PENDING if selection.statements else StatementBatch.Status.DONE,
            statement_count=len(selection.statements),
            suppressed=selection.suppressed,
            created_at=now,
        )
        statements = _produce(selection, batch, now)
        _route_email(statements, batch, as_of)
        batch.total_amount = sum((statement.amount_due for statement in statements), ZERO)
        batch.save(update_fields=["total_amount"])
        first_set = _first_statements(batch, as_of, now)
        _log_letters(statements, selection, now)
        _audit(batch, statements, selection, first_set, now)
        batch.accounts_covered = sum(len(row.account_ids) for row in selection.statements)
        print_start = _print_start_function()
        if statements and print_start is not None:
            # robust: the statements are committed; a printing queue that fails to take the batch
            # is logged and the batch waits (its status says so), the night's cycle stays done.
            transaction.on_commit(lambda: print_start(batch), robust=True)
    return batch


def statement_cycle_batches(practices_as_of: dict[Practice, date], *, now=None, progress=None) -> list[StatementBatch]:
    """The cycle for these practices, each on its own date: the batches made (none for a practice
    that already has its batch for the date)."""
    now = now or timezone.now()
    done = _already_ran(practices_as_of)
    todo = {practice: as_of for practice, as_of in practices_as_of.items() if practice.pk not in done}
    selections = cycle_selections(todo)
    batches = []
    for step, pk in enumerate(sorted(selections), start=1):
        batches.append(statement_batch_record(selections[pk], now=now))
        if progress is not None:
            progress(step, len(selections))
    return batches


def statement_cycle_practice(practice: Practice, as_of: date, *, now=None) -> StatementBatch | None:
    """One practice's cycle for its date: the batch made, or None when it already ran for the date."""
    batches = statement_cycle_batches({practice: as_of}, now=now)
    return batches[0] if batches else None


def statement_cycle_run(practice_dates: dict[int, date], *, progress=None) -> dict[str, int]:
    """Every active practice on its own date; the job's counts."""
    practices = Practice.objects.filter(pk__in=list(practice_dates), is_active=True).order_by("pk")
    practices_as_of = {practice: practice_dates[practice.pk] for practice in practices}
    batches = statement_cycle_batches(practices_as_of, progress=progress)
    return {
        "practices": len(practices_as_of),
        "batches": len(batches),
        "statements": sum(batch.statement_count for batch in batches),
        "accounts_covered": sum(batch.accounts_covered for batch in batches),
        "suppressed": sum(sum(batch.suppressed.values()) for batch in batches),
    }
