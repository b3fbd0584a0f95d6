from django.urls import include, path

from collections_app import views

urlpatterns = [
    path("", views.home, name="home"),
    path("login/", views.StaffLoginView.as_view(), name="login"),
    path("logout/", views.StaffLogoutView.as_view(), name="logout"),
    path("audit/", views.AuditLogView.as_view(), name="audit-log"),
    path("bench/floor/", views.bench_floor, name="bench-floor"),
    path("", include("collections_app.queues.urls")),
    path("", include("collections_app.workspace.urls")),
    path("", include("collections_app.contacts.urls")),
    path("", include("collections_app.holds.urls")),
    path("", include("collections_app.correspondence.urls")),
    path("", include("collections_app.jobs.urls")),
    path("", include("payment_plans.urls")),
]
