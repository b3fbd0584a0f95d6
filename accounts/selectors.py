"""Read queries for patient accounts. Every selector starts from the user's practices."""

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from os.path import commonprefix
from zoneinfo import ZoneInfo

from django.core.paginator import Paginator
from django.db import connection
from django.db.models import BooleanField, Exists, ExpressionWrapper, OuterRef, Q, QuerySet, Subquery, Sum
from django.db.models.functions import Coalesce, Collate, Upper
from django.utils import timezone

from accounts.aging import AccountAging, account_aging
from accounts.models import AccountAgingState, Appointment, Patient, PatientAccount, Practice, Transaction
from accounts.money import ZERO
from core.access import get_scoped_or_404, practices_for, scope_to_user
from core.pagination import page_or_404

MAX_QUERY_LENGTH = 100
_DATE_FORMATS = ("%Y-%m-%d", "%m/%d/%Y", "%m-%d-%Y", "%m/%d/%y")
# Letters of any script, apostrophes, hyphens, spaces and commas; everything else is dropped.
_NAME_CHARS = re.compile(r"[^\w' .,-]|[\d_]")
# Search result counts stop here ("1,000+"): counting every Smith at 1M patients costs more than
# the page itself, and nobody pages past twenty pages of one surname.
SEARCH_COUNT_CAP = 1000
LEDGER_PAGE_SIZE = 50


def parse_date_of_birth(text: str) -> date | None:
    for fmt in _DATE_FORMATS:
        try:
            return datetime.strptime(text.strip(), fmt).date()
        except ValueError:
            continue
    return None


def digits_only(text: str) -> str:
    return re.sub(r"\D", "", text or "")


@dataclass(frozen=True)
class AccountSearch:
    """What a rep typed, classified: an email address, a date of birth, a phone, an account or
    medical record number, or a name.

    Each kind is an exact lookup on its own index (accounts 0005 for the medical record number and
    both email addresses), so one search box answers at 1M accounts without a scan; text that may be
    more than one kind (digits: a phone, an account number, an MRN) is the union of those lookups.
    """

    query: str = ""
    practice_id: int | None = None
    status: str = ""

    def apply(self, queryset: QuerySet, *, practices: QuerySet | None = None) -> QuerySet:
        """`queryset`: the user's accounts; `practices`: the user's practices, whose own account
        numbers say how a number typed without its prefix is spelt (none: no such guess)."""
        text = self.query.strip()[:MAX_QUERY_LENGTH]
        if self.practice_id:
            queryset = queryset.filter(practice_id=self.practice_id)
            practices = practices.filter(pk=self.practice_id) if practices is not None else None
        if self.status:
            queryset = queryset.filter(status=self.status)
        if not text:
            return queryset
        if "@" in text:
            return queryset.filter(pk__in=_union(_by_email(_fold(text))))
        date_of_birth = parse_date_of_birth(text)
        if date_of_birth is not None:
            return queryset.filter(patient__date_of_birth=date_of_birth)
        if not any(char.isdigit() for char in text):
            return filter_by_name(queryset, text, prefix="patient__")
        return queryset.filter(pk__in=_union(_by_number(text, practices)))


# Typed between the parts of a number ("N-000 1234", "mrn 0000025"); stored numbers have none.
_NUMBER_SEPARATORS = re.compile(r"[\s-]+")
_PHONE_CHARS = re.compile(r"[\d\s().+-]+")
_ASCII_DIGITS = re.compile(r"[0-9]+")


def _union(branches: list[QuerySet]) -> QuerySet:
    """Account ids matching any branch. A UNION of indexed lookups, not an OR across joined tables,
    which no index can answer (PostgreSQL would scan the accounts)."""
    first, *rest = branches
    return first.union(*rest) if rest else first


def _by_email(email: str) -> list[QuerySet]:
    """The patient's or the guarantor's address, exact and case-insensitive (UPPER indexes)."""
    return [
        PatientAccount.objects.alias(key=Upper("patient__email")).filter(key=email).values("pk"),
        PatientAccount.objects.alias(key=Upper("guarantor__email")).filter(key=email).values("pk"),
    ]


