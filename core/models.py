"""Staff users with ordered access tiers, and the audit trail. The floor every other app stands on."""

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils import timezone

from core.display import US_TIME_ZONES, USE_PRACTICE_ZONE_LABEL

# The largest id a row can have (primary keys are bigints): a larger number in a form, a query or
# a body names no row and is refused as any unknown id is, before it reaches the database.
MAX_ID = 2**63 - 1


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
    # The user's own zone for the times pages show (core/display.py); blank: each practice's.
    time_zone = models.CharField(
        max_length=64,
        blank=True,
        choices=[("", USE_PRACTICE_ZONE_LABEL), *US_TIME_ZONES],
        help_text="Times show in this zone, labelled. Left blank, each practice's own zone.",
    )

    class Meta:
        verbose_name = "staff user"

    def __str__(self) -> str:
        """The admin's recent actions and change pages: "Jane Rep (jrep)", or the username."""
        name = self.get_full_name()
        return f"{name} ({self.username})" if name else self.username

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
        TOKEN_ISSUED = "token_issued", "API token issued"
        TOKEN_REVOKED = "token_revoked", "API token revoked"
        TOKEN_REFUSED = "token_refused", "API token refused"

    occurred_at = models.DateTimeField(default=timezone.now, db_index=True)
    # db_index=False on user and practice: audit_user_time and audit_practice_time lead with them and
    # serve their lookups; an index of their own would be two more to write for every audited row.
    user = models.ForeignKey(
        StaffUser, null=True, blank=True, on_delete=models.PROTECT, related_name="+", db_index=False
    )
    username = models.CharField(max_length=150, blank=True, help_text="Kept as typed for failed logins.")
    action = models.CharField(max_length=20, choices=Action.choices)
    object_type = models.CharField(max_length=60, blank=True)
    object_id = models.CharField(max_length=40, blank=True)
    practice = models.ForeignKey(
        settings.ACCESS_PRACTICE_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,
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
        """ "Viewed patient account 51": the record's kind in words, never its PHI."""
        return f"{self.get_action_display()} {self.object_kind} {self.object_id}".strip()

    @property
    def object_kind(self) -> str:
        from django.apps import apps  # the app registry: core names no model of the apps above it

        try:
            return str(apps.get_model(self.object_type)._meta.verbose_name)
        except (LookupError, ValueError):
            return self.object_type.replace("_", " ")


class ApiToken(models.Model):
    """An API token: one per client a user signs in from, each with a name and a fixed lifetime.

    Only the SHA-256 of the key is stored, so a read of this table (a backup, a support query)
    yields nothing that authenticates; the key itself is shown once, in the response that issues
    it. SHA-256 without a salt or stretching is enough here, unlike for passwords: the key is 256
    random bits (`secrets.token_urlsafe(32)`), so there is nothing to guess. A revoked or expired
    token stays for the Directors' page for API_TOKEN_RETENTION_DAYS, then the nightly
    `api_token_purge` deletes it (its audit rows stay).
    """

    class RevokeReason(models.TextChoices):
        OWNER = "owner", "Revoked by its user"
        DIRECTOR = "director", "Revoked by a Director"
        PASSWORD_CHANGED = "password_changed", "Password changed"
        DEACTIVATED = "deactivated", "User deactivated"

    user = models.ForeignKey(StaffUser, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=100, blank=True, help_text="The client or integration it was issued to.")
    key_hash = models.CharField(max_length=64, unique=True, editable=False)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    # Written at most once a minute (core.auth), so not a write per request.
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_by = models.ForeignKey(
        StaffUser, null=True, blank=True, on_delete=models.PROTECT, related_name="+", help_text="Empty when automatic."
    )
    revoke_reason = models.CharField(max_length=20, choices=RevokeReason.choices, blank=True)

    class Meta:
        verbose_name = "API token"
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["user", "-created_at"], name="apitoken_user_created")]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(expires_at__gt=models.F("created_at")), name="apitoken_expires_after_created"
            ),
            # A revoked token says why; a live one has no reason.
            models.CheckConstraint(
                condition=models.Q(revoked_at__isnull=True, revoke_reason="")
                | (models.Q(revoked_at__isnull=False) & ~models.Q(revoke_reason="")),
                name="apitoken_revoked_with_reason",
            ),
        ]

    def __str__(self) -> str:
        return f"API token {self.pk} ({self.name or 'unnamed'})"

    def state(self, now=None) -> str:
        """Revoked, expired or active (the words the Directors' page shows)."""
        if self.revoked_at is not None:
            return "revoked"
        if self.expires_at <= (now or timezone.now()):
            return "expired"
        return "active"
