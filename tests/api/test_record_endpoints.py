"""One record of each kind the API listed only under its account, now readable by id: a promise to
pay, a logged contact and a hold (Medium and up); the statement print batches (Management and up:
counts, suppression reasons, progress, status, and a batch's statements); the index of reports.
Each: an allowed tier, a refused tier, another practice's user (404 or nothing)."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.selectors import practice_today
from collections_app.contacts import services as contacts
from collections_app.holds import services as holds
from collections_app.models import Contact
from core.models import AuditEvent, Tier
from reports.models import Statement, StatementBatch
from tests.factories import StaffUserFactory

pytestmark = pytest.mark.django_db


def api(user):
    client = APIClient()
    client.force_authenticate(user)
    return client


@pytest.fixture
def promise(medium, account, practice):
    return contacts.promise_create(
        acting_user=medium,
        account_id=account.pk,
        amount=Decimal("50.00"),
        due_on=practice_today(practice) + timedelta(days=7),
    )


@pytest.fixture
def contact(medium, account, practice):
    return Contact.objects.create(
        account=account,
        practice=practice,
        channel=Contact.Channel.OUTBOUND_CALL,
        party=Contact.Party.PATIENT,
        outcome=Contact.Outcome.LEFT_MESSAGE,
        notes="Asked for a call back.",
        occurred_at=timezone.now() - timedelta(hours=2),
        logged_by=medium,
    )


@pytest.fixture
def hold(medium, account):
    return holds.hold_place(acting_user=medium, account_id=account.pk, kind="dispute", dispute_kind="balance")


@pytest.fixture
def south_manager(other_practice):
    return StaffUserFactory(username="south-manager", tier=Tier.MANAGEMENT, practices=[other_practice])


# --- promises, contacts, holds by id -------------------------------------------------------------


RECORDS = [
    ("api-promise-detail", "promise", "collections_app.promisetopay"),
    ("api-contact-detail", "contact", "collections_app.contact"),
    ("api-hold-detail", "hold", "collections_app.accounthold"),
]


@pytest.mark.parametrize(("url_name", "fixture", "_label"), RECORDS)
@pytest.mark.parametrize("tier", ["medium", "manager", "director"])
def test_medium_and_up_read_the_record_by_id(request, tier, url_name, fixture, _label, account):
    record = request.getfixturevalue(fixture)
    response = api(request.getfixturevalue(tier)).get(reverse(url_name, args=[record.pk]))
    assert response.status_code == 200
    assert response.json()["id"] == record.pk and response.json()["account"] == account.pk


@pytest.mark.parametrize(("url_name", "fixture", "label"), RECORDS)
def test_reading_the_record_is_audited(request, medium, url_name, fixture, label, account):
    record = request.getfixturevalue(fixture)
    api(medium).get(reverse(url_name, args=[record.pk]))
    event = AuditEvent.objects.get(action=AuditEvent.Action.VIEW, object_type=label, object_id=str(record.pk))
    assert event.field_group == "billing" and event.detail == {"account_id": account.pk}


@pytest.mark.parametrize(("url_name", "fixture", "_label"), RECORDS)
def test_the_low_tier_is_refused_the_record(request, low, url_name, fixture, _label):
    record = request.getfixturevalue(fixture)
    assert api(low).get(reverse(url_name, args=[record.pk])).status_code == 403


@pytest.mark.parametrize(("url_name", "fixture", "_label"), RECORDS)
def test_another_practice_gets_404_for_the_record(request, outsider, url_name, fixture, _label):
    record = request.getfixturevalue(fixture)
    response = api(outsider).get(reverse(url_name, args=[record.pk]))
    assert response.status_code == 404
    assert response.json() == {"detail": "No such record in your practices."}


def test_a_promise_says_where_it_stands(medium, promise):
    body = api(medium).get(reverse("api-promise-detail", args=[promise.pk])).json()
    assert body["amount"] == "50.00" and body["status"] == "open" and body["resolved_on"] is None


def test_a_contact_shows_who_logged_it_and_its_notes(medium, contact):
    body = api(medium).get(reverse("api-contact-detail", args=[contact.pk])).json()
    assert (body["channel"], body["outcome"], body["logged_by"]) == ("outbound_call", "left_message", "medium")
    assert body["notes"] == "Asked for a call back."


def test_a_hold_shows_whether_it_is_in_force(medium, hold):
    url = reverse("api-hold-detail", args=[hold.pk])
    assert api(medium).get(url).json()["is_active"] is True
    holds.hold_release(acting_user=medium, hold_id=hold.pk, reason="Resolved with the patient.")
    body = api(medium).get(url).json()
    assert body["is_active"] is False and body["released_by"] == "medium"


# --- statement batches -----------------------------------------------------------------------------


def make_batch(practice, account, *, run_on, status=StatementBatch.Status.DONE, **fields):
    batch = StatementBatch.objects.create(
        practice=practice,
        run_on=run_on,
        status=status,
        statement_count=1,
        total_amount=Decimal("200.00"),
        suppressed={"On hold": 2, "Balance under the minimum": 3, "Cease communication": 0},
        chunk_count=4,
        chunks_done=4 if status == StatementBatch.Status.DONE else 1,
        **fields,
    )
    Statement.objects.create(
        account=account,
        practice=practice,
        guarantor=account.guarantor,
        batch=batch,
        kind=Statement.Kind.STATEMENT,
        statement_date=run_on,
        amount_due=Decimal("200.00"),
    )
    return batch


@pytest.fixture
def batch(practice, account):
    return make_batch(practice, account, run_on=practice_today(practice))


@pytest.mark.parametrize("tier", ["manager", "director"])
def test_management_lists_the_statement_batches_with_counts_and_progress(request, tier, batch):
    body = api(request.getfixturevalue(tier)).get(reverse("api-statement-batches")).json()
    [row] = body["results"]
    assert row["id"] == batch.pk and row["status"] == "done" and row["kind"] == "cycle"
    assert row["statement_count"] == 1 and row["total_amount"] == "200.00"
    assert row["suppressed"] == [
        {"reason": "On hold", "count": 2},
        {"reason": "Balance under the minimum", "count": 3},
    ]
    assert row["suppressed_total"] == 5 and row["percent_done"] == 100
    assert row["has_print_file"] is False and row["print_file_url"] is None


def test_the_batch_list_filters_by_status_kind_practice_and_date(manager, practice, account, batch):
    older = make_batch(
        practice,
        account,
        run_on=batch.run_on - timedelta(days=10),
        status=StatementBatch.Status.PRINTING,
        kind=StatementBatch.Kind.LETTERS,
    )
    client = api(manager)

    def ids(**query):
        return [row["id"] for row in client.get(reverse("api-statement-batches"), query).json()["results"]]

    assert ids() == [batch.pk, older.pk]
    assert ids(status="printing") == [older.pk]
    assert ids(kind="cycle") == [batch.pk]
    assert ids(practice=practice.pk) == [batch.pk, older.pk]
    assert ids(run_on_before=(batch.run_on - timedelta(days=1)).isoformat()) == [older.pk]
    assert client.get(reverse("api-statement-batches"), {"status": "lost"}).status_code == 400
    [printing] = [
        row for row in client.get(reverse("api-statement-batches")).json()["results"] if row["id"] == older.pk
    ]
    assert printing["percent_done"] == 25


@pytest.mark.parametrize("tier", ["low", "medium"])
def test_lower_tiers_are_refused_the_statement_batches(request, tier, batch):
    client = api(request.getfixturevalue(tier))
    assert client.get(reverse("api-statement-batches")).status_code == 403
    assert client.get(reverse("api-statement-batch-detail", args=[batch.pk])).status_code == 403


def test_another_practices_manager_sees_none_of_our_batches(south_manager, batch):
    assert api(south_manager).get(reverse("api-statement-batches")).json()["results"] == []
    response = api(south_manager).get(reverse("api-statement-batch-detail", args=[batch.pk]))
    assert response.status_code == 404


def test_one_batch_lists_its_statements_and_audits_each(manager, batch, account):
    body = api(manager).get(reverse("api-statement-batch-detail", args=[batch.pk])).json()
    assert body["id"] == batch.pk and body["statements_shown"] == 1
    [statement] = body["statements"]
    assert statement["account"] == account.pk and statement["amount_due"] == "200.00"
    event = AuditEvent.objects.get(action=AuditEvent.Action.VIEW, object_type="reports.statement")
    assert event.object_id == str(statement["id"])


def test_the_batch_list_runs_a_fixed_number_of_queries(
    manager, practice, account, batch, django_assert_max_num_queries
):
    for days in range(1, 9):
        make_batch(practice, account, run_on=batch.run_on - timedelta(days=days))
    client = api(manager)
    with django_assert_max_num_queries(6):
        body = client.get(reverse("api-statement-batches")).json()
    assert body["count"] == 9


# --- the index of reports ------------------------------------------------------------------------------


@pytest.mark.parametrize("tier", ["manager", "director"])
def test_management_lists_the_reports_it_may_run(request, tier):
    rows = api(request.getfixturevalue(tier)).get(reverse("api-report-list")).json()
    by_slug = {row["slug"]: row for row in rows}
    assert "aging" in by_slug
    assert by_slug["aging"]["url"] == reverse("api-report", args=["aging"])
    assert all(row["title"] and row["period"] in ("range", "as_of", "none") for row in rows)


def test_a_manager_is_not_offered_the_directors_reports(manager, director):
    managers = {row["slug"] for row in api(manager).get(reverse("api-report-list")).json()}
    directors = {row["slug"] for row in api(director).get(reverse("api-report-list")).json()}
    assert managers <= directors
    director_only = {row["slug"] for row in api(director).get(reverse("api-report-list")).json()} - managers
    for slug in director_only:
        assert api(manager).get(reverse("api-report", args=[slug])).status_code == 403


@pytest.mark.parametrize("tier", ["low", "medium", "outsider"])
def test_lower_tiers_are_refused_the_reports_index(request, tier):
    assert api(request.getfixturevalue(tier)).get(reverse("api-report-list")).status_code == 403
