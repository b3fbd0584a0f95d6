"""Every change to a payment plan: lock, check, change, audit, in one transaction.

Status moves follow ALLOWED_MOVES (DESIGN.md, "State machines"); each writes a PlanStatusChange row
and an audit row. The account is "on a payment plan" (PatientAccount.status payment_plan) while its
plan is active or lapsed, unless the account is on hold (the hold stays). Payments are never
recorded here: `plan_payment_received` re-reads the ledger and re-applies the account's patient
payments to the installments, so applying twice gives the same result. It runs on every ledger
posting of a payment or its reversal (payment_plans.receivers, on accounts.events.ledger_posted).
"""

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

from django.db import transaction
from django.utils import timezone

from accounts.models import PatientAccount, Practice, Transaction
from accounts.money import CENT, ZERO, to_money
from accounts.selectors import practice_today
from accounts.services import account_lock
from accounts.validators import refuse_card_numbers
from core.access import FieldGroup
from core.audit import audit_record
from core.errors import ApplicationError
from core.models import AuditEvent
from payment_plans import schedule as plan_schedule
from payment_plans.events import plan_started
from payment_plans.models import Installment, PaymentPlan, PlanRevision, PlanStatusChange

Status = PaymentPlan.Status
Frequency = PaymentPlan.Frequency
Reason = PlanStatusChange.Reason

# The ledger rows a plan counts as payments toward its installments (payment_plans.receivers
# re-applies them whenever one of these, or its reversal, is posted).
PLAN_PAYMENT_KINDS = frozenset({Transaction.Kind.PATIENT_PAYMENT})

ALLOWED_MOVES: dict[str, set[str]] = {
    Status.PROPOSED: {Status.ACTIVE, Status.CANCELLED},
    Status.ACTIVE: {Status.LAPSED, Status.DEFAULTED, Status.COMPLETED, Status.CANCELLED},
    Status.LAPSED: {Status.ACTIVE, Status.DEFAULTED, Status.COMPLETED, Status.CANCELLED},
    Status.DEFAULTED: set(),
    Status.COMPLETED: set(),
    Status.CANCELLED: set(),
}

MESSAGE_NOT_ALLOWED = "A {current} plan cannot become {target}."
MESSAGE_NOTE_TOO_LONG = "Keep the note to {limit} characters."
NOTE_MAX_LENGTH = PlanStatusChange._meta.get_field("note").max_length
MESSAGE_OPEN_PLAN_EXISTS = "This account already has an open payment plan. Modify or cancel it first."
MESSAGE_ACCOUNT_NOT_WORKABLE = "A payment plan cannot be set up on an account that is {status}."
MESSAGE_TOTAL_NOT_POSITIVE = "The plan total must be more than zero."
MESSAGE_TOTAL_OVER_BALANCE = "The plan total cannot be more than the patient balance ({balance})."
MESSAGE_DOWN_NEGATIVE = "The down payment cannot be negative."
MESSAGE_DOWN_TOO_LARGE = "The down payment must be less than the plan total."
MESSAGE_DOWN_TOO_SMALL = "This practice requires a down payment of at least {percent}% of the total ({minimum})."
MESSAGE_AMOUNT_OR_COUNT = "Enter an installment amount or a number of installments."
MESSAGE_AMOUNT_AND_COUNT = "Enter an installment amount or a number of installments, not both."
MESSAGE_AMOUNT_NOT_POSITIVE = "The installment amount must be more than zero."
MESSAGE_COUNT_NOT_POSITIVE = "The number of installments must be at least 1."
MESSAGE_MIN_INSTALLMENT = (
    "Each installment must be at least {minimum}: the practice's minimum installment, or the balance "
    "spread over {months} months, whichever is larger."
)
MESSAGE_TERM_TOO_LONG = (
    "The plan would run longer than this practice's maximum of {months} months. "
    "Raise the installment amount or lower the number of installments."
)
MESSAGE_BAD_FREQUENCY = "Choose monthly or every two weeks."
MESSAGE_BAD_DAY = "Choose a due day from 1 to 31 (31 means the last day of shorter months)."
MESSAGE_START_IN_PAST = "The first installment cannot be due before today."
MESSAGE_AUTOPAY_NEEDS_TOKEN = "Autopay needs the payment processor's token reference."
MESSAGE_NOTHING_TO_RESCHEDULE = "Nothing is left to reschedule: every installment is paid."
MESSAGE_CANNOT_MODIFY = "A {current} plan cannot be modified."
MESSAGE_PLAN_CHANGED = (
    "The plan was changed since this page was opened (it is at revision {revision} now): reload it to see the "
    "new terms before changing them."
)


