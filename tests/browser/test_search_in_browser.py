"""Search in Chromium: Back from an account, or the account page's "Search" crumb, shows the search
again, looked up anew (no-store pages are fetched again, not restored); Clear forgets it."""

import pytest
from playwright.sync_api import expect

from core.models import AuditEvent
from tests.browser.conftest import _fresh_content_type_caches, browser, new_page  # noqa: F401
from tests.collections_app.test_workspace_browser import sign_in
from tests.factories import PatientAccountFactory

pytestmark = pytest.mark.browser


def _searches() -> int:
    return AuditEvent.objects.filter(action=AuditEvent.Action.SEARCH).count()


def test_back_from_an_account_shows_the_search_again(sqlite_flushable, live_server, new_page, account, medium):  # noqa: F811
    PatientAccountFactory(practice=account.practice, patient__last_name=account.patient.last_name)
    base = live_server.url
    rep = new_page()
    sign_in(rep, base, "medium")
    rep.get_by_role("link", name="Search").click()
    rep.locator("[data-search-primary]").fill(account.patient.last_name)
    results = rep.locator("#results")
    expect(results).to_contain_text("2 accounts")
    results.get_by_role("link", name=account.account_number).click()
    expect(rep).to_have_url(f"{base}/accounts/{account.pk}/")

    before = _searches()
    with rep.expect_response(f"{base}/search/") as answer:
        rep.go_back()
    assert answer.value.request.method == "GET"  # fetched again from the server
    expect(rep).to_have_url(f"{base}/search/")
    expect(rep.locator("[data-search-primary]")).to_have_value(account.patient.last_name)
    expect(results).to_contain_text("2 accounts")
    expect(results.get_by_role("link", name=account.account_number)).to_be_visible()
    assert _searches() == before + 1  # shown again, so audited again
    rep.screenshot(path="/tmp/search-back-medium.png", full_page=True)

    # The account page's "Search" crumb brings the same search back.
    results.get_by_role("link", name=account.account_number).click()
    rep.locator(".crumbs").get_by_role("link", name="Search").click()
    expect(results).to_contain_text("2 accounts")
    # The kept search starts selected: typing replaces it rather than running on from its end.
    rep.keyboard.type("Nobodyhere")
    expect(rep.locator("[data-search-primary]")).to_have_value("Nobodyhere")

    rep.get_by_role("button", name="Clear search").click()
    expect(rep).to_have_url(f"{base}/search/")
    expect(rep.locator("[data-search-primary]")).to_have_value("")
    expect(results).to_contain_text("Type a last name")
    rep.get_by_role("link", name="Dashboard").click()
    rep.get_by_role("link", name="Search").click()
    expect(results).to_contain_text("Type a last name")


def test_back_to_a_search_sent_from_the_top_bar(sqlite_flushable, live_server, new_page, account, medium):  # noqa: F811
    base = live_server.url
    rep = new_page()
    sign_in(rep, base, "medium")
    box = rep.locator("[data-search-global]")
    box.fill(account.account_number.lower())
    box.press("Enter")
    results = rep.locator("#results")
    expect(results).to_contain_text("1 account")
    results.get_by_role("link", name=account.account_number).click()
    expect(rep).to_have_url(f"{base}/accounts/{account.pk}/")
    rep.go_back()  # the POST was answered by a redirect: Back goes to a GET, fetched again
    expect(rep).to_have_url(f"{base}/search/")
    expect(results.get_by_role("link", name=account.account_number)).to_be_visible()
    expect(rep.locator("[data-search-primary]")).to_have_value(account.account_number.lower())
