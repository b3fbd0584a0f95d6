"""What people read: billing-office words instead of codes and reprs, one way to write an empty value
("—"), one format for times with their zone ("12/02/2026 3:04 PM EST"), and the user's own zone."""

import html
import re
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone

from accounts import services as ledger
from accounts.models import Transaction
from collections_app.contacts.services import next_allowed_text
from collections_app.models import JobRun
from core import display
from core.models import AuditEvent, StaffUser
from core.templatetags.pages import or_dash
from payment_plans import services as plans

HTMX = {"HTTP_HX_REQUEST": "true"}
# "12/02/2026 3:04 PM EST": no assertion depends on the hour the suite runs at, only on the shape.
TIME = r"\d{2}/\d{2}/\d{4} \d{1,2}:\d{2} [AP]M"
EASTERN, PACIFIC, CENTRAL = r"E[SD]T", r"P[SD]T", r"C[SD]T"


def named(user, first, last):
    user.first_name, user.last_name = first, last
    user.save(update_fields=["first_name", "last_name"])
    return user


def choose_zone(user, zone):
    user.time_zone = zone
    user.save(update_fields=["time_zone"])


def post_payment(user, account, amount="-25.00"):
    return ledger.transaction_post(
        acting_user=user,
        account_id=account.pk,
        kind=Transaction.Kind.PATIENT_PAYMENT,
        patient_amount=amount,
        payment_method="check",
        reference="CHK-77",
    )


def text(response) -> str:
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", response.content.decode())).split())


# --- the one format ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("zone", "expected"),
    [
        ("America/New_York", "12/02/2026 3:04 PM EST"),
        ("America/Los_Angeles", "12/02/2026 12:04 PM PST"),
        ("America/Phoenix", "12/02/2026 1:04 PM MST"),
    ],
)
def test_a_time_is_written_one_way_with_its_zone(zone, expected):
    moment = datetime(2026, 12, 2, 20, 4, tzinfo=UTC)
    assert display.display_time(moment, zone) == expected


def test_a_missing_time_and_an_empty_value_are_a_dash():
    assert display.display_time(None) == "—"
    assert [or_dash(value) for value in (None, "", [], 0, "x")] == ["—", "—", "—", 0, "x"]


def test_the_governors_next_allowed_time_is_the_same_text_in_the_refusal_and_on_the_panel():
    at = datetime(2026, 12, 2, 13, 0, tzinfo=UTC)
    local = at.astimezone(ZoneInfo("America/New_York"))
    assert next_allowed_text(local) == display.clock_time(at, "America/New_York") == "Wed 12/02/2026 8:00 AM EST"


@override_settings(OFFICE_TIME_ZONE="America/Denver")
def test_a_time_tied_to_no_practice_is_in_the_office_zone_until_the_user_chooses(db, medium):
    moment = datetime(2026, 7, 1, 18, 0, tzinfo=UTC)
    assert display.display_time(moment, user=medium) == "07/01/2026 12:00 PM MDT"
    choose_zone(medium, "America/Chicago")
    assert display.display_time(moment, user=medium) == "07/01/2026 1:00 PM CDT"
    # A chosen zone moves a practice's times too (labelled), but never an appointment's clock.
    assert display.display_time(moment, "America/Los_Angeles", user=medium) == "07/01/2026 1:00 PM CDT"
    assert display.clock_time(moment, "America/Los_Angeles") == "Wed 07/01/2026 11:00 AM PDT"


# --- the timeline --------------------------------------------------------------------------------


def timeline(client, user, account):
    client.force_login(user)
    return client.get(reverse("account-timeline", args=[account.pk]), **HTMX)


def test_timeline_names_the_payment_its_amount_and_who_posted_it(client, account, medium):
    post_payment(named(medium, "Jane", "Rep"), account)
    page = text(timeline(client, medium, account))
    assert "Patient payment of $25.00" in page
    assert "by Jane Rep" in page
    assert re.search(rf"{TIME} {EASTERN} · by Jane Rep · Payment", page)  # the practice is in New York
    assert "· payment" not in page and "medium" not in page


