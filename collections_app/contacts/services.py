"""Contact log, promises to pay, payments taken by reps, follow-up dates, notes, flags and consents.

Every service: keyword-only, `acting_user` first, one transaction, the account row locked while
rules are checked, an audit row (ids, codes and field names only: never notes or names).
"""

from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from zoneinfo import ZoneInfo

from django.db import transaction
from django.db.models import DecimalField, Exists, F, OuterRef, Subquery, Sum, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from accounts.models import PatientAccount, Transaction
from accounts.money import MONEY, ZERO, to_money
from accounts.selectors import practice_today
from accounts.services import (
    account_lock,
    bad_debt_unrecovered,
    idempotency_key_clean,
    replay_of,
    transaction_post,
)
from accounts.validators import refuse_card_numbers
from collections_app.contacts.compliance import (
    CONVERSATION_PARTIES,
    OUTBOUND_CHANNELS,
    contact_decision,
    patient_time_zone,
)
from collections_app.models import AccountNote, Contact, ContactConsent, PromiseToPay
from collections_app.queues.services import queue_refresh_account
from core.access import FieldGroup, can_see
from core.audit import audit_job_changes, audit_record
from core.display import clock_time
from core.errors import ApplicationError
from core.models import AuditEvent
from payment_plans.models import PaymentPlan

MESSAGE_REFUSED = "Not allowed now: {explanation}."
MESSAGE_REFUSED_NEXT = "Not allowed now: {explanation}. Next allowed {when}."
MESSAGE_OVERRIDE_TIER = "Only a billing manager can override a compliance refusal."
MESSAGE_OVERRIDE_NOT_NEEDED = "Nothing to override: this contact is allowed."
MESSAGE_CHANNEL = "Choose how the contact was made."
MESSAGE_PARTY = "Choose who was contacted."
MESSAGE_OUTCOME = "Choose the outcome."
MESSAGE_OUTCOME_NEEDS_SOMEONE = "Choose who was reached: this outcome means someone was spoken to."
MESSAGE_FUTURE_CONTACT = "A contact cannot be logged in the future."
MESSAGE_PROMISE_AMOUNT = "Enter the promised amount."
MESSAGE_PROMISE_DUE = "Enter the date the payment was promised for."
MESSAGE_AMOUNT_POSITIVE = "Enter an amount greater than zero."
MESSAGE_AMOUNT_INVALID = "Enter an amount in dollars and cents."
MESSAGE_DUE_PAST = "The promised date cannot be in the past."
MESSAGE_DUE_TOO_FAR = "A promise to pay is due within {days} days; for longer, set up a payment plan."
MESSAGE_METHOD = "Choose how the payment was made: cash, check, card or money order."
MESSAGE_CARD_NEEDS_REFERENCE = "A card payment needs the payment processor's reference."
MESSAGE_PAYMENT_DATE_FUTURE = "A payment cannot be dated in the future."
MESSAGE_OVERPAYMENT = (
    "This payment is {excess} more than the patient balance of {balance}. To take it anyway, confirm the "
    "overpayment and say why: the account will carry a credit."
)
MESSAGE_OVERPAYMENT_CONFIRM = "Confirm the overpayment to post it."
MESSAGE_OVERPAYMENT_REASON = "Say why the patient is paying more than the balance."
MESSAGE_OVERPAYMENT_LIMIT = (
    "A payment of {amount} is more than this practice allows on a balance of {balance}: a payment may exceed "
    "the balance by at most {limit}."
)
MESSAGE_PROMISE_OVER_BALANCE = "A promise cannot be for more than the patient balance of {balance}."
MESSAGE_PROMISE_ON_PLAN = "The patient is on a payment plan: the plan's installments are the promise."
MESSAGE_FOLLOW_UP_PAST = "Choose a follow-up date after today."
MESSAGE_FOLLOW_UP_TOO_FAR = "Choose a follow-up date within a year."
MESSAGE_NOTE_EMPTY = "Write the note."
MESSAGE_NOTE_TOO_LONG = "A note is at most {limit} characters."
MESSAGE_CEASE_DATE_FUTURE = "The cease-communication date cannot be in the future."
MESSAGE_ATTORNEY_NAME = "Enter the attorney's name."
MESSAGE_CONSENT_CHANNEL = "Choose texts or autodialed calls."
MESSAGE_CONSENT_DATE_FUTURE = "Consent cannot be dated in the future."
MESSAGE_CONSENT_EXISTS = "Consent to {label} is already on record."
MESSAGE_CONSENT_NONE = "There is no consent to {label} on record to revoke."
MESSAGE_REVOKE_DATE_FUTURE = "A revocation cannot be dated in the future."
MESSAGE_REVOKE_BEFORE_GRANT = "A revocation cannot be dated before the consent was given."

