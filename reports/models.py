"""What the reports keep: the nightly collection-rate snapshot the manager's dashboard reads, and
the statements and letters sent to patients, guarantors, attorneys and estates (with their batches
and the email send log)."""

from django.conf import settings
from django.db import models
from django.utils import timezone

from accounts.money import MONEY, ZERO
from core.storage import private_storage

RATE = {"max_digits": 7, "decimal_places": 2, "null": True, "blank": True}


class CollectionRateSnapshot(models.Model):
    """One practice's month as the nightly job last computed it (reports.metrics: the sums behind
    the net and the patient collection rate, and both rates). The dashboard's twelve-month trend
    reads these rows instead of the ledger. `as_of` is the practice's date the figures count up to;
    a month is recomputed every night while its patient rate can still change (120 days after it)."""

    practice = models.ForeignKey("accounts.Practice", on_delete=models.CASCADE, related_name="+")
    month = models.DateField(help_text="First day of the month.")
    as_of = models.DateField()
    charges = models.DecimalField(**MONEY, default=ZERO)
    contractual_adjustments = models.DecimalField(**MONEY, default=ZERO)
    payments = models.DecimalField(**MONEY, default=ZERO)
    refunds = models.DecimalField(**MONEY, default=ZERO)
    patient_responsibility = models.DecimalField(**MONEY, default=ZERO)
    patient_paid = models.DecimalField(**MONEY, default=ZERO, help_text="Paid within 120 days.")
    net_rate = models.DecimalField(**RATE, help_text="Percent; empty when nothing was collectible.")
    patient_rate = models.DecimalField(**RATE, help_text="Percent; empty when no balance became the patient's.")
    target = models.DecimalField(max_digits=5, decimal_places=2, help_text="The practice's target then (percent).")
    computed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["practice", "month"]
        constraints = [
            models.UniqueConstraint(fields=["practice", "month"], name="collection_rate_snapshot_unique"),
        ]

    def __str__(self) -> str:
        return f"Collection rate of practice {self.practice_id} for {self.month:%m/%Y}"


