"""Synthea CSV exports (patients, encounters, claims, claims_transactions) up to a cut-off date.

Synthea closes every bill: each claim's rows (charge, payer payment, transfer of the patient's
share, the patient's payment) all carry the date of service. Imported as they stand, every balance
would be zero. Patient payments therefore post on the date of service plus the practice's
statement cycle (when a patient could first pay the statement) and, like every other row, only
when that date is on or before --cutoff; so the visits of the last cycle before the cut-off are
open balances, the older ones are paid. Rows dated after the cut-off wait for a later import with
a later cut-off, which adds just them (every posting is referenced "synthea:<row id>", the id's
digits written as letters).

Mapping, claim by claim (claims_transactions rows in CHARGEID order, each row belonging to the
last CHARGE of its procedure code):
- CHARGE: a charge to insurance (TRANSFERTYPE 1 or 2) or, uninsured (p), to the patient;
- PAYMENT while the line is with insurance: an insurance payment, its ADJUSTMENTS a contractual
  adjustment; PAYMENT once the line is the patient's: a patient payment (METHOD: CASH, CHECK,
  ECHECK, CC, COPAY);
- TRANSFERIN of type p: a transfer to the patient; TRANSFEROUT, and transfers between payers, post
  nothing (insurance to insurance leaves both balances as they are).
Each claim posts in its own transaction. Patients are keyed "SY" + the first 28 hex digits of
their Synthea id; the Synthea claim id is the claim's patient control number. Procedure codes are
SNOMED CT, not CPT, so no charge lines are made.
"""

from __future__ import annotations

import csv
import hashlib
from collections import defaultdict
from datetime import date, timedelta
from decimal import Decimal, InvalidOperation
from pathlib import Path

from django.db import transaction

from accounts import services as ledger
from accounts.models import Claim, Encounter, Practice, Transaction
from accounts.money import ZERO
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
from imports.people import Insurance, PersonFacts, account_find_or_create, patient_find_or_create

Kind = Transaction.Kind
FILES = ("patients.csv", "encounters.csv", "claims.csv", "claims_transactions.csv", "payers.csv", "providers.csv")
METHOD = {
    "CASH": Transaction.PaymentMethod.CASH,
    "COPAY": Transaction.PaymentMethod.CASH,
    "CHECK": Transaction.PaymentMethod.CHECK,
    "ECHECK": Transaction.PaymentMethod.CHECK,
    "CC": Transaction.PaymentMethod.CARD,
}
STATES = {
    "alabama": "AL", "alaska": "AK", "arizona": "AZ", "arkansas": "AR", "california": "CA", "colorado": "CO",
    "connecticut": "CT", "delaware": "DE", "district of columbia": "DC", "florida": "FL", "georgia": "GA",
    "hawaii": "HI", "idaho": "ID", "illinois": "IL", "indiana": "IN", "iowa": "IA", "kansas": "KS",
    "kentucky": "KY", "louisiana": "LA", "maine": "ME", "maryland": "MD", "massachusetts": "MA",
    "michigan": "MI", "minnesota": "MN", "mississippi": "MS", "missouri": "MO", "montana": "MT",
    "nebraska": "NE", "nevada": "NV", "new hampshire": "NH", "new jersey": "NJ", "new mexico": "NM",
    "new york": "NY", "north carolina": "NC", "north dakota": "ND", "ohio": "OH", "oklahoma": "OK",
    "oregon": "OR", "pennsylvania": "PA", "rhode island": "RI", "south carolina": "SC", "south dakota": "SD",
    "tennessee": "TN", "texas": "TX", "utah": "UT", "vermont": "VT", "virginia": "VA", "washington": "WA",
    "west virginia": "WV", "wisconsin": "WI", "wyoming": "WY",
}  # fmt: skip
PAYER_KIND = {"medicare": Insurance.MEDICARE, "medicaid": Insurance.MEDICAID, "no_insurance": Insurance.SELF_PAY}


