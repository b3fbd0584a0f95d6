"""Dashboard figures by role: the rep's own day, and each practice and the team for managers.

Every figure is one grouped query over the user's practices (`scope_to_user`), so a page costs the
same number of queries whatever the number of reps, practices or accounts. "Today" and "this month"
are each practice's own (its time zone, `accounts.selectors.practice_today`): the per-practice
ranges are folded into one query as an OR of (practice, from) conditions, as the queue rules fold
per-practice dates.

Collected is net: patient payments (`PATIENT_PAYMENT_KINDS`: the patient's own and an agency's)
posted in the period, less reversals of such payments posted in the period, both counted for the
rep who posted the payment. A check that bounces comes off the collecting rep's figures on the day
it is reversed, so a period's figure can be negative. Periods follow `posted_at` (when the money
was entered), not the transaction date a posting may be dated back to.

An account is "worked" by a rep on a day when they logged a contact, took a promise, posted a
payment or wrote a note on it that day (in the practice's time zone).
"""

from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.core.exceptions import EmptyResultSet
from django.db import connection
from django.db.models import Case, Count, Exists, F, OuterRef, Q, Sum, When
from django.db.models.functions import Coalesce
from django.utils import timezone

from accounts.models import Appointment, PatientAccount, Practice, Transaction
from accounts.money import ZERO, to_money
from accounts.selectors import practice_today
from accounts.services import PATIENT_PAYMENT_KINDS
from collections_app.models import AccountNote, Contact, PromiseToPay, WorkItem
from collections_app.queues.rules import per_practice
from collections_app.queues.selectors import my_queue, reps_for_practices
from core.access import practice_ids_for, scope_to_user
from core.models import StaffUser

Kind = Transaction.Kind
PAYMENT_KINDS = sorted(PATIENT_PAYMENT_KINDS)
# The queue reason a due follow-up date opens; the figure links to the queue narrowed to it.
FOLLOW_UP_REASON = WorkItem.Reason.FOLLOW_UP_DUE


# --- each practice's day -------------------------------------------------------------------------


@dataclass(frozen=True)
class PracticeDay:
    """A practice's local date and where its day and month began, as aware datetimes."""

    practice: Practice
    today: object  # datetime.date
    day_starts: datetime
    month_starts: datetime
    day_ends: datetime


def practice_days(practices, now: datetime | None = None) -> list[PracticeDay]:
    now = now or timezone.now()
    days = []
    for practice in practices:
        zone = ZoneInfo(practice.time_zone)
        today = practice_today(practice, now)
        days.append(
            PracticeDay(
                practice=practice,
                today=today,
                day_starts=datetime.combine(today, time.min, tzinfo=zone),
                month_starts=datetime.combine(today.replace(day=1), time.min, tzinfo=zone),
                day_ends=datetime.combine(today + timedelta(days=1), time.min, tzinfo=zone),
            )
        )
    return days


def period_days(practices, start, end) -> list[PracticeDay]:
    """Each practice's local dates `start` to `end` (both included) as one "day" from the start of
    `start` to the end of `end`, so the team's figures (`team_work`) count a whole period by the
    same rules as today (the productivity report)."""
    days = []
    for practice in practices:
        zone = ZoneInfo(practice.time_zone)
        starts = datetime.combine(start, time.min, tzinfo=zone)
        days.append(
            PracticeDay(
                practice=practice,
                today=end,
                day_starts=starts,
                month_starts=starts,
                day_ends=datetime.combine(end + timedelta(days=1), time.min, tzinfo=zone),
            )
        )
    return days


def zones_of(days: list[PracticeDay]) -> list[str]:
    """The time zones the figures are in, for their labels (one, or each practice's own)."""
    return sorted({day.practice.time_zone for day in days})


def _per_practice_day(days, condition, *, practice_field: str = "practice_id") -> Q:
    """The queue rules' per-practice fold (queues.rules.per_practice) over each practice's day;
    with no practices, a condition nothing matches."""
    return per_practice([(day.practice, day) for day in days], condition, practice_field=practice_field) or Q(pk__in=[])


