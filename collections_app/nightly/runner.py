"""Run the nightly jobs: one JobRun row per (job, date), skips, retries, progress and the dates.

`run_nightly()` is the one entry point: `manage.py run_nightly`, the Celery tasks and the jobs
page's "run now" all call it, so the command line and the beat behave the same.

Dates. A practice's "today" is its own local date (DESIGN.md). Without `--date`, each active
practice's job context gets its local date at `now`, and the run's own date (the JobRun date) is
the EARLIEST of those local dates: the business date every practice has reached. So the run for
2026-11-27 happens once the westernmost practice has passed midnight (Los Angeles: 08:00 UTC,
03:00 in New York), never while a Los Angeles practice is still on the 26th. With the later date
instead, the run for the 27th would be marked done at 05:00 UTC with Los Angeles still on the
26th, and Los Angeles would never get a run on its 27th. The beat fires hourly, so every date's
run starts within an hour after the last practice's midnight; the hours before are no-ops (the
JobRun for yesterday already succeeded). With `--date D`, every practice uses D.

Each job runs in its own transaction: a failure rolls back everything it did and is recorded
(class and first line of the message only: database errors carry row values in their DETAIL
lines, which can be PHI). A failed run is retried by the next run for the same date.
"""

import logging
import time
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from django.db import (
    DEFAULT_DB_ALIAS,
    IntegrityError,
    OperationalError,
    close_old_connections,
    connection,
    connections,
    transaction,
)
from django.utils import timezone

from accounts.models import Practice
from collections_app.models import JobRun
from core.nightly import JobContext, NightlyJob, registered_jobs

logger = logging.getLogger(__name__)

# A job that hits a deadlock, a serialization failure or a dropped connection is tried again,
# this many times in all, waiting BACKOFF, 2 x BACKOFF, ... seconds between tries.
TRANSIENT_ATTEMPTS = 3
TRANSIENT_BACKOFF_SECONDS = 0.5
# PostgreSQL SQLSTATEs worth a retry: serialization failure, deadlock, lock not available.
TRANSIENT_SQLSTATES = {"40001", "40P01", "55P03"}
# A RUNNING row is another worker's only while its last sign of life (the progress heartbeat, else
# the start) is younger than the Celery hard time limit (settings.CELERY_TASK_TIME_LIMIT, 30 minutes)
# plus a margin: an older RUNNING row was left by a worker that died and is taken over.
STALE_RUNNING_AFTER = timedelta(minutes=35)
# Progress rows are written at most this often (plus the last step).
PROGRESS_INTERVAL_SECONDS = 1.0
ERROR_MAX_LENGTH = 500

RAN, SKIPPED, FAILED = "ran", "skipped", "failed"


class UnknownJobError(ValueError):
    """`--job NAME` named no registered job."""


@dataclass
class JobResult:
    job: str
    as_of: date
    outcome: str  # ran | skipped | failed
    message: str = ""
    counts: dict = field(default_factory=dict)
    duration_ms: int = 0
    attempts: int = 0
    run_id: int | None = None
    transient: bool = False  # failed on a deadlock/serialization/connection error: worth a retry

    @property
    def failed(self) -> bool:
        return self.outcome == FAILED

    def line(self) -> str:
        if self.outcome == RAN:
            counts = ", ".join(f"{key}={value}" for key, value in self.counts.items()) or "no counts"
            retry = f", attempt {self.attempts}" if self.attempts > 1 else ""
            return f"{self.job}: ran for {self.as_of} ({counts}) in {self.duration_ms} ms{retry}"
        if self.outcome == SKIPPED:
            return f"{self.job}: skipped: {self.message}"
        return f"{self.job}: FAILED for {self.as_of} after {self.duration_ms} ms: {self.message}"

    def as_dict(self) -> dict:
        data = asdict(self)
        data["as_of"] = self.as_of.isoformat()
        return data


# --- Dates ---------------------------------------------------------------------------------------


def practice_local_dates(now: datetime | None = None) -> dict[int, date]:
    """Each active practice's local date at `now` (default: this moment)."""
    now = now or timezone.now()
    rows = Practice.objects.filter(is_active=True).order_by("pk").values_list("pk", "time_zone")
    return {pk: now.astimezone(ZoneInfo(zone)).date() for pk, zone in rows}


