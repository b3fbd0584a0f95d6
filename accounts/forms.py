"""Forms for the account pages: the search box and the demographics editor."""

import re
from datetime import date, datetime

from django import forms
from django.utils import timezone

from accounts.models import Patient, PatientAccount
from accounts.selectors import digits_only

DATE_INPUT_FORMATS = ["%Y-%m-%d", "%m/%d/%Y", "%m-%d-%Y"]
OLDEST_DATE_OF_BIRTH = date(1900, 1, 1)
_POSTAL_CODE = re.compile(r"^\d{5}(-\d{4})?$")


class AccountSearchForm(forms.Form):
    """What the search box sends. Anything typed is accepted (the selector classifies and bounds
    it); only a practice or status outside the choices is an error. The status filter is billing
    information: the front desk's form has none."""

    q = forms.CharField(required=False, label="Search")
    practice = forms.TypedChoiceField(required=False, coerce=int, empty_value=None, label="Practice")
    status = forms.ChoiceField(required=False, label="Status")

    def __init__(self, *args, practices=(), shows_billing: bool = True, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["practice"].choices = [("", "All practices"), *((p.pk, p.name) for p in practices)]
        if shows_billing:
            self.fields["status"].choices = [("", "Any status"), *PatientAccount.Status.choices]
        else:
            del self.fields["status"]

    def has_criteria(self) -> bool:
        data = self.cleaned_data
        return bool(data.get("q", "").strip() or data.get("status"))

    def criteria(self) -> dict:
        """The valid search as form data, to bind this form to again (the session keeps it)."""
        data = self.cleaned_data
        practice = data.get("practice")
        return {
            "q": data.get("q", ""),
            "practice": "" if practice is None else str(practice),
            "status": data.get("status", ""),
        }


class PatientDemographicsForm(forms.Form):
    """Names, date of birth, sex, contact details and address. Saving goes through
    accounts.services.patient_update_demographics, which keeps the address history and audits."""

    first_name = forms.CharField(max_length=100)
    middle_name = forms.CharField(max_length=100, required=False)
    last_name = forms.CharField(max_length=100)
    date_of_birth = forms.DateField(input_formats=DATE_INPUT_FORMATS, widget=forms.DateInput(attrs={"type": "date"}))
    sex = forms.ChoiceField(choices=Patient.Sex.choices)
    phone = forms.CharField(max_length=20, required=False, help_text="Ten digits; punctuation is ignored.")
    email = forms.EmailField(required=False)
    address_line1 = forms.CharField(max_length=200, required=False, label="Address")
    address_line2 = forms.CharField(max_length=200, required=False, label="Address line 2")
    city = forms.CharField(max_length=100, required=False)
    state = forms.CharField(required=False, widget=forms.TextInput(attrs={"size": 2, "maxlength": 2}))
    postal_code = forms.CharField(max_length=10, required=False, label="ZIP")
    # The record's updated_at when the form was drawn: a concurrent edit is refused, not overwritten.
    updated_at = forms.CharField(widget=forms.HiddenInput)

    EDITABLE = (*Patient.NAME_AND_CONTACT_FIELDS, *Patient.ADDRESS_FIELDS)

    def __init__(self, *args, today: date | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        # The practice's today (accounts.selectors.practice_today); the server's date is UTC's.
        self.today = today or timezone.localdate()

    @classmethod
    def for_patient(cls, patient: Patient, **kwargs) -> "PatientDemographicsForm":
        initial = {name: getattr(patient, name) for name in cls.EDITABLE}
        initial["updated_at"] = patient.updated_at.isoformat()
        return cls(initial=initial, **kwargs)

    def clean_date_of_birth(self):
        value = self.cleaned_data["date_of_birth"]
        if value > self.today:
            raise forms.ValidationError("A date of birth cannot be in the future.")
        if value < OLDEST_DATE_OF_BIRTH:
            raise forms.ValidationError("Check the year of birth.")
        return value

    def clean_phone(self):
        digits = digits_only(self.cleaned_data["phone"])
        if len(digits) == 11 and digits.startswith("1"):
            digits = digits[1:]
        if digits and len(digits) != 10:
            raise forms.ValidationError("Enter a ten-digit phone number, area code first.")
        return digits

    def clean_state(self):
        value = self.cleaned_data["state"].strip().upper()
        if value and not re.fullmatch(r"[A-Z]{2}", value):
            raise forms.ValidationError("Use the two-letter state code.")
        return value

    def clean_postal_code(self):
        value = self.cleaned_data["postal_code"].strip()
        if value and not _POSTAL_CODE.match(value):
            raise forms.ValidationError("Enter a five-digit ZIP code (or ZIP+4).")
        return value

    def clean_updated_at(self):
        try:
            value = datetime.fromisoformat(self.cleaned_data["updated_at"])
        except ValueError:
            raise forms.ValidationError("Reload the page and try again.") from None
        if timezone.is_naive(value):
            raise forms.ValidationError("Reload the page and try again.")
        return value

    def changes(self) -> dict:
        return {name: self.cleaned_data[name] for name in self.EDITABLE}
