"""837P imports: patients, subscribers, accounts, visits, charge lines, diagnoses, the claim and its
charges; the same claim again changes nothing; a claim that cannot be right is rejected whole."""

from datetime import date
from decimal import Decimal

from accounts.ledger_check import ledger_mismatches
from accounts.models import ChargeLine, Claim, Encounter, Guarantor, Patient, PatientAccount, Transaction
from imports import x12_generator as gen
from imports.claims import import_837
from tests.imports.conftest import X12, need, row_counts, run_json

Kind = Transaction.Kind


def _files():
    return [str(p) for p in sorted((need(X12) / "837P").iterdir())]


def test_every_shared_837p_imports_with_the_expected_counts(practice):
    summary = run_json("import_x12", *_files(), "--practice", practice.code)
    assert summary["files"] == 18
    # demo.example6.837 is demo.cob.2ndary.example4.837 segment for segment.
    assert summary["files_already_imported"] == 1
    assert summary["claims"] == 17
    assert summary["claims_created"] == 12
    # demo.cob.example3.B and .C send claim 26407789 of .A again, to the secondary payer.
    assert summary["claims_unchanged"] == 2
    rejected = {(r["file"], r["segment"]) for r in summary["rejects"]}
    assert rejected == {
        # CLMNO12345 is on file for Steve Vaughn (example10.1): another patient under the same number.
        ("demo.drug.example10.2.837", 21),
        ("demo.drug.example10.3.837", 21),
        # Member id 123456789A is Matthew Williamson's (cob.2ndary.example4), not Margaret Jones's.
        ("demo.example9.837", 20),
    }
    assert (summary["patients_created"], summary["accounts_created"], summary["encounters_created"]) == (11, 11, 12)
    assert summary["postings"] == ChargeLine.objects.exclude(amount=0).count() == 27
    assert Claim.objects.count() == 12
    assert not ledger_mismatches()[0]


def test_a_second_import_of_the_837p_files_changes_no_row(practice):
    run_json("import_x12", *_files(), "--practice", practice.code)
    before = row_counts()
    summary = run_json("import_x12", *_files(), "--practice", practice.code)
    assert row_counts() == before
    assert summary["files_already_imported"] == 18


def test_the_ambulance_claim_becomes_a_visit_with_its_lines_diagnoses_and_charges(practice):
    run_json("import_x12", str(need(X12) / "837P" / "demo.ambulance.example5.837"), "--practice", practice.code)
    claim = Claim.objects.select_related("encounter", "account__patient").get(patient_control_number="051068")
    visit = claim.encounter
    assert (visit.date_of_service, visit.place_of_service) == (date(2005, 2, 8), "41")
    # No rendering provider loop: the billing provider rendered the service.
    assert (visit.rendering_provider, visit.rendering_provider_npi) == ("AAA AMBULANCE SERVICE", "2366554859")
    assert visit.diagnosis_codes == ["8628", "E8888", "9592", "8540"]
    lines = list(visit.charge_lines.order_by("pk").values_list("procedure_code", "modifiers", "units", "amount"))
    assert lines == [
        ("A0427", "RH", 1, Decimal("700.00")),
        ("A0425", "RH", 21, Decimal("8.20")),
        ("A0422", "RH", 1, Decimal("46.00")),
        ("A0382", "RH", 1, Decimal("12.30")),
    ]
    assert (claim.payer_name, claim.payer_id, claim.billed_amount) == ("MEDICARE PART B", "123245", Decimal("766.50"))
    account = claim.account
    assert account.primary_insurance == PatientAccount.InsuranceType.MEDICARE
    assert (account.patient_balance, account.insurance_balance) == (Decimal("0.00"), Decimal("766.50"))
    patient = account.patient
    assert (patient.medical_record_number, patient.first_name, patient.date_of_birth) == (
        "012345678A",
        "SARAH",
        date(1963, 7, 29),
    )
    assert (patient.city, patient.state, patient.sex) == ("CARR", "CO", Patient.Sex.FEMALE)
    references = set(Transaction.objects.filter(account=account).values_list("reference", flat=True))
    assert references == {f"837:051068:{n}" for n in range(1, 5)}


def test_a_dependent_gets_the_subscriber_as_guarantor_and_one_record_across_files(practice):
    for name in ("demo.cob.example3.A.837", "demo.example1.837"):
        run_json("import_x12", str(need(X12) / "837P" / name), "--practice", practice.code)
    ted = Patient.objects.get(first_name="TED", date_of_birth=date(1973, 5, 1))
    account = PatientAccount.objects.select_related("guarantor").get(patient=ted)
    assert account.guarantor.relationship == Guarantor.Relationship.PARENT
    assert (account.guarantor.first_name, account.guarantor.last_name) == ("JANE", "SMITH")
    assert Encounter.objects.filter(account=account).count() == 2
    assert account.insurance_balance == Decimal("79.04") + Decimal("100.00")


def test_the_same_claim_in_a_new_file_changes_nothing(practice):
    claims = gen.generate_claims(3, seed=41)
    import_837(practice=practice, content=gen.write_837(claims), file_name="a.837")
    before = row_counts()
    again = import_837(practice=practice, content=gen.write_837(claims, envelope=False), file_name="b.837")
    after = row_counts()
    assert after.pop("imports.ImportBatch") == before.pop("imports.ImportBatch") + 1
    assert after == before
    assert again.claims_unchanged == 3


def test_a_claim_whose_lines_do_not_add_up_is_rejected_and_creates_nothing(practice):
    claims = gen.generate_claims(2, seed=43)
    text = gen.write_837(claims).replace(
        f"CLM*{claims[0].control_number}*{claims[0].charge}", f"CLM*{claims[0].control_number}*{claims[0].charge + 1}"
    )
    summary = import_837(practice=practice, content=text, file_name="a.837")
    assert len(summary.rejects) == 1 and "CLM02" in summary.rejects[0]["reason"]
    assert summary.claims_created == 1
    assert not Patient.objects.filter(medical_record_number=claims[0].member_id).exists()


def test_a_control_number_reused_for_other_charges_is_rejected(practice):
    claims = gen.generate_claims(1, seed=47)
    import_837(practice=practice, content=gen.write_837(claims), file_name="a.837")
    claims[0].lines[0].charge += Decimal("5.00")
    summary = import_837(practice=practice, content=gen.write_837(claims), file_name="b.837")
    assert len(summary.rejects) == 1 and "already on file" in summary.rejects[0]["reason"]
    assert Claim.objects.count() == 1


def test_a_self_pay_claim_charges_the_patient(practice):
    claims = gen.generate_claims(1, seed=53)
    text = gen.write_837(claims).replace("SBR*P*18*******CI", "SBR*P*18*******ZZ")
    import_837(practice=practice, content=text, file_name="a.837")
    account = PatientAccount.objects.get()
    assert account.primary_insurance == PatientAccount.InsuranceType.SELF_PAY
    assert (account.patient_balance, account.insurance_balance) == (claims[0].charge, Decimal("0.00"))


def test_an_835_file_given_as_837_is_refused(practice):
    summary = import_837(practice=practice, content=gen.write_835(gen.generate_claims(1)), file_name="x.837")
    assert (
        summary.files_refused == 1 and "this is an 835 (remittance) file, not an 837P" in summary.rejects[0]["reason"]
    )
