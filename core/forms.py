"""The sign-in form and the user's own settings."""

from django import forms
from django.contrib.auth.forms import AuthenticationForm

from core.models import StaffUser


class StaffLoginForm(AuthenticationForm):
    """Django's sign-in form (it passes the request to authenticate(), which django-axes needs)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["username"].widget.attrs.update({"autocomplete": "username", "autofocus": True})
        self.fields["password"].widget.attrs.update({"autocomplete": "current-password"})


class MySettingsForm(forms.Form):
    time_zone = forms.ChoiceField(
        required=False,
        label="Show times in",
        choices=StaffUser._meta.get_field("time_zone").choices,
        help_text="Every time is labelled with its zone. Appointments and the calling window stay on the "
        "practice's or the patient's clock.",
    )