def _by_number(text: str, practices: QuerySet | None) -> list[QuerySet]:
    """Text with digits: an account number (as stored, in any case, or without the practice's
    prefix), a medical record number (any case), and a phone when it reads as one."""
    compact = _NUMBER_SEPARATORS.sub("", text)
    numbers = {text, text.upper(), compact.upper()}
    if _ASCII_DIGITS.fullmatch(compact) and practices is not None:
        numbers |= bare_number_candidates(compact, account_number_bounds(practices))
    branches = [
        PatientAccount.objects.filter(account_number__in=sorted(numbers)).values("pk"),
        PatientAccount.objects.alias(key=Upper("patient__medical_record_number"))
        .filter(key__in=sorted({_fold(text), _fold(compact)}))
        .values("pk"),
    ]
    digits = digits_only(text)
    if len(digits) >= 7 and _PHONE_CHARS.fullmatch(text):
        # Ten digits (or eleven, with the country code) is a phone; seven a local number.
        branches.append(PatientAccount.objects.filter(patient__phone=digits[-10:]).values("pk"))
    return branches


def account_number_bounds(practices: QuerySet) -> list[tuple[str, str]]:
    """Each practice's lowest and highest account number: two probes of the (practice,
    account_number) unique index per practice, in one query."""
    numbers = PatientAccount.objects.filter(practice_id=OuterRef("pk")).values("account_number")
    return [
        (low, high)
        for low, high in practices.order_by()
        .annotate(
            low=Subquery(numbers.order_by("account_number")[:1]),
            high=Subquery(numbers.order_by("-account_number")[:1]),
        )
        .values_list("low", "high")
        if low and high
    ]


def bare_number_candidates(digits: str, bounds: list[tuple[str, str]]) -> set[str]:
    """The account numbers `digits` may be with the practice's prefix left off, leading zeros too.

    A practice numbers its accounts as a prefix and a zero-padded number of one width (demo data:
    "HV0001234", or "HV20001234" at a second site; imports keep the practice's own). What all its
    numbers share is the common start of its lowest and highest; "1234" and "0001234" both become
    that start, zeros, then the digits, at the practice's width. A practice whose numbers differ in
    width is read from each bound alone, keeping only its letters.
    """
    candidates = set()
    for low, high in bounds:
        if len(low) == len(high):
            patterns = [(len(low), commonprefix([low, high]))]
        else:
            patterns = [(len(bound), re.match(r"\D*", bound).group()) for bound in (low, high)]
        for width, head in patterns:
            keep = width - len(digits)
            if keep <= 0:
                continue  # as long as a whole number: already looked up as typed
            if len(head) >= keep:
                candidates.add(head[:keep] + digits)
            else:
                candidates.add(head + digits.zfill(width - len(head)))
    return candidates


def name_key(field: str):
    """The expression names are matched and sorted by: upper case, compared byte-wise.

    PostgreSQL compares it in the "C" collation so a prefix becomes a range an index can walk in
    order (migration accounts 0004); the database's default collation (C.UTF-8 or a locale) cannot
    serve LIKE 'NAV%' from a b-tree. SQLite's default collation is already byte-wise.
    """
    expression = Upper(field)
    return Collate(expression, "C") if connection.vendor == "postgresql" else expression


def _fold(text: str) -> str:
    """Upper-case typed text the way the database's UPPER() does: SQLite folds ASCII letters only
    (so "Müller" matches UPPER('Müller') = 'MüLLER'); PostgreSQL folds every letter."""
    if connection.vendor == "postgresql":
        return text.upper()
    return "".join(char.upper() if char.isascii() else char for char in text)


def _prefix_range(prefix: str) -> tuple[str, str]:
    return prefix, prefix[:-1] + chr(ord(prefix[-1]) + 1)


def filter_by_name(queryset: QuerySet, text: str, *, prefix: str = "") -> QuerySet:
    """'Garcia', 'Maria Garcia' or 'Garcia, Maria': prefix match on upper-cased last and first name.

    When no surname starts with what was typed (PostgreSQL), a near spelling is tried through the
    trigram index on UPPER(last_name): "Garsia" finds "Garcia".
    """
    name = _NAME_CHARS.sub("", text)
    if "," in name:
        last, _, first = name.partition(",")
    else:
        parts = name.split()
        first, last = (" ".join(parts[:-1]), parts[-1]) if len(parts) > 1 else ("", name)
    last, first = _fold(last.strip(" .,-'")), _fold(first.strip(" .,-'"))
    if not last and not first:
        return queryset.none()
    keyed = queryset.alias(last_key=name_key(f"{prefix}last_name"), first_key=name_key(f"{prefix}first_name"))
    if first:
        low, high = _prefix_range(first)
        keyed = keyed.filter(first_key__gte=low, first_key__lt=high)
    if not last:
        return keyed
    low, high = _prefix_range(last)
    matched = keyed.filter(last_key__gte=low, last_key__lt=high)
    if connection.vendor == "postgresql" and len(last) >= 3 and not matched.exists():
        return keyed.alias(last_upper=Upper(f"{prefix}last_name")).filter(last_upper__trigram_similar=last)
    return matched


