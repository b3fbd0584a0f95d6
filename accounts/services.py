"""Every change to patient accounts: lock, check, change, audit, in one transaction."""

import copy
import operator
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.db import IntegrityError, connection, transaction
from django.db.models import F, Q, Sum
from django.db.models.base import ModelState
from django.db.models.functions import Coalesce
from django.db.models.signals import post_init, pre_init
from django.db.transaction import TransactionManagementError
from django.utils import timezone

from accounts.events import ledger_posted, ledger_posted_many
from accounts.models import AddressHistory, Encounter, Patient, PatientAccount, Practice, Transaction
from accounts.money import ZERO, to_money
from accounts.selectors import practice_today
from accounts.validators import refuse_card_numbers, texts_without_card_numbers
from core.access import FieldGroup, check_director_or_command_line
from core.audit import COMMAND_LINE, audit_record, audit_record_many
from core.errors import ApplicationError
from core.models import AuditEvent
from core.sql import among, copy_rows, update_from_values

Kind = Transaction.Kind

# Which way each kind may move each balance: "+" only increases, "-" only decreases, "0" untouched,
# "±" either. A posting outside its rule is refused; corrections are reversals, never edits.
POSTING_RULES: dict[str, tuple[str, str]] = {
    Kind.CHARGE: ("+", "+"),
    Kind.INSURANCE_PAYMENT: ("0", "-"),
    Kind.CONTRACTUAL_ADJUSTMENT: ("0", "±"),
    Kind.TRANSFER_TO_PATIENT: ("+", "-"),
    Kind.PATIENT_PAYMENT: ("-", "0"),
    Kind.REFUND: ("+", "0"),
    Kind.WRITE_OFF: ("-", "-"),
    Kind.AGENCY_PAYMENT: ("-", "0"),
    Kind.BAD_DEBT_RECOVERY: ("+", "0"),
}
NEEDS_ENCOUNTER = {Kind.CHARGE, Kind.TRANSFER_TO_PATIENT, Kind.INSURANCE_PAYMENT, Kind.CONTRACTUAL_ADJUSTMENT}
PATIENT_PAYMENT_KINDS = {Kind.PATIENT_PAYMENT, Kind.AGENCY_PAYMENT}

MESSAGE_WRONG_DIRECTION = "A {kind} cannot {verb} the {balance} balance."
MESSAGE_NO_AMOUNT = "Enter an amount other than zero."
MESSAGE_NEEDS_ENCOUNTER = "A {kind} must name the encounter (date of service) it belongs to."
MESSAGE_ENCOUNTER_ELSEWHERE = "That encounter belongs to another account."
MESSAGE_TRANSFER_UNBALANCED = "A transfer to patient responsibility moves the same amount out of insurance."
MESSAGE_NEEDS_METHOD = "Choose how the payment was made."
MESSAGE_NEEDS_REASON = "A write-off needs a reason."
MESSAGE_REFERENCE_REUSED = "Reference {reference} was already used on this account for a different posting."
MESSAGE_KEY_REUSED = "This form was already sent with a different amount. Reload the account to see what was posted."
IDEMPOTENCY_KEY_MAX_LENGTH = 80
MESSAGE_KEY_TOO_LONG = f"The idempotency key may have at most {IDEMPOTENCY_KEY_MAX_LENGTH} characters."
MESSAGE_ALREADY_REVERSED = "This transaction has already been reversed."
MESSAGE_CANNOT_REVERSE_REVERSAL = "A reversal cannot be reversed; post the transaction again instead."
MESSAGE_STALE = "Someone else changed this record while you were editing. Reload and try again."
MESSAGE_ACCOUNT_STALE = "Someone else changed this account while you were editing. Reload and try again."

# Write-offs for bad debt carry this write_off_reason (writeoffs.models.Reason.BAD_DEBT; the ledger
# cannot import the layer above it, so the value is repeated here).
BAD_DEBT_REASON = "bad_debt"
# A bad-debt recovery row names the payment it came with: reference "BDR-<payment id>" (unique per
# account, so a payment recovers once), and reversing the payment reverses it too.
RECOVERY_REFERENCE = "BDR-{payment_id}"


def _check_direction(kind: str, balance: str, amount: Decimal, rule: str) -> None:
    allowed = (
        (rule == "+" and amount >= 0) or (rule == "-" and amount <= 0) or (rule == "0" and amount == 0) or rule == "±"
    )
    if not allowed:
        verb = "change" if rule == "0" else ("decrease" if rule == "+" else "increase")
        raise ApplicationError(
            MESSAGE_WRONG_DIRECTION.format(kind=Kind(kind).label.lower(), verb=verb, balance=balance),
            field=f"{balance}_amount",
        )


