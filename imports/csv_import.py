"""CSV imports: demographics, appointments and opening balances (layout in the README, "Imports").

Each row is checked on its own and imported in its own transaction; a row that fails is reported
with its line number (the header is line 1) and the reason, the other rows import. Importing the
same rows again changes nothing: patients are keyed by MRN, appointments by patient, start and
provider, opening balances by account (reference "opening:<account number>").
"""

from __future__ import annotations

import csv
import hashlib
import io
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from zoneinfo import ZoneInfo

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction

from accounts import services as ledger
from accounts.models import Appointment, Encounter, Guarantor, Patient, PatientAccount, Practice, Transaction
from core.errors import ApplicationError
from imports.batches import (
    Progress,
    Summary,
    already_imported_message,
    batch_already_imported,
    batch_finish,
    batch_start,
)
from imports.models import ImportBatch
from imports.people import PersonFacts, account_find_or_create, patient_find_or_create

Kind = Transaction.Kind

# The column layout of each kind: (column, required, example). The README documents the same.
LAYOUTS: dict[str, list[tuple[str, bool, str]]] = {
    "demographics": [
        ("mrn", True, "MRN0001234"),
        ("first_name", True, "Maria"),
        ("middle_name", False, "L"),
        ("last_name", True, "Garcia"),
        ("date_of_birth", True, "1970-05-17"),
        ("sex", False, "F"),
        ("phone", False, "5185550123"),
        ("email", False, "maria@example.org"),
        ("address_line1", False, "12 Elm Street"),
        ("address_line2", False, ""),
        ("city", False, "Albany"),
        ("state", False, "NY"),
        ("postal_code", False, "12207"),
        ("account_number", False, "N0001234"),
        ("insurance", False, "commercial"),
        ("payer_name", False, "Key Insurance"),
        ("guarantor_first_name", False, ""),
        ("guarantor_last_name", False, ""),
        ("guarantor_relationship", False, "self"),
    ],
    "appointments": [
        ("mrn", True, "MRN0001234"),
        ("starts_at", True, "2026-12-15 09:30"),
        ("provider", True, "Dr. Ruth Alvarez"),
        ("location", False, "Main office"),
        ("reason", False, "Follow-up"),
        ("status", False, "scheduled"),
    ],
    "balances": [
        ("account_number", True, "N0001234"),
        ("date_of_service", True, "2026-08-01"),
        ("patient_balance", True, "120.00"),
        ("insurance_balance", False, "0.00"),
        ("as_of", False, "2026-11-30"),
    ],
}
KINDS = {
    "demographics": ImportBatch.Kind.CSV_DEMOGRAPHICS,
    "appointments": ImportBatch.Kind.CSV_APPOINTMENTS,
    "balances": ImportBatch.Kind.CSV_BALANCES,
}


class RowError(Exception):
    pass


def template_csv(kind: str) -> str:
    """The downloadable template: the header row and one example row."""
    layout = LAYOUTS[kind]
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([column for column, _, _ in layout])
    writer.writerow([example for _, _, example in layout])
    return out.getvalue()


def _date(text: str, column: str) -> date:
    text = text.strip()
    for pattern in ("%Y-%m-%d", "%m/%d/%Y"):
        try:
            return datetime.strptime(text, pattern).date()
        except ValueError:
            continue
    raise RowError(f"{column} {text[:20]!r} is not a date (YYYY-MM-DD or MM/DD/YYYY)")


def _money(text: str, column: str) -> Decimal:
    try:
        value = Decimal((text or "0").replace("$", "").replace(",", "").strip() or "0")
    except InvalidOperation:
        raise RowError(f"{column} {text[:20]!r} is not an amount") from None
    if not value.is_finite() or value != value.quantize(Decimal("0.01")):
        raise RowError(f"{column} {text[:20]!r} is not an amount in cents")
    return value.quantize(Decimal("0.01"))


