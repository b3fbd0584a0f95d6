"""Collection agencies, placements with them, their files, recalls and the payments they return.

Registered with the collections_app app: collections_app/models.py imports this module, so the
tables are collections_app's (`collections_app_agency`, ...) and its migrations hold them.

A placement moves `placed` -> `recalled` (the practice took the account back: by hand, or because a
hold was placed, a dispute opened or the patient paid the practice in full) or `closed` (the agency
collected it in full). At most one placement per account is `placed` (a partial unique constraint).
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from accounts.money import MONEY, ZERO


class Agency(models.Model):
    """A collection agency a practice has contracted, and the file layout it takes placements in."""

    class FileLayout(models.TextChoices):
        CSV = "csv", "CSV (comma-separated, with a header row)"
        FIXED_WIDTH = "fixed_width", "Fixed-width records, with a trailer of record count and total"

    practice = models.ForeignKey("accounts.Practice", on_delete=models.PROTECT, related_name="+")
    name = models.CharField(max_length=200)
    contact_name = models.CharField(max_length=200, blank=True)
    phone = models.CharField(max_length=20, blank=True, help_text="Digits only.")
    email = models.EmailField(blank=True)
    mailing_address = models.TextField(max_length=300, blank=True, help_text="As on an envelope, one line each.")
    commission_rate = models.DecimalField(
        max_digits=5, decimal_places=2, default=ZERO, help_text="Percent of what the agency collects."
    )
    file_layout = models.CharField(max_length=12, choices=FileLayout.choices, default=FileLayout.CSV)
    is_default = models.BooleanField(default=False, help_text="Where the practice's placements go unless chosen.")
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name_plural = "agencies"
        ordering = ["name", "id"]
        constraints = [
            models.UniqueConstraint(fields=["practice", "name"], name="agency_name_unique_per_practice"),
            models.UniqueConstraint(fields=["practice"], condition=Q(is_default=True), name="agency_one_default"),
            models.CheckConstraint(
                condition=Q(commission_rate__gte=0) & Q(commission_rate__lte=100), name="agency_commission_percent"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class AgencyFile(models.Model):
    """A file made for an agency: a placement file, a recall file or the direct payments to report.
    The text is kept (the download is the same file every time, and is audited)."""

    class Kind(models.TextChoices):
        PLACEMENT = "placement", "Placement file"
        RECALL = "recall", "Recall file"
        DIRECT_PAYMENTS = "direct_payments", "Payments made to the practice"

    kind = models.CharField(max_length=20, choices=Kind.choices)
    practice = models.ForeignKey("accounts.Practice", on_delete=models.PROTECT, related_name="+")
    agency = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="files")
    file_name = models.CharField(max_length=120)
    content_type = models.CharField(max_length=60, default="text/csv")
    content = models.TextField()
    record_count = models.PositiveIntegerField(default=0)
    total = models.DecimalField(**MONEY, default=ZERO)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["practice", "-created_at"], name="agency_file_practice_time")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.pk} for {self.agency}"


class PlacementBatch(models.Model):
    """The accounts a manager placed with one agency at once, and the placement file sent."""

    practice = models.ForeignKey("accounts.Practice", on_delete=models.PROTECT, related_name="+")
    agency = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="batches")
    placed_on = models.DateField()
    account_count = models.PositiveIntegerField(default=0)
    total = models.DecimalField(**MONEY, default=ZERO)
    bad_debt_written_off = models.BooleanField(default=False)
    file = models.OneToOneField(AgencyFile, null=True, blank=True, on_delete=models.PROTECT, related_name="batch")
    placed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    placed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-placed_at", "-id"]
        verbose_name_plural = "placement batches"
        indexes = [models.Index(fields=["practice", "-placed_at"], name="placement_batch_practice_time")]

    def __str__(self) -> str:
        return f"Placement batch {self.pk} with {self.agency}"


class Placement(models.Model):
    class Status(models.TextChoices):
        PLACED = "placed", "At the agency"
        RECALLED = "recalled", "Recalled"
        CLOSED = "closed", "Closed (collected in full)"

    class RecallReason(models.TextChoices):
        BY_HAND = "by_hand", "Recalled by the office"
        HOLD = "hold", "Account put on hold"
        DISPUTE = "dispute", "Dispute opened"
        PAID_IN_FULL = "paid_in_full", "Paid the practice in full"

    batch = models.ForeignKey(PlacementBatch, on_delete=models.PROTECT, related_name="placements")
    account = models.ForeignKey("accounts.PatientAccount", on_delete=models.PROTECT, related_name="placements")
    practice = models.ForeignKey("accounts.Practice", on_delete=models.PROTECT, related_name="+")
    agency = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="placements")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PLACED)
    placed_on = models.DateField()
    placed_balance = models.DecimalField(**MONEY)
    # The oldest open date of service when placed: what "delinquent for a year" counts from.
    delinquent_since = models.DateField(null=True, blank=True)
    first_service_on = models.DateField(null=True, blank=True)
    last_service_on = models.DateField(null=True, blank=True)
    last_payment_on = models.DateField(null=True, blank=True)
    # May the agency report it to the credit bureaus (agencies.rules.may_report_to_credit_bureaus).
    report_to_credit_bureaus = models.BooleanField(default=False)
    write_off = models.OneToOneField(
        "accounts.Transaction", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    collected = models.DecimalField(**MONEY, default=ZERO, help_text="Gross the agency has collected.")
    recalled_at = models.DateTimeField(null=True, blank=True)
    recalled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    recall_reason = models.CharField(max_length=20, choices=RecallReason.choices, blank=True)
    recall_note = models.CharField(max_length=300, blank=True)
    # The recall file that told the agency; empty: still to be sent.
    recall_file = models.ForeignKey(
        AgencyFile, null=True, blank=True, on_delete=models.PROTECT, related_name="recalled_placements"
    )
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-placed_on", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["account"], condition=Q(status="placed"), name="placement_one_active"),
            models.CheckConstraint(condition=Q(placed_balance__gt=0), name="placement_balance_positive"),
            models.CheckConstraint(
                condition=~Q(status="recalled") | (Q(recalled_at__isnull=False) & ~Q(recall_reason="")),
                name="placement_recall_has_reason",
            ),
        ]
        indexes = [
            models.Index(fields=["agency", "status"], name="placement_agency_status"),
            models.Index(fields=["account", "-placed_on"], name="placement_account_time"),
            models.Index(
                fields=["agency"],
                condition=Q(status="recalled", recall_file__isnull=True),
                name="placement_recall_to_send",
            ),
        ]

    def __str__(self) -> str:
        return f"Placement {self.pk} of account {self.account_id}"


class AgencyPaymentImport(models.Model):
    """One payment file an agency returned. The same file again (its SHA-256) posts nothing."""

    practice = models.ForeignKey("accounts.Practice", on_delete=models.PROTECT, related_name="+")
    agency = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="payment_imports")
    file_name = models.CharField(max_length=200, blank=True)
    digest = models.CharField(max_length=64)
    row_count = models.PositiveIntegerField(default=0)
    gross_total = models.DecimalField(**MONEY, default=ZERO)
    commission_total = models.DecimalField(**MONEY, default=ZERO)
    net_total = models.DecimalField(**MONEY, default=ZERO)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    uploaded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-uploaded_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["agency", "digest"], name="agency_payment_file_once")]

    def __str__(self) -> str:
        return f"Agency payment file {self.pk} from {self.agency}"


class AgencyPayment(models.Model):
    """What the agency collected on a placed account: gross (the patient's payment, on the ledger as
    an agency payment), the agency's commission and the net remitted to the practice. Net is written
    as gross less commission by the service (not a CHECK: SQLite's decimal arithmetic is floating
    point, so 84.95 - 21.24 would not equal 63.71 there)."""

    placement = models.ForeignKey(Placement, on_delete=models.PROTECT, related_name="payments")
    account = models.ForeignKey("accounts.PatientAccount", on_delete=models.PROTECT, related_name="+")
    practice = models.ForeignKey("accounts.Practice", on_delete=models.PROTECT, related_name="+")
    agency = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="payments")
    payment_import = models.ForeignKey(
        AgencyPaymentImport, null=True, blank=True, on_delete=models.PROTECT, related_name="payments"
    )
    line_number = models.PositiveIntegerField(null=True, blank=True)
    paid_on = models.DateField()
    gross = models.DecimalField(**MONEY)
    commission = models.DecimalField(**MONEY, default=ZERO)
    net = models.DecimalField(**MONEY)
    transaction = models.OneToOneField("accounts.Transaction", on_delete=models.PROTECT, related_name="+")
    posted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    posted_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-paid_on", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(gross__gt=0), name="agency_payment_gross_positive"),
            models.CheckConstraint(
                condition=Q(commission__gte=0) & Q(commission__lte=models.F("gross")),
                name="agency_payment_commission_within_gross",
            ),
        ]

    def __str__(self) -> str:
        return f"Agency payment {self.pk} on account {self.account_id}"


class DirectPayment(models.Model):
    """A payment the patient made to the practice on an account at an agency (or its reversal, as a
    negative amount): the agency is told in the next direct-payments file."""

    placement = models.ForeignKey(Placement, on_delete=models.PROTECT, related_name="direct_payments")
    agency = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="direct_payments")
    practice = models.ForeignKey("accounts.Practice", on_delete=models.PROTECT, related_name="+")
    transaction = models.OneToOneField("accounts.Transaction", on_delete=models.PROTECT, related_name="+")
    paid_on = models.DateField()
    amount = models.DecimalField(**MONEY)
    reported_in = models.ForeignKey(
        AgencyFile, null=True, blank=True, on_delete=models.PROTECT, related_name="direct_payments"
    )

    class Meta:
        ordering = ["paid_on", "id"]
        indexes = [
            models.Index(fields=["agency"], condition=Q(reported_in__isnull=True), name="direct_payment_to_report"),
        ]

    def __str__(self) -> str:
        return f"Direct payment {self.pk} on placement {self.placement_id}"


class AgencyCandidateCount(models.Model):
    """The nightly `agency_candidates` job: how many accounts of a practice were ready to place, and
    their balance, on one date (one row per practice and date: running it again rewrites the same)."""

    practice = models.ForeignKey("accounts.Practice", on_delete=models.CASCADE, related_name="+")
    as_of = models.DateField()
    account_count = models.PositiveIntegerField(default=0)
    total = models.DecimalField(**MONEY, default=ZERO)
    reportable_count = models.PositiveIntegerField(default=0, help_text="Of which the agency may report to bureaus.")

    class Meta:
        ordering = ["-as_of", "practice"]
        constraints = [models.UniqueConstraint(fields=["practice", "as_of"], name="agency_candidate_count_unique")]

    def __str__(self) -> str:
        return f"Agency candidates of practice {self.practice_id} on {self.as_of:%m/%d/%Y}"