# A promise is a short commitment; anything longer is a payment plan (installments, grace days).
PROMISE_MAX_DAYS = 90
FOLLOW_UP_MAX_DAYS = 365
NOTE_MAX_LENGTH = 5000
# Payment kinds a promise is kept by; payment_plans owns plan installments separately.
PROMISE_PAYMENT_KINDS = (Transaction.Kind.PATIENT_PAYMENT, Transaction.Kind.AGENCY_PAYMENT)
PAYMENT_METHODS = (
    Transaction.PaymentMethod.CASH,
    Transaction.PaymentMethod.CHECK,
    Transaction.PaymentMethod.CARD,
    Transaction.PaymentMethod.MONEY_ORDER,
)
# Outcomes that mean the consumer was spoken to: "nobody reached" cannot have them.
SPOKEN_OUTCOMES = frozenset(
    {
        Contact.Outcome.PROMISE_TO_PAY,
        Contact.Outcome.DISPUTES,
        Contact.Outcome.REFUSES,
        Contact.Outcome.PAID,
        Contact.Outcome.REQUESTS_PLAN,
        Contact.Outcome.ATTORNEY_REPRESENTED,
        Contact.Outcome.CEASE_REQUESTED,
        Contact.Outcome.CALLBACK_REQUESTED,
        Contact.Outcome.INFORMATION_GIVEN,
        Contact.Outcome.DECEASED_REPORTED,
    }
)


def _money(value, field: str) -> Decimal:
    if value is None or value == "":
        raise ApplicationError(MESSAGE_AMOUNT_POSITIVE, field=field)
    try:
        amount = to_money(value if isinstance(value, Decimal) else str(value))
    except (InvalidOperation, TypeError, ValueError):
        raise ApplicationError(MESSAGE_AMOUNT_INVALID, field=field) from None
    if not amount.is_finite() or amount <= 0:
        raise ApplicationError(MESSAGE_AMOUNT_POSITIVE, field=field)
    if amount >= Decimal("10000000000"):
        raise ApplicationError(MESSAGE_AMOUNT_INVALID, field=field)
    return amount


# --- Contact log ---------------------------------------------------------------------------------


