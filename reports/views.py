"""Reports for managers and Directors. The first is the audit trail."""

import re
from datetime import date, datetime, time, timedelta

from django.apps import apps
from django.urls import reverse
from django.views.generic import TemplateView

from accounts.models import Patient, PatientAccount
from accounts.selectors import practice_list
from core.access import FieldGroup, FieldGroupRequiredMixin
from core.display import EMPTY, display_time, display_zone, words
from core.models import AuditEvent
from core.pagination import page_number
from reports.forms import AuditFilterForm

AUDIT_PAGE_SIZE = 100
ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


class AuditLogView(FieldGroupRequiredMixin, TemplateView):
    """The audit trail, newest first, for Directors. Paged by offset without a COUNT(*): the table
    grows by every read in the office, and 'is there a next page' needs one extra row, not a count."""

    field_group = FieldGroup.DIRECTOR
    template_name = "reports/audit_log.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        form = AuditFilterForm(self.request.GET or None, practices=practice_list(user=self.request.user))
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
        _describe_objects(rows)
        for event in rows:
            event.detail_items = [(words(key), _detail_value(value)) for key, value in (event.detail or {}).items()]
            event.field_groups_text = ", ".join(words(group) for group in event.field_group.split(",") if group)
        query = self.request.GET.copy()
        query.pop("page", None)
        context.update(
            {
                "form": form,
                "events": rows,
                "page": page,
                "has_next": has_next,
                "has_previous": page > 1,
                "filter_query": query.urlencode(),
            }
        )
        return context

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
