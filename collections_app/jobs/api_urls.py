from django.urls import path

from collections_app.jobs import api

urlpatterns = [
    path("jobs/runs/", api.JobRunListApi.as_view(), name="api-job-runs"),
]
