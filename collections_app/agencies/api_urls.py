from django.urls import path

from collections_app.agencies import api

urlpatterns = [
    path("agencies/", api.AgencyListApi.as_view(), name="api-agency-list"),
    path("agencies/<int:pk>/", api.AgencyDetailApi.as_view(), name="api-agency-detail"),
    path("placements/candidates/", api.CandidateListApi.as_view(), name="api-placement-candidates"),
    path("placements/", api.PlacementCreateApi.as_view(), name="api-placement-create"),
    path("placements/<int:pk>/", api.PlacementDetailApi.as_view(), name="api-placement-detail"),
    path("placements/<int:pk>/recall/", api.PlacementRecallApi.as_view(), name="api-placement-recall"),
    path("placement-batches/", api.PlacementBatchListApi.as_view(), name="api-placement-batches"),
    path("placement-batches/<int:pk>/", api.PlacementBatchDetailApi.as_view(), name="api-placement-batch-detail"),
    path("agency-files/<int:pk>/", api.AgencyFileApi.as_view(), name="api-agency-file"),
    path("agency-payments/", api.AgencyPaymentApi.as_view(), name="api-agency-payments"),
]
