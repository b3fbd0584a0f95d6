"""API token authentication (`Authorization: Token <key>`), for core.models.ApiToken.

The key is looked up by its SHA-256. A token that no longer works gets a 401 saying why (expired,
revoked, user deactivated) and an audit row; an unknown key gets a 401 and no row (there is no
user to name). Subclassing DRF's TokenAuthentication keeps its header parsing and its OpenAPI
security scheme; its model (rest_framework.authtoken) is never used.
"""

import ipaddress
from datetime import timedelta

from django.conf import settings
from django.db.models import Q
from django.utils import timezone
from rest_framework import exceptions
from rest_framework.authentication import TokenAuthentication

from core import services
from core.models import ApiToken

MESSAGE_INVALID = "Invalid token."
MESSAGE_EXPIRED = "Token expired. Ask for a new one: POST /api/auth/token/."
MESSAGE_REVOKED = "Token revoked. Ask for a new one: POST /api/auth/token/."
MESSAGE_INACTIVE = "User inactive. The token no longer works."

# last_used_at is a hint for the Directors' page, not an audit: one write a minute per token at
# most, instead of one per request.
LAST_USED_RESOLUTION = timedelta(minutes=1)
# secrets.token_urlsafe(32) is 43 characters; anything much longer is not one of ours.
MAX_KEY_LENGTH = 100


class ApiTokenAuthentication(TokenAuthentication):
    keyword = "Token"

    def authenticate_credentials(self, key):
        if len(key) > MAX_KEY_LENGTH:
            raise exceptions.AuthenticationFailed(MESSAGE_INVALID)
        token = ApiToken.objects.select_related("user").filter(key_hash=services.api_token_hash(key)).first()
        if token is None:
            raise exceptions.AuthenticationFailed(MESSAGE_INVALID)
        now = timezone.now()
        if token.revoked_at is not None:
            self._refuse(token, "revoked", MESSAGE_REVOKED)
        if token.expires_at <= now:
            self._refuse(token, "expired", MESSAGE_EXPIRED)
        if not token.user.is_active:
            self._refuse(token, "user_inactive", MESSAGE_INACTIVE)
        if token.last_used_at is None or now - token.last_used_at >= LAST_USED_RESOLUTION:
            # Conditional, so concurrent requests of one token write once.
            stale = Q(last_used_at__isnull=True) | Q(last_used_at__lte=now - LAST_USED_RESOLUTION)
            ApiToken.objects.filter(stale, pk=token.pk).update(last_used_at=now)
            token.last_used_at = now
        return token.user, token

    def _refuse(self, token, reason, message):
        services.api_token_refused(token=token, reason=reason)
        raise exceptions.AuthenticationFailed(message)


# django-axes records failed sign-ins by username in a 255-character column, and PostgreSQL refuses
# a NUL byte in text: whatever was typed, axes sees at most a username's length, without NULs.
USERNAME_MAX_LENGTH = 150


def axes_username(request, credentials=None) -> str:
    """AXES_USERNAME_CALLABLE: the username axes counts failures against, bounded."""
    if credentials:
        typed = credentials.get("username", "")
    else:
        typed = request.POST.get("username", "") if request.method == "POST" else ""
    return str(typed or "").replace("\x00", "")[:USERNAME_MAX_LENGTH]


def client_address(request) -> str | None:
    """AXES_CLIENT_IP_CALLABLE: the address a sign-in came from.

    Without a proxy it is REMOTE_ADDR. Behind TRUSTED_PROXY_COUNT proxies, each of which appends the
    address it saw to X-Forwarded-For, it is that many entries from the right: entries further left
    were written by the client and prove nothing. Anything that is not an address falls back to
    REMOTE_ADDR, so a forged header can neither spread one attacker over many addresses nor pin a
    lockout on the office's address.
    """
    remote = request.META.get("REMOTE_ADDR")
    proxies = settings.TRUSTED_PROXY_COUNT
    if proxies <= 0:
        return remote
    forwarded = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if part.strip()]
    if len(forwarded) < proxies:
        return remote
    candidate = forwarded[-proxies]
    try:
        return str(ipaddress.ip_address(candidate))
    except ValueError:
        return remote
