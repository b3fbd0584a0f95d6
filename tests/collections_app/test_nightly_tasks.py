"""The Celery tasks around the runner: results as JSON, failures raised for Celery to see."""

import json

import pytest
from django.db import OperationalError

from collections_app import tasks
from collections_app.models import JobRun
from collections_app.nightly import runner
from core import nightly as registry
from core.nightly import nightly_job, registered_jobs


@pytest.fixture
def jobs(db, monkeypatch):
    registered_jobs()
    monkeypatch.setattr(registry, "REGISTRY", {})
    monkeypatch.setattr(runner, "TRANSIENT_BACKOFF_SECONDS", 0)
    state = {"error": None}

    @nightly_job("first", order=10)
    def first(context):
        return {"n": 1}

    @nightly_job("second", order=20)
    def second(context):
        if state["error"] is not None:
            raise state["error"]
        return {"n": 2}

    return state


def test_the_chain_runs_every_job_and_returns_json(jobs):
    result = tasks.run_nightly_chain.apply(kwargs={"as_of": "2026-11-26"}).get()
    assert [(row["job"], row["outcome"], row["as_of"]) for row in result] == [
        ("first", "ran", "2026-11-26"),
        ("second", "ran", "2026-11-26"),
    ]
    json.dumps(result)  # the result backend stores JSON
    again = tasks.run_nightly_chain.apply(kwargs={"as_of": "2026-11-26"}).get()
    assert {row["outcome"] for row in again} == {"skipped"}


def test_one_job_task_runs_only_that_job(jobs):
    [row] = tasks.run_nightly_job.apply(args=["second", "2026-11-26"]).get()
    assert row["job"] == "second"
    assert list(JobRun.objects.values_list("job", flat=True)) == ["second"]


def test_a_failed_job_fails_the_task_after_the_others_ran(jobs):
    jobs["error"] = ValueError("bad input file")
    with pytest.raises(tasks.NightlyJobFailed, match="second: FAILED for 2026-11-26"):
        tasks._results("2026-11-26", None)
    assert JobRun.objects.get(job="first").status == JobRun.Status.SUCCEEDED
    assert JobRun.objects.get(job="second").status == JobRun.Status.FAILED


def test_a_transient_failure_asks_celery_to_retry(jobs):
    jobs["error"] = OperationalError("database is locked")
    with pytest.raises(tasks.NightlyJobInterrupted):
        tasks._results("2026-11-26", None)
    assert tasks.NightlyJobInterrupted in tasks.run_nightly_chain.autoretry_for


def test_the_beat_runs_the_chain_hourly_and_still_clears_sessions():
    from config.celery import app

    schedule = app.conf.beat_schedule
    assert schedule["nightly-jobs"]["task"] == "collections_app.tasks.run_nightly_chain"
    assert schedule["clear-expired-sessions"]["task"] == "collections_app.tasks.clear_expired_sessions"
