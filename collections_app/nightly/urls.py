from django.urls import path

from collections_app.nightly import views

urlpatterns = [
    path("jobs/", views.jobs_page, name="jobs"),
    path("jobs/run/", views.run_now, name="jobs-run-now"),
    path("jobs/<int:pk>/progress/", views.run_progress, name="jobs-run-progress"),
]