def _choice(text: str, choices, column: str, default: str) -> str:
    text = (text or "").strip().lower()
    if not text:
        return default
    values = {str(value).lower(): value for value, _ in choices}
    labels = {str(label).lower(): value for value, label in choices}
    if text in values:
        return values[text]
    if text in labels:
        return labels[text]
    raise RowError(f"{column} {text[:20]!r} is not one of: {', '.join(values)}")


def import_csv(
    *,
    practice: Practice,
    kind: str,
    content: bytes | str,
    file_name: str,
    acting_user=None,
    progress: Progress | None = None,
) -> Summary:
    if kind not in LAYOUTS:
        raise ApplicationError(f"Choose one of: {', '.join(LAYOUTS)}.", field="kind")
    summary = Summary(files=1)
    progress = progress or Progress()
    raw = content if isinstance(content, bytes) else content.encode()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        summary.files_refused = 1
        summary.reject(file_name, "the file is not UTF-8 text (save it as CSV UTF-8)")
        return summary
    batch_kind = KINDS[kind]
    digest = hashlib.sha256(raw).hexdigest()
    earlier = batch_already_imported(practice=practice, kind=batch_kind, digest=digest)
    if earlier is not None:
        summary.files_already_imported = 1
        summary.messages.append(already_imported_message(earlier, file_name))
        return summary
    reader = csv.DictReader(io.StringIO(text))
    header = [name.strip().lower() for name in (reader.fieldnames or [])]
    missing = [column for column, required, _ in LAYOUTS[kind] if required and column not in header]
    if missing:
        summary.files_refused = 1
        summary.reject(file_name, f"the header lacks the column(s) {', '.join(missing)}", line=1)
        batch = batch_start(practice=practice, kind=batch_kind, file_name=file_name, digest=digest)
        batch_finish(batch, summary, refused=True)
        return summary
    batch = batch_start(practice=practice, kind=batch_kind, file_name=file_name, digest=digest, acting_user=acting_user)
    handler = {"demographics": _demographics, "appointments": _appointment, "balances": _balance}[kind]
    rows = list(reader)
    progress.start("Importing rows", len(rows))
    for line, row in enumerate(rows, start=2):
        progress.step()
        row = {(key or "").strip().lower(): (value or "").strip() for key, value in row.items() if key}
        if not any(row.values()):
            continue
        summary.rows += 1
        try:
            for column, required, _ in LAYOUTS[kind]:
                if required and not row.get(column):
                    raise RowError(f"{column} is empty")
            # Counted only once the row committed: a rejected row leaves no trace in the counts either.
            counted = Summary()
            with transaction.atomic():
                handler(practice, row, counted, acting_user)
            summary.add(counted)
        except RowError as error:
            summary.reject(file_name, str(error), line=line)
        except ApplicationError as error:
            summary.reject(file_name, error.message, line=line)
        except ValidationError as error:
            summary.reject(file_name, "; ".join(error.messages), line=line)
    batch_finish(batch, summary)
    return summary


