"""Shared django-filter filters for the API's lists."""

import django_filters
from django import forms
from drf_spectacular.drainage import set_override

from core.models import MAX_ID


class IdFilter(django_filters.NumberFilter):
    """A record's id: a whole number within the id range (django-filter's NumberFilter takes a
    decimal, and an id past bigint's range would reach the database)."""

    field_class = forms.IntegerField

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("max_value", MAX_ID)
        super().__init__(*args, **kwargs)
        # The schema: an integer in that range, with this filter's own help text.
        schema = {"type": "integer", "minimum": 1, "maximum": MAX_ID}
        if kwargs.get("help_text"):
            schema["description"] = str(kwargs["help_text"])
        set_override(self, "field", schema)
