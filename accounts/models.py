"""Patient accounts: practices and their policy, patients, accounts, encounters, claims, the ledger."""

from decimal import Decimal
from zoneinfo import available_timezones

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db import models
from django.db.models import Q
from django.db.models.functions import Replace, Upper
from django.utils import timezone

from accounts.money import MONEY, ZERO


def validate_time_zone(value: str) -> None:
    if value not in available_timezones():
        raise ValidationError(f"{value!r} is not a known time zone")


class Practice(models.Model):
    """A client physician practice, with the collection policy the office applies for it."""

    code = models.SlugField(max_length=20, unique=True)
    name = models.CharField(max_length=200)
    time_zone = models.CharField(max_length=64, default="America/New_York", validators=[validate_time_zone])
    state = models.CharField(max_length=2, help_text="Two-letter state; selects probate rules.")
    target_collection_rate = models.DecimalField(
        max_digits=5, decimal_places=2, default=Decimal("95.00"), help_text="Percent."
    )
    small_balance_threshold = models.DecimalField(**MONEY, default=Decimal("10.00"))
    small_balance_min_age_days = models.PositiveIntegerField(default=120)
    small_balance_no_activity_days = models.PositiveIntegerField(
        default=60, help_text="The nightly small-balance run skips accounts with a payment or contact this recently."
    )
    small_balance_auto_approve_under = models.DecimalField(
        **MONEY,
        default=ZERO,
        help_text="Small balances under this post without a manager's approval; 0: every run waits for approval.",
    )
    statement_cycle_days = models.PositiveIntegerField(default=30)
    statement_grace_days = models.PositiveIntegerField(
        default=30, help_text="Days after the date of service before a patient balance is past due."
    )
    final_notice_after_days = models.PositiveIntegerField(default=90)
    statement_min_balance = models.DecimalField(
        **MONEY, default=Decimal("5.00"), help_text="No statement for a patient balance under this."
    )
    statement_guarantor_min_days = models.PositiveIntegerField(
        default=25, help_text="At most one statement to a guarantor in this many days."
    )
    plan_min_installment = models.DecimalField(**MONEY, default=Decimal("25.00"))
    plan_max_months = models.PositiveIntegerField(default=24)
    plan_min_down_payment_percent = models.DecimalField(max_digits=5, decimal_places=2, default=ZERO)
    plan_grace_days = models.PositiveIntegerField(default=15)
    plan_default_missed_count = models.PositiveIntegerField(default=2)
    writeoff_limit_management = models.DecimalField(
        **MONEY, default=Decimal("500.00"), help_text="Managers approve up to this; Directors above."
    )
    overpayment_limit = models.DecimalField(
        **MONEY,
        default=Decimal("500.00"),
        help_text="The most a payment may exceed the patient balance, and only when the rep confirms why "
        "(a prepayment for a scheduled visit, say). The credit is refunded or applied later.",
    )
    # Reg F (12 CFR 1006.14(b)(2)): 7 attempts in 7 days is the safe harbour; some states are
    # stricter (Massachusetts 940 CMR 7.04: 2 in 7 days), so the cap is per practice.
    call_cap_count = models.PositiveIntegerField(default=7)
    call_cap_days = models.PositiveIntegerField(default=7)
    claim_followup_days = models.PositiveIntegerField(default=45)
    follows_501r = models.BooleanField(
        default=False, help_text="Non-profit hospital rules (IRS 501(r)) for extraordinary actions."
    )
    # Reg F (12 CFR 1006.14(b)(2)(ii)): no call within 7 days after a telephone conversation.
    call_quiet_days_after_conversation = models.PositiveIntegerField(default=7)
    # FDCPA 15 USC 1692c(a)(1): calls before 8:00 or after 21:00 local time are presumed inconvenient.
    call_window_start_hour = models.PositiveSmallIntegerField(default=8)
    call_window_end_hour = models.PositiveSmallIntegerField(default=21)
    inquiry_response_business_days = models.PositiveIntegerField(default=10)
    appointment_alert_days = models.PositiveIntegerField(
        default=7, help_text="Upcoming appointments this many days ahead are checked for past-due balances."
    )
    early_followup_after_days = models.PositiveIntegerField(
        default=21,
        help_text="New patient balances (under 90 days from service) get a courtesy follow-up this many days "
        "after the date of service; 0 turns it off.",
    )
    lop_review_days = models.PositiveIntegerField(default=90, help_text="Letter of Protection status check interval.")
    plan_reminder_days_before = models.PositiveIntegerField(
        default=5, help_text="Days before each plan installment's due date that its reminder goes out; 0: none."
    )
    # Agency placement policy (collections_app.agencies). Which agency is the default is kept on the
    # agency (Agency.is_default, one per practice): a foreign key from here would point up the layers.
    agency_min_balance = models.DecimalField(
        **MONEY, default=Decimal("100.00"), help_text="Accounts owing less are never placed with an agency."
    )
    agency_bad_debt_at_placement = models.BooleanField(
        default=True,
        help_text="Write the balance off to bad debt when it is placed; agency collections then post as "
        "bad-debt recovery.",
    )
    # Where patients send payments and call about their bill: the statement's header and remit stub.
    remit_address_line1 = models.CharField("remit-to address", max_length=200, blank=True)
    remit_address_line2 = models.CharField("remit-to address, second line", max_length=200, blank=True)
    remit_city = models.CharField("remit-to city", max_length=100, blank=True)
    remit_state = models.CharField(
        "remit-to state", max_length=2, blank=True, validators=[RegexValidator(r"^[A-Z]{2}$", "Two capital letters.")]
    )
    remit_postal_code = models.CharField(
        "remit-to ZIP code",
        max_length=10,
        blank=True,
        validators=[RegexValidator(r"^\d{5}(-\d{4})?$", "Five digits, or ZIP+4 (12345-6789).")],
    )
    billing_phone = models.CharField(
        "billing office phone", max_length=20, blank=True, help_text="Printed on statements and letters."
    )
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["name"]
        permissions = [("work_practice", "Work the practice's accounts")]

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"

    @property
    def remit_address_lines(self) -> list[str]:
        """The remit-to address as printed: street lines, then "City, ST 12345"; empty when unset."""
        place = f"{self.remit_state} {self.remit_postal_code}".strip()
        city = ", ".join(part for part in (self.remit_city, place) if part)
        return [line for line in (self.remit_address_line1, self.remit_address_line2, city) if line]


