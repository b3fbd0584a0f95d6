"""Sign-in, sign-out and the user's own settings. Every other page belongs to the app whose work it shows."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.views import LoginView, LogoutView
from django.shortcuts import redirect, render
from django.utils import timezone

from core import services
from core.access import FieldGroup, requires
from core.display import display_time, office_zone, zone_name
from core.forms import MySettingsForm, StaffLoginForm

MESSAGE_SETTINGS_SAVED = "Saved. Times now show in {zone}."


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


@requires(FieldGroup.DEMOGRAPHICS)  # every tier: a person's own preferences
def my_settings(request):
    """The signed-in user's own time zone for the times pages show (core/display.py)."""
    form = MySettingsForm(request.POST or None, initial={"time_zone": request.user.time_zone})
    if request.method == "POST" and form.is_valid():
        chosen = form.cleaned_data["time_zone"]
        services.staff_set_time_zone(acting_user=request.user, time_zone=chosen)
        zone = zone_name(chosen) if chosen else "each practice's time zone"
        messages.success(request, MESSAGE_SETTINGS_SAVED.format(zone=zone))
        return redirect("my-settings")
    context = {"form": form, "office_zone": zone_name(office_zone().key), "example": display_time(timezone.now())}
    return render(request, "core/my_settings.html", context)
