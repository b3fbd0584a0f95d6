"""The nightly job registry: a new job is one function and one decorator line.

    @nightly_job("promise_check", order=40, description="Promises to pay kept or broken")
    def promise_check(context: JobContext) -> dict[str, int]:
        ...  # set-based SQL over all practices, using context.practice_dates
        return {"kept": 12, "broken": 3}

Jobs live in each app's `jobs.py` (found by autodiscovery), run in `order`, and return counts.
The runner (in collections_app, with the JobRun rows) records one JobRun per (job, date) and skips a job already
done for that date, so a job need only be correct, not idempotent by itself... but each job is also
written so that running it twice changes nothing (belt and braces).
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date

from django.utils.module_loading import autodiscover_modules


@dataclass
class JobContext:
    as_of: date  # the run's business date (run_nightly --date, or the beat's date)
    # Each active practice's local "as of" date for this run (DESIGN.md: each practice's time zone).
    practice_dates: dict[int, date] = field(default_factory=dict)
    run: object | None = None  # the JobRun row, for progress reporting
    _progress: Callable[[int, int], None] | None = None

    def progress(self, done: int, total: int) -> None:
        if self._progress is not None:
            self._progress(done, total)


@dataclass(frozen=True)
class NightlyJob:
    name: str
    func: Callable[[JobContext], dict]
    order: int
    description: str


REGISTRY: dict[str, NightlyJob] = {}


def nightly_job(name: str, *, order: int, description: str = ""):
    def register(func):
        if name in REGISTRY and REGISTRY[name].func is not func:
            raise ValueError(f"Nightly job {name!r} is registered twice.")
        REGISTRY[name] = NightlyJob(name=name, func=func, order=order, description=description or (func.__doc__ or ""))
        return func

    return register


def registered_jobs() -> list[NightlyJob]:
    # Each installed app's `jobs` module registers its jobs when imported, as each app's `admin`
    # module does for the admin: Django's autodiscovery imports them (an app without one is skipped;
    # an error inside one is raised).
    autodiscover_modules("jobs")
    return sorted(REGISTRY.values(), key=lambda job: (job.order, job.name))


# Sections a higher layer adds to the jobs page (collections_app.nightly.views), which may not
# import it: the statement batches' printing progress (reports) registers here from its AppConfig.
# Each is a callable(request) -> str, the section's rendered HTML ("" to show nothing).
JOBS_PAGE_SECTIONS: list[Callable] = []


def jobs_page_section(render: Callable) -> Callable:
    if render not in JOBS_PAGE_SECTIONS:
        JOBS_PAGE_SECTIONS.append(render)
    return render


def jobs_page_sections(request) -> list[str]:
    return [html for html in (render(request) for render in JOBS_PAGE_SECTIONS) if html]
