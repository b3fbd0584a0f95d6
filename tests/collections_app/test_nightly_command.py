"""`manage.py run_nightly`: one line per job, exit codes, clear errors for bad input."""

from datetime import date
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connections

from collections_app.management.commands.run_nightly import Command
from collections_app.models import JobRun
from collections_app.nightly import runner
from core import nightly as registry
from core.nightly import nightly_job, registered_jobs


@pytest.fixture
def jobs(db, monkeypatch):
    registered_jobs()
    monkeypatch.setattr(registry, "REGISTRY", {})
    monkeypatch.setattr(runner, "TRANSIENT_BACKOFF_SECONDS", 0)
    state = {"fail": False}

    @nightly_job("count_things", order=10)
    def count_things(context):
        return {"things": 3}

    @nightly_job("maybe_fail", order=20)
    def maybe_fail(context):
        if state["fail"]:
            raise ValueError("the upstream file is missing")
        return {"done": 1}

    return state


@pytest.fixture
def keep_connection(monkeypatch):
    """run_from_argv closes every connection when it ends: that would end the test's transaction."""
    monkeypatch.setattr(connections, "close_all", lambda: None)


def run(*args) -> str:
    out = StringIO()
    call_command("run_nightly", *args, stdout=out)
    return out.getvalue()


def test_prints_one_line_per_job_with_counts_and_time(jobs):
    lines = run("--date", "2026-11-26").splitlines()
    assert len(lines) == 2
    assert lines[0].startswith("count_things: ran for 2026-11-26 (things=3) in ")
    assert lines[0].endswith(" ms")
    assert lines[1].startswith("maybe_fail: ran for 2026-11-26 (done=1) in ")


def test_a_second_run_for_the_date_says_it_skipped(jobs):
    run("--date", "2026-11-26")
    lines = run("--date", "2026-11-26").splitlines()
    assert lines == [
        "count_things: skipped: already ran for 2026-11-26: nothing changed",
        "maybe_fail: skipped: already ran for 2026-11-26: nothing changed",
    ]


def test_job_option_runs_one_job(jobs):
    assert run("--date", "2026-11-26", "--job", "maybe_fail").startswith("maybe_fail: ran")
    assert list(JobRun.objects.values_list("job", flat=True)) == ["maybe_fail"]


def test_a_failed_job_exits_non_zero_and_is_named(jobs, capsys, keep_connection):
    jobs["fail"] = True
    with pytest.raises(SystemExit) as exit_info:
        Command().run_from_argv(["manage.py", "run_nightly", "--date", "2026-11-26"])
    assert exit_info.value.code == 1
    captured = capsys.readouterr()
    assert "maybe_fail: FAILED for 2026-11-26" in captured.out
    assert "ValueError: the upstream file is missing" in captured.out
    assert "1 nightly job(s) failed: maybe_fail" in captured.err
    assert JobRun.objects.get(job="maybe_fail").status == JobRun.Status.FAILED


def test_a_bad_date_is_a_clear_error(jobs, capsys, keep_connection):
    with pytest.raises(CommandError, match="'2026-02-30' is not a date; use YYYY-MM-DD"):
        run("--date", "2026-02-30")
    with pytest.raises(SystemExit) as exit_info:
        Command().run_from_argv(["manage.py", "run_nightly", "--date", "26/11/2026"])
    assert exit_info.value.code != 0
    assert "is not a date" in capsys.readouterr().err
    assert not JobRun.objects.exists()


def test_an_unknown_job_is_a_clear_error_listing_the_jobs(jobs):
    with pytest.raises(CommandError, match="Known jobs, in order: count_things, maybe_fail"):
        run("--job", "nope")


def test_without_a_date_it_runs_for_tonight(jobs, practice):
    output = run("--job", "count_things")
    assert output.startswith("count_things: ran for ")
    assert JobRun.objects.get().as_of <= date.today()