def test_the_users_zone_changes_the_timelines_label(client, account, medium):
    post_payment(medium, account)
    choose_zone(medium, "America/Los_Angeles")
    page = text(timeline(client, medium, account))
    assert re.search(rf"Patient payment of \$25\.00 .*{TIME} {PACIFIC}", page)
    assert not re.search(rf"{TIME} {EASTERN}", page)


def test_a_reversal_says_what_it_reverses_in_words(client, account, medium):
    payment = post_payment(medium, account)
    ledger.transaction_reverse(acting_user=medium, transaction_id=payment.pk, reason="Check returned")
    page = text(timeline(client, medium, account))
    assert f"Reverses the patient payment of {payment.effective_on:%m/%d/%Y}" in page
    assert f"#{payment.pk}" not in page


def test_a_date_only_event_shows_its_date_not_midnight(client, account, medium, monkeypatch):
    from collections_app.workspace import panels
    from core.panels import TimelineEvent

    day = datetime(2026, 11, 3, tzinfo=ZoneInfo(account.practice.time_zone))
    source = panels.Panel(
        "fake", "Fake", "contacts-panel", lambda a: [TimelineEvent(day, "letter", "Statement mailed")]
    )
    monkeypatch.setattr(panels, "PANELS", (source,))
    page = text(timeline(client, medium, account))
    assert "Statement mailed 11/03/2026 · Letter" in page
    assert "12:00 AM" not in page


# --- the nightly jobs page -----------------------------------------------------------------------


@pytest.fixture
def run(db):
    started = timezone.now() - timedelta(minutes=3)
    return JobRun.objects.create(
        job="hold_expiry",
        as_of=timezone.localdate(),
        status=JobRun.Status.SUCCEEDED,
        started_at=started,
        finished_at=started + timedelta(seconds=12),
        duration_ms=12_400,
        counts={"released": 2, "accounts_restored": 1},
    )


def test_jobs_page_shows_descriptions_counts_in_words_and_labelled_times(client, manager, run):
    client.force_login(manager)
    page = text(client.get(reverse("jobs")))
    assert "Dispute holds past their window released" in page
    assert "released 2, accounts restored 1" in page and "accounts_restored" not in page
    assert "12.4 s" in page
    assert re.search(rf"{TIME} {EASTERN} {TIME} {EASTERN}", page)  # started, finished: the office's zone


def test_jobs_page_follows_the_users_zone_and_writes_a_running_jobs_blanks_as_a_dash(client, manager, run):
    JobRun.objects.create(job="queue_refresh", as_of=run.as_of, status=JobRun.Status.RUNNING)
    choose_zone(manager, "America/Chicago")
    client.force_login(manager)
    page = text(client.get(reverse("jobs")))
    assert re.search(rf"{TIME} {CENTRAL}", page) and not re.search(rf"{TIME} {EASTERN}", page)
    assert re.search(r"Running 1 — — " + TIME, page)  # no counts, no duration yet, then its start
    assert " - " not in page.split("Nightly jobs", 2)[-1]


# --- the administration --------------------------------------------------------------------------


def test_admin_staff_list_names_people_labels_times_and_writes_blanks_as_a_dash(client, director, medium):
    named(medium, "Jane", "Rep")
    client.force_login(director)
    page = text(client.get("/admin/core/staffuser/"))
    assert re.search(rf"director — — — Director .*{TIME} {EASTERN}", page)  # no name or email; last sign-in
    assert "a.m." not in page and "p.m." not in page


def test_admin_payment_plans_list_names_the_account_holder_for_directors(client, director, account, medium):
    plan = plans.plan_create(acting_user=medium, account_id=account.pk, installment_count=4, activate=True)
    client.force_login(director)
    page = text(client.get("/admin/payment_plans/paymentplan/"))
    patient = account.patient
    assert f"Plan {plan.pk} N0001234 ({patient.last_name}, {patient.first_name})" in page
    assert "$200.00" in page and "Active" in page
    assert str(plan) == f"Payment plan {plan.pk} (active)"


