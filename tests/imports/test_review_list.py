"""The review list of remittance claims that matched no claim: a manager resolves an entry by
naming the claim (its payment then posts as the import would have) or closes it with a note."""

from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied
from django.http import Http404

from accounts.ledger_check import ledger_mismatches
from accounts.models import Claim, Transaction
from core.errors import ApplicationError
from imports import x12_generator as gen
from imports.claims import import_837
from imports.models import UnmatchedClaim
from imports.remittance import import_835
from imports.services import unmatched_claim_resolve, unmatched_claims_open


@pytest.fixture
def waiting(practice):
    """A remittance claim that arrived before its 837P was imported, and the claim imported since."""
    claims = gen.generate_claims(1, seed=61)
    claims[0].lines[0].patient = Decimal("15.00")
    import_835(practice=practice, content=gen.write_835(claims), file_name="era.835")
    import_837(practice=practice, content=gen.write_837(claims), file_name="claims.837")
    return claims[0], UnmatchedClaim.objects.get(), Claim.objects.get()


def test_a_manager_resolving_with_the_claim_posts_its_payment_once(manager, waiting):
    generated, unmatched, claim = waiting
    assert list(unmatched_claims_open(user=manager)) == [unmatched]
    unmatched_claim_resolve(acting_user=manager, unmatched_id=unmatched.pk, claim_id=claim.pk)
    claim.account.refresh_from_db()
    assert (claim.account.patient_balance, claim.account.insurance_balance) == (generated.patient, Decimal("0.00"))
    assert list(unmatched_claims_open(user=manager)) == []
    rows = Transaction.objects.count()
    unmatched_claim_resolve(acting_user=manager, unmatched_id=unmatched.pk, claim_id=claim.pk)
    assert Transaction.objects.count() == rows
    unmatched.refresh_from_db()
    assert unmatched.matched_claim == claim and unmatched.resolved_by == manager
    assert not ledger_mismatches()[0]


def test_closing_without_a_claim_needs_a_note(manager, waiting):
    _, unmatched, _ = waiting
    with pytest.raises(ApplicationError):
        unmatched_claim_resolve(acting_user=manager, unmatched_id=unmatched.pk)
    unmatched_claim_resolve(acting_user=manager, unmatched_id=unmatched.pk, note="Not our patient")
    unmatched.refresh_from_db()
    assert unmatched.resolution_note == "Not our patient" and unmatched.matched_claim is None


def test_below_management_the_review_list_cannot_be_resolved(medium, waiting):
    _, unmatched, claim = waiting
    with pytest.raises(PermissionDenied):
        unmatched_claim_resolve(acting_user=medium, unmatched_id=unmatched.pk, claim_id=claim.pk)


def test_another_practices_manager_sees_nothing(other_practice, waiting):
    from core.models import Tier
    from tests.factories import StaffUserFactory

    elsewhere = StaffUserFactory(username="south-manager", tier=Tier.MANAGEMENT, practices=[other_practice])
    _, unmatched, _ = waiting
    assert list(unmatched_claims_open(user=elsewhere)) == []
    with pytest.raises(Http404):
        unmatched_claim_resolve(acting_user=elsewhere, unmatched_id=unmatched.pk, note="x")
