from django.urls import path

from collections_app.correspondence import api

urlpatterns = [
    path("accounts/<int:pk>/returned-mail/", api.AccountReturnedMailApi.as_view(), name="api-account-returned-mail"),
    path("returned-mail/<int:pk>/resolve/", api.ReturnedMailResolveApi.as_view(), name="api-returned-mail-resolve"),
    path("patients/<int:pk>/address/", api.PatientAddressApi.as_view(), name="api-patient-address"),
    path(
        "accounts/<int:pk>/guarantor-address/",
        api.AccountGuarantorAddressApi.as_view(),
        name="api-account-guarantor-address",
    ),
    path("accounts/<int:pk>/inquiries/", api.AccountInquiriesApi.as_view(), name="api-account-inquiries"),
    path("inquiries/<int:pk>/respond/", api.InquiryRespondApi.as_view(), name="api-inquiry-respond"),
]
