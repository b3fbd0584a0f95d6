"""Which accounts may go to a collection agency, and which placements may be reported to the credit
bureaus. One set of rules, read three ways: as a queryset filter (the candidates page and API, the
nightly count), as reasons for one account (why the preview leaves it out), and as the 501(r) clock.

An account is a candidate on a practice's local date `as_of` when all of these hold:
- its patient balance is at or over the practice's agency minimum (Practice.agency_min_balance);
- the final notice was sent at least 30 days before (a Contact with outcome "final notice sent");
- it is active: no payment plan running, no active hold of any kind (LOP, probate, bankruptcy,
  dispute), not already at an agency, not closed;
- where the practice follows IRS 501(r) (26 CFR 1.501(r)-6): placement is an extraordinary
  collection action, so the first statement after service went out at least 120 days before and
  the written notice of collection action at least 30 days before. The first statement is the
  account's `first_statement_on` (kept by the statement cycle) or the earliest "statement sent" in
  the contact log, whichever is earlier; the notice is a "501(r) notice sent" in the contact log.
  An account with either date missing is never placed: without proof of the notices there is no
  placement.

Credit reporting (DESIGN.md, "Compliance guardrails"): never for a balance under $500, an account
delinquent for less than a year, or once paid. Delinquent counts from the oldest open date of
service plus the practice's grace days (when the balance became past due).
"""

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.db.models import Exists, OuterRef, Q, QuerySet

from accounts.models import PatientAccount, Practice
from collections_app.models import AccountHold, Contact, Placement
from payment_plans.models import PaymentPlan

Outcome = Contact.Outcome

FINAL_NOTICE_WAIT_DAYS = 30
# 26 CFR 1.501(r)-6(b) and (c)(2): no extraordinary collection action within 120 days of the first
# post-discharge (here: post-service) statement, and a written notice at least 30 days before one.
RULE_501R_STATEMENT_DAYS = 120
RULE_501R_NOTICE_DAYS = 30
CREDIT_REPORT_MIN_BALANCE = Decimal("500.00")
CREDIT_REPORT_MIN_DELINQUENT_DAYS = 365

REASON_BELOW_MINIMUM = "The balance of ${balance:,.2f} is under the practice's agency minimum of ${minimum:,.2f}."
REASON_NO_FINAL_NOTICE = "No final notice has been sent."
REASON_FINAL_NOTICE_RECENT = "The final notice went out on {sent:%m/%d/%Y}, less than 30 days ago."
REASON_NOT_ACTIVE = "The account is {status}, not active."
REASON_PLAN = "A payment plan is running."
REASON_HOLD = "The account has an active {kind} hold."
REASON_NO_STATEMENT_DATE = "The practice follows 501(r), and no first statement after service is on record."
REASON_STATEMENT_RECENT = (
    "The practice follows 501(r): the first statement went out on {sent:%m/%d/%Y}, less than 120 days ago."
)
REASON_NO_NOTICE = "The practice follows 501(r), and no written notice of collection action is on record."
REASON_NOTICE_RECENT = (
    "The practice follows 501(r): the written notice went out on {sent:%m/%d/%Y}, less than 30 days ago."
)


def start_of_day(practice: Practice, day: date) -> datetime:
    """Midnight at the start of `day` in the practice's zone: a contact before it went out the day before or earlier."""
    return datetime.combine(day, time.min, tzinfo=ZoneInfo(practice.time_zone))


def _sent_at_least(outcome: str, practice: Practice, as_of: date, days: int) -> Exists:
    """A contact with this outcome sent on or before `as_of - days` (practice-local dates)."""
    bound = start_of_day(practice, as_of - timedelta(days=days - 1))
    return Exists(Contact.objects.filter(account=OuterRef("pk"), outcome=outcome, occurred_at__lt=bound))


def active_hold_exists() -> Exists:
    return Exists(AccountHold.objects.filter(account=OuterRef("pk"), released_at__isnull=True))


def running_plan_exists() -> Exists:
    return Exists(PaymentPlan.objects.filter(account=OuterRef("pk"), status__in=PaymentPlan.RUNNING_STATUSES))


def placed_exists() -> Exists:
    return Exists(Placement.objects.filter(account=OuterRef("pk"), status=Placement.Status.PLACED))


def practice_rule(practice: Practice, as_of: date) -> Q:
    """The practice's part of the rule on its own date: its minimum, the final notice, 501(r)."""
    rule = (
        Q(practice_id=practice.pk)
        & Q(patient_balance__gte=practice.agency_min_balance)
        & Q(patient_balance__gt=0)
        & _sent_at_least(Outcome.FINAL_NOTICE_SENT, practice, as_of, FINAL_NOTICE_WAIT_DAYS)
    )
    if practice.follows_501r:
        statement_bound = as_of - timedelta(days=RULE_501R_STATEMENT_DAYS)
        rule &= Q(first_statement_on__lte=statement_bound) | _sent_at_least(
            Outcome.STATEMENT_SENT, practice, as_of, RULE_501R_STATEMENT_DAYS
        )
        rule &= _sent_at_least(Outcome.NOTICE_501R_SENT, practice, as_of, RULE_501R_NOTICE_DAYS)
    return rule


