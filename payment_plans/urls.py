from django.urls import path

from payment_plans import views

urlpatterns = [
    path("accounts/<int:pk>/plans/panel/", views.plans_panel, name="plans-panel"),
    path("accounts/<int:pk>/plans/new/", views.plan_create, name="plan-create"),
    path("accounts/<int:pk>/plans/preview/", views.plan_preview, name="plan-preview"),
    path("plans/<int:pk>/", views.plan_detail, name="plan-detail"),
    path("plans/<int:pk>/agreement.pdf", views.plan_agreement, name="plan-agreement"),
    path("plans/<int:pk>/activate/", views.plan_activate, name="plan-activate"),
    path("plans/<int:pk>/cancel/", views.plan_cancel, name="plan-cancel"),
    path("plans/<int:pk>/modify/", views.plan_modify, name="plan-modify"),
]