def account_search(*, user, search: AccountSearch) -> QuerySet:
    """Accounts in the user's practices matching the search, name order, patient and practice joined."""
    queryset = scope_to_user(PatientAccount.objects.all(), user)
    return (
        search.apply(queryset, practices=practices_for(user))
        .select_related("patient", "practice", "guarantor")
        .order_by(name_key("patient__last_name"), name_key("patient__first_name"), "patient_id", "id")
    )


def patient_search(*, user, query: str = "", practice_id: int | None = None, date_of_birth: date | None = None):
    """Patients in the user's practices by name, date of birth, phone or medical record number."""
    queryset = scope_to_user(Patient.objects.all(), user)
    if practice_id:
        queryset = queryset.filter(practice_id=practice_id)
    if date_of_birth:
        queryset = queryset.filter(date_of_birth=date_of_birth)
    text = query.strip()[:MAX_QUERY_LENGTH]
    if text:
        typed_date = parse_date_of_birth(text)
        digits = digits_only(text)
        if typed_date is not None:
            queryset = queryset.filter(date_of_birth=typed_date)
        elif digits and len(digits) >= 7 and re.fullmatch(r"[\d\s().+-]+", text):
            phone = digits[-10:] if len(digits) >= 10 else digits
            queryset = queryset.filter(Q(phone=phone) | Q(medical_record_number__in={text, text.upper()}))
        elif any(char.isdigit() for char in text):
            queryset = queryset.filter(medical_record_number__in={text, text.upper()})
        else:
            queryset = filter_by_name(queryset, text)
    return queryset.select_related("practice").order_by(name_key("last_name"), name_key("first_name"), "id")


def account_get(*, user, account_id) -> PatientAccount:
    """One account inside the user's practices, or 404."""
    return get_scoped_or_404(
        PatientAccount.objects.select_related("patient", "practice", "guarantor", "assigned_rep"), user, pk=account_id
    )


def patient_get(*, user, patient_id) -> Patient:
    return get_scoped_or_404(Patient.objects.select_related("practice"), user, pk=patient_id)


def practice_list(*, user) -> QuerySet:
    return practices_for(user).order_by("name")


def account_ledger(*, account: PatientAccount) -> QuerySet:
    """The account's ledger in posting order (the caller has already scoped the account)."""
    return (
        Transaction.objects.filter(account=account)
        .select_related("encounter", "posted_by", "reverses")
        .order_by("effective_on", "id")
    )


def practice_today(practice: Practice, now: datetime | None = None) -> date:
    """'Today' is the practice's local date (DESIGN.md: each practice's time zone)."""
    return (now or timezone.now()).astimezone(ZoneInfo(practice.time_zone)).date()


def account_practice_today(account: PatientAccount) -> date:
    return practice_today(account.practice)


def account_aging_today(account: PatientAccount) -> AccountAging:
    return account_aging(account, as_of=account_practice_today(account))


def account_is_past_due(account: PatientAccount, aging: AccountAging | None = None) -> bool:
    """Past due: a patient balance whose oldest open encounter is older than the grace period."""
    if account.patient_balance <= 0:
        return False
    aging = aging or account_aging_today(account)
    oldest = aging.oldest_open_age_days
    return oldest is not None and oldest > account.practice.statement_grace_days


# --- "See billing office": the one rule ----------------------------------------------------------
#
# The front desk sends a patient to the billing office only for a past-due balance that may be
# collected now. Not while the account is on a payment plan (the patient is paying as agreed), on a
# hold (a bankruptcy's automatic stay, probate for a deceased patient, a Letter of Protection, a
# dispute), at an agency or closed, nor while an attorney represents the patient. The account's
# status is the holds' and plans' summary, written in the same transaction as the hold or plan, so
# the rule reads it with the account row. Schedule, account page and API all use these three.