@dataclass(frozen=True)
class Terms:
    """A schedule that passed the practice's policy."""

    financed: Decimal
    frequency: str
    day_of_month: int | None
    start_on: date
    installments: list[plan_schedule.ScheduledInstallment]

    @property
    def count(self) -> int:
        return len(self.installments)

    @property
    def regular_amount(self) -> Decimal:
        return self.installments[0].amount


def _money_or_none(value) -> Decimal | None:
    return None if value in (None, "") else to_money(value)


def plan_terms(
    *,
    practice: Practice,
    financed: Decimal,
    installment_amount=None,
    installment_count: int | None = None,
    frequency: str = Frequency.MONTHLY,
    day_of_month: int | None = None,
    start_on: date,
    today: date,
) -> Terms:
    """Check terms against the practice's plan policy and build the schedule, or refuse."""
    installment_amount = _money_or_none(installment_amount)
    if installment_amount is None and installment_count in (None, ""):
        raise ApplicationError(MESSAGE_AMOUNT_OR_COUNT, field="installment_amount")
    if installment_amount is not None and installment_count not in (None, ""):
        raise ApplicationError(MESSAGE_AMOUNT_AND_COUNT, field="installment_count")
    if frequency not in Frequency.values:
        raise ApplicationError(MESSAGE_BAD_FREQUENCY, field="frequency")
    if frequency == Frequency.MONTHLY:
        day_of_month = day_of_month or start_on.day
        if not 1 <= int(day_of_month) <= 31:
            raise ApplicationError(MESSAGE_BAD_DAY, field="day_of_month")
        day_of_month = int(day_of_month)
    else:
        day_of_month = None
    if start_on < today:
        raise ApplicationError(MESSAGE_START_IN_PAST, field="start_on")

    if installment_amount is not None:
        if installment_amount <= 0:
            raise ApplicationError(MESSAGE_AMOUNT_NOT_POSITIVE, field="installment_amount")
        count, field = plan_schedule.count_for_amount(financed, installment_amount), "installment_amount"
    else:
        count, field = int(installment_count), "installment_count"
        if count < 1:
            raise ApplicationError(MESSAGE_COUNT_NOT_POSITIVE, field="installment_count")
    # Bound the term before building dates: a one-cent installment would run for centuries.
    if count > plan_schedule.most_installments(frequency, practice.plan_max_months):
        raise ApplicationError(MESSAGE_TERM_TOO_LONG.format(months=practice.plan_max_months), field=field)
    if installment_amount is not None:
        installments = plan_schedule.build_schedule_of_amount(
            financed=financed,
            installment_amount=installment_amount,
            start_on=start_on,
            frequency=frequency,
            day_of_month=day_of_month,
        )
    else:
        installments = plan_schedule.build_schedule(
            financed=financed, count=count, start_on=start_on, frequency=frequency, day_of_month=day_of_month
        )
    minimum = plan_schedule.minimum_installment(
        financed=financed, practice_minimum=practice.plan_min_installment, max_months=practice.plan_max_months
    )
    # A balance smaller than the minimum may still be paid in one installment.
    if count > 1 and installments[0].amount < minimum:
        raise ApplicationError(
            MESSAGE_MIN_INSTALLMENT.format(minimum=f"${minimum:,}", months=practice.plan_max_months), field=field
        )
    if installments[-1].due_on >= plan_schedule.term_end(installments[0].due_on, practice.plan_max_months):
        raise ApplicationError(MESSAGE_TERM_TOO_LONG.format(months=practice.plan_max_months), field=field)
    return Terms(financed, frequency, day_of_month, start_on, installments)


def minimum_down_payment(practice: Practice, total: Decimal) -> Decimal:
    return (total * practice.plan_min_down_payment_percent / 100).quantize(CENT, rounding=ROUND_HALF_UP)


# --- Locking and the status machine --------------------------------------------------------------


def _lock(plan_id: int, *, bump: bool = True) -> tuple[PatientAccount, PaymentPlan]:
    # Account first, then plan: the ledger locks the account row to post, so payment application
    # and postings to one account are serialised in the same order everywhere (no deadlock).
    account_id = PaymentPlan.objects.values_list("account_id", flat=True).get(pk=plan_id)
    account = account_lock(account_id=account_id, bump=bump)
    plan = PaymentPlan.objects.select_for_update().get(pk=plan_id)
    return account, plan


