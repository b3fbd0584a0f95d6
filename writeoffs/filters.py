"""django-filter FilterSet for the API's small-balance run list (core.api_support.Api.filter). The
list is already scoped to the user's practices: another practice's id filters to nothing."""

import django_filters
from django_filters.rest_framework import FilterSet

from core.filters import IdFilter
from writeoffs.models import SmallBalanceRun


class SmallBalanceRunFilter(FilterSet):
    practice = IdFilter(field_name="practice_id", help_text="Only this practice's runs.")
    status = django_filters.MultipleChoiceFilter(
        choices=SmallBalanceRun.Status.choices,
        help_text="Only runs in these states (repeat for several): waiting for approval, posted, discarded.",
    )
    run_on = django_filters.DateFromToRangeFilter(
        help_text="Nights from `run_on_after` to `run_on_before`, both included (YYYY-MM-DD)."
    )

    class Meta:
        model = SmallBalanceRun
        fields = ["practice", "status", "run_on"]
