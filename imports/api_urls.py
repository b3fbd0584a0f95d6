from django.urls import path

from imports import api

urlpatterns = [
    path("imports/", api.ImportUploadListApi.as_view(), name="api-import-list"),
    path("imports/<int:pk>/", api.ImportUploadDetailApi.as_view(), name="api-import-detail"),
]