def account_lock(
    *,
    account_id: int,
    expected_version: int | None = None,
    related: tuple[str, ...] = (),
    bump: bool = True,
) -> PatientAccount:
    """Lock one account for a change: every service that changes an account, or adds to what its
    page shows (a posting, a contact, a hold, a plan, an inquiry), starts here, in its transaction.

    The row lock serialises changes to one account: postings move the stored balances by exactly
    the rows written under it, two reps' calls are counted against the cap one after the other, two
    holds agree on the status before them (SQLite: IMMEDIATE transactions serialise all writers).
    Locks are taken account first, then the plan, patient or hold rows, everywhere (no deadlock).

    A form drawn at `expected_version` is refused if the account changed since. Then `version` goes
    up by one and `updated_at` moves to now, in the database and on the returned account, so the
    version changes once per change and `updated_at` says when the account last changed; a refusal
    raised later rolls this back with the rest of the transaction. `bump=False` locks only: the
    ledger bumps with its balance update (so a replayed posting changes nothing), and a plan
    re-applying payments runs inside the posting that bumped. `related` joins more than the practice.
    """
    if not transaction.get_connection().in_atomic_block:
        raise TransactionManagementError("account_lock() must be called inside transaction.atomic().")
    # of=("self",): the practice, patient and guarantor rows joined in are read, not locked.
    account = (
        PatientAccount.objects.select_for_update(of=("self",)).select_related("practice", *related).get(pk=account_id)
    )
    if expected_version is not None and account.version != expected_version:
        raise ApplicationError(MESSAGE_ACCOUNT_STALE)
    if bump:
        _mark_changed(account)
    return account


def _mark_changed(account: PatientAccount, **changes) -> None:
    """Version +1 and updated_at now, with any `changes` (values or F expressions), in one UPDATE."""
    now = timezone.now()
    PatientAccount.objects.filter(pk=account.pk).update(version=F("version") + 1, updated_at=now, **changes)
    account.version += 1
    account.updated_at = now


def _apply_to_balances(account: PatientAccount, rows: list[Transaction]) -> None:
    # The version moves here, with the balances, once per posting (the ledger locks with bump=False
    # so that a replayed posting leaves the account as it was).
    patient_delta = sum((row.patient_amount for row in rows), ZERO)
    insurance_delta = sum((row.insurance_amount for row in rows), ZERO)
    changes = {
        "patient_balance": F("patient_balance") + patient_delta,
        "insurance_balance": F("insurance_balance") + insurance_delta,
    }
    paid_on = [row.effective_on for row in rows if row.kind in PATIENT_PAYMENT_KINDS]
    if paid_on:
        latest = max(paid_on)
        if account.last_patient_payment_on is None or latest > account.last_patient_payment_on:
            changes["last_patient_payment_on"] = latest
    _mark_changed(account, **changes)


def idempotency_key_clean(key) -> str:
    """A form's token or an Idempotency-Key header as it is stored: trimmed, at most
    IDEMPOTENCY_KEY_MAX_LENGTH characters (longer is a refusal on the `idempotency_key` field)."""
    key = (key or "").strip()
    if len(key) > IDEMPOTENCY_KEY_MAX_LENGTH:
        raise ApplicationError(MESSAGE_KEY_TOO_LONG, field="idempotency_key")
    return key


def replay_of(records, key: str):
    """The record an earlier call with this key made (`records`: the account's contacts, promises...),
    marked `replayed`; None without a key or when none was made. Ask under the account lock, so a
    double click's second request waits for the first."""
    if not key:
        return None
    first = records.filter(idempotency_key=key).first()
    if first is not None:
        first.replayed = True
    return first


def bad_debt_unrecovered(account_id: int) -> Decimal:
    """Bad debt written off this account and not yet recovered: unreversed bad-debt write-offs
    less unreversed bad-debt recoveries (never below zero). One aggregate over the account's ledger."""
    rows = Transaction.objects.filter(account_id=account_id, reversed_by__isnull=True)
    written_off = Q(kind=Kind.WRITE_OFF, write_off_reason=BAD_DEBT_REASON)
    sums = rows.filter(written_off | Q(kind=Kind.BAD_DEBT_RECOVERY)).aggregate(
        written_off=Coalesce(Sum("patient_amount", filter=written_off), ZERO),
        recovered=Coalesce(Sum("patient_amount", filter=Q(kind=Kind.BAD_DEBT_RECOVERY)), ZERO),
    )
    # quantize: SQLite sums in floating point.
    unrecovered = (-to_money(sums["written_off"]) - to_money(sums["recovered"])).quantize(ZERO)
    return max(unrecovered, ZERO)


