from django.urls import path

from imports import views

urlpatterns = [
    path("imports/", views.upload_page, name="import-uploads"),
    path("imports/<int:pk>/", views.upload_detail, name="import-upload-detail"),
    path("imports/<int:pk>/progress/", views.upload_progress, name="import-upload-progress"),
    path("imports/unmatched/", views.unmatched_list, name="import-unmatched"),
    path("imports/unmatched/<int:pk>/", views.unmatched_resolve, name="import-unmatched-resolve"),
    path("imports/templates/<slug:kind>.csv", views.csv_template, name="import-csv-template"),
]
