"""A manager steers the team from the screens: the pool opens, an account is reassigned."""

import pytest
from playwright.sync_api import expect

from collections_app.models import QueueEntry, WorkItem
from tests.browser.conftest import _fresh_content_type_caches, browser, new_page  # noqa: F401
from tests.collections_app.test_workspace_browser import sign_in
from tests.factories import queued_account

pytestmark = pytest.mark.browser


def test_a_manager_reassigns_a_pool_account_from_the_team_screen(
    sqlite_flushable,
    live_server,
    new_page,  # noqa: F811
    practice,
    medium,
    manager,
):
    account = queued_account(practice, "80", reasons=(WorkItem.Reason.PAST_DUE,), patient_balance="120.00")
    base = live_server.url
    page = new_page()
    sign_in(page, base, "manager")
    page.goto(f"{base}/queue/team/")
    page.get_by_role("link", name="Unassigned pool").click()
    expect(page.get_by_role("heading", name="Unassigned pool")).to_be_visible()
    form = page.locator(f"#reassign-{account.pk}")
    form.get_by_label(f"Assign account {account.account_number} to").select_option(str(medium.pk))
    form.get_by_role("button", name="Reassign").click()
    expect(page.locator(f"#reassign-{account.pk}")).to_contain_text("Reassigned.")
    page.screenshot(path="/tmp/pool-reassigned.png", full_page=True)
    assert QueueEntry.objects.get(account=account).assigned_rep == medium
    page.goto(f"{base}/queue/team/")
    expect(page.get_by_role("link", name=medium.get_full_name() or medium.get_username())).to_be_visible()