@transaction.atomic
def contact_log(
    *,
    acting_user,
    account_id: int,
    channel: str,
    party: str,
    outcome: str,
    notes: str = "",
    autodialed: bool = False,
    occurred_at: datetime | None = None,
    override_reason: str = "",
    promise_amount=None,
    promise_due_on: date | None = None,
    attorney_name: str = "",
    attorney_phone: str = "",
    idempotency_key: str = "",
) -> Contact:
    """Log a call, text, letter or email. Outbound attempts ask the compliance governor first; a
    refusal stands unless a manager overrides it with a reason (kept on the contact and audited).

    The form's token makes a double submit log once: the replay answers with the first contact
    (`contact.replayed`), and makes no second promise and no second attempt against the caps."""
    now = timezone.now()
    idempotency_key = idempotency_key_clean(idempotency_key)
    if channel not in Contact.Channel.values:
        raise ApplicationError(MESSAGE_CHANNEL, field="channel")
    if party not in Contact.Party.values:
        raise ApplicationError(MESSAGE_PARTY, field="party")
    if outcome not in Contact.Outcome.values:
        raise ApplicationError(MESSAGE_OUTCOME, field="outcome")
    if party == Contact.Party.NOBODY and outcome in SPOKEN_OUTCOMES:
        raise ApplicationError(MESSAGE_OUTCOME_NEEDS_SOMEONE, field="party")
    occurred_at = occurred_at or now
    if occurred_at > now + timedelta(minutes=5):
        raise ApplicationError(MESSAGE_FUTURE_CONTACT, field="occurred_at")
    refuse_card_numbers("notes", notes)
    refuse_card_numbers("override_reason", override_reason)
    override_reason = override_reason.strip()
    if override_reason and not can_see(acting_user, FieldGroup.MANAGEMENT):
        raise ApplicationError(MESSAGE_OVERRIDE_TIER, field="override_reason")
    autodialed = bool(autodialed) and channel == Contact.Channel.OUTBOUND_CALL

    # The account lock serialises contact attempts: two reps logging calls at once are counted
    # against the cap one after the other. The compliance rules read the patient and guarantor.
    account = account_lock(account_id=account_id, related=("patient", "guarantor"))
    first = replay_of(account.contacts, idempotency_key)
    if first is not None:
        return first
    overridden: list[str] = []
    if channel in OUTBOUND_CHANNELS:
        decision = contact_decision(
            account=account, channel=channel, party=party, autodialed=autodialed, at=occurred_at
        )
        if not decision.allowed:
            if not override_reason:
                next_at = decision.next_allowed_at
                raise ApplicationError(
                    _refusal_message(decision, account),
                    extra={"rules": decision.codes, "next_allowed_at": next_at.isoformat() if next_at else None},
                )
            overridden = decision.codes
    if override_reason and not overridden:
        raise ApplicationError(MESSAGE_OVERRIDE_NOT_NEEDED, field="override_reason")

    contact = Contact.objects.create(
        account=account,
        practice_id=account.practice_id,
        channel=channel,
        party=party,
        outcome=outcome,
        autodialed=autodialed,
        notes=notes,
        occurred_at=occurred_at,
        logged_by=acting_user,
        override_by=acting_user if overridden else None,
        override_reason=override_reason if overridden else "",
        idempotency_key=idempotency_key,
    )
    audit_record(
        user=acting_user,
        action=AuditEvent.Action.CREATE,
        obj=contact,
        field_group=FieldGroup.BILLING,
        detail={"account_id": account.pk, "channel": channel, "party": party, "outcome": outcome},
    )
    if overridden:
        # The override is its own audit row so a manager's overrides can be listed on their own.
        audit_record(
            user=acting_user,
            action=AuditEvent.Action.UPDATE,
            obj=contact,
            field_group=FieldGroup.MANAGEMENT,
            detail={"account_id": account.pk, "override": True, "overridden_rules": overridden},
        )

    local_day = timezone.localdate(occurred_at, ZoneInfo(account.practice.time_zone))
    if outcome == Contact.Outcome.PROMISE_TO_PAY:
        if promise_amount in (None, ""):
            raise ApplicationError(MESSAGE_PROMISE_AMOUNT, field="promise_amount")
        if promise_due_on is None:
            raise ApplicationError(MESSAGE_PROMISE_DUE, field="promise_due_on")
        _promise_create(
            acting_user=acting_user,
            account=account,
            amount=promise_amount,
            due_on=promise_due_on,
            contact=contact,
            amount_field="promise_amount",
            due_field="promise_due_on",
        )
    elif outcome == Contact.Outcome.ATTORNEY_REPRESENTED and party in CONVERSATION_PARTIES | {Contact.Party.ATTORNEY}:
        _flags_change(
            acting_user=acting_user,
            account=account,
            attorney_represented=True,
            attorney_name=attorney_name,
            attorney_phone=attorney_phone,
            because_of=contact,
        )
    elif outcome == Contact.Outcome.CEASE_REQUESTED and party in CONVERSATION_PARTIES | {Contact.Party.ATTORNEY}:
        if account.cease_communication_on is None:
            _flags_change(
                acting_user=acting_user, account=account, cease_communication_on=local_day, because_of=contact
            )
    return contact


def next_allowed_text(local) -> str:
    """The governor's next allowed time, on the patient's clock: "Wed 12/02/2026 8:00 AM EST".
    The one format of core.display; the panel writes it with the same function (`clock` filter)."""
    return clock_time(local, local.tzinfo)


def _refusal_message(decision, account) -> str:
    if decision.next_allowed_at is None:
        return MESSAGE_REFUSED.format(explanation="; ".join(r.explanation for r in decision.reasons))
    local = decision.next_allowed_at.astimezone(patient_time_zone(account))
    return MESSAGE_REFUSED_NEXT.format(
        explanation="; ".join(r.explanation for r in decision.reasons),
        when=next_allowed_text(local),
    )


# --- Promises to pay -----------------------------------------------------------------------------