def _sync_account_status(plan: PaymentPlan) -> None:
    """On a plan while it runs; back to the normal cadence when it ends. A hold is left alone.
    The account is locked, and its version moved, by the service that moved the plan."""
    accounts = PatientAccount.objects.filter(pk=plan.account_id)
    if plan.status in PaymentPlan.RUNNING_STATUSES:
        accounts.filter(status=PatientAccount.Status.ACTIVE).update(status=PatientAccount.Status.PAYMENT_PLAN)
    else:
        accounts.filter(status=PatientAccount.Status.PAYMENT_PLAN).update(status=PatientAccount.Status.ACTIVE)


def _transition(
    *, acting_user, plan: PaymentPlan, account: PatientAccount, target: str, reason: str, note: str = ""
) -> bool:
    """Move a locked plan. Already there: False. Not allowed: ApplicationError."""
    if plan.status == target:
        return False
    if target not in ALLOWED_MOVES[plan.status]:
        raise ApplicationError(
            MESSAGE_NOT_ALLOWED.format(current=Status(plan.status).label.lower(), target=Status(target).label.lower())
        )
    now = timezone.now()
    previous = plan.status
    plan.status = target
    plan.status_changed_at = now
    plan.save(update_fields=["status", "status_changed_at", "updated_at"])
    PlanStatusChange.objects.create(
        plan=plan,
        practice_id=plan.practice_id,
        from_status=previous,
        to_status=target,
        reason=reason,
        note=note,
        as_of=practice_today(account.practice, now),
        changed_at=now,
        changed_by=_user_or_none(acting_user),
    )
    _sync_account_status(plan)
    audit_record(
        user=acting_user,
        action=AuditEvent.Action.UPDATE,
        obj=plan,
        field_group=FieldGroup.BILLING,
        detail={"account_id": plan.account_id, "from": previous, "to": target, "reason": reason},
    )
    if target == Status.ACTIVE and previous == Status.PROPOSED:
        plan_started.send(sender=PaymentPlan, plan=plan, acting_user=acting_user)
    return True


def _user_or_none(user):
    return user if getattr(user, "is_authenticated", False) else None


# --- Applying payments ---------------------------------------------------------------------------


def _plan_payments(plan: PaymentPlan) -> list[tuple[date, Decimal]]:
    """The account's patient payments since the plan was set up, reversed ones left out."""
    rows = (
        Transaction.objects.filter(
            account_id=plan.account_id,
            kind__in=PLAN_PAYMENT_KINDS,
            effective_on__gte=plan.created_on,
            reversed_by__isnull=True,
        )
        .order_by("effective_on", "id")
        .values_list("effective_on", "patient_amount")
    )
    return [(day, -amount) for day, amount in rows]


def _apply_payments(plan: PaymentPlan) -> list[Installment]:
    """Recompute paid amounts of the current schedule, oldest installment first: a partial payment
    stays on its installment, an overpayment carries to the next ones. Idempotent."""
    installments = list(plan.installments.filter(superseded_at__isnull=True).order_by("due_on", "number"))
    paid = {row.pk: ZERO for row in installments}
    paid_on: dict[int, date | None] = {row.pk: None for row in installments}
    position = 0
    for day, amount in _plan_payments(plan):
        while amount > 0 and position < len(installments):
            row = installments[position]
            applied = min(amount, row.amount - paid[row.pk])
            paid[row.pk] += applied
            amount -= applied
            if paid[row.pk] == row.amount:
                paid_on[row.pk] = day
                position += 1
    changed = []
    for row in installments:
        if row.paid_amount != paid[row.pk] or row.paid_on != paid_on[row.pk]:
            row.paid_amount, row.paid_on = paid[row.pk], paid_on[row.pk]
            changed.append(row)
    if changed:
        Installment.objects.bulk_update(changed, ["paid_amount", "paid_on"])
    return installments


def _missed(installments: list[Installment], practice: Practice, today: date) -> list[Installment]:
    cutoff = today - timedelta(days=practice.plan_grace_days)
    return [row for row in installments if row.paid_on is None and row.due_on < cutoff]


