from django.urls import path

from collections_app.holds import views

urlpatterns = [
    path("accounts/<int:pk>/holds/", views.holds_panel, name="holds-panel"),
    path("accounts/<int:pk>/holds/fields/", views.hold_kind_fields, name="hold-kind-fields"),
    path("accounts/<int:pk>/holds/place/", views.hold_place_view, name="hold-place"),
    path("accounts/<int:pk>/holds/<int:hold_pk>/release/", views.hold_release_view, name="hold-release"),
    path("accounts/<int:pk>/holds/<int:hold_pk>/status-check/", views.lop_status_check_view, name="hold-status-check"),
    path("accounts/<int:pk>/holds/<int:hold_pk>/letter/", views.lop_letter_attach_view, name="hold-letter-attach"),
    path("holds/<int:pk>/letter/", views.lop_letter, name="hold-letter"),
]