class AddressFields(models.Model):
    address_line1 = models.CharField(max_length=200, blank=True)
    address_line2 = models.CharField(max_length=200, blank=True)
    city = models.CharField(max_length=100, blank=True)
    state = models.CharField(max_length=2, blank=True)
    postal_code = models.CharField(max_length=10, blank=True)

    class Meta:
        abstract = True

    ADDRESS_FIELDS = ("address_line1", "address_line2", "city", "state", "postal_code")

    @property
    def address_display(self) -> str:
        parts = [self.address_line1, self.address_line2, f"{self.city}, {self.state} {self.postal_code}"]
        return ", ".join(p for p in parts if p and p.strip(", "))


class Patient(AddressFields):
    """A person treated at a practice. Names, contact and address are the demographics group."""

    class Sex(models.TextChoices):
        FEMALE = "F", "Female"
        MALE = "M", "Male"
        OTHER = "X", "Other"
        UNKNOWN = "U", "Unknown"

    practice = models.ForeignKey(Practice, on_delete=models.PROTECT, related_name="patients")
    medical_record_number = models.CharField(max_length=30)
    first_name = models.CharField(max_length=100)
    middle_name = models.CharField(max_length=100, blank=True)
    last_name = models.CharField(max_length=100)
    date_of_birth = models.DateField()
    sex = models.CharField(max_length=1, choices=Sex.choices, default=Sex.UNKNOWN)
    phone = models.CharField(max_length=20, blank=True, help_text="Digits only.")
    email = models.EmailField(blank=True)
    ssn = models.CharField(max_length=11, blank=True, help_text="Full identifier: Director only.")
    time_zone = models.CharField(max_length=64, blank=True, validators=[validate_time_zone])
    address_is_bad = models.BooleanField(default=False, help_text="Returned mail; mailings suppressed.")
    deceased_on = models.DateField(null=True, blank=True)
    chart_notes = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    # What a patient's demographics edit, API and audit name (addresses: ADDRESS_FIELDS).
    NAME_AND_CONTACT_FIELDS = ("first_name", "middle_name", "last_name", "date_of_birth", "sex", "phone", "email")

    # PostgreSQL also has trigram indexes on UPPER(last_name) and UPPER(first_name) for
    # substring search at 1M patients (migration accounts 0002).
    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["practice", "medical_record_number"], name="patient_mrn_unique_per_practice"
            )
        ]
        indexes = [
            models.Index(Upper("last_name"), Upper("first_name"), name="patient_name_upper"),
            models.Index(fields=["date_of_birth"], name="patient_dob"),
            models.Index(fields=["phone"], name="patient_phone"),
            # Search by MRN or email is exact and case-insensitive (accounts.selectors.AccountSearch).
            models.Index(Upper("medical_record_number"), name="patient_mrn_upper"),
            models.Index(Upper("email"), name="patient_email_upper"),
        ]

    def __str__(self) -> str:
        return f"Patient {self.pk}"

    @property
    def full_name(self) -> str:
        middle = f" {self.middle_name[:1]}." if self.middle_name else ""
        return f"{self.first_name}{middle} {self.last_name}"


