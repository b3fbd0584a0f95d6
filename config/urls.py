from django.contrib import admin
from django.templatetags.static import static
from django.urls import include, path
from django.views.generic import RedirectView

from config.health import healthz


class FaviconView(RedirectView):
    """Browsers ask for /favicon.ico whatever the page says; public, and it holds no PHI. The URL is
    worked out per request: the manifest of collected static files may not exist at import time."""

    permanent = True
    public = True

    def get_redirect_url(self, *args, **kwargs):
        return static("favicon.svg")


favicon = FaviconView.as_view()

# Each layer's pages (README, "Project layout"): core's sign-in, accounts' patient record and ledger,
# payment plans, the work of collecting, and the reports.
urlpatterns = [
    path("", include("core.urls")),
    path("", include("accounts.urls")),
    path("", include("payment_plans.urls")),
    path("", include("writeoffs.urls")),
    path("", include("imports.urls")),
    path("", include("collections_app.urls")),
    path("", include("reports.urls")),
    path("api/", include("config.api_urls")),
    path("admin/", admin.site.urls),  # Directors only: core.admin_site.DirectorAdminSite
    path("healthz", healthz, name="healthz"),
    path("favicon.ico", favicon),
]

# JSON under /api/ (core.api_support), Django's own pages elsewhere.
handler400 = "core.api_support.api_bad_request"
handler404 = "core.api_support.api_not_found"
