"""Queue writes (filled in by the queues builder)."""


def queue_refresh_account(*, account_id: int) -> None:
    """Re-evaluate every queue rule for one account now (after a payment, an address correction, a
    hold placed or released, an inquiry answered...): open items that now apply, clear the rest."""
