from datetime import datetime
from decimal import Decimal

from django import forms

from accounts.money import MONEY
from collections_app.agencies.services import AGENCY_FIELDS, phone_digits
from collections_app.models import Agency
from core.errors import ApplicationError
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


class AgencyPaymentByHandForm(forms.Form):
    """One payment from an agency's remittance statement, typed in: the account it was placed with."""

    agency = forms.TypedChoiceField(coerce=int, label="Agency")
    account_number = forms.CharField(max_length=30, label="Account number")
    paid_on = forms.DateField(label="Patient paid the agency on", widget=forms.DateInput(attrs={"type": "date"}))
    gross = forms.DecimalField(
        min_value=Decimal("0.01"), max_digits=MONEY["max_digits"], decimal_places=2, label="Gross collected"
    )
    commission = forms.DecimalField(
        required=False,
        min_value=0,
        max_digits=MONEY["max_digits"],
        decimal_places=2,
        label="Agency commission",
        help_text="Leave empty for the agency's rate.",
    )
    reference = forms.CharField(max_length=60, label="Agency's reference")

    def __init__(self, *args, agencies=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["agency"].choices = [(a.pk, f"{a.name} ({a.practice.name})") for a in agencies]

    def clean_account_number(self):
        return self.cleaned_data["account_number"].strip()


class AgencyForm(forms.Form):
    """An agency's details. The services check the rules again (collections_app.agencies.services);
    here each field gets its own message, all at once."""

    practice = forms.TypedChoiceField(
        coerce=int, label="Practice", error_messages={"invalid_choice": "Choose one of your practices."}
    )
    name = forms.CharField(max_length=200, label="Agency name", error_messages={"required": "Enter the agency's name."})
    contact_name = forms.CharField(max_length=200, required=False, label="Contact person")
    phone = forms.CharField(max_length=20, required=False, help_text="Ten digits; punctuation is ignored.")
    email = forms.EmailField(
        required=False,
        label="Email",
        error_messages={"invalid": "Enter an email address such as placements@agency.example."},
    )
    mailing_address = forms.CharField(
        max_length=300,
        required=False,
        label="Mailing address",
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="As on an envelope, one line each.",
    )
    commission_rate = forms.DecimalField(
        label="Commission (percent)",
        min_value=0,
        max_value=100,
        max_digits=5,
        decimal_places=2,
        help_text="The agency's share of what it collects, from 0 to 100 (e.g. 25 or 27.50).",
        error_messages={
            "required": "Enter the commission as a percent from 0 to 100.",
            "invalid": "Enter the commission as a number, such as 25 or 27.50.",
            "min_value": "The commission cannot be below 0 percent.",
            "max_value": "The commission cannot be above 100 percent.",
            "max_digits": "Enter the commission as a percent from 0 to 100.",
            "max_whole_digits": "Enter the commission as a percent from 0 to 100.",
            "max_decimal_places": "Use at most two decimals for the commission.",
        },
    )
    file_layout = forms.ChoiceField(
        label="Placement file layout",
        error_messages={"required": "Choose CSV or fixed-width for the placement file."},
    )
    is_default = forms.BooleanField(
        required=False,
        label="The practice's default agency",
        help_text="Placements go here unless the manager chooses another. Replaces the current default.",
    )
    # The agency's updated_at when the form was drawn: a concurrent edit is refused, not overwritten.
    updated_at = forms.CharField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args, practices=(), agency=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.agency = agency
        self.fields["practice"].choices = [(p.pk, p.name) for p in practices]
        self.fields["file_layout"].choices = Agency.FileLayout.choices
        if agency is not None:
            # The practice is fixed once the agency exists: its placements and files are that practice's.
            del self.fields["practice"]
        else:
            del self.fields["updated_at"]
            if len(practices) == 1:
                self.fields["practice"].initial = practices[0].pk

    @classmethod
    def for_agency(cls, agency, **kwargs):
        initial = {name: getattr(agency, name) for name in AGENCY_FIELDS}
        initial["updated_at"] = agency.updated_at.isoformat()
        return cls(initial=initial, agency=agency, **kwargs)

    def clean_phone(self):
        try:
            return phone_digits(self.cleaned_data["phone"])
        except ApplicationError as refused:
            raise forms.ValidationError(refused.message) from None

    def clean_updated_at(self):
        text = self.cleaned_data.get("updated_at") or ""
        if not text:
            return None
        try:
            value = datetime.fromisoformat(text)
        except ValueError:
            raise forms.ValidationError("Reload the page and try again.") from None
        if value.tzinfo is None:
            raise forms.ValidationError("Reload the page and try again.")
        return value

    def values(self) -> dict:
        """The agency fields for agency_create / agency_update."""
        return {name: self.cleaned_data[name] for name in AGENCY_FIELDS}


class AgencyActiveForm(forms.Form):
    active = forms.TypedChoiceField(
        coerce=lambda value: value == "1",
        choices=[("1", "Takes placements"), ("0", "No longer used")],
        error_messages={
            "required": "Say whether the agency takes placements.",
            "invalid_choice": "Say whether the agency takes placements.",
        },
    )
