"""Payment plan writes (filled in by the payment plans builder)."""


def plan_payment_received(*, account_id: int) -> None:
    """A patient payment was posted to the account: apply it to the active plan's installments."""