@transaction.atomic
def promise_create(
    *, acting_user, account_id: int, amount, due_on: date | None, idempotency_key: str = ""
) -> PromiseToPay:
    """A promise to pay `amount` by `due_on` (practice-local dates; due today or within 90 days).

    With an idempotency key, a second call with the same key answers with the first promise
    (`promise.replayed`) and makes none."""
    idempotency_key = idempotency_key_clean(idempotency_key)
    account = account_lock(account_id=account_id)
    first = replay_of(PromiseToPay.objects.filter(account=account), idempotency_key)
    if first is not None:
        return first
    return _promise_create(
        acting_user=acting_user, account=account, amount=amount, due_on=due_on, idempotency_key=idempotency_key
    )


def _promise_create(
    *,
    acting_user,
    account,
    amount,
    due_on,
    contact=None,
    amount_field="amount",
    due_field="due_on",
    idempotency_key: str = "",
) -> PromiseToPay:
    amount = _money(amount, amount_field)
    if due_on is None:
        raise ApplicationError(MESSAGE_PROMISE_DUE, field=due_field)
    today = practice_today(account.practice)
    if due_on < today:
        raise ApplicationError(MESSAGE_DUE_PAST, field=due_field)
    if due_on > today + timedelta(days=PROMISE_MAX_DAYS):
        raise ApplicationError(MESSAGE_DUE_TOO_FAR.format(days=PROMISE_MAX_DAYS), field=due_field)
    if amount > account.patient_balance:
        balance = _dollars(max(account.patient_balance, ZERO))
        raise ApplicationError(MESSAGE_PROMISE_OVER_BALANCE.format(balance=balance), field=amount_field)
    if PaymentPlan.objects.filter(account=account, status__in=PaymentPlan.RUNNING_STATUSES).exists():
        raise ApplicationError(MESSAGE_PROMISE_ON_PLAN, field=amount_field)
    promise = PromiseToPay.objects.create(
        account=account,
        practice_id=account.practice_id,
        contact=contact,
        amount=amount,
        promised_on=today,
        due_on=due_on,
        created_by=acting_user,
        idempotency_key=idempotency_key,
    )
    audit_record(
        user=acting_user,
        action=AuditEvent.Action.CREATE,
        obj=promise,
        field_group=FieldGroup.BILLING,
        detail={"account_id": account.pk, "contact_id": contact.pk if contact else None},
    )
    queue_refresh_account(account_id=account.pk)
    return promise


def _paid_toward_promise(as_of: date):
    """Patient and agency payments on the promise's account from the day it was made through its
    due date (and no later than `as_of`), net of reversals posted by `as_of`. Payments are negative
    ledger amounts, so the sum is negated."""
    reversed_by_then = Transaction.objects.filter(
        kind=Transaction.Kind.REVERSAL, reverses=OuterRef("pk"), effective_on__lte=as_of
    )
    payments = (
        Transaction.objects.filter(
            account=OuterRef("account"),
            kind__in=PROMISE_PAYMENT_KINDS,
            effective_on__gte=OuterRef("promised_on"),
            effective_on__lte=OuterRef("due_on"),
        )
        .filter(effective_on__lte=as_of)
        .exclude(Exists(reversed_by_then))
        .order_by()
        .values("account")
        .annotate(total=Sum("patient_amount"))
        .values("total")
    )
    money = DecimalField(**MONEY)
    return Coalesce(Subquery(payments, output_field=money), Value(ZERO, output_field=money), output_field=money)


