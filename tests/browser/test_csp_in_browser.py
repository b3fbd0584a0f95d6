"""The pages under the strict Content-Security-Policy in Chromium: a rep and the front desk walk the
dashboard, search, the account page and every action panel, a Director the API docs, the audit trail
and the admin, and the browser reports no refused script, style or eval (README, "Security")."""

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import open_panel
from tests.factories import PASSWORD

pytestmark = pytest.mark.browser

# Runs in every document before its own scripts: a refused inline script or style fires
# securitypolicyviolation, htmx asked to eval (hx-on, js: values, trigger filters) with allowEval off
# fires htmx:evalDisallowedError.
REPORT_REFUSALS = """
document.addEventListener("securitypolicyviolation", (event) => {
  window.reportRefusal(`${event.violatedDirective} refused ${event.blockedURI || "inline"} at ${event.sourceFile}:${event.lineNumber}`);
});
document.addEventListener("htmx:evalDisallowedError", (event) => {
  window.reportRefusal(`htmx eval refused on <${event.target.tagName.toLowerCase()}>`);
}, true);
"""
# What Chromium writes to the console about the policy headers: refusals, and features in
# Permissions-Policy it does not know (the header would be partly ignored).
CONSOLE_WORDS = ("Content Security Policy", "Content-Security-Policy", "Permissions-Policy", "Permissions policy")


def watched_page(new_page):
    """A page, and the list its policy refusals (from the page and from the console) land in."""
    page = new_page()
    refusals = []

    def report(text):
        refusals.append(text)

    def console(message):
        if any(word in message.text for word in CONSOLE_WORDS):
            refusals.append(f"console: {message.text}")

    page.expose_function("reportRefusal", report)
    page.add_init_script(REPORT_REFUSALS)
    page.on("console", console)
    return page, refusals


def sign_in(page, base_url, username):
    page.goto(f"{base_url}/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(f"{base_url}/")


def search_and_open(page, account):
    page.get_by_role("link", name="Search").click()
    page.locator("[data-search-primary]").fill(account.account_number)
    results = page.locator("#results")
    expect(results).to_contain_text(account.account_number)
    results.get_by_role("link", name=account.account_number).first.click()
    expect(page).to_have_url(f"{page.url.split('/accounts/')[0]}/accounts/{account.pk}/")


def open_every_panel(page) -> list[str]:
    keys = page.locator(".panel-slot").evaluate_all("slots => slots.map((slot) => slot.dataset.panel)")
    for key in keys:
        open_panel(page, key)
    return keys


@pytest.mark.parametrize("username", ["medium", "low"])
def test_pages_and_panels_run_under_the_policy(sqlite_flushable, live_server, new_page, account, medium, low, username):
    base = live_server.url
    page, refusals = watched_page(new_page)
    sign_in(page, base, username)
    expect(page.locator("main h1").first).to_be_visible()

    search_and_open(page, account)
    panels = open_every_panel(page)
    if username == "medium":
        assert {"contacts", "plans", "holds"} <= set(panels), panels
        # The contact form's outcome shows its extra fields (app.js; the handler was inline).
        contacts = page.locator("#panel-contacts")
        promise_fields = contacts.locator('[data-revealed-when="promise_to_pay"]')
        expect(promise_fields).to_be_hidden()
        contacts.locator("#id_contact-outcome").select_option("promise_to_pay")
        expect(promise_fields).to_be_visible()
        contacts.locator("#id_contact-outcome").select_option("attorney_represented")
        expect(promise_fields).to_be_hidden()
        expect(contacts.locator('[data-revealed-when="attorney_represented"]')).to_be_visible()
        expect(page.locator("#timeline")).to_contain_text("Patient")
    page.keyboard.press("?")  # the key list is built by app.js
    expect(page.locator("#hotkeys")).to_be_visible()
    page.keyboard.press("Escape")

    page.get_by_role("link", name="Schedule").click()
    expect(page.get_by_role("heading", name="Schedule")).to_be_visible()
    page.get_by_role("link", name="Dashboard").click()
    expect(page).to_have_url(f"{base}/")
    page.wait_for_load_state("networkidle")
    assert refusals == []


def test_api_docs_audit_trail_and_admin_run_under_the_policy(sqlite_flushable, live_server, new_page, director):
    """Swagger UI included: our template starts it from a static file (no relaxed policy)."""
    base = live_server.url
    page, refusals = watched_page(new_page)
    sign_in(page, base, "director")
    page.goto(f"{base}/api/docs/")
    expect(page.locator(".opblock").first).to_be_visible()
    operation = page.locator(".opblock-get").first
    operation.locator(".opblock-summary").click()
    operation.get_by_role("button", name="Try it out").click()
    operation.get_by_role("button", name="Execute").click()
    expect(operation.locator(".live-responses-table .response .response-col_status").first).to_have_text("200")
    for path, heading in (("/audit/", "Audit trail"), ("/admin/", "Staff, access tiers and practices")):
        page.goto(f"{base}{path}")
        expect(page.get_by_role("heading", name=heading).first).to_be_visible()
    page.wait_for_load_state("networkidle")
    assert refusals == []