def bad_debt_recovery_amount(account: PatientAccount, payment: Decimal) -> Decimal:
    """How much of a payment (`payment` > 0) posts as bad-debt recovery: the part beyond the current
    patient balance, up to the bad debt not yet recovered. Read under the account lock."""
    beyond = payment - max(account.patient_balance, ZERO)
    if beyond <= 0:
        return ZERO
    return min(beyond, bad_debt_unrecovered(account.pk))


def _post_recovery(*, acting_user, account: PatientAccount, payment: Transaction, amount: Decimal) -> Transaction:
    """The bad-debt recovery that goes with a payment on a written-off balance: the written-off debt
    comes back (+amount) and the payment pays it, so the balance ends where it was before."""
    return Transaction.objects.create(
        account=account,
        kind=Kind.BAD_DEBT_RECOVERY,
        patient_amount=amount,
        effective_on=payment.effective_on,
        posted_at=payment.posted_at,
        posted_by=payment.posted_by,
        reference=RECOVERY_REFERENCE.format(payment_id=payment.pk),
        memo=f"Recovered from the {Kind(payment.kind).label.lower()} of {payment.effective_on:%m/%d/%Y}",
    )


def _posting_clean(
    *,
    kind: str,
    patient_amount,
    insurance_amount,
    encounter_id,
    payment_method: str,
    reference: str,
    memo: str,
    write_off_reason: str,
    idempotency_key: str,
    texts_clean: set[str] | None = None,
) -> tuple[Decimal, Decimal, str]:
    """The checks a posting passes before anything is locked (transaction_post and
    transactions_post_many alike): the amounts as money and the idempotency key as stored.
    `texts_clean`: references and memos already found free of card numbers (a batch checks each
    text once: an import's memos repeat), grown by this posting's."""
    if kind not in POSTING_RULES:
        raise ApplicationError("Choose a transaction type that can be posted.", field="kind")
    patient_amount, insurance_amount = to_money(patient_amount), to_money(insurance_amount)
    if patient_amount == 0 and insurance_amount == 0:
        raise ApplicationError(MESSAGE_NO_AMOUNT, field="patient_amount")
    patient_rule, insurance_rule = POSTING_RULES[kind]
    _check_direction(kind, "patient", patient_amount, patient_rule)
    _check_direction(kind, "insurance", insurance_amount, insurance_rule)
    if kind == Kind.TRANSFER_TO_PATIENT and patient_amount != -insurance_amount:
        raise ApplicationError(MESSAGE_TRANSFER_UNBALANCED, field="insurance_amount")
    if kind in NEEDS_ENCOUNTER and encounter_id is None:
        raise ApplicationError(MESSAGE_NEEDS_ENCOUNTER.format(kind=Kind(kind).label.lower()), field="encounter")
    if kind == Kind.PATIENT_PAYMENT and not payment_method:
        raise ApplicationError(MESSAGE_NEEDS_METHOD, field="payment_method")
    if kind == Kind.WRITE_OFF and not write_off_reason:
        raise ApplicationError(MESSAGE_NEEDS_REASON, field="write_off_reason")
    texts_clean = set() if texts_clean is None else texts_clean
    for field, text in (("reference", reference), ("memo", memo)):
        if text not in texts_clean:
            refuse_card_numbers(field, text)
            texts_clean.add(text)
    return patient_amount, insurance_amount, idempotency_key_clean(idempotency_key)


