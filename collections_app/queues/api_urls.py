from django.urls import path

from collections_app.queues import api

urlpatterns = [
    path("queue/", api.MyQueueApi.as_view(), name="api-queue"),
    path("queue/next/", api.QueueNextApi.as_view(), name="api-queue-next"),
    path("queue/reassign/", api.QueueReassignApi.as_view(), name="api-queue-reassign"),
    path("queue/<int:pk>/release/", api.QueueReleaseApi.as_view(), name="api-queue-release"),
]
