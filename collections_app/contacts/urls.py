from django.urls import path

from collections_app.contacts import views

urlpatterns = [
    path("accounts/<int:pk>/contacts/", views.panel, name="contacts-panel"),
    path("accounts/<int:pk>/contacts/log/", views.contact_log, name="contacts-log"),
    path("accounts/<int:pk>/contacts/payment/", views.payment_record, name="contacts-payment"),
    path("accounts/<int:pk>/contacts/follow-up/", views.follow_up_set, name="contacts-follow-up"),
    path("accounts/<int:pk>/contacts/note/", views.note_add, name="contacts-note"),
    path("accounts/<int:pk>/contacts/flags/", views.flags_set, name="contacts-flags"),
    path("accounts/<int:pk>/contacts/consent/", views.consent_record, name="contacts-consent"),
    path("accounts/<int:pk>/contacts/consent/revoke/", views.consent_revoke, name="contacts-consent-revoke"),
]
