from django.urls import path

from collections_app.holds import api

urlpatterns = [
    path("accounts/<int:pk>/holds/", api.AccountHoldsApi.as_view(), name="api-account-holds"),
    path("holds/<int:pk>/", api.HoldDetailApi.as_view(), name="api-hold-detail"),
    path("holds/<int:pk>/release/", api.HoldReleaseApi.as_view(), name="api-hold-release"),
    path("holds/<int:pk>/status-check/", api.LopStatusCheckApi.as_view(), name="api-hold-status-check"),
]
