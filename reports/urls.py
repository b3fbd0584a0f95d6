from django.urls import path

from reports import views

urlpatterns = [
    path("audit/", views.AuditLogView.as_view(), name="audit-log"),
]