class AddressHistory(AddressFields):
    """Every address a patient has had, newest last; corrections never overwrite history."""

    patient = models.ForeignKey(Patient, on_delete=models.CASCADE, related_name="address_history")
    recorded_at = models.DateTimeField(default=timezone.now)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT)
    reason = models.CharField(max_length=200, blank=True)
    was_bad = models.BooleanField(default=False)

    class Meta:
        ordering = ["patient", "recorded_at"]
        verbose_name_plural = "address history"

    def __str__(self) -> str:
        return f"Address of patient {self.patient_id}, recorded {self.recorded_at:%m/%d/%Y}"


class Guarantor(AddressFields):
    """The person responsible for paying (the patient, a parent, a spouse...)."""

    class Relationship(models.TextChoices):
        SELF = "self", "Self"
        PARENT = "parent", "Parent"
        SPOUSE = "spouse", "Spouse"
        GUARDIAN = "guardian", "Legal guardian"
        OTHER = "other", "Other"

    practice = models.ForeignKey(Practice, on_delete=models.PROTECT, related_name="guarantors")
    patient = models.ForeignKey(Patient, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    relationship = models.CharField(max_length=10, choices=Relationship.choices, default=Relationship.SELF)
    first_name = models.CharField(max_length=100)
    last_name = models.CharField(max_length=100)
    phone = models.CharField(max_length=20, blank=True)
    email = models.EmailField(blank=True)
    # Mail to the guarantor's own address came back (a guarantor who is not the patient; a "self"
    # guarantor is mailed at the patient's address and the patient's flag decides).
    address_is_bad = models.BooleanField(default=False, help_text="Returned mail; mailings suppressed.")

    class Meta:
        indexes = [models.Index(Upper("email"), name="guarantor_email_upper")]

    def __str__(self) -> str:
        return f"Guarantor {self.pk}"

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}"


class PatientAccount(models.Model):
    """One patient's balance at one practice: what reps work. Balances are kept equal to the ledger."""

    class Status(models.TextChoices):
        ACTIVE = "active", "Active"
        PAYMENT_PLAN = "payment_plan", "Payment plan"
        HOLD = "hold", "On hold"
        AGENCY = "agency", "At agency"
        CLOSED = "closed", "Closed"

    class InsuranceType(models.TextChoices):
        COMMERCIAL = "commercial", "Commercial"
        MEDICARE = "medicare", "Medicare"
        MEDICAID = "medicaid", "Medicaid"
        SELF_PAY = "self_pay", "Self-pay"
        WORKERS_COMP = "workers_comp", "Workers' comp"

    # db_index=False: account_number_unique_per_practice (practice, account_number) serves lookups
    # by practice; an index of its own would be one more to write at every balance change.
    practice = models.ForeignKey(Practice, on_delete=models.PROTECT, related_name="accounts", db_index=False)
    account_number = models.CharField(max_length=30)
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="accounts")
    guarantor = models.ForeignKey(Guarantor, on_delete=models.PROTECT, related_name="accounts")
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.ACTIVE)
    hold_reason = models.CharField(max_length=30, blank=True)
    primary_insurance = models.CharField(max_length=20, choices=InsuranceType.choices, default=InsuranceType.COMMERCIAL)
    payer_name = models.CharField(max_length=100, blank=True)
    # db_index=False: account_rep_follow_up (assigned_rep, follow_up_on) serves lookups by rep.
    assigned_rep = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="assigned_accounts",
        db_index=False,
    )
    follow_up_on = models.DateField("follow-up date", null=True, blank=True)
    patient_balance = models.DecimalField(**MONEY, default=ZERO)
    insurance_balance = models.DecimalField(**MONEY, default=ZERO)
    last_patient_payment_on = models.DateField(null=True, blank=True)
    # Communication flags (collections_app's governor reads them): FDCPA 15 USC 1692c(c) cease
    # communication; 1692c(a)(2) a represented consumer is contacted through the attorney.
    cease_communication_on = models.DateField(null=True, blank=True)
    # IRS 501(r) counts its 120 days from the first statement after service (reports.statements).
    first_statement_on = models.DateField("first statement after service", null=True, blank=True)
    attorney_represented = models.BooleanField(default=False)
    attorney_name = models.CharField(max_length=200, blank=True)
    attorney_phone = models.CharField(max_length=20, blank=True)
    version = models.PositiveIntegerField(default=1, help_text="Optimistic lock: bumped on every change.")
    opened_on = models.DateField(default=timezone.localdate)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["practice", "account_number"], name="account_number_unique_per_practice"),
            models.CheckConstraint(condition=~Q(status="hold") | ~Q(hold_reason=""), name="account_on_hold_has_reason"),
        ]
        indexes = [
            models.Index(fields=["account_number"], name="account_number"),
            models.Index(fields=["practice", "status", "-patient_balance"], name="account_practice_status_bal"),
            models.Index(fields=["assigned_rep", "follow_up_on"], name="account_rep_follow_up"),
            # The work queue's sorts by balance and by follow-up date (collections_app.queues.selectors
            # QUEUE_SORTS) walk these and probe each account's queue entry by key, instead of sorting
            # every entry of the rep's queue.
            models.Index(models.F("patient_balance").desc(), "id", name="account_balance_desc"),
            models.Index(fields=["follow_up_on", "id"], name="account_follow_up"),
        ]

    def __str__(self) -> str:
        return f"Account {self.account_number}"

    @property
    def total_balance(self):
        return self.patient_balance + self.insurance_balance


