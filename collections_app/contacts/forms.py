"""The contact panel's forms. Each has its own prefix so one panel can hold them all; the services
check the rules (the forms only parse)."""

import uuid

from django import forms

from accounts.models import Transaction
from accounts.money import MONEY
from accounts.validators import CARD_NUMBER_REFUSED
from collections_app.models import Contact, ContactConsent

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
PAYMENT_METHOD_CHOICES = [
    (value, label) for value, label in Transaction.PaymentMethod.choices if value != Transaction.PaymentMethod.EFT
]


def _blank(choices, label="Choose…"):
    return [("", label), *choices]


class ContactLogForm(forms.Form):
    prefix = "contact"

    channel = forms.ChoiceField(choices=_blank(Contact.Channel.choices))
    party = forms.ChoiceField(choices=_blank(Contact.Party.choices), label="Who")
    outcome = forms.ChoiceField(choices=_blank(Contact.Outcome.choices))
    autodialed = forms.BooleanField(required=False, label="Autodialed or prerecorded")
    notes = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}), max_length=5000)
    promise_amount = forms.DecimalField(required=False, **MONEY, min_value=0, label="Amount")
    promise_due_on = forms.DateField(required=False, widget=DATE, label="By")
    attorney_name = forms.CharField(required=False, max_length=200)
    attorney_phone = forms.CharField(required=False, max_length=20)
    override_reason = forms.CharField(required=False, max_length=300, label="Override reason (manager)")
    # One token per rendered form, as PaymentForm's: sent twice, it logs one contact and one promise.
    idempotency_key = forms.CharField(required=False, max_length=80, widget=forms.HiddenInput)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if not self.is_bound:
            self.initial.setdefault("idempotency_key", uuid.uuid4().hex)

    @staticmethod
    def service_arguments(data: dict) -> dict:
        return {
            "channel": data["channel"],
            "party": data["party"],
            "outcome": data["outcome"],
            "autodialed": data["autodialed"],
            "notes": data["notes"],
            "promise_amount": data["promise_amount"],
            "promise_due_on": data["promise_due_on"],
            "attorney_name": data["attorney_name"],
            "attorney_phone": data["attorney_phone"],
            "override_reason": data["override_reason"],
            "idempotency_key": data["idempotency_key"],
        }


class PaymentForm(forms.Form):
    prefix = "payment"

    amount = forms.DecimalField(**MONEY, min_value=0)
    method = forms.ChoiceField(choices=_blank(PAYMENT_METHOD_CHOICES))
    reference = forms.CharField(
        required=False, max_length=80, help_text="Check number or the card processor's reference (never a card number)."
    )
    effective_on = forms.DateField(required=False, widget=DATE, label="Date received", help_text="Blank: today.")
    notes = forms.CharField(required=False, max_length=200)
    confirm_overpayment = forms.BooleanField(required=False, label="The patient is paying more than the balance")
    overpayment_reason = forms.CharField(required=False, max_length=150, label="Why")
    # One token per rendered form: sent twice (a double click, a resend), it posts one payment.
    idempotency_key = forms.CharField(required=False, max_length=80, widget=forms.HiddenInput)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if not self.is_bound:
            self.initial.setdefault("idempotency_key", uuid.uuid4().hex)

    @property
    def asks_about_overpayment(self) -> bool:
        """Show the confirmation only once the amount was above the balance (or it was ticked)."""
        return bool(
            self.is_bound
            and (self.errors.get("confirm_overpayment") or self.data.get(self.add_prefix("confirm_overpayment")))
        )

    def add_error(self, field, error):
        super().add_error(field, error)
        if field in self.fields and str(error) == CARD_NUMBER_REFUSED:
            # PCI DSS: a refused card number is not echoed back into the page.
            self.data = self.data.copy()
            self.data[self.add_prefix(field)] = ""


class FollowUpForm(forms.Form):
    prefix = "follow"

    follow_up_on = forms.DateField(required=False, widget=DATE, label="Follow up on", help_text="Blank clears it.")


class NoteForm(forms.Form):
    prefix = "note"

    body = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), max_length=5000, label="Note")


class FlagsForm(forms.Form):
    prefix = "flags"

    cease_communication = forms.BooleanField(required=False, label="Cease communication")
    cease_communication_on = forms.DateField(required=False, widget=DATE, label="Since")
    attorney_represented = forms.BooleanField(required=False, label="Represented by an attorney")
    attorney_name = forms.CharField(required=False, max_length=200)
    attorney_phone = forms.CharField(required=False, max_length=20)
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    @classmethod
    def for_account(cls, account):
        return cls(
            initial={
                "cease_communication": account.cease_communication_on is not None,
                "cease_communication_on": account.cease_communication_on,
                "attorney_represented": account.attorney_represented,
                "attorney_name": account.attorney_name,
                "attorney_phone": account.attorney_phone,
                "version": account.version,
            }
        )


class ConsentForm(forms.Form):
    prefix = "consent"

    channel = forms.ChoiceField(choices=_blank(ContactConsent.Channel.choices))
    granted_on = forms.DateField(required=False, widget=DATE, help_text="Blank: today.")
    granted_how = forms.CharField(required=False, max_length=200, label="How given")


class ConsentRevokeForm(forms.Form):
    prefix = "revoke"

    channel = forms.ChoiceField(choices=_blank(ContactConsent.Channel.choices))
    revoked_on = forms.DateField(required=False, widget=DATE, help_text="Blank: today.")
