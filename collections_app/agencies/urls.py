from django.urls import path

from collections_app.agencies import views

urlpatterns = [
    path("agencies/", views.agency_list, name="agency-list"),
    path("agencies/setup/", views.agency_setup, name="agency-setup"),
    path("agencies/new/", views.agency_new, name="agency-new"),
    path("agencies/<int:pk>/edit/", views.agency_edit, name="agency-edit"),
    path("agencies/<int:pk>/active/", views.agency_active, name="agency-active"),
    path("agencies/candidates/", views.candidates, name="agency-candidates"),
    path("agencies/candidates/preview/", views.placement_preview, name="agency-placement-preview"),
    path("agencies/candidates/place/", views.placement_confirm, name="agency-placement-confirm"),
    path("agencies/batches/", views.batches, name="agency-batches"),
    path("agencies/batches/<int:pk>/", views.batch_detail, name="agency-batch-detail"),
    path("agencies/placements/recall/", views.placements_recall, name="agency-placements-recall"),
    path("agencies/<int:pk>/recall-file/", views.recall_file_make, name="agency-recall-file"),
    path(
        "agencies/<int:pk>/direct-payments-file/", views.direct_payments_file_make, name="agency-direct-payments-file"
    ),
    path("agencies/files/<int:pk>/", views.file_download, name="agency-file-download"),
    path("agencies/payments/", views.payments, name="agency-payments"),
    path("accounts/<int:pk>/placements/", views.account_placements, name="account-placements"),
]
