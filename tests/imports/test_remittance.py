"""835 imports: payments and adjustments by group, patient responsibility on the right account,
reversals, provider-level adjustments, the review list, and nothing half posted."""

import logging
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import call_command

from accounts import services as ledger
from accounts.ledger_check import ledger_mismatches
from accounts.models import Claim, PatientAccount, Transaction
from imports import x12
from imports import x12_generator as gen
from imports.claims import import_837
from imports.models import ImportBatch, ProviderAdjustment, UnmatchedClaim
from imports.remittance import import_835
from tests.factories import EncounterFactory, PatientAccountFactory
from tests.imports.conftest import X12, cas_pr_sum, need, row_counts, run_json

Kind = Transaction.Kind
SAMPLES = ["cob-contractural-adjustment.835", "managed-care.835", "medicare-part-a.835", "secondary-payment.835",
           "tertiary-payment.835"]  # fmt: skip


def sample_claims_on_file(practice) -> dict[str, Claim]:
    """A billed claim for every CLP01 of the shared 835s: the visit, its charge and the claim."""
    claims = {}
    for name in SAMPLES:
        for remittance in x12.parse_835(x12.read((X12 / "835" / name).read_bytes())):
            for clp in remittance.claims:
                account = PatientAccountFactory(practice=practice)
                encounter = EncounterFactory(account=account)
                ledger.transaction_post(
                    acting_user=None,
                    account_id=account.pk,
                    kind=Kind.CHARGE,
                    insurance_amount=clp.charge,
                    encounter_id=encounter.pk,
                    effective_on=encounter.date_of_service,
                )
                claims[clp.control_number] = Claim.objects.create(
                    encounter=encounter,
                    account=account,
                    payer_name="Sample payer",
                    billed_amount=clp.charge,
                    submitted_on=encounter.date_of_service,
                    patient_control_number=clp.control_number,
                )
    return claims


@pytest.fixture
def on_file(practice):
    need(X12)
    return sample_claims_on_file(practice)


def _files():
    return [str(need(X12) / "835" / name) for name in SAMPLES]


def test_every_shared_835_imports_with_the_expected_counts(practice, on_file):
    summary = run_json("import_x12", *_files(), "--practice", practice.code)
    assert summary["files"] == 5 and summary["files_refused"] == 0
    assert summary["claims"] == 8
    assert summary["claims_posted"] == 7
    assert summary["unmatched_claims"] == []
    # tertiary-payment.835: its malformed SVC rejects that claim, naming segment 20.
    assert [(r["file"], r["segment"]) for r in summary["rejects"]] == [("tertiary-payment.835", 20)]
    assert summary["provider_adjustments"] == 1
    # What the files say, and what was posted (all but the rejected tertiary claim's OA 1579.00).
    assert summary["adjustments"] == {"CO": "76608.24", "PR": "1120.00", "OA": "11634.14", "PI": "0.00"}
    assert summary["adjustments_posted"] == {"CO": "76608.24", "PR": "1120.00", "OA": "10055.14", "PI": "0.00"}
    plb = ProviderAdjustment.objects.get()
    assert (plb.reason_code, plb.amount, plb.provider_identifier) == ("CV", Decimal("-1.27"), "6543210903")
    assert not ledger_mismatches()[0]


def test_the_json_pr_total_equals_the_files_cas_pr_sums(practice, on_file):
    summary = run_json("import_x12", *_files(), "--practice", practice.code)
    expected = sum((cas_pr_sum((X12 / "835" / name).read_text()) for name in SAMPLES), Decimal("0.00"))
    assert Decimal(summary["adjustments"]["PR"]) == Decimal(summary["adjustments_posted"]["PR"]) == expected
    assert expected == Decimal("1120.00")


def test_on_a_fresh_database_the_json_pr_total_still_equals_the_files(practice):
    # No claim on file: every remittance claim waits on the review list, nothing is posted.
    summary = run_json("import_x12", *_files(), "--practice", practice.code)
    expected = sum((cas_pr_sum((X12 / "835" / name).read_text()) for name in SAMPLES), Decimal("0.00"))
    assert Decimal(summary["adjustments"]["PR"]) == expected
    assert summary["adjustments_posted"]["PR"] == "0.00" and len(summary["unmatched_claims"]) == 7
    assert summary["postings"] == 0 and UnmatchedClaim.objects.count() == 7


