from django.urls import path

from collections_app.queues import views

urlpatterns = [
    path("queue/", views.queue_page, name="queue"),
    path("queue/next/", views.queue_next, name="queue-next"),
    path("queue/<int:pk>/release/", views.queue_release, name="queue-release"),
    path("queue/<int:pk>/extend/", views.queue_claim_extend, name="queue-claim-extend"),
    path("queue/<int:pk>/reassign/", views.reassign, name="queue-reassign"),
    path("queue/team/", views.team_page, name="queue-team"),
    path("queue/team/<int:rep_id>/", views.team_rep_page, name="queue-team-rep"),
    path("queue/team/pool/", views.team_rep_page, name="queue-team-pool"),
    path("queue/assignments/", views.assignments_page, name="queue-assignments"),
    path("queue/assignments/<int:pk>/delete/", views.assignment_delete, name="queue-assignment-delete"),
]
