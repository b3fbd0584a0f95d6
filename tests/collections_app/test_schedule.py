"""The front desk's schedule: upcoming appointments with "See billing office", never an amount."""

import re
from datetime import datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accounts.models import AccountAgingState, Appointment, PatientAccount
from core.models import AuditEvent
from tests.factories import AppointmentFactory, PatientAccountFactory

SCHEDULE = reverse("schedule")
HTMX = {"HTTP_HX_REQUEST": "true"}


def mark_past_due(account, *, past_due=True):
    """What the nightly aging job leaves behind (created directly: that job is tested on its own)."""
    return AccountAgingState.objects.create(
        account=account,
        practice=account.practice,
        patient_open=account.patient_balance,
        oldest_open_service_on=timezone.localdate() - timedelta(days=100),
        bucket="91-120",
        is_past_due=past_due,
    )


def appointment(account, *, days=1, hour=10, **fields):
    tz = ZoneInfo(account.practice.time_zone)
    day = timezone.now().astimezone(tz).date() + timedelta(days=days)
    return AppointmentFactory(
        patient=account.patient,
        practice=account.practice,
        starts_at=datetime.combine(day, time(hour), tzinfo=tz),
        **fields,
    )


def view(client, user, **params):
    client.force_login(user)
    return client.get(SCHEDULE, params)


def listed(response) -> list[Appointment]:
    return list(response.context["appointments"])


# --- access ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("persona", ["low", "medium", "manager", "director"])
def test_every_tier_opens_the_schedule(client, account, persona, request):
    assert view(client, request.getfixturevalue(persona)).status_code == 200


def test_anonymous_visitor_is_sent_to_login(client, db):
    response = client.get(SCHEDULE)
    assert response.status_code == 302 and response["Location"].startswith("/login/")


def test_schedule_is_in_the_main_navigation(client, account, low):
    assert f'href="{SCHEDULE}" aria-current="page"'.encode() in view(client, low).content


# --- the flag, never the amount ----------------------------------------------------------------------


def test_front_desk_sees_the_flag_and_never_an_amount(client, account, low):
    mark_past_due(account)
    appointment(account, reason="Sports physical")
    response = view(client, low)
    html = response.content.decode()
    assert "Sports physical" in html
    assert 'data-testid="see-billing-office"' in html
    assert "$" not in html
    for digits in ("200.00", "120.00", "80.00", "200"):
        assert not re.search(rf"(?<![\d/:]){re.escape(digits)}(?![\d/:])", html), digits
    assert f'href="{reverse("account-detail", args=[account.pk])}"' in html


def test_no_flag_without_last_nights_past_due_state(client, account, low):
    appointment(account)
    response = view(client, low)
    assert [a.see_billing_office for a in listed(response)] == [False]
    assert b"see-billing-office" not in response.content


def test_no_flag_once_the_balance_is_paid_since_last_night(client, account, low):
    mark_past_due(account)
    PatientAccount.objects.filter(pk=account.pk).update(patient_balance=Decimal("0.00"))
    appointment(account)
    assert [a.see_billing_office for a in listed(view(client, low))] == [False]


def test_no_flag_when_aging_says_not_past_due(client, account, low):
    mark_past_due(account, past_due=False)
    appointment(account)
    assert [a.see_billing_office for a in listed(view(client, low))] == [False]


def test_flag_follows_any_past_due_account_of_the_patient(client, account, low):
    second = PatientAccountFactory(practice=account.practice, patient=account.patient, patient_balance=Decimal("40.00"))
    mark_past_due(second)
    appointment(account)
    assert [a.see_billing_office for a in listed(view(client, low))] == [True]


# --- what is listed ----------------------------------------------------------------------------------


def test_another_practices_appointments_are_absent(client, account, other_account, low):
    mine = appointment(account)
    theirs = appointment(other_account)
    shown = listed(view(client, low))
    assert mine in shown and theirs not in shown
    assert other_account.patient.last_name not in view(client, low).content.decode()