def run_dates(*, as_of: date | None, now: datetime | None = None) -> tuple[date, dict[int, date]]:
    """(the run's date, each active practice's date) for a run: see the module docstring."""
    if as_of is not None:
        ids = Practice.objects.filter(is_active=True).order_by("pk").values_list("pk", flat=True)
        return as_of, dict.fromkeys(ids, as_of)
    local = practice_local_dates(now)
    if not local:
        return (now or timezone.now()).astimezone(ZoneInfo("UTC")).date(), {}
    return min(local.values()), local


# --- Selecting jobs -------------------------------------------------------------------------------


def select_jobs(name: str | None) -> list[NightlyJob]:
    jobs = registered_jobs()
    if name is None:
        return jobs
    chosen = [job for job in jobs if job.name == name]
    if not chosen:
        known = ", ".join(job.name for job in jobs) or "none registered"
        raise UnknownJobError(f"No nightly job named {name!r}. Known jobs, in order: {known}.")
    return chosen


# --- Errors ---------------------------------------------------------------------------------------


def is_transient(error: BaseException) -> bool:
    """A deadlock, serialization failure, lock timeout or lost connection: trying again may work."""
    if not isinstance(error, OperationalError):
        return False
    cause = error.__cause__ or error
    sqlstate = getattr(cause, "sqlstate", None)
    if sqlstate is not None:
        return sqlstate in TRANSIENT_SQLSTATES or sqlstate.startswith("08")
    if connection.vendor == "sqlite":
        return "locked" in str(error).lower()
    return True  # psycopg reports a dropped connection without a SQLSTATE


def describe_error(error: BaseException) -> str:
    """Class and first line of the message: never the DETAIL lines (they hold row values)."""
    first_line = (str(error).strip().splitlines() or [""])[0]
    text = f"{type(error).__name__}: {first_line}" if first_line else type(error).__name__
    return text[:ERROR_MAX_LENGTH]


# --- Progress -------------------------------------------------------------------------------------


class ProgressWriter:
    """Writes progress to the JobRun row where the jobs page can see it while the job runs.

    On PostgreSQL through a second, autocommit connection (the job's own transaction is not
    visible until it commits); on SQLite, which has one writer anyway, through the same connection.
    """

    def __init__(self, run_id: int):
        self.run_id = run_id
        self.last_write = 0.0
        self.total = 0
        self.side_connection = None

    def __call__(self, done: int, total: int) -> None:
        moment = time.monotonic()
        self.total = max(total, 0)
        if done < total and moment - self.last_write < PROGRESS_INTERVAL_SECONDS:
            return
        self.last_write = moment
        sql = (
            "UPDATE collections_app_jobrun SET progress_done = %s, progress_total = %s, heartbeat_at = %s WHERE id = %s"
        )
        params = [max(done, 0), max(total, 0), timezone.now(), self.run_id]
        try:
            if connection.vendor == "postgresql":
                if self.side_connection is None:
                    default = connections[DEFAULT_DB_ALIAS]
                    self.side_connection = default.Database.connect(**default.get_connection_params())
                    self.side_connection.autocommit = True
                self.side_connection.execute(sql, params)
            else:
                with connection.cursor() as cursor:
                    cursor.execute(sql, params)
        except Exception as error:  # progress is a courtesy: never fail a job over it
            logger.warning("nightly progress for run %s not written: %s", self.run_id, describe_error(error))

    def close(self) -> None:
        if self.side_connection is not None:
            try:
                self.side_connection.close()
            except Exception as error:
                logger.warning("nightly progress connection not closed: %s", describe_error(error))
            self.side_connection = None


# --- Claiming the JobRun row ------------------------------------------------------------------------


