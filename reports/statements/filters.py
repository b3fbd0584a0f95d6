"""django-filter FilterSet for the API's statement batch list (core.api_support.Api.filter). The
list is already scoped to the user's practices: another practice's id filters to nothing."""

import django_filters
from django_filters.rest_framework import FilterSet

from core.filters import IdFilter
from reports.models import StatementBatch


class StatementBatchFilter(FilterSet):
    practice = IdFilter(field_name="practice_id", help_text="Only this practice's batches.")
    kind = django_filters.ChoiceFilter(
        choices=StatementBatch.Kind.choices, help_text="The statement cycle's batches, or a manager's letters."
    )
    status = django_filters.MultipleChoiceFilter(
        choices=StatementBatch.Status.choices, help_text="Only batches in these states (repeat for several)."
    )
    run_on = django_filters.DateFromToRangeFilter(
        help_text="Business dates from `run_on_after` to `run_on_before`, both included (YYYY-MM-DD)."
    )

    class Meta:
        model = StatementBatch
        fields = ["practice", "kind", "status", "run_on"]
