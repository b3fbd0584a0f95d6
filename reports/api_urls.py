from django.urls import path

from reports import api

urlpatterns = [
    path("reports/<slug:slug>/", api.ReportApi.as_view(), name="api-report"),
]