def _within(days, moment: str, starts: str, *, practice_field: str = "practice_id") -> Q:
    """OR over practices of (the practice, `moment` from its day's or month's start to its day's end)."""
    return _per_practice_day(
        days,
        lambda practice, day: Q(**{f"{moment}__gte": getattr(day, starts), f"{moment}__lt": day.day_ends}),
        practice_field=practice_field,
    )


def _due_today(days) -> Q:
    return _per_practice_day(days, lambda practice, day: Q(due_on=day.today))


def appointments_still_today(*, user, days, now: datetime | None = None) -> dict[int, int]:
    """Appointments still to come today, by practice, 'today' in each practice's time zone; one query."""
    if not days:
        return {}
    now = now or timezone.now()
    rows = (
        scope_to_user(Appointment.objects.all(), user)
        .filter(_per_practice_day(days, lambda practice, day: Q(starts_at__lt=day.day_ends)), starts_at__gte=now)
        .exclude(status__in=[Appointment.Status.CANCELLED, Appointment.Status.NO_SHOW])
        .values("practice_id")
        .annotate(count=Count("id"))
        .order_by()
    )
    return {row["practice_id"]: row["count"] for row in rows}


# --- collected -----------------------------------------------------------------------------------


def _payment_or_its_reversal() -> Q:
    return Q(kind__in=PAYMENT_KINDS) | Q(kind=Kind.REVERSAL, reverses__kind__in=PAYMENT_KINDS)


def _collecting_rep():
    """Who a row counts for: the poster of a payment; for a reversal, the poster of the payment it reverses."""
    return Case(When(kind=Kind.REVERSAL, then=F("reverses__posted_by")), default=F("posted_by"))


def _collected(net) -> Decimal:
    """Payments lower the patient balance: what was collected is the negated sum, in cents."""
    return to_money(ZERO - (net or ZERO))


def _collected_by_practice(user, days, rows: Q):
    """Net patient amounts of `rows` posted this month and today, by practice (one query)."""
    return (
        scope_to_user(Transaction.objects.filter(rows), user, practice_field="account__practice")
        .filter(_within(days, "posted_at", "month_starts", practice_field="account__practice_id"))
        .values("account__practice_id")
        .annotate(
            month=Coalesce(Sum("patient_amount"), ZERO),
            today=Coalesce(
                Sum(
                    "patient_amount",
                    filter=_within(days, "posted_at", "day_starts", practice_field="account__practice_id"),
                ),
                ZERO,
            ),
        )
        .order_by()
    )


# --- the rep's dashboard -------------------------------------------------------------------------


@dataclass
class RepFigures:
    queue: int = 0
    follow_ups_due: int = 0
    promises_due: int = 0
    promised_due_amount: Decimal = ZERO
    collected_today: Decimal = ZERO
    collected_month: Decimal = ZERO

    def add(self, other: "RepFigures") -> None:
        for name in self.__dataclass_fields__:
            setattr(self, name, getattr(self, name) + getattr(other, name))


@dataclass
class RepDashboard:
    days: list[PracticeDay]
    by_practice: dict[int, RepFigures]
    totals: RepFigures
    promises_due: list[PromiseToPay] = field(default_factory=list)
    follow_up_reason: str = FOLLOW_UP_REASON

    @property
    def zones(self) -> list[str]:
        return zones_of(self.days)


