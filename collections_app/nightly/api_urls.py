from django.urls import path

from collections_app.nightly import api

urlpatterns = [
    path("jobs/", api.NightlyJobListApi.as_view(), name="api-jobs"),
    path("jobs/runs/", api.JobRunListApi.as_view(), name="api-job-runs"),
    path("jobs/runs/<int:pk>/", api.JobRunDetailApi.as_view(), name="api-job-run"),
]
