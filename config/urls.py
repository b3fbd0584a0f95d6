from django.contrib import admin
from django.urls import include, path

from config.health import healthz

urlpatterns = [
    path("", include("collections_app.urls")),
    path("", include("accounts.urls")),
    path("api/", include("config.api_urls")),
    path("admin/", admin.site.urls),  # Directors only: collections_app.admin_site.DirectorAdminSite
    path("healthz", healthz, name="healthz"),
]
