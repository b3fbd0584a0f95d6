from django.urls import path

from writeoffs import views

urlpatterns = [
    path("accounts/<int:pk>/writeoffs/panel/", views.writeoffs_panel, name="writeoffs-panel"),
    path("accounts/<int:pk>/writeoffs/new/", views.writeoff_propose, name="writeoff-propose"),
    path("writeoffs/approvals/", views.approvals, name="writeoff-approvals"),
    path("writeoffs/approvals/preview/", views.approvals_preview, name="writeoff-approvals-preview"),
    path("writeoffs/approvals/confirm/", views.approvals_confirm, name="writeoff-approvals-confirm"),
    path("writeoffs/<int:pk>/", views.writeoff_detail, name="writeoff-detail"),
    path("writeoffs/<int:pk>/approve/", views.writeoff_approve, name="writeoff-approve"),
    path("writeoffs/<int:pk>/deny/", views.writeoff_deny, name="writeoff-deny"),
    path("writeoffs/<int:pk>/reverse/", views.writeoff_reverse, name="writeoff-reverse"),
    path("writeoffs/runs/<int:pk>/approve/", views.small_balance_run_approve, name="small-balance-run-approve"),
    path("writeoffs/runs/<int:pk>/discard/", views.small_balance_run_discard, name="small-balance-run-discard"),
]
