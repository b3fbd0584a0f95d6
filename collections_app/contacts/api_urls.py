from django.urls import path

from collections_app.contacts import api

urlpatterns = [
    path("accounts/<int:pk>/contacts/", api.ContactListApi.as_view(), name="api-account-contacts"),
    path("accounts/<int:pk>/contact-decision/", api.ContactDecisionApi.as_view(), name="api-account-contact-decision"),
    path("accounts/<int:pk>/promises/", api.PromiseListApi.as_view(), name="api-account-promises"),
    path("accounts/<int:pk>/payments/", api.PaymentApi.as_view(), name="api-account-payments"),
    path("accounts/<int:pk>/follow-up/", api.FollowUpApi.as_view(), name="api-account-follow-up"),
    path("accounts/<int:pk>/notes/", api.NoteListApi.as_view(), name="api-account-notes"),
    path("accounts/<int:pk>/flags/", api.FlagsApi.as_view(), name="api-account-flags"),
    path("accounts/<int:pk>/consents/", api.ConsentListApi.as_view(), name="api-account-consents"),
    path("accounts/<int:pk>/consents/revoke/", api.ConsentRevokeApi.as_view(), name="api-account-consent-revoke"),
    path("promises/<int:pk>/", api.PromiseDetailApi.as_view(), name="api-promise-detail"),
    path("contacts/<int:pk>/", api.ContactDetailApi.as_view(), name="api-contact-detail"),
]
