from django.urls import path

from reports.statements import printing_views

urlpatterns = [
    path("statements/batches/<int:pk>/progress/", printing_views.batch_progress, name="statement-batch-progress"),
    path("statements/batches/<int:pk>/retry/", printing_views.batch_retry, name="statement-batch-retry"),
]
