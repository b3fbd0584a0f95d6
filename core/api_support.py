"""Shared API plumbing: the base API view, strict pagination, the field-group serializer mixin
and one error shape."""

from django.core.exceptions import FieldDoesNotExist, ImproperlyConfigured, PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import QuerySet
from django.http import Http404, JsonResponse
from django.utils.functional import cached_property
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.extensions import OpenApiSerializerExtension
from rest_framework import exceptions, status
from rest_framework.pagination import PageNumberPagination
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response
from rest_framework.views import APIView
from rest_framework.views import exception_handler as drf_exception_handler

from core.access import MINIMUM_TIER, FieldGroup, FieldGroupPermission, visible_groups
from core.errors import ApplicationError
from core.models import Tier
from core.pagination import CappedPaginator


class ApiPaginator(CappedPaginator):
    """The web search's capped count (at most 1,000 rows counted) for API pages too. A list that is
    not a queryset (already in memory) is counted whole."""

    COUNT_CAP = 1000  # as accounts.selectors.SEARCH_COUNT_CAP, the web search's

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("cap", self.COUNT_CAP)
        super().__init__(*args, **kwargs)

    @cached_property
    def count(self) -> int:
        if isinstance(self.object_list, QuerySet):
            return self.object_list.order_by().values("pk")[: self.cap + 1].count()
        return len(self.object_list)


class StrictPageNumberPagination(PageNumberPagination):
    """Bad page numbers (0, -3, 'abc') are a 400 with a field error, not a 500 or a silent page 1;
    a page past the end is a 404 as in DRF."""

    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200
    django_paginator_class = ApiPaginator

    def paginate_queryset(self, queryset, request, view=None):
        for name in (self.page_query_param, self.page_size_query_param):
            raw = request.query_params.get(name)
            # ASCII digits only, at most 7 of them: "²" and "١٢" pass str.isdigit() but are no page
            # number, and a 10,000-digit one is refused before int() is asked to read it.
            if raw is not None and not (raw.isascii() and raw.isdigit() and len(raw) <= 7 and int(raw) > 0):
                raise exceptions.ValidationError({name: ["Must be a whole number of at least 1."]})
        return super().paginate_queryset(queryset, request, view)

    def get_paginated_response(self, data):
        paginator = self.page.paginator
        return Response(
            {
                "count": min(paginator.count, paginator.cap),
                "count_capped": paginator.is_capped,
                "next": self.get_next_link(),
                "previous": self.get_previous_link(),
                "results": data,
            }
        )

    def get_paginated_response_schema(self, schema):
        envelope = super().get_paginated_response_schema(schema)
        properties = envelope["properties"]
        properties["count"] = {
            "type": "integer",
            "minimum": 0,
            "maximum": ApiPaginator.COUNT_CAP,
            "description": f"How many rows match, counted up to {ApiPaginator.COUNT_CAP:,} (see `count_capped`).",
            "example": 123,
        }
        envelope["properties"] = {
            "count": properties["count"],
            "count_capped": {
                "type": "boolean",
                "description": f"True when more rows match than `count` says: counting stops at "
                f"{ApiPaginator.COUNT_CAP:,}, as on the web search. Narrow the filters to see the rest.",
            },
            **{name: value for name, value in properties.items() if name != "count"},
        }
        envelope["required"] = ["count", "count_capped", "next", "previous", "results"]
        return envelope


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

    # A list with django-filter filters sets `filterset_class` (a FilterSet over the selector's model)
    # and calls `self.filter(queryset)`; drf-spectacular documents the filters as query parameters.
    filterset_class = None

    @property
    def filter_backends(self):
        return [DjangoFilterBackend] if self.filterset_class else []

    @property
    def queryset(self):
        # drf-spectacular reads the filterset's model from here (the schema only; never queried).
        return self.filterset_class._meta.model.objects.none() if self.filterset_class else None

    def filter(self, queryset):
        """`queryset` narrowed by the query string's filters (400 with field errors for a bad value)."""
        return DjangoFilterBackend().filter_queryset(self.request, queryset, self)

    def handle_exception(self, exc):
        # An error answers JSON (the Error or FieldErrors shape) even from an endpoint whose success
        # is a PDF or a CSV: the renderer negotiated for the success does not apply to it.
        response = super().handle_exception(exc)
        self.request.accepted_renderer = JSONRenderer()
        self.request.accepted_media_type = JSONRenderer.media_type
        return response

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
    if isinstance(exc, exceptions.ValidationError) and not isinstance(exc.detail, dict):
        # One shape for every 400 (the FieldErrors component): an object of field -> messages.
        exc = exceptions.ValidationError({"non_field_errors": exc.detail})
    if isinstance(exc, Http404):
        exc = exceptions.NotFound("No such record in your practices.")
    if isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied(str(exc) or None)
    return drf_exception_handler(exc, context)


# --- Errors outside a view: an unknown URL under /api/ answers JSON as the views do -----------

MESSAGE_NO_ENDPOINT = "No such endpoint. The schema at /api/schema/ lists them."
MESSAGE_BAD_REQUEST = "Bad request."


def _is_api(request) -> bool:
    return request.path.startswith("/api/")


def api_not_found(request, exception=None):
    """handler404 for /api/ paths (config.urls); pages keep Django's own 404 page."""
    from django.views.defaults import page_not_found

    if _is_api(request):
        return JsonResponse({"detail": MESSAGE_NO_ENDPOINT}, status=status.HTTP_404_NOT_FOUND)
    return page_not_found(request, exception)


def api_bad_request(request, exception=None):
    """handler400 for /api/ paths (a request Django refuses before any view: too many fields, a
    bad Host): the FieldErrors shape."""
    from django.views.defaults import bad_request

    if _is_api(request):
        return JsonResponse({"non_field_errors": [MESSAGE_BAD_REQUEST]}, status=status.HTTP_400_BAD_REQUEST)
    return bad_request(request, exception)


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
        model_fields = self._model_fields()
        for name, prop in list(schema.get("properties", {}).items()):
            # DRF drops allow_blank and allow_null from read-only fields (every field here is one),
            # so the schema would refuse the "" or null an unset model field answers with.
            model_field = model_fields.get(name)
            if model_field is not None:
                prop = schema["properties"][name] = self._unset_allowed(prop, model_field)
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

    def _model_fields(self) -> dict:
        """Serializer field name -> the model field it renders directly (no dotted source)."""
        serializer = self.target() if isinstance(self.target, type) else self.target
        model = getattr(getattr(serializer, "Meta", None), "model", None)
        if model is None:
            return {}
        found = {}
        for name, field in serializer.fields.items():
            if field.source == "*" or "." in field.source:
                continue
            try:
                found[name] = model._meta.get_field(field.source)
            except FieldDoesNotExist:
                continue
        return found

    @staticmethod
    def _unset_allowed(prop: dict, model_field) -> dict:
        if model_field.null and not prop.get("nullable"):
            if "$ref" in prop:
                return {"allOf": [{"$ref": prop["$ref"]}], "nullable": True}
            prop["nullable"] = True
        if model_field.blank and not model_field.null:
            if model_field.choices and "enum" in prop and "" not in prop["enum"]:
                # drf-spectacular's enum hook documents the "" as the shared BlankEnum.
                prop["enum"] = [*prop["enum"], ""]
            elif prop.get("format") in ("email", "uri"):
                blank = {"type": "string", "maxLength": 0}
                return {"anyOf": [prop, blank], **({"readOnly": True} if prop.get("readOnly") else {})}
        return prop
