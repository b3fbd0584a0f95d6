"""django-filter FilterSets for the API's account and ledger lists (core.api_support.Api.filter).

Only filters that reveal nothing beyond the endpoint's own field group: `past_due` is the flag every
tier sees; the ledger is a billing endpoint already. A bad value is a 400 naming the filter.
"""

import django_filters
from django_filters.rest_framework import FilterSet

from accounts.models import PatientAccount, Transaction


class AccountFilter(FilterSet):
    past_due = django_filters.BooleanFilter(
        field_name="past_due_last_night",
        help_text="Only accounts flagged 'see billing office' by last night's aging (true), or the others (false).",
    )

    class Meta:
        model = PatientAccount
        fields = ["past_due"]


class TransactionFilter(FilterSet):
    kind = django_filters.MultipleChoiceFilter(
        choices=Transaction.Kind.choices, help_text="Only these kinds of row (repeat the parameter for several)."
    )
    effective_on = django_filters.DateFromToRangeFilter(
        help_text="Transaction dates from `effective_on_after` to `effective_on_before`, both included (YYYY-MM-DD)."
    )

    class Meta:
        model = Transaction
        fields = ["kind", "effective_on"]
