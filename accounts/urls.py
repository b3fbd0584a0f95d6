from django.urls import path

from accounts import views

urlpatterns = [
    path("search/", views.search, name="search"),
    path("accounts/<int:pk>/ledger/", views.account_ledger_page, name="account-ledger"),
    path("accounts/<int:pk>/open-encounters/", views.account_open_encounters, name="account-open-encounters"),
    path("patients/<int:pk>/edit/", views.patient_edit, name="patient-edit"),
]
