"""Collections pages: the dashboard and the benchmark floor."""

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.db.models import Count, Q, Sum
from django.db.models.functions import Coalesce
from django.http import HttpResponse
from django.shortcuts import render
from django.utils import timezone

from accounts.models import Appointment, PatientAccount
from accounts.money import ZERO
from accounts.selectors import practice_list
from core.access import FieldGroup, can_see, requires, scope_to_user


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


@requires(FieldGroup.DEMOGRAPHICS)
def bench_floor(request):
    """The benchmark's floor: authentication and the access check, no other query."""
    return HttpResponse("ok", content_type="text/plain")
