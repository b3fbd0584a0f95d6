from django.urls import path

from writeoffs import api, run_api

urlpatterns = [
    path("writeoffs/", api.WriteOffListApi.as_view(), name="api-writeoffs"),
    path("writeoffs/bulk-approve/", api.WriteOffBulkApproveApi.as_view(), name="api-writeoff-bulk-approve"),
    path("writeoffs/runs/", run_api.SmallBalanceRunListApi.as_view(), name="api-small-balance-runs"),
    path("writeoffs/runs/<int:pk>/", run_api.SmallBalanceRunDetailApi.as_view(), name="api-small-balance-run"),
    path(
        "writeoffs/runs/<int:pk>/approve/",
        run_api.SmallBalanceRunApproveApi.as_view(),
        name="api-small-balance-run-approve",
    ),
    path(
        "writeoffs/runs/<int:pk>/discard/",
        run_api.SmallBalanceRunDiscardApi.as_view(),
        name="api-small-balance-run-discard",
    ),
    path("writeoffs/<int:pk>/", api.WriteOffDetailApi.as_view(), name="api-writeoff-detail"),
    path("writeoffs/<int:pk>/approve/", api.WriteOffApproveApi.as_view(), name="api-writeoff-approve"),
    path("writeoffs/<int:pk>/deny/", api.WriteOffDenyApi.as_view(), name="api-writeoff-deny"),
    path("writeoffs/<int:pk>/reverse/", api.WriteOffReverseApi.as_view(), name="api-writeoff-reverse"),
]
