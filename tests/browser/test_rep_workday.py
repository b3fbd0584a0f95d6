"""A day at the billing office in Chromium: a rep works three accounts off the queue, the front desk
reads the schedule without amounts, and a manager hands an account to a rep."""

import re
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from accounts.models import AccountAgingState, AddressHistory
from accounts.selectors import practice_today
from collections_app.models import AccountHold, Contact, PromiseToPay, QueueEntry, ReturnedMail
from collections_app.queues.services import queue_refresh
from core.models import AuditEvent
from tests.browser.conftest import open_panel
from tests.conftest import post_visit
from tests.factories import PASSWORD, AppointmentFactory, PatientAccountFactory, minimal_pdf

pytestmark = pytest.mark.browser

PDF = minimal_pdf()
# Where a call is placed "now": the first of these whose local hour is well inside 08:00-21:00.
CALLABLE_ZONES = (
    "Pacific/Honolulu",
    "America/Los_Angeles",
    "America/New_York",
    "Europe/London",
    "Asia/Tokyo",
    "Australia/Sydney",
)


def callable_zone_now() -> str:
    now = datetime.now(UTC)
    for name in CALLABLE_ZONES:
        if 9 <= now.astimezone(ZoneInfo(name)).hour <= 19:
            return name
    raise AssertionError("no zone in CALLABLE_ZONES is in calling hours")  # the six zones cover every UTC hour


