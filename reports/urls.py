from django.urls import include, path

from reports import dashboard, views

urlpatterns = [
    path("", dashboard.home, name="home"),
    path("audit/", views.AuditLogView.as_view(), name="audit-log"),
    path("reports/", views.ReportIndexView.as_view(), name="reports"),
    path("reports/<slug:slug>/", views.ReportView.as_view(), name="report"),
    path("", include("reports.statements.urls")),
    path("", include("reports.statements.printing_urls")),
]