def test_window_is_today_through_the_practices_alert_days(client, account, low):
    account.practice.appointment_alert_days = 3
    account.practice.save()
    today = appointment(account, days=0, hour=23)
    last_day = appointment(account, days=3)
    too_far = appointment(account, days=4)
    yesterday = appointment(account, days=-1)
    cancelled = appointment(account, days=1, status=Appointment.Status.CANCELLED)
    shown = listed(view(client, low))
    assert shown == [today, last_day]
    assert too_far not in shown and yesterday not in shown and cancelled not in shown


def test_days_ahead_can_be_widened(client, account, low):
    far = appointment(account, days=20)
    assert far not in listed(view(client, low))
    assert far in listed(view(client, low, days=25))


def test_filter_by_day(client, account, low):
    first, second = appointment(account, days=1), appointment(account, days=2)
    day = second.starts_at.astimezone(ZoneInfo(account.practice.time_zone)).date()
    assert listed(view(client, low, day=day.isoformat())) == [second]
    assert first not in listed(view(client, low, day=day.isoformat()))


def test_filter_by_practice(client, account, other_account, director):
    mine, theirs = appointment(account), appointment(other_account)
    assert set(listed(view(client, director))) == {mine, theirs}
    assert listed(view(client, director, practice=account.practice_id)) == [mine]


def test_a_practice_outside_the_users_scope_cannot_be_chosen(client, account, other_account, low):
    appointment(other_account)
    response = view(client, low, practice=other_account.practice_id)
    assert response.status_code == 200
    assert "practice" in response.context["form"].errors
    assert listed(response) == [] or all(a.practice_id == account.practice_id for a in listed(response))


@pytest.mark.parametrize("params", [{"day": "not-a-date"}, {"days": "-4"}, {"days": "999"}, {"page": "abc"}])
def test_odd_filters_never_fail(client, account, low, params):
    assert view(client, low, **params).status_code == 200


def test_pages_of_fifty(client, practice, low):
    account = PatientAccountFactory(practice=practice)
    for n in range(55):
        appointment(account, days=1 + n % 5, hour=8 + n % 9)
    first = view(client, low)
    assert len(listed(first)) == 50 and b"page=2" in first.content
    assert len(listed(view(client, low, page=2))) == 5
    assert view(client, low, page=3).status_code == 404


def test_htmx_filters_swap_only_the_results(client, account, low):
    appointment(account)
    client.force_login(low)
    response = client.get(SCHEDULE, **HTMX)
    assert b"<html" not in response.content and b"<table" in response.content


# --- audit and queries -------------------------------------------------------------------------------


def test_listing_is_one_bulk_audit_of_the_patients_shown(client, practice, low):
    accounts = PatientAccountFactory.create_batch(3, practice=practice)
    for account in accounts:
        appointment(account)
        appointment(account, days=2)
    last_id = AuditEvent.objects.order_by("-id").values_list("id", flat=True).first() or 0
    view(client, low)
    rows = AuditEvent.objects.filter(id__gt=last_id, action=AuditEvent.Action.VIEW)
    assert sorted(row.object_id for row in rows) == sorted(str(account.patient_id) for account in accounts)
    assert {(row.object_type, row.field_group) for row in rows} == {("accounts.patient", "demographics,past_due_flag")}


def _queries(client, **params) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(SCHEDULE, params).status_code == 200
    return len(captured.captured_queries)


def test_schedule_queries_are_bounded_and_do_not_grow_with_rows(client, practice, low, django_assert_max_num_queries):
    one = PatientAccountFactory(practice=practice, patient_balance=Decimal("50.00"))
    mark_past_due(one)
    appointment(one)
    client.force_login(low)
    client.get(SCHEDULE)
    few = _queries(client)
    for _ in range(12):
        account = PatientAccountFactory(practice=practice, patient_balance=Decimal("75.00"))
        mark_past_due(account)
        appointment(account)
        appointment(account, days=2)
    # session, user, scope, practices, count, the page (flags joined in), audit
    with django_assert_max_num_queries(7):
        client.get(SCHEDULE)
    assert _queries(client) == few