class Encounter(models.Model):
    """A visit: what aging is measured from (date of service)."""

    practice = models.ForeignKey(Practice, on_delete=models.PROTECT, related_name="+")
    # db_index=False: encounter_account_dos (account, date_of_service) serves lookups by account.
    account = models.ForeignKey(PatientAccount, on_delete=models.PROTECT, related_name="encounters", db_index=False)
    date_of_service = models.DateField()
    rendering_provider = models.CharField(max_length=100)
    rendering_provider_npi = models.CharField(max_length=10, blank=True)
    place_of_service = models.CharField(max_length=2, default="11", help_text="CMS place-of-service code.")
    diagnosis_codes = models.JSONField(default=list, blank=True, help_text="ICD-10-CM codes, primary first.")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [
            models.Index(fields=["account", "date_of_service"], name="encounter_account_dos"),
            # The review list's suggestions: a practice's visits on the remittance's date of service.
            models.Index(fields=["practice", "date_of_service"], name="encounter_practice_dos"),
        ]

    def __str__(self) -> str:
        return f"Visit {self.pk} on {self.date_of_service:%m/%d/%Y}"


class ChargeLine(models.Model):
    encounter = models.ForeignKey(Encounter, on_delete=models.PROTECT, related_name="charge_lines")
    procedure_code = models.CharField(max_length=5, help_text="CPT or HCPCS.")
    modifiers = models.CharField(max_length=11, blank=True, help_text="Up to four, comma separated.")
    units = models.PositiveIntegerField(default=1)
    amount = models.DecimalField(**MONEY)

    class Meta:
        constraints = [models.CheckConstraint(condition=Q(amount__gte=0), name="charge_line_amount_not_negative")]

    def __str__(self) -> str:
        return f"{self.procedure_code}, {self.units} unit{'s' if self.units != 1 else ''}"


# Punctuation billing systems put into a patient control number and payers drop (or the reverse).
CONTROL_NUMBER_PUNCTUATION = ("-", " ", ".", "/", "_")


class LeadingZerosTrimmed(models.Func):
    """LTRIM(text, '0'): the same in PostgreSQL and SQLite, and immutable, so it can be indexed."""

    function = "LTRIM"
    template = "%(function)s(%(expressions)s, '0')"
    output_field = models.CharField()


def control_number_key(expression="patient_control_number"):
    """A patient control number as the review list compares them: without punctuation or leading
    zeros, upper case ("00-1234a" and "1234A" are the same). `control_number_key_of` is the same in
    Python; the index claim_control_number_key serves lookups by it."""
    for character in CONTROL_NUMBER_PUNCTUATION:
        expression = Replace(expression, models.Value(character), models.Value(""))
    return Upper(LeadingZerosTrimmed(expression))


def control_number_key_of(value: str) -> str:
    for character in CONTROL_NUMBER_PUNCTUATION:
        value = value.replace(character, "")
    return value.lstrip("0").upper()