class RowRejected(Exception):
    def __init__(self, reason: str, line: int):
        super().__init__(reason)
        self.reason, self.line = reason, line


def _rows(folder: Path, name: str) -> list[dict]:
    with (folder / name).open(newline="", encoding="utf-8") as handle:
        return [dict(row, _line=str(n)) for n, row in enumerate(csv.DictReader(handle), start=2)]


def _day(text: str) -> date | None:
    try:
        return date.fromisoformat(text[:10]) if text else None
    except ValueError:
        return None


def _money(text: str, line: int, column: str) -> Decimal:
    try:
        return Decimal(text or "0").quantize(Decimal("0.01"))
    except InvalidOperation:
        raise RowRejected(f"{column} {text[:12]!r} is not an amount", line) from None


# Synthea row ids are UUIDs; written with letters for digits, no run of them can look like a card
# number to the ledger's PCI check (accounts.validators), which refuses such a reference.
_LETTERS = str.maketrans("0123456789", "ghijklmnop", "-")


def row_reference(row_id: str) -> str:
    return f"synthea:{row_id.translate(_LETTERS)}"[:80]


def record_number(synthea_id: str) -> str:
    return "SY" + synthea_id.replace("-", "")[:28].upper()


def _digest(folder: Path, cutoff: date) -> str:
    h = hashlib.sha256(f"cutoff={cutoff.isoformat()}".encode())
    for name in FILES:
        h.update(name.encode())
        h.update((folder / name).read_bytes())
    return h.hexdigest()


def import_synthea(
    *, practice: Practice, folder: str | Path, cutoff: date, acting_user=None, progress: Progress | None = None
) -> Summary:
    folder = Path(folder)
    progress = progress or Progress()
    summary = Summary(files=len(FILES))
    missing = [name for name in FILES if not (folder / name).is_file()]
    if missing:
        summary.files_refused = len(missing)
        for name in missing:
            summary.reject(name, "file not found in the export folder")
        return summary
    digest = _digest(folder, cutoff)
    kind = ImportBatch.Kind.SYNTHEA
    earlier = batch_already_imported(practice=practice, kind=kind, digest=digest)
    if earlier is not None:
        summary.files_already_imported = len(FILES)
        summary.messages.append(already_imported_message(earlier, f"{folder.name} up to {cutoff:%m/%d/%Y}"))
        return summary
    batch = batch_start(practice=practice, kind=kind, file_name=f"{folder.name} (cutoff {cutoff})", digest=digest)
    patients = {row["Id"]: row for row in _rows(folder, "patients.csv")}
    payers = {row["Id"]: row["NAME"] for row in _rows(folder, "payers.csv")}
    providers = {row["Id"]: row["NAME"] for row in _rows(folder, "providers.csv")}
    encounters = {row["Id"]: row for row in _rows(folder, "encounters.csv")}
    claims = _rows(folder, "claims.csv")
    transactions: dict[str, list[dict]] = defaultdict(list)
    for row in _rows(folder, "claims_transactions.csv"):
        transactions[row["CLAIMID"]].append(row)
    summary.rows = len(patients) + len(encounters) + len(claims) + sum(len(v) for v in transactions.values())

    progress.start("Importing claims", len(claims))
    for claim in sorted(claims, key=lambda row: (row["SERVICEDATE"], row["Id"])):
        progress.step()
        service_date = _day(claim["SERVICEDATE"])
        if service_date is None or service_date > cutoff:
            continue
        summary.claims += 1
        counted = Summary()  # merged once the claim committed
        try:
            with transaction.atomic():
                _import_claim(
                    practice, claim, patients, payers, providers, encounters, transactions[claim["Id"]], cutoff,
                    counted, acting_user,
                )  # fmt: skip
            summary.add(counted)
        except RowRejected as rejected:
            summary.reject("claims_transactions.csv", rejected.reason, line=rejected.line)
        except ApplicationError as error:
            summary.reject("claims.csv", error.message, line=int(claim["_line"]))
    batch_finish(batch, summary)
    return summary


