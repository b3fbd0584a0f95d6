"""The review list's pages: a manager opens a remittance claim that matched no claim, sees what the
payer sent and the claims it may belong to, and posts it to one of them or closes it with a note."""

import dataclasses
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import call_command
from django.urls import reverse

from accounts.models import Claim, Transaction
from core.models import AuditEvent, Tier
from imports import selectors
from imports import x12_generator as gen
from imports.claims import import_837
from imports.models import UnmatchedClaim
from imports.remittance import import_835
from imports.services import unmatched_claim_resolve
from tests.factories import StaffUserFactory


def arrived_before_its_claims(practice, *, count=1, seed=61, sent_as=None):
    """An 835 imported before the 837P of its claims, so its claims wait on the review list; the
    claims imported since. `sent_as` rewrites each control number as the payer sent it back."""
    claims = gen.generate_claims(count, seed=seed)
    for claim in claims:
        claim.lines[0].patient = Decimal("15.00")
    if sent_as is not None:
        sent = [dataclasses.replace(claim, control_number=sent_as(claim.control_number)) for claim in claims]
    import_835(practice=practice, content=gen.write_835(sent if sent_as else claims), file_name="era.835")
    import_837(practice=practice, content=gen.write_837(claims), file_name="claims.837")
    return claims


@pytest.fixture
def waiting(practice):
    generated = arrived_before_its_claims(practice)[0]
    return generated, UnmatchedClaim.objects.get(), Claim.objects.get()


@pytest.fixture
def south_manager(other_practice):
    return StaffUserFactory(username="south-manager", tier=Tier.MANAGEMENT, practices=[other_practice])


def resolve_url(entry) -> str:
    return reverse("import-unmatched-resolve", args=[entry.pk])


def ledger_clean() -> bool:
    call_command("check_ledger", stdout=StringIO())  # CommandError when a balance differs from its ledger
    return True


# --- The list -----------------------------------------------------------------------------------


def test_each_waiting_entry_links_to_its_resolve_page(client, manager, waiting, django_assert_max_num_queries):
    _, entry, _ = waiting
    client.force_login(manager)
    client.get(reverse("import-unmatched"))  # the session and the user's practices, cached alike after
    with django_assert_max_num_queries(6):
        page = client.get(reverse("import-unmatched"))
    text = page.content.decode()
    assert page.status_code == 200 and "1 waiting" in text
    assert f'href="{resolve_url(entry)}">Resolve</a>' in text


def test_the_list_query_count_does_not_grow_with_its_entries(client, manager, practice, django_assert_max_num_queries):
    arrived_before_its_claims(practice, count=6)
    client.force_login(manager)
    client.get(reverse("import-unmatched"))
    with django_assert_max_num_queries(6):
        page = client.get(reverse("import-unmatched"))
    assert "6 waiting" in page.content.decode()
    for entry in UnmatchedClaim.objects.all()[:4]:
        unmatched_claim_resolve(acting_user=manager, unmatched_id=entry.pk, note="Sent back to payer")
    with django_assert_max_num_queries(6):
        page = client.get(reverse("import-unmatched"), {"status": "resolved"})
    text = page.content.decode()
    assert "4 resolved" in text and text.count("Closed: Sent back to payer") == 4


def test_the_resolved_filter_shows_who_when_and_which_account(client, manager, waiting):
    _, entry, claim = waiting
    unmatched_claim_resolve(acting_user=manager, unmatched_id=entry.pk, claim_id=claim.pk)
    client.force_login(manager)
    assert "Nothing to review" in client.get(reverse("import-unmatched")).content.decode()
    text = client.get(reverse("import-unmatched"), {"status": "resolved"}).content.decode()
    assert "1 resolved" in text and f"Posted to acct {claim.account.account_number}" in text
    assert manager.get_full_name() or manager.username in text
    assert " EST" in text or " EDT" in text  # the practice's zone, labelled


def test_an_unknown_filter_shows_the_waiting_entries(client, manager, waiting):
    client.force_login(manager)
    assert "1 waiting" in client.get(reverse("import-unmatched"), {"status": "nonsense"}).content.decode()


# --- The resolve page: who may open it ------------------------------------------------------------


