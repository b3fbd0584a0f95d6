from django.urls import path

from payment_plans import api

urlpatterns = [
    path("accounts/<int:pk>/plans/", api.AccountPlansApi.as_view(), name="api-account-plans"),
    path("plans/<int:pk>/", api.PlanDetailApi.as_view(), name="api-plan-detail"),
    path("plans/<int:pk>/activate/", api.PlanActivateApi.as_view(), name="api-plan-activate"),
    path("plans/<int:pk>/cancel/", api.PlanCancelApi.as_view(), name="api-plan-cancel"),
    path("plans/<int:pk>/modify/", api.PlanModifyApi.as_view(), name="api-plan-modify"),
]
