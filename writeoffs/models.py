"""Write-off requests: proposed by a rep or the nightly small-balance run, approved within the
practice's limit by a manager (above it by a Director), posted to the ledger, reversible."""

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone

from accounts.money import MONEY, ZERO


class Reason(models.TextChoices):
    """Why a balance is written off; the value is the ledger row's `write_off_reason`."""

    SMALL_BALANCE = "small_balance", "Small balance"
    BAD_DEBT = "bad_debt", "Bad debt"
    CHARITY = "charity", "Charity / financial assistance"
    DECEASED = "deceased", "Deceased, no estate"
    BANKRUPTCY = "bankruptcy", "Bankruptcy discharge"
    SETTLEMENT = "settlement", "Settlement reduction (LOP)"
    ADMINISTRATIVE = "administrative", "Administrative"
    STATUTE_OF_LIMITATIONS = "statute_of_limitations", "Statute of limitations"


class SmallBalanceRun(models.Model):
    """One night's small-balance run for one practice: the preview a manager confirms (or the
    auto-approved part that posted). Unique per (practice, run_on): a second run changes nothing."""

    class Status(models.TextChoices):
        PREVIEW = "preview", "Waiting for approval"
        POSTED = "posted", "Posted"
        DISCARDED = "discarded", "Discarded"

    practice = models.ForeignKey("accounts.Practice", on_delete=models.CASCADE, related_name="+")
    run_on = models.DateField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PREVIEW)
    account_count = models.PositiveIntegerField(default=0)
    total = models.DecimalField(**MONEY, default=ZERO)
    auto_approved_count = models.PositiveIntegerField(default=0)
    auto_approved_total = models.DecimalField(**MONEY, default=ZERO)
    created_at = models.DateTimeField(default=timezone.now)
    decided_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["-run_on", "practice"]
        constraints = [
            models.UniqueConstraint(fields=["practice", "run_on"], name="small_balance_run_unique_per_date"),
        ]

    def __str__(self) -> str:
        return f"Small-balance run for practice {self.practice_id} on {self.run_on:%m/%d/%Y}"


class WriteOffRequest(models.Model):
    """A proposed write-off of part or all of an account's patient balance.

    proposed -> approved -> posted; proposed -> denied; posted -> reversed. Approval posts at once
    (approved is the instant between), so a request rests as proposed, posted, denied or reversed.
    """

    class Status(models.TextChoices):
        PROPOSED = "proposed", "Waiting for approval"
        APPROVED = "approved", "Approved"
        POSTED = "posted", "Posted"
        DENIED = "denied", "Denied"
        REVERSED = "reversed", "Reversed"

    class Source(models.TextChoices):
        REP = "rep", "Proposed by a rep"
        SMALL_BALANCE_RUN = "small_balance_run", "Nightly small-balance run"

    practice = models.ForeignKey("accounts.Practice", on_delete=models.PROTECT, related_name="+")
    account = models.ForeignKey("accounts.PatientAccount", on_delete=models.PROTECT, related_name="writeoff_requests")
    encounters = models.ManyToManyField("accounts.Encounter", blank=True, related_name="+")
    amount = models.DecimalField(**MONEY)
    reason = models.CharField(max_length=30, choices=Reason.choices)
    note = models.CharField(max_length=500, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PROPOSED)
    source = models.CharField(max_length=20, choices=Source.choices, default=Source.REP)
    small_balance_run = models.ForeignKey(
        SmallBalanceRun, null=True, blank=True, on_delete=models.PROTECT, related_name="requests"
    )
    # NULL: proposed by the nightly run (no person), so any manager may approve it.
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    requested_at = models.DateTimeField(default=timezone.now)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    denial_reason = models.CharField(max_length=500, blank=True)
    posted_at = models.DateTimeField(null=True, blank=True)
    # The ledger rows the approval posted (one per encounter written off, or one for the account).
    entries = models.ManyToManyField("accounts.Transaction", blank=True, related_name="+")
    reversed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    reversed_at = models.DateTimeField(null=True, blank=True)
    reversal_reason = models.CharField(max_length=500, blank=True)
    idempotency_key = models.CharField(max_length=80, blank=True)

    class Meta:
        ordering = ["-requested_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="writeoff_amount_positive"),
            # The approver is never the requester: the service refuses it, and so does the database.
            models.CheckConstraint(
                condition=Q(decided_by__isnull=True) | Q(requested_by__isnull=True) | ~Q(decided_by=F("requested_by")),
                name="writeoff_approver_is_not_requester",
            ),
            models.CheckConstraint(
                condition=~Q(status="denied") | ~Q(denial_reason=""), name="writeoff_denial_has_reason"
            ),
            models.CheckConstraint(
                condition=~Q(status="reversed") | ~Q(reversal_reason=""), name="writeoff_reversal_has_reason"
            ),
            models.UniqueConstraint(
                fields=["account", "idempotency_key"],
                condition=~Q(idempotency_key=""),
                name="writeoff_idempotency_key_unique",
            ),
            models.UniqueConstraint(
                fields=["account", "small_balance_run"],
                condition=Q(small_balance_run__isnull=False),
                name="writeoff_once_per_small_balance_run",
            ),
        ]
        indexes = [
            # The approvals page: what waits, per practice, oldest first.
            models.Index(fields=["practice", "requested_at"], condition=Q(status="proposed"), name="writeoff_waiting"),
            models.Index(fields=["account", "-requested_at"], name="writeoff_account_time"),
            # The write-offs report: posted by practice and date.
            models.Index(
                fields=["practice", "posted_at"], condition=Q(posted_at__isnull=False), name="writeoff_posted"
            ),
        ]

    def __str__(self) -> str:
        return f"Write-off request {self.pk} on account {self.account_id}"


class WriteOffHistory(models.Model):
    """Each move of a request between states, with who and why (append-only)."""

    request = models.ForeignKey(WriteOffRequest, on_delete=models.CASCADE, related_name="history")
    from_status = models.CharField(max_length=10, blank=True)
    to_status = models.CharField(max_length=10, choices=WriteOffRequest.Status.choices)
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    changed_at = models.DateTimeField(default=timezone.now)
    note = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["request", "changed_at", "id"]
        verbose_name_plural = "write-off history"

    def __str__(self) -> str:
        return f"Write-off request {self.request_id}: {self.from_status or 'new'} to {self.to_status}"
