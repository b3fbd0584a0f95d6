"""django-filter FilterSets for an account's payment plans (core.api_support.Api.filter)."""

import django_filters
from django_filters.rest_framework import FilterSet

from payment_plans.models import PaymentPlan


class PlanFilter(FilterSet):
    status = django_filters.MultipleChoiceFilter(
        choices=PaymentPlan.Status.choices, help_text="Only plans in these states (repeat for several)."
    )

    class Meta:
        model = PaymentPlan
        fields = ["status"]
