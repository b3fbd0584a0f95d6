"""A rep narrows the queue to one aging bucket, sorts it by balance, pages keep the choice, and
Clear filters brings the whole queue back."""

import os
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from playwright.sync_api import expect

from accounts.models import AccountAgingState
from accounts.selectors import practice_today
from collections_app.models import WorkItem
from core.access import grant_practice
from tests.browser.conftest import _fresh_content_type_caches, browser, new_page  # noqa: F401
from tests.collections_app.test_workspace_browser import sign_in
from tests.factories import queued_account

pytestmark = pytest.mark.browser

SHOTS = Path(os.environ.get("QUEUE_SHOTS", "/tmp/shots"))


def queued(practice, score, balance, aged_days, reasons=(WorkItem.Reason.PAST_DUE,)):
    account = queued_account(practice, score, reasons=reasons, patient_balance=balance)
    AccountAgingState.objects.create(
        account=account,
        practice=practice,
        patient_open=Decimal(balance),
        oldest_open_service_on=practice_today(practice) - timedelta(days=aged_days),
        is_past_due=aged_days > 30,
    )
    return account


def rows(page) -> list[str]:
    return page.locator("[data-queue-table] tbody tr td.mono a").all_inner_texts()


def test_a_rep_filters_the_queue_by_bucket_and_sorts_by_balance(
    sqlite_flushable,
    live_server,
    new_page,  # noqa: F811
    practice,
    other_practice,
    medium,
):
    grant_practice(medium, other_practice)  # two practices: the bar shows the practice choice too
    top_current = queued(practice, "95", "900.00", 10, reasons=(WorkItem.Reason.PROMISE_BROKEN,))
    aged_small = queued(practice, "80", "45.00", 70, reasons=(WorkItem.Reason.FINAL_NOTICE, WorkItem.Reason.PAST_DUE))
    aged_large = queued(practice, "40", "1250.00", 75)
    aged_middle = queued(practice, "60", "310.50", 85)
    queued(practice, "70", "500.00", 150)
    base = live_server.url
    page = new_page()
    sign_in(page, base, "medium")
    page.goto(f"{base}/queue/")
    assert rows(page)[0] == top_current.account_number
    expect(page.locator("[data-queue-count]")).to_contain_text("5 accounts")

    bar = page.locator("[data-queue-filters]")
    bar.get_by_label("Aging").select_option("61-90")
    bar.get_by_role("button", name="Filter").click()
    expect(page.locator("[data-queue-count]")).to_contain_text("3 accounts match the filters")
    assert rows(page) == [aged_small.account_number, aged_middle.account_number, aged_large.account_number]

    page.locator("[data-queue-filters]").get_by_label("Sort by").select_option("balance")
    page.locator("[data-queue-filters]").get_by_role("button", name="Filter").click()
    expect(page).to_have_url(f"{base}/queue/?practice=&reason=&bucket=61-90&balance_min=&balance_max=&sort=balance")
    assert rows(page) == [aged_large.account_number, aged_middle.account_number, aged_small.account_number]
    expect(page.locator("[data-queue-filters]").get_by_label("Aging")).to_have_value("61-90")

    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "queue_filters.png"), full_page=True)
    # The bar fits the page: nothing wider than the window (no horizontal scroll).
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    bar_box = page.locator("[data-queue-filters]").bounding_box()
    assert bar_box["width"] <= 1440
    button_box = page.locator("[data-queue-filters]").get_by_role("button", name="Filter").bounding_box()
    assert button_box["y"] + button_box["height"] <= bar_box["y"] + bar_box["height"]

    page.locator("[data-queue-filters]").get_by_role("textbox", name="Patient balance from").fill("-3")
    page.locator("[data-queue-filters]").get_by_role("button", name="Filter").click()
    expect(page.get_by_role("alert")).to_contain_text("Enter an amount of $0.00 or more.")
    assert rows(page) == []

    page.get_by_role("link", name="Clear filters").click()
    expect(page).to_have_url(f"{base}/queue/")
    expect(page.locator("[data-queue-count]")).to_contain_text("5 accounts")
    assert rows(page)[0] == top_current.account_number