@transaction.atomic
def transaction_post(
    *,
    acting_user,
    account_id: int,
    kind: str,
    patient_amount: Decimal | str = ZERO,
    insurance_amount: Decimal | str = ZERO,
    effective_on: date | None = None,
    encounter_id: int | None = None,
    payment_method: str = "",
    reference: str = "",
    memo: str = "",
    write_off_reason: str = "",
    idempotency_key: str = "",
) -> Transaction:
    """Post one ledger row and move the stored balances with it.

    Posting again with the same `reference`, or the same `idempotency_key` (a form's token, an API
    call's Idempotency-Key header), on the same account returns the first row, marked
    `replayed = True`: imports, double submits and retried requests post once. The same reference or
    key with different amounts is refused.

    A patient or agency payment on an account with bad debt written off (WRITE_OFF rows with
    write_off_reason "bad_debt", unreversed) pays that debt back as far as it goes beyond the
    current patient balance: a BAD_DEBT_RECOVERY row (+amount, reference "BDR-<payment id>") posts
    with it in the same transaction, so the balance ends where the payment leaves the open balance
    and reports see the recovery. The payment row comes back with `bad_debt_recovery` (or None);
    reversing the payment reverses its recovery too.
    """
    patient_amount, insurance_amount, idempotency_key = _posting_clean(
        kind=kind,
        patient_amount=patient_amount,
        insurance_amount=insurance_amount,
        encounter_id=encounter_id,
        payment_method=payment_method,
        reference=reference,
        memo=memo,
        write_off_reason=write_off_reason,
        idempotency_key=idempotency_key,
    )

    # The lock serialises postings to the account: a concurrent replay waits here, then finds the row.
    # No bump yet: a replay changes nothing; _apply_to_balances bumps with the balances.
    account = account_lock(account_id=account_id, bump=False)
    if encounter_id is not None and not account.encounters.filter(pk=encounter_id).exists():
        raise ApplicationError(MESSAGE_ENCOUNTER_ELSEWHERE, field="encounter")
    for field, value, message in (
        ("idempotency_key", idempotency_key, MESSAGE_KEY_REUSED),
        ("reference", reference, MESSAGE_REFERENCE_REUSED.format(reference=reference)),
    ):
        if not value:
            continue
        existing = Transaction.objects.filter(account=account, **{field: value}).first()
        if existing is None:
            continue
        same = (
            existing.kind == kind
            and existing.patient_amount == patient_amount
            and existing.insurance_amount == insurance_amount
        )
        if not same:
            raise ApplicationError(message, field=field)
        existing.replayed = True
        return existing

    now = timezone.now()
    row = Transaction.objects.create(
        account=account,
        encounter_id=encounter_id,
        kind=kind,
        patient_amount=patient_amount,
        insurance_amount=insurance_amount,
        effective_on=effective_on or practice_today(account.practice, now),
        posted_at=now,
        posted_by=acting_user if getattr(acting_user, "is_authenticated", False) else None,
        payment_method=payment_method,
        reference=reference,
        memo=memo,
        write_off_reason=write_off_reason,
        idempotency_key=idempotency_key,
    )
    row.replayed = False
    rows = [row]
    # A payment beyond the balance on an account with bad debt written off pays that debt back:
    # the recovery row posts with it (stored balance == ledger; reports see the recovery).
    if kind in PATIENT_PAYMENT_KINDS and patient_amount < 0:
        recovered = bad_debt_recovery_amount(account, -patient_amount)
        if recovered > 0:
            rows.append(_post_recovery(acting_user=acting_user, account=account, payment=row, amount=recovered))
    _apply_to_balances(account, rows)
    for posted in rows:
        audit_record(
            user=acting_user,
            action=AuditEvent.Action.POST,
            object_type="accounts.transaction",
            object_id=posted.pk,
            practice_id=account.practice_id,
            field_group=FieldGroup.BILLING,
            detail={"account_id": account.pk, "kind": posted.kind},
        )
    for posted in reversed(rows):
        ledger_posted.send(sender=Transaction, posting=posted, account_id=account.pk, acting_user=acting_user)
    row.bad_debt_recovery = rows[1] if len(rows) > 1 else None
    return row


@dataclass(frozen=True)
class Posting:
    """One posting for transactions_post_many: transaction_post's keywords, with its account."""

    account_id: int
    kind: str
    patient_amount: Decimal | str = ZERO
    insurance_amount: Decimal | str = ZERO
    effective_on: date | None = None
    encounter_id: int | None = None
    payment_method: str = ""
    reference: str = ""
    memo: str = ""
    write_off_reason: str = ""
    idempotency_key: str = ""


def accounts_lock(*, account_ids: Iterable[int]) -> dict[int, PatientAccount]:
    """account_lock(bump=False) for many accounts in one statement: the rows locked in id order,
    so two batches (or a batch and a single posting) wait for each other and never deadlock. An
    account that does not exist raises PatientAccount.DoesNotExist, as account_lock does."""
    if not transaction.get_connection().in_atomic_block:
        raise TransactionManagementError("accounts_lock() must be called inside transaction.atomic().")
    wanted = sorted(set(account_ids))
    locked = among(PatientAccount.objects.select_for_update(), "pk", wanted).order_by("pk")
    accounts = {account.pk: account for account in locked}
    if len(accounts) != len(wanted):
        raise PatientAccount.DoesNotExist("PatientAccount matching query does not exist.")
    # The practices read once each (not joined per account), as account.practice.
    practices = Practice.objects.in_bulk({account.practice_id for account in accounts.values()})
    for account in accounts.values():
        account._state.fields_cache["practice"] = practices[account.practice_id]
    return accounts