def _apply_and_reconcile(*, acting_user, plan: PaymentPlan, account: PatientAccount) -> PaymentPlan:
    installments = _apply_payments(plan)
    if plan.status not in PaymentPlan.RUNNING_STATUSES:
        return plan
    if installments and all(row.paid_on is not None for row in installments):
        _transition(
            acting_user=acting_user, plan=plan, account=account, target=Status.COMPLETED, reason=Reason.PAID_IN_FULL
        )
    elif plan.status == Status.LAPSED and not _missed(installments, account.practice, practice_today(account.practice)):
        _transition(acting_user=acting_user, plan=plan, account=account, target=Status.ACTIVE, reason=Reason.CAUGHT_UP)
    return plan


@transaction.atomic
def plan_payment_received(*, account_id: int, acting_user=None) -> None:
    """A patient payment was posted to the account: apply it to the active plan's installments.

    Re-applies all the account's patient payments since the plan's set-up (net of reversals), so
    calling it again, or after a reversal, gives the right answer. Catches a lapsed plan up to
    active, and completes a plan paid in full.
    """
    plan_id = (
        PaymentPlan.objects.filter(account_id=account_id, status__in=PaymentPlan.OPEN_STATUSES)
        .values_list("pk", flat=True)
        .first()
    )
    if plan_id is None:
        return
    # bump=False: this runs inside the posting (accounts.services.transaction_post), which locked
    # the account and moved its version once for everything the posting changes.
    account, plan = _lock(plan_id, bump=False)
    _apply_and_reconcile(acting_user=acting_user, plan=plan, account=account)


# --- Set-up, activation, modification, cancellation ----------------------------------------------


def _create_installments(plan: PaymentPlan, terms: Terms, revision: int) -> None:
    Installment.objects.bulk_create(
        Installment(
            plan=plan,
            practice_id=plan.practice_id,
            revision=revision,
            number=row.number,
            due_on=row.due_on,
            amount=row.amount,
        )
        for row in terms.installments
    )


def _record_revision(*, acting_user, plan: PaymentPlan, terms: Terms, reason: str = "") -> PlanRevision:
    return PlanRevision.objects.create(
        plan=plan,
        number=plan.revision,
        financed_amount=terms.financed,
        installment_count=terms.count,
        installment_amount=terms.regular_amount,
        frequency=terms.frequency,
        day_of_month=terms.day_of_month,
        start_on=terms.start_on,
        reason=reason,
        created_by=_user_or_none(acting_user),
    )


@dataclass(frozen=True)
class PlanOffer:
    """A plan as it would be set up: what the rep shows the patient before anything is saved."""

    total: Decimal
    down_payment: Decimal
    terms: Terms
    today: date

    @property
    def schedule(self) -> list[plan_schedule.ScheduledInstallment]:
        return self.terms.installments

    @property
    def frequency_label(self) -> str:
        return Frequency(self.terms.frequency).label.lower()


def _plan_offer(
    account: PatientAccount,
    *,
    today: date,
    total=None,
    down_payment=ZERO,
    installment_amount=None,
    installment_count: int | None = None,
    frequency: str = Frequency.MONTHLY,
    day_of_month: int | None = None,
    start_on: date | None = None,
) -> PlanOffer:
    """Every check of the practice's policy a new plan passes, and its schedule (nothing saved)."""
    practice = account.practice
    if account.status in (PatientAccount.Status.AGENCY, PatientAccount.Status.CLOSED):
        raise ApplicationError(MESSAGE_ACCOUNT_NOT_WORKABLE.format(status=account.get_status_display().lower()))
    if PaymentPlan.objects.filter(account=account, status__in=PaymentPlan.OPEN_STATUSES).exists():
        raise ApplicationError(MESSAGE_OPEN_PLAN_EXISTS)

    total = account.patient_balance if total in (None, "") else to_money(total)
    if total <= 0:
        raise ApplicationError(MESSAGE_TOTAL_NOT_POSITIVE, field="total")
    if total > account.patient_balance:
        raise ApplicationError(
            MESSAGE_TOTAL_OVER_BALANCE.format(balance=f"${account.patient_balance:,}"), field="total"
        )
    down_payment = _money_or_none(down_payment) or ZERO
    if down_payment < 0:
        raise ApplicationError(MESSAGE_DOWN_NEGATIVE, field="down_payment")
    if down_payment >= total:
        raise ApplicationError(MESSAGE_DOWN_TOO_LARGE, field="down_payment")
    required = minimum_down_payment(practice, total)
    if down_payment < required:
        raise ApplicationError(
            MESSAGE_DOWN_TOO_SMALL.format(
                percent=f"{practice.plan_min_down_payment_percent.normalize():f}", minimum=f"${required:,}"
            ),
            field="down_payment",
        )
    terms = plan_terms(
        practice=practice,
        financed=total - down_payment,
        installment_amount=installment_amount,
        installment_count=installment_count,
        frequency=frequency,
        day_of_month=day_of_month,
        start_on=start_on or today,
        today=today,
    )
    return PlanOffer(total=total, down_payment=down_payment, terms=terms, today=today)


