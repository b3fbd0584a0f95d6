from django.urls import path

from reports.statements import batch_views, views

urlpatterns = [
    path("accounts/<int:pk>/statements/", views.statements_panel, name="statements-panel"),
    path("accounts/<int:pk>/letters/", views.letter_print_view, name="letter-print"),
    path("statements/<int:pk>/pdf/", views.statement_pdf, name="statement-pdf"),
    path("statements/batches/", batch_views.batch_list, name="statement-batches"),
    path("statements/batches/<int:pk>/", batch_views.batch_detail, name="statement-batch-detail"),
    path("statements/batches/<int:pk>/print-file/", batch_views.batch_print_file, name="statement-batch-print-file"),
]
