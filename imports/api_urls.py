from django.urls import path

from imports import api

urlpatterns = [
    path("imports/", api.ImportUploadListApi.as_view(), name="api-import-list"),
    path("imports/<int:pk>/", api.ImportUploadDetailApi.as_view(), name="api-import-detail"),
    path("imports/unmatched/", api.UnmatchedListApi.as_view(), name="api-import-unmatched-list"),
    path("imports/unmatched/<int:pk>/", api.UnmatchedDetailApi.as_view(), name="api-import-unmatched-detail"),
    path("imports/unmatched/<int:pk>/resolve/", api.UnmatchedResolveApi.as_view(), name="api-import-unmatched-resolve"),
]
