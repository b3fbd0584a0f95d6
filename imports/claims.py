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

from dataclasses import dataclass
from datetime import date
from decimal import ROUND_CEILING

from django.db import transaction

from accounts import services as ledger
from accounts.events import ledger_run
from accounts.models import ChargeLine, Claim, Encounter, Guarantor, Patient, PatientAccount, Practice, Transaction
from accounts.money import ZERO
from accounts.selectors import practice_today
from core.errors import ApplicationError
from imports import x12
from imports.batches import (
    Progress,
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
    account_build,
    account_find_or_create,
    derived_record_number,
    patient_build,
    patient_find_or_create,
)
from imports.remittance import ClaimRejected, _note_reused_interchange, _refused

Kind = Transaction.Kind
# PAT01 (the patient's relationship to the subscriber) to the subscriber's relationship as guarantor.
# Claims per database transaction; their visits, claims and charges are written in bulk.
CLAIMS_PER_CHUNK = 500
MESSAGE_OTHER_BIRTH_DATE = "claim {number}: its member id is on file for a patient with another date of birth"
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


def import_837(
    *, practice: Practice, content: bytes | str, file_name: str, acting_user=None, progress: Progress | None = None
) -> Summary:
    summary = Summary(files=1)
    progress = progress or Progress()
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
    progress.start("Creating claims", len(claims))
    with ledger_run():  # the work queue follows the file's charges once, when all are posted
        for start in range(0, len(claims), CLAIMS_PER_CHUNK):
            chunk = claims[start : start + CLAIMS_PER_CHUNK]
            _import_chunk(practice, chunk, summary, file_name, acting_user)
            progress.step(len(chunk))  # once the chunk committed
    batch_finish(batch, summary)
    return summary


class _BatchRefused(Exception):
    """A chunk's visits, claims or charges were refused together: the chunk goes claim by claim."""


def _import_chunk(practice: Practice, chunk: list[x12.ProfessionalClaim], summary: Summary, file_name, acting_user):
    """A chunk of claims in one transaction, set-based: the claims, patients and accounts on file
    read in three queries, the new patients, guarantors, accounts, visits, charge lines and claims
    bulk-inserted and the charges posted as one ledger batch. A claim refused by its own checks is
    reported and leaves nothing; anything the chunk cannot do at once (the same claim or patient
    twice with other facts, an account number taken, a refused posting) rolls the chunk back and
    imports it again one claim at a time, each claim in its own savepoint."""
    counted = Summary()  # merged once the chunk committed
    try:
        with transaction.atomic():
            _import_chunk_at_once(practice, chunk, counted, file_name, acting_user)
    except _BatchRefused:
        for claim in chunk:
            summary.claims += 1
            try:
                check_claim(claim)
                counted = Summary()  # merged once the claim committed
                with transaction.atomic():
                    visit = _find_parties(practice, claim, counted, acting_user)
                    if visit is not None:
                        _create_visits(practice, [visit], counted, acting_user, alone=True)
                summary.add(counted)
            except ClaimRejected as rejected:
                summary.reject(file_name, rejected.reason, segment=rejected.position)
            except ApplicationError as error:
                summary.reject(file_name, f"claim {claim.control_number}: {error.message}", segment=claim.position)
        return
    summary.add(counted)