@transaction.atomic
def promise_check(*, as_of_by_practice: dict[int, date]) -> dict[str, int]:
    """Nightly: open promises become KEPT when payments since they were made reach the amount by
    the due date, and BROKEN when the due date has passed without that. Set-based per practice
    (one select of ids, one update, one bulk audit insert per status); running it again for the
    same dates finds no open promise left to change."""
    counts = {"kept": 0, "broken": 0}
    audits: list[AuditEvent] = []
    now = timezone.now()
    for practice_id, as_of in sorted(as_of_by_practice.items()):
        open_promises = PromiseToPay.objects.filter(practice_id=practice_id, status=PromiseToPay.Status.OPEN)
        kept_rows = list(
            open_promises.annotate(paid=_paid_toward_promise(as_of))
            .filter(paid__lte=-F("amount"))
            .values_list("pk", "account_id")
        )
        if kept_rows:
            PromiseToPay.objects.filter(pk__in=[pk for pk, _ in kept_rows], status=PromiseToPay.Status.OPEN).update(
                status=PromiseToPay.Status.KEPT, resolved_on=as_of
            )
        broken_rows = list(
            open_promises.filter(due_on__lt=as_of)
            .exclude(pk__in=[pk for pk, _ in kept_rows])
            .values_list("pk", "account_id")
        )
        if broken_rows:
            PromiseToPay.objects.filter(pk__in=[pk for pk, _ in broken_rows], status=PromiseToPay.Status.OPEN).update(
                status=PromiseToPay.Status.BROKEN, resolved_on=as_of
            )
        for status, rows in ((PromiseToPay.Status.KEPT, kept_rows), (PromiseToPay.Status.BROKEN, broken_rows)):
            counts[status.value] += len(rows)
            audits.extend(
                (pk, practice_id, {"account_id": account_id, "status": status.value, "as_of": as_of.isoformat()})
                for pk, account_id in rows
            )
    audit_job_changes(
        job="promise_check",
        object_type="collections_app.promisetopay",
        changes=audits,
        occurred_at=now,
        field_group=FieldGroup.BILLING,
    )
    return counts


# --- Payments --------------------------------------------------------------------------------------


@transaction.atomic
@transaction.atomic
def payment_record(
    *,
    acting_user,
    account_id: int,
    amount,
    method: str,
    reference: str = "",
    notes: str = "",
    effective_on: date | None = None,
    idempotency_key: str = "",
    confirm_overpayment: bool = False,
    overpayment_reason: str = "",
) -> Transaction:
    """A payment taken by a rep (cash, check, card through the processor, money order), posted to
    the ledger as a patient payment. Card numbers are never recorded: the processor's reference is.

    The form's token (or the API's Idempotency-Key) makes a double submit post once: the replay
    answers with the first row (`row.replayed`). A payment above the patient balance is refused
    unless the rep confirms it with a reason, and never by more than the practice's limit.
    """
    amount = _money(amount, "amount")
    if method not in PAYMENT_METHODS:
        raise ApplicationError(MESSAGE_METHOD, field="method")
    reference = (reference or "").strip()
    notes = (notes or "").strip()
    overpayment_reason = (overpayment_reason or "").strip()
    # PCI DSS 3.2.1 / 3.4: a card number typed into any free-text field is refused, not stored.
    refuse_card_numbers("reference", reference)
    refuse_card_numbers("notes", notes)
    refuse_card_numbers("overpayment_reason", overpayment_reason)
    if method == Transaction.PaymentMethod.CARD and not reference:
        raise ApplicationError(MESSAGE_CARD_NEEDS_REFERENCE, field="reference")
    # Locked first: the balance the overpayment check reads is the one the payment posts against.
    # bump=False: transaction_post moves the version with the balances (a replay leaves it alone).
    account = account_lock(account_id=account_id, bump=False)
    today = practice_today(account.practice)
    if effective_on is not None and effective_on > today:
        raise ApplicationError(MESSAGE_PAYMENT_DATE_FUTURE, field="effective_on")
    replay = bool(idempotency_key) and account.transactions.filter(idempotency_key=idempotency_key).exists()
    memo = notes
    if not replay:
        excess = amount - max(account.patient_balance, ZERO)
        if excess > 0:
            # What pays back bad debt written off posts as a bad-debt recovery, not an overpayment.
            excess -= bad_debt_unrecovered(account.pk)
        if excess > 0:
            _check_overpayment(account, amount, excess, confirmed=confirm_overpayment, reason=overpayment_reason)
            memo = f"{notes} · Overpayment: {overpayment_reason}" if notes else f"Overpayment: {overpayment_reason}"
    return transaction_post(
        acting_user=acting_user,
        account_id=account_id,
        kind=Transaction.Kind.PATIENT_PAYMENT,
        patient_amount=-amount,
        effective_on=effective_on or today,
        payment_method=method,
        reference=reference,
        memo=memo[:200],
        idempotency_key=idempotency_key,
    )
    # The plan and the queue follow the posting (accounts.events.ledger_posted).


