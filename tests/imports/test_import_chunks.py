"""Imports in chunks: a claim the ledger refuses in the middle of a chunk rolls back alone and is
reported; the other claims of the chunk post, and the ledger matches the balances. Claims across
chunks post, replay, reject and reverse in the file's order; a failure keeps the chunks before it.
The work queue follows the file once, when it is posted, or when it fails after some chunks; its
denials go to claim follow-up then."""

import dataclasses
from decimal import Decimal

import pytest

from accounts.ledger_check import ledger_mismatches
from accounts.models import AccountAgingState, Claim, Transaction
from collections_app import receivers
from collections_app.models import WorkItem
from imports import remittance, x12
from imports import x12_generator as gen
from imports.claims import import_837
from imports.models import UnmatchedClaim
from imports.remittance import import_835
from tests.imports.conftest import row_counts


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


@pytest.fixture
def chunks_written(monkeypatch):
    """Three claims a chunk; the claims of each chunk, as it is imported."""
    sizes: list[int] = []
    import_chunk = remittance._import_chunk

    def spy(context, chunk):
        sizes.append(len(chunk))
        import_chunk(context, chunk)

    monkeypatch.setattr(remittance, "_import_chunk", spy)
    monkeypatch.setattr(remittance, "CLAIMS_PER_CHUNK", 3)
    return sizes


def _balances(claims) -> dict[str, tuple[Decimal, Decimal]]:
    rows = Claim.objects.filter(patient_control_number__in=[c.control_number for c in claims]).select_related("account")
    return {row.patient_control_number: (row.account.patient_balance, row.account.insurance_balance) for row in rows}


def test_claims_across_chunks_post_replay_reject_and_reverse_in_the_files_order(practice, chunks_written):
    claims = gen.generate_claims(10, seed=41)
    on_file, stranger = claims[:9], claims[9]
    import_837(practice=practice, content=gen.write_837(on_file), file_name="visits.837")
    bad = claims[4]
    # The payer sends claim 2 twice (the second answered by the first's postings), claim 4 does not
    # balance, and claim 9 matches no claim of the practice.
    text = gen.write_835([*claims, claims[2]])
    clp = f"CLP*{bad.control_number}*1*{bad.charge}*{bad.paid}*{bad.patient}"
    text = text.replace(clp, f"CLP*{bad.control_number}*1*{bad.charge}*{bad.paid}*{bad.patient + Decimal('1.00')}")
    position = next(s.position for s in x12.read(text).segments if s.tag == "CLP" and s.get(1) == bad.control_number)

    summary = import_835(practice=practice, content=text, file_name="era.835")

    assert chunks_written == [3, 3, 3, 2]
    assert (summary.claims, summary.claims_posted, summary.claims_unchanged) == (11, 8, 1)
    assert [(reject["segment"], "CLP05" in reject["reason"]) for reject in summary.rejects] == [(position, True)]
    assert [entry["patient_control_number"] for entry in summary.unmatched_claims] == [stranger.control_number]
    assert UnmatchedClaim.objects.get().patient_control_number == stranger.control_number
    posted = [claim for claim in on_file if claim is not bad]
    assert _balances(posted) == {claim.control_number: (claim.patient, Decimal("0.00")) for claim in posted}
    assert _balances([bad]) == {bad.control_number: (Decimal("0.00"), bad.charge)}
    # Posted or found on file, claim 2 counts twice.
    assert summary.adjustments_posted["PR"] == sum((claim.patient for claim in [*posted, claims[2]]), Decimal("0.00"))
    assert not ledger_mismatches()[0]

    # The same remittance again: every chunk written, nothing changes.
    before = row_counts()
    again = import_835(practice=practice, content=gen.write_835(posted, envelope=False), file_name="again.835")
    assert (again.claims_unchanged, again.postings) == (8, 0)
    after = row_counts()
    assert after.pop("imports.ImportBatch") == before.pop("imports.ImportBatch") + 1
    assert after == before

    # The payer takes the payments back in another remittance, also in chunks.
    chunks_written.clear()
    reversed_ = import_835(
        practice=practice, content=gen.write_835(posted, trace="EFT0002", reversal=True), file_name="rev.835"
    )
    assert chunks_written == [3, 3, 2]
    assert (reversed_.claims_reversed, reversed_.rejects) == (8, [])
    assert _balances(posted) == {claim.control_number: (Decimal("0.00"), claim.charge) for claim in posted}
    assert not ledger_mismatches()[0]


def _second_batch_fails(monkeypatch):
    """The database goes away as the import posts its second batch of claims: the batch sizes
    posted (or tried), and the real _post_pending to put back."""
    post_pending = remittance._post_pending
    calls = []

    def second_fails(context, pending):
        calls.append(len(pending))
        if len(calls) == 2:
            raise RuntimeError("the database went away")
        post_pending(context, pending)

    monkeypatch.setattr(remittance, "_post_pending", second_fails)
    return calls, post_pending