def _bad_debt_sums(account_ids: list[int]) -> dict[int, list[Decimal]]:
    """[written off, recovered] bad debt per account (bad_debt_unrecovered's aggregate, grouped)."""
    written_off = Q(kind=Kind.WRITE_OFF, write_off_reason=BAD_DEBT_REASON)
    rows = (
        Transaction.objects.filter(account_id__in=account_ids, reversed_by__isnull=True)
        .filter(written_off | Q(kind=Kind.BAD_DEBT_RECOVERY))
        .values("account_id")
        .annotate(
            written_off=Coalesce(Sum("patient_amount", filter=written_off), ZERO),
            recovered=Coalesce(Sum("patient_amount", filter=Q(kind=Kind.BAD_DEBT_RECOVERY)), ZERO),
        )
    )
    sums = {account_id: [ZERO, ZERO] for account_id in account_ids}
    for row in rows:
        # quantize: SQLite sums in floating point.
        sums[row["account_id"]] = [(-to_money(row["written_off"])).quantize(ZERO), to_money(row["recovered"])]
    return sums


@transaction.atomic
def transactions_post_many(
    *, acting_user, postings: Sequence[Posting], before_announcing: Callable[[list[Transaction]], None] | None = None
) -> list[Transaction]:
    """transaction_post for many postings at once (an import's chunk of claims), all or nothing.

    Each posting passes transaction_post's checks and gets its answer: the new row, or the row
    already on file for its `reference` / `idempotency_key` marked `replayed` (an earlier posting
    of the same batch counts as on file; different amounts are refused, and so the whole batch).
    A patient or agency payment beyond the balance on an account with bad debt written off brings
    its BAD_DEBT_RECOVERY row, as one by one (the balance running in the batch's order).

    Set-based: every account locked once (accounts_lock), one query for the encounters, one each
    for references and keys on file, the rows and their audit rows bulk-inserted (on PostgreSQL by
    COPY, the ids drawn from the ledger's sequence first), one UPDATE for
    the balances of all the accounts (version +1 each), and one `ledger_posted_many` for the
    batch, so plans, the queue and agencies follow as they follow `ledger_posted`.

    `before_announcing(answers)` is called with the answers (as returned) after the rows are
    written and before the batch is announced: what the caller changes with them (an import's
    claim statuses) is then what the receivers see, as it is after a posting one by one.
    """
    cleaned = []
    texts_clean = texts_without_card_numbers(text for posting in postings for text in (posting.reference, posting.memo))
    for posting in postings:
        patient_amount, insurance_amount, key = _posting_clean(
            kind=posting.kind,
            patient_amount=posting.patient_amount,
            insurance_amount=posting.insurance_amount,
            encounter_id=posting.encounter_id,
            payment_method=posting.payment_method,
            reference=posting.reference,
            memo=posting.memo,
            write_off_reason=posting.write_off_reason,
            idempotency_key=posting.idempotency_key,
            texts_clean=texts_clean,
        )
        cleaned.append((posting, patient_amount, insurance_amount, key))
    if not cleaned:
        return []
    accounts = accounts_lock(account_ids=[posting.account_id for posting in postings])
    encounter_ids = {posting.encounter_id for posting in postings if posting.encounter_id is not None}
    owners = dict(among(Encounter.objects, "pk", encounter_ids).values_list("pk", "account_id"))
    for posting in postings:
        if posting.encounter_id is not None and owners.get(posting.encounter_id) != posting.account_id:
            raise ApplicationError(MESSAGE_ENCOUNTER_ELSEWHERE, field="encounter")

    on_file: dict[tuple[str, int, str], Transaction] = {}
    for field in ("idempotency_key", "reference"):
        values = {key if field == "idempotency_key" else posting.reference for posting, _, _, key in cleaned}
        values.discard("")
        if values:
            candidates = among(among(Transaction.objects, "account_id", accounts), field, values, "text[]")
            for row in candidates:
                on_file[(field, row.account_id, getattr(row, field))] = row

    now = timezone.now()
    posted_by = acting_user if getattr(acting_user, "is_authenticated", False) else None
    today: dict[int, date] = {}
    answers: list[tuple[Transaction, bool]] = []  # (row, replayed)
    new_rows: list[Transaction] = []
    for posting, patient_amount, insurance_amount, key in cleaned:
        answer = None
        for field, value in (("idempotency_key", key), ("reference", posting.reference)):
            existing = on_file.get((field, posting.account_id, value)) if value else None
            if existing is None:
                continue
            same = (
                existing.kind == posting.kind
                and existing.patient_amount == patient_amount
                and existing.insurance_amount == insurance_amount
            )
            if not same:
                message = MESSAGE_KEY_REUSED
                if field == "reference":
                    message = MESSAGE_REFERENCE_REUSED.format(reference=value)
                raise ApplicationError(message, field=field)
            answer = existing
            break
        if answer is not None:
            answers.append((answer, True))
            continue
        account = accounts[posting.account_id]
        if posting.effective_on is None and account.practice_id not in today:
            today[account.practice_id] = practice_today(account.practice, now)
        row = _new_row(
            account=account,
            encounter_id=posting.encounter_id,
            kind=posting.kind,
            patient_amount=patient_amount,
            insurance_amount=insurance_amount,
            effective_on=posting.effective_on or today[account.practice_id],
            posted_at=now,
            posted_by=posted_by,
            payment_method=posting.payment_method,
            reference=posting.reference,
            memo=posting.memo,
            write_off_reason=posting.write_off_reason,
            idempotency_key=key,
        )
        for field, value in (("idempotency_key", key), ("reference", posting.reference)):
            if value:
                on_file[(field, posting.account_id, value)] = row
        new_rows.append(row)
        answers.append((row, False))
    if not new_rows:
        results = [_replayed(row) for row, _ in answers]
        if before_announcing is not None:
            before_announcing(results)
        return results

    _ledger_insert(new_rows)
    recoveries = _recoveries(accounts, new_rows)
    if recoveries:
        _ledger_insert(list(recoveries.values()))
    written = [each for row in new_rows for each in (row, recoveries.get(id(row))) if each is not None]
    by_account: dict[int, list[Transaction]] = {}
    for row in written:
        by_account.setdefault(row.account_id, []).append(row)
    _apply_to_balances_many(accounts, by_account, now)
    audit_record_many(
        user=acting_user,
        action=AuditEvent.Action.POST,
        object_type="accounts.transaction",
        field_group=FieldGroup.BILLING,
        records=[
            {
                "object_id": row.pk,
                "practice_id": accounts[row.account_id].practice_id,
                "detail": {"account_id": row.account_id, "kind": row.kind},
            }
            for row in written
        ],
    )
    for row in new_rows:
        row.replayed = False
        row.bad_debt_recovery = recoveries.get(id(row))
    results = [_replayed(row) if replayed else row for row, replayed in answers]
    if before_announcing is not None:
        before_announcing(results)
    ledger_posted_many.send(
        sender=Transaction,
        postings=written,
        balances_before={account_id: accounts[account_id].patient_balance for account_id in by_account},
        acting_user=acting_user,
    )
    return results