def rep_dashboard(*, user, practices, now: datetime | None = None) -> RepDashboard:
    """The rep's day in their practices: queue, follow-ups, promises due today, collected today
    and this month. Four queries (the queue's scope costs one), however much work there is."""
    days = practice_days(practices, now)
    figures = {day.practice.pk: RepFigures() for day in days}

    # The queue page's own rule (my_queue: assigned to me or to nobody, in my practices and
    # buckets); a follow-up is due where the queue holds an open "follow-up date due" item, which
    # the queue refresh opens on the practice's local date.
    follow_up_due = WorkItem.objects.filter(
        account=OuterRef("account_id"), reason=FOLLOW_UP_REASON, cleared_at__isnull=True
    )
    queue_rows = (
        my_queue(user=user)
        .order_by()
        .values("practice_id")
        .annotate(queue=Count("pk"), follow_ups_due=Count("pk", filter=Q(Exists(follow_up_due))))
    )
    for row in queue_rows:
        if row["practice_id"] in figures:
            figures[row["practice_id"]].queue = row["queue"]
            figures[row["practice_id"]].follow_ups_due = row["follow_ups_due"]

    promises = list(
        scope_to_user(PromiseToPay.objects.filter(created_by=user, status=PromiseToPay.Status.OPEN), user)
        .filter(_due_today(days))
        .select_related("account", "account__patient", "practice")
        .only(
            "amount",
            "due_on",
            "practice_id",
            "account__id",
            "account__account_number",
            "account__practice_id",
            "account__patient_balance",
            "account__patient__first_name",
            "account__patient__last_name",
            "practice__name",
        )
        .order_by("practice__name", "account__account_number", "pk")
    )
    for promise in promises:
        figures[promise.practice_id].promises_due += 1
        figures[promise.practice_id].promised_due_amount += promise.amount

    # Two queries, each walking its own index (a rep's postings by time; reversals by time): one
    # query with an OR across the reversed row's poster would read the whole month's postings.
    mine = Q(kind__in=PAYMENT_KINDS, posted_by=user)
    reversals_of_mine = Q(kind=Kind.REVERSAL, reverses__posted_by=user, reverses__kind__in=PAYMENT_KINDS)
    for rows in (_collected_by_practice(user, days, mine), _collected_by_practice(user, days, reversals_of_mine)):
        for row in rows:
            practice_figures = figures[row["account__practice_id"]]
            practice_figures.collected_today += _collected(row["today"])
            practice_figures.collected_month += _collected(row["month"])

    totals = RepFigures()
    for practice_figures in figures.values():
        totals.add(practice_figures)
    return RepDashboard(days=days, by_practice=figures, totals=totals, promises_due=promises)


# --- each practice, for managers -----------------------------------------------------------------


def practice_balances(*, user) -> dict[int, dict]:
    """Per practice: accounts with a patient balance and patient AR, and of them those past due.

    Past due is the nightly aging's flag (AccountAgingState.is_past_due: the oldest open date of
    service older than the practice's grace period), the one the queue's past-due rule and "see
    billing office" read; an account paid off since the night no longer owes and drops out. One
    aggregate query over the stored balances.
    """
    past_due = Q(aging__is_past_due=True)
    rows = (
        scope_to_user(PatientAccount.objects.filter(patient_balance__gt=0), user)
        .values("practice_id")
        .annotate(
            accounts_owing=Count("id"),
            patient_ar=Coalesce(Sum("patient_balance"), ZERO),
            accounts_past_due=Count("id", filter=past_due),
            past_due_ar=Coalesce(Sum("patient_balance", filter=past_due), ZERO),
        )
        .order_by()
    )
    return {row["practice_id"]: row for row in rows}


# --- the team's work today, for managers ---------------------------------------------------------


@dataclass
class TeamRow:
    rep: StaffUser | None
    accounts_worked: int = 0
    contacts: int = 0
    payments: int = 0
    collected: Decimal = ZERO
    promises: int = 0
    promised_amount: Decimal = ZERO

    @property
    def has_work(self) -> bool:
        return bool(self.accounts_worked or self.contacts or self.payments or self.collected or self.promises)


@dataclass
class TeamToday:
    days: list[PracticeDay]
    rows: list[TeamRow]
    totals: TeamRow

    @property
    def zones(self) -> list[str]:
        return zones_of(self.days)


