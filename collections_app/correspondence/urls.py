from django.urls import path

from collections_app.correspondence import views

urlpatterns = [
    path("accounts/<int:pk>/mail/", views.correspondence_panel, name="correspondence-panel"),
    path("accounts/<int:pk>/mail/returned/", views.returned_mail_record_view, name="returned-mail-record"),
    path("accounts/<int:pk>/mail/address/", views.address_correct_view, name="address-correct"),
    path(
        "accounts/<int:pk>/mail/guarantor-address/",
        views.guarantor_address_correct_view,
        name="guarantor-address-correct",
    ),
    path(
        "accounts/<int:pk>/mail/<int:mail_pk>/resolve/", views.returned_mail_resolve_view, name="returned-mail-resolve"
    ),
    path("accounts/<int:pk>/inquiries/", views.inquiry_open_view, name="inquiry-open"),
    path("accounts/<int:pk>/inquiries/<int:inquiry_pk>/respond/", views.inquiry_respond_view, name="inquiry-respond"),
]