# Every column of the ledger, in the model's order (the positional constructor's and COPY's).
_ROW_FIELDS = tuple(field.attname for field in Transaction._meta.concrete_fields)


def _new_row(*, account: PatientAccount, posted_by, **values) -> Transaction:
    """An unsaved ledger row, as Transaction(account=..., posted_by=..., ...) builds it: its
    fields' values (None where not given) set straight into the new instance, as Model.__init__
    sets them on a fresh one, without its per-field descriptor calls and init signals while
    nothing listens for a ledger row's (~16 us a row through the positional constructor, a tenth
    of the batch)."""
    values.update(account_id=account.pk, posted_by_id=posted_by.pk if posted_by is not None else None)
    if pre_init.has_listeners(Transaction) or post_init.has_listeners(Transaction):
        row = Transaction(*map(values.get, _ROW_FIELDS))  # someone listens now: the signals are sent
    else:
        row = object.__new__(Transaction)
        row.__dict__.update(zip(_ROW_FIELDS, map(values.get, _ROW_FIELDS), strict=True))
        row._state = ModelState()
    row._state.fields_cache["account"] = account
    if posted_by is not None:
        row._state.fields_cache["posted_by"] = posted_by
    return row


# A row's values in _ROW_FIELDS order, for COPY: read from the instance's own dict (each field is
# there, set by _new_row or Model.__init__), not through the foreign keys' descriptors.
_row_values = operator.itemgetter(*_ROW_FIELDS)


def _ledger_insert(rows: list[Transaction]) -> None:
    """Write new ledger rows, giving each its id, in their order. PostgreSQL: the ids drawn from
    the table's sequence in one query, then one COPY (bulk_create spends ~40 us a row preparing
    values and the driver quotes each one; the rows pass the same constraints and triggers)."""
    if connection.vendor != "postgresql":
        Transaction.objects.bulk_create(rows, batch_size=1000)
        return
    table = Transaction._meta.db_table
    with connection.cursor() as cursor:
        # The sequence named first: pg_get_serial_sequence inside the nextval() is run for every
        # row (six times slower).
        cursor.execute("SELECT pg_get_serial_sequence(%s, 'id')", [table])
        (sequence,) = cursor.fetchone()
        cursor.execute("SELECT nextval(%s::regclass) FROM generate_series(1, %s)", [sequence, len(rows)])
        ids = sorted(each for (each,) in cursor.fetchall())
    for row, pk in zip(rows, ids, strict=True):
        row.id = pk
        row._state.adding = False
        row._state.db = connection.alias
    copy_rows(table=table, columns=list(_ROW_FIELDS), rows=(_row_values(row.__dict__) for row in rows))


