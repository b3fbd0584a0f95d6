"""837P professional claims: patients, subscribers, accounts, visits, charge lines, the claim and
its charges, one claim per transaction.

For each claim (CLM): the patient (the subscriber when SBR02 is 18 or there is no patient loop,
else the dependent of 2000C) is found or created (imports.people); the subscriber becomes the
guarantor of a new account; the visit gets its date of service (claim DTP*472/434, else the first
line's), rendering provider (2310B NM1*82, else the billing provider), place of service (CLM05-1)
and diagnosis codes (HI); each SV1 becomes a charge line and a CHARGE posting to insurance (to the
patient when the filing indicator is self-pay) referenced "837:<CLM01>:<line>".

Idempotent: a patient control number already on file for the practice with the same patient and
the same charges is "already on file" and changes nothing (a coordination-of-benefits copy of the
claim sent to a second payer is such a copy). The same number with another patient or other
charges is rejected: an 835 could not tell the two apart. So is a member id already on file for
a patient with another date of birth. A claim whose lines do not add up to CLM02 is rejected with
its segment number.
"""

from __future__ import annotations

from decimal import ROUND_CEILING

from django.db import transaction

from accounts import services as ledger
from accounts.models import ChargeLine, Claim, Encounter, Guarantor, Patient, Practice, Transaction
from accounts.money import ZERO
from accounts.selectors import practice_today
from core.errors import ApplicationError
from imports import x12
from imports.batches import (
    Summary,
    already_imported_message,
    batch_already_imported,
    batch_finish,
    batch_start,
    break_digit_runs,
)
from imports.models import ImportBatch
from imports.people import (
    FILING_INDICATOR,
    Insurance,
    PersonFacts,
    account_find_or_create,
    derived_record_number,
    patient_find_or_create,
)
from imports.remittance import ClaimRejected, _note_reused_interchange, _refused

Kind = Transaction.Kind
# PAT01 (the patient's relationship to the subscriber) to the subscriber's relationship as guarantor.
GUARANTOR_RELATIONSHIP = {"01": Guarantor.Relationship.SPOUSE, "19": Guarantor.Relationship.PARENT}


def _facts(person: x12.Person) -> PersonFacts:
    return PersonFacts(
        last_name=person.last,
        first_name=person.first,
        middle_name=person.middle,
        date_of_birth=person.date_of_birth,
        sex=person.sex,
        address_line1=person.address1,
        address_line2=person.address2,
        city=person.city,
        state=person.state,
        postal_code=person.postal_code,
    )


def record_number(claim: x12.ProfessionalClaim) -> str:
    if claim.patient is None or claim.relationship == "18":
        if claim.subscriber.identifier:
            return claim.subscriber.identifier[:30]
        return derived_record_number(_facts(claim.subscriber))
    return derived_record_number(_facts(claim.patient))


def check_claim(claim: x12.ProfessionalClaim) -> None:
    if claim.error is not None:
        raise ClaimRejected(claim.error.reason, claim.error.position or claim.position)
    if not claim.lines:
        raise ClaimRejected(f"claim {claim.control_number} has no service lines (SV1)", claim.position)
    total = sum((line.amount for line in claim.lines), ZERO)
    if total != claim.total:
        raise ClaimRejected(
            f"claim {claim.control_number}: CLM02 {claim.total} differs from its lines' total {total}", claim.position
        )
    for line in claim.lines:
        if line.amount < 0:
            raise ClaimRejected(f"line {line.number}: a negative charge", line.position)
        if len(line.code) > 5:
            raise ClaimRejected(f"line {line.number}: {line.code[:12]!r} is not a CPT/HCPCS code", line.position)
    if claim.the_patient.date_of_birth is None:
        raise ClaimRejected(
            f"claim {claim.control_number}: the patient's date of birth (DMG) is missing", claim.position
        )
    if claim.service_date is None and not any(line.service_date for line in claim.lines):
        raise ClaimRejected(f"claim {claim.control_number}: no date of service (DTP*472)", claim.position)


def import_837(*, practice: Practice, content: bytes | str, file_name: str, acting_user=None) -> Summary:
    summary = Summary(files=1)
    kind = ImportBatch.Kind.X12_837P
    try:
        interchange = x12.read_as(content, "837")
        claims = x12.parse_837(interchange)
    except x12.X12Error as error:
        return _refused(practice, file_name, content, error, summary, kind, acting_user)
    digest = interchange.digest
    earlier = batch_already_imported(practice=practice, kind=kind, digest=digest)
    if earlier is not None:
        summary.files_already_imported = 1
        summary.messages.append(already_imported_message(earlier, file_name))
        return summary
    summary.warnings.extend(f"{file_name}: {w}" for w in interchange.warnings)
    _note_reused_interchange(practice, interchange, file_name, summary)
    batch = batch_start(
        practice=practice,
        kind=kind,
        file_name=file_name,
        digest=digest,
        acting_user=acting_user,
        interchange_sender=interchange.sender[:15],
        interchange_control_number=interchange.control_number[:9],
    )
    for claim in claims:
        summary.claims += 1
        try:
            check_claim(claim)
            counted = Summary()  # merged once the claim committed
            with transaction.atomic():
                _import_claim(practice, claim, counted, acting_user)
            summary.add(counted)
        except ClaimRejected as rejected:
            summary.reject(file_name, rejected.reason, segment=rejected.position)
        except ApplicationError as error:
            summary.reject(file_name, f"claim {claim.control_number}: {error.message}", segment=claim.position)
    batch_finish(batch, summary)
    return summary


