"""API tokens: issue, revoke, refuse. Each writes its audit row in the same transaction.

No key ever reaches an audit row or a log line: rows name the token by id (and the name its user
gave it), log lines by token and user id.
"""

import hashlib
import logging
import secrets
from datetime import datetime, time, timedelta

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from core.access import FieldGroup, can_see
from core.audit import audit_record
from core.models import ApiToken, AuditEvent, StaffUser

logger = logging.getLogger(__name__)

# The name on audit rows of revocations nobody asked for by hand (a password change or a
# deactivation revokes every token): the row's request id ties it to the change that caused it.
AUTOMATIC = "(automatic)"

Reason = ApiToken.RevokeReason


def api_token_hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def api_token_issue(*, user, name: str = "") -> tuple[ApiToken, str]:
    """A new token for `user`, good for API_TOKEN_LIFETIME_HOURS. Returns the row and the key;
    the key is not stored and cannot be shown again."""
    key = secrets.token_urlsafe(32)
    now = timezone.now()
    with transaction.atomic():
        token = ApiToken.objects.create(
            user=user,
            name=name,
            key_hash=api_token_hash(key),
            created_at=now,
            expires_at=now + timedelta(hours=settings.API_TOKEN_LIFETIME_HOURS),
        )
        audit_record(
            user=user,
            action=AuditEvent.Action.TOKEN_ISSUED,
            obj=token,
            detail={"name": name, "expires_at": token.expires_at.isoformat()},
        )
    logger.info("api token %s issued to user %s", token.pk, user.pk)
    return token, key


@transaction.atomic
def api_token_revoke(*, acting_user, token: ApiToken) -> ApiToken:
    """Revoke one token: by its own user, or by a Director (anyone else is refused). Revoking a
    revoked token changes nothing and writes no second row."""
    is_owner = acting_user is not None and acting_user.pk == token.user_id
    if not is_owner and not can_see(acting_user, FieldGroup.DIRECTOR):
        raise PermissionDenied("Only the token's user or a Director may revoke it.")
    # Locked so two revocations at once write one audit row, not two.
    locked = ApiToken.objects.select_for_update().get(pk=token.pk)
    if locked.revoked_at is None:
        locked.revoked_at = timezone.now()
        locked.revoked_by = acting_user
        locked.revoke_reason = Reason.OWNER if is_owner else Reason.DIRECTOR
        locked.save(update_fields=["revoked_at", "revoked_by", "revoke_reason"])
        _audit_revoked(locked, user=acting_user)
    return locked


def api_tokens_revoke_all(*, user, reason: str) -> int:
    """Revoke every live token of `user` (a password change, a deactivation). Returns how many.
    Runs inside the caller's transaction (the user's save), so a save that rolls back keeps them."""
    now = timezone.now()
    with transaction.atomic():
        live = list(ApiToken.objects.select_for_update().filter(user=user, revoked_at__isnull=True, expires_at__gt=now))
        for token in live:
            token.revoked_at, token.revoke_reason = now, reason
            _audit_revoked(token, user=None)
        ApiToken.objects.filter(pk__in=[t.pk for t in live]).update(revoked_at=now, revoke_reason=reason)
    if live:
        logger.info("%s api tokens of user %s revoked (%s)", len(live), user.pk, reason)
    return len(live)


def api_tokens_purge(*, as_of) -> int:
    """Delete tokens that stopped working (expired or revoked) more than API_TOKEN_RETENTION_DAYS
    before `as_of`: long enough for the Directors' page to answer "what was that token?", after
    which a dead row only grows the table. Their audit rows (issue, revocation, refusals) stay:
    they name the token by id and name, not by a foreign key. Returns how many were deleted; a
    second run for the same date deletes nothing."""
    cutoff = timezone.make_aware(datetime.combine(as_of - timedelta(days=settings.API_TOKEN_RETENTION_DAYS), time.min))
    ended = Q(expires_at__lt=cutoff) | Q(revoked_at__lt=cutoff)
    deleted, _ = ApiToken.objects.filter(ended).delete()
    if deleted:
        logger.info("%s api tokens ended before %s purged", deleted, cutoff.date().isoformat())
    return deleted


def api_token_refused(*, token: ApiToken, reason: str) -> None:
    """Audit a request that presented a known token which no longer works (expired, revoked, or
    its user deactivated). Unknown keys are not audited: there is no user to name."""
    audit_record(
        user=token.user,
        action=AuditEvent.Action.TOKEN_REFUSED,
        obj=token,
        detail={"name": token.name, "reason": reason},
    )
    logger.info("api token %s of user %s refused: %s", token.pk, token.user_id, reason)


def _audit_revoked(token: ApiToken, *, user) -> None:
    audit_record(
        user=user,
        username="" if user is not None else AUTOMATIC,
        action=AuditEvent.Action.TOKEN_REVOKED,
        obj=token,
        detail={"name": token.name, "reason": token.revoke_reason, "token_user": token.user_id},
    )


# --- My settings ---------------------------------------------------------------------------------


@transaction.atomic
def staff_set_time_zone(*, acting_user, time_zone: str) -> bool:
    """A user's own zone for the times pages show ("" = each practice's). Audited as a change of
    their own record, field name only. Returns False when nothing changed (no row written)."""
    user = StaffUser.objects.select_for_update().get(pk=acting_user.pk)
    if user.time_zone == time_zone:
        return False
    user.time_zone = time_zone
    user.save(update_fields=["time_zone"])
    acting_user.time_zone = time_zone
    audit_record(user=acting_user, action=AuditEvent.Action.UPDATE, obj=user, detail={"fields": ["time_zone"]})
    return True