def test_each_claims_patient_responsibility_lands_on_its_own_account(practice, on_file):
    run_json("import_x12", *_files(), "--practice", practice.code)
    for name in SAMPLES:
        for clp in x12.parse_835(x12.read((X12 / "835" / name).read_bytes()))[0].claims:
            account = PatientAccount.objects.get(pk=on_file[clp.control_number].account_id)
            if clp.error is not None:  # the rejected tertiary claim: nothing posted, still billed
                assert (account.patient_balance, account.insurance_balance) == (Decimal("0.00"), clp.charge)
                continue
            assert account.patient_balance == clp.total("PR") == (clp.patient_responsibility or 0)
            transferred = Transaction.objects.filter(account=account, kind=Kind.TRANSFER_TO_PATIENT)
            assert sum((t.patient_amount for t in transferred), Decimal("0")) == clp.total("PR")
            assert account.insurance_balance == 0  # paid and adjusted in full


def test_a_second_import_changes_no_row(practice, on_file):
    run_json("import_x12", *_files(), "--practice", practice.code)
    before = row_counts()
    summary = run_json("import_x12", *_files(), "--practice", practice.code)
    assert row_counts() == before
    assert summary["files_already_imported"] == 5
    assert all("already imported on" in message for message in summary["messages"])


def test_the_same_remittance_in_another_file_posts_nothing_again(practice):
    claims = gen.generate_claims(4, seed=3)
    import_837(practice=practice, content=gen.write_837(claims), file_name="claims.837")
    import_835(practice=practice, content=gen.write_835(claims), file_name="era.835")
    ledger_rows = Transaction.objects.count()
    # Same remittance, sent again without its envelope and with line breaks: a new file, same trace.
    again = import_835(practice=practice, content=gen.write_835(claims, envelope=False), file_name="era-again.835")
    assert Transaction.objects.count() == ledger_rows
    assert again.claims_unchanged == 4 and again.postings == 0


def test_837p_then_835_leaves_balances_the_ledger_check_confirms(practice):
    claims = gen.generate_claims(25, seed=11)
    first = import_837(practice=practice, content=gen.write_837(claims), file_name="claims.837")
    assert (first.claims_created, first.rejects) == (25, [])
    era = import_835(practice=practice, content=gen.write_835(claims), file_name="era.835")
    assert (era.claims_posted, era.rejects, era.unmatched_claims) == (25, [], [])
    for claim in claims:
        account = Claim.objects.get(patient_control_number=claim.control_number).account
        assert (account.patient_balance, account.insurance_balance) == (claim.patient, Decimal("0.00"))
    out = StringIO()
    call_command("check_ledger", stdout=out)
    assert "Ledger OK" in out.getvalue()
    assert Decimal(era.to_json()["adjustments"]["PR"]) == cas_pr_sum(gen.write_835(claims))


def test_a_claim_that_does_not_balance_is_rejected_with_its_segment_and_posts_nothing(practice):
    claims = gen.generate_claims(3, seed=5)
    import_837(practice=practice, content=gen.write_837(claims), file_name="claims.837")
    bad = claims[1]
    text = gen.write_835(claims)
    clp = f"CLP*{bad.control_number}*1*{bad.charge}*{bad.paid}*{bad.patient}"
    text = text.replace(clp, f"CLP*{bad.control_number}*1*{bad.charge}*{bad.paid}*{bad.patient + Decimal('1.00')}")
    position = next(s.position for s in x12.read(text).segments if s.tag == "CLP" and s.get(1) == bad.control_number)
    summary = import_835(practice=practice, content=text, file_name="era.835")
    assert summary.rejects == [
        {"file": "era.835", "segment": position, "reason": summary.rejects[0]["reason"]},
    ]
    assert "CLP05" in summary.rejects[0]["reason"]
    account = Claim.objects.get(patient_control_number=bad.control_number).account
    assert not Transaction.objects.filter(account=account).exclude(kind=Kind.CHARGE).exists()
    assert summary.claims_posted == 2


