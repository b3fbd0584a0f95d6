"""Collections pages: sign-in and sign-out with their audit rows, the dashboard by tier, the base
layout's navigation, the Director's audit trail page and the benchmark floor."""

from datetime import timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accounts.models import Appointment
from core.audit import audit_record
from core.models import AuditEvent
from tests.conftest import post_visit
from tests.factories import PASSWORD, AppointmentFactory, PatientAccountFactory, PracticeFactory

pytestmark = pytest.mark.django_db


def page(client, user, url, **params):
    client.force_login(user)
    return client.get(url, params)


# --- sign-in and sign-out --------------------------------------------------------------------------


def test_login_page_has_a_csrf_protected_form(client):
    response = client.get(reverse("login"))
    assert response.status_code == 200
    html = response.content.decode()
    assert 'name="csrfmiddlewaretoken"' in html
    assert 'name="username"' in html and 'type="password"' in html


def test_timeout_notice_on_the_login_page(client):
    html = client.get(reverse("login") + "?timeout=1").content.decode()
    assert "You were logged out after 15 minutes without activity" in html
    assert "without activity" not in client.get(reverse("login")).content.decode()


def test_successful_login_lands_on_the_dashboard_and_is_audited(client, medium):
    response = client.post(reverse("login"), {"username": "medium", "password": PASSWORD})
    assert response.status_code == 302
    assert response["Location"] == reverse("home")
    event = AuditEvent.objects.get(action=AuditEvent.Action.LOGIN)
    assert event.user == medium
    assert event.request_id


def test_login_returns_to_the_page_that_asked_for_it(client, medium, account):
    target = reverse("account-detail", args=[account.pk])
    response = client.post(
        reverse("login") + f"?next={target}", {"username": "medium", "password": PASSWORD, "next": target}
    )
    assert response["Location"] == target


def test_failed_login_is_audited_with_the_typed_username_and_no_password(client, medium):
    client.post(reverse("login"), {"username": "medium", "password": "wrong-password-123"})
    client.post(reverse("login"), {"username": "nobody-here", "password": "wrong-password-123"})
    events = AuditEvent.objects.filter(action=AuditEvent.Action.LOGIN_FAILED).order_by("id")
    assert [event.username for event in events] == ["medium", "nobody-here"]
    assert all(event.user is None for event in events)
    assert "wrong-password" not in str([event.detail for event in events])


@override_settings(AXES_FAILURE_LIMIT=2)
def test_locked_out_page_says_for_how_long(client, medium):
    for _ in range(2):
        response = client.post(reverse("login"), {"username": "medium", "password": "wrong-password-123"})
    assert response.status_code == 429
    html = response.content.decode()
    assert "Account locked" in html
    assert "locked for 30 minutes" in " ".join(html.split())
    assert 'value="medium"' not in html


def test_logout_is_a_post_and_is_audited(client, low):
    client.force_login(low)
    assert client.get(reverse("logout")).status_code == 405  # a link cannot sign anyone out
    response = client.post(reverse("logout"))
    assert response.status_code == 302
    assert response["Location"] == reverse("login")
    assert AuditEvent.objects.filter(action=AuditEvent.Action.LOGOUT, user=low).count() == 1
    assert client.get(reverse("home")).status_code == 302


def test_a_signed_in_user_visiting_login_goes_to_the_dashboard(client, low):
    client.force_login(low)
    assert client.get(reverse("login"))["Location"] == reverse("home")


# --- base layout -----------------------------------------------------------------------------------


def test_layout_shows_the_user_their_tier_and_a_csrf_logout_button(client, medium):
    html = page(client, medium, reverse("home")).content.decode()
    assert "Medium" in html
    assert f'action="{reverse("logout")}"' in html
    assert html.count("csrfmiddlewaretoken") >= 1
    assert 'href="/static/css/app.css"' in html
    assert 'src="/static/js/htmx.min.js"' in html
    assert "https://" not in html  # no CDN


@pytest.mark.parametrize(
    ("persona", "sees_audit"), [("low", False), ("medium", False), ("manager", False), ("director", True)]
)
def test_navigation_follows_the_tier(client, persona, sees_audit, request):
    html = page(client, request.getfixturevalue(persona), reverse("home")).content.decode()
    assert (reverse("audit-log") in html) is sees_audit
    assert reverse("search") in html


# --- dashboard -------------------------------------------------------------------------------------


