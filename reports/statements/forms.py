"""The "print a letter now" form of the statements and letters panel; letter_produce holds the rules
(who may be written to at all, and about what)."""

from django import forms

from reports.models import Statement
from reports.statements.services import NOTE_MAX_LENGTH

Kind = Statement.Kind
Recipient = Statement.Recipient

# The letters a rep may print from the account page, in the order the menu lists them. The patient
# statement itself and the 501(r) notice come only from the statement cycle, on its clock.
PRINTABLE_KINDS = (
    Kind.ADDRESS_REQUEST,
    Kind.INQUIRY_RESPONSE,
    Kind.LOP_ACKNOWLEDGEMENT,
    Kind.PROBATE_CLAIM,
    Kind.PLAN_AGREEMENT,
    Kind.PLAN_REMINDER,
    Kind.PLAN_LAPSE,
    Kind.DUNNING_30,
    Kind.DUNNING_60,
    Kind.DUNNING_90,
    Kind.FINAL_NOTICE,
)

# Whom each letter goes to: the attorney acknowledges the Letter of Protection, the estate receives
# the probate claim, everything else goes to the guarantor who pays the account.
RECIPIENT_FOR_KIND = {
    Kind.LOP_ACKNOWLEDGEMENT: Recipient.ATTORNEY,
    Kind.PROBATE_CLAIM: Recipient.ESTATE,
}


def recipient_for(kind: str) -> str:
    return RECIPIENT_FOR_KIND.get(kind, Recipient.GUARANTOR)


class LetterPrintForm(forms.Form):
    """`auto_id` keeps its fields' ids apart from the other panels' forms on the account page."""

    kind = forms.ChoiceField(
        label="Letter",
        choices=[("", "Choose a letter"), *((kind.value, kind.label) for kind in PRINTABLE_KINDS)],
    )
    note = forms.CharField(
        label="Added to the letter",
        required=False,
        max_length=NOTE_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Printed in the letter (an inquiry's answer, what the office needs). No health details.",
    )

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("auto_id", "letter-%s")
        super().__init__(*args, **kwargs)
