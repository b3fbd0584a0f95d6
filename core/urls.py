from django.urls import path

from core import views

urlpatterns = [
    path("login/", views.StaffLoginView.as_view(), name="login"),
    path("logout/", views.StaffLogoutView.as_view(), name="logout"),
    path("settings/", views.my_settings, name="my-settings"),
]
