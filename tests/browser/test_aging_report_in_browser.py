"""The AR aging report in Chromium: a manager opens it from the reports index, sees the chart,
moves the as-of date back (a visit not yet seen then drops out), and downloads the PDF."""

from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from tests.factories import PASSWORD

pytestmark = pytest.mark.browser

SHOTS = Path("/tmp/shots")


def test_manager_reads_the_aging_report_changes_the_date_and_downloads_the_pdf(
    live_server, new_page, manager, account, sqlite_flushable
):
    page = new_page()
    page.goto(f"{live_server.url}/login/")
    page.get_by_label("Username").fill("manager")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Reports").click()
    page.get_by_role("link", name="AR aging").click()
    expect(page.get_by_role("heading", name="AR aging", level=1)).to_be_visible()

    chart = page.locator("figure.report-chart svg").first
    expect(chart).to_be_visible()
    assert chart.locator("g.bar rect").count() >= 5
    expect(chart.locator("title").first).to_contain_text("Open AR by bucket")
    patient = page.locator('table[data-table="patient"] tfoot')
    expect(patient).to_contain_text("$200.00")  # $120 at 91-120 days and $80 at 31-60 days
    SHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SHOTS / "aging-report.png"), full_page=True)

    # 50 days ago the visit of 45 days ago had not happened: only the $120 visit, then 50 days old.
    earlier = timezone.localdate() - timedelta(days=50)
    page.get_by_label("As of", exact=True).fill(earlier.isoformat())
    page.get_by_role("button", name="Run report").click()
    expect(page.locator("[data-source]")).to_contain_text(f"{earlier:%m/%d/%Y}")
    expect(patient).to_contain_text("$120.00")
    expect(patient).not_to_contain_text("$200.00")
    expect(page.locator("figure.report-chart svg").first).to_be_visible()

    with page.expect_download() as download_info:
        page.get_by_role("link", name="Download PDF").click()
    download = download_info.value
    assert download.suggested_filename == f"aging-{earlier:%Y-%m-%d}.pdf"
    assert Path(download.path()).read_bytes().startswith(b"%PDF")
