"""Imports in chunks: a claim the ledger refuses in the middle of a chunk rolls back alone and is
reported; the other claims of the chunk post, and the ledger matches the balances."""

import dataclasses
from decimal import Decimal

from accounts.ledger_check import ledger_mismatches
from accounts.models import Claim, Transaction
from imports import x12_generator as gen
from imports.claims import import_837
from imports.remittance import import_835


def test_a_refused_claim_in_a_chunk_rolls_back_alone_and_is_reported(practice):
    claims = gen.generate_claims(12, seed=3)
    assert import_837(practice=practice, content=gen.write_837(claims), file_name="visits.837").claims_created == 12
    # The payer's claim 5 was posted before with another payment under the same reference.
    line = claims[5].lines[0]
    assert line.allowed - line.patient >= Decimal("0.01")  # paid something: a cent less still balances
    early = [dataclasses.replace(claims[5], lines=[dataclasses.replace(line, allowed=line.allowed - Decimal("0.01"))])]
    first = import_835(practice=practice, content=gen.write_835(early), file_name="early.835")
    assert first.claims_posted == 1
    rows_before = Transaction.objects.count()

    summary = import_835(practice=practice, content=gen.write_835(claims), file_name="era.835")

    assert summary.claims_posted == 11
    assert len(summary.rejects) == 1
    assert claims[5].control_number in summary.rejects[0]["reason"]
    assert "already used" in summary.rejects[0]["reason"]
    refused = Claim.objects.get(patient_control_number=claims[5].control_number)
    assert Transaction.objects.filter(encounter_id=refused.encounter_id).count() == first.postings + len(
        claims[5].lines
    )  # its charges and the early remittance only
    assert Transaction.objects.count() > rows_before
    assert ledger_mismatches()[0] == []


def test_a_rejected_visit_in_a_chunk_leaves_the_others_imported(practice):
    claims = gen.generate_claims(8, seed=4)
    text = gen.write_837(claims)
    # Claim 3's lines no longer add up to its total (CLM02): rejected with its segment.
    bad = claims[3]
    clm = f"CLM*{bad.control_number}*{bad.charge}*"
    assert clm in text
    text = text.replace(clm, f"CLM*{bad.control_number}*1.00*")
    summary = import_837(practice=practice, content=text, file_name="visits.837")
    assert summary.claims_created == 7
    assert [bad.control_number in reject["reason"] for reject in summary.rejects] == [True]
    assert not Claim.objects.filter(patient_control_number=bad.control_number).exists()
    assert ledger_mismatches()[0] == []
