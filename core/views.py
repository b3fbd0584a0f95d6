"""Sign-in and sign-out. Every other page belongs to the app whose work it shows."""

from django.conf import settings
from django.contrib.auth.views import LoginView, LogoutView

from core.forms import StaffLoginForm


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
