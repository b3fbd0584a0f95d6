"""The nightly runner: one JobRun per (job, date), skips, failures retried, time zones, progress."""

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from django.apps import apps
from django.db import OperationalError
from django.utils import timezone

from accounts.models import PatientAccount
from collections_app.models import JobRun
from collections_app.nightly import runner
from collections_app.nightly.runner import UnknownJobError, run_nightly
from core import nightly as registry
from core.nightly import JobContext, nightly_job, registered_jobs
from tests.conftest import post_visit
from tests.factories import PatientAccountFactory, PracticeFactory

DAY = date(2026, 11, 26)


@pytest.fixture
def only_these_jobs(db, monkeypatch):
    """An empty registry for the test's own jobs (the real ones are imported first, so they do not
    register themselves into it later)."""
    registered_jobs()
    monkeypatch.setattr(registry, "REGISTRY", {})
    monkeypatch.setattr(runner, "TRANSIENT_BACKOFF_SECONDS", 0)
    return registry.REGISTRY


def database_contents() -> dict[str, list]:
    """Every row of every table the jobs may touch, JobRun aside."""
    contents = {}
    for app_label in ("accounts", "collections_app", "payment_plans"):
        for model in apps.get_app_config(app_label).get_models():
            if model is JobRun:
                continue
            contents[model._meta.label] = list(model.objects.order_by("pk").values())
    return contents


@pytest.fixture
def small_book(practice, account, other_account, medium):
    second = PatientAccountFactory(practice=practice)
    post_visit(second, days_ago=130, charge="400.00", insurance_paid="100.00", to_patient="250.00")
    return practice


def test_running_every_job_twice_for_a_date_changes_nothing_the_second_time(small_book):
    as_of = timezone.localdate()
    first = run_nightly(as_of=as_of)
    assert [result.outcome for result in first] == ["ran"] * len(registered_jobs()), [r.line() for r in first]
    after_once = database_contents()
    second = run_nightly(as_of=as_of)
    assert database_contents() == after_once
    assert all(result.outcome == "skipped" for result in second)
    assert second[0].line() == f"aging_snapshot: skipped: already ran for {as_of}: nothing changed"
    assert JobRun.objects.filter(as_of=as_of, status=JobRun.Status.SUCCEEDED).count() == len(first)


def test_the_aging_snapshot_rerun_by_hand_changes_nothing(small_book):
    as_of = timezone.localdate()
    run_nightly(as_of=as_of, job="aging_snapshot")
    after_once = database_contents()
    JobRun.objects.all().delete()
    [result] = run_nightly(as_of=as_of, job="aging_snapshot")
    assert result.outcome == "ran"
    assert database_contents() == after_once


def test_every_job_rerun_by_hand_for_the_same_date_changes_nothing(small_book):
    """Belt and braces: with the JobRun rows gone, the jobs themselves find nothing left to do."""
    as_of = timezone.localdate()
    run_nightly(as_of=as_of)
    after_once = database_contents()
    JobRun.objects.all().delete()
    results = run_nightly(as_of=as_of)
    assert {result.outcome for result in results} == {"ran"}
    after_twice = database_contents()
    assert [name for name in after_once if after_once[name] != after_twice[name]] == []


def test_jobs_run_in_order_and_record_counts_and_duration(only_these_jobs):
    seen = []

    @nightly_job("second", order=20)
    def second(context):
        seen.append("second")
        return {"done": 2}

    @nightly_job("first", order=10)
    def first(context):
        seen.append("first")
        context.progress(1, 2)
        context.progress(2, 2)
        return {"done": 1}

    results = run_nightly(as_of=DAY)
    assert seen == ["first", "second"]
    assert [(result.job, result.outcome, result.counts) for result in results] == [
        ("first", "ran", {"done": 1}),
        ("second", "ran", {"done": 2}),
    ]
    run = JobRun.objects.get(job="first", as_of=DAY)
    assert run.status == JobRun.Status.SUCCEEDED
    assert run.counts == {"done": 1}
    assert run.duration_ms is not None and run.finished_at is not None
    assert (run.progress_done, run.progress_total) == (2, 2)


def test_job_option_runs_only_the_named_job(only_these_jobs):
    @nightly_job("one", order=10)
    def one(context):
        return {"n": 1}

    @nightly_job("two", order=20)
    def two(context):
        return {"n": 2}

    [result] = run_nightly(as_of=DAY, job="two")
    assert result.job == "two"
    assert list(JobRun.objects.values_list("job", flat=True)) == ["two"]


def test_an_unknown_job_name_lists_the_known_ones(only_these_jobs):
    @nightly_job("one", order=10)
    def one(context):
        return {}

    with pytest.raises(UnknownJobError, match=r"No nightly job named 'nope'\. Known jobs, in order: one\."):
        run_nightly(as_of=DAY, job="nope")
    assert not JobRun.objects.exists()