class Claim(models.Model):
    class Status(models.TextChoices):
        SUBMITTED = "submitted", "Submitted"
        PENDING = "pending", "Pending"
        PAID = "paid", "Paid"
        PARTIALLY_PAID = "partial", "Partially paid"
        DENIED = "denied", "Denied"
        APPEALED = "appealed", "Appealed"

    encounter = models.ForeignKey(Encounter, on_delete=models.PROTECT, related_name="claims")
    account = models.ForeignKey(PatientAccount, on_delete=models.PROTECT, related_name="claims")
    payer_name = models.CharField(max_length=100)
    payer_id = models.CharField(max_length=20, blank=True)
    payer_claim_number = models.CharField(max_length=50, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.SUBMITTED)
    billed_amount = models.DecimalField(**MONEY)
    paid_amount = models.DecimalField(**MONEY, default=ZERO)
    submitted_on = models.DateField()
    adjudicated_on = models.DateField(null=True, blank=True)
    # CLM01 of the 837P we sent: the payer returns it as CLP01 in the 835, where it is how a
    # remittance finds its claim (imports.remittance, with the account's practice).
    patient_control_number = models.CharField(max_length=38, blank=True, default="", db_default="")

    class Meta:
        indexes = [
            models.Index(fields=["status", "submitted_on"], name="claim_status_submitted"),
            models.Index(
                fields=["patient_control_number"],
                condition=~Q(patient_control_number=""),
                name="claim_patient_control_number",
            ),
            # The review list's suggestions (imports.selectors): a number sent with or without its
            # punctuation and leading zeros.
            models.Index(control_number_key(), name="claim_control_number_key"),
        ]

    def __str__(self) -> str:
        return f"Claim {self.payer_claim_number or self.pk}"


class Appointment(models.Model):
    class Status(models.TextChoices):
        SCHEDULED = "scheduled", "Scheduled"
        CHECKED_IN = "checked_in", "Checked in"
        CANCELLED = "cancelled", "Cancelled"
        NO_SHOW = "no_show", "No-show"
        COMPLETED = "completed", "Completed"

    practice = models.ForeignKey(Practice, on_delete=models.PROTECT, related_name="appointments")
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="appointments")
    starts_at = models.DateTimeField()
    provider = models.CharField(max_length=100)
    location = models.CharField(max_length=100, blank=True)
    reason = models.CharField(max_length=200, blank=True)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.SCHEDULED)

    class Meta:
        indexes = [models.Index(fields=["practice", "starts_at"], name="appointment_practice_start")]

    def __str__(self) -> str:
        # No time here: it would be UTC's; pages write it in the practice's zone (core.display).
        return f"Appointment {self.pk} with {self.provider}"


