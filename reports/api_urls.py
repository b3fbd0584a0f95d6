from django.urls import path

from reports import api
from reports.statements import api as statements_api

urlpatterns = [
    path("reports/", api.ReportListApi.as_view(), name="api-report-list"),
    path("reports/<slug:slug>/", api.ReportApi.as_view(), name="api-report"),
    path("accounts/<int:pk>/statements/", statements_api.AccountStatementsApi.as_view(), name="api-account-statements"),
    path("statements/<int:pk>/", statements_api.StatementDetailApi.as_view(), name="api-statement-detail"),
    path("statements/<int:pk>/pdf/", statements_api.StatementPdfApi.as_view(), name="api-statement-pdf"),
    path("statement-batches/", statements_api.StatementBatchListApi.as_view(), name="api-statement-batches"),
    path(
        "statement-batches/<int:pk>/",
        statements_api.StatementBatchDetailApi.as_view(),
        name="api-statement-batch-detail",
    ),
]
