"""An 835 of several chunks, outside any caller's transaction: on PostgreSQL a writer thread writes
each chunk while the next is read and prepared. The claims are posted, replayed, rejected,
reversed and sent to the review list as they are one chunk after another (on SQLite the same test
runs them that way); the first failure stops the import, and the chunks before it stay posted."""

import threading
from decimal import Decimal

import pytest
from django.db import connection

from accounts.ledger_check import ledger_mismatches
from accounts.models import Claim
from imports import remittance, x12
from imports import x12_generator as gen
from imports.claims import import_837
from imports.models import UnmatchedClaim
from imports.remittance import import_835
from tests.factories import PracticeFactory
from tests.imports.conftest import row_counts

pytestmark = pytest.mark.usefixtures("sqlite_flushable")


@pytest.fixture
def written_by(monkeypatch):
    """Three claims a chunk; the name of the thread each chunk was written on."""
    threads: list[str] = []
    write = remittance._write_chunk

    def spy(context, chunk, progress):
        threads.append(threading.current_thread().name)
        write(context, chunk, progress)

    monkeypatch.setattr(remittance, "_write_chunk", spy)
    monkeypatch.setattr(remittance, "CLAIMS_PER_CHUNK", 3)
    return threads


def _writer_thread() -> str:
    return "835 writer" if connection.vendor == "postgresql" else threading.current_thread().name


def _balances(claims) -> dict[str, tuple[Decimal, Decimal]]:
    rows = Claim.objects.filter(patient_control_number__in=[c.control_number for c in claims]).select_related("account")
    return {row.patient_control_number: (row.account.patient_balance, row.account.insurance_balance) for row in rows}


def test_chunks_written_beside_the_next_post_reject_replay_and_reverse_in_the_files_order(written_by):
    practice = PracticeFactory(code="north", name="Northside Pediatrics")
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
    written_by.clear()

    summary = import_835(practice=practice, content=text, file_name="era.835")

    assert written_by == [_writer_thread()] * 4  # 11 claims, 3 a chunk
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
    written_by.clear()
    reversed_ = import_835(
        practice=practice, content=gen.write_835(posted, trace="EFT0002", reversal=True), file_name="rev.835"
    )
    assert written_by == [_writer_thread()] * 3
    assert (reversed_.claims_reversed, reversed_.rejects) == (8, [])
    assert _balances(posted) == {claim.control_number: (Decimal("0.00"), claim.charge) for claim in posted}
    assert not ledger_mismatches()[0]


def test_a_failure_while_writing_stops_the_import_and_keeps_the_chunks_before_it(written_by, monkeypatch):
    practice = PracticeFactory(code="north", name="Northside Pediatrics")
    claims = gen.generate_claims(9, seed=43)
    import_837(practice=practice, content=gen.write_837(claims), file_name="visits.837")
    post_pending = remittance._post_pending
    calls = []

    def second_fails(context, pending):
        calls.append(len(pending))
        if len(calls) == 2:
            raise RuntimeError("the database went away")
        post_pending(context, pending)

    monkeypatch.setattr(remittance, "_post_pending", second_fails)
    threads_before = threading.active_count()
    text = gen.write_835(claims)

    with pytest.raises(RuntimeError, match="went away"):
        import_835(practice=practice, content=text, file_name="era.835")

    assert threading.active_count() == threads_before  # the writer is gone, nothing left waiting
    assert calls == [3, 3]  # the third chunk never written
    paid = {claim.control_number for claim in claims[:3]}
    assert {row.patient_control_number for row in Claim.objects.filter(adjudicated_on__isnull=False)} == paid
    assert not ledger_mismatches()[0]

    # Sent again (the writer whole): the rest is posted, the first chunk's claims found on file.
    monkeypatch.setattr(remittance, "_post_pending", post_pending)
    summary = import_835(practice=practice, content=text, file_name="era-again.835")
    assert (summary.claims_posted, summary.claims_unchanged) == (6, 3)
    assert not Claim.objects.filter(adjudicated_on__isnull=True).exists()
    assert not ledger_mismatches()[0]