@pytest.mark.parametrize("persona", ["low", "medium", "manager", "director"])
def test_every_tier_has_a_dashboard(client, persona, request):
    assert page(client, request.getfixturevalue(persona), reverse("home")).status_code == 200


def test_anonymous_visitor_goes_to_login_from_the_dashboard(client, db):
    response = client.get(reverse("home"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_front_desk_dashboard_counts_todays_appointments_and_shows_no_money(client, account, low):
    soon = timezone.now() + timedelta(minutes=30)
    AppointmentFactory(patient=account.patient, practice=account.practice, starts_at=soon)
    AppointmentFactory(
        patient=account.patient,
        practice=account.practice,
        starts_at=timezone.now() + timedelta(minutes=40),
        status=Appointment.Status.CANCELLED,
    )
    AppointmentFactory(
        patient=account.patient, practice=account.practice, starts_at=timezone.now() - timedelta(hours=1)
    )
    response = page(client, low, reverse("home"))
    html = response.content.decode()
    assert "Northside Pediatrics" in html
    rows = response.context["rows"]
    zone = ZoneInfo(account.practice.time_zone)
    still_today = soon.astimezone(zone).date() == timezone.now().astimezone(zone).date()
    # The one in 30 minutes counts (unless the practice's day ends first); cancelled and past ones do not.
    assert rows[0]["appointments_today"] == (1 if still_today else 0)
    assert "patient_ar" not in rows[0]
    assert "$" not in html and "200.00" not in html


def test_billing_dashboard_shows_accounts_owing_and_patient_ar_per_practice(client, account, medium):
    second = PatientAccountFactory(practice=account.practice)
    post_visit(second, days_ago=10, charge="50.00", to_patient="37.50")
    PatientAccountFactory(practice=account.practice)  # nothing owed: not counted
    response = page(client, medium, reverse("home"))
    row = response.context["rows"][0]
    assert row["accounts_owing"] == 2
    assert row["patient_ar"] == Decimal("237.50")
    assert "$237.50" in response.content.decode()


def test_dashboard_lists_only_the_users_practices(client, account, other_account, outsider, director):
    html = page(client, outsider, reverse("home")).content.decode()
    assert "Southside Orthopedics" in html and "Northside Pediatrics" not in html
    director_rows = page(client, director, reverse("home")).context["rows"]
    assert {row["practice"].code for row in director_rows} == {"north", "south"}


def test_dashboard_queries_do_not_grow_with_practices(client, director, django_assert_max_num_queries):
    for n in range(6):
        PracticeFactory(code=f"extra{n}")
    client.force_login(director)
    client.get(reverse("home"))
    # 5, and 3 more for the manager's dashboard (reports.dashboard: rate snapshots, aging, approvals).
    with django_assert_max_num_queries(8):
        assert client.get(reverse("home")).status_code == 200


# --- audit trail page ------------------------------------------------------------------------------


@pytest.mark.parametrize("persona", ["low", "medium", "manager"])
def test_audit_trail_is_refused_below_director(client, persona, request):
    assert page(client, request.getfixturevalue(persona), reverse("audit-log")).status_code == 403


def test_audit_trail_sends_anonymous_visitors_to_login(client, db):
    assert client.get(reverse("audit-log"))["Location"].startswith(reverse("login"))


def test_director_reads_the_audit_trail_newest_first(client, account, medium, director):
    page(client, medium, reverse("account-detail", args=[account.pk]))
    response = page(client, director, reverse("audit-log"))
    assert response.status_code == 200
    events = response.context["events"]
    assert events[0].occurred_at >= events[-1].occurred_at
    html = response.content.decode()
    assert reverse("account-detail", args=[account.pk]) in html  # the viewed account is linked


def test_audit_trail_filters_by_user_action_object_practice_and_dates(
    client, account, other_account, low, medium, director
):
    page(client, low, reverse("account-detail", args=[account.pk]))
    page(client, medium, reverse("account-detail", args=[account.pk]))
    audit_record(user=director, action=AuditEvent.Action.VIEW, obj=other_account, field_group="billing")
    client.force_login(director)

    def listed(**params):
        return client.get(reverse("audit-log"), params).context["events"]

    assert {event.user_id for event in listed(user=low.pk)} == {low.pk}
    assert {event.action for event in listed(action="view")} == {"view"}
    assert {event.object_type for event in listed(object_type="accounts.patientaccount")} == {"accounts.patientaccount"}
    assert {event.practice_id for event in listed(practice=other_account.practice_id)} == {other_account.practice_id}
    today = timezone.localdate()
    assert listed(date_from=today.isoformat(), date_to=today.isoformat())
    assert list(listed(date_from=(today + timedelta(days=1)).isoformat())) == []
    assert list(listed(date_to=(today - timedelta(days=1)).isoformat())) == []


@pytest.mark.parametrize(
    "params",
    [
        {"user": "abc"},
        {"user": "99999999999999999999999"},
        {"action": "drop table"},
        {"practice": "-1"},
        {"date_from": "2024-02-30"},
        {"date_from": "2025-01-10", "date_to": "2025-01-01"},
        {"page": "-5"},
        {"page": "abc"},
        {"page": "9" * 50},
        {"object_type": "x" * 5000},
    ],
)
def test_odd_audit_filters_never_fail(client, director, params):
    client.force_login(director)
    assert client.get(reverse("audit-log"), params).status_code == 200


def test_audit_trail_pages_without_counting_the_table(client, director):
    for n in range(105):
        audit_record(user=director, action=AuditEvent.Action.VIEW, object_type="accounts.patient", object_id=n)
    client.force_login(director)
    client.get(reverse("audit-log"))
    with CaptureQueriesContext(connection) as captured:
        first = client.get(reverse("audit-log"))
    # session, user, practices, events, the page's patients (one query for all 100 rows)
    assert len(captured.captured_queries) <= 6
    assert not any("COUNT(" in query["sql"].upper() for query in captured.captured_queries)
    assert len(first.context["events"]) == 100 and first.context["has_next"]
    second = client.get(reverse("audit-log"), {"page": 2})
    assert len(second.context["events"]) >= 5 and not second.context["has_next"]


# --- benchmark floor -------------------------------------------------------------------------------


@pytest.fixture
def bench_floor_page(settings):
    """URLs as a bench run serves them (BENCH_FLOOR_PAGE=true)."""
    import importlib

    from django.urls import clear_url_caches

    import collections_app.urls
    import config.urls

    settings.BENCH_FLOOR_PAGE = True
    importlib.reload(collections_app.urls)
    importlib.reload(config.urls)
    clear_url_caches()
    yield
    settings.BENCH_FLOOR_PAGE = False
    importlib.reload(collections_app.urls)
    importlib.reload(config.urls)
    clear_url_caches()


def test_bench_floor_is_not_served_without_the_bench_setting(client, low):
    client.force_login(low)
    assert client.get("/bench/floor/").status_code == 404


def test_production_settings_refuse_the_bench_floor_page():
    import subprocess
    import sys

    env = {
        "DJANGO_SETTINGS_MODULE": "config.settings.production",
        "SECRET_KEY": "x" * 60,
        "ALLOWED_HOSTS": "example.org",
        "BENCH_FLOOR_PAGE": "true",
        "PATH": "/usr/bin:/bin",
    }
    result = subprocess.run(
        [sys.executable, "manage.py", "check"], env=env, capture_output=True, text=True, check=False
    )
    assert result.returncode != 0
    assert "BENCH_FLOOR_PAGE" in result.stderr


def test_bench_floor_answers_ok_with_only_the_session_and_user_queries(
    client, low, django_assert_max_num_queries, bench_floor_page
):
    client.force_login(low)
    client.get(reverse("bench-floor"))
    # The session comes from the cache when Redis is configured (cached_db), else the database.
    with django_assert_max_num_queries(2):
        response = client.get(reverse("bench-floor"))
    assert response.content == b"ok"


def test_bench_floor_needs_a_login(client, db, bench_floor_page):
    assert client.get(reverse("bench-floor")).status_code == 302


# --- error pages -----------------------------------------------------------------------------------


def test_refusal_page_explains_the_tier(client, low):
    response = page(client, low, reverse("audit-log"))
    assert response.status_code == 403
    assert "access tier" in response.content.decode()


def test_the_audit_trail_names_records_in_billing_words(client, director, account):
    audit_record(user=director, action=AuditEvent.Action.VIEW, obj=account, field_group="billing")
    audit_record(user=director, action=AuditEvent.Action.VIEW, obj=account.patient, field_group="demographics")
    client.force_login(director)
    html = client.get(reverse("audit-log")).content.decode()
    patient = account.patient
    assert f"Patient account {account.account_number}" in html
    assert f"({patient.medical_record_number})" in html
    assert "accounts.patientaccount" not in html.split("<tbody>")[1]
