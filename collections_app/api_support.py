"""Shared API plumbing: strict pagination and one error shape."""

from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from rest_framework import exceptions, status
from rest_framework.pagination import PageNumberPagination
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from collections_app.errors import ApplicationError


class StrictPageNumberPagination(PageNumberPagination):
    """Bad page numbers (0, -3, 'abc') are a 400 with a field error, not a 500 or a silent page 1;
    a page past the end is a 404 as in DRF."""

    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200

    def paginate_queryset(self, queryset, request, view=None):
        for name in (self.page_query_param, self.page_size_query_param):
            raw = request.query_params.get(name)
            if raw is not None and not (raw.isdigit() and 0 < int(raw) < 10**7):
                raise exceptions.ValidationError({name: ["Must be a whole number of at least 1."]})
        return super().paginate_queryset(queryset, request, view)


def exception_handler(exc, context):
    if isinstance(exc, ApplicationError):
        field = exc.field or "non_field_errors"
        return Response({field: [exc.message], **exc.extra}, status=status.HTTP_400_BAD_REQUEST)
    if isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(exc.message_dict if hasattr(exc, "error_dict") else exc.messages)
    if isinstance(exc, Http404):
        exc = exceptions.NotFound("No such record in your practices.")
    if isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied(str(exc) or None)
    return drf_exception_handler(exc, context)