def sign_in(page, base_url, username):
    page.goto(f"{base_url}/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(f"{base_url}/")


@pytest.fixture
def private_storage(tmp_path, monkeypatch):
    """Letters go to a temporary private folder (the live server runs in this process)."""
    from django.core.files.storage import FileSystemStorage

    field = AccountHold._meta.get_field("lop_letter")
    monkeypatch.setattr(field, "storage", FileSystemStorage(location=tmp_path / "private", base_url=None))
    return tmp_path / "private"


def past_due_account(practice, number, *, patient_time_zone="", to_patient="150.00", days_ago=100):
    """An account owing `to_patient` on one visit `days_ago` days old, past due by last night's aging."""
    account = PatientAccountFactory(practice=practice, account_number=number)
    if patient_time_zone:
        account.patient.time_zone = patient_time_zone
        account.patient.save(update_fields=["time_zone"])
    encounter = post_visit(account, days_ago=days_ago, charge=to_patient, to_patient=to_patient)
    AccountAgingState.objects.create(
        account=account,
        practice=practice,
        patient_open=to_patient,
        oldest_open_service_on=encounter.date_of_service,
        bucket="91-120",
        is_past_due=True,
    )
    account.refresh_from_db()
    return account


def account_id_of(page) -> int:
    match = re.search(r"/accounts/(\d+)/$", page.url)
    assert match, page.url
    return int(match.group(1))


def test_rep_works_three_accounts_from_the_queue(
    sqlite_flushable, live_server, new_page, practice, medium, tmp_path, private_storage
):
    zone = callable_zone_now()
    accounts = [
        past_due_account(practice, f"N00077{n}", patient_time_zone=zone, to_patient=amount)
        for n, amount in enumerate(("450.00", "300.00", "150.00"), start=1)
    ]
    counts = queue_refresh(as_of_by_practice={practice.pk: practice_today(practice)})
    assert counts["entries_written"] == 3
    letter = tmp_path / "letter-of-protection.pdf"
    letter.write_bytes(PDF)
    # Dates the rep types are the practice's local dates (the services check them against those).
    today = practice_today(practice)
    promise_due = today + timedelta(days=7)

    base = live_server.url
    rep = new_page()
    sign_in(rep, base, "medium")
    rep.goto(f"{base}/queue/")
    expect(rep.get_by_role("heading", name="My work queue")).to_be_visible()
    expect(rep.locator("[data-queue-table] tbody tr")).to_have_count(3)
    for account in accounts:
        expect(rep.get_by_role("link", name=account.account_number)).to_be_visible()
    rep.screenshot(path="/tmp/queue.png", full_page=True)
    rep.get_by_role("button", name=re.compile("Next account")).click()
    expect(rep).to_have_url(re.compile(r"/accounts/\d+/$"))
    worked = [account_id_of(rep)]
    claim_bar = rep.locator("#claim-bar")
    expect(claim_bar).to_contain_text("Claimed by you")

    # 1. An outbound call reaches the patient, who promises $50 next week.
    contacts = rep.locator("#panel-contacts")
    decision = rep.get_by_test_id("call-decision")
    expect(decision).to_contain_text("Calling the patient is allowed now")
    expect(decision).to_contain_text(f"{datetime.now(ZoneInfo(zone)):%Z} where the patient lives")
    contacts.locator("#id_contact-channel").select_option("outbound_call")
    contacts.locator("#id_contact-party").select_option("patient")
    contacts.locator("#id_contact-outcome").select_option("promise_to_pay")
    contacts.locator("#id_contact-promise_amount").fill("50.00")
    contacts.locator("#id_contact-promise_due_on").fill(promise_due.isoformat())
    contacts.locator("#id_contact-notes").fill("Will pay from the next paycheck")
    contacts.get_by_role("button", name="Log contact").click()
    promises = rep.get_by_test_id("open-promises")
    expect(promises).to_contain_text("$50.00")
    expect(promises).to_contain_text(promise_due.strftime("%m/%d/%Y"))
    expect(rep.get_by_test_id("recent-contacts")).to_contain_text("Promise to pay")
    timeline = rep.locator("#timeline")
    expect(timeline).to_contain_text(f"Promise to pay $50.00 by {promise_due:%m/%d/%Y}")
    expect(timeline).to_contain_text("Outbound call")
    rep.screenshot(path="/tmp/workspace.png", full_page=True)

    # 2. Next account: an attorney sends a Letter of Protection.
    claim_bar.get_by_role("button", name=re.compile("Next account")).click()
    expect(rep).not_to_have_url(re.compile(rf"/accounts/{worked[0]}/$"))
    expect(rep).to_have_url(re.compile(r"/accounts/\d+/$"))
    worked.append(account_id_of(rep))
    expect(rep.locator("#claim-bar")).to_contain_text("Claimed by you")
    holds = open_panel(rep, "holds")
    expect(holds).to_contain_text("No active hold")
    holds.get_by_text("Place a hold").click()
    holds.locator("select[name=kind]").select_option("lop")
    expect(holds.get_by_label("Attorney name")).to_be_visible()
    holds.get_by_label("Attorney name").fill("Dana Whitfield")
    holds.get_by_label("Attorney firm").fill("Whitfield & Ross LLP")
    holds.get_by_label("Case number").fill("2026-PI-0417")
    holds.get_by_label("Accident date").fill((today - timedelta(days=120)).isoformat())
    holds.locator("input[name=lop_letter]").set_input_files(str(letter))
    holds.get_by_role("button", name="Place hold").click()
    holds = rep.locator("#panel-holds")
    expect(holds.locator(".badge", has_text="Collection paused")).to_be_visible()
    expect(holds).to_contain_text("Letter of Protection")
    expect(holds).to_contain_text("Whitfield & Ross LLP")
    expect(holds).to_contain_text("2026-PI-0417")
    letter_link = holds.get_by_role("link", name="Download the letter (PDF)")
    expect(letter_link).to_be_visible()
    expect(rep.locator("#timeline")).to_contain_text("Letter of Protection hold placed")
    response = rep.request.get(base + letter_link.get_attribute("href"))
    assert response.status == 200
    assert response.headers["content-type"] == "application/pdf"
    assert response.body() == PDF
    rep.reload()
    expect(rep.locator(".account-head .badge.status-hold")).to_be_visible()

    # 3. Next account: the statement came back; the rep records it and corrects the address.
    rep.locator("#claim-bar").get_by_role("button", name=re.compile("Next account")).click()
    expect(rep).not_to_have_url(re.compile(rf"/accounts/{worked[1]}/$"))
    expect(rep).to_have_url(re.compile(r"/accounts/\d+/$"))
    worked.append(account_id_of(rep))
    expect(rep.locator("#claim-bar")).to_contain_text("Claimed by you")
    mail = open_panel(rep, "correspondence")
    mail.get_by_text("Record returned mail").first.click()
    mail.get_by_label("Came back on").fill(today.isoformat())
    mail.locator("select[name=reason]").select_option(index=1)
    mail.get_by_role("button", name="Record returned mail").click()
    mail = rep.locator("#panel-correspondence")
    expect(mail.locator(".badge", has_text="Bad address")).to_be_visible()
    expect(rep.locator("#timeline")).to_contain_text("Returned mail:")
    rep.reload()
    expect(rep.locator('.account-head [data-flag="bad-address"]')).to_be_visible()
    mail = rep.locator("#panel-correspondence")
    mail.locator("input[name=address_line1]").fill("48 Lark Street")
    mail.locator("input[name=city]").fill("Albany")
    mail.locator("input[name=state]").fill("NY")
    mail.locator("input[name=postal_code]").fill("12210")
    mail.get_by_role("button", name="Save corrected address").click()
    mail = rep.locator("#panel-correspondence")
    expect(mail).to_contain_text("48 Lark Street")
    expect(mail.locator(".badge", has_text="Bad address")).to_have_count(0)
    expect(rep.locator("#timeline")).to_contain_text("Address changed")
    rep.reload()
    expect(rep.locator('.account-head [data-flag="bad-address"]')).to_have_count(0)
    rep.get_by_role("link", name="Address history").click()
    expect(rep.locator("#address-history")).to_contain_text("12 Elm Street")

    # The database agrees: three different accounts, each claimed by the rep, each with its work.
    assert len(set(worked)) == 3
    assert set(worked) == {account.pk for account in accounts}
    claims = AuditEvent.objects.filter(
        user=medium, object_type="collections_app.queueentry", detail__queue="claim"
    ).values_list("object_id", flat=True)
    assert sorted(claims) == sorted(str(pk) for pk in worked)
    first, second, third = worked
    contact = Contact.objects.get(account_id=first)
    assert (contact.channel, contact.party, contact.outcome) == ("outbound_call", "patient", "promise_to_pay")
    assert contact.logged_by == medium
    promise = PromiseToPay.objects.get(account_id=first)
    assert (str(promise.amount), promise.due_on, promise.status) == ("50.00", promise_due, "open")
    hold = AccountHold.objects.get(account_id=second)
    assert (hold.kind, hold.attorney_firm, hold.case_number) == ("lop", "Whitfield & Ross LLP", "2026-PI-0417")
    assert hold.released_at is None and hold.lop_letter
    assert hold.account.status == "hold"
    assert AuditEvent.objects.filter(user=medium, object_id=str(hold.pk), detail__document="lop_letter").exists()
    returned = ReturnedMail.objects.get(account_id=third)
    third_patient = returned.account.patient
    assert not third_patient.address_is_bad
    assert third_patient.address_line1 == "48 Lark Street"
    assert AddressHistory.objects.filter(patient=third_patient, address_line1="12 Elm Street").exists()


def test_front_desk_sees_the_flag_but_never_an_amount(sqlite_flushable, live_server, new_page, practice, low):
    account = past_due_account(practice, "N0004411", to_patient="437.19")
    tomorrow = timezone.now().astimezone(ZoneInfo(practice.time_zone)) + timedelta(days=1)
    AppointmentFactory(
        patient=account.patient,
        practice=practice,
        starts_at=tomorrow.replace(hour=10, minute=30, second=0, microsecond=0),
        reason="Annual physical",
    )
    base = live_server.url
    desk = new_page()
    sign_in(desk, base, "low")
    desk.goto(f"{base}/schedule/")
    row = desk.locator("table.schedule tbody tr", has_text="Annual physical")
    expect(row).to_have_count(1)
    expect(row.get_by_test_id("see-billing-office")).to_have_text("See billing office")
    html = desk.content()
    assert "$" not in html
    assert "437.19" not in html  # the amount itself: a record id may contain the digits
    row.get_by_role("link", name=re.compile(re.escape(account.patient.last_name))).click()
    expect(desk).to_have_url(f"{base}/accounts/{account.pk}/")
    expect(desk.get_by_test_id("past-due-flag")).to_contain_text("See billing office")
    html = desk.content()
    assert "$" not in html
    assert "437.19" not in html
    expect(desk.get_by_test_id("balances")).to_have_count(0)
    expect(desk.locator("#panel-contacts")).to_have_count(0)


def test_manager_reassigns_an_account_to_a_rep(sqlite_flushable, live_server, new_page, practice, manager, medium):
    from tests.factories import StaffUserFactory

    other_rep = StaffUserFactory(username="rep2", tier=medium.tier, practices=[practice])
    account = past_due_account(practice, "N0005522")
    account.assigned_rep = other_rep
    account.save(update_fields=["assigned_rep"])
    queue_refresh(as_of_by_practice={practice.pk: practice_today(practice)})

    base = live_server.url
    boss = new_page()
    sign_in(boss, base, "manager")
    boss.goto(f"{base}/queue/team/")
    expect(boss.get_by_role("heading", name="Team queues")).to_be_visible()
    boss.get_by_role("link", name="rep2").click()
    expect(boss.get_by_role("heading", name="Queue of rep2")).to_be_visible()
    form = boss.locator(f"#reassign-{account.pk}")
    form.get_by_label(f"Assign account {account.account_number} to").select_option(label="medium")
    form.get_by_role("button", name="Reassign").click()
    expect(boss.locator(f"#reassign-{account.pk}")).to_contain_text("Reassigned.")

    account.refresh_from_db()
    assert account.assigned_rep == medium
    assert QueueEntry.objects.get(account=account).assigned_rep == medium

    boss.goto(f"{base}/queue/team/{medium.pk}/")
    expect(boss.get_by_role("link", name=account.account_number)).to_be_visible()
    boss.goto(f"{base}/queue/team/{other_rep.pk}/")
    expect(boss.get_by_text("No accounts assigned to this rep")).to_be_visible()
    boss.goto(f"{base}/accounts/{account.pk}/")
    expect(boss.locator(".facts", has_text="Assigned rep")).to_contain_text("medium")