def candidates_q(practices_as_of: dict[Practice, date]) -> Q:
    """The filter on PatientAccount: each practice's rule on its date, and nothing pausing the account."""
    if not practices_as_of:
        return Q(pk__in=[])
    per_practice = Q()
    for practice, as_of in practices_as_of.items():
        per_practice |= practice_rule(practice, as_of)
    return (
        per_practice
        & Q(status=PatientAccount.Status.ACTIVE)
        & ~active_hold_exists()
        & ~running_plan_exists()
        & ~placed_exists()
    )


def candidate_queryset(practices_as_of: dict[Practice, date]) -> QuerySet:
    return PatientAccount.objects.filter(candidates_q(practices_as_of))


# --- one account: why not -------------------------------------------------------------------------


def _local_date(practice: Practice, moment: datetime) -> date:
    return moment.astimezone(ZoneInfo(practice.time_zone)).date()


@dataclass(frozen=True)
class Clock501r:
    """The 501(r) dates of one account and whether placement may go ahead on `as_of`."""

    first_statement_on: date | None
    notice_on: date | None
    reasons: tuple[str, ...]

    @property
    def allowed(self) -> bool:
        return not self.reasons


def clock_501r(account: PatientAccount, as_of: date) -> Clock501r:
    """The first statement after service and the latest written notice on record, and what they allow.
    Unknown dates refuse: an account is never placed under 501(r) without proof of both notices."""
    practice = account.practice
    letters = Contact.objects.filter(account=account, outcome__in=[Outcome.STATEMENT_SENT, Outcome.NOTICE_501R_SENT])
    statements = [row.occurred_at for row in letters if row.outcome == Outcome.STATEMENT_SENT]
    notices = [row.occurred_at for row in letters if row.outcome == Outcome.NOTICE_501R_SENT]
    first_dates = [_local_date(practice, min(statements))] if statements else []
    if account.first_statement_on is not None:
        first_dates.append(account.first_statement_on)
    first_statement = min(first_dates) if first_dates else None
    # The notice that counts is the earliest one sent at least 30 days ago (any later one is extra).
    notice_dates = sorted(_local_date(practice, moment) for moment in notices)
    old_enough = [day for day in notice_dates if (as_of - day).days >= RULE_501R_NOTICE_DAYS]
    notice = old_enough[0] if old_enough else (notice_dates[-1] if notice_dates else None)
    reasons = []
    if first_statement is None:
        reasons.append(REASON_NO_STATEMENT_DATE)
    elif (as_of - first_statement).days < RULE_501R_STATEMENT_DAYS:
        reasons.append(REASON_STATEMENT_RECENT.format(sent=first_statement))
    if notice is None:
        reasons.append(REASON_NO_NOTICE)
    elif (as_of - notice).days < RULE_501R_NOTICE_DAYS:
        reasons.append(REASON_NOTICE_RECENT.format(sent=notice))
    return Clock501r(first_statement_on=first_statement, notice_on=notice, reasons=tuple(reasons))


def placement_refusals(account: PatientAccount, as_of: date) -> list[str]:
    """Every rule this account fails on `as_of`, in words for the manager (empty: it may be placed)."""
    practice = account.practice
    reasons = []
    if account.status != PatientAccount.Status.ACTIVE:
        reasons.append(REASON_NOT_ACTIVE.format(status=account.get_status_display().lower()))
    holds = AccountHold.objects.filter(account=account, released_at__isnull=True)
    reasons += [REASON_HOLD.format(kind=hold.get_kind_display()) for hold in holds]
    if PaymentPlan.objects.filter(account=account, status__in=PaymentPlan.RUNNING_STATUSES).exists():
        reasons.append(REASON_PLAN)
    if account.patient_balance < practice.agency_min_balance or account.patient_balance <= 0:
        reasons.append(
            REASON_BELOW_MINIMUM.format(balance=account.patient_balance, minimum=practice.agency_min_balance)
        )
    notices = Contact.objects.filter(account=account, outcome=Outcome.FINAL_NOTICE_SENT).order_by("occurred_at")
    sent = [_local_date(practice, row.occurred_at) for row in notices]
    if not sent:
        reasons.append(REASON_NO_FINAL_NOTICE)
    elif (as_of - sent[0]).days < FINAL_NOTICE_WAIT_DAYS:
        reasons.append(REASON_FINAL_NOTICE_RECENT.format(sent=sent[0]))
    if practice.follows_501r:
        reasons += clock_501r(account, as_of).reasons
    return reasons


# --- credit reporting -----------------------------------------------------------------------------


def delinquent_since(practice: Practice, oldest_open_service_on: date | None) -> date | None:
    """When the oldest open balance became past due: its date of service plus the grace days."""
    if oldest_open_service_on is None:
        return None
    return oldest_open_service_on + timedelta(days=practice.statement_grace_days)


def may_report_to_credit_bureaus(*, balance: Decimal, delinquent_on: date | None, as_of: date) -> bool:
    """Never under $500, never delinquent under a year, never once paid (balance zero or less)."""
    if balance < CREDIT_REPORT_MIN_BALANCE or balance <= 0:
        return False
    if delinquent_on is None:
        return False
    return (as_of - delinquent_on).days >= CREDIT_REPORT_MIN_DELINQUENT_DAYS
