from django.conf import settings
from django.urls import include, path

from collections_app import views

urlpatterns = [
    path("", views.home, name="home"),
    path("", include("collections_app.queues.urls")),
    path("", include("collections_app.workspace.urls")),
    path("", include("collections_app.contacts.urls")),
    path("", include("collections_app.holds.urls")),
    path("", include("collections_app.correspondence.urls")),
    path("", include("collections_app.nightly.urls")),
]

# The benchmark's floor page exists only where a bench run asks for it (BENCH_FLOOR_PAGE), never
# in production (config.settings.production refuses the setting).
if settings.BENCH_FLOOR_PAGE:
    urlpatterns.append(path("bench/floor/", views.bench_floor, name="bench-floor"))
