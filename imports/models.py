"""What imports leave behind besides the ledger: a log row per file, remittances with their
provider-level adjustments, and the review list of remittance claims that matched no claim."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from accounts.models import Claim, Practice
from accounts.money import MONEY
from core.storage import private_storage
from imports.x12 import ADJUSTMENT_GROUPS


class ImportBatch(models.Model):
    """One file imported (or refused) for one practice. The same content again is recognised by its
    digest, an X12 interchange also by sender and ISA13, and says "already imported"."""

    class Kind(models.TextChoices):
        X12_835 = "835", "Remittance (835)"
        X12_837P = "837p", "Professional claims (837P)"
        SYNTHEA = "synthea", "Synthea export"
        CSV_DEMOGRAPHICS = "csv_demographics", "Demographics (CSV)"
        CSV_APPOINTMENTS = "csv_appointments", "Appointments (CSV)"
        CSV_BALANCES = "csv_balances", "Opening balances (CSV)"

    class Status(models.TextChoices):
        RUNNING = "running", "Running"
        DONE = "done", "Done"
        FAILED = "failed", "Refused"

    practice = models.ForeignKey(Practice, on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    file_name = models.CharField(max_length=255)
    sha256 = models.CharField(max_length=64, help_text="Of the content (X12: of its segments).")
    interchange_sender = models.CharField(max_length=15, blank=True)
    interchange_control_number = models.CharField(max_length=9, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.RUNNING)
    counts = models.JSONField(default=dict, blank=True)
    rejects = models.JSONField(default=list, blank=True, help_text="Position and reason; never patient names.")
    warnings = models.JSONField(default=list, blank=True)
    started_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)
    started_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT)

    class Meta:
        ordering = ["-started_at"]
        constraints = [
            # A file imports once per practice; a refused one may be sent again.
            models.UniqueConstraint(
                fields=["practice", "kind", "sha256"], condition=Q(status="done"), name="import_batch_once"
            ),
        ]
        indexes = [models.Index(fields=["practice", "interchange_sender", "interchange_control_number"])]

    def __str__(self) -> str:
        return f"Import {self.pk} ({self.get_kind_display()})"


class Remittance(models.Model):
    """One 835 transaction set: a payer's payment (check or EFT) and what it covers."""

    practice = models.ForeignKey(Practice, on_delete=models.PROTECT, related_name="+")
    batch = models.ForeignKey(ImportBatch, on_delete=models.PROTECT, related_name="remittances")
    payer_key = models.CharField(max_length=20, help_text="TRN03, else the payer's name: part of every reference.")
    payer_name = models.CharField(max_length=100, blank=True)
    trace_number = models.CharField(max_length=50, help_text="TRN02: the check or EFT trace number.")
    payment_amount = models.DecimalField(**MONEY)
    payment_method = models.CharField(max_length=3, blank=True)
    paid_on = models.DateField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["practice", "payer_key", "trace_number"], name="remittance_once"),
        ]

    def __str__(self) -> str:
        return f"Remittance {self.trace_number}"


class ProviderAdjustment(models.Model):
    """A PLB adjustment: money the payer takes or adds for the provider (an interest payment, a
    recovered overpayment), recorded against the remittance and never posted to a patient."""

    remittance = models.ForeignKey(Remittance, on_delete=models.PROTECT, related_name="provider_adjustments")
    position = models.PositiveIntegerField(help_text="Segment number in the file.")
    sequence = models.PositiveSmallIntegerField(default=1)
    provider_identifier = models.CharField(max_length=50)
    fiscal_period_end = models.DateField(null=True, blank=True)
    reason_code = models.CharField(max_length=2)
    reference = models.CharField(max_length=50, blank=True)
    amount = models.DecimalField(**MONEY, help_text="As the payer wrote it: negative adds to the payment.")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["remittance", "position", "sequence"], name="provider_adjustment_once")
        ]

    def __str__(self) -> str:
        return f"Provider adjustment {self.reason_code} of remittance {self.remittance_id}"


