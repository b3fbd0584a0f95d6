"""Endpoints added to make every resource readable through the API: one write-off request, the
nightly jobs and one of their runs. Each: an allowed tier, a refused tier, another practice."""

from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from collections_app.models import JobRun
from core.models import AuditEvent
from writeoffs import services as writeoff_services
from writeoffs.models import Reason

pytestmark = pytest.mark.django_db


def _client(user):
    client = APIClient()
    client.force_authenticate(user)
    return client


@pytest.fixture
def writeoff(medium, account):
    return writeoff_services.writeoff_propose(
        acting_user=medium, account_id=account.pk, amount=Decimal("10.00"), reason=Reason.SMALL_BALANCE
    )


@pytest.fixture
def run(db):
    now = timezone.now()
    return JobRun.objects.create(
        job="promise_check",
        as_of=timezone.localdate(),
        status=JobRun.Status.SUCCEEDED,
        started_at=now,
        finished_at=now,
        counts={"kept": 2, "broken": 1},
    )


# --- GET /api/writeoffs/<id>/ ---------------------------------------------------------------------


@pytest.mark.parametrize("tier", ["medium", "manager", "director"])
def test_a_rep_and_up_read_one_write_off_request(request, tier, writeoff, account):
    response = _client(request.getfixturevalue(tier)).get(reverse("api-writeoff-detail", args=[writeoff.pk]))
    assert response.status_code == 200
    body = response.json()
    assert body["id"] == writeoff.pk and body["account_number"] == account.account_number
    assert body["amount"] == "10.00" and body["status"] == "proposed"


def test_reading_a_write_off_request_is_audited(medium, writeoff):
    _client(medium).get(reverse("api-writeoff-detail", args=[writeoff.pk]))
    assert AuditEvent.objects.filter(action=AuditEvent.Action.VIEW, object_id=str(writeoff.pk)).exists()


def test_the_low_tier_is_refused_a_write_off_request(low, writeoff):
    assert _client(low).get(reverse("api-writeoff-detail", args=[writeoff.pk])).status_code == 403


def test_another_practice_gets_404_for_a_write_off_request(outsider, writeoff):
    response = _client(outsider).get(reverse("api-writeoff-detail", args=[writeoff.pk]))
    assert response.status_code == 404
    assert response.json() == {"detail": "No such record in your practices."}


# --- GET /api/jobs/ and /api/jobs/runs/<id>/ ---------------------------------------------------------


def test_a_manager_lists_the_nightly_jobs_in_the_order_they_run(manager):
    jobs = _client(manager).get(reverse("api-jobs")).json()
    names = [job["name"] for job in jobs]
    assert "aging_snapshot" in names and "api_token_purge" in names
    assert [job["order"] for job in jobs] == sorted(job["order"] for job in jobs)
    assert all(job["description"] for job in jobs)


def test_a_manager_reads_one_run_with_its_counts(manager, run):
    body = _client(manager).get(reverse("api-job-run", args=[run.pk])).json()
    assert body["job"] == "promise_check" and body["counts"] == {"kept": 2, "broken": 1}


def test_an_unknown_run_is_a_json_404(manager, run):
    response = _client(manager).get(reverse("api-job-run", args=[run.pk + 1000]))
    assert response.status_code == 404 and "detail" in response.json()


@pytest.mark.parametrize("url_name", ["api-jobs", "api-job-run"])
@pytest.mark.parametrize("tier", ["low", "medium", "outsider"])
def test_the_jobs_are_for_management_and_up(request, tier, url_name, run):
    args = [run.pk] if url_name == "api-job-run" else []
    assert _client(request.getfixturevalue(tier)).get(reverse(url_name, args=args)).status_code == 403