def _demographics(practice: Practice, row: dict, summary: Summary, acting_user) -> None:
    if row.get("email"):
        validate_email(row["email"])
    facts = PersonFacts(
        last_name=row["last_name"],
        first_name=row["first_name"],
        middle_name=row.get("middle_name", ""),
        date_of_birth=_date(row["date_of_birth"], "date_of_birth"),
        sex=row.get("sex", ""),
        phone="".join(ch for ch in row.get("phone", "") if ch.isdigit()),
        email=row.get("email", ""),
        address_line1=row.get("address_line1", ""),
        address_line2=row.get("address_line2", ""),
        city=row.get("city", ""),
        state=row.get("state", ""),
        postal_code=row.get("postal_code", ""),
    )
    if len(row["mrn"]) > 30:
        raise RowError("mrn is longer than 30 characters")
    patient, created = patient_find_or_create(
        practice=practice, record_number=row["mrn"], facts=facts, acting_user=acting_user
    )
    summary.patients_created += int(created)
    kinds = PatientAccount.InsuranceType
    insurance = _choice(row.get("insurance", ""), kinds.choices, "insurance", kinds.COMMERCIAL)
    relationship = _choice(
        row.get("guarantor_relationship", ""), Guarantor.Relationship.choices, "guarantor_relationship", "self"
    )
    guarantor = None
    if relationship != Guarantor.Relationship.SELF:
        if not row.get("guarantor_last_name"):
            raise RowError("guarantor_last_name is empty for a guarantor other than the patient")
        guarantor = PersonFacts(
            last_name=row["guarantor_last_name"], first_name=row.get("guarantor_first_name", ""), date_of_birth=None
        )
    number = row.get("account_number", "")
    if number:
        taken = PatientAccount.objects.filter(practice=practice, account_number=number).exclude(patient=patient)
        if taken.exists():
            raise RowError(f"account number {number[:30]} belongs to another patient")
    _, created = account_find_or_create(
        practice=practice,
        patient=patient,
        guarantor=guarantor,
        relationship=relationship,
        insurance=insurance,
        payer_name=row.get("payer_name", ""),
        account_number=number,
    )
    summary.accounts_created += int(created)


def _appointment(practice: Practice, row: dict, summary: Summary, acting_user) -> None:
    patient = Patient.objects.filter(practice=practice, medical_record_number=row["mrn"]).first()
    if patient is None:
        raise RowError(f"no patient with MRN {row['mrn'][:30]} at this practice (import demographics first)")
    text = row["starts_at"]
    for pattern in ("%Y-%m-%d %H:%M", "%m/%d/%Y %H:%M", "%Y-%m-%dT%H:%M"):
        try:
            local = datetime.strptime(text, pattern)
            break
        except ValueError:
            continue
    else:
        raise RowError(f"starts_at {text[:20]!r} is not a date and time (YYYY-MM-DD HH:MM, practice time)")
    starts_at = local.replace(tzinfo=ZoneInfo(practice.time_zone))
    status = _choice(row.get("status", ""), Appointment.Status.choices, "status", Appointment.Status.SCHEDULED)
    _, created = Appointment.objects.get_or_create(
        practice=practice,
        patient=patient,
        starts_at=starts_at,
        provider=row["provider"][:100],
        defaults={"location": row.get("location", "")[:100], "reason": row.get("reason", "")[:200], "status": status},
    )
    summary.appointments_created += int(created)


def _balance(practice: Practice, row: dict, summary: Summary, acting_user) -> None:
    account = PatientAccount.objects.filter(practice=practice, account_number=row["account_number"]).first()
    if account is None:
        raise RowError(f"no account {row['account_number'][:30]} at this practice (import demographics first)")
    patient_amount = _money(row["patient_balance"], "patient_balance")
    insurance_amount = _money(row.get("insurance_balance", ""), "insurance_balance")
    if patient_amount < 0 or insurance_amount < 0:
        raise RowError("an opening credit balance is not imported; post it as a refund or adjustment")
    if not patient_amount and not insurance_amount:
        return
    service_date = _date(row["date_of_service"], "date_of_service")
    as_of = _date(row["as_of"], "as_of") if row.get("as_of") else service_date
    reference = f"opening:{account.account_number}"[:80]
    existing = Transaction.objects.filter(account=account, reference=reference).first()
    if existing is not None:
        encounter_id = existing.encounter_id
    else:
        encounter_id = Encounter.objects.create(
            practice=practice, account=account, date_of_service=service_date, rendering_provider="(opening balance)"
        ).pk
        summary.encounters_created += 1
    # The same reference with other amounts is refused by transaction_post (the row's reason).
    posted = ledger.transaction_post(
        acting_user=acting_user,
        account_id=account.pk,
        kind=Kind.CHARGE,
        patient_amount=patient_amount,
        insurance_amount=insurance_amount,
        effective_on=as_of,
        encounter_id=encounter_id,
        reference=reference,
        memo="Opening balance",
    )
    summary.postings += int(not posted.replayed)