def _account_for(practice, patient_row: dict, payer_name: str, summary: Summary, acting_user):
    facts = PersonFacts(
        last_name=patient_row["LAST"],
        first_name=patient_row["FIRST"],
        date_of_birth=_day(patient_row["BIRTHDATE"]),
        sex=patient_row.get("GENDER", ""),
        address_line1=patient_row.get("ADDRESS", ""),
        city=patient_row.get("CITY", ""),
        state=STATES.get(patient_row.get("STATE", "").strip().lower(), patient_row.get("STATE", "")[:2]),
        postal_code=patient_row.get("ZIP", ""),
    )
    if facts.date_of_birth is None:
        raise RowRejected("the patient has no birth date", int(patient_row["_line"]))
    patient, created = patient_find_or_create(
        practice=practice, record_number=record_number(patient_row["Id"]), facts=facts, acting_user=acting_user
    )
    summary.patients_created += int(created)
    deceased = _day(patient_row.get("DEATHDATE", ""))
    if deceased and patient.deceased_on != deceased:
        type(patient).objects.filter(pk=patient.pk).update(deceased_on=deceased)
    account, created = account_find_or_create(
        practice=practice,
        patient=patient,
        insurance=PAYER_KIND.get(payer_name.lower(), Insurance.COMMERCIAL),
        payer_name="" if payer_name.upper() == "NO_INSURANCE" else payer_name,
    )
    summary.accounts_created += int(created)
    return account


def _import_claim(practice, claim, patients, payers, providers, encounters, rows, cutoff, summary, acting_user) -> None:
    line = int(claim["_line"])
    patient_row = patients.get(claim["PATIENTID"])
    if patient_row is None:
        raise RowRejected("the claim's patient is not in patients.csv", line)
    visit = encounters.get(claim["APPOINTMENTID"], {})
    payer_name = payers.get(visit.get("PAYER", ""), "")
    account = _account_for(practice, patient_row, payer_name, summary, acting_user)
    service_date = _day(claim["SERVICEDATE"])
    existing = Claim.objects.filter(patient_control_number=claim["Id"], account=account).first()
    if existing is None:
        codes = [claim[f"DIAGNOSIS{n}"] for n in range(1, 9) if claim.get(f"DIAGNOSIS{n}")]
        encounter = Encounter.objects.create(
            practice=practice,
            account=account,
            date_of_service=service_date,
            rendering_provider=providers.get(claim["PROVIDERID"], "(not named)")[:100],
            place_of_service="11",
            diagnosis_codes=codes,
        )
        summary.encounters_created += 1
        billed = sum((_money(r["AMOUNT"], int(r["_line"]), "AMOUNT") for r in rows if r["TYPE"] == "CHARGE"), ZERO)
        closed = claim.get("STATUS1", "") == "CLOSED"
        existing = Claim.objects.create(
            encounter=encounter,
            account=account,
            payer_name=(payer_name or "Self-pay")[:100],
            billed_amount=billed,
            # Synthea's payer has finished with a CLOSED claim (on the date of service).
            status=Claim.Status.PAID if closed else Claim.Status.SUBMITTED,
            paid_amount=_payer_paid(rows),
            submitted_on=service_date,
            adjudicated_on=service_date if closed else None,
            patient_control_number=claim["Id"],
        )
        summary.claims_created += 1
    else:
        encounter = existing.encounter
        summary.claims_unchanged += 1
    patient_pays_on = service_date + timedelta(days=practice.statement_cycle_days)
    party: dict[str, str] = {}
    for row in sorted(rows, key=lambda r: int(r["CHARGEID"] or 0)):
        posting = _posting(row, party, service_date, patient_pays_on)
        if posting is None:
            continue
        kind, patient_amount, insurance_amount, effective_on, method, memo = posting
        if effective_on > cutoff or (not patient_amount and not insurance_amount):
            continue
        posted = ledger.transaction_post(
            acting_user=acting_user,
            account_id=account.pk,
            kind=kind,
            patient_amount=patient_amount,
            insurance_amount=insurance_amount,
            effective_on=effective_on,
            encounter_id=None if kind == Kind.PATIENT_PAYMENT else encounter.pk,
            payment_method=method,
            reference=row_reference(row["ID"]),
            memo=memo[:200],
        )
        summary.postings += int(not posted.replayed)
        if kind == Kind.INSURANCE_PAYMENT:
            summary.payments -= insurance_amount


