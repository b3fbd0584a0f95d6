from django.urls import path

from collections_app.workspace import views

urlpatterns = [
    path("accounts/<int:pk>/", views.account_page, name="account-detail"),
    path("accounts/<int:pk>/refresh/", views.account_refresh, name="account-refresh"),
    path("accounts/<int:pk>/timeline/", views.account_timeline_view, name="account-timeline"),
    path("schedule/", views.schedule, name="schedule"),
]
