"""One end-to-end run through a real Celery worker (PostgreSQL and Redis only)."""

import os
import signal
import subprocess
import sys
from datetime import date
from pathlib import Path
from urllib.parse import quote

import pytest
from django.db import connection

from collections_app.models import JobRun
from tests.conftest import post_visit
from tests.factories import PatientAccountFactory

ROOT = Path(__file__).resolve().parents[2]
CELERY = Path(sys.executable).with_name("celery")
DAY = date(2026, 11, 26)


def test_database_url() -> str:
    db = connection.settings_dict
    user = quote(db.get("USER") or "", safe="")
    password = f":{quote(db['PASSWORD'], safe='')}" if db.get("PASSWORD") else ""
    credentials = f"{user}{password}@" if user else ""
    return f"postgres://{credentials}{db.get('HOST') or '127.0.0.1'}:{db.get('PORT') or 5432}/{db['NAME']}"


test_database_url.__test__ = False  # a helper, not a test


@pytest.mark.postgres
@pytest.mark.filterwarnings(
    "ignore::celery.exceptions.AlwaysEagerIgnored", "ignore:Results are not stored:RuntimeWarning"
)
@pytest.mark.django_db(transaction=True)
def test_the_nightly_chain_runs_in_a_real_worker(practice, sqlite_flushable):
    if connection.vendor != "postgresql":
        pytest.skip("the worker needs a database it can share: PostgreSQL")
    if not os.environ.get("REDIS_URL"):
        pytest.skip("set REDIS_URL to run a real Celery worker")
    from config.celery import app

    account = PatientAccountFactory(practice=practice)
    post_visit(account, days_ago=100, charge="300.00", to_patient="120.00")  # committed: transactional test
    queue = f"nightly-test-{os.getpid()}"
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.local",
        "DATABASE_URL": test_database_url(),
        "CELERY_TASK_ALWAYS_EAGER": "0",
    }
    worker = subprocess.Popen(
        [
            str(CELERY),
            "-A",
            "config",
            "worker",
            "--pool",
            "solo",
            "-Q",
            queue,
            "--loglevel",
            "warning",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
            "-n",
            f"{queue}@%h",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        result = app.send_task(
            "collections_app.tasks.run_nightly_chain", kwargs={"as_of": DAY.isoformat()}, queue=queue
        )
        outcomes = result.get(timeout=180)
        assert {row["outcome"] for row in outcomes} == {"ran"}
        runs = JobRun.objects.filter(as_of=DAY)
        assert runs.count() == len(outcomes) >= 1
        assert set(runs.values_list("status", flat=True)) == {JobRun.Status.SUCCEEDED}
        assert runs.filter(job="aging_snapshot").exists()
        assert account.aging.patient_open > 0
    finally:
        os.killpg(worker.pid, signal.SIGTERM)
        try:
            worker.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(worker.pid, signal.SIGKILL)
            worker.wait()
        if worker.stdout:
            output = worker.stdout.read().decode(errors="replace")
            if output.strip():
                print(output[-4000:])