def _import_chunk_at_once(practice: Practice, chunk, counted: Summary, file_name, acting_user) -> None:
    numbers = {claim.control_number for claim in chunk}
    if len(numbers) < len(chunk):
        raise _BatchRefused  # the same claim twice: the second must see the first on file
    on_file = {
        claim.patient_control_number: claim
        for claim in Claim.objects.filter(
            patient_control_number__in=numbers, account__practice=practice
        ).select_related("account__patient", "encounter")
    }
    record_numbers = {}
    for claim in chunk:
        try:
            check_claim(claim)
        except ClaimRejected:
            continue  # reported in the loop below
        record_numbers[claim.control_number] = record_number(claim)
    patients = {
        patient.medical_record_number: patient
        for patient in Patient.objects.filter(practice=practice, medical_record_number__in=set(record_numbers.values()))
    }
    accounts: dict[int, PatientAccount] = {}
    for account in PatientAccount.objects.filter(practice=practice, patient__in=list(patients.values())).order_by(
        "-pk"
    ):
        accounts[account.patient_id] = account  # the first (lowest id) wins, as account_find_or_create
    taken = set(
        PatientAccount.objects.filter(
            practice=practice, account_number__in={number[:30] for number in record_numbers.values()}
        ).values_list("account_number", flat=True)
    )
    new_patients: list[Patient] = []
    new_accounts: dict[int, tuple[Guarantor, PatientAccount]] = {}  # by id() of the new patient
    pending: list[_Visit] = []
    for claim in chunk:
        counted.claims += 1
        try:
            check_claim(claim)
            number = record_numbers[claim.control_number]
            existing = on_file.get(claim.control_number)
            if existing is not None:
                _check_on_file(claim, existing, number)
                counted.claims_unchanged += 1
                continue
            person = claim.the_patient
            patient = patients.get(number)
            if patient is not None and patient.date_of_birth != person.date_of_birth:
                raise ClaimRejected(MESSAGE_OTHER_BIRTH_DATE.format(number=claim.control_number), claim.position)
        except ClaimRejected as rejected:
            counted.reject(file_name, rejected.reason, segment=rejected.position)
            continue
        facts = _facts(person)
        if patient is None:
            patient = patient_build(practice=practice, record_number=number, facts=facts)
            patients[number] = patient
            new_patients.append(patient)
            counted.patients_created += 1
        else:
            address = facts.address()
            if address["address_line1"] and any(getattr(patient, k) != v for k, v in address.items()):
                raise _BatchRefused  # the address follows the file, with its history: claim by claim
        is_self = claim.patient is None or claim.relationship == "18"
        insurance = FILING_INDICATOR.get(claim.filing_indicator, Insurance.COMMERCIAL)
        account = accounts.get(patient.pk) if patient.pk is not None else None
        if account is None and id(patient) in new_accounts:
            account = new_accounts[id(patient)][1]
        if account is None:
            wanted = patient.medical_record_number[:30]
            if wanted in taken:
                raise _BatchRefused  # _free_account_number finds the next free one, claim by claim
            taken.add(wanted)
            new_accounts[id(patient)] = account_build(
                practice=practice,
                patient=patient,
                account_number=wanted,
                guarantor=None if is_self else _facts(claim.subscriber),
                relationship=Guarantor.Relationship.SELF
                if is_self
                else GUARANTOR_RELATIONSHIP.get(claim.relationship, Guarantor.Relationship.OTHER),
                insurance=insurance,
                payer_name=claim.payer.last,
            )
            account = new_accounts[id(patient)][1]
            counted.accounts_created += 1
        service_date = claim.service_date or min(line.service_date for line in claim.lines if line.service_date)
        pending.append(_Visit(claim, account, insurance, service_date))
    # Saved in this order, each row takes the ids of those it names (bulk_create reads them then).
    Patient.objects.bulk_create(new_patients, batch_size=500)
    Guarantor.objects.bulk_create([guarantor for guarantor, _ in new_accounts.values()], batch_size=500)
    PatientAccount.objects.bulk_create([account for _, account in new_accounts.values()], batch_size=500)
    _create_visits(practice, pending, counted, acting_user)


def _check_on_file(claim: x12.ProfessionalClaim, existing: Claim, number: str) -> None:
    """A claim already on file is a copy (changes nothing) or another claim with its number."""
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


@dataclass
class _Visit:
    """A claim whose patient and account are on file, its visit, lines and claim still to write."""

    claim: x12.ProfessionalClaim
    account: PatientAccount
    insurance: str
    service_date: date