def _replayed(row: Transaction) -> Transaction:
    # A copy when the row already answers another posting (written earlier in the same batch, it is
    # that posting's own, unreplayed, answer; or the same reference came twice).
    answer = copy.copy(row) if hasattr(row, "replayed") else row
    answer.replayed = True
    return answer


def _recoveries(accounts: dict[int, PatientAccount], rows: list[Transaction]) -> dict[int, Transaction]:
    """The bad-debt recovery of each payment that brings one ({id(payment row): recovery row}):
    bad_debt_recovery_amount with the balance and the unrecovered debt running through the batch."""
    paying = sorted({row.account_id for row in rows if row.kind in PATIENT_PAYMENT_KINDS and row.patient_amount < 0})
    if not paying:
        return {}
    sums = _bad_debt_sums(paying)
    balance = {account_id: accounts[account_id].patient_balance for account_id in paying}
    recoveries: dict[int, Transaction] = {}
    for row in rows:
        if row.account_id not in sums:
            continue
        written_off, recovered = sums[row.account_id]
        amount = ZERO
        if row.kind in PATIENT_PAYMENT_KINDS and row.patient_amount < 0:
            beyond = -row.patient_amount - max(balance[row.account_id], ZERO)
            if beyond > 0:
                amount = min(beyond, max(written_off - recovered, ZERO))
        if amount > 0:
            recoveries[id(row)] = _new_row(
                account=accounts[row.account_id],
                kind=Kind.BAD_DEBT_RECOVERY,
                patient_amount=amount,
                insurance_amount=ZERO,
                effective_on=row.effective_on,
                posted_at=row.posted_at,
                posted_by=row.posted_by,
                reference=RECOVERY_REFERENCE.format(payment_id=row.pk),
                memo=f"Recovered from the {Kind(row.kind).label.lower()} of {row.effective_on:%m/%d/%Y}",
                payment_method="",
                write_off_reason="",
                idempotency_key="",
            )
            recovered += amount
        if row.kind == Kind.WRITE_OFF and row.write_off_reason == BAD_DEBT_REASON:
            written_off -= row.patient_amount
        sums[row.account_id] = [written_off, recovered]
        balance[row.account_id] += row.patient_amount + amount
    return recoveries


def _apply_to_balances_many(accounts: dict[int, PatientAccount], by_account: dict[int, list[Transaction]], now):
    """_apply_to_balances for many accounts in one UPDATE: balances by their rows, version +1."""
    rows = []
    for account_id, posted in by_account.items():
        last_paid = accounts[account_id].last_patient_payment_on  # read under the lock
        paid_on = [row.effective_on for row in posted if row.kind in PATIENT_PAYMENT_KINDS]
        if paid_on and (last_paid is None or max(paid_on) > last_paid):
            last_paid = max(paid_on)
        patient_delta = sum((row.patient_amount for row in posted), ZERO)
        insurance_delta = sum((row.insurance_amount for row in posted), ZERO)
        rows.append((account_id, patient_delta, insurance_delta, last_paid))
    update_from_values(
        table=PatientAccount._meta.db_table,
        columns={"id": "int", "patient_delta": "money", "insurance_delta": "money", "last_paid": "date"},
        rows=rows,
        assignments=(
            "patient_balance = t.patient_balance + v.patient_delta, "
            "insurance_balance = t.insurance_balance + v.insurance_delta, "
            "last_patient_payment_on = v.last_paid, version = t.version + 1, "
            f"updated_at = {'%s::timestamptz' if connection.vendor == 'postgresql' else '%s'}"
        ),
        extra_params=[connection.ops.adapt_datetimefield_value(now)],
    )