def plan_preview(
    *,
    account_id: int,
    total=None,
    down_payment=ZERO,
    installment_amount=None,
    installment_count: int | None = None,
    frequency: str = Frequency.MONTHLY,
    day_of_month: int | None = None,
    start_on: date | None = None,
) -> PlanOffer:
    """The plan the rep is about to offer, checked and scheduled exactly as `plan_create` would set
    it up, without saving anything (the rep shows the patient the dates and amounts first)."""
    account = PatientAccount.objects.select_related("practice").get(pk=account_id)
    return _plan_offer(
        account,
        today=practice_today(account.practice),
        total=total,
        down_payment=down_payment,
        installment_amount=installment_amount,
        installment_count=installment_count,
        frequency=frequency,
        day_of_month=day_of_month,
        start_on=start_on,
    )


@transaction.atomic
def plan_create(
    *,
    acting_user,
    account_id: int,
    total=None,
    down_payment=ZERO,
    installment_amount=None,
    installment_count: int | None = None,
    frequency: str = Frequency.MONTHLY,
    day_of_month: int | None = None,
    start_on: date | None = None,
    autopay: bool = False,
    autopay_token: str = "",
    activate: bool = False,
) -> PaymentPlan:
    """Set up a plan for the account's patient balance (the total defaults to it), as proposed;
    `activate=True` starts it at once (the patient agreed)."""
    autopay_token = (autopay_token or "").strip()
    refuse_card_numbers("autopay_token", autopay_token)
    if autopay and not autopay_token:
        raise ApplicationError(MESSAGE_AUTOPAY_NEEDS_TOKEN, field="autopay_token")

    account = account_lock(account_id=account_id)
    practice = account.practice
    now = timezone.now()
    today = practice_today(practice, now)
    offer = _plan_offer(
        account,
        today=today,
        total=total,
        down_payment=down_payment,
        installment_amount=installment_amount,
        installment_count=installment_count,
        frequency=frequency,
        day_of_month=day_of_month,
        start_on=start_on,
    )
    total, down_payment, terms = offer.total, offer.down_payment, offer.terms
    plan = PaymentPlan.objects.create(
        account=account,
        practice=practice,
        status=Status.PROPOSED,
        total_amount=total,
        down_payment=down_payment,
        frequency=terms.frequency,
        day_of_month=terms.day_of_month,
        start_on=terms.start_on,
        installment_count=terms.count,
        installment_amount=terms.regular_amount,
        autopay=autopay,
        autopay_token=autopay_token,
        created_on=today,
        created_at=now,
        created_by=_user_or_none(acting_user),
        status_changed_at=now,
    )
    if down_payment:
        Installment.objects.create(plan=plan, practice=practice, number=0, due_on=today, amount=down_payment)
    _create_installments(plan, terms, revision=1)
    _record_revision(acting_user=acting_user, plan=plan, terms=terms)
    PlanStatusChange.objects.create(
        plan=plan,
        practice=practice,
        from_status="",
        to_status=Status.PROPOSED,
        reason=Reason.CREATED,
        as_of=today,
        changed_at=now,
        changed_by=_user_or_none(acting_user),
    )
    audit_record(
        user=acting_user,
        action=AuditEvent.Action.CREATE,
        obj=plan,
        field_group=FieldGroup.BILLING,
        detail={"account_id": account.pk, "installments": terms.count, "frequency": terms.frequency},
    )
    if activate:
        _transition(acting_user=acting_user, plan=plan, account=account, target=Status.ACTIVE, reason=Reason.ACTIVATED)
    _apply_and_reconcile(acting_user=acting_user, plan=plan, account=account)
    return plan


@transaction.atomic
def plan_activate(*, acting_user, plan_id: int) -> PaymentPlan:
    """The patient agreed: a proposed plan starts (a lapsed one is caught up by payments instead)."""
    account, plan = _lock(plan_id)
    if plan.status == Status.ACTIVE:
        return plan
    if plan.status != Status.PROPOSED:
        raise ApplicationError(
            MESSAGE_NOT_ALLOWED.format(current=Status(plan.status).label.lower(), target=Status.ACTIVE.label.lower())
        )
    _transition(acting_user=acting_user, plan=plan, account=account, target=Status.ACTIVE, reason=Reason.ACTIVATED)
    return _apply_and_reconcile(acting_user=acting_user, plan=plan, account=account)