def test_a_failure_in_a_chunk_stops_the_import_and_keeps_the_chunks_before_it(practice, chunks_written, monkeypatch):
    claims = gen.generate_claims(9, seed=43)
    import_837(practice=practice, content=gen.write_837(claims), file_name="visits.837")
    calls, post_pending = _second_batch_fails(monkeypatch)
    text = gen.write_835(claims)

    with pytest.raises(RuntimeError, match="went away"):
        import_835(practice=practice, content=text, file_name="era.835")

    assert calls == [3, 3]  # the third chunk never written
    paid = {claim.control_number for claim in claims[:3]}
    assert {row.patient_control_number for row in Claim.objects.filter(adjudicated_on__isnull=False)} == paid
    assert not ledger_mismatches()[0]

    # Sent again: the rest is posted, the first chunk's claims found on file.
    monkeypatch.setattr(remittance, "_post_pending", post_pending)
    summary = import_835(practice=practice, content=text, file_name="era-again.835")
    assert (summary.claims_posted, summary.claims_unchanged) == (6, 3)
    assert not Claim.objects.filter(adjudicated_on__isnull=True).exists()
    assert not ledger_mismatches()[0]


def _past_due_since_last_night(practice, claims) -> set[int]:
    """Last night's aging called each claim's account past due (an older balance, paid since):
    the accounts that owe again once the remittance moves patient responsibility to them."""
    import_837(practice=practice, content=gen.write_837(claims), file_name="visits.837")
    accounts = dict(Claim.objects.values_list("patient_control_number", "account_id"))
    AccountAgingState.objects.bulk_create(
        AccountAgingState(account_id=account_id, practice=practice, is_past_due=True)
        for account_id in accounts.values()
    )
    assert not WorkItem.objects.exists()
    return {accounts[claim.control_number] for claim in claims if sum(line.patient for line in claim.lines) > 0}


def _past_due_queue() -> set[int]:
    items = WorkItem.objects.filter(reason=WorkItem.Reason.PAST_DUE, cleared_at__isnull=True)
    return set(items.values_list("account_id", flat=True))


def test_the_work_queue_follows_a_file_of_several_chunks_once_all_is_posted(practice, chunks_written, monkeypatch):
    claims = gen.generate_claims(7, seed=44)
    owing = _past_due_since_last_night(practice, claims)
    assert owing
    refreshed: list[set[int]] = []
    refresh = receivers.queue_refresh_accounts

    def spy(*, account_ids):
        refreshed.append(set(account_ids))
        refresh(account_ids=account_ids)

    monkeypatch.setattr(receivers, "queue_refresh_accounts", spy)

    summary = import_835(practice=practice, content=gen.write_835(claims), file_name="era.835")

    assert summary.claims_posted == 7 and chunks_written == [3, 3, 1]
    assert _past_due_queue() == owing  # each account owing again is back in the queue
    assert refreshed == [owing]  # once for the file, not once a chunk


def test_a_failed_import_still_brings_the_queue_up_to_date_for_the_chunks_it_posted(
    practice, chunks_written, monkeypatch
):
    claims = gen.generate_claims(9, seed=45)
    owing = _past_due_since_last_night(practice, claims)
    _second_batch_fails(monkeypatch)

    with pytest.raises(RuntimeError, match="went away"):
        import_835(practice=practice, content=gen.write_835(claims), file_name="era.835")

    first_chunk = {claim.control_number for claim in claims[:3]}
    posted = set(Claim.objects.filter(patient_control_number__in=first_chunk).values_list("account_id", flat=True))
    assert posted & owing
    assert _past_due_queue() == posted & owing


def test_a_remittance_s_denials_go_to_claim_follow_up_as_the_file_is_posted(practice, chunks_written):
    claims = gen.generate_claims(5, seed=46)
    import_837(practice=practice, content=gen.write_837(claims), file_name="visits.837")
    # The payer denies the first three: nothing paid, each charge a contractual adjustment.
    zero = Decimal("0.00")
    denied = [
        dataclasses.replace(
            claim, lines=[dataclasses.replace(line, allowed=zero, patient=zero) for line in claim.lines]
        )
        for claim in claims[:3]
    ]

    summary = import_835(practice=practice, content=gen.write_835(denied + claims[3:]), file_name="era.835")

    assert summary.claims_posted == 5
    denied_accounts = set(Claim.objects.filter(status=Claim.Status.DENIED).values_list("account_id", flat=True))
    assert len(denied_accounts) == 3
    follow_up = WorkItem.objects.filter(reason=WorkItem.Reason.CLAIM_FOLLOW_UP, cleared_at__isnull=True)
    assert set(follow_up.values_list("account_id", flat=True)) == denied_accounts
