"""Work queue pages: my queue, "Next account", the claim bar on the account page, the team's
queues, reassigning an account and assigning reps to practices and buckets.

Thin views: the declared field group, a scoped selector or a service, a render, the audit row.
"""

from zoneinfo import ZoneInfo

from django import forms
from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.views.decorators.http import require_POST

from accounts.models import PatientAccount
from accounts.selectors import practice_list
from collections_app.models import QueueEntry, RepAssignment
from collections_app.queues import selectors, services
from collections_app.queues.forms import QueueFilterForm
from core.access import FieldGroup, get_scoped_or_404, practice_ids_for, practices_for, requires
from core.audit import audit_reads
from core.errors import ApplicationError
from core.pagination import CappedPaginator, page_number

QUEUE_PAGE_SIZE = 25
MESSAGE_QUEUE_EMPTY = "Nothing left in your queue right now. New work arrives with the nightly refresh."


def _page(queryset, raw):
    paginator = CappedPaginator(queryset, QUEUE_PAGE_SIZE)
    number = page_number(raw)
    if number > paginator.num_pages:
        raise Http404("No such page.")
    return paginator.page(number)


def _decorate(entries, now):
    for entry in entries:
        entry.reason_labels = selectors.reason_labels(entry.reasons)
        entry.is_leased = entry.claim_expires_at is not None and entry.claim_expires_at > now
        entry.aging_bucket = selectors.aging_bucket_of(entry)
    return entries


def _filtered_page(request, entries_for) -> dict:
    """The filter bar and this page of the list it narrows: `entries_for(filters)` is a scoped
    selector. Bad filter values are form errors beside an empty list (a 200), never a guess."""
    user = request.user
    ids = practice_ids_for(user)
    # A rep of one practice has no practice to choose: no query for its name.
    practices = practice_list(user=user).values_list("pk", "name") if len(ids) > 1 else [(pk, "") for pk in ids]
    form = QueueFilterForm(request.GET, user=user, practices=list(practices))
    page, entries, narrowed = None, [], False
    if form.is_valid():
        filters = form.filters()
        narrowed = filters.narrows
        page = _page(entries_for(filters), request.GET.get("page"))
        entries = _decorate(list(page.object_list), timezone.now())
    # The pager's links keep the filters (only the form's own fields, as given).
    kept = {name: request.GET[name] for name in form.fields if request.GET.get(name)}
    return {
        "filter_form": form,
        "filtering": bool(form.active_fields()),
        "narrowed": narrowed,
        "filter_query": urlencode(kept),
        "page": page,
        "entries": entries,
    }


def _audit_listed(user, entries) -> None:
    """A list of names and balances is a PHI read of each account shown."""
    groups = {FieldGroup.DEMOGRAPHICS, FieldGroup.BILLING}
    audit_reads(user=user, objects=[entry.account for entry in entries], field_groups=groups)


@requires(FieldGroup.BILLING)
def queue_page(request):
    user = request.user
    context = _filtered_page(request, lambda filters: selectors.my_queue(user=user, filters=filters))
    _audit_listed(user, context["entries"])
    return render(request, "collections_app/queues/my_queue.html", context)


@require_POST
@requires(FieldGroup.BILLING)
def queue_next(request):
    """Claim the next account and open it; with `release_current`, let go of the one held first."""
    account = services.queue_claim_next(
        acting_user=request.user, release_current=request.POST.get("release_current") in ("1", "true", "on")
    )
    if account is None:
        messages.info(request, MESSAGE_QUEUE_EMPTY)
        return redirect("queue")
    return redirect(reverse("account-detail", args=[account.pk]))


def claim_bar_context(request, account) -> dict:
    """Context for `_claim_bar.html` on the account page: who holds the account and until when,
    its open reasons, Release and Next account. One query."""
    user = request.user
    entry = QueueEntry.objects.select_related("claimed_by").filter(account_id=account.pk).first()
    now = timezone.now()
    claim = {"entry": entry, "in_queue": entry is not None, "mine": False, "held_by": None, "until": None}
    if entry is not None:
        claim["reasons"] = selectors.reason_labels(entry.reasons)
        if entry.claim_expires_at is not None and entry.claim_expires_at > now:
            zone = ZoneInfo(account.practice.time_zone)
            claim["until"] = entry.claim_expires_at.astimezone(zone)
            claim["mine"] = entry.claimed_by_id == user.pk
            claim["held_by"] = entry.claimed_by
    return {"queue_claim": claim}


@require_POST
@requires(FieldGroup.BILLING)
def queue_release(request, pk):
    account = get_scoped_or_404(PatientAccount.objects.select_related("practice"), request.user, pk=pk)
    if not QueueEntry.objects.filter(account_id=account.pk).exists():
        raise Http404(services.MESSAGE_NOT_IN_QUEUE)
    error = None
    try:
        services.queue_release(acting_user=request.user, account_id=account.pk)
    except ApplicationError as refused:
        error = refused.message
    if request.htmx:
        context = {"account": account, **claim_bar_context(request, account), "claim_error": error}
        return render(request, "collections_app/queues/_claim_bar.html", context, status=400 if error else 200)
    if error:
        messages.error(request, error)
    else:
        messages.success(request, "Released: the account is back in the queue.")
    return redirect(reverse("account-detail", args=[account.pk]))


