"""Forms of the write-off pages: the workspace's proposal, the approvals page's filters, bulk
selection and confirmation, denials, reversals and the small-balance run's discard. They only
parse; the services apply the approval matrix and the practice's policy."""

import uuid

from django import forms

from accounts.money import MONEY
from core.models import MAX_ID
from writeoffs.models import Reason

# Ids past a 64-bit key are no row of ours (and would overflow the database's integer).

# The reasons as the billing office says them, in the order a rep reaches for them.
REASON_CHOICES = [("", "Choose…"), *Reason.choices]


class ProposeForm(forms.Form):
    prefix = "writeoff"

    reason = forms.ChoiceField(choices=REASON_CHOICES)
    amount = forms.DecimalField(**MONEY, min_value=0, help_text="Defaults to the patient balance.")
    encounters = forms.TypedMultipleChoiceField(
        coerce=int,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        label="Only these visits",
        help_text="None ticked: the account's balance, oldest visit first.",
    )
    note = forms.CharField(
        required=False, max_length=500, widget=forms.Textarea(attrs={"rows": 2}), label="Why (for the approver)"
    )
    # One token per rendered form, as the payment form's: sent twice, it proposes once.
    idempotency_key = forms.CharField(required=False, max_length=80, widget=forms.HiddenInput)

    def __init__(self, *args, open_encounters=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["encounters"].choices = [
            (row.encounter_id, f"{row.date_of_service:%m/%d/%Y}: ${row.open_amount:,.2f} open")
            for row in open_encounters
        ]
        if not self.is_bound:
            self.initial.setdefault("idempotency_key", uuid.uuid4().hex)

    def service_arguments(self) -> dict:
        data = self.cleaned_data
        return {
            "amount": data["amount"],
            "reason": data["reason"],
            "note": data["note"],
            "encounter_ids": tuple(data["encounters"]),
            "idempotency_key": data["idempotency_key"],
        }


class ApprovalFilterForm(forms.Form):
    """The approvals page's filters (GET: they name no patient)."""

    practice = forms.TypedChoiceField(coerce=int, required=False, empty_value=None)
    reason = forms.ChoiceField(required=False, choices=[("", "All reasons"), *Reason.choices])

    def __init__(self, *args, practices=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["practice"].choices = [("", "All my practices")] + [(p.pk, p.name) for p in practices]


class SelectionForm(forms.Form):
    """The requests ticked on the approvals page."""

    requests = forms.TypedMultipleChoiceField(coerce=int, choices=(), error_messages={"required": ""})

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["requests"].error_messages["required"] = "Tick at least one write-off to approve."

    def clean_requests(self):
        ids = sorted(set(self.cleaned_data["requests"]))
        if any(not 0 < pk <= MAX_ID for pk in ids):
            raise forms.ValidationError("Choose the write-offs from the list.")
        return ids

    def _clean_fields(self):
        # The choices are whatever ids were sent: the service decides which this user may approve.
        self.fields["requests"].choices = [(value, value) for value in self.data.getlist("requests")]
        super()._clean_fields()


class ConfirmForm(SelectionForm):
    """The preview's "Post N write-offs": the same ids and the fingerprint of what was shown."""

    fingerprint = forms.CharField(max_length=128, widget=forms.HiddenInput)


class DenyForm(forms.Form):
    reason = forms.CharField(
        max_length=500,
        label="Why it is denied",
        error_messages={"required": "Say why the write-off is denied: the rep reads it."},
    )


class ReverseForm(forms.Form):
    reason = forms.CharField(
        max_length=500,
        label="Why it is reversed",
        error_messages={"required": "Say why the write-off is reversed: it goes on the ledger's history."},
    )


class RunDiscardForm(forms.Form):
    reason = forms.CharField(
        max_length=500,
        label="Why the run is discarded",
        error_messages={"required": "Say why the small-balance run is discarded."},
    )