def test_a_service_line_that_does_not_balance_is_rejected(practice):
    claims = gen.generate_claims(1, seed=9)
    claims[0].lines = claims[0].lines[:1]
    line = claims[0].lines[0]
    import_837(practice=practice, content=gen.write_837(claims), file_name="claims.837")
    text = gen.write_835(claims).replace(f"CAS*CO*45*{line.contractual}", f"CAS*CO*45*{line.contractual - 1}")
    summary = import_835(practice=practice, content=text, file_name="era.835")
    assert len(summary.rejects) == 1 and "adjustments sum to" in summary.rejects[0]["reason"]
    assert Transaction.objects.exclude(kind=Kind.CHARGE).count() == 0


def test_a_claim_fails_whole_when_one_of_its_postings_is_refused(practice):
    claims = gen.generate_claims(2, seed=21)
    claims[0].lines[0].patient = Decimal("10.00")
    import_837(practice=practice, content=gen.write_837(claims), file_name="claims.837")
    target = Claim.objects.get(patient_control_number=claims[0].control_number)
    # Someone already used the reference the PR transfer will carry, for another amount.
    ledger.transaction_post(
        acting_user=None,
        account_id=target.account_id,
        kind=Kind.TRANSFER_TO_PATIENT,
        patient_amount="1.00",
        insurance_amount="-1.00",
        encounter_id=target.encounter_id,
        reference=f"835:1999999999:EFT0001:{claims[0].payer_claim_number}:PR",
    )
    before = Transaction.objects.filter(account_id=target.account_id).count()
    summary = import_835(practice=practice, content=gen.write_835(claims), file_name="era.835")
    assert len(summary.rejects) == 1 and "already used" in summary.rejects[0]["reason"]
    # The payment and the CO adjustment of that claim were rolled back with it; the other claim posted.
    assert Transaction.objects.filter(account_id=target.account_id).count() == before
    assert summary.claims_posted == 1


def test_a_reversal_takes_the_earlier_payment_back_and_again_changes_nothing(practice):
    claims = gen.generate_claims(5, seed=13)
    import_837(practice=practice, content=gen.write_837(claims), file_name="claims.837")
    import_835(practice=practice, content=gen.write_835(claims), file_name="era.835")
    summary = import_835(
        practice=practice, content=gen.write_835(claims, trace="EFT0002", reversal=True), file_name="rev.835"
    )
    assert (summary.claims_reversed, summary.rejects) == (5, [])
    for claim in claims:
        row = Claim.objects.select_related("account").get(patient_control_number=claim.control_number)
        assert (row.account.patient_balance, row.account.insurance_balance) == (Decimal("0.00"), claim.charge)
        assert row.status == Claim.Status.PENDING and row.paid_amount == 0
        assert not Transaction.objects.filter(
            account=row.account, reference__startswith="835:", reversed_by__isnull=True
        ).exists()
    before = row_counts()
    again = import_835(
        practice=practice,
        content=gen.write_835(claims, trace="EFT0002", reversal=True, envelope=False),
        file_name="rev-again.835",
    )
    assert again.claims_unchanged == 5 and again.postings == 0
    after = row_counts()
    assert after.pop("imports.ImportBatch") == before.pop("imports.ImportBatch") + 1
    assert after == before
    assert not ledger_mismatches()[0]


def test_a_reversal_of_a_payment_not_on_file_is_rejected(practice):
    claims = gen.generate_claims(1, seed=17)
    import_837(practice=practice, content=gen.write_837(claims), file_name="claims.837")
    summary = import_835(
        practice=practice, content=gen.write_835(claims, reversal=True, trace="R1"), file_name="rev.835"
    )
    assert len(summary.rejects) == 1 and "not on file" in summary.rejects[0]["reason"]
    assert not Transaction.objects.filter(kind=Kind.REVERSAL).exists()


