"""Queue rules: why an account needs a rep today, each as ONE predicate over accounts.

A rule is `predicate(practice, as_of) -> Q` over `PatientAccount`. The practice's policy values and
its local "as of" date are folded into the Q as constants (ages become date cut-offs: "older than
90 days" is "oldest open service date before as_of - 90"), so the same Q serves the whole book
(`book_predicate`, OR-ed over practices: one INSERT ... SELECT and one UPDATE per reason) and one
account (`queue_refresh_account` adds `pk=...`). Nothing loops over accounts in Python.

Who gets what:
- Closed accounts and accounts at an agency get nothing but insurance claim follow-up.
- Dunning reasons (past due, final notice, early follow-up, broken promise) skip accounts on hold
  (status "hold" or any active AccountHold). Past due, final notice and early follow-up also skip
  accounts on a payment plan: the plan is the arrangement; a lapsed plan is its own reason.
- Final notice also skips cease-communication accounts (FDCPA 15 USC 1692c(c)).
"""

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.db.models import Exists, OuterRef, Q

from accounts.models import Appointment, Claim, PatientAccount, Practice
from collections_app.correspondence.business_days import add_business_days
from collections_app.holds.selectors import active_hold_exists, active_holds
from collections_app.models import (
    AccountHold,
    BillingInquiry,
    Contact,
    PromiseToPay,
    RepAssignment,
    ReturnedMail,
    WorkItem,
)
from payment_plans.models import PaymentPlan

Reason = WorkItem.Reason
Status = PatientAccount.Status
Bucket = RepAssignment.Bucket

# An inquiry enters the queue this many business days before its response is due.
INQUIRY_LEAD_BUSINESS_DAYS = 2
# A probate hold enters the queue this many days before the creditor's claim deadline.
PROBATE_DEADLINE_LEAD_DAYS = 14
# Early follow-up is for new balances: older ones are past due or final-notice work.
EARLY_FOLLOW_UP_MAX_AGE_DAYS = 90

# Each reason belongs to one bucket of work a manager can assign a rep to (RepAssignment.bucket).
BUCKET_OF_REASON: dict[str, str] = {
    Reason.PAST_DUE: Bucket.PATIENT_BALANCES,
    Reason.FOLLOW_UP_DUE: Bucket.PATIENT_BALANCES,
    Reason.PROMISE_BROKEN: Bucket.PATIENT_BALANCES,
    Reason.PLAN_LAPSED: Bucket.PATIENT_BALANCES,
    Reason.FINAL_NOTICE: Bucket.PATIENT_BALANCES,
    Reason.EARLY_FOLLOW_UP: Bucket.PATIENT_BALANCES,
    Reason.CLAIM_FOLLOW_UP: Bucket.INSURANCE_CLAIMS,
    Reason.RETURNED_MAIL: Bucket.CORRESPONDENCE,
    Reason.INQUIRY_DUE: Bucket.CORRESPONDENCE,
    Reason.HOLD_REVIEW: Bucket.SPECIAL_HANDLING,
    Reason.APPOINTMENT_PAST_DUE: Bucket.SPECIAL_HANDLING,
}


def reasons_in_bucket(bucket: str) -> list[str]:
    if bucket == Bucket.ALL:
        return list(Reason.values)
    return [reason for reason, owner in BUCKET_OF_REASON.items() if owner == bucket]


# --- Shared conditions -------------------------------------------------------------------------


def _active_hold():
    return active_holds().filter(account=OuterRef("pk"))


def _worked():
    """Not closed and not at an agency: the account is still ours to work."""
    return ~Q(status__in=[Status.CLOSED, Status.AGENCY])


def _not_on_hold():
    # The negation of holds' collection_paused_q(), written as an AND so each NOT EXISTS stays an
    # anti-join (an EXISTS under an OR is planned as a subplan per account).
    return ~Q(status=Status.HOLD) & ~active_hold_exists()


def _dunnable():
    """Statements and collection calls may go out: active (not on a plan, hold, agency or closed)."""
    return Q(status=Status.ACTIVE) & ~active_hold_exists()


def _owes():
    # The only way a rule reads the ledger. collections_app.receivers relies on it to skip postings
    # that cannot change the queue: a rule reading the balance otherwise must change that test too.
    return Q(patient_balance__gt=0)


