"""Shared API plumbing: the base API view, strict pagination, the field-group serializer mixin
and one error shape."""

from django.core.exceptions import ImproperlyConfigured, PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from drf_spectacular.extensions import OpenApiSerializerExtension
from rest_framework import exceptions, status
from rest_framework.pagination import PageNumberPagination
from rest_framework.response import Response
from rest_framework.views import APIView
from rest_framework.views import exception_handler as drf_exception_handler

from core.access import MINIMUM_TIER, FieldGroup, FieldGroupPermission, visible_groups
from core.errors import ApplicationError
from core.models import Tier


class StrictPageNumberPagination(PageNumberPagination):
    """Bad page numbers (0, -3, 'abc') are a 400 with a field error, not a 500 or a silent page 1;
    a page past the end is a 404 as in DRF."""

    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200

    def paginate_queryset(self, queryset, request, view=None):
        for name in (self.page_query_param, self.page_size_query_param):
            raw = request.query_params.get(name)
            # ASCII digits only, at most 7 of them: "²" and "١٢" pass str.isdigit() but are no page
            # number, and a 10,000-digit one is refused before int() is asked to read it.
            if raw is not None and not (raw.isascii() and raw.isdigit() and len(raw) <= 7 and int(raw) > 0):
                raise exceptions.ValidationError({name: ["Must be a whole number of at least 1."]})
        return super().paginate_queryset(queryset, request, view)


# The base of every API view: declare `field_group` (FieldGroupPermission refuses a view that
# declares none), validate with an Input serializer, load through a scoped selector, call one
# service for a write, render with an Output serializer, audit the read.
# A list that pages sets `pagination_class = StrictPageNumberPagination` and
# `@extend_schema(responses=XxxOutput(many=True))` on its `get`; drf-spectacular then documents
# the page envelope and the `page`/`page_size` parameters.
# (No docstring: drf-spectacular would show it as the description of every undocumented endpoint.)
class Api(APIView):
    field_group: FieldGroup | None = None
    permission_classes = [FieldGroupPermission]
    # No default paginator: an unpaged list must not be documented as paged.
    pagination_class: type[PageNumberPagination] | None = None

    def valid_body(self, input_class) -> dict:
        """`request.data` validated by `input_class` (400 with field errors)."""
        return self._validated(input_class, self.request.data)

    def valid_query(self, input_class) -> dict:
        """The query string validated by `input_class` (400 with field errors), before any query runs."""
        return self._validated(input_class, self.request.query_params)

    def _validated(self, input_class, data) -> dict:
        given = input_class(data=data, context={"request": self.request})
        given.is_valid(raise_exception=True)
        return given.validated_data

    def respond(self, output_class, instance, *, many=False, status_code=status.HTTP_200_OK) -> Response:
        """`instance` rendered by `output_class` with the request in context (the tier's field groups)."""
        data = output_class(instance, many=many, context={"request": self.request}).data
        return Response(data, status=status_code)

    @property
    def paginator(self) -> PageNumberPagination | None:
        # DRF's browsable renderer asks every view for `paginator`; None when the view does not page.
        if not hasattr(self, "_paginator"):
            self._paginator = self.pagination_class() if self.pagination_class else None
        return self._paginator

    def paginate(self, queryset) -> list:
        """This request's page of `queryset` (400 for a bad page number, 404 past the last page);
        `self.paginator.page.number` is its number."""
        if self.paginator is None:
            raise ImproperlyConfigured(f"{type(self).__name__} pages a list but sets no pagination_class.")
        return self.paginator.paginate_queryset(queryset, self.request, view=self)

    def paginated_response(self, data) -> Response:
        return self.paginator.get_paginated_response(data)


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


class FieldGroupSerializerMixin:
    """Output serializers name the field group of every field; a field the user's tier may not see
    is left out of the response entirely (not nulled), so a Low user's JSON has no balance keys.

        class AccountOutput(FieldGroupSerializerMixin, serializers.ModelSerializer):
            field_groups = {FieldGroup.DEMOGRAPHICS: ("id", "account_number"), FieldGroup.BILLING: ("patient_balance",)}

            class Meta:
                model = PatientAccount

    A ModelSerializer's Meta without `fields` gets them from `field_groups` (in that order), all
    read-only: these are output serializers. Fail closed: a field the declaration does not name is
    an ImproperlyConfigured error, never shown.
    The serializer needs the request (or `user`) in its context. Which groups a response showed is
    collected in `context["field_groups_shown"]`, for the audit row of the read.
    """

    field_groups: dict[FieldGroup, tuple[str, ...]] = {}

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        group_of: dict[str, FieldGroup] = {}
        for group, names in cls.field_groups.items():
            for name in names:
                if name in group_of:
                    raise ImproperlyConfigured(f"{cls.__name__}.{name} is declared in two field groups.")
                group_of[name] = FieldGroup(group)
        cls._group_of_field = group_of
        meta = cls.__dict__.get("Meta")
        if meta is not None and "fields" not in meta.__dict__:
            meta.fields = tuple(group_of)
            meta.read_only_fields = tuple(group_of)

    @classmethod
    def field_group_of(cls, name: str) -> FieldGroup:
        try:
            return cls._group_of_field[name]
        except KeyError:
            raise ImproperlyConfigured(f"{cls.__name__}.{name} has no field group.") from None

    def _requesting_user(self):
        request = self.context.get("request")
        user = self.context.get("user") or getattr(request, "user", None)
        if user is None:
            raise ImproperlyConfigured(f"{type(self).__name__} needs the request or user in its context.")
        return user

    @property
    def _readable_fields(self):
        # DRF's to_representation walks this; dropping a field here also skips computing it.
        context = self.context
        visible = context.get("_visible_groups")
        if visible is None:
            visible = context["_visible_groups"] = visible_groups(self._requesting_user())
        shown = context.setdefault("field_groups_shown", set())
        for field in super()._readable_fields:
            group = self.field_group_of(field.field_name)
            if group in visible:
                shown.add(group)
                yield field


class FieldGroupSerializerSchema(OpenApiSerializerExtension):
    """In the OpenAPI schema, a field beyond the lowest tier's groups is optional and says which
    tier sees it (the response leaves it out for lower tiers)."""

    target_class = FieldGroupSerializerMixin
    match_subclasses = True

    def map_serializer(self, auto_schema, direction):
        schema = auto_schema._map_serializer(self.target, direction, bypass_extensions=True)
        required = schema.get("required", [])
        for name, prop in schema.get("properties", {}).items():
            group = self.target.field_group_of(name)
            if MINIMUM_TIER[group] == Tier.LOW:
                continue
            if name in required:
                required.remove(name)
            note = f"Shown to the {MINIMUM_TIER[group].label} tier and above ({group} field group)."
            if "$ref" in prop:
                schema["properties"][name] = {"allOf": [{"$ref": prop["$ref"]}], "description": note}
            else:
                description = prop.get("description", "")
                # A choice field's description ends in a Markdown list of its values: a new paragraph.
                separator = "\n\n" if "\n" in description else " "
                prop["description"] = f"{description}{separator}{note}" if description else note
        if "required" in schema and not required:
            del schema["required"]
        serializer_class = self.target if isinstance(self.target, type) else type(self.target)
        if not serializer_class.__dict__.get("__doc__"):
            schema.pop("description", None)  # not this mixin's docstring, inherited
        return schema
