from django.urls import path

from collections_app import views

urlpatterns = [
    path("", views.home, name="home"),
    path("login/", views.StaffLoginView.as_view(), name="login"),
    path("logout/", views.StaffLogoutView.as_view(), name="logout"),
    path("audit/", views.AuditLogView.as_view(), name="audit-log"),
    path("bench/floor/", views.bench_floor, name="bench-floor"),
]
