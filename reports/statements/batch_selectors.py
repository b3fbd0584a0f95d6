"""Reads of statement batches for the manager's batch list, scoped by the access policy: the
batches of the user's practices, newest first, and one batch with its statements."""

from django.db.models import QuerySet

from core.access import get_scoped_or_404, scope_to_user
from reports.models import Statement, StatementBatch

# The statements a batch page lists; a cycle batch of a large practice holds thousands.
BATCH_STATEMENTS_SHOWN = 200


def batch_list(*, user) -> QuerySet:
    return scope_to_user(StatementBatch.objects.select_related("practice", "created_by"), user).order_by(
        "-run_on", "-id"
    )


def batch_get(*, user, batch_id) -> StatementBatch:
    return get_scoped_or_404(StatementBatch.objects.select_related("practice", "created_by"), user, pk=batch_id)


def batch_statements(*, batch: StatementBatch) -> list[Statement]:
    """The batch's first statements by number, with the account each is filed under (the batch is
    already scoped)."""
    return list(
        Statement.objects.filter(batch=batch)
        .select_related("account")
        .defer("content")
        .order_by("id")[:BATCH_STATEMENTS_SHOWN]
    )
