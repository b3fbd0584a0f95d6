"""Reads of a user's own API tokens. Every query starts from the requesting user: another user's
token is not found (404), never shown."""

from django.shortcuts import get_object_or_404
from django.utils import timezone

from core.models import ApiToken


def _own_tokens(user):
    return ApiToken.objects.filter(user=user)


def api_tokens_live(*, user):
    """The user's tokens that still work (not revoked, not expired), newest first."""
    return (
        _own_tokens(user).filter(revoked_at__isnull=True, expires_at__gt=timezone.now()).order_by("-created_at", "-id")
    )


def api_token_get(*, user, token_id: int) -> ApiToken:
    """One of the user's own tokens, in any state (Http404 for anyone else's)."""
    return get_object_or_404(_own_tokens(user), pk=token_id)