class Transaction(models.Model):
    """One ledger row. Append-only: the database refuses UPDATE and DELETE (see migration 0002).

    Each row moves the account's two stored balances by `patient_amount` and `insurance_amount`
    (signed; a charge is positive, a payment negative). A correction is a reversal row that
    negates the row it points at; a row can be reversed once.
    """

    class Kind(models.TextChoices):
        CHARGE = "charge", "Charge"
        INSURANCE_PAYMENT = "insurance_payment", "Insurance payment"
        CONTRACTUAL_ADJUSTMENT = "contractual_adjustment", "Contractual adjustment"
        TRANSFER_TO_PATIENT = "transfer_to_patient", "Transfer to patient responsibility"
        PATIENT_PAYMENT = "patient_payment", "Patient payment"
        REFUND = "refund", "Refund"
        WRITE_OFF = "write_off", "Write-off"
        AGENCY_PAYMENT = "agency_payment", "Agency payment"
        BAD_DEBT_RECOVERY = "bad_debt_recovery", "Bad-debt recovery"
        REVERSAL = "reversal", "Reversal"

    class PaymentMethod(models.TextChoices):
        CASH = "cash", "Cash"
        CHECK = "check", "Check"
        CARD = "card", "Card (processor reference)"
        MONEY_ORDER = "money_order", "Money order"
        EFT = "eft", "EFT / ERA"

    # db_index=False: transaction_account_date (account, effective_on) serves lookups by account.
    account = models.ForeignKey(PatientAccount, on_delete=models.PROTECT, related_name="transactions", db_index=False)
    encounter = models.ForeignKey(
        Encounter, null=True, blank=True, on_delete=models.PROTECT, related_name="transactions"
    )
    kind = models.CharField(max_length=30, choices=Kind.choices)
    patient_amount = models.DecimalField(**MONEY, default=ZERO)
    insurance_amount = models.DecimalField(**MONEY, default=ZERO)
    effective_on = models.DateField(help_text="The transaction date: what as-of reports use.")
    posted_at = models.DateTimeField(default=timezone.now)
    # db_index=False: transaction_poster_posted_at (posted_by, posted_at) serves lookups by poster.
    posted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+", db_index=False
    )
    reverses = models.OneToOneField("self", null=True, blank=True, on_delete=models.PROTECT, related_name="reversed_by")
    payment_method = models.CharField(max_length=12, choices=PaymentMethod.choices, blank=True)
    reference = models.CharField(
        max_length=80, blank=True, help_text="Check number, processor reference, or import key (idempotency)."
    )
    write_off_reason = models.CharField(max_length=30, blank=True)
    memo = models.CharField(max_length=200, blank=True)
    idempotency_key = models.CharField(
        max_length=80,
        blank=True,
        help_text="The key a form or an API call (Idempotency-Key header) sent: a replay answers with this row.",
    )

    class Meta:
        ordering = ["effective_on", "id"]
        indexes = [
            models.Index(fields=["account", "effective_on"], name="transaction_account_date"),
            # The dashboards' "collected today / this month": postings by when they were entered, a
            # rep's own, and reversals (rare) by when they were entered.
            models.Index(fields=["posted_at"], name="transaction_posted_at"),
            models.Index(fields=["posted_by", "posted_at"], name="transaction_poster_posted_at"),
            models.Index(fields=["posted_at"], condition=Q(kind="reversal"), name="transaction_reversal_posted_at"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=~Q(patient_amount=0) | ~Q(insurance_amount=0), name="transaction_moves_money"
            ),
            models.CheckConstraint(
                condition=Q(kind="reversal", reverses__isnull=False) | (~Q(kind="reversal") & Q(reverses__isnull=True)),
                name="transaction_reversal_points_at_original",
            ),
            models.UniqueConstraint(
                fields=["account", "reference"], condition=~Q(reference=""), name="transaction_reference_unique"
            ),
            models.UniqueConstraint(
                fields=["account", "idempotency_key"],
                condition=~Q(idempotency_key=""),
                name="transaction_idempotency_key_unique",
            ),
        ]

    def __str__(self) -> str:
        amount = max(abs(self.patient_amount), abs(self.insurance_amount))
        return f"{self.get_kind_display()} of ${amount:,.2f} on {self.effective_on:%m/%d/%Y}"


class PracticeAgingSnapshot(models.Model):
    """Nightly: a practice's open AR per aging bucket on one date (patient and insurance), so trend
    reports read one row per bucket instead of rescanning the ledger."""

    practice = models.ForeignKey(Practice, on_delete=models.CASCADE, related_name="+")
    as_of = models.DateField()
    bucket = models.CharField(max_length=10)
    patient_amount = models.DecimalField(**MONEY, default=ZERO)
    insurance_amount = models.DecimalField(**MONEY, default=ZERO)
    account_count = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["practice", "as_of", "bucket"], name="aging_snapshot_unique"),
        ]

    def __str__(self) -> str:
        return f"Aging of practice {self.practice_id} on {self.as_of:%m/%d/%Y}, {self.bucket} days"


class AccountAgingState(models.Model):
    """Nightly: each account's aging as of the last nightly run for its practice (the date lives in
    that night's JobRun / PracticeAgingSnapshot, not here). Queues, flags and agency rules read it
    instead of aging a million ledgers per request. Nothing here changes just because a day passed:
    readers age `oldest_open_service_on` against their own as-of date, so a night rewrites only the
    rows whose balance, oldest open visit, bucket or past-due flag changed."""

    account = models.OneToOneField(PatientAccount, on_delete=models.CASCADE, primary_key=True, related_name="aging")
    practice = models.ForeignKey(Practice, on_delete=models.CASCADE, related_name="+", db_index=False)
    patient_open = models.DecimalField(**MONEY, default=ZERO)
    oldest_open_service_on = models.DateField(null=True, blank=True)
    bucket = models.CharField(max_length=10, blank=True, help_text="Bucket of the oldest open patient balance.")
    is_past_due = models.BooleanField(default=False)

    class Meta:
        indexes = [
            models.Index(
                fields=["practice", "oldest_open_service_on"],
                condition=Q(is_past_due=True),
                name="aging_state_past_due",
            ),
        ]

    def __str__(self) -> str:
        return f"Aging of patient account {self.account_id}"