class StatementBatch(models.Model):
    """One print run: the statements and letters the statement cycle produced for a practice on a
    date (or a manager's batch of letters), rendered in chunks into one merged print file for the
    print vendor. A chunk that failed is rendered again without producing its letters twice: a
    statement whose document exists is skipped."""

    class Kind(models.TextChoices):
        CYCLE = "cycle", "Statement cycle"
        LETTERS = "letters", "Letters"

    class Status(models.TextChoices):
        PENDING = "pending", "Waiting to print"
        PRINTING = "printing", "Printing"
        DONE = "done", "Printed"
        FAILED = "failed", "Failed"

    practice = models.ForeignKey("accounts.Practice", on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.CYCLE)
    run_on = models.DateField(help_text="The practice's business date the batch is for.")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    statement_count = models.PositiveIntegerField(default=0)
    total_amount = models.DecimalField(**MONEY, default=ZERO)
    # {"reason in words": count} of the accounts the cycle left out, for the batch list.
    suppressed = models.JSONField(default=dict, blank=True)
    chunk_count = models.PositiveIntegerField(default=0)
    chunks_done = models.PositiveIntegerField(default=0)
    print_file = models.FileField(upload_to="print/%Y/%m/", storage=private_storage, blank=True)
    page_count = models.PositiveIntegerField(default=0)
    error = models.CharField(max_length=300, blank=True, help_text="Why the last chunk failed, in words.")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    printed_at = models.DateTimeField(null=True, blank=True)
    # Touched when printing starts, a chunk starts or is stored, and the finish starts: a batch
    # printing with no progress for longer than a task may run (its hard time limit) has lost its
    # worker, and the jobs page offers Retry (reports.statements.batch.batch_is_stalled).
    progressed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-run_on", "-id"]
        constraints = [
            # The cycle is idempotent per date: one cycle batch per practice and business date.
            models.UniqueConstraint(
                fields=["practice", "run_on"],
                condition=models.Q(kind="cycle"),
                name="statement_batch_one_cycle_per_day",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} batch {self.pk} of practice {self.practice_id} for {self.run_on}"


class Statement(models.Model):
    """One statement or letter: who it went to, its dunning level, the amount it asked for, the
    mailing date and the document. `content` freezes the minimum-necessary fields the document
    shows at the moment it was produced, so the PDF printed later (or again) says what was sent."""

    class Kind(models.TextChoices):
        STATEMENT = "statement", "Patient statement"
        DUNNING_30 = "dunning_30", "Past-due letter (30 days)"
        DUNNING_60 = "dunning_60", "Past-due letter (60 days)"
        DUNNING_90 = "dunning_90", "Past-due letter (90 days)"
        FINAL_NOTICE = "final_notice", "Final notice"
        NOTICE_501R = "notice_501r", "Notice of collection action (501(r))"
        PLAN_AGREEMENT = "plan_agreement", "Payment plan agreement"
        PLAN_REMINDER = "plan_reminder", "Payment plan reminder"
        PLAN_LAPSE = "plan_lapse", "Payment plan lapse notice"
        LOP_ACKNOWLEDGEMENT = "lop_acknowledgement", "Letter of protection acknowledgement"
        PROBATE_CLAIM = "probate_claim", "Claim against the estate"
        INQUIRY_RESPONSE = "inquiry_response", "Response to a billing inquiry"
        ADDRESS_REQUEST = "address_request", "Request for a correct address"

    class Channel(models.TextChoices):
        MAIL = "mail", "Mail"
        EMAIL = "email", "Email"

    class Recipient(models.TextChoices):
        GUARANTOR = "guarantor", "Guarantor"
        PATIENT = "patient", "Patient"
        ATTORNEY = "attorney", "Attorney"
        ESTATE = "estate", "Estate"

    account = models.ForeignKey("accounts.PatientAccount", on_delete=models.PROTECT, related_name="statements")
    # One statement covers all of a guarantor's accounts in the practice: `account` is the one it is
    # filed under (the oldest balance), `covers` every account it lists, `account` included.
    covers = models.ManyToManyField("accounts.PatientAccount", related_name="statements_covering", blank=True)
    practice = models.ForeignKey("accounts.Practice", on_delete=models.PROTECT, related_name="+")
    guarantor = models.ForeignKey("accounts.Guarantor", on_delete=models.PROTECT, related_name="+")
    batch = models.ForeignKey(
        StatementBatch, null=True, blank=True, on_delete=models.PROTECT, related_name="statements"
    )
    kind = models.CharField(max_length=30, choices=Kind.choices)
    recipient = models.CharField(max_length=10, choices=Recipient.choices, default=Recipient.GUARANTOR)
    channel = models.CharField(max_length=10, choices=Channel.choices, default=Channel.MAIL)
    dunning_level = models.PositiveSmallIntegerField(
        default=0, help_text="0 a first statement, 1-3 the 30/60/90-day letters, 4 the final notice."
    )
    statement_date = models.DateField(help_text="The practice's date the document is dated.")
    amount_due = models.DecimalField(**MONEY, default=ZERO)
    pay_by = models.DateField(null=True, blank=True)
    mailed_on = models.DateField(null=True, blank=True)
    content = models.JSONField(default=dict, blank=True)
    document = models.FileField(upload_to="statements/%Y/%m/", storage=private_storage, blank=True)
    page_count = models.PositiveIntegerField(default=0)
    chunk = models.PositiveIntegerField(default=0, help_text="Which chunk of its batch renders it.")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-statement_date", "-id"]
        indexes = [
            models.Index(fields=["account", "-statement_date"], name="statement_account_date"),
            models.Index(fields=["guarantor", "-statement_date"], name="statement_guarantor_date"),
            models.Index(fields=["batch", "chunk"], name="statement_batch_chunk"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.pk} on account {self.account_id}"


class StatementEmail(models.Model):
    """The send log: every email of a statement, sent or failed, never silent. The address is the
    one on the statement's own guarantor at the time of sending."""

    class Status(models.TextChoices):
        SENT = "sent", "Sent"
        FAILED = "failed", "Failed"

    statement = models.ForeignKey(Statement, on_delete=models.PROTECT, related_name="emails")
    to_address = models.EmailField()
    status = models.CharField(max_length=10, choices=Status.choices)
    error = models.CharField(max_length=300, blank=True)
    attempted_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-attempted_at"]

    def __str__(self) -> str:
        return f"Email of statement {self.statement_id}: {self.status}"
