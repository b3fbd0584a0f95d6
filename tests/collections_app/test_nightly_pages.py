"""The jobs page, the live progress partial, "run tonight's jobs now" and GET /api/jobs/runs/."""

from datetime import date, timedelta
from unittest import mock

import pytest
from django.urls import reverse
from django.utils import timezone

from collections_app.models import JobRun
from core.models import AuditEvent
from core.nightly import registered_jobs

DAY = date(2026, 11, 26)


@pytest.fixture
def runs(db):
    finished = timezone.now() - timedelta(minutes=5)
    done = JobRun.objects.create(
        job="aging_snapshot",
        as_of=DAY,
        status=JobRun.Status.SUCCEEDED,
        started_at=finished,
        finished_at=finished,
        duration_ms=812,
        counts={"accounts_owing": 1580},
        progress_done=4,
        progress_total=4,
    )
    running = JobRun.objects.create(
        job="queue_refresh", as_of=DAY, status=JobRun.Status.RUNNING, progress_done=3, progress_total=10
    )
    failed = JobRun.objects.create(
        job="promise_check", as_of=DAY, status=JobRun.Status.FAILED, attempts=2, error="ValueError: boom"
    )
    return {"done": done, "running": running, "failed": failed}


@pytest.mark.parametrize("persona", ["manager", "director"])
def test_management_sees_the_run_history(client, personas, runs, persona, django_assert_max_num_queries):
    client.force_login(personas[persona])
    with django_assert_max_num_queries(12):
        response = client.get(reverse("jobs"))
    assert response.status_code == 200
    content = response.content.decode()
    for name in ("aging_snapshot", "queue_refresh", "promise_check"):
        assert name in content
    assert "accounts owing 1,580" in content and "accounts_owing" not in content
    assert "812 ms" in content
    assert "ValueError: boom" in content
    assert 'hx-trigger="every 2s"' in content  # the running one polls
    assert "Nightly jobs</a>" in content  # the nav link


@pytest.mark.parametrize("persona", ["low", "medium", "outsider"])
def test_below_management_is_refused(client, personas, runs, persona):
    client.force_login(personas[persona])
    assert client.get(reverse("jobs")).status_code == 403
    assert client.get(reverse("jobs-run-progress", args=[runs["running"].pk])).status_code == 403
    assert client.post(reverse("jobs-run-now")).status_code == 403
    assert client.get(reverse("api-job-runs")).status_code == 403


def test_the_nav_link_is_for_management_only(client, medium, practice):
    client.force_login(medium)
    assert "Nightly jobs</a>" not in client.get(reverse("home")).content.decode()


def test_anonymous_users_are_sent_to_log_in(client, runs):
    response = client.get(reverse("jobs"))
    assert response.status_code == 302
    assert reverse("login") in response["Location"]


def test_filter_by_job(client, manager, runs):
    client.force_login(manager)
    content = client.get(reverse("jobs"), {"job": "queue_refresh"}).content.decode()
    assert "queue_refresh" in content
    assert "ValueError: boom" not in content
    assert "812 ms" not in content


def test_no_practice_data_is_shown(client, manager, account, runs):
    client.force_login(manager)
    content = client.get(reverse("jobs")).content.decode()
    assert account.account_number not in content
    assert account.patient.last_name not in content
    assert account.practice.name not in content.split("<main", 1)[-1]


def test_progress_partial_polls_while_running_and_stops_when_finished(client, manager, runs):
    client.force_login(manager)
    url = reverse("jobs-run-progress", args=[runs["running"].pk])
    content = client.get(url).content.decode()
    assert 'hx-trigger="every 2s"' in content
    assert f'hx-get="{url}"' in content
    assert "3 of 10" in content
    JobRun.objects.filter(pk=runs["running"].pk).update(status=JobRun.Status.SUCCEEDED, progress_done=10)
    content = client.get(url).content.decode()
    assert "hx-trigger" not in content
    assert "Succeeded" in content


def test_progress_of_no_such_run_is_404(client, manager, db):
    client.force_login(manager)
    assert client.get(reverse("jobs-run-progress", args=[999999])).status_code == 404


def test_run_now_enqueues_the_chain_after_commit_and_audits(client, manager, django_capture_on_commit_callbacks):
    client.force_login(manager)
    with (
        mock.patch("collections_app.tasks.run_nightly_chain.delay") as delay,
        django_capture_on_commit_callbacks(execute=True) as callbacks,
    ):
        response = client.post(reverse("jobs-run-now"))
    assert response.status_code == 302
    assert response["Location"] == reverse("jobs")
    assert len(callbacks) == 1
    delay.assert_called_once_with()
    event = AuditEvent.objects.get(detail__action="run_nightly_now")
    assert event.user == manager


def test_run_now_needs_post(client, manager):
    client.force_login(manager)
    assert client.get(reverse("jobs-run-now")).status_code == 405


def test_api_lists_runs_for_management(client, manager, runs, django_assert_max_num_queries):
    client.force_login(manager)
    with django_assert_max_num_queries(8):
        response = client.get(reverse("api-job-runs"))
    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 3
    by_job = {row["job"]: row for row in body["results"]}
    assert by_job["aging_snapshot"]["counts"] == {"accounts_owing": 1580}
    assert by_job["queue_refresh"]["progress_done"] == 3
    assert by_job["promise_check"]["attempts"] == 2


def test_api_filters_by_job_status_and_date(client, manager, runs):
    client.force_login(manager)
    url = reverse("api-job-runs")
    assert [row["job"] for row in client.get(url, {"job": "promise_check"}).json()["results"]] == ["promise_check"]
    assert [row["job"] for row in client.get(url, {"status": "running"}).json()["results"]] == ["queue_refresh"]
    assert client.get(url, {"as_of": "2026-11-25"}).json()["count"] == 0


def test_api_refuses_bad_filters(client, manager, runs):
    client.force_login(manager)
    response = client.get(reverse("api-job-runs"), {"status": "exploded", "as_of": "yesterday"})
    assert response.status_code == 400
    assert set(response.json()) >= {"status", "as_of"}


def _succeeded(job: str, as_of):
    now = timezone.now()
    return JobRun.objects.create(job=job, as_of=as_of, status=JobRun.Status.SUCCEEDED, started_at=now, finished_at=now)


def test_run_now_says_what_will_run_and_what_already_ran(client, manager, practice):
    from collections_app.nightly.runner import run_dates

    run_date, _ = run_dates(as_of=None)
    _succeeded("aging_snapshot", run_date)
    client.force_login(manager)
    with mock.patch("collections_app.tasks.run_nightly_chain.delay"):
        response = client.post(reverse("jobs-run-now"), follow=True)
    text = response.content.decode()
    total = len(registered_jobs())
    assert f"{total - 1} of tonight&#x27;s {total} jobs queued for {run_date:%m/%d/%Y}" in text
    assert "Already done for the day: Aging snapshot" in text


def test_run_now_when_everything_ran_says_so_and_queues_nothing(client, manager, practice):
    from collections_app.nightly.runner import run_dates

    run_date, _ = run_dates(as_of=None)
    for job in registered_jobs():
        _succeeded(job.name, run_date)
    client.force_login(manager)
    with mock.patch("collections_app.tasks.run_nightly_chain.delay") as delay:
        response = client.post(reverse("jobs-run-now"), follow=True)
    delay.assert_not_called()
    assert (
        f"Nothing to run: all {len(registered_jobs())} of tonight&#x27;s jobs already ran" in response.content.decode()
    )
    assert not AuditEvent.objects.filter(detail__action="run_nightly_now").exists()
