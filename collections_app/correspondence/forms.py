"""Forms of the mail and inquiries panel; the services hold the rules."""

from django import forms

from collections_app.models import BillingInquiry, ReturnedMail

DATE_INPUT = forms.DateInput(attrs={"type": "date"})


class ReturnedMailForm(forms.Form):
    received_on = forms.DateField(widget=DATE_INPUT, label="Came back on")
    reason = forms.ChoiceField(choices=[("", "Choose"), *ReturnedMail.Reason.choices])
    # Shown only where the guarantor is mailed at an address of their own; left out, the mail is
    # taken to have gone where the account's statements go.
    recipient = forms.ChoiceField(choices=ReturnedMail.Recipient.choices, required=False, label="Sent to")


class AddressCorrectionForm(forms.Form):
    address_line1 = forms.CharField(max_length=200, label="Address")
    address_line2 = forms.CharField(max_length=200, required=False, label="Address line 2")
    city = forms.CharField(max_length=100)
    state = forms.CharField(max_length=2, widget=forms.TextInput(attrs={"size": 2, "maxlength": 2}))
    postal_code = forms.CharField(max_length=10, label="ZIP")


class ReturnedMailResolveForm(forms.Form):
    resolution = forms.ChoiceField(
        choices=[
            (ReturnedMail.Resolution.ADDRESS_CONFIRMED, ReturnedMail.Resolution.ADDRESS_CONFIRMED.label),
            (ReturnedMail.Resolution.UNABLE_TO_LOCATE, ReturnedMail.Resolution.UNABLE_TO_LOCATE.label),
        ]
    )


class InquiryOpenForm(forms.Form):
    channel = forms.ChoiceField(choices=BillingInquiry.Channel.choices)
    received_on = forms.DateField(widget=DATE_INPUT, required=False, label="Received (blank: today)")
    question = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), max_length=4000)


class InquiryRespondForm(forms.Form):
    response = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), max_length=4000)
