"""Logins, logouts and failed logins go to the audit trail (HIPAA 164.312(b) audit controls).

A failed login keeps the username as typed (it may name no user); never the password.
"""

from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.dispatch import receiver

from core.audit import audit_record
from core.models import AuditEvent

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
