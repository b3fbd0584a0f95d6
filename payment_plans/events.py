"""What the plan area announces to the areas above it (they may not be imported from here)."""

from django.dispatch import Signal

# Sent inside the transaction when a plan starts running (the patient agreed):
# `plan` (PaymentPlan), `acting_user`. collections_app cancels the account's open promises to pay,
# which the plan's installments replace.
plan_started = Signal()