@require_POST
@requires(FieldGroup.BILLING)
def queue_claim_extend(request, pk):
    """The claim bar after each action on the account (`account-changed`): the rep's lease runs
    its full time again, and the bar shows the new end."""
    account = get_scoped_or_404(PatientAccount.objects.select_related("practice"), request.user, pk=pk)
    if QueueEntry.objects.filter(account_id=account.pk).exists():
        services.queue_claim_extend(acting_user=request.user, account_id=account.pk)
    context = {"account": account, **claim_bar_context(request, account)}
    return render(request, "collections_app/queues/_claim_bar.html", context)


# --- Managers ----------------------------------------------------------------------------------


@requires(FieldGroup.MANAGEMENT)
def team_page(request):
    rows, reasons = selectors.team_overview(user=request.user)
    for row in rows:
        # The reasons this row has, in the queue's order: a compact cell instead of a column each.
        row.counts = [
            (selectors.REASON_LABELS[code], row.by_reason[code]) for code in reasons if row.by_reason.get(code)
        ]
    context = {"rows": rows}
    return render(request, "collections_app/queues/team.html", context)


class ReassignForm(forms.Form):
    rep = forms.TypedChoiceField(coerce=int, empty_value=None, required=False, label="Assign to")

    def __init__(self, *args, reps=(), **kwargs):
        super().__init__(*args, **kwargs)
        choices = [(rep.pk, rep.get_full_name() or rep.get_username()) for rep in reps]
        self.fields["rep"].choices = [("", "Nobody (pool)"), *choices]


@requires(FieldGroup.MANAGEMENT)
def team_rep_page(request, rep_id=None):
    """One rep's queue, or the unassigned pool (no `rep_id`), each account with a reassign form."""
    user = request.user
    rep = None if rep_id is None else selectors.team_rep_get(user=user, rep_id=rep_id)
    context = _filtered_page(request, lambda filters: selectors.rep_queue(user=user, rep=rep, filters=filters))
    entries = context["entries"]
    _audit_listed(user, entries)
    if entries:
        reps = list(selectors.reps_for_practices(practice_ids_for(user)))
        for entry in entries:
            initial = {"rep": rep.pk if rep else None}
            entry.reassign_form = ReassignForm(initial=initial, reps=reps, prefix=f"a{entry.account_id}")
    context["rep"] = rep
    return render(request, "collections_app/queues/team_rep.html", context)


@require_POST
@requires(FieldGroup.MANAGEMENT)
def reassign(request, pk):
    user = request.user
    account = get_scoped_or_404(PatientAccount.objects.all(), user, pk=pk)
    reps = list(selectors.reps_for_practices([account.practice_id]))
    form = ReassignForm(request.POST, reps=reps, prefix=request.POST.get("prefix") or None)
    saved = False
    if form.is_valid():
        try:
            rep_id = form.cleaned_data["rep"]
            account = services.account_reassign(acting_user=user, account_id=account.pk, rep_id=rep_id)
        except ApplicationError as error:
            form.add_error("rep" if error.field == "rep" else None, error.message)
        else:
            saved = True
    if request.htmx:
        context = {"account": account, "form": form, "saved": saved}
        return render(request, "collections_app/queues/_reassign_form.html", context, status=200 if saved else 400)
    if saved:
        messages.success(request, f"Account {account.account_number} reassigned.")
    else:
        messages.error(request, " ".join(str(e) for errors in form.errors.values() for e in errors))
    return redirect(request.POST.get("next") if _safe_next(request) else reverse("queue-team"))


def _safe_next(request) -> bool:
    target = request.POST.get("next", "")
    return target.startswith("/queue/") and "//" not in target


class AssignmentForm(forms.Form):
    rep = forms.TypedChoiceField(coerce=int)
    practice = forms.TypedChoiceField(coerce=int)
    bucket = forms.ChoiceField(choices=RepAssignment.Bucket.choices, initial=RepAssignment.Bucket.ALL)

    def __init__(self, *args, reps=(), practices=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["rep"].choices = [(rep.pk, rep.get_full_name() or rep.get_username()) for rep in reps]
        self.fields["practice"].choices = [(practice.pk, practice.name) for practice in practices]


@requires(FieldGroup.MANAGEMENT)
def assignments_page(request):
    user = request.user
    practices = list(practices_for(user).order_by("name"))
    reps = list(selectors.reps_for_practices([p.pk for p in practices]))
    form = AssignmentForm(request.POST or None, reps=reps, practices=practices)
    if request.method == "POST" and form.is_valid():
        try:
            services.rep_assignment_create(
                acting_user=user,
                rep_id=form.cleaned_data["rep"],
                practice_id=form.cleaned_data["practice"],
                bucket=form.cleaned_data["bucket"],
            )
        except ApplicationError as error:
            error.add_to_form(form)
        else:
            messages.success(request, "Rep assigned.")
            return redirect("queue-assignments")
    context = {"form": form, "assignments": list(selectors.rep_assignments(user=user))}
    return render(request, "collections_app/queues/assignments.html", context, status=400 if form.errors else 200)


@require_POST
@requires(FieldGroup.MANAGEMENT)
def assignment_delete(request, pk):
    services.rep_assignment_delete(acting_user=request.user, assignment_id=pk)
    messages.success(request, "Assignment removed.")
    return redirect("queue-assignments")