def _check_overpayment(account, amount, excess, *, confirmed: bool, reason: str) -> None:
    limit = account.practice.overpayment_limit
    balance = max(account.patient_balance, ZERO)
    if excess > limit:
        raise ApplicationError(
            MESSAGE_OVERPAYMENT_LIMIT.format(amount=_dollars(amount), balance=_dollars(balance), limit=_dollars(limit)),
            field="amount",
        )
    if not confirmed:
        raise ApplicationError(
            MESSAGE_OVERPAYMENT.format(excess=_dollars(excess), balance=_dollars(balance)),
            field="amount",
            extra={"confirm_overpayment": [MESSAGE_OVERPAYMENT_CONFIRM]},
        )
    if not reason:
        raise ApplicationError(MESSAGE_OVERPAYMENT_REASON, field="overpayment_reason")


def _dollars(amount) -> str:
    return f"${amount:,.2f}"


# --- Follow-up, notes ----------------------------------------------------------------------------


@transaction.atomic
def follow_up_set(*, acting_user, account_id: int, follow_up_on: date | None) -> PatientAccount:
    """Set (or, with None, clear) the account's follow-up date: after today, within a year."""
    account = account_lock(account_id=account_id)
    if follow_up_on is not None:
        today = practice_today(account.practice)
        if follow_up_on <= today:
            raise ApplicationError(MESSAGE_FOLLOW_UP_PAST, field="follow_up_on")
        if follow_up_on > today + timedelta(days=FOLLOW_UP_MAX_DAYS):
            raise ApplicationError(MESSAGE_FOLLOW_UP_TOO_FAR, field="follow_up_on")
    if account.follow_up_on == follow_up_on:
        return account
    account.follow_up_on = follow_up_on
    account.save(update_fields=["follow_up_on"])
    audit_record(
        user=acting_user,
        action=AuditEvent.Action.UPDATE,
        obj=account,
        field_group=FieldGroup.BILLING,
        detail={"fields": ["follow_up_on"]},
    )
    queue_refresh_account(account_id=account.pk)
    return account


@transaction.atomic
def note_add(*, acting_user, account_id: int, body: str) -> AccountNote:
    body = (body or "").strip()
    if not body:
        raise ApplicationError(MESSAGE_NOTE_EMPTY, field="body")
    if len(body) > NOTE_MAX_LENGTH:
        raise ApplicationError(MESSAGE_NOTE_TOO_LONG.format(limit=NOTE_MAX_LENGTH), field="body")
    refuse_card_numbers("body", body)
    account = account_lock(account_id=account_id)
    note = AccountNote.objects.create(
        account=account, practice_id=account.practice_id, body=body, created_by=acting_user
    )
    audit_record(
        user=acting_user,
        action=AuditEvent.Action.CREATE,
        obj=note,
        field_group=FieldGroup.BILLING,
        detail={"account_id": account.pk},
    )
    return note


# --- Communication flags -----------------------------------------------------------------------


@transaction.atomic
def flags_set(
    *,
    acting_user,
    account_id: int,
    cease_communication: bool | None = None,
    cease_communication_on: date | None = None,
    attorney_represented: bool | None = None,
    attorney_name: str = "",
    attorney_phone: str = "",
    expected_version: int | None = None,
) -> PatientAccount:
    """Turn cease-communication (FDCPA 1692c(c), with its date) and attorney representation
    (1692c(a)(2), with the attorney's name and phone) on or off. None leaves a flag as it is."""
    account = account_lock(account_id=account_id, expected_version=expected_version)
    today = practice_today(account.practice)
    changes: dict = {}
    if cease_communication is True:
        on = cease_communication_on or today
        if on > today:
            raise ApplicationError(MESSAGE_CEASE_DATE_FUTURE, field="cease_communication_on")
        changes["cease_communication_on"] = on
    elif cease_communication is False:
        changes["cease_communication_on"] = None
    if attorney_represented is True:
        attorney_name = (attorney_name or "").strip()
        if not attorney_name and not account.attorney_name:
            raise ApplicationError(MESSAGE_ATTORNEY_NAME, field="attorney_name")
        changes["attorney_represented"] = True
    elif attorney_represented is False:
        changes["attorney_represented"] = False
    return _flags_change(
        acting_user=acting_user, account=account, attorney_name=attorney_name, attorney_phone=attorney_phone, **changes
    )


