"""Forms of the plan panel and plan page. They only parse; the services apply the practice's policy."""

from django import forms

from accounts.money import MONEY
from payment_plans.models import PaymentPlan

DATE_INPUT_FORMATS = ["%Y-%m-%d", "%m/%d/%Y"]
MONEY_FIELD = {**MONEY, "required": False}


def _date_field(**kwargs) -> forms.DateField:
    return forms.DateField(
        required=False, input_formats=DATE_INPUT_FORMATS, widget=forms.DateInput(attrs={"type": "date"}), **kwargs
    )


class TermsFields(forms.Form):
    installment_amount = forms.DecimalField(
        min_value=0, label="Installment amount", help_text="Or a number of installments.", **MONEY_FIELD
    )
    installment_count = forms.IntegerField(required=False, min_value=1, label="Number of installments")
    frequency = forms.ChoiceField(
        choices=PaymentPlan.Frequency.choices, initial=PaymentPlan.Frequency.MONTHLY, required=False
    )
    day_of_month = forms.IntegerField(
        required=False, min_value=1, max_value=31, label="Due day", help_text="Monthly: 31 is the month's last day."
    )
    start_on = _date_field(label="First installment on or after")

    TERMS = ("installment_amount", "installment_count", "frequency", "day_of_month", "start_on")

    def terms(self) -> dict:
        return {name: self.cleaned_data.get(name) for name in self.TERMS}


class PlanCreateForm(TermsFields):
    total = forms.DecimalField(
        min_value=0, label="Plan total", help_text="Defaults to the patient balance.", **MONEY_FIELD
    )
    down_payment = forms.DecimalField(min_value=0, label="Down payment", **MONEY_FIELD)
    autopay = forms.BooleanField(required=False, label="Autopay")
    autopay_token = forms.CharField(
        required=False,
        max_length=80,
        label="Processor token",
        help_text="The processor's reference, never a card number.",
    )
    # Off until the rep has shown the schedule and the patient said yes.
    activate = forms.BooleanField(required=False, initial=False, label="Patient agreed: start the plan now")

    field_order = ["total", "down_payment", *TermsFields.TERMS, "autopay", "autopay_token", "activate"]

    def preview_arguments(self) -> dict:
        arguments = self.service_arguments()
        for name in ("autopay", "autopay_token", "activate"):
            arguments.pop(name)
        return arguments

    def service_arguments(self) -> dict:
        data = self.cleaned_data
        return {
            **self.terms(),
            "frequency": data.get("frequency") or PaymentPlan.Frequency.MONTHLY,
            "total": data.get("total"),
            "down_payment": data.get("down_payment") or 0,
            "autopay": data.get("autopay", False),
            "autopay_token": data.get("autopay_token", ""),
            "activate": data.get("activate", False),
        }


class PlanModifyForm(TermsFields):
    reason = forms.CharField(required=False, max_length=300, label="Why the terms changed")
    # The revision the rep was looking at: a second send of the same form (a double click, Back and
    # resend) finds the plan already one revision on and changes nothing.
    revision = forms.IntegerField(required=False, min_value=1, widget=forms.HiddenInput)


class PlanCancelForm(forms.Form):
    note = forms.CharField(required=False, max_length=300, label="Why the plan is cancelled")
