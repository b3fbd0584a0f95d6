"""Read queries for patient accounts. Every selector starts from the user's practices."""

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.db.models import Q, QuerySet
from django.db.models.functions import Upper
from django.utils import timezone

from accounts.aging import AccountAging, account_aging
from accounts.models import Appointment, Patient, PatientAccount, Practice, Transaction
from collections_app.access import get_scoped_or_404, practices_for, scope_to_user

MAX_QUERY_LENGTH = 100
_DATE_FORMATS = ("%Y-%m-%d", "%m/%d/%Y", "%m-%d-%Y", "%m/%d/%y")
_NAME_CHARS = re.compile(r"[^A-Za-z\u00C0-\u024F' .,-]")


def parse_date_of_birth(text: str) -> date | None:
    for fmt in _DATE_FORMATS:
        try:
            return datetime.strptime(text.strip(), fmt).date()
        except ValueError:
            continue
    return None


def digits_only(text: str) -> str:
    return re.sub(r"\D", "", text or "")


def _like_prefix(value: str) -> str:
    return value.upper().replace("\\", "").replace("%", "").replace("_", "")


@dataclass(frozen=True)
class AccountSearch:
    """What a rep typed, classified: a date of birth, a phone, an account number or a name."""

    query: str = ""
    practice_id: int | None = None
    status: str = ""

    def apply(self, queryset: QuerySet) -> QuerySet:
        text = self.query.strip()[:MAX_QUERY_LENGTH]
        if self.practice_id:
            queryset = queryset.filter(practice_id=self.practice_id)
        if self.status:
            queryset = queryset.filter(status=self.status)
        if not text:
            return queryset
        date_of_birth = parse_date_of_birth(text)
        if date_of_birth is not None:
            return queryset.filter(patient__date_of_birth=date_of_birth)
        digits = digits_only(text)
        if digits and len(digits) >= 7 and re.fullmatch(r"[\d\s().+-]+", text):
            # Ten digits (or more) is a phone; fewer may be an account number as well.
            phone = digits[-10:] if len(digits) >= 10 else digits
            by_phone = queryset.filter(patient__phone=phone)
            if len(digits) >= 10:
                return by_phone
            return by_phone | queryset.filter(account_number=text)
        if any(char.isdigit() for char in text):
            return queryset.filter(account_number=text.upper())
        return filter_by_name(queryset, text, prefix="patient__")


def filter_by_name(queryset: QuerySet, text: str, *, prefix: str = "") -> QuerySet:
    """'Garcia', 'Maria Garcia' or 'Garcia, Maria': prefix match on upper-cased last and first name
    (the upper-case expression indexes serve it)."""
    name = _NAME_CHARS.sub("", text)
    if "," in name:
        last, _, first = name.partition(",")
    else:
        parts = name.split()
        first, last = (" ".join(parts[:-1]), parts[-1]) if len(parts) > 1 else ("", name)
    last, first = _like_prefix(last.strip()), _like_prefix(first.strip())
    if not last and not first:
        return queryset.none()
    queryset = queryset.alias(last_upper=Upper(f"{prefix}last_name"), first_upper=Upper(f"{prefix}first_name"))
    if last:
        queryset = queryset.filter(last_upper__startswith=last)
    if first:
        queryset = queryset.filter(first_upper__startswith=first)
    return queryset


def account_search(*, user, search: AccountSearch) -> QuerySet:
    """Accounts in the user's practices matching the search, name order, patient and practice joined."""
    queryset = scope_to_user(PatientAccount.objects.all(), user)
    return (
        search.apply(queryset)
        .select_related("patient", "practice", "guarantor")
        .order_by("patient__last_name", "patient__first_name", "id")
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
    return queryset.select_related("practice").order_by("last_name", "first_name", "id")


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


def account_practice_today(account: PatientAccount) -> date:
    """'Today' is the practice's local date (DESIGN.md: each practice's time zone)."""
    from zoneinfo import ZoneInfo

    return timezone.now().astimezone(ZoneInfo(account.practice.time_zone)).date()


def account_aging_today(account: PatientAccount) -> AccountAging:
    return account_aging(account, as_of=account_practice_today(account))


def account_is_past_due(account: PatientAccount, aging: AccountAging | None = None) -> bool:
    """Past due: a patient balance whose oldest open encounter is older than the grace period.

    The flag is all a Low-tier user sees: never the amount.
    """
    if account.patient_balance <= 0:
        return False
    aging = aging or account_aging_today(account)
    oldest = aging.oldest_open_age_days
    return oldest is not None and oldest > account.practice.statement_grace_days


def patient_upcoming_appointments(*, patient: Patient, days: int = 30) -> QuerySet:
    now = timezone.now()
    return Appointment.objects.filter(
        patient=patient, starts_at__gte=now, starts_at__lt=now + timedelta(days=days)
    ).order_by("starts_at")


def practice_get(*, user, practice_id) -> Practice:
    return get_scoped_or_404(Practice.objects.all(), user, practice_field="id", pk=practice_id)