def _no_final_notice_since_past_due():
    # A contact on or after the oldest open date of service: the balance has been worked since it
    # arose (a final notice cannot go out before the balance is past due, so for "final notice sent
    # since it became past due" the date of service is the same cut-off).
    return ~Exists(
        Contact.objects.filter(
            account=OuterRef("pk"), occurred_at__date__gte=OuterRef("aging__oldest_open_service_on")
        ).filter(outcome=Contact.Outcome.FINAL_NOTICE_SENT)
    )


# --- The rules ----------------------------------------------------------------------------------
#
# Each rule takes the practices with their local dates, [(practice, as_of), ...], and returns one Q
# over PatientAccount (None: the rule applies to none of them). Per-practice constants sit in an OR
# of plain column conditions, on the account or inside a subquery; an EXISTS is never under an OR,
# so PostgreSQL turns each into a (hash) semi- or anti-join instead of a subplan run per account.


def per_practice(practices_as_of, condition, *, practice_field: str = "practice_id") -> Q | None:
    """OR over practices of (practice matches & condition(practice, as_of)); a None condition
    leaves that practice out."""
    combined = None
    for practice, as_of in practices_as_of:
        branch = condition(practice, as_of)
        if branch is None:
            continue
        branch = Q(**{practice_field: practice.pk}) & branch
        combined = branch if combined is None else combined | branch
    return combined


def _in_practices(practices_as_of) -> Q:
    return Q(practice_id__in=sorted(practice.pk for practice, _ in practices_as_of))


def past_due(practices_as_of) -> Q:
    return _in_practices(practices_as_of) & Q(aging__is_past_due=True) & _owes() & _dunnable()


def follow_up_due(practices_as_of) -> Q:
    return per_practice(practices_as_of, lambda practice, as_of: Q(follow_up_on__lte=as_of)) & _worked()


def promise_broken(practices_as_of) -> Q:
    newer_promise = PromiseToPay.objects.filter(
        account=OuterRef("account_id"),
        created_at__gt=OuterRef("created_at"),
        status__in=[PromiseToPay.Status.OPEN, PromiseToPay.Status.KEPT],
    )
    broken = PromiseToPay.objects.filter(account=OuterRef("pk"), status=PromiseToPay.Status.BROKEN).filter(
        ~Exists(newer_promise)
    )
    return _in_practices(practices_as_of) & Exists(broken) & _owes() & _worked() & _not_on_hold()


def plan_lapsed(practices_as_of) -> Q:
    lapsed = PaymentPlan.objects.filter(account=OuterRef("pk"), status=PaymentPlan.Status.LAPSED)
    return _in_practices(practices_as_of) & Exists(lapsed) & _worked()


def returned_mail(practices_as_of) -> Q:
    unresolved = ReturnedMail.objects.filter(account=OuterRef("pk"), resolved_at__isnull=True)
    return _in_practices(practices_as_of) & Exists(unresolved) & _worked()


def inquiry_due(practices_as_of) -> Q:
    due = per_practice(
        practices_as_of,
        lambda practice, as_of: Q(response_due_on__lte=add_business_days(as_of, INQUIRY_LEAD_BUSINESS_DAYS)),
    )
    unanswered = BillingInquiry.objects.filter(due, account=OuterRef("pk"), responded_on__isnull=True)
    return _in_practices(practices_as_of) & Exists(unanswered) & _worked()


def _alert_window(practice, as_of) -> Q | None:
    if not practice.appointment_alert_days:
        return None
    zone = ZoneInfo(practice.time_zone)
    starts = datetime.combine(as_of, time.min, tzinfo=zone)
    ends = datetime.combine(as_of + timedelta(days=practice.appointment_alert_days + 1), time.min, tzinfo=zone)
    return Q(starts_at__gte=starts, starts_at__lt=ends)


def appointment_past_due(practices_as_of) -> Q | None:
    window = per_practice(practices_as_of, _alert_window)
    if window is None:
        return None
    upcoming = Appointment.objects.filter(
        window,
        patient=OuterRef("patient_id"),
        practice=OuterRef("practice_id"),
        status__in=[Appointment.Status.SCHEDULED, Appointment.Status.CHECKED_IN],
    )
    return _in_practices(practices_as_of) & Exists(upcoming) & Q(aging__is_past_due=True) & _owes() & _worked()


