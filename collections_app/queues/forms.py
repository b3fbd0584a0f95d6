"""The queue's filter bar: a GET form (filters name no patient, so they may sit in the URL)."""

from django import forms

from accounts.money import MONEY
from collections_app.models import WorkItem
from collections_app.queues import selectors

BALANCE_ERRORS = {
    "invalid": "Enter an amount in dollars and cents, like 250 or 99.50.",
    "min_value": "Enter an amount of $0.00 or more.",
    "max_digits": "Enter an amount under $10,000,000,000.",
    "max_whole_digits": "Enter an amount under $10,000,000,000.",
    "max_decimal_places": "Enter at most two decimal places (cents).",
}


def _balance_field(label: str) -> forms.DecimalField:
    return forms.DecimalField(
        **MONEY,
        min_value=0,
        required=False,
        label=label,
        error_messages=BALANCE_ERRORS,
        # Text, not type=number: Chromium sends a number field it cannot read as empty, and the
        # rep would see an unfiltered list instead of the error.
        widget=forms.TextInput(attrs={"inputmode": "decimal", "placeholder": "$0.00", "size": "8"}),
    )


class QueueFilterForm(forms.Form):
    practice = forms.TypedChoiceField(
        coerce=int,
        empty_value=None,
        required=False,
        error_messages={"invalid_choice": selectors.MESSAGE_NOT_YOUR_PRACTICE},
    )
    reason = forms.ChoiceField(
        required=False,
        label="Why",
        choices=[("", "Any reason"), *WorkItem.Reason.choices],
        error_messages={"invalid_choice": "Choose a reason from the list."},
    )
    bucket = forms.ChoiceField(
        required=False,
        label="Aging",
        choices=[("", "Any age"), *selectors.AGING_BUCKET_CHOICES],
        error_messages={"invalid_choice": "Choose an aging bucket from the list."},
    )
    balance_min = _balance_field("Patient balance from")
    balance_max = _balance_field("to")
    sort = forms.ChoiceField(
        required=False,
        label="Sort by",
        choices=[(code, label) for code, (label, _order) in selectors.QUEUE_SORTS.items()],
        error_messages={"invalid_choice": "Choose a sort order from the list."},
    )

    def __init__(self, *args, user, practices, **kwargs):
        """`practices`: (id, name) of the user's practices; with only one, the practice field is
        not shown (`show_practice`) and its name is not needed."""
        super().__init__(*args, **kwargs)
        self.user = user
        self.fields["practice"].choices = [("", "All practices"), *practices]
        self.show_practice = len(practices) > 1

    def clean(self):
        data = super().clean()
        errors = selectors.queue_filters_errors(
            user=self.user,
            practice=data.get("practice"),
            balance_min=data.get("balance_min"),
            balance_max=data.get("balance_max"),
        )
        for name, message in errors.items():
            self.add_error(name, message)
        return data

    def filters(self) -> selectors.QueueFilters:
        """The valid filters; call after is_valid()."""
        return selectors.QueueFilters.from_cleaned(self.cleaned_data)

    def active_fields(self) -> set[str]:
        """Fields the query string set (the sort only when it is not the default)."""
        given = {name for name in self.fields if self.data.get(name)}
        if self.data.get("sort") == selectors.SORT_PRIORITY:
            given.discard("sort")
        return given