def _import_claim(practice: Practice, claim: x12.ProfessionalClaim, summary: Summary, acting_user) -> None:
    number = record_number(claim)
    existing = (
        Claim.objects.filter(patient_control_number=claim.control_number, account__practice=practice)
        .select_related("account__patient", "encounter")
        .first()
    )
    if existing is not None:
        on_file = list(existing.encounter.charge_lines.order_by("pk").values_list("procedure_code", "amount"))
        same = (
            existing.account.patient.medical_record_number == number
            and existing.billed_amount == claim.total
            and on_file == [(line.code, line.amount) for line in claim.lines]
        )
        if not same:
            raise ClaimRejected(
                f"patient control number {claim.control_number} is already on file for another claim "
                "(another patient or other charges)",
                claim.position,
            )
        summary.claims_unchanged += 1
        return

    patient_person = claim.the_patient
    known = Patient.objects.filter(practice=practice, medical_record_number=number).only("date_of_birth").first()
    if known is not None and known.date_of_birth != patient_person.date_of_birth:
        # Payers reuse member ids (the samples do): never attach a visit to another person.
        raise ClaimRejected(
            f"claim {claim.control_number}: its member id is on file for a patient with another date of birth",
            claim.position,
        )
    patient, created = patient_find_or_create(
        practice=practice, record_number=number, facts=_facts(patient_person), acting_user=acting_user
    )
    summary.patients_created += int(created)
    is_self = claim.patient is None or claim.relationship == "18"
    insurance = FILING_INDICATOR.get(claim.filing_indicator, Insurance.COMMERCIAL)
    account, created = account_find_or_create(
        practice=practice,
        patient=patient,
        guarantor=None if is_self else _facts(claim.subscriber),
        relationship=Guarantor.Relationship.SELF
        if is_self
        else GUARANTOR_RELATIONSHIP.get(claim.relationship, Guarantor.Relationship.OTHER),
        insurance=insurance,
        payer_name=claim.payer.last,
    )
    summary.accounts_created += int(created)

    service_date = claim.service_date or min(line.service_date for line in claim.lines if line.service_date)
    rendering = claim.rendering or claim.billing
    encounter = Encounter.objects.create(
        practice=practice,
        account=account,
        date_of_service=service_date,
        rendering_provider=(rendering.display_name or claim.billing.display_name or "(not named)")[:100],
        rendering_provider_npi=rendering.identifier[:10] if rendering.id_qualifier == "XX" else "",
        place_of_service=(claim.place_of_service or "11")[:2],
        diagnosis_codes=claim.diagnosis_codes,
    )
    summary.encounters_created += 1
    ChargeLine.objects.bulk_create(
        ChargeLine(
            encounter=encounter,
            procedure_code=line.code,
            modifiers=",".join(line.modifiers)[:11],
            # Whole units: a fraction (anesthesia minutes, a partial vial) counts as the next unit.
            units=max(1, int(line.units.to_integral_value(rounding=ROUND_CEILING))),
            amount=line.amount,
        )
        for line in claim.lines
    )
    Claim.objects.create(
        encounter=encounter,
        account=account,
        payer_name=(claim.payer.last or "(not named)")[:100],
        payer_id=claim.payer.identifier[:20],
        billed_amount=claim.total,
        submitted_on=claim.submitted_on or practice_today(practice),
        patient_control_number=claim.control_number,
    )
    summary.claims_created += 1
    self_pay = insurance == Insurance.SELF_PAY
    for line in claim.lines:
        if not line.amount:
            continue
        ledger.transaction_post(
            acting_user=acting_user,
            account_id=account.pk,
            kind=Kind.CHARGE,
            patient_amount=line.amount if self_pay else ZERO,
            insurance_amount=ZERO if self_pay else line.amount,
            effective_on=line.service_date or service_date,
            encounter_id=encounter.pk,
            reference=break_digit_runs(f"837:{claim.control_number}:{line.number}")[:80],
            memo=f"{line.code} {','.join(line.modifiers)}".strip()[:200],
        )
        summary.postings += 1
