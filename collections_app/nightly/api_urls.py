from django.urls import path

from collections_app.nightly import api

urlpatterns = [
    path("jobs/runs/", api.JobRunListApi.as_view(), name="api-job-runs"),
]
