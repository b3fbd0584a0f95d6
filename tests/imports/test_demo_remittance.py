"""`seed_demo_remittance`: the first practice gets a claims file and its remittance, imported by the
demo manager, with two claims for the review list; a second seed imports nothing."""

import pytest
from django.core.management import call_command
from django.urls import reverse

from accounts.ledger_check import ledger_mismatches
from accounts.models import Claim, Transaction
from imports.models import ImportBatch, UnmatchedClaim

pytestmark = pytest.mark.django_db


def test_the_demo_remittance_pays_ten_claims_and_leaves_two_for_the_managers_review(
    practice, other_practice, manager, client, capsys
):
    call_command("seed_demo_remittance")

    assert "Demo remittance for north: 12 claims billed, 10 paid by the remittance, 2 for the review list" in (
        capsys.readouterr().out
    )
    assert set(ImportBatch.objects.values_list("practice__code", "started_by__username")) == {("north", "manager")}
    assert Claim.objects.filter(account__practice=practice, adjudicated_on__isnull=False).count() == 10
    assert Transaction.objects.filter(kind=Transaction.Kind.INSURANCE_PAYMENT).count() == 10
    assert ledger_mismatches()[0] == []

    client.force_login(manager)
    page = client.get(reverse("import-unmatched")).content.decode()
    assert page.count("ELSE27") == 2  # the two claims this office never billed, waiting for review

    rows = (Transaction.objects.count(), UnmatchedClaim.objects.count(), ImportBatch.objects.count())
    call_command("seed_demo_remittance")
    assert "imported for north before; nothing changed" in capsys.readouterr().out
    assert (Transaction.objects.count(), UnmatchedClaim.objects.count(), ImportBatch.objects.count()) == rows