def test_a_manager_sees_the_remittance_and_the_suggested_claim(client, manager, waiting, django_assert_max_num_queries):
    _, entry, claim = waiting
    client.force_login(manager)
    client.get(resolve_url(entry))
    # Session, user, practices, the entry, the suggestions (two), the audit row.
    with django_assert_max_num_queries(7):
        page = client.get(resolve_url(entry))
    text = page.content.decode()
    assert page.status_code == 200
    remittance = entry.remittance
    for fact in (remittance.trace_number, entry.patient_control_number, "Processed as primary", "PR patient"):
        assert fact in text
    assert f'name="claim" value="{claim.pk}"' in text and "Post to this claim" in text
    assert selectors.REASON_SAME_NUMBER in text


def test_opening_an_entry_is_an_audited_read_naming_the_claims_suggested(client, manager, waiting):
    _, entry, claim = waiting
    client.force_login(manager)
    client.get(resolve_url(entry))
    read = AuditEvent.objects.get(action=AuditEvent.Action.VIEW, object_type="imports.unmatchedclaim")
    assert read.object_id == str(entry.pk) and read.practice_id == entry.practice_id
    assert read.detail == {"suggested_claim_ids": [claim.pk]}


@pytest.mark.parametrize("method", ["get", "post"])
def test_below_management_the_resolve_page_is_refused(client, medium, waiting, method):
    _, entry, claim = waiting
    client.force_login(medium)
    response = getattr(client, method)(resolve_url(entry), {"action": "post", "claim": claim.pk})
    assert response.status_code == 403
    assert not Transaction.objects.filter(kind=Transaction.Kind.INSURANCE_PAYMENT).exists()


@pytest.mark.parametrize("method", ["get", "post"])
def test_another_practices_manager_gets_not_found(client, south_manager, waiting, method):
    _, entry, claim = waiting
    client.force_login(south_manager)
    response = getattr(client, method)(resolve_url(entry), {"action": "post", "claim": claim.pk})
    assert response.status_code == 404
    entry.refresh_from_db()
    assert entry.resolved_at is None


# --- Resolving --------------------------------------------------------------------------------------


def test_posting_to_the_suggested_claim_moves_the_balances(client, manager, waiting):
    generated, entry, claim = waiting
    client.force_login(manager)
    response = client.post(resolve_url(entry), {"action": "post", "claim": claim.pk})
    assert response.status_code == 302 and response["Location"] == resolve_url(entry)
    claim.account.refresh_from_db()
    assert (claim.account.patient_balance, claim.account.insurance_balance) == (generated.patient, Decimal("0.00"))
    entry.refresh_from_db()
    assert entry.matched_claim == claim and entry.resolved_by == manager
    assert ledger_clean()
    text = client.get(resolve_url(entry)).content.decode()
    assert f"Posted to the claim on account {claim.account.account_number}" in text
    assert "Resolved by" in text and f"Acct {claim.account.account_number}" in text
    assert "Post to this claim" not in text


def test_a_second_resolve_changes_nothing(client, manager, waiting):
    _, entry, claim = waiting
    client.force_login(manager)
    client.post(resolve_url(entry), {"action": "post", "claim": claim.pk})
    rows = Transaction.objects.count()
    again = client.post(resolve_url(entry), {"action": "close", "note": "Not our patient"}, follow=True)
    assert "already resolved; nothing changed" in again.content.decode()
    entry.refresh_from_db()
    assert Transaction.objects.count() == rows and entry.matched_claim == claim and entry.resolution_note == ""


def test_closing_needs_a_note_shown_beside_the_field(client, manager, waiting):
    _, entry, _ = waiting
    client.force_login(manager)
    refused = client.post(resolve_url(entry), {"action": "close", "note": "  "})
    assert refused.status_code == 400
    assert 'class="field field-grow has-error"' in refused.content.decode()
    closed = client.post(resolve_url(entry), {"action": "close", "note": "Not our patient"})
    assert closed.status_code == 302
    entry.refresh_from_db()
    assert entry.resolution_note == "Not our patient" and entry.matched_claim is None and entry.resolved_at
    assert not Transaction.objects.filter(kind=Transaction.Kind.INSURANCE_PAYMENT).exists()
    text = client.get(resolve_url(entry)).content.decode()
    assert "Closed without a claim" in text and "Not our patient" in text


