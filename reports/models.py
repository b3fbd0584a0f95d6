"""What the reports keep: the nightly collection-rate snapshot the manager's dashboard reads."""

from django.db import models
from django.utils import timezone

from accounts.money import MONEY, ZERO

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
