from django.urls import path

from writeoffs import api

urlpatterns = [
    path("writeoffs/", api.WriteOffListApi.as_view(), name="api-writeoffs"),
    path("writeoffs/bulk-approve/", api.WriteOffBulkApproveApi.as_view(), name="api-writeoff-bulk-approve"),
    path("writeoffs/<int:pk>/", api.WriteOffDetailApi.as_view(), name="api-writeoff-detail"),
    path("writeoffs/<int:pk>/approve/", api.WriteOffApproveApi.as_view(), name="api-writeoff-approve"),
    path("writeoffs/<int:pk>/deny/", api.WriteOffDenyApi.as_view(), name="api-writeoff-deny"),
    path("writeoffs/<int:pk>/reverse/", api.WriteOffReverseApi.as_view(), name="api-writeoff-reverse"),
]
