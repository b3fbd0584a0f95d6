"""Staff users with ordered access tiers, and the audit trail. The floor every other app stands on."""

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils import timezone


class Tier(models.IntegerChoices):
    """Access tiers as ordered levels, so `user.tier >= Tier.MEDIUM` reads as policy.

    Gaps between values leave room for a tier in between without renumbering stored rows.
    """

    LOW = 10, "Low"
    MEDIUM = 20, "Medium"
    MANAGEMENT = 30, "Management"
    DIRECTOR = 40, "Director"


class StaffUser(AbstractUser):
    """A billing-office user. Practice scope lives in django-guardian object permissions."""

    tier = models.PositiveSmallIntegerField(choices=Tier.choices, default=Tier.LOW)

    class Meta:
        verbose_name = "staff user"

    @property
    def tier_label(self) -> str:
        return Tier(self.tier).label


class AuditEvent(models.Model):
    """Append-only record of a PHI read or a change. The database refuses UPDATE and DELETE.

    No PHI is stored here: objects are named by type and id, changes by field name only.
    """

    class Action(models.TextChoices):
        VIEW = "view", "Viewed"
        SEARCH = "search", "Searched"
        EXPORT = "export", "Exported"
        CREATE = "create", "Created"
        UPDATE = "update", "Changed"
        POST = "post", "Posted to ledger"
        LOGIN = "login", "Logged in"
        LOGOUT = "logout", "Logged out"
        LOGIN_FAILED = "login_failed", "Login failed"
        ACCESS_CHANGE = "access_change", "Changed access"

    occurred_at = models.DateTimeField(default=timezone.now, db_index=True)
    user = models.ForeignKey(StaffUser, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    username = models.CharField(max_length=150, blank=True, help_text="Kept as typed for failed logins.")
    action = models.CharField(max_length=20, choices=Action.choices)
    object_type = models.CharField(max_length=60, blank=True)
    object_id = models.CharField(max_length=40, blank=True)
    practice = models.ForeignKey(
        settings.ACCESS_PRACTICE_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    # Comma-separated FieldGroup values shown by one read (all six fit: 60 characters).
    field_group = models.CharField(max_length=100, blank=True)
    client_address = models.GenericIPAddressField(null=True, blank=True)
    request_id = models.CharField(max_length=64, blank=True)
    detail = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-occurred_at", "-id"]
        indexes = [
            models.Index(fields=["object_type", "object_id"], name="audit_object"),
            models.Index(fields=["user", "-occurred_at"], name="audit_user_time"),
            models.Index(fields=["practice", "-occurred_at"], name="audit_practice_time"),
        ]

    def __str__(self) -> str:
        return f"{self.get_action_display()} {self.object_type} {self.object_id}"
