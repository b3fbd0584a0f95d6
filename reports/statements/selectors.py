"""Reads of statements and letters, scoped by the access policy: an account's statements and
letters (those filed under it and those that cover it), and one statement by id (404 outside the
user's practices)."""

from django.db.models import Q, QuerySet

from core.access import get_scoped_or_404, scope_to_user
from reports.models import Statement

# The columns a list shows; `content` (the frozen document fields) stays in the database.
LIST_FIELDS = (
    "id",
    "account_id",
    "practice_id",
    "guarantor_id",
    "batch_id",
    "kind",
    "recipient",
    "channel",
    "dunning_level",
    "statement_date",
    "amount_due",
    "pay_by",
    "mailed_on",
    "document",
    "page_count",
    "created_at",
)


def account_statements_q(account_id: int) -> Q:
    """Statements filed under the account, or a guarantor's statement that lists it among others."""
    covering = Statement.covers.through.objects.filter(patientaccount_id=account_id).values("statement_id")
    return Q(account_id=account_id) | Q(pk__in=covering)


def statement_list_for_account(*, user, account) -> QuerySet:
    """The account's statements and letters, newest first (one query, whatever their number)."""
    queryset = Statement.objects.filter(account_statements_q(account.pk)).only(*LIST_FIELDS)
    return scope_to_user(queryset, user).order_by("-statement_date", "-id")


def statement_get(*, user, statement_id) -> Statement:
    """One statement or letter in the user's practices, with what its PDF needs."""
    queryset = Statement.objects.select_related("account", "practice", "guarantor")
    return get_scoped_or_404(queryset, user, pk=statement_id)
