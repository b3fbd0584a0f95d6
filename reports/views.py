"""Reports for managers and Directors. The first is the audit trail."""

import csv
import re
from datetime import date, datetime, time, timedelta

from django.apps import apps
from django.http import Http404, HttpResponse, StreamingHttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.views import View
from django.views.generic import TemplateView

from accounts.models import Patient, PatientAccount
from accounts.selectors import practice_list
from core.access import FieldGroup, FieldGroupRequiredMixin, check_field_group
from core.audit import audit_record
from core.display import EMPTY, display_time, display_zone, staff_name, words
from core.models import AuditEvent
from core.pagination import page_number
from reports.forms import AuditFilterForm
from reports.framework import get_report, report_context, reports_for, run_as_csv, run_as_pdf, run_report

AUDIT_PAGE_SIZE = 100
ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


class ReportIndexView(FieldGroupRequiredMixin, TemplateView):
    """Every report the user's tier may run."""

    field_group = FieldGroup.MANAGEMENT
    template_name = "reports/index.html"

    def get_context_data(self, **kwargs):
        return {**super().get_context_data(**kwargs), "reports": reports_for(self.request.user)}


def export_response(run, fmt: str) -> HttpResponse:
    """The CSV or PDF of a run, as a download."""
    if fmt == "csv":
        response = HttpResponse(run_as_csv(run), content_type="text/csv; charset=utf-8")
    else:
        response = HttpResponse(run_as_pdf(run), content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{run.report.filename(run.params, fmt)}"'
    response["Cache-Control"] = "private, no-store"
    return response


class ReportView(FieldGroupRequiredMixin, View):
    """/reports/<slug>/: the page; `?format=csv` and `?format=pdf` download the same run. The field
    group is the report's own (Director for some), checked before anything runs."""

    field_group = FieldGroup.MANAGEMENT  # the floor; dispatch checks the report's own as well

    def dispatch(self, request, *args, **kwargs):
        self.report = get_report(kwargs["slug"])
        if self.report is None:
            raise Http404("No such report.")
        if request.user.is_authenticated:
            check_field_group(request.user, self.report.field_group)
        return super().dispatch(request, *args, **kwargs)

    def get(self, request, slug):
        fmt = request.GET.get("format", "html")
        if fmt not in ("html", "csv", "pdf"):
            fmt = "html"
        run = run_report(self.report, user=request.user, data=request.GET, fmt=fmt)
        if run.ok and fmt != "html":
            return export_response(run, fmt)
        return render(request, "reports/report.html", report_context(run), status=200 if run.ok else 400)


AUDIT_CSV_MAX_DAYS = 366
AUDIT_CSV_CHUNK = 2000
MESSAGE_AUDIT_CSV_PERIOD = f"Choose a period of at most {AUDIT_CSV_MAX_DAYS} days to download."


class AuditLogView(FieldGroupRequiredMixin, TemplateView):
    """The audit trail, newest first, for Directors. Paged by offset without a COUNT(*): the table
    grows by every read in the office, and 'is there a next page' needs one extra row, not a count.
    `?format=csv` streams the filtered events (bounded: a period of at most a year, default the last
    30 days), written as the page writes them; the download is itself audited."""

    field_group = FieldGroup.DIRECTOR
    template_name = "reports/audit_log.html"

    def get(self, request, *args, **kwargs):
        if request.GET.get("format") == "csv":
            return self._csv()
        return super().get(request, *args, **kwargs)

    def _form(self):
        return AuditFilterForm(self.request.GET or None, practices=practice_list(user=self.request.user))

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        form = kwargs.get("form") or self._form()
        events = AuditEvent.objects.select_related("user", "practice").order_by("-occurred_at", "-id")
        if form.is_bound and form.is_valid():
            events = self._filter(events, form.cleaned_data)
        elif form.is_bound:
            events = events.none()
        page = page_number(self.request.GET.get("page"))
        offset = (page - 1) * AUDIT_PAGE_SIZE
        rows = list(events[offset : offset + AUDIT_PAGE_SIZE + 1])
        has_next = len(rows) > AUDIT_PAGE_SIZE
        rows = rows[:AUDIT_PAGE_SIZE]
        _describe_events(rows)
        query = self.request.GET.copy()
        query.pop("page", None)
        query.pop("format", None)
        context.update(
            {
                "form": form,
                "events": rows,
                "page": page,
                "has_next": has_next,
                "has_previous": page > 1,
                "filter_query": query.urlencode(),
                "csv_max_days": AUDIT_CSV_MAX_DAYS,
            }
        )
        return context

    def _csv(self):
        data = self.request.GET.copy()
        data.pop("format", None)
        data.pop("page", None)
        today = timezone.now().astimezone(display_zone()).date()
        if not data.get("date_to"):
            data["date_to"] = today.isoformat()
        form = AuditFilterForm(data, practices=practice_list(user=self.request.user))
        if form.is_valid() and not form.cleaned_data.get("date_from"):
            form.cleaned_data["date_from"] = form.cleaned_data["date_to"] - timedelta(days=29)
        if form.is_valid():
            span = (form.cleaned_data["date_to"] - form.cleaned_data["date_from"]).days + 1
            if span > AUDIT_CSV_MAX_DAYS:
                form.add_error("date_from", MESSAGE_AUDIT_CSV_PERIOD)
        if not form.is_valid():
            return self.render_to_response(self.get_context_data(form=form), status=400)
        filters = form.cleaned_data
        audit_record(
            user=self.request.user,
            action=AuditEvent.Action.EXPORT,
            object_type=AuditEvent._meta.label_lower,
            field_group=FieldGroup.DIRECTOR,
            practice_id=filters["practice"].pk if filters.get("practice") else None,
            detail={
                "format": "csv",
                **{
                    key: (value.isoformat() if hasattr(value, "isoformat") else getattr(value, "pk", value))
                    for key, value in filters.items()
                    if value not in (None, "")
                },
            },
        )
        events = self._filter(
            AuditEvent.objects.select_related("user", "practice").order_by("-occurred_at", "-id"), filters
        )
        name = f"audit-trail-{filters['date_from']:%Y-%m-%d}-to-{filters['date_to']:%Y-%m-%d}.csv"
        response = StreamingHttpResponse(_audit_csv_lines(events), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="{name}"'
        response["Cache-Control"] = "private, no-store"
        return response

    @staticmethod
    def _filter(events, data):
        zone = display_zone()  # the zone the page writes its times in
        if data.get("user"):
            events = events.filter(user=data["user"])
        if data.get("action"):
            events = events.filter(action=data["action"])
        if data.get("object_type"):
            events = events.filter(object_type=data["object_type"].strip().lower())
        if data.get("practice"):
            events = events.filter(practice=data["practice"])
        if data.get("date_from"):
            events = events.filter(occurred_at__gte=datetime.combine(data["date_from"], time.min, tzinfo=zone))
        if data.get("date_to"):
            end = datetime.combine(data["date_to"] + timedelta(days=1), time.min, tzinfo=zone)
            events = events.filter(occurred_at__lt=end)
        return events


AUDIT_CSV_HEADER = [
    "When",
    "User",
    "Username",
    "Action",
    "Object",
    "Practice",
    "Field groups",
    "Client address",
    "Request",
    "Detail",
]


class _Echo:
    def write(self, value):
        return value


def _audit_csv_lines(events):
    """The CSV, a chunk of events at a time: two lookups per chunk for the objects' names."""
    writer = csv.writer(_Echo())
    yield writer.writerow(AUDIT_CSV_HEADER)
    chunk = []
    for event in events.iterator(chunk_size=AUDIT_CSV_CHUNK):
        chunk.append(event)
        if len(chunk) >= AUDIT_CSV_CHUNK:
            yield from _audit_csv_rows(writer, chunk)
            chunk = []
    if chunk:
        yield from _audit_csv_rows(writer, chunk)


def _audit_csv_rows(writer, events):
    _describe_events(events)
    for event in events:
        yield writer.writerow(
            [
                _csv_text(value)
                for value in (
                    display_time(event.occurred_at),
                    event.user_name,
                    event.username,
                    event.get_action_display(),
                    event.object_label,
                    event.practice.name if event.practice_id else "",
                    event.field_groups_text,
                    event.client_address or "",
                    event.request_id or "",
                    "; ".join(f"{key}: {value}" for key, value in event.detail_items),
                )
            ]
        )


def _csv_text(value) -> str:
    """A spreadsheet runs a cell starting with = + - @ as a formula: such cells get a leading quote."""
    text = str(value or "")
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def _describe_events(events) -> None:
    """What the page and the CSV write for each event: readable object, user, field groups, detail."""
    _describe_objects(events)
    for event in events:
        event.user_name = staff_name(event.user) if event.user_id else (event.username or EMPTY)
        event.detail_items = [(words(key), _detail_value(value)) for key, value in (event.detail or {}).items()]
        event.field_groups_text = ", ".join(words(group) for group in event.field_group.split(",") if group)


def _object_label(object_type: str) -> str:
    """'accounts.patientaccount' -> 'Patient account': the model's own name, in words."""
    try:
        model = apps.get_model(object_type)  # any app's model: reports sit above every layer
    except (LookupError, ValueError):
        return object_type
    return str(model._meta.verbose_name).capitalize()


def _describe_objects(events) -> None:
    """Each event's object in billing-office words: "Patient account N0001234 (Garcia, Maria)",
    "Patient Garcia, Maria (MRN0000025)", else the kind of record and its number. Two queries for
    the page's accounts and patients, whatever its length. The trail is for Directors only."""
    account_type, patient_type = PatientAccount._meta.label_lower, Patient._meta.label_lower
    ids = {account_type: set(), patient_type: set()}
    for event in events:
        if event.object_type in ids and event.object_id.isdigit():
            ids[event.object_type].add(int(event.object_id))
    accounts = (
        PatientAccount.objects.select_related("patient")
        .only("account_number", "patient__first_name", "patient__last_name")
        .in_bulk(ids[account_type])
    )
    patients = Patient.objects.only("first_name", "last_name", "medical_record_number").in_bulk(ids[patient_type])
    labels: dict[str, str] = {}
    for event in events:
        event.object_label = ""
        if not event.object_type:
            continue
        kind = labels.setdefault(event.object_type, _object_label(event.object_type))
        number = int(event.object_id) if event.object_id.isdigit() else None
        if event.object_type == account_type and number in accounts:
            account = accounts[number]
            patient = account.patient
            event.object_label = f"{kind} {account.account_number} ({patient.last_name}, {patient.first_name})"
            event.object_url = reverse("account-detail", args=[number])
        elif event.object_type == patient_type and number in patients:
            patient = patients[number]
            event.object_label = f"{kind} {patient.last_name}, {patient.first_name} ({patient.medical_record_number})"
        elif event.object_type == "report":
            report = get_report(event.object_id)
            event.object_label = f"Report: {report.title if report else event.object_id}"
        elif event.object_type == AuditEvent._meta.label_lower and not event.object_id:
            event.object_label = "Audit trail download"
        else:
            event.object_label = f"{kind} {event.object_id}".strip()


def _detail_value(value, shown: int = 12) -> str:
    """Audit detail holds ids, field names and dates; long id lists are cut for the table; ISO
    dates and times are written as the rest of the page writes them; codes stay as stored."""
    if isinstance(value, list):
        head = ", ".join(str(item) for item in value[:shown])
        return f"{head}, … ({len(value)} in all)" if len(value) > shown else head
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, str) and ISO_DATE.fullmatch(value):
        return f"{date.fromisoformat(value):%m/%d/%Y}"
    if isinstance(value, str) and ISO_DATE.match(value) and "T" in value:
        try:
            return display_time(datetime.fromisoformat(value))
        except ValueError:
            return value
    if value is None or value == "":
        return EMPTY
    return str(value)