def test_a_failed_job_leaves_nothing_half_done_and_is_retried_next_time(only_these_jobs, account):
    broken = {"yes": True}

    @nightly_job("flaky", order=10)
    def flaky(context):
        PatientAccount.objects.filter(pk=account.pk).update(follow_up_on=DAY)
        if broken["yes"]:
            raise ValueError("ledger out of balance on row 17")
        return {"updated": 1}

    @nightly_job("after", order=20)
    def after(context):
        return {"ok": 1}

    results = run_nightly(as_of=DAY)
    assert [result.outcome for result in results] == ["failed", "ran"]
    run = JobRun.objects.get(job="flaky")
    assert run.status == JobRun.Status.FAILED
    assert run.error == "ValueError: ledger out of balance on row 17"
    account.refresh_from_db()
    assert account.follow_up_on is None  # rolled back

    broken["yes"] = False
    results = run_nightly(as_of=DAY)
    assert [result.outcome for result in results] == ["ran", "skipped"]
    run.refresh_from_db()
    assert (run.status, run.attempts, run.error, run.counts) == (JobRun.Status.SUCCEEDED, 2, "", {"updated": 1})
    account.refresh_from_db()
    assert account.follow_up_on == DAY


def test_the_error_recorded_is_the_first_line_only(only_these_jobs):
    @nightly_job("leaky", order=10)
    def leaky(context):
        raise RuntimeError("duplicate key value\nDETAIL:  Key (account_number)=(N0001234) already exists.")

    [result] = run_nightly(as_of=DAY)
    assert result.failed
    error = JobRun.objects.get(job="leaky").error
    assert error == "RuntimeError: duplicate key value"
    assert "N0001234" not in error


def test_a_transient_database_error_is_tried_again(only_these_jobs):
    calls = []

    @nightly_job("deadlocked", order=10)
    def deadlocked(context):
        calls.append(1)
        if len(calls) < 3:
            raise OperationalError("database is locked")
        return {"ok": 1}

    [result] = run_nightly(as_of=DAY)
    assert result.outcome == "ran"
    assert len(calls) == 3
    assert JobRun.objects.get(job="deadlocked").status == JobRun.Status.SUCCEEDED


def test_a_transient_error_that_persists_is_recorded_as_failed_and_transient(only_these_jobs):
    @nightly_job("always_locked", order=10)
    def always_locked(context):
        raise OperationalError("database is locked")

    [result] = run_nightly(as_of=DAY)
    assert result.failed and result.transient
    assert JobRun.objects.get(job="always_locked").error == "OperationalError: database is locked"


def test_a_job_running_in_another_worker_is_skipped_until_it_goes_stale(only_these_jobs):
    calls = []

    @nightly_job("busy", order=10)
    def busy(context):
        calls.append(1)
        return {}

    JobRun.objects.create(job="busy", as_of=DAY, status=JobRun.Status.RUNNING, started_at=timezone.now())
    [result] = run_nightly(as_of=DAY)
    assert result.outcome == "skipped"
    assert "another worker" in result.message
    assert calls == []

    JobRun.objects.filter(job="busy").update(started_at=timezone.now() - timedelta(hours=2))
    [result] = run_nightly(as_of=DAY)
    assert result.outcome == "ran"
    assert JobRun.objects.get(job="busy").attempts == 2


@pytest.mark.parametrize(
    ("now", "new_york", "los_angeles"),
    [
        # Summer (EDT, UTC-4): at 04:30 UTC New York is past midnight, Los Angeles is not.
        (datetime(2026, 7, 1, 4, 30, tzinfo=UTC), date(2026, 7, 1), date(2026, 6, 30)),
        # Winter (EST, UTC-5): at 04:30 UTC both are still on the 26th; at 05:30 New York moves on.
        (datetime(2026, 11, 27, 4, 30, tzinfo=UTC), date(2026, 11, 26), date(2026, 11, 26)),
        (datetime(2026, 11, 27, 5, 30, tzinfo=UTC), date(2026, 11, 27), date(2026, 11, 26)),
        (datetime(2026, 11, 27, 8, 30, tzinfo=UTC), date(2026, 11, 27), date(2026, 11, 27)),
    ],
)
def test_each_practice_gets_its_local_date_and_the_run_waits_for_the_last_one(
    only_these_jobs, now, new_york, los_angeles
):
    east = PracticeFactory(code="east", time_zone="America/New_York")
    west = PracticeFactory(code="west", time_zone="America/Los_Angeles", state="CA")
    PracticeFactory(code="closed", time_zone="Pacific/Honolulu", is_active=False)
    seen = {}

    @nightly_job("dates", order=10)
    def dates(context: JobContext):
        seen.update(as_of=context.as_of, practice_dates=dict(context.practice_dates))
        return {}

    [result] = run_nightly(now=now)
    assert seen["practice_dates"] == {east.pk: new_york, west.pk: los_angeles}
    assert seen["as_of"] == min(new_york, los_angeles)  # the date every practice has reached
    assert result.as_of == seen["as_of"]


def test_a_given_date_is_every_practices_date(only_these_jobs, practice, other_practice):
    seen = {}

    @nightly_job("dates", order=10)
    def dates(context: JobContext):
        seen.update(context.practice_dates)
        return {}

    run_nightly(as_of=DAY, now=datetime(2026, 7, 1, 4, 30, tzinfo=UTC))
    assert seen == {practice.pk: DAY, other_practice.pk: DAY}


def test_counts_that_are_not_numbers_are_stored_as_text(only_these_jobs):
    @nightly_job("money", order=10)
    def money(context):
        return {"amount": Decimal("12.50"), "n": 3}

    run_nightly(as_of=DAY)
    assert JobRun.objects.get(job="money").counts == {"amount": "12.50", "n": 3}