@transaction.atomic
def plan_cancel(*, acting_user, plan_id: int, note: str = "") -> PaymentPlan:
    note = (note or "").strip()
    if len(note) > NOTE_MAX_LENGTH:
        raise ApplicationError(MESSAGE_NOTE_TOO_LONG.format(limit=NOTE_MAX_LENGTH), field="note")
    refuse_card_numbers("note", note)
    account, plan = _lock(plan_id)
    _transition(
        acting_user=acting_user, plan=plan, account=account, target=Status.CANCELLED, reason=Reason.CANCELLED, note=note
    )
    return plan


@transaction.atomic
def plan_modify(
    *,
    acting_user,
    plan_id: int,
    installment_amount=None,
    installment_count: int | None = None,
    frequency: str | None = None,
    day_of_month: int | None = None,
    start_on: date | None = None,
    reason: str = "",
    expected_revision: int | None = None,
) -> PaymentPlan:
    """New installment amount or term for what is left. Installments already paid in full stay;
    the rest of the old schedule is marked superseded (kept for the history, with what had been
    paid on it then) and a new revision's schedule splits the unpaid remainder.

    `expected_revision` is the revision the change was asked against. If the plan has moved on, the
    same user's change sent again (a double submit) answers with the plan (`plan.replayed`) and
    records nothing; a change made by anyone else in between is refused, so nobody overwrites terms
    they have not seen."""
    refuse_card_numbers("reason", reason)
    account, plan = _lock(plan_id)
    plan.replayed = False
    if expected_revision is not None and plan.revision != expected_revision:
        latest = plan.revisions.order_by("-number").first()
        if (
            plan.revision == expected_revision + 1
            and latest is not None
            and latest.created_by_id == getattr(acting_user, "pk", None)
            and latest.reason == reason
        ):
            plan.replayed = True
            return plan
        raise ApplicationError(MESSAGE_PLAN_CHANGED.format(revision=plan.revision))
    if plan.status not in PaymentPlan.OPEN_STATUSES:
        raise ApplicationError(MESSAGE_CANNOT_MODIFY.format(current=Status(plan.status).label.lower()))
    current = _apply_payments(plan)
    kept = [row for row in current if row.paid_on is not None]
    remaining = plan.total_amount - sum((row.amount for row in kept), ZERO)
    if remaining <= 0:
        raise ApplicationError(MESSAGE_NOTHING_TO_RESCHEDULE)
    now = timezone.now()
    today = practice_today(account.practice, now)
    frequency = frequency or plan.frequency
    if frequency == Frequency.MONTHLY and day_of_month in (None, "") and not start_on:
        day_of_month = plan.day_of_month
    terms = plan_terms(
        practice=account.practice,
        financed=remaining,
        installment_amount=installment_amount,
        installment_count=installment_count,
        frequency=frequency,
        day_of_month=day_of_month,
        start_on=start_on or max(today, plan.start_on),
        today=today,
    )
    before = {"installment_count": plan.installment_count, "installment_amount": str(plan.installment_amount)}
    plan.installments.filter(superseded_at__isnull=True, paid_on__isnull=True).update(superseded_at=now)
    plan.revision += 1
    plan.frequency = terms.frequency
    plan.day_of_month = terms.day_of_month
    plan.start_on = terms.start_on
    plan.installment_count = terms.count
    plan.installment_amount = terms.regular_amount
    plan.save(
        update_fields=[
            "revision",
            "frequency",
            "day_of_month",
            "start_on",
            "installment_count",
            "installment_amount",
            "updated_at",
        ]
    )
    _create_installments(plan, terms, revision=plan.revision)
    _record_revision(acting_user=acting_user, plan=plan, terms=terms, reason=reason)
    audit_record(
        user=acting_user,
        action=AuditEvent.Action.UPDATE,
        obj=plan,
        field_group=FieldGroup.BILLING,
        detail={
            "account_id": plan.account_id,
            "revision": plan.revision,
            "fields": ["installment_count", "installment_amount", "frequency", "day_of_month", "start_on"],
            "installments_before": before["installment_count"],
            "installments_after": terms.count,
        },
    )
    return _apply_and_reconcile(acting_user=acting_user, plan=plan, account=account)