def test_a_claim_of_another_practice_is_a_field_error(client, manager, waiting, other_account):
    _, entry, _ = waiting
    elsewhere = Claim.objects.create(
        encounter=other_account.encounters.first() or _visit(other_account),
        account=other_account,
        payer_name="Aetna",
        billed_amount=Decimal("100.00"),
        submitted_on=other_account.opened_on,
    )
    client.force_login(manager)
    for bad in (elsewhere.pk, 999_999_999, "x"):
        refused = client.post(resolve_url(entry), {"action": "post", "claim": bad})
        assert refused.status_code == 400
        assert 'data-testid="claim-error"' in refused.content.decode()
    entry.refresh_from_db()
    assert entry.resolved_at is None


def _visit(account):
    from tests.factories import EncounterFactory

    return EncounterFactory(account=account, practice=account.practice)


# --- Suggestions and search -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "sent_as",
    [
        lambda number: "00" + number,  # leading zeros added
        lambda number: number[:3] + "-" + number[3:],  # punctuation added
        lambda number: number.lower(),
        lambda number: number[:-2],  # cut short by the payer
    ],
    ids=["leading-zeros", "punctuation", "lower-case", "cut-short"],
)
def test_a_close_control_number_suggests_the_claim(practice, sent_as, django_assert_max_num_queries):
    arrived_before_its_claims(practice, sent_as=sent_as)
    entry, claim = UnmatchedClaim.objects.get(), Claim.objects.get()
    with django_assert_max_num_queries(2):
        suggestions = selectors.unmatched_claim_suggestions(entry=entry)
        [suggestion.claim.account.patient.last_name for suggestion in suggestions]
    assert [suggestion.claim for suggestion in suggestions] == [claim]


def test_the_same_charge_and_date_of_service_suggests_the_claim(practice):
    arrived_before_its_claims(practice, sent_as=lambda number: "ZZ" + number[::-1])
    entry, claim = UnmatchedClaim.objects.get(), Claim.objects.get()
    suggestions = selectors.unmatched_claim_suggestions(entry=entry)
    assert [(s.claim, s.reason) for s in suggestions] == [(claim, selectors.REASON_CHARGE_AND_DATE)]


def test_suggestions_are_limited_and_the_closest_number_comes_first(practice):
    arrived_before_its_claims(practice, count=14)
    entry = UnmatchedClaim.objects.order_by("pk").first()
    suggestions = selectors.unmatched_claim_suggestions(entry=entry, limit=10)
    assert len(suggestions) <= 10
    assert suggestions[0].claim.patient_control_number == entry.patient_control_number
    assert suggestions[0].reason == selectors.REASON_SAME_NUMBER


def test_another_practices_claims_are_never_suggested(practice, other_practice):
    claims = gen.generate_claims(1, seed=61)
    import_835(practice=practice, content=gen.write_835(claims), file_name="era.835")
    import_837(practice=other_practice, content=gen.write_837(claims), file_name="claims.837")
    entry = UnmatchedClaim.objects.get()
    assert selectors.unmatched_claim_suggestions(entry=entry) == []
    assert selectors.unmatched_claim_search(entry=entry, query=claims[0].control_number) == []


def test_the_search_goes_by_post_and_finds_by_account_number(client, manager, practice):
    arrived_before_its_claims(practice, sent_as=lambda number: "ZZ" + number[::-1])
    entry, claim = UnmatchedClaim.objects.get(), Claim.objects.get()
    client.force_login(manager)
    account_number = claim.account.account_number
    # A GET carries no terms: whatever the query string says is not searched.
    assert 'data-testid="found-claims"' not in client.get(resolve_url(entry), {"q": account_number}).content.decode()
    found = client.post(resolve_url(entry), {"action": "search", "q": account_number})
    text = found.content.decode()
    assert found.status_code == 200 and 'data-testid="found-claims"' in text and f'value="{claim.pk}"' in text
    search = AuditEvent.objects.get(action=AuditEvent.Action.SEARCH)
    assert search.detail == {"unmatched_id": entry.pk, "claim_ids": [claim.pk]}
    assert account_number not in str(search.detail)
    by_number = client.post(resolve_url(entry), {"action": "search", "q": claim.patient_control_number.lower()})
    assert f'id="found-claims-{claim.pk}"' in by_number.content.decode()
    nothing = client.post(resolve_url(entry), {"action": "search", "q": "NOSUCH99"})
    assert 'data-testid="found-nothing"' in nothing.content.decode()