def hold_review(practices_as_of) -> Q:
    def due(practice, as_of):
        deadline = Q(
            kind=AccountHold.Kind.PROBATE,
            claim_filed_on__isnull=True,
            claim_deadline_on__lte=as_of + timedelta(days=PROBATE_DEADLINE_LEAD_DAYS),
        )
        return Q(review_on__lte=as_of) | deadline

    holds_due = _active_hold().filter(per_practice(practices_as_of, due))
    return _in_practices(practices_as_of) & Exists(holds_due) & _worked()


def final_notice(practices_as_of) -> Q:
    def old_enough(practice, as_of):
        return Q(aging__oldest_open_service_on__lt=as_of - timedelta(days=practice.final_notice_after_days))

    return (
        per_practice(practices_as_of, old_enough)
        & Q(cease_communication_on__isnull=True)
        & _owes()
        & _dunnable()
        & _no_final_notice_since_past_due()
    )


def early_follow_up(practices_as_of) -> Q | None:
    def new_balance(practice, as_of):
        if not practice.early_followup_after_days:
            return None
        return Q(
            aging__oldest_open_service_on__lte=as_of - timedelta(days=practice.early_followup_after_days),
            aging__oldest_open_service_on__gte=as_of - timedelta(days=EARLY_FOLLOW_UP_MAX_AGE_DAYS),
        )

    ages = per_practice(practices_as_of, new_balance)
    if ages is None:
        return None
    any_contact = Contact.objects.filter(
        account=OuterRef("pk"), occurred_at__date__gte=OuterRef("aging__oldest_open_service_on")
    )
    return ages & _owes() & _dunnable() & ~Exists(any_contact)


def claim_follow_up(practices_as_of) -> Q:
    def unpaid_too_long(practice, as_of):
        return Q(submitted_on__lt=as_of - timedelta(days=practice.claim_followup_days))

    # Claim has no practice column: the per-practice cut-off joins the claim's account.
    overdue = Q(status__in=[Claim.Status.SUBMITTED, Claim.Status.PENDING]) & per_practice(
        practices_as_of, unpaid_too_long, practice_field="account__practice_id"
    )
    needing_work = Claim.objects.filter(overdue | Q(status=Claim.Status.DENIED), account=OuterRef("pk"))
    return _in_practices(practices_as_of) & Exists(needing_work)


@dataclass(frozen=True)
class Rule:
    reason: str
    predicate: object  # ([(practice, as_of), ...]) -> Q | None; None: applies to none of them
    cleared_because: str


RULES: tuple[Rule, ...] = (
    Rule(Reason.PAST_DUE, past_due, "no longer past due (paid, not owing, on hold or plan, closed)"),
    Rule(Reason.FOLLOW_UP_DUE, follow_up_due, "follow-up date moved or cleared"),
    Rule(Reason.PROMISE_BROKEN, promise_broken, "new promise, balance paid or account on hold"),
    Rule(Reason.PLAN_LAPSED, plan_lapsed, "plan caught up, defaulted or cancelled"),
    Rule(Reason.RETURNED_MAIL, returned_mail, "returned mail resolved"),
    Rule(Reason.INQUIRY_DUE, inquiry_due, "inquiry answered"),
    Rule(Reason.APPOINTMENT_PAST_DUE, appointment_past_due, "no upcoming appointment or no past-due balance"),
    Rule(Reason.HOLD_REVIEW, hold_review, "hold reviewed or released"),
    Rule(Reason.FINAL_NOTICE, final_notice, "final notice sent, balance paid or account paused"),
    Rule(Reason.EARLY_FOLLOW_UP, early_follow_up, "contacted, paid or no longer a new balance"),
    Rule(Reason.CLAIM_FOLLOW_UP, claim_follow_up, "claim paid or appealed"),
)


def book_predicate(rule: Rule, practices_as_of: list[tuple[Practice, date]]) -> Q | None:
    """The rule over the given practices, each with its own policy and local date, or None."""
    if not practices_as_of:
        return None
    return rule.predicate(practices_as_of)
