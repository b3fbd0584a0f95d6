"""Payment plans: the agreed terms, the installment schedule, its revisions and every status change.

A plan belongs to one account. Its installments are rebuilt only by `plan_modify`, which marks the
unpaid ones of the old schedule superseded (kept, never deleted) and appends a new revision, so the
history of what the patient agreed to is always readable. The down payment is installment number 0
of revision 1, due the day the plan is set up; the schedule (numbers 1..n) splits the rest.
"""

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone

from accounts.money import MONEY, ZERO


class PaymentPlan(models.Model):
    class Status(models.TextChoices):
        PROPOSED = "proposed", "Proposed"
        ACTIVE = "active", "Active"
        LAPSED = "lapsed", "Lapsed"
        DEFAULTED = "defaulted", "Defaulted"
        COMPLETED = "completed", "Completed"
        CANCELLED = "cancelled", "Cancelled"

    class Frequency(models.TextChoices):
        MONTHLY = "monthly", "Monthly"
        BIWEEKLY = "biweekly", "Every two weeks"

    # At most one of these per account (a partial unique constraint); the account is "on a plan"
    # while its plan is active or lapsed.
    OPEN_STATUSES = (Status.PROPOSED, Status.ACTIVE, Status.LAPSED)
    RUNNING_STATUSES = (Status.ACTIVE, Status.LAPSED)

    account = models.ForeignKey("accounts.PatientAccount", on_delete=models.PROTECT, related_name="payment_plans")
    practice = models.ForeignKey("accounts.Practice", on_delete=models.PROTECT, related_name="+")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PROPOSED)
    total_amount = models.DecimalField(**MONEY, help_text="What the plan pays off, down payment included.")
    down_payment = models.DecimalField(**MONEY, default=ZERO)
    frequency = models.CharField(max_length=10, choices=Frequency.choices, default=Frequency.MONTHLY)
    day_of_month = models.PositiveSmallIntegerField(
        null=True, blank=True, help_text="Monthly plans: the due day; 31 means the last day of shorter months."
    )
    start_on = models.DateField(help_text="The first installment is due on or after this date.")
    installment_count = models.PositiveIntegerField(help_text="Installments of the current schedule.")
    installment_amount = models.DecimalField(**MONEY, help_text="The regular installment of the current schedule.")
    revision = models.PositiveIntegerField(default=1)
    # PCI DSS: only the processor's token reference is kept, never a card number.
    autopay = models.BooleanField(default=False)
    autopay_token = models.CharField(max_length=80, blank=True)
    created_on = models.DateField(help_text="Practice-local date: payments from this date apply to the plan.")
    created_at = models.DateTimeField(default=timezone.now)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    status_changed_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(total_amount__gt=0), name="plan_total_positive"),
            models.CheckConstraint(condition=Q(down_payment__gte=0), name="plan_down_payment_not_negative"),
            models.CheckConstraint(condition=Q(down_payment__lt=F("total_amount")), name="plan_down_below_total"),
            models.CheckConstraint(condition=Q(installment_amount__gt=0), name="plan_installment_positive"),
            models.CheckConstraint(condition=Q(installment_count__gte=1), name="plan_has_installments"),
            models.CheckConstraint(
                condition=Q(day_of_month__isnull=True) | Q(day_of_month__gte=1, day_of_month__lte=31),
                name="plan_day_of_month_valid",
            ),
            models.CheckConstraint(condition=Q(autopay=False) | ~Q(autopay_token=""), name="plan_autopay_has_token"),
            models.UniqueConstraint(
                fields=["account"],
                condition=Q(status__in=["proposed", "active", "lapsed"]),
                name="plan_one_open_per_account",
            ),
        ]
        indexes = [
            models.Index(fields=["practice", "status"], name="plan_practice_status"),
            models.Index(fields=["account", "-created_at"], name="plan_account_created"),
        ]

    def __str__(self) -> str:
        return f"Payment plan {self.pk} ({self.get_status_display().lower()})"

    @property
    def financed_amount(self):
        return self.total_amount - self.down_payment

    @property
    def is_open(self) -> bool:
        return self.status in self.OPEN_STATUSES


