"""Filters of the reports."""

from django import forms

from core.models import AuditEvent, StaffUser

DATE_INPUT_FORMATS = ["%Y-%m-%d", "%m/%d/%Y"]


class AuditFilterForm(forms.Form):
    user = forms.ModelChoiceField(
        queryset=StaffUser.objects.order_by("username").only("id", "username", "first_name", "last_name"),
        required=False,
        empty_label="Any user",
    )
    action = forms.ChoiceField(required=False, choices=[("", "Any action"), *AuditEvent.Action.choices])
    object_type = forms.CharField(
        required=False, max_length=60, label="Object type", widget=forms.TextInput(attrs={"list": "object-types"})
    )
    practice = forms.ModelChoiceField(queryset=None, required=False, empty_label="Any practice")
    date_from = forms.DateField(
        required=False, input_formats=DATE_INPUT_FORMATS, label="From", widget=forms.DateInput(attrs={"type": "date"})
    )
    date_to = forms.DateField(
        required=False, input_formats=DATE_INPUT_FORMATS, label="To", widget=forms.DateInput(attrs={"type": "date"})
    )

    def __init__(self, *args, practices, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["practice"].queryset = practices
        self.fields["practice"].label_from_instance = lambda practice: practice.name

    def clean(self):
        data = super().clean()
        start, end = data.get("date_from"), data.get("date_to")
        if start and end and start > end:
            self.add_error("date_to", "The end date is before the start date.")
        return data
