"""Collections pages: sign-in and sign-out, the dashboard, the audit trail, the benchmark floor."""

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.contrib.auth.views import LoginView, LogoutView
from django.db.models import Count, Q, Sum
from django.db.models.functions import Coalesce
from django.http import HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.views.generic import TemplateView

from accounts.models import Appointment, PatientAccount
from accounts.money import ZERO
from accounts.selectors import practice_list
from collections_app.access import FieldGroup, FieldGroupRequiredMixin, can_see, requires, scope_to_user
from collections_app.forms import AuditFilterForm, StaffLoginForm
from collections_app.models import AuditEvent
from collections_app.pagination import page_number

AUDIT_PAGE_SIZE = 100


class StaffLoginView(LoginView):
    """Public. Failed attempts are counted by django-axes (lockout) and audited (signals.py)."""

    public = True  # declared for the URL-walking access test
    template_name = "registration/login.html"
    authentication_form = StaffLoginForm
    redirect_authenticated_user = True

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["timed_out"] = self.request.GET.get("timeout") == "1"
        context["idle_minutes"] = settings.SESSION_IDLE_TIMEOUT_SECONDS // 60
        return context


class StaffLogoutView(LogoutView):
    """Public, POST only (a link or prefetch cannot sign anyone out)."""

    public = True


def _appointments_today_by_practice(user, practices) -> dict[int, int]:
    """Appointments still to come today, by practice, 'today' in each practice's time zone; one query."""
    if not practices:
        return {}
    now = timezone.now()
    remaining_today = Q()
    for practice in practices:
        zone = ZoneInfo(practice.time_zone)
        local_today = now.astimezone(zone).date()
        end_of_day = datetime.combine(local_today + timedelta(days=1), time.min, tzinfo=zone)
        remaining_today |= Q(practice_id=practice.pk, starts_at__lt=end_of_day)
    rows = (
        scope_to_user(Appointment.objects.all(), user)
        .filter(remaining_today, starts_at__gte=now)
        .exclude(status__in=[Appointment.Status.CANCELLED, Appointment.Status.NO_SHOW])
        .values("practice_id")
        .annotate(count=Count("id"))
        .order_by()
    )
    return {row["practice_id"]: row["count"] for row in rows}


def _patient_ar_by_practice(user) -> dict[int, dict]:
    """Accounts owing and patient AR per practice: one aggregate query over the stored balances."""
    rows = (
        scope_to_user(PatientAccount.objects.filter(patient_balance__gt=0), user)
        .values("practice_id")
        .annotate(accounts_owing=Count("id"), patient_ar=Coalesce(Sum("patient_balance"), ZERO))
        .order_by()
    )
    return {row["practice_id"]: row for row in rows}


@requires(FieldGroup.DEMOGRAPHICS)
def home(request):
    user = request.user
    practices = list(practice_list(user=user))
    appointments = _appointments_today_by_practice(user, practices)
    shows_billing = can_see(user, FieldGroup.BILLING)
    ar = _patient_ar_by_practice(user) if shows_billing else {}
    rows = [
        {
            "practice": practice,
            "appointments_today": appointments.get(practice.pk, 0),
            "accounts_owing": ar.get(practice.pk, {}).get("accounts_owing", 0),
            "patient_ar": ar.get(practice.pk, {}).get("patient_ar", ZERO),
        }
        for practice in practices
    ]
    totals = {
        "appointments_today": sum(row["appointments_today"] for row in rows),
        "accounts_owing": sum(row["accounts_owing"] for row in rows),
        "patient_ar": sum((row["patient_ar"] for row in rows), ZERO),
    }
    if not shows_billing:
        for row in rows:
            del row["accounts_owing"], row["patient_ar"]
        del totals["accounts_owing"], totals["patient_ar"]
    context = {"rows": rows, "totals": totals, "shows_billing": shows_billing}
    return render(request, "collections_app/home.html", context)


class AuditLogView(FieldGroupRequiredMixin, TemplateView):
    """The audit trail, newest first, for Directors. Paged by offset without a COUNT(*): the table
    grows by every read in the office, and 'is there a next page' needs one extra row, not a count."""

    field_group = FieldGroup.DIRECTOR
    template_name = "collections_app/audit_log.html"

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
        account_type = PatientAccount._meta.label_lower
        for event in rows:
            if event.object_type == account_type and event.object_id.isdigit():
                event.object_url = reverse("account-detail", args=[int(event.object_id)])
            event.detail_items = [(key, _detail_value(value)) for key, value in (event.detail or {}).items()]
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
        zone = timezone.get_current_timezone()
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


def _detail_value(value, shown: int = 12) -> str:
    """Audit detail holds ids and field names; long id lists are cut for the table."""
    if isinstance(value, list):
        head = ", ".join(str(item) for item in value[:shown])
        return f"{head}, … ({len(value)} in all)" if len(value) > shown else head
    return str(value)


@requires(FieldGroup.DEMOGRAPHICS)
def bench_floor(request):
    """The benchmark's floor: authentication and the access check, no other query."""
    return HttpResponse("ok", content_type="text/plain")