def test_a_claim_matching_nothing_goes_to_the_review_list_with_no_patient_in_the_log(practice, caplog):
    claims = gen.generate_claims(2, seed=19)
    import_837(practice=practice, content=gen.write_837(claims[:1]), file_name="claims.837")
    caplog.set_level(logging.DEBUG)
    summary = import_835(practice=practice, content=gen.write_835(claims), file_name="era.835")
    assert summary.claims_posted == 1
    (entry,) = summary.unmatched_claims
    assert entry["patient_control_number"] == claims[1].control_number
    unmatched = UnmatchedClaim.objects.get()
    assert (unmatched.paid_amount, unmatched.patient_responsibility) == (claims[1].paid, claims[1].patient)
    assert unmatched.patient_last_name == claims[1].last and unmatched.resolved_at is None
    assert claims[1].last not in caplog.text and claims[1].member_id not in caplog.text
    # Nothing posted anywhere for it.
    assert Transaction.objects.filter(reference__contains=claims[1].payer_claim_number).count() == 0


def test_a_claim_of_another_practice_is_not_matched(practice, other_practice):
    claims = gen.generate_claims(1, seed=23)
    import_837(practice=other_practice, content=gen.write_837(claims), file_name="claims.837")
    summary = import_835(practice=practice, content=gen.write_835(claims), file_name="era.835")
    assert len(summary.unmatched_claims) == 1 and summary.postings == 0


def test_provider_level_adjustments_are_kept_on_the_remittance_not_a_patient(practice):
    claims = gen.generate_claims(2, seed=29)
    import_837(practice=practice, content=gen.write_837(claims), file_name="claims.837")
    patient_before = sum(PatientAccount.objects.values_list("patient_balance", flat=True))
    summary = import_835(
        practice=practice, content=gen.write_835(claims, provider_adjustment=Decimal("12.50")), file_name="era.835"
    )
    plb = ProviderAdjustment.objects.get()
    assert (plb.amount, plb.reason_code, plb.reference) == (Decimal("12.50"), "WO", "OVERPAY1")
    assert plb.remittance.trace_number == "EFT0001"
    assert summary.provider_adjustments == 1
    patient_after = sum(PatientAccount.objects.values_list("patient_balance", flat=True))
    assert patient_after - patient_before == sum((c.patient for c in claims), Decimal("0"))


@pytest.mark.parametrize(
    "mangle, reason",
    [
        (lambda t: t[: t.rindex("SE*")], "truncated"),
        (lambda t: t.replace("DTM*405", "XYZ*405"), "unknown segment XYZ"),
        # The ISA declares "*"; every segment after it was written with "|".
        (lambda t: t[:106] + t[106:].replace("*", "|"), "not a segment identifier"),
    ],
    ids=["truncated", "unknown-segment", "wrong-separators"],
)
def test_a_malformed_file_posts_nothing_and_is_logged_as_refused(practice, mangle, reason):
    claims = gen.generate_claims(3, seed=31)
    import_837(practice=practice, content=gen.write_837(claims), file_name="claims.837")
    before = Transaction.objects.count()
    summary = import_835(practice=practice, content=mangle(gen.write_835(claims)), file_name="bad.835")
    assert summary.files_refused == 1 and reason in summary.rejects[0]["reason"]
    assert "segment" in summary.rejects[0]
    assert Transaction.objects.count() == before
    batch = ImportBatch.objects.get(file_name="bad.835")
    assert batch.status == ImportBatch.Status.FAILED and batch.rejects == summary.rejects
    # A refused file may be sent again once fixed.
    fixed = import_835(practice=practice, content=gen.write_835(claims), file_name="bad.835")
    assert fixed.claims_posted == 3


def test_the_readable_summary_names_counts_and_rejects(practice, on_file):
    out = StringIO()
    call_command("import_x12", *_files(), "--practice", practice.code, stdout=out)
    text = out.getvalue()
    assert "Claims: 8 read" in text and "7 posted" in text
    assert "Adjustments posted: CO $76,608.24, PR $1,120.00" in text
    assert "Rejected: tertiary-payment.835, segment 20" in text


def test_long_payer_numbers_that_look_like_card_numbers_still_post(practice):
    claims = gen.generate_claims(1, seed=37)
    claims[0].payer_claim_number = "4111111111111111"  # passes the Luhn check, as a card number would
    import_837(practice=practice, content=gen.write_837(claims), file_name="claims.837")
    summary = import_835(practice=practice, content=gen.write_835(claims, trace="4012888888881881"), file_name="e.835")
    assert (summary.claims_posted, summary.rejects) == (1, [])
    assert Transaction.objects.filter(reference__startswith="835:1999999999:401288888888.1881:").exists()
