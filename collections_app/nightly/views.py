"""The jobs page: nightly run history, live progress of a running job, "run tonight's jobs now".

Job runs are global (one row per job and date, over all practices) and hold counts only, no PHI,
so the page needs the management tier and no practice scoping.
"""

from datetime import timedelta

from django import forms
from django.contrib import messages
from django.db import transaction
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from collections_app.models import JobRun
from collections_app.nightly.runner import run_dates
from collections_app.tasks import run_nightly_chain
from core.access import FieldGroup, requires
from core.audit import audit_record
from core.display import words
from core.models import AuditEvent
from core.nightly import jobs_page_sections, registered_jobs
from core.pagination import CappedPaginator, page_number

RUNS_PAGE_SIZE = 50
MESSAGE_RUN_QUEUED = "{count} of tonight's {total} jobs queued for {date}; their progress shows below. {done}"
MESSAGE_RUN_DONE_ALREADY = "Already done for the day"
MESSAGE_NOTHING_TO_RUN = (
    "Nothing to run: all {total} of tonight's jobs already ran for {date}. Each job runs once a day; the "
    "next run is for {next_date}."
)


class RunFilterForm(forms.Form):
    job = forms.ChoiceField(required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["job"].choices = [("", "All jobs")] + [(job.name, job_label(job)) for job in registered_jobs()]


def job_label(job) -> str:
    """A job as the office says it: its description, else its name spelled out."""
    return job.description or words(job.name)


def counts_text(counts: dict) -> str:
    """ "opened 316, cleared 0, opened past due 140": a run's counts in words, not its dict keys."""
    return ", ".join(
        f"{words(key).lower()} {value:,}" if isinstance(value, int) else f"{words(key).lower()} {value}"
        for key, value in counts.items()
    )


def duration_text(milliseconds: int | None) -> str:
    """ "850 ms", "12.4 s", "3 min 5 s"."""
    if milliseconds is None:
        return ""
    if milliseconds < 1000:
        return f"{milliseconds} ms"
    seconds = milliseconds / 1000
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, rest = divmod(round(seconds), 60)
    return f"{minutes} min {rest} s"


def runs_for(job_name: str = ""):
    runs = JobRun.objects.order_by("-as_of", "-started_at", "-id")
    return runs.filter(job=job_name) if job_name else runs


@requires(FieldGroup.MANAGEMENT)
def jobs_page(request):
    form = RunFilterForm(request.GET or None)
    job_name = form.cleaned_data["job"] if form.is_valid() else ""
    paginator = CappedPaginator(runs_for(job_name), RUNS_PAGE_SIZE)
    number = page_number(request.GET.get("page"))
    if number > paginator.num_pages:
        raise Http404("No such page.")
    page = paginator.page(number)
    jobs = registered_jobs()
    labels = {job.name: job_label(job) for job in jobs}
    runs = list(page.object_list)
    for run in runs:
        run.label = labels.get(run.job) or words(run.job)
        run.counts_text = counts_text(run.counts or {})
        run.duration_text = duration_text(run.duration_ms)
    context = {
        "form": form,
        "page": page,
        "runs": runs,
        "job_name": job_name,
        "job_label": labels.get(job_name, job_name),
        "jobs": jobs,
        "sections": jobs_page_sections(request),  # registered by higher layers (statement batches)
    }
    return render(request, "collections_app/jobs/jobs.html", context)


@requires(FieldGroup.MANAGEMENT)
def run_progress(request, pk: int):
    """The htmx partial for one run: polls itself every 2 s while the run is RUNNING; the finished
    version carries no trigger, so polling stops."""
    run = get_object_or_404(JobRun, pk=pk)
    return render(request, "collections_app/jobs/_run_status.html", {"run": run})


@require_POST
@requires(FieldGroup.MANAGEMENT)
def run_now(request):
    """Queue tonight's jobs, saying which will run and which already ran for the date."""
    run_date, _ = run_dates(as_of=None)
    registry = registered_jobs()
    jobs = [job.name for job in registry]
    label = {job.name: job_label(job) for job in registry}
    done = set(
        JobRun.objects.filter(as_of=run_date, job__in=jobs, status=JobRun.Status.SUCCEEDED).values_list(
            "job", flat=True
        )
    )
    day = run_date.strftime("%m/%d/%Y")
    if len(done) == len(jobs):
        next_day = (run_date + timedelta(days=1)).strftime("%m/%d/%Y")
        messages.info(request, MESSAGE_NOTHING_TO_RUN.format(total=len(jobs), date=day, next_date=next_day))
        return redirect("jobs")
    with transaction.atomic():
        audit_record(
            user=request.user,
            action=AuditEvent.Action.CREATE,
            object_type="collections_app.jobrun",
            field_group=FieldGroup.MANAGEMENT,
            detail={"action": "run_nightly_now", "as_of": run_date.isoformat(), "already_done": sorted(done)},
        )
        transaction.on_commit(lambda: run_nightly_chain.delay())
    skipped = f"{MESSAGE_RUN_DONE_ALREADY}: {'; '.join(label[job] for job in jobs if job in done)}." if done else ""
    messages.success(
        request, MESSAGE_RUN_QUEUED.format(count=len(jobs) - len(done), total=len(jobs), date=day, done=skipped).strip()
    )
    return redirect("jobs")