class UnmatchedClaim(models.Model):
    """A remittance claim whose patient control number matched no claim of the practice: nothing
    was posted for it. A manager finds the claim (or marks it not ours) and resolves it."""

    practice = models.ForeignKey(Practice, on_delete=models.PROTECT, related_name="+")
    remittance = models.ForeignKey(Remittance, on_delete=models.PROTECT, related_name="unmatched_claims")
    position = models.PositiveIntegerField(help_text="Segment number of the CLP in the file.")
    patient_control_number = models.CharField(max_length=38)
    payer_claim_number = models.CharField(max_length=50, blank=True)
    claim_status = models.CharField(max_length=2)
    charge_amount = models.DecimalField(**MONEY)
    paid_amount = models.DecimalField(**MONEY)
    patient_responsibility = models.DecimalField(**MONEY)
    patient_last_name = models.CharField(max_length=100, blank=True)
    patient_first_name = models.CharField(max_length=100, blank=True)
    member_id = models.CharField(max_length=80, blank=True)
    service_date = models.DateField(null=True, blank=True)
    adjustments = models.JSONField(default=dict, blank=True, help_text="Totals by group, decimal strings.")
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolved_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT)
    resolution_note = models.CharField(max_length=200, blank=True)
    matched_claim = models.ForeignKey(Claim, null=True, blank=True, on_delete=models.PROTECT, related_name="+")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["remittance", "position"], name="unmatched_claim_once"),
        ]
        indexes = [models.Index(fields=["practice", "resolved_at"], name="unmatched_claim_open")]

    def __str__(self) -> str:
        return f"Unmatched remittance claim {self.pk}"

    @property
    def adjustment_totals(self) -> dict[str, str]:
        """Every group, "0.00" where the payer sent none."""
        kept = self.adjustments or {}
        return {group: kept.get(group, "0.00") for group in ADJUSTMENT_GROUPS}


class ImportUpload(models.Model):
    """A file a manager uploaded to import (page or API), run by a Celery task: its progress while
    it runs, then the same summary `--json` prints. The import itself logs its ImportBatch rows, so
    the same file uploaded again reports "already imported; nothing changed"."""

    class Kind(models.TextChoices):
        X12_835 = "835", "Remittance (835)"
        X12_837P = "837p", "Professional claims (837P)"
        CSV_DEMOGRAPHICS = "csv_demographics", "Demographics (CSV)"
        CSV_APPOINTMENTS = "csv_appointments", "Appointments (CSV)"
        CSV_BALANCES = "csv_balances", "Opening balances (CSV)"
        SYNTHEA = "synthea", "Synthea export (.zip of its CSV files)"

    class Status(models.TextChoices):
        QUEUED = "queued", "Waiting to start"
        RUNNING = "running", "Importing"
        DONE = "done", "Done"
        FAILED = "failed", "Failed"

    practice = models.ForeignKey(Practice, on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    file = models.FileField(upload_to="imports/%Y/%m/", storage=private_storage)
    file_name = models.CharField(max_length=255, help_text="As uploaded.")
    size = models.PositiveBigIntegerField(default=0)
    cutoff = models.DateField(null=True, blank=True, help_text="Synthea only: nothing dated after it.")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    stage = models.CharField(max_length=100, blank=True)
    progress_done = models.PositiveIntegerField(default=0)
    progress_total = models.PositiveIntegerField(default=0)
    summary = models.JSONField(default=dict, blank=True, help_text="What import_* --json prints.")
    error = models.CharField(max_length=500, blank=True, help_text="Why it failed, in words; no PHI.")
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    uploaded_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-uploaded_at", "-pk"]
        indexes = [models.Index(fields=["practice", "-uploaded_at"], name="import_upload_recent")]
        constraints = [
            models.CheckConstraint(
                condition=Q(progress_done__lte=models.F("progress_total")), name="import_upload_progress_in_range"
            ),
        ]

    def __str__(self) -> str:
        return f"Upload {self.pk} ({self.get_kind_display()})"

    @property
    def finished(self) -> bool:
        return self.status in (self.Status.DONE, self.Status.FAILED)

    @property
    def nothing_changed(self) -> bool:
        """Done, and every file was one imported before: "already imported, nothing changed"."""
        files = self.summary.get("files", 0)
        return bool(files) and self.summary.get("files_already_imported") == files

    @property
    def summary_or_none(self) -> dict | None:
        return self.summary or None

    @property
    def percent(self) -> int:
        if self.status == self.Status.DONE:
            return 100
        return (100 * self.progress_done // self.progress_total) if self.progress_total else 0
