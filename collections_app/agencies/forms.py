from django import forms

from accounts.money import MONEY
from core.models import MAX_ID

MAX_IDS = 1000


class CandidateFilterForm(forms.Form):
    practice = forms.TypedChoiceField(required=False, coerce=int, empty_value=None, label="Practice")
    min_balance = forms.DecimalField(
        required=False, min_value=0, label="Balance at least", max_digits=MONEY["max_digits"], decimal_places=2
    )

    def __init__(self, *args, practices=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["practice"].choices = [("", "All my practices")] + [(p.pk, p.name) for p in practices]


class _Ids(forms.Field):
    """Many checkbox values of one name: whole numbers, at most MAX_IDS."""

    widget = forms.MultipleHiddenInput

    def __init__(self, *, message: str, **kwargs):
        self.message = message
        super().__init__(**kwargs)

    def to_python(self, value):
        values = value or []
        if len(values) > MAX_IDS:
            raise forms.ValidationError(f"Choose at most {MAX_IDS:,} at once.")
        try:
            ids = sorted({int(item) for item in values})
        except (TypeError, ValueError):
            raise forms.ValidationError(self.message) from None
        if not ids or ids[0] < 1 or ids[-1] > MAX_ID:
            raise forms.ValidationError(self.message)
        return ids


class PlacementSelectionForm(forms.Form):
    accounts = _Ids(message="Tick the accounts to place.")
    agency = forms.TypedChoiceField(required=False, coerce=int, empty_value=None)

    def __init__(self, *args, agencies=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["agency"].choices = [("", "Each practice's default agency")] + [(a.pk, a.name) for a in agencies]


class PlacementConfirmForm(PlacementSelectionForm):
    fingerprint = forms.CharField(max_length=64, widget=forms.HiddenInput)


class RecallForm(forms.Form):
    placements = _Ids(message="Tick the accounts to recall.")
    note = forms.CharField(max_length=300, required=False)


class PaymentFileForm(forms.Form):
    agency = forms.TypedChoiceField(coerce=int, label="Agency")
    file = forms.FileField(label="Agency payment file (CSV)")

    def __init__(self, *args, agencies=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["agency"].choices = [(a.pk, f"{a.name} ({a.practice.name})") for a in agencies]