def test_admin_recent_actions_name_the_person_changed(client, director, medium):
    named(medium, "Jane", "Rep")
    client.force_login(director)
    form = {
        "username": "medium",
        "first_name": "Jane",
        "last_name": "Rep",
        "tier": medium.tier,
        "is_active": "on",
        "_save": "Save",
    }
    assert client.post(f"/admin/core/staffuser/{medium.pk}/change/", form).status_code == 302
    assert "Jane Rep (medium)" in text(client.get("/admin/"))


def test_practice_list_says_zone_and_flags_in_words(client, director, practice):
    client.force_login(director)
    page = text(client.get("/admin/accounts/practice/"))
    assert "Eastern (New York)" in page and "America/New_York" not in page


def test_record_names_are_billing_words(account, medium):
    payment = post_payment(medium, account)
    assert str(payment) == f"Patient payment of $25.00 on {payment.effective_on:%m/%d/%Y}"
    event = AuditEvent(action=AuditEvent.Action.VIEW, object_type="accounts.patientaccount", object_id="51")
    assert str(event) == "Viewed patient account 51"
    assert str(named(medium, "Jane", "Rep")) == "Jane Rep (medium)"


# --- the audit trail -----------------------------------------------------------------------------


def test_audit_trail_writes_times_with_their_zone_and_field_groups_in_words(client, director, account, medium):
    client.force_login(medium)
    client.get(reverse("account-detail", args=[account.pk]))
    client.force_login(director)
    page = text(client.get(reverse("audit-log")))
    assert "When (UTC)" not in page
    assert re.search(rf"{TIME} {EASTERN} medium Viewed", page)
    assert "Billing, Demographics" in page and "past_due_flag" not in page
    assert account.practice.name in page


# --- My settings ---------------------------------------------------------------------------------


@pytest.mark.parametrize("persona", ["low", "medium", "manager", "director"])
def test_every_tier_has_my_settings_linked_from_the_user_menu(client, personas, persona):
    client.force_login(personas[persona])
    response = client.get(reverse("my-settings"))
    assert response.status_code == 200
    assert f'href="{reverse("my-settings")}"' in response.content.decode()
    assert "Use each practice's time zone" in text(response)


def test_choosing_a_zone_saves_it_audits_it_and_labels_times_with_it(client, low):
    client.force_login(low)
    response = client.post(reverse("my-settings"), {"time_zone": "America/Chicago"}, follow=True)
    assert "Times now show in Central (Chicago)" in text(response)
    assert re.search(rf"Now: {TIME} {CENTRAL}", text(response))
    assert StaffUser.objects.get(pk=low.pk).time_zone == "America/Chicago"
    change = AuditEvent.objects.get(action=AuditEvent.Action.UPDATE, object_type="core.staffuser")
    assert (change.user_id, change.object_id, change.detail) == (low.pk, str(low.pk), {"fields": ["time_zone"]})
    client.post(reverse("my-settings"), {"time_zone": ""})
    assert StaffUser.objects.get(pk=low.pk).time_zone == ""


def test_an_unknown_zone_is_refused_and_nothing_changes(client, low):
    client.force_login(low)
    response = client.post(reverse("my-settings"), {"time_zone": "Mars/Olympus_Mons"})
    assert response.status_code == 200 and "Select a valid choice" in response.content.decode()
    assert StaffUser.objects.get(pk=low.pk).time_zone == ""
    assert not AuditEvent.objects.filter(action=AuditEvent.Action.UPDATE, object_type="core.staffuser").exists()


def test_my_settings_sends_anonymous_visitors_to_login(client, db):
    assert client.get(reverse("my-settings"))["Location"].startswith(reverse("login"))
