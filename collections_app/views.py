"""Collections pages: the dashboard and the benchmark floor."""

from django.http import HttpResponse
from django.shortcuts import render
from django.template.response import TemplateResponse

from accounts.money import ZERO
from accounts.selectors import practice_list
from collections_app import dashboard
from core.access import FieldGroup, can_see, requires
from core.audit import audit_reads

BALANCE_FIGURES = ("accounts_owing", "patient_ar", "accounts_past_due", "past_due_ar")
MONEY_FIGURES = {"patient_ar", "past_due_ar"}


# The team's work loads into the manager's dashboard after the page (and on Refresh): it reads the
# day's contact log and postings, while the page's practice figures read stored balances. It is not
# polled: a timed request would count as activity and defeat the idle sign-out.
TEAM_SECTION = "team"


@requires(FieldGroup.DEMOGRAPHICS)
def home(request):
    """The dashboard by tier: the front desk's appointments (never an amount), the rep's own day,
    the manager's practices and team. Every figure comes from a grouped query (collections_app.dashboard)."""
    response = home_page(request)
    return response.render() if isinstance(response, TemplateResponse) else response


def home_page(request):
    """The dashboard page not yet rendered (a TemplateResponse), so the layer above can add to it:
    the site's home URL is reports.dashboard.home, which gives managers their collection rates,
    AR by bucket and approvals around these figures. The team section answers rendered."""
    user = request.user
    practices = list(practice_list(user=user))
    manages = can_see(user, FieldGroup.MANAGEMENT)
    if manages and request.GET.get("section") == TEAM_SECTION and request.htmx:
        team = dashboard.team_today(user=user, practices=practices)
        return render(request, "collections_app/dashboard/_team.html", {"team": team})
    days = dashboard.practice_days(practices)
    appointments = dashboard.appointments_still_today(user=user, days=days)
    shows_billing = can_see(user, FieldGroup.BILLING)
    balances = dashboard.practice_balances(user=user) if shows_billing else {}
    rows = []
    for practice, day in zip(practices, days, strict=True):
        row = {"practice": practice, "today": day.today, "appointments_today": appointments.get(practice.pk, 0)}
        if shows_billing:
            found = balances.get(practice.pk, {})
            for key in BALANCE_FIGURES:
                row[key] = found.get(key, ZERO if key in MONEY_FIGURES else 0)
        rows.append(row)
    totals = {"appointments_today": sum(row["appointments_today"] for row in rows)}
    if shows_billing:
        for key in BALANCE_FIGURES:
            totals[key] = sum((row[key] for row in rows), ZERO if key in MONEY_FIGURES else 0)
    context = {
        "rows": rows,
        "totals": totals,
        "shows_billing": shows_billing,
        "zones": dashboard.zones_of(days),
        "dates": sorted({day.today for day in days}),
        "manages": manages,
    }
    if manages:
        context["team_section"] = TEAM_SECTION
        if request.GET.get("section") == TEAM_SECTION:  # without htmx: the team's work in the page
            context["team"] = dashboard.team_today(user=user, practices=practices)
    elif shows_billing:
        mine = dashboard.rep_dashboard(user=user, practices=practices)
        context["mine"] = mine
        for row in rows:
            row["mine"] = mine.by_practice[row["practice"].pk]
        # Names and balances of the accounts listed are a PHI read of each.
        audit_reads(
            user=user,
            objects=[promise.account for promise in mine.promises_due],
            field_groups={FieldGroup.DEMOGRAPHICS, FieldGroup.BILLING},
        )
    return TemplateResponse(request, "collections_app/home.html", context)


@requires(FieldGroup.DEMOGRAPHICS)
def bench_floor(request):
    """The benchmark's floor: authentication and the access check, no other query."""
    return HttpResponse("ok", content_type="text/plain")
