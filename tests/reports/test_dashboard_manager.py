"""The manager's dashboard: each practice's collection rate against target from the nightly
snapshot, AR by bucket from the nightly aging, write-offs waiting, the team's work; the nightly
snapshot job; and a query count that does not grow with practices or ledger rows."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.models import PracticeAgingSnapshot, Transaction
from core.models import Tier
from core.nightly import JobContext, registered_jobs
from reports.jobs import collection_rate_snapshot, refresh_collection_rates
from reports.metrics import add_months, month_start
from reports.models import CollectionRateSnapshot
from tests.factories import PatientAccountFactory, PracticeFactory, StaffUserFactory
from writeoffs.models import WriteOffRequest

pytestmark = pytest.mark.django_db

Kind = Transaction.Kind


def month_of_ledger(practice, first: date, *, charged="1000.00", paid="940.00"):
    """A month at `practice`: a charge and an insurance payment on its 10th."""
    account = PatientAccountFactory(practice=practice)
    on = first + timedelta(days=9)
    Transaction.objects.create(account=account, kind=Kind.CHARGE, effective_on=on, insurance_amount=Decimal(charged))
    Transaction.objects.create(
        account=account, kind=Kind.INSURANCE_PAYMENT, effective_on=on, insurance_amount=-Decimal(paid)
    )
    return account


def page(client, user):
    client.force_login(user)
    return client.get(reverse("home"))


@pytest.fixture
def last_month(practice):
    return add_months(month_start(timezone.localdate()), -1)


def test_collection_rate_snapshot_job_is_registered_and_idempotent(practice, last_month):
    assert "collection_rate_snapshot" in {job.name for job in registered_jobs()}
    month_of_ledger(practice, last_month)
    today = timezone.localdate()
    first = collection_rate_snapshot(JobContext(as_of=today, practice_dates={practice.pk: today}))
    rows = {s.month: (s.charges, s.payments, s.net_rate) for s in CollectionRateSnapshot.objects.all()}
    assert first["months_written"] == 13  # the first night fills the year and this month
    assert rows[last_month] == (Decimal("1000.00"), Decimal("940.00"), Decimal("94.00"))
    again = refresh_collection_rates({practice.pk: today})
    assert again["months_written"] == 6  # then the months that can still change
    assert {s.month: (s.charges, s.payments, s.net_rate) for s in CollectionRateSnapshot.objects.all()} == rows


def test_manager_sees_each_practices_rate_against_target_from_the_snapshot(client, practice, manager, last_month):
    practice.target_collection_rate = Decimal("95.00")
    practice.save()
    month_of_ledger(practice, last_month)
    today = timezone.localdate()
    refresh_collection_rates({practice.pk: today})
    response = page(client, manager)
    assert response.status_code == 200
    (trend,) = response.context["rates"]
    assert (trend.net["month"], trend.net["rate"], trend.net["gap_text"]) == (
        last_month,
        Decimal("94.00"),
        "▼ 1.0 pts below target",
    )
    html = response.content.decode()
    assert 'data-practice-rate="north"' in html and "94.0%" in html and "1.0 pts below target" in html
    assert "collection rate by month against target" in html  # the trend chart's title
    assert 'hx-get="/?section=team"' in html  # the team's work loads after the page


def test_the_trend_reads_the_snapshot_not_the_ledger(client, practice, manager, last_month):
    CollectionRateSnapshot.objects.create(
        practice=practice, month=last_month, as_of=timezone.localdate(), net_rate=Decimal("97.25"), target=Decimal("95")
    )
    response = page(client, manager)
    assert response.context["rates"][0].net["rate"] == Decimal("97.25")
    assert "▲ 2.3 pts above target" in response.content.decode()


def test_ar_by_bucket_comes_from_the_latest_nightly_aging(client, practice, manager):
    today = timezone.localdate()
    for as_of, amount in ((today - timedelta(days=1), "999.00"), (today, "120.00")):
        PracticeAgingSnapshot.objects.create(
            practice=practice,
            as_of=as_of,
            bucket="0-30",
            patient_amount=amount,
            insurance_amount="30.00",
            account_count=2,
        )
        PracticeAgingSnapshot.objects.create(
            practice=practice, as_of=as_of, bucket="121+", patient_amount="50.00", account_count=1
        )
    aging = page(client, manager).context["aging"]
    assert aging.as_of == today
    buckets = {b["bucket"]: b for b in aging.buckets}
    assert (buckets["0-30"]["patient"], buckets["0-30"]["insurance"], buckets["0-30"]["accounts"]) == (
        Decimal("120.00"),
        Decimal("30.00"),
        2,
    )
    assert aging.total == Decimal("200.00")


def test_write_offs_waiting_show_count_total_and_oldest(client, practice, other_practice, manager, medium, account):
    for amount in ("12.50", "40.00"):
        WriteOffRequest.objects.create(
            practice=practice, account=account, amount=Decimal(amount), reason="bad_debt", requested_by=medium
        )
    elsewhere = PatientAccountFactory(practice=other_practice)
    WriteOffRequest.objects.create(
        practice=other_practice, account=elsewhere, amount=Decimal("99.00"), reason="bad_debt"
    )
    approvals = page(client, manager).context["approvals"]
    assert (approvals["count"], approvals["total"]) == (2, Decimal("52.50"))
    assert approvals["oldest_requested_at"] is not None


def test_another_practices_manager_sees_none_of_this_practices_figures(client, practice, other_practice, last_month):
    month_of_ledger(practice, last_month)
    refresh_collection_rates({practice.pk: timezone.localdate()})
    south = StaffUserFactory(username="south-manager", tier=Tier.MANAGEMENT, practices=[other_practice])
    response = page(client, south)
    assert [trend.practice for trend in response.context["rates"]] == [other_practice]
    assert "Northside Pediatrics" not in response.content.decode()


def test_a_rep_keeps_the_reps_dashboard(client, practice, medium):
    response = page(client, medium)
    assert response.status_code == 200
    assert "rates" not in response.context and "collection-rates" not in response.content.decode()
    assert response.templates[0].name == "collections_app/home.html"


@pytest.mark.parametrize("practices", [1, 4])
def test_dashboard_queries_do_not_grow_with_practices_or_months(client, practices, django_assert_max_num_queries):
    offices = [PracticeFactory(code=f"office{n}") for n in range(practices)]
    boss = StaffUserFactory(username="boss", tier=Tier.MANAGEMENT, practices=offices)
    first = add_months(month_start(timezone.localdate()), -12)
    for office in offices:
        for n in range(12):
            month_of_ledger(office, add_months(first, n))
    refresh_collection_rates({office.pk: timezone.localdate() for office in offices})
    client.force_login(boss)
    client.get(reverse("home"))
    # Sign-in and session, the practice dashboard's 4 (collections_app), and 3 of the manager's
    # dashboard: the rate snapshots, the latest aging, the write-offs waiting.
    with django_assert_max_num_queries(12):
        response = client.get(reverse("home"))
    assert response.status_code == 200
    assert response.content.decode().count("data-practice-rate=") == practices
