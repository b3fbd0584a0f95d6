"""A manager works the review list in Chromium: a payer sent back a claim's patient control number
with its punctuation changed, so the 835 matched nothing; the manager opens the entry, picks the
suggested claim, posts it, and finds it among the resolved entries."""

import dataclasses
from decimal import Decimal

import pytest
from playwright.sync_api import expect

from accounts.models import Claim
from imports import x12_generator as gen
from imports.claims import import_837
from imports.models import UnmatchedClaim
from imports.remittance import import_835
from tests.browser.test_import_upload_in_browser import sign_in

pytestmark = pytest.mark.browser

SHOTS = "/tmp/shots"


def test_manager_posts_an_unmatched_claim_to_the_suggested_claim(
    sqlite_flushable, live_server, new_page, practice, manager
):
    claims = gen.generate_claims(3, seed=71)
    for claim in claims:
        claim.lines[0].patient = Decimal("20.00")
    sent = [
        dataclasses.replace(claim, control_number=f"{claim.control_number[:3]}-{claim.control_number[3:]}")
        for claim in claims
    ]
    import_835(practice=practice, content=gen.write_835(sent, trace="EFT9001"), file_name="era.835")
    import_837(practice=practice, content=gen.write_837(claims), file_name="claims.837")
    entry = UnmatchedClaim.objects.order_by("pk").first()
    claim = Claim.objects.get(patient_control_number=claims[0].control_number)

    base = live_server.url
    page = new_page()
    sign_in(page, base, "manager")
    page.goto(f"{base}/imports/unmatched/")
    expect(page.get_by_role("heading", name="3 waiting")).to_be_visible()
    page.screenshot(path=f"{SHOTS}/unmatched-list.png", full_page=True)

    page.get_by_test_id("unmatched-claims").get_by_role("row").filter(
        has_text=entry.patient_control_number
    ).get_by_role("link", name="Resolve").click()
    expect(page.get_by_test_id("remittance-facts")).to_contain_text("EFT9001")
    suggested = page.get_by_test_id("suggested-claims")
    expect(suggested).to_contain_text(claim.account.account_number)
    page.screenshot(path=f"{SHOTS}/unmatched-resolve.png", full_page=True)

    # The search finds the claim by its account number too; the number goes in the POST body.
    page.get_by_label("Claim patient control number or account number").fill(claim.account.account_number)
    page.get_by_role("button", name="Search").click()
    expect(page.get_by_test_id("found-claims")).to_contain_text(claim.patient_control_number)
    assert claim.account.account_number not in page.url
    page.screenshot(path=f"{SHOTS}/unmatched-search.png", full_page=True)
    suggested = page.get_by_test_id("suggested-claims")

    suggested.get_by_label(f"Acct {claim.account.account_number}", exact=False).first.check()
    suggested.get_by_role("button", name="Post to this claim").click()
    expect(page.get_by_role("status")).to_contain_text(f"Posted to the claim on account {claim.account.account_number}")
    expect(page.get_by_test_id("entry-status")).to_have_text("Resolved")
    expect(page.get_by_test_id("resolution")).to_contain_text("Resolved by")
    page.screenshot(path=f"{SHOTS}/unmatched-resolved.png", full_page=True)

    claim.account.refresh_from_db()
    assert claim.account.patient_balance == claims[0].patient and claim.account.insurance_balance == Decimal("0.00")

    page.get_by_role("link", name="Review list").click()
    page.get_by_role("link", name="Resolved", exact=True).click()
    expect(page.get_by_test_id("unmatched-claims")).to_contain_text(f"Posted to acct {claim.account.account_number}")
    page.screenshot(path=f"{SHOTS}/unmatched-list-resolved.png", full_page=True)