def _payer_paid(rows: list[dict]) -> Decimal:
    paid, party = ZERO, {}
    for row in sorted(rows, key=lambda r: int(r["CHARGEID"] or 0)):
        if row["TYPE"] == "CHARGE":
            party[row["PROCEDURECODE"]] = row["TRANSFERTYPE"]
        elif row["TYPE"] == "TRANSFERIN" and row["TRANSFERTYPE"] == "p":
            party[row["PROCEDURECODE"]] = "p"
        elif row["TYPE"] == "PAYMENT" and party.get(row["PROCEDURECODE"], "p") != "p":
            paid += _money(row["PAYMENTS"], int(row["_line"]), "PAYMENTS")
    return paid


def _posting(row: dict, party: dict[str, str], service_date: date, patient_pays_on: date):
    """(kind, patient amount, insurance amount, date, method, memo) for one row, or None."""
    line = int(row["_line"])
    code = row["PROCEDURECODE"]
    kind = row["TYPE"]
    if kind == "CHARGE":
        amount = _money(row["AMOUNT"], line, "AMOUNT")
        party[code] = "patient" if row["TRANSFERTYPE"] == "p" else "insurance"
        # No code in the memo: a 15-digit SNOMED code can pass the card-number check.
        if party[code] == "patient":
            return Kind.CHARGE, amount, ZERO, service_date, "", "Synthea charge"
        return Kind.CHARGE, ZERO, amount, service_date, "", "Synthea charge"
    if code not in party:
        raise RowRejected(f"a {kind} row before the charge of procedure {code}", line)
    if kind == "PAYMENT":
        paid = _money(row["PAYMENTS"], line, "PAYMENTS")
        adjusted = _money(row["ADJUSTMENTS"], line, "ADJUSTMENTS")
        if adjusted and party[code] == "patient":
            raise RowRejected("an adjustment of the patient's share is not imported", line)
        if party[code] == "insurance":
            if adjusted and not paid:
                return Kind.CONTRACTUAL_ADJUSTMENT, ZERO, -adjusted, service_date, "", "Synthea adjustment"
            if adjusted:
                raise RowRejected("a payer payment and adjustment in one row", line)
            return Kind.INSURANCE_PAYMENT, ZERO, -paid, service_date, Transaction.PaymentMethod.EFT, "Synthea payer"
        method = METHOD.get(row["METHOD"].upper())
        if method is None:
            raise RowRejected(f"payment method {row['METHOD'][:10]!r} is not one we take", line)
        return Kind.PATIENT_PAYMENT, -paid, ZERO, patient_pays_on, method, "Synthea patient payment"
    if kind == "TRANSFERIN":
        amount = _money(row["AMOUNT"] or row["TRANSFERS"], line, "AMOUNT")
        if row["TRANSFERTYPE"] == "p" and party[code] == "insurance":
            party[code] = "patient"
            return Kind.TRANSFER_TO_PATIENT, amount, -amount, service_date, "", "Synthea patient share"
        return None
    if kind == "TRANSFEROUT":
        return None
    raise RowRejected(f"row type {kind[:12]!r} is not known", line)
