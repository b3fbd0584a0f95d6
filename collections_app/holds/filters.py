"""django-filter FilterSets for an account's holds (core.api_support.Api.filter)."""

import django_filters
from django_filters.rest_framework import FilterSet

from collections_app.models import AccountHold


class HoldFilter(FilterSet):
    kind = django_filters.MultipleChoiceFilter(
        choices=AccountHold.Kind.choices, help_text="Only holds of these kinds (repeat for several)."
    )
    active = django_filters.BooleanFilter(
        field_name="released_at", lookup_expr="isnull", help_text="Only holds in force (true) or released (false)."
    )

    class Meta:
        model = AccountHold
        fields = ["kind", "active"]