def claim_run(name: str, as_of: date) -> tuple[JobRun | None, str]:
    """The JobRun row this worker may run now, or (None, why not)."""
    now = timezone.now()
    with transaction.atomic():
        try:
            with transaction.atomic():
                run, created = JobRun.objects.select_for_update().get_or_create(
                    job=name, as_of=as_of, defaults={"status": JobRun.Status.RUNNING, "started_at": now}
                )
        except IntegrityError:  # another worker created it between our look and our insert
            run, created = JobRun.objects.select_for_update().get(job=name, as_of=as_of), False
        if created:
            return run, ""
        if run.status == JobRun.Status.SUCCEEDED:
            return None, f"already ran for {as_of}: nothing changed"
        last_sign_of_life = run.heartbeat_at or run.started_at
        if run.status == JobRun.Status.RUNNING and now - last_sign_of_life < STALE_RUNNING_AFTER:
            return None, f"running for {as_of} in another worker since {run.started_at:%H:%M:%S} UTC"
        # Failed before, or left RUNNING by a worker that died: try again.
        run.status = JobRun.Status.RUNNING
        run.attempts += 1
        run.started_at = now
        run.heartbeat_at = None
        run.finished_at = None
        run.duration_ms = None
        run.progress_done = run.progress_total = 0
        run.error = ""
        run.save()
        return run, ""


# --- Running -------------------------------------------------------------------------------------


def run_one(job: NightlyJob, *, as_of: date, practice_dates: dict[int, date]) -> JobResult:
    run, why_not = claim_run(job.name, as_of)
    if run is None:
        return JobResult(job=job.name, as_of=as_of, outcome=SKIPPED, message=why_not)
    progress = ProgressWriter(run.pk)
    started = time.monotonic()
    error: BaseException | None = None
    counts: dict = {}
    try:
        for attempt in range(1, TRANSIENT_ATTEMPTS + 1):
            context = JobContext(as_of=as_of, practice_dates=dict(practice_dates), run=run, _progress=progress)
            try:
                with transaction.atomic():
                    counts = job.func(context) or {}
                error = None
                break
            except Exception as caught:
                error = caught
                if not is_transient(caught) or attempt == TRANSIENT_ATTEMPTS:
                    break
                logger.warning(
                    "nightly job %s for %s: %s; trying again (%s of %s)",
                    job.name,
                    as_of,
                    describe_error(caught),
                    attempt + 1,
                    TRANSIENT_ATTEMPTS,
                )
                time.sleep(TRANSIENT_BACKOFF_SECONDS * 2 ** (attempt - 1))
                if not connection.in_atomic_block:
                    close_old_connections()  # a dropped connection is replaced on next use
    finally:
        progress.close()
    duration_ms = int((time.monotonic() - started) * 1000)
    finished = timezone.now()
    if error is None:
        counts = {str(key): _plain(value) for key, value in counts.items()}
        JobRun.objects.filter(pk=run.pk).update(
            status=JobRun.Status.SUCCEEDED,
            finished_at=finished,
            duration_ms=duration_ms,
            counts=counts,
            error="",
            progress_done=max(progress.total, 1),
            progress_total=max(progress.total, 1),
        )
        logger.info("nightly job %s for %s ran in %s ms: %s", job.name, as_of, duration_ms, counts)
        return JobResult(
            job=job.name,
            as_of=as_of,
            outcome=RAN,
            counts=counts,
            duration_ms=duration_ms,
            attempts=run.attempts,
            run_id=run.pk,
        )
    message = describe_error(error)
    JobRun.objects.filter(pk=run.pk).update(
        status=JobRun.Status.FAILED, finished_at=finished, duration_ms=duration_ms, error=message
    )
    logger.error("nightly job %s for %s failed: %s", job.name, as_of, message)
    return JobResult(
        job=job.name,
        as_of=as_of,
        outcome=FAILED,
        message=message,
        duration_ms=duration_ms,
        attempts=run.attempts,
        run_id=run.pk,
        transient=is_transient(error),
    )


def _plain(value):
    """Counts go into a JSON column: whole numbers stay numbers, anything else becomes text."""
    return value if isinstance(value, int | float | str | bool) or value is None else str(value)


def run_nightly(*, as_of: date | None = None, job: str | None = None, now: datetime | None = None) -> list[JobResult]:
    """Run every registered job in order (or only `job`) for `as_of` (default: tonight, by time
    zone; `now` stands in for the clock when working out the dates). A job that fails is recorded
    and the next ones still run: each job reads the book as it stands, and a failed one is retried
    by the next run for the date."""
    jobs = select_jobs(job)
    run_date, practice_dates = run_dates(as_of=as_of, now=now)
    return [run_one(entry, as_of=run_date, practice_dates=practice_dates) for entry in jobs]
