from django import forms

from core.access import practices_for
from imports.models import ImportUpload


class ImportUploadForm(forms.Form):
    practice = forms.ModelChoiceField(queryset=None, empty_label=None, label="Practice")
    kind = forms.ChoiceField(choices=ImportUpload.Kind.choices, label="What the file holds")
    file = forms.FileField(label="File", allow_empty_file=True)  # an empty file gets our own message
    cutoff = forms.DateField(
        required=False,
        label="Cut-off date (Synthea only)",
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text="Nothing dated after it is imported.",
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["practice"].queryset = practices_for(user).order_by("name")
        self.fields["practice"].error_messages["invalid_choice"] = "Choose one of your practices."