class Installment(models.Model):
    """One due date of a plan. `paid_amount`/`paid_on` are recomputed from the ledger by
    `plan_payment_received`; `superseded_at` marks the unpaid part of a schedule replaced by a
    modification (kept for history)."""

    plan = models.ForeignKey(PaymentPlan, on_delete=models.CASCADE, related_name="installments")
    practice = models.ForeignKey("accounts.Practice", on_delete=models.PROTECT, related_name="+", db_index=False)
    revision = models.PositiveIntegerField(default=1)
    number = models.PositiveIntegerField(help_text="0 is the down payment.")
    due_on = models.DateField()
    amount = models.DecimalField(**MONEY)
    paid_amount = models.DecimalField(**MONEY, default=ZERO)
    paid_on = models.DateField(null=True, blank=True, help_text="When payments first covered it in full.")
    superseded_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["due_on", "number", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="installment_amount_positive"),
            models.CheckConstraint(
                condition=Q(paid_amount__gte=0, paid_amount__lte=F("amount")), name="installment_paid_within_amount"
            ),
            models.CheckConstraint(
                condition=Q(paid_on__isnull=True) | Q(paid_amount=F("amount")), name="installment_paid_on_when_paid"
            ),
            models.UniqueConstraint(fields=["plan", "revision", "number"], name="installment_unique_number"),
        ]
        indexes = [
            models.Index(
                fields=["practice", "due_on"],
                condition=Q(superseded_at__isnull=True, paid_on__isnull=True),
                name="installment_open_due",
            ),
        ]

    def __str__(self) -> str:
        return f"Installment {self.number} of plan {self.plan_id}"

    @property
    def is_down_payment(self) -> bool:
        return self.number == 0

    @property
    def is_paid(self) -> bool:
        return self.paid_amount >= self.amount

    @property
    def open_amount(self):
        return self.amount - self.paid_amount


class PlanRevision(models.Model):
    """The terms of each schedule a plan has had: revision 1 at set-up, one more per modification."""

    plan = models.ForeignKey(PaymentPlan, on_delete=models.CASCADE, related_name="revisions")
    number = models.PositiveIntegerField()
    financed_amount = models.DecimalField(**MONEY, help_text="What this schedule splits.")
    installment_count = models.PositiveIntegerField()
    installment_amount = models.DecimalField(**MONEY)
    frequency = models.CharField(max_length=10, choices=PaymentPlan.Frequency.choices)
    day_of_month = models.PositiveSmallIntegerField(null=True, blank=True)
    start_on = models.DateField()
    reason = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["plan", "number"]
        constraints = [models.UniqueConstraint(fields=["plan", "number"], name="plan_revision_unique_number")]

    def __str__(self) -> str:
        return f"Revision {self.number} of plan {self.plan_id}"


class PlanStatusChange(models.Model):
    """Every status transition of a plan: from, to, when, who (empty for the nightly job), why."""

    class Reason(models.TextChoices):
        CREATED = "created", "Plan set up"
        ACTIVATED = "activated", "Patient agreed; plan started"
        INSTALLMENT_MISSED = "installment_missed", "Installment unpaid past the grace period"
        CAUGHT_UP = "caught_up", "Missed installments paid"
        MISSED_COUNT_REACHED = "missed_count_reached", "Missed installments reached the default count"
        PAID_IN_FULL = "paid_in_full", "Paid in full"
        CANCELLED = "cancelled", "Cancelled"

    plan = models.ForeignKey(PaymentPlan, on_delete=models.CASCADE, related_name="status_changes")
    practice = models.ForeignKey("accounts.Practice", on_delete=models.PROTECT, related_name="+", db_index=False)
    from_status = models.CharField(max_length=10, choices=PaymentPlan.Status.choices, blank=True)
    to_status = models.CharField(max_length=10, choices=PaymentPlan.Status.choices)
    reason = models.CharField(max_length=30, choices=Reason.choices)
    note = models.CharField(max_length=300, blank=True)
    as_of = models.DateField(help_text="Practice-local business date of the change.")
    changed_at = models.DateTimeField(default=timezone.now)
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["plan", "changed_at", "id"]

    def __str__(self) -> str:
        if not self.from_status:
            return f"Payment plan {self.plan_id} set up as {self.get_to_status_display().lower()}"
        return (
            f"Payment plan {self.plan_id}: {self.get_from_status_display().lower()} to "
            f"{self.get_to_status_display().lower()}"
        )


class PlanReminder(models.Model):
    """A reminder sent for one installment (at most one: the unique constraint is what makes the
    nightly reminder job send it once)."""

    class Channel(models.TextChoices):
        TEXT = "text", "Text message"
        LETTER = "letter", "Letter"

    installment = models.OneToOneField(Installment, on_delete=models.CASCADE, related_name="reminder")
    plan = models.ForeignKey(PaymentPlan, on_delete=models.CASCADE, related_name="reminders")
    practice = models.ForeignKey("accounts.Practice", on_delete=models.PROTECT, related_name="+", db_index=False)
    channel = models.CharField(max_length=10, choices=Channel.choices)
    sent_on = models.DateField()
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["plan", "sent_on"]

    def __str__(self) -> str:
        return f"{self.get_channel_display()} reminder of payment plan {self.plan_id}, sent {self.sent_on:%m/%d/%Y}"
