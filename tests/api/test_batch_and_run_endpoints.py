"""Endpoints found missing in the audit of the issue's resource list: the batches placed with
agencies (list, and one with its accounts), one statement's record (beside its PDF), and the
nightly small-balance write-off runs (list, one with its requests, approve, discard). Each: an
allowed tier, a refused tier, another practice's user."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.jobs import refresh_aging
from accounts.ledger_check import ledger_mismatches
from accounts.models import PatientAccount
from accounts.selectors import practice_today
from collections_app.agencies import services as agencies
from core.models import AuditEvent, Tier
from reports.models import Statement
from tests.collections_app.agencies_support import make_agency, ready_account
from tests.conftest import post_visit
from tests.factories import PatientAccountFactory, StaffUserFactory
from writeoffs import services as writeoffs
from writeoffs.models import SmallBalanceRun, WriteOffRequest

pytestmark = pytest.mark.django_db


def api(user):
    client = APIClient()
    client.force_authenticate(user)
    return client


@pytest.fixture
def south_manager(other_practice):
    return StaffUserFactory(username="south-manager", tier=Tier.MANAGEMENT, practices=[other_practice])


# --- placement batches ------------------------------------------------------------------------------


@pytest.fixture
def batch(practice, manager):
    make_agency(practice)
    accounts = [ready_account(practice, account_number=f"B400000{n}") for n in (1, 2)]
    ids = [account.pk for account in accounts]
    preview = agencies.placement_preview(acting_user=manager, account_ids=ids)
    [batch] = agencies.placement_place(acting_user=manager, account_ids=ids, fingerprint=preview.fingerprint)
    return batch


@pytest.mark.parametrize("tier", ["manager", "director"])
def test_management_lists_the_placement_batches(request, tier, batch):
    [row] = api(request.getfixturevalue(tier)).get(reverse("api-placement-batches")).json()["results"]
    assert row["id"] == batch.pk and row["account_count"] == 2 and row["total"] == "1200.00"
    assert row["still_placed"] == 2 and row["agency_name"] == "Keystone Recovery"
    assert row["file_url"] == reverse("api-agency-file", args=[batch.file_id])


def test_one_batch_lists_its_accounts_and_audits_each_placement(manager, batch):
    agencies.placement_recall(acting_user=manager, placement_ids=[batch.placements.order_by("id").first().pk], note="")
    body = api(manager).get(reverse("api-placement-batch-detail", args=[batch.pk])).json()
    assert [row["account_number"] for row in body["placements"]] == ["B4000001", "B4000002"]
    assert body["still_placed"] == 1
    viewed = AuditEvent.objects.filter(action=AuditEvent.Action.VIEW, object_type="collections_app.placement")
    assert viewed.count() == 2


@pytest.mark.parametrize("tier", ["low", "medium"])
def test_lower_tiers_are_refused_the_placement_batches(request, tier, batch):
    client = api(request.getfixturevalue(tier))
    assert client.get(reverse("api-placement-batches")).status_code == 403
    assert client.get(reverse("api-placement-batch-detail", args=[batch.pk])).status_code == 403


def test_another_practices_manager_gets_none_of_our_placement_batches(south_manager, batch):
    client = api(south_manager)
    assert client.get(reverse("api-placement-batches")).json()["results"] == []
    assert client.get(reverse("api-placement-batch-detail", args=[batch.pk])).status_code == 404


def test_the_placement_batch_list_runs_a_fixed_number_of_queries(
    practice, manager, batch, django_assert_max_num_queries
):
    for n in range(5):
        account = ready_account(practice, account_number=f"B41{n:05d}")
        preview = agencies.placement_preview(acting_user=manager, account_ids=[account.pk])
        agencies.placement_place(acting_user=manager, account_ids=[account.pk], fingerprint=preview.fingerprint)
    client = api(manager)
    with django_assert_max_num_queries(6):
        body = client.get(reverse("api-placement-batches")).json()
    assert body["count"] == 6


# --- one statement ------------------------------------------------------------------------------------


@pytest.fixture
def statement(account, practice):
    return Statement.objects.create(
        account=account,
        practice=practice,
        guarantor=account.guarantor,
        kind=Statement.Kind.STATEMENT,
        statement_date=practice_today(practice),
        amount_due=Decimal("200.00"),
        mailed_on=practice_today(practice),
    )


@pytest.mark.parametrize("tier", ["medium", "manager", "director"])
def test_medium_and_up_read_one_statement(request, tier, statement, account):
    body = api(request.getfixturevalue(tier)).get(reverse("api-statement-detail", args=[statement.pk])).json()
    assert body["id"] == statement.pk and body["account"] == account.pk and body["amount_due"] == "200.00"
    assert body["has_document"] is False


def test_reading_a_statement_is_audited(medium, statement, account):
    api(medium).get(reverse("api-statement-detail", args=[statement.pk]))
    event = AuditEvent.objects.get(action=AuditEvent.Action.VIEW, object_type="reports.statement")
    assert event.object_id == str(statement.pk) and event.detail == {"account_id": account.pk}


def test_the_low_tier_is_refused_a_statement(low, statement):
    assert api(low).get(reverse("api-statement-detail", args=[statement.pk])).status_code == 403


def test_another_practice_gets_404_for_a_statement(outsider, statement):
    assert api(outsider).get(reverse("api-statement-detail", args=[statement.pk])).status_code == 404


# --- small-balance runs -----------------------------------------------------------------------------


def small(practice, owed: str, number: str) -> PatientAccount:
    """An account owing `owed` on a 200-day-old visit, untouched for 90 days."""
    account = PatientAccountFactory(practice=practice, account_number=number)
    post_visit(account, days_ago=200, charge="100.00", insurance_paid=str(100 - Decimal(owed)), to_patient=owed)
    PatientAccount.objects.filter(pk=account.pk).update(updated_at=timezone.now() - timedelta(days=90))
    return account


@pytest.fixture
def run(practice):
    small(practice, "8.00", "R5000001")
    small(practice, "6.50", "R5000002")
    today = practice_today(practice)
    refresh_aging({practice.pk: today})
    run = writeoffs.small_balance_run_create(practice=practice, as_of=today, auto_post=False)
    assert run.requests.count() == 2
    return run


def balances(practice):
    return dict(
        PatientAccount.objects.filter(account_number__startswith="R5").values_list("account_number", "patient_balance")
    )


@pytest.mark.parametrize("tier", ["manager", "director"])
def test_management_lists_the_small_balance_runs(request, tier, run):
    [row] = api(request.getfixturevalue(tier)).get(reverse("api-small-balance-runs")).json()["results"]
    assert row["id"] == run.pk and row["status"] == "preview"
    assert row["account_count"] == 2 and row["total"] == "14.50"


def test_the_run_list_filters_by_status_and_night(manager, run, practice):
    client = api(manager)
    url = reverse("api-small-balance-runs")
    assert [r["id"] for r in client.get(url, {"status": "preview"}).json()["results"]] == [run.pk]
    assert client.get(url, {"status": "posted"}).json()["results"] == []
    assert client.get(url, {"run_on_before": (run.run_on - timedelta(days=1)).isoformat()}).json()["results"] == []
    assert [r["id"] for r in client.get(url, {"practice": practice.pk}).json()["results"]] == [run.pk]
    assert client.get(url, {"status": "maybe"}).status_code == 400


def test_one_run_lists_its_requests_and_audits_each(manager, run):
    body = api(manager).get(reverse("api-small-balance-run", args=[run.pk])).json()
    assert body["requests_shown"] == 2
    assert sorted(r["account_number"] for r in body["requests"]) == ["R5000001", "R5000002"]
    viewed = AuditEvent.objects.filter(action=AuditEvent.Action.VIEW, object_type="writeoffs.writeoffrequest")
    assert viewed.count() == 2


def test_a_manager_approves_a_run_and_its_write_offs_post(manager, run, practice):
    response = api(manager).post(reverse("api-small-balance-run-approve", args=[run.pk]))
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "posted" and body["posted_count"] == 2 and body["posted_total"] == "14.50"
    assert body["left_out"] == [] and body["decided_by"] == "manager"
    assert set(balances(practice).values()) == {Decimal("0.00")}
    mismatches, _ = ledger_mismatches()
    assert mismatches == []
    again = api(manager).post(reverse("api-small-balance-run-approve", args=[run.pk]))
    assert again.status_code == 400


def test_a_manager_discards_a_run_with_a_reason_and_nothing_posts(manager, run, practice):
    url = reverse("api-small-balance-run-discard", args=[run.pk])
    missing = api(manager).post(url, {}, format="json")
    assert missing.status_code == 400 and "reason" in missing.json()
    response = api(manager).post(url, {"reason": "Statements go out this week first."}, format="json")
    assert response.status_code == 200 and response.json()["status"] == "discarded"
    assert set(WriteOffRequest.objects.filter(small_balance_run=run).values_list("status", flat=True)) == {"denied"}
    assert balances(practice) == {"R5000001": Decimal("8.00"), "R5000002": Decimal("6.50")}


@pytest.mark.parametrize("tier", ["low", "medium"])
def test_lower_tiers_are_refused_the_runs(request, tier, run):
    client = api(request.getfixturevalue(tier))
    assert client.get(reverse("api-small-balance-runs")).status_code == 403
    assert client.get(reverse("api-small-balance-run", args=[run.pk])).status_code == 403
    assert client.post(reverse("api-small-balance-run-approve", args=[run.pk])).status_code == 403
    assert client.post(reverse("api-small-balance-run-discard", args=[run.pk]), {"reason": "No."}).status_code == 403
    assert SmallBalanceRun.objects.get(pk=run.pk).status == "preview"


def test_another_practices_manager_cannot_reach_our_run(south_manager, run):
    client = api(south_manager)
    assert client.get(reverse("api-small-balance-runs")).json()["results"] == []
    assert client.get(reverse("api-small-balance-run", args=[run.pk])).status_code == 404
    assert client.post(reverse("api-small-balance-run-approve", args=[run.pk])).status_code == 404
    assert client.post(reverse("api-small-balance-run-discard", args=[run.pk]), {"reason": "No."}).status_code == 404
    assert SmallBalanceRun.objects.get(pk=run.pk).status == "preview"


def test_the_run_list_runs_a_fixed_number_of_queries(manager, practice, django_assert_max_num_queries):
    today = practice_today(practice)
    for days in range(6):
        SmallBalanceRun.objects.create(practice=practice, run_on=today - timedelta(days=days))
    client = api(manager)
    with django_assert_max_num_queries(6):
        body = client.get(reverse("api-small-balance-runs")).json()
    assert body["count"] == 6
