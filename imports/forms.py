from django import forms

from core.access import practices_for
from core.models import MAX_ID
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


# The reasons a billing office most often closes a remittance claim it cannot post (offered, not imposed).
CLOSE_REASONS = (
    "Not our patient",
    "Sent back to payer",
    "Duplicate of a claim already posted",
    "Posted by hand",
)


class UnmatchedSearchForm(forms.Form):
    q = forms.CharField(
        max_length=38,
        label="Claim patient control number or account number",
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )


class UnmatchedPostForm(forms.Form):
    claim = forms.IntegerField(
        min_value=1,
        max_value=MAX_ID,
        label="Claim",
        error_messages={
            "required": "Choose the claim to post to.",
            "invalid": "Choose the claim to post to.",
            "min_value": "Choose the claim to post to.",
            "max_value": "Choose the claim to post to.",
        },
    )


class UnmatchedCloseForm(forms.Form):
    note = forms.CharField(
        max_length=200,
        label="Why it is closed",
        error_messages={"required": "Say why this remittance claim is closed without a claim."},
        widget=forms.TextInput(attrs={"list": "close-reasons", "autocomplete": "off"}),
        help_text="Kept with the entry, e.g. not our patient, sent back to payer.",
    )