def _flags_change(*, acting_user, account, attorney_name="", attorney_phone="", because_of=None, **changes):
    refuse_card_numbers("attorney_name", attorney_name or "")
    if changes.get("attorney_represented"):
        if attorney_name:
            changes["attorney_name"] = attorney_name.strip()[:200]
        if attorney_phone:
            changes["attorney_phone"] = "".join(ch for ch in attorney_phone if ch.isdigit())[:20]
    changed = {name: value for name, value in changes.items() if getattr(account, name) != value}
    if not changed:
        return account
    flag_change = []
    if "cease_communication_on" in changed:
        flag_change.append("cease_on" if changed["cease_communication_on"] else "cease_off")
    if "attorney_represented" in changed:
        flag_change.append("attorney_on" if changed["attorney_represented"] else "attorney_off")
    # account_lock has moved the version and updated_at: once per change, however many fields.
    for name, value in changed.items():
        setattr(account, name, value)
    account.save(update_fields=list(changed))
    detail = {"fields": sorted(changed)}
    if flag_change:
        detail["flag_change"] = flag_change
    if because_of is not None:
        detail["contact_id"] = because_of.pk
    audit_record(
        user=acting_user, action=AuditEvent.Action.UPDATE, obj=account, field_group=FieldGroup.BILLING, detail=detail
    )
    queue_refresh_account(account_id=account.pk)
    return account


# --- Consent (TCPA 47 USC 227) ---------------------------------------------------------------------


def _consent_label(channel: str) -> str:
    return ContactConsent.Channel(channel).label.lower()


@transaction.atomic
def consent_record(
    *, acting_user, account_id: int, channel: str, granted_on: date | None = None, granted_how: str = ""
) -> ContactConsent:
    if channel not in ContactConsent.Channel.values:
        raise ApplicationError(MESSAGE_CONSENT_CHANNEL, field="channel")
    refuse_card_numbers("granted_how", granted_how)
    account = account_lock(account_id=account_id)
    today = practice_today(account.practice)
    granted_on = granted_on or today
    if granted_on > today:
        raise ApplicationError(MESSAGE_CONSENT_DATE_FUTURE, field="granted_on")
    if ContactConsent.objects.filter(account=account, channel=channel, revoked_on__isnull=True).exists():
        raise ApplicationError(MESSAGE_CONSENT_EXISTS.format(label=_consent_label(channel)), field="channel")
    consent = ContactConsent.objects.create(
        account=account,
        practice_id=account.practice_id,
        channel=channel,
        granted_on=granted_on,
        granted_how=granted_how.strip()[:200],
        recorded_by=acting_user,
    )
    audit_record(
        user=acting_user,
        action=AuditEvent.Action.CREATE,
        obj=consent,
        field_group=FieldGroup.BILLING,
        detail={"account_id": account.pk, "channel": channel},
    )
    return consent


@transaction.atomic
def consent_revoke(*, acting_user, account_id: int, channel: str, revoked_on: date | None = None) -> ContactConsent:
    """Record that the patient withdrew consent (any reasonable means revokes, FCC 2015 TCPA
    Order); contact on that channel is refused from `revoked_on`."""
    if channel not in ContactConsent.Channel.values:
        raise ApplicationError(MESSAGE_CONSENT_CHANNEL, field="channel")
    account = account_lock(account_id=account_id)
    today = practice_today(account.practice)
    revoked_on = revoked_on or today
    if revoked_on > today:
        raise ApplicationError(MESSAGE_REVOKE_DATE_FUTURE, field="revoked_on")
    consent = (
        ContactConsent.objects.filter(account=account, channel=channel, revoked_on__isnull=True)
        .order_by("-granted_on", "-id")
        .first()
    )
    if consent is None:
        raise ApplicationError(MESSAGE_CONSENT_NONE.format(label=_consent_label(channel)), field="channel")
    if revoked_on < consent.granted_on:
        raise ApplicationError(MESSAGE_REVOKE_BEFORE_GRANT, field="revoked_on")
    consent.revoked_on = revoked_on
    consent.save(update_fields=["revoked_on"])
    audit_record(
        user=acting_user,
        action=AuditEvent.Action.UPDATE,
        obj=consent,
        field_group=FieldGroup.BILLING,
        detail={"account_id": account.pk, "channel": channel, "fields": ["revoked_on"]},
    )
    return consent
