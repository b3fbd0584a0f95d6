"""Days in AR and the returned-mail / appointment-flag report, on small books computed by hand."""

from datetime import datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from collections_app.models import ReturnedMail, WorkItem
from reports.framework import get_report, run_report
from tests.factories import PatientAccountFactory

pytestmark = pytest.mark.django_db
D = Decimal


def run(slug, user, **data):
    done = run_report(get_report(slug), user=user, data=data, fmt="json")
    assert done.ok, done.form.errors
    return done.result


def table(result, key):
    return next(t for t in result.tables if t.key == key)


def test_days_in_ar_is_ending_ar_over_average_daily_charges(account, manager):
    # `account`: charges of $300 (100 days ago) and $200 (45 days ago); $200 owed by the patient.
    today = timezone.localdate()
    last_90 = table(run("days-in-ar", manager, to=today.isoformat()), "practices")
    row = last_90.rows[0]
    assert row["charges"] == D("200.00")  # only the visit of 45 days ago falls in the last 90 days
    assert row["ar"] == D("200.00")
    assert row["daily"] == D("2.22")  # 200 / 90
    assert row["days"] == D("90.0")  # 200 / (200 / 90)
    last_120 = table(run("days-in-ar", manager, **{"from": (today - timedelta(days=119)).isoformat()}), "practices")
    assert last_120.rows[0]["charges"] == D("500.00")
    assert last_120.rows[0]["days"] == D("48.0")  # 200 / (500 / 120)


def test_days_in_ar_without_charges_has_no_figure(practice, manager):
    PatientAccountFactory(practice=practice)
    row = table(run("days-in-ar", manager), "practices").rows[0]
    assert row["charges"] == D("0.00") and row["days"] is None


def test_a_period_that_ends_before_it_starts_is_refused(manager):
    done = run_report(get_report("days-in-ar"), user=manager, data={"from": "2026-05-01", "to": "2026-04-01"})
    assert not done.ok and "from" in done.form.errors


@pytest.fixture
def mail_and_flags(account, practice):
    today = timezone.localdate()
    zone = ZoneInfo(practice.time_zone)

    def at_noon(days_ago):
        return datetime.combine(today - timedelta(days=days_ago), time(12), tzinfo=zone)

    def mail(received_days_ago, reason, resolved_days_ago=None, resolution=""):
        return ReturnedMail.objects.create(
            account=account,
            practice=practice,
            patient=account.patient,
            received_on=today - timedelta(days=received_days_ago),
            reason=reason,
            resolved_at=at_noon(resolved_days_ago) if resolved_days_ago is not None else None,
            resolution=resolution,
        )

    mail(20, "moved", 14, "address_corrected")  # 6 days
    mail(10, "moved", 8, "unable_to_locate")  # 2 days
    mail(5, "undeliverable")  # open
    mail(200, "refused", 190, "address_confirmed")  # before the period
    flag = WorkItem.Reason.APPOINTMENT_PAST_DUE
    WorkItem.objects.create(
        account=account, practice=practice, reason=flag, opened_on=today - timedelta(days=30), cleared_at=at_noon(27)
    )
    WorkItem.objects.create(account=account, practice=practice, reason=flag, opened_on=today - timedelta(days=3))
    WorkItem.objects.create(
        account=account, practice=practice, reason=WorkItem.Reason.PAST_DUE, opened_on=today - timedelta(days=3)
    )


def test_returned_mail_counts_and_days_to_resolve(mail_and_flags, manager):
    result = run("returned-mail", manager)
    mail = table(result, "mail").totals
    assert (mail["count"], mail["resolved"], mail["open"]) == (3, 2, 1)
    assert mail["average"] == D("4.0") and mail["median"] == D("4.0")
    reasons = {row["reason"]: row for row in table(result, "mail_reasons").rows}
    assert reasons["Moved, left no address"]["resolved"] == 2
    assert reasons["Undeliverable as addressed"]["open"] == 1
    resolutions = {row["resolution"]: row for row in table(result, "mail_resolutions").rows}
    assert resolutions["Address corrected"]["average"] == D("6.0")
    assert resolutions["Unable to locate"]["average"] == D("2.0")


def test_appointment_flags_counts_and_days_to_clear(mail_and_flags, manager):
    flags = table(run("returned-mail", manager), "flags").totals
    assert (flags["count"], flags["resolved"], flags["open"]) == (2, 1, 1)  # the past-due item is not a flag
    assert flags["average"] == D("3.0")


def test_resolved_after_the_period_counts_as_open(mail_and_flags, manager):
    today = timezone.localdate()
    mail = table(run("returned-mail", manager, to=(today - timedelta(days=12)).isoformat()), "mail").totals
    # By 12 days ago: the first mail (resolved 14 days ago) was resolved; the second came in 10 days ago.
    assert (mail["count"], mail["resolved"], mail["open"]) == (1, 1, 0)