def _find_parties(practice: Practice, claim: x12.ProfessionalClaim, summary: Summary, acting_user) -> _Visit | None:
    """The claim's patient and account, found or created; None when the claim is already on file."""
    number = record_number(claim)
    existing = (
        Claim.objects.filter(patient_control_number=claim.control_number, account__practice=practice)
        .select_related("account__patient", "encounter")
        .first()
    )
    if existing is not None:
        _check_on_file(claim, existing, number)
        summary.claims_unchanged += 1
        return None

    patient_person = claim.the_patient
    known = Patient.objects.filter(practice=practice, medical_record_number=number).only("date_of_birth").first()
    if known is not None and known.date_of_birth != patient_person.date_of_birth:
        # Payers reuse member ids (the samples do): never attach a visit to another person.
        raise ClaimRejected(MESSAGE_OTHER_BIRTH_DATE.format(number=claim.control_number), claim.position)
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
    return _Visit(claim, account, insurance, service_date)


def _create_visits(practice: Practice, visits: list[_Visit], summary: Summary, acting_user, alone=False) -> None:
    """The visits, their charge lines, claims and charge postings, in bulk. Refused (`alone`:
    the one claim is refused, else _BatchRefused sends the chunk claim by claim)."""
    if not visits:
        return
    encounters = []
    for visit in visits:
        claim = visit.claim
        rendering = claim.rendering or claim.billing
        encounters.append(
            Encounter(
                practice=practice,
                account=visit.account,
                date_of_service=visit.service_date,
                rendering_provider=(rendering.display_name or claim.billing.display_name or "(not named)")[:100],
                rendering_provider_npi=rendering.identifier[:10] if rendering.id_qualifier == "XX" else "",
                place_of_service=(claim.place_of_service or "11")[:2],
                diagnosis_codes=claim.diagnosis_codes,
            )
        )
    Encounter.objects.bulk_create(encounters, batch_size=500)
    ChargeLine.objects.bulk_create(
        [
            ChargeLine(
                encounter=encounter,
                procedure_code=line.code,
                modifiers=",".join(line.modifiers)[:11],
                # Whole units: a fraction (anesthesia minutes, a partial vial) counts as the next unit.
                units=max(1, int(line.units.to_integral_value(rounding=ROUND_CEILING))),
                amount=line.amount,
            )
            for visit, encounter in zip(visits, encounters, strict=True)
            for line in visit.claim.lines
        ],
        batch_size=1000,
    )
    today = practice_today(practice)
    Claim.objects.bulk_create(
        [
            Claim(
                encounter=encounter,
                account=visit.account,
                payer_name=(visit.claim.payer.last or "(not named)")[:100],
                payer_id=visit.claim.payer.identifier[:20],
                billed_amount=visit.claim.total,
                submitted_on=visit.claim.submitted_on or today,
                patient_control_number=visit.claim.control_number,
            )
            for visit, encounter in zip(visits, encounters, strict=True)
        ],
        batch_size=500,
    )
    postings = []
    for visit, encounter in zip(visits, encounters, strict=True):
        self_pay = visit.insurance == Insurance.SELF_PAY
        for line in visit.claim.lines:
            if not line.amount:
                continue
            postings.append(
                ledger.Posting(
                    account_id=visit.account.pk,
                    kind=Kind.CHARGE,
                    patient_amount=line.amount if self_pay else ZERO,
                    insurance_amount=ZERO if self_pay else line.amount,
                    effective_on=line.service_date or visit.service_date,
                    encounter_id=encounter.pk,
                    reference=break_digit_runs(f"837:{visit.claim.control_number}:{line.number}")[:80],
                    memo=f"{line.code} {','.join(line.modifiers)}".strip()[:200],
                )
            )
    try:
        ledger.transactions_post_many(acting_user=acting_user, postings=postings)
    except ApplicationError:
        if alone:
            raise
        raise _BatchRefused from None
    summary.encounters_created += len(visits)
    summary.claims_created += len(visits)
    summary.postings += len(postings)
