"""Forms of the holds panel. They parse input; the services decide what each kind requires."""

from django import forms

from accounts.money import MONEY
from collections_app.models import AccountHold

DATE_INPUT = forms.DateInput(attrs={"type": "date"})
CHAPTER_CHOICES = [("", "Chapter"), ("7", "Chapter 7"), ("11", "Chapter 11"), ("13", "Chapter 13")]

# The fields the panel shows for each kind (the service keeps only these for the kind).
KIND_FORM_FIELDS: dict[str, tuple[str, ...]] = {
    AccountHold.Kind.LOP: (
        "attorney_name",
        "attorney_firm",
        "attorney_phone",
        "attorney_email",
        "case_number",
        "accident_on",
        "lop_letter",
    ),
    AccountHold.Kind.PROBATE: (
        "died_on",
        "estate_name",
        "executor_name",
        "executor_phone",
        "executor_address",
        "court",
        "case_number",
        "published_notice_on",
        "mailed_notice_on",
    ),
    AccountHold.Kind.BANKRUPTCY: ("bankruptcy_chapter", "case_number", "filed_on"),
    AccountHold.Kind.DISPUTE: ("dispute_kind", "received_on"),
}


class HoldPlaceForm(forms.Form):
    kind = forms.ChoiceField(choices=[("", "Choose a hold"), *AccountHold.Kind.choices])
    case_number = forms.CharField(max_length=60, required=False)
    notes = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), required=False)
    attorney_name = forms.CharField(max_length=200, required=False)
    attorney_firm = forms.CharField(max_length=200, required=False)
    attorney_phone = forms.CharField(max_length=20, required=False)
    attorney_email = forms.EmailField(required=False)
    accident_on = forms.DateField(required=False, widget=DATE_INPUT, label="Accident date")
    lop_letter = forms.FileField(required=False, label="Letter of Protection (PDF)")
    died_on = forms.DateField(required=False, widget=DATE_INPUT, label="Date of death")
    estate_name = forms.CharField(max_length=200, required=False, label="Estate")
    executor_name = forms.CharField(max_length=200, required=False, label="Executor / personal representative")
    executor_phone = forms.CharField(max_length=20, required=False)
    executor_address = forms.CharField(max_length=300, required=False)
    court = forms.CharField(max_length=200, required=False)
    published_notice_on = forms.DateField(
        required=False,
        widget=DATE_INPUT,
        label="Notice to creditors first published",
        help_text="Leave blank if not published yet.",
    )
    mailed_notice_on = forms.DateField(
        required=False,
        widget=DATE_INPUT,
        label="Notice to creditors mailed",
        help_text="Leave blank if no notice was mailed to the practice.",
    )
    bankruptcy_chapter = forms.TypedChoiceField(
        choices=CHAPTER_CHOICES, coerce=int, empty_value=None, required=False, label="Chapter"
    )
    filed_on = forms.DateField(required=False, widget=DATE_INPUT, label="Filing date")
    dispute_kind = forms.ChoiceField(choices=[("", "Choose"), *AccountHold.DisputeKind.choices], required=False)
    received_on = forms.DateField(required=False, widget=DATE_INPUT, label="Dispute received")

    def kind_fields(self, kind: str | None = None) -> list:
        kind = kind or self.data.get("kind") or ""
        return [self[name] for name in KIND_FORM_FIELDS.get(kind, ())]

    def details(self) -> dict:
        """The kind's fields and the notes, ready for hold_place (the file goes separately)."""
        kind = self.cleaned_data["kind"]
        names = [name for name in KIND_FORM_FIELDS[kind] if name != "lop_letter"] + ["notes"]
        return {name: self.cleaned_data.get(name) for name in names if self.cleaned_data.get(name) not in (None, "")}


class HoldReleaseForm(forms.Form):
    reason = forms.CharField(max_length=300, label="Why is the hold released?")


class LopStatusCheckForm(forms.Form):
    status = forms.ChoiceField(choices=AccountHold.LopStatus.choices, label="Case status")
    settlement_amount = forms.DecimalField(**MONEY, required=False)
    note = forms.CharField(max_length=500, required=False, widget=forms.Textarea(attrs={"rows": 2}))


class LopLetterAttachForm(forms.Form):
    # The service says what is wrong with a missing or non-PDF letter.
    lop_letter = forms.FileField(required=False, label="Letter of Protection (PDF)")
