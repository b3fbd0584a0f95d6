"""Logins, logouts and failed logins go to the audit trail (HIPAA 164.312(b) audit controls), and
a password change or a deactivation revokes the user's API tokens.

A failed login keeps the username as typed (it may name no user); never the password.
"""

from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.db.models.signals import post_save, pre_save
from django.dispatch import receiver

from core import services
from core.audit import audit_record
from core.models import ApiToken, AuditEvent, StaffUser

USERNAME_MAX = 150


@receiver(user_logged_in, dispatch_uid="audit_user_logged_in")
def audit_logged_in(sender, request, user, **kwargs):
    audit_record(user=user, action=AuditEvent.Action.LOGIN)


@receiver(user_logged_out, dispatch_uid="audit_user_logged_out")
def audit_logged_out(sender, request, user, **kwargs):
    if user is None:  # logging out a session that had already ended
        return
    audit_record(user=user, action=AuditEvent.Action.LOGOUT)


@receiver(user_login_failed, dispatch_uid="audit_user_login_failed")
def audit_login_failed(sender, credentials, request=None, **kwargs):
    username = str((credentials or {}).get("username") or "")[:USERNAME_MAX]
    audit_record(user=None, action=AuditEvent.Action.LOGIN_FAILED, username=username)


# --- API tokens end with the credentials they were issued against ------------------------------
# On the model's save rather than in the admin or the staff services, so every path that sets a
# password (admin form, create_staff, set_password() + save() anywhere) or deactivates is covered.
# A bulk `.update(is_active=False)` bypasses signals; core.auth refuses an inactive user's token
# anyway.

_CREDENTIAL_FIELDS = {"password", "is_active"}


@receiver(pre_save, sender=StaffUser, dispatch_uid="api_tokens_note_credential_change")
def note_credential_change(sender, instance, raw=False, update_fields=None, **kwargs):
    instance._api_tokens_revoke_reason = None
    if raw or instance._state.adding:
        return
    if update_fields is not None and not _CREDENTIAL_FIELDS & set(update_fields):
        return  # e.g. last_login on every sign-in: no query
    # set_password() leaves the raw password in `_password` until the save; a hash upgrade at
    # login (check_password) clears it first, so an upgrade is not taken for a change.
    password_changed = instance._password is not None
    stored = StaffUser.objects.filter(pk=instance.pk).values("is_active", "password").first()
    if stored is None:
        return
    if stored["is_active"] and not instance.is_active:
        instance._api_tokens_revoke_reason = ApiToken.RevokeReason.DEACTIVATED
    elif password_changed or (not instance.has_usable_password() and stored["password"] != instance.password):
        instance._api_tokens_revoke_reason = ApiToken.RevokeReason.PASSWORD_CHANGED


@receiver(post_save, sender=StaffUser, dispatch_uid="api_tokens_revoke_on_credential_change")
def revoke_tokens_on_credential_change(sender, instance, created=False, **kwargs):
    reason = getattr(instance, "_api_tokens_revoke_reason", None)
    if reason:
        instance._api_tokens_revoke_reason = None
        services.api_tokens_revoke_all(user=instance, reason=reason)