@transaction.atomic
def transaction_reverse(
    *, acting_user, transaction_id: int, reason: str, effective_on: date | None = None
) -> Transaction:
    """Correct a posting by appending its negation. The original row is never changed."""
    if not reason.strip():
        raise ApplicationError("Say why the transaction is reversed.", field="reason")
    refuse_card_numbers("reason", reason)
    account_id = Transaction.objects.values_list("account_id", flat=True).get(pk=transaction_id)
    account = account_lock(account_id=account_id, bump=False)
    original = Transaction.objects.get(pk=transaction_id)
    if original.kind == Kind.REVERSAL:
        raise ApplicationError(MESSAGE_CANNOT_REVERSE_REVERSAL)
    if Transaction.objects.filter(reverses=original).exists():
        raise ApplicationError(MESSAGE_ALREADY_REVERSED)
    now = timezone.now()
    originals = [original]
    if original.kind in PATIENT_PAYMENT_KINDS:
        # The bad-debt recovery that came with the payment goes with it: the debt is unpaid again.
        recovery = Transaction.objects.filter(
            account=account,
            kind=Kind.BAD_DEBT_RECOVERY,
            reference=RECOVERY_REFERENCE.format(payment_id=original.pk),
            reversed_by__isnull=True,
        ).first()
        if recovery is not None:
            originals.append(recovery)
    reversals = []
    try:
        with transaction.atomic():
            for each in originals:
                reversals.append(
                    Transaction.objects.create(
                        account=account,
                        encounter_id=each.encounter_id,
                        kind=Kind.REVERSAL,
                        patient_amount=-each.patient_amount,
                        insurance_amount=-each.insurance_amount,
                        effective_on=effective_on or practice_today(account.practice, now),
                        posted_at=now,
                        posted_by=acting_user if getattr(acting_user, "is_authenticated", False) else None,
                        reverses=each,
                        memo=reason[:200],
                    )
                )
    except IntegrityError:
        raise ApplicationError(MESSAGE_ALREADY_REVERSED) from None
    _apply_to_balances(account, reversals)
    for each, reversal in zip(originals, reversals, strict=True):
        audit_record(
            user=acting_user,
            action=AuditEvent.Action.POST,
            object_type="accounts.transaction",
            object_id=reversal.pk,
            practice_id=account.practice_id,
            field_group=FieldGroup.BILLING,
            detail={"account_id": account.pk, "kind": Kind.REVERSAL, "reverses": each.pk},
        )
    for reversal in reversed(reversals):
        ledger_posted.send(sender=Transaction, posting=reversal, account_id=account.pk, acting_user=acting_user)
    return reversals[0]


DEMOGRAPHIC_FIELDS = (*Patient.NAME_AND_CONTACT_FIELDS, "time_zone", "chart_notes")


@transaction.atomic
def patient_update_demographics(*, acting_user, patient_id: int, expected_updated_at=None, **changes) -> Patient:
    """Change names, contact details and/or address. An address change keeps the old address in
    the history and clears the bad-address flag. The audit row lists the fields, not the values."""
    allowed = set(DEMOGRAPHIC_FIELDS) | set(Patient.ADDRESS_FIELDS)
    unknown = set(changes) - allowed
    if unknown:
        raise ApplicationError(f"These fields cannot be changed here: {', '.join(sorted(unknown))}.")
    patient = Patient.objects.select_for_update().get(pk=patient_id)
    if expected_updated_at is not None and patient.updated_at != expected_updated_at:
        raise ApplicationError(MESSAGE_STALE)
    changed = [name for name, value in changes.items() if getattr(patient, name) != value]
    if not changed:
        return patient
    address_changed = any(name in Patient.ADDRESS_FIELDS for name in changed)
    now = timezone.now()
    if address_changed and not patient.address_history.exists():
        # Keep the address the patient arrived with before the first correction.
        AddressHistory.objects.create(
            patient=patient,
            recorded_at=patient.created_at,
            reason="Address on file",
            was_bad=patient.address_is_bad,
            **{name: getattr(patient, name) for name in Patient.ADDRESS_FIELDS},
        )
    for name in changed:
        setattr(patient, name, changes[name])
    update_fields = [*changed, "updated_at"]
    if address_changed:
        patient.address_is_bad = False
        update_fields.append("address_is_bad")
    patient.full_clean(exclude=["practice"], validate_unique=False)
    patient.save(update_fields=update_fields)
    if address_changed:
        AddressHistory.objects.create(
            patient=patient,
            recorded_at=now,
            recorded_by=acting_user,
            reason="Address updated",
            **{name: getattr(patient, name) for name in Patient.ADDRESS_FIELDS},
        )
    audit_record(
        user=acting_user,
        action=AuditEvent.Action.UPDATE,
        obj=patient,
        field_group=FieldGroup.DEMOGRAPHICS,
        detail={"fields": sorted(changed)},
    )
    return patient


@transaction.atomic
def practice_save(*, acting_user, practice: Practice, changed_fields: Iterable[str], created: bool) -> Practice:
    """Create or change a practice and its collection policy; the audit names the changed fields."""
    check_director_or_command_line(acting_user)
    changed = sorted(changed_fields)
    if not created and not changed:
        return practice
    if created:
        practice.save()
    else:
        Practice.objects.select_for_update().filter(pk=practice.pk).first()
        practice.save()
    audit_record(
        user=acting_user,
        username="" if acting_user is not None else COMMAND_LINE,
        action=AuditEvent.Action.CREATE if created else AuditEvent.Action.UPDATE,
        obj=practice,
        practice_id=practice.pk,
        field_group=FieldGroup.DIRECTOR,
        detail={"fields": changed},
    )
    return practice
