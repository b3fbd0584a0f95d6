"""django-filter FilterSets for the API's placement and agency-payment lists (core.api_support.Api.filter).

The querysets are already scoped to the user's practices: a practice or agency id of another
practice filters to nothing, it reveals nothing. A bad value is a 400 naming the filter.
"""

import django_filters
from django_filters.rest_framework import FilterSet

from collections_app.models import AgencyPayment, Placement
from core.filters import IdFilter


class PlacementFilter(FilterSet):
    agency = IdFilter(field_name="agency_id", help_text="Only this agency's placements.")
    practice = IdFilter(field_name="practice_id", help_text="Only this practice's.")
    account = IdFilter(field_name="account_id", help_text="Only this account's.")
    status = django_filters.MultipleChoiceFilter(
        choices=Placement.Status.choices,
        help_text="Only placements in these states (repeat for several): at the agency, recalled, or "
        "closed (the agency collected it in full).",
    )
    placed_on = django_filters.DateFromToRangeFilter(
        help_text="Placed from `placed_on_after` to `placed_on_before`, both included (YYYY-MM-DD)."
    )

    class Meta:
        model = Placement
        fields = ["agency", "practice", "account", "status", "placed_on"]


class AgencyPaymentFilter(FilterSet):
    agency = IdFilter(field_name="agency_id", help_text="Only this agency's payments.")
    practice = IdFilter(field_name="practice_id", help_text="Only this practice's.")
    placement = IdFilter(field_name="placement_id", help_text="Only this placement's.")
    paid_on = django_filters.DateFromToRangeFilter(
        help_text="Paid from `paid_on_after` to `paid_on_before`, both included (YYYY-MM-DD)."
    )

    class Meta:
        model = AgencyPayment
        fields = ["agency", "practice", "placement", "paid_on"]