def _accounts_worked(days, user) -> dict[int, int]:
    """Distinct accounts each rep worked today: a UNION of (rep, account) pairs from the contact
    log, promises, payments and notes, counted per rep in the database (one statement)."""
    branches = [
        scope_to_user(Contact.objects.filter(_within(days, "occurred_at", "day_starts")), user).values(
            rep=F("logged_by_id"), worked_account=F("account_id")
        ),
        scope_to_user(PromiseToPay.objects.filter(_within(days, "created_at", "day_starts")), user).values(
            rep=F("created_by_id"), worked_account=F("account_id")
        ),
        scope_to_user(Transaction.objects.filter(kind__in=PAYMENT_KINDS), user, practice_field="account__practice")
        .filter(_within(days, "posted_at", "day_starts", practice_field="account__practice_id"))
        .values(rep=F("posted_by_id"), worked_account=F("account_id")),
        scope_to_user(AccountNote.objects.filter(_within(days, "created_at", "day_starts")), user).values(
            rep=F("created_by_id"), worked_account=F("account_id")
        ),
    ]
    first, *rest = (branch.order_by() for branch in branches)
    try:
        sql, params = first.union(*rest).query.sql_with_params()  # UNION: each pair once
    except EmptyResultSet:  # no practices: nothing can match
        return {}
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT pairs.rep, COUNT(*) FROM ({sql}) pairs WHERE pairs.rep IS NOT NULL GROUP BY pairs.rep",
            params,
        )
        return dict(cursor.fetchall())


def team_today(*, user, practices, now: datetime | None = None) -> TeamToday:
    """Each rep's work today in the manager's practices: accounts worked, contacts logged,
    payments posted and collected (net of reversals), promises taken. One grouped query per
    figure and one for the people; reps of the practices with nothing done yet are listed too."""
    return team_work(user=user, days=practice_days(practices, now))


def team_work(*, user, days: list[PracticeDay]) -> TeamToday:
    """`team_today` over any practice days (`practice_days` for today, `period_days` for a period)."""
    worked = _accounts_worked(days, user)
    contacts = dict(
        scope_to_user(Contact.objects.filter(_within(days, "occurred_at", "day_starts")), user)
        .values("logged_by_id")
        .annotate(n=Count("pk"))
        .order_by()
        .values_list("logged_by_id", "n")
    )
    payments = {
        row["rep"]: row
        for row in scope_to_user(Transaction.objects.all(), user, practice_field="account__practice")
        .filter(_payment_or_its_reversal())
        .filter(_within(days, "posted_at", "day_starts", practice_field="account__practice_id"))
        .annotate(rep=_collecting_rep())
        .values("rep")
        .annotate(count=Count("pk", filter=Q(kind__in=PAYMENT_KINDS)), net=Coalesce(Sum("patient_amount"), ZERO))
        .order_by()
    }
    promises = {
        row["created_by_id"]: row
        for row in scope_to_user(PromiseToPay.objects.filter(_within(days, "created_at", "day_starts")), user)
        .values("created_by_id")
        .annotate(count=Count("pk"), amount=Coalesce(Sum("amount"), ZERO))
        .order_by()
    }
    workers = {*worked, *contacts, *payments, *promises} - {None}
    team = reps_for_practices(practice_ids_for(user)).values("pk")
    people = StaffUser.objects.filter(Q(pk__in=team) | Q(pk__in=sorted(workers))).order_by(
        "last_name", "first_name", "username"
    )
    rows = []
    for person in people:
        row = TeamRow(rep=person, accounts_worked=worked.get(person.pk, 0), contacts=contacts.get(person.pk, 0))
        if person.pk in payments:
            row.payments = payments[person.pk]["count"]
            row.collected = _collected(payments[person.pk]["net"])
        if person.pk in promises:
            row.promises = promises[person.pk]["count"]
            row.promised_amount = to_money(promises[person.pk]["amount"])
        rows.append(row)
    rows.sort(key=lambda row: -row.accounts_worked)  # stable: names order the ties
    totals = TeamRow(rep=None)
    for row in rows:
        totals.accounts_worked += row.accounts_worked
        totals.contacts += row.contacts
        totals.payments += row.payments
        totals.collected += row.collected
        totals.promises += row.promises
        totals.promised_amount += row.promised_amount
    return TeamToday(days=days, rows=rows, totals=totals)