def collectible_now_q(prefix: str = "") -> Q:
    """Accounts whose balance may be asked for now (prefix: the path to the account, e.g. "account__")."""
    return Q(
        **{
            f"{prefix}status": PatientAccount.Status.ACTIVE,
            f"{prefix}attorney_represented": False,
            f"{prefix}patient_balance__gt": 0,
            f"{prefix}patient__deceased_on__isnull": True,
        }
    )


def account_is_collectible_now(account: PatientAccount) -> bool:
    return (
        account.status == PatientAccount.Status.ACTIVE
        and not account.attorney_represented
        and account.patient_balance > 0
        and account.patient.deceased_on is None
    )


def account_sees_billing_office(account: PatientAccount, aging: AccountAging | None = None) -> bool:
    """The flag on the account page and in the API: past due today and collectible now.

    The flag is all a Low-tier user sees: never the amount.
    """
    return account_is_collectible_now(account) and account_is_past_due(account, aging)


def accounts_with_past_due_flag(queryset: QuerySet) -> QuerySet:
    """Account lists (the API's) with `past_due_last_night`: the flag from last night's aging
    (AccountAgingState.is_past_due) and collectible now, one EXISTS per row instead of aging each
    ledger per request. The account page and GET /api/accounts/<id>/ age the ledger as of today."""
    flag = (
        Q(Exists(AccountAgingState.objects.filter(account_id=OuterRef("pk"), is_past_due=True))) & collectible_now_q()
    )
    return queryset.annotate(past_due_last_night=ExpressionWrapper(flag, output_field=BooleanField()))


def account_past_due_last_night(account: PatientAccount) -> bool:
    """The same flag for one account not loaded through accounts_with_past_due_flag."""
    if not account_is_collectible_now(account):
        return False
    return AccountAgingState.objects.filter(account_id=account.pk, is_past_due=True).exists()


def see_billing_office_exists(patient_ref: str = "patient_id") -> Exists:
    """The flag for the schedule: any account of the patient past due by last night's aging and
    collectible now (a payment, a plan or a hold since then clears it at once)."""
    return Exists(
        AccountAgingState.objects.filter(account__patient_id=OuterRef(patient_ref), is_past_due=True).filter(
            collectible_now_q("account__")
        )
    )


def patient_upcoming_appointments(*, patient: Patient, days: int = 30) -> QuerySet:
    now = timezone.now()
    return Appointment.objects.filter(
        patient=patient, starts_at__gte=now, starts_at__lt=now + timedelta(days=days)
    ).order_by("starts_at")


def practice_get(*, user, practice_id) -> Practice:
    return get_scoped_or_404(Practice.objects.all(), user, practice_field="id", pk=practice_id)


def ledger_page_with_balances(*, account: PatientAccount, raw_page):
    """One page of the ledger, newest first, each row with the patient balance after it.

    The newest row leaves the stored patient balance (it always equals the ledger: check_ledger),
    so walking back from it needs no running-sum query; later pages subtract the newer rows.
    """
    newest_first = (
        account_ledger(account=account)
        .reverse()
        .annotate(is_reversed=Exists(Transaction.objects.filter(reverses=OuterRef("pk"))))
    )
    paginator = Paginator(newest_first, LEDGER_PAGE_SIZE)
    page = page_or_404(paginator, raw_page)
    rows = list(page.object_list)
    balance = account.patient_balance
    if rows and page.number > 1:
        newest = rows[0]
        newer = Transaction.objects.filter(account=account).filter(
            Q(effective_on__gt=newest.effective_on) | Q(effective_on=newest.effective_on, id__gt=newest.id)
        )
        balance -= newer.aggregate(total=Coalesce(Sum("patient_amount"), ZERO))["total"]
    for row in rows:
        row.patient_balance_after = balance
        balance -= row.patient_amount
    page.rows = rows
    return page


def aging_open_encounters(aging: AccountAging) -> list:
    """Encounters with an open patient balance, oldest first."""
    return [row for row in aging.encounters if row.open_amount > 0]


def transaction_get(*, user, transaction_id) -> Transaction:
    """One ledger row of an account in the user's practices, or 404."""
    return get_scoped_or_404(
        Transaction.objects.select_related("account", "encounter", "posted_by", "reverses", "reversed_by"),
        user,
        practice_field="account__practice",
        pk=transaction_id,
    )
