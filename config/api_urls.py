"""URLs under /api/. Every view declares its field group (or, for the token endpoint, `public`)."""

from django.urls import include, path

from accounts import api, ledger_api
from core import api as core_api

urlpatterns = [
    path("schema/", api.SchemaApi.as_view(), name="api-schema"),
    path("docs/", api.DocsApi.as_view(url_name="api-schema"), name="api-docs"),
    path("auth/token/", api.TokenObtainApi.as_view(), name="api-token"),
    path("auth/tokens/", core_api.ApiTokenListApi.as_view(), name="api-token-list"),
    path("auth/tokens/<int:pk>/revoke/", core_api.ApiTokenRevokeApi.as_view(), name="api-token-revoke"),
    path("practices/", api.PracticeListApi.as_view(), name="api-practice-list"),
    path("practices/<int:pk>/", api.PracticeDetailApi.as_view(), name="api-practice-detail"),
    path("patients/", api.PatientListApi.as_view(), name="api-patient-list"),
    path("patients/search/", api.PatientSearchApi.as_view(), name="api-patient-search"),
    path("patients/<int:pk>/", api.PatientDetailApi.as_view(), name="api-patient-detail"),
    path("accounts/", api.AccountListApi.as_view(), name="api-account-list"),
    path("accounts/search/", api.AccountSearchApi.as_view(), name="api-account-search"),
    path("accounts/<int:pk>/", api.AccountDetailApi.as_view(), name="api-account-detail"),
    path("accounts/<int:pk>/ledger/", api.AccountLedgerApi.as_view(), name="api-account-ledger"),
    path("transactions/<int:pk>/", ledger_api.TransactionDetailApi.as_view(), name="api-transaction-detail"),
    path("transactions/<int:pk>/reverse/", ledger_api.TransactionReverseApi.as_view(), name="api-transaction-reverse"),
    path("", include("collections_app.queues.api_urls")),
    path("", include("collections_app.contacts.api_urls")),
    path("", include("collections_app.holds.api_urls")),
    path("", include("collections_app.correspondence.api_urls")),
    path("", include("collections_app.nightly.api_urls")),
    path("", include("collections_app.agencies.api_urls")),
    path("", include("payment_plans.api_urls")),
    path("", include("writeoffs.api_urls")),
    path("", include("imports.api_urls")),
    path("", include("reports.api_urls")),
]
