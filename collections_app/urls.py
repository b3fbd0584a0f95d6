from django.conf import settings
from django.urls import include, path

from collections_app import views

# The site's home ("home") is reports.dashboard.home: the top layer adds the manager's dashboard
# to collections_app's (views.home_page).
urlpatterns = [
    path("", include("collections_app.queues.urls")),
    path("", include("collections_app.workspace.urls")),
    path("", include("collections_app.contacts.urls")),
    path("", include("collections_app.holds.urls")),
    path("", include("collections_app.correspondence.urls")),
    path("", include("collections_app.nightly.urls")),
    path("", include("collections_app.agencies.urls")),
]

# The benchmark's floor page exists only where a bench run asks for it (BENCH_FLOOR_PAGE), never
# in production (config.settings.production refuses the setting).
if settings.BENCH_FLOOR_PAGE:
    urlpatterns.append(path("bench/floor/", views.bench_floor, name="bench-floor"))
