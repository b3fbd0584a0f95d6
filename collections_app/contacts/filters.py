"""django-filter FilterSets for the account's promises to pay (core.api_support.Api.filter)."""

import django_filters
from django_filters.rest_framework import FilterSet

from collections_app.models import PromiseToPay


class PromiseFilter(FilterSet):
    status = django_filters.MultipleChoiceFilter(
        choices=PromiseToPay.Status.choices, help_text="Only promises in these states (repeat for several)."
    )
    due_on = django_filters.DateFromToRangeFilter(
        help_text="Due from `due_on_after` to `due_on_before`, both included (YYYY-MM-DD)."
    )

    class Meta:
        model = PromiseToPay
        fields = ["status", "due_on"]
