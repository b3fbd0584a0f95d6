"""The work of collecting: queues, contacts, promises, holds, returned mail, inquiries, nightly runs."""

from django.conf import settings
from django.db import models
from django.utils import timezone

from accounts.money import MONEY
from core.storage import private_storage  # the name migrations 0001 refer to

# --- The work of collecting: queues, contacts, promises, holds, mail, inquiries, nightly runs ---
#
# Rows below name accounts by foreign key and carry `practice` (denormalised from the account) so
# every queue and list can be scoped by practice with one indexed filter.


class WorkItem(models.Model):
    """One reason an account needs a rep, produced by a queue rule and cleared when its cause goes
    away. At most one open item per account and reason (a partial unique constraint)."""

    class Reason(models.TextChoices):
        PAST_DUE = "past_due", "Patient balance past due"
        FOLLOW_UP_DUE = "follow_up_due", "Follow-up date due"
        PROMISE_BROKEN = "promise_broken", "Promise to pay broken"
        PLAN_LAPSED = "plan_lapsed", "Payment plan lapsed"
        RETURNED_MAIL = "returned_mail", "Returned mail to research"
        INQUIRY_DUE = "inquiry_due", "Inquiry awaiting a response"
        APPOINTMENT_PAST_DUE = "appointment_past_due", "Upcoming appointment, past-due balance"
        HOLD_REVIEW = "hold_review", "Hold review due"
        FINAL_NOTICE = "final_notice", "Final notice due"
        EARLY_FOLLOW_UP = "early_follow_up", "New balance early follow-up"
        CLAIM_FOLLOW_UP = "claim_follow_up", "Insurance claim follow-up"

    account = models.ForeignKey("accounts.PatientAccount", on_delete=models.CASCADE, related_name="work_items")
    practice = models.ForeignKey("accounts.Practice", on_delete=models.CASCADE, related_name="+")
    reason = models.CharField(max_length=30, choices=Reason.choices)
    opened_on = models.DateField()
    opened_at = models.DateTimeField(default=timezone.now)
    cleared_at = models.DateTimeField(null=True, blank=True)
    cleared_because = models.CharField(max_length=200, blank=True)
    # Ids of what caused it (promise, inquiry, hold, claim...): never PHI.
    detail = models.JSONField(default=dict, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["account", "reason"], condition=models.Q(cleared_at__isnull=True), name="work_item_open_unique"
            )
        ]
        indexes = [
            models.Index(fields=["reason"], condition=models.Q(cleared_at__isnull=True), name="work_item_open_reason"),
        ]

    def __str__(self) -> str:
        return f"{self.get_reason_display()} on account {self.account_id}"


class QueueEntry(models.Model):
    """An account with open work items: its priority score and who holds it.

    "Next account" claims the highest-scored unleased entry with SELECT ... FOR UPDATE SKIP LOCKED
    (PostgreSQL), so two reps never get the same account; the lease ends by itself after
    `claim_expires_at`. Rebuilt from WorkItem rows by the queue refresh.
    """

    account = models.OneToOneField(
        "accounts.PatientAccount", on_delete=models.CASCADE, primary_key=True, related_name="queue_entry"
    )
    practice = models.ForeignKey("accounts.Practice", on_delete=models.CASCADE, related_name="+", db_index=False)
    assigned_rep = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", db_index=False
    )
    score = models.DecimalField(max_digits=10, decimal_places=2, default=0)
    top_reason = models.CharField(max_length=30, choices=WorkItem.Reason.choices)
    reasons = models.JSONField(default=list, blank=True)
    oldest_item_on = models.DateField()
    claimed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    claim_expires_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        indexes = [
            models.Index(fields=["practice", "-score"], name="queue_practice_score"),
            models.Index(fields=["assigned_rep", "-score"], name="queue_rep_score"),
            # "My queue" over several practices walks this in queue order instead of sorting them all.
            models.Index(models.F("score").desc(), "oldest_item_on", "account", name="queue_order"),
            # The queue's "oldest first" sort (collections_app.queues.selectors.QUEUE_SORTS).
            models.Index("oldest_item_on", models.F("score").desc(), "account", name="queue_oldest_first"),
        ]

    def __str__(self) -> str:
        return f"Queue entry for account {self.account_id}"


class RepAssignment(models.Model):
    """A manager's assignment of a rep to a practice's work, optionally one bucket of it."""

    class Bucket(models.TextChoices):
        ALL = "all", "All work"
        PATIENT_BALANCES = "patient_balances", "Patient balances"
        INSURANCE_CLAIMS = "insurance_claims", "Insurance claims"
        CORRESPONDENCE = "correspondence", "Returned mail and inquiries"
        SPECIAL_HANDLING = "special_handling", "Holds and appointments"

    rep = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="rep_assignments")
    practice = models.ForeignKey("accounts.Practice", on_delete=models.CASCADE, related_name="+")
    bucket = models.CharField(max_length=20, choices=Bucket.choices, default=Bucket.ALL)
    assigned_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    assigned_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["rep", "practice", "bucket"], name="rep_assignment_unique"),
        ]

    def __str__(self) -> str:
        return f"Rep {self.rep_id} assigned to practice {self.practice_id} ({self.get_bucket_display().lower()})"


class Contact(models.Model):
    """One entry of the contact log: a call, letter, email or text, who was reached and the outcome."""

    class Channel(models.TextChoices):
        OUTBOUND_CALL = "outbound_call", "Outbound call"
        INBOUND_CALL = "inbound_call", "Inbound call"
        LETTER = "letter", "Letter"
        EMAIL = "email", "Email"
        TEXT = "text", "Text message"

    class Party(models.TextChoices):
        PATIENT = "patient", "Patient"
        GUARANTOR = "guarantor", "Guarantor"
        ATTORNEY = "attorney", "Attorney"
        EXECUTOR = "executor", "Executor / personal representative"
        THIRD_PARTY = "third_party", "Third party"
        NOBODY = "nobody", "Nobody reached"

    class Outcome(models.TextChoices):
        PROMISE_TO_PAY = "promise_to_pay", "Promise to pay"
        LEFT_MESSAGE = "left_message", "Left message"
        NO_ANSWER = "no_answer", "No answer"
        WRONG_NUMBER = "wrong_number", "Wrong number"
        DISPUTES = "disputes", "Disputes the balance"
        REFUSES = "refuses", "Refuses to pay"
        PAID = "paid", "Paid"
        REQUESTS_PLAN = "requests_plan", "Requests a payment plan"
        DECEASED_REPORTED = "deceased_reported", "Deceased reported"
        ATTORNEY_REPRESENTED = "attorney_represented", "Represented by an attorney"
        CEASE_REQUESTED = "cease_requested", "Asked us to stop contact"
        CALLBACK_REQUESTED = "callback_requested", "Asked for a call back"
        INFORMATION_GIVEN = "information_given", "Information given"
        LETTER_SENT = "letter_sent", "Letter sent"
        FINAL_NOTICE_SENT = "final_notice_sent", "Final notice sent"
        # The letters IRS 501(r) counts from (collections_app.agencies.rules): the first statement
        # after service, and the written notice of collection action 30 days before one.
        STATEMENT_SENT = "statement_sent", "Statement sent"
        NOTICE_501R_SENT = "notice_501r_sent", "Notice of collection action (501(r)) sent"

    account = models.ForeignKey("accounts.PatientAccount", on_delete=models.CASCADE, related_name="contacts")
    practice = models.ForeignKey("accounts.Practice", on_delete=models.CASCADE, related_name="+")
    channel = models.CharField(max_length=20, choices=Channel.choices)
    party = models.CharField(max_length=20, choices=Party.choices)
    outcome = models.CharField(max_length=30, choices=Outcome.choices)
    autodialed = models.BooleanField(default=False)
    notes = models.TextField(blank=True)
    occurred_at = models.DateTimeField(default=timezone.now)
    logged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    # A Management user may let a refused attempt go ahead; who and why is kept here and audited.
    override_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    override_reason = models.CharField(max_length=300, blank=True)
    # The contact form's token: sent twice (a double click, a resend), it logs one contact (and one
    # promise), as the payment form's token posts one payment.
    idempotency_key = models.CharField(max_length=80, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["account", "-occurred_at"], name="contact_account_time"),
            models.Index(fields=["occurred_at"], name="contact_occurred_at"),  # the team's work today
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["account", "idempotency_key"],
                condition=~models.Q(idempotency_key=""),
                name="contact_idempotency_key_unique",
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_channel_display()} on account {self.account_id}"


class ContactConsent(models.Model):
    """Recorded consent to texts or autodialed calls (TCPA, 47 USC 227), and its revocation."""

    class Channel(models.TextChoices):
        TEXT = "text", "Text messages"
        AUTODIALED_CALL = "autodialed_call", "Autodialed or prerecorded calls"
        EMAIL_STATEMENTS = "email_statements", "Statements by email"

    account = models.ForeignKey("accounts.PatientAccount", on_delete=models.CASCADE, related_name="consents")
    practice = models.ForeignKey("accounts.Practice", on_delete=models.CASCADE, related_name="+")
    channel = models.CharField(max_length=20, choices=Channel.choices)
    granted_on = models.DateField()
    granted_how = models.CharField(max_length=200, blank=True)
    revoked_on = models.DateField(null=True, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [models.Index(fields=["account", "channel"], name="consent_account_channel")]

    def __str__(self) -> str:
        return f"Consent to {self.get_channel_display().lower()} on account {self.account_id}"


class PromiseToPay(models.Model):
    """A promise to pay an amount by a date; kept when payments since it reach the amount by then."""

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        KEPT = "kept", "Kept"
        BROKEN = "broken", "Broken"
        CANCELLED = "cancelled", "Cancelled"

    account = models.ForeignKey("accounts.PatientAccount", on_delete=models.CASCADE, related_name="promises")
    practice = models.ForeignKey("accounts.Practice", on_delete=models.CASCADE, related_name="+")
    contact = models.ForeignKey(Contact, null=True, blank=True, on_delete=models.SET_NULL, related_name="promises")
    amount = models.DecimalField(**MONEY)
    promised_on = models.DateField(help_text="The practice-local date the promise was made.")
    due_on = models.DateField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OPEN)
    resolved_on = models.DateField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    # The API's Idempotency-Key: sent again (a retry after a timeout), the call makes no second promise.
    idempotency_key = models.CharField(max_length=80, blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=models.Q(amount__gt=0), name="promise_amount_positive"),
            models.UniqueConstraint(
                fields=["account", "idempotency_key"],
                condition=~models.Q(idempotency_key=""),
                name="promise_idempotency_key_unique",
            ),
        ]
        indexes = [
            models.Index(fields=["due_on"], condition=models.Q(status="open"), name="promise_open_due"),
            models.Index(fields=["account", "-created_at"], name="promise_account_time"),
            models.Index(fields=["created_at"], name="promise_created_at"),  # the team's work today
        ]

    def __str__(self) -> str:
        return f"Promise {self.pk} on account {self.account_id}"


class AccountNote(models.Model):
    account = models.ForeignKey("accounts.PatientAccount", on_delete=models.CASCADE, related_name="notes")
    practice = models.ForeignKey("accounts.Practice", on_delete=models.CASCADE, related_name="+")
    body = models.TextField()
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [
            models.Index(fields=["account", "-created_at"], name="note_account_time"),
            models.Index(fields=["created_at"], name="note_created_at"),  # the team's work today
        ]

    def __str__(self) -> str:
        return f"Note {self.pk} on account {self.account_id}"


class ProbateClaimRule(models.Model):
    """How long creditors have to present a claim against an estate, per state. Data, not code:
    the row with an empty state is the Uniform Probate Code default (UPC 3-801, 3-803): 4 months
    after published notice, 60 days after mailed notice, barred 1 year after death."""

    state = models.CharField(max_length=2, blank=True, unique=True, help_text="Empty: the UPC default.")
    months_after_published_notice = models.PositiveIntegerField(default=4)
    days_after_mailed_notice = models.PositiveIntegerField(default=60)
    months_after_death_bar = models.PositiveIntegerField(default=12)
    source = models.CharField(max_length=200, blank=True)

    def __str__(self) -> str:
        return f"Probate claim rule {self.state or 'UPC default'}"


class AccountHold(models.Model):
    """A hold pausing statements, dunning and agency referral on an account, until released with a reason."""

    class Kind(models.TextChoices):
        LOP = "lop", "Letter of Protection"
        PROBATE = "probate", "Probate"
        BANKRUPTCY = "bankruptcy", "Bankruptcy"
        DISPUTE = "dispute", "Dispute"

    class LopStatus(models.TextChoices):
        PENDING = "pending", "Case pending"
        SETTLED = "settled", "Settled"
        DROPPED = "dropped", "Case dropped"

    class DisputeKind(models.TextChoices):
        BALANCE = "balance", "Balance dispute"
        NO_SURPRISES = "no_surprises", "No Surprises Act dispute"

    account = models.ForeignKey("accounts.PatientAccount", on_delete=models.CASCADE, related_name="holds")
    practice = models.ForeignKey("accounts.Practice", on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=12, choices=Kind.choices)
    placed_on = models.DateField()
    placed_at = models.DateTimeField(default=timezone.now)
    placed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    # The account's status when the first hold went on, restored when the last comes off.
    status_before = models.CharField(max_length=20, blank=True)
    review_on = models.DateField(null=True, blank=True, help_text="Next review (LOP status check, claim deadline).")
    ends_on = models.DateField(null=True, blank=True, help_text="A hold that lapses by rule (dispute window).")
    released_at = models.DateTimeField(null=True, blank=True)
    released_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    release_reason = models.CharField(max_length=300, blank=True)
    case_number = models.CharField(max_length=60, blank=True)
    notes = models.TextField(blank=True)
    # Letter of Protection
    attorney_name = models.CharField(max_length=200, blank=True)
    attorney_firm = models.CharField(max_length=200, blank=True)
    attorney_phone = models.CharField(max_length=20, blank=True)
    attorney_email = models.EmailField(blank=True)
    accident_on = models.DateField(null=True, blank=True)
    lop_status = models.CharField(max_length=10, choices=LopStatus.choices, blank=True)
    lop_letter = models.FileField(upload_to="lop/%Y/%m/", storage=private_storage, blank=True)
    settlement_amount = models.DecimalField(**MONEY, null=True, blank=True)
    status_checked_on = models.DateField(null=True, blank=True)
    # Probate
    died_on = models.DateField(null=True, blank=True)
    estate_name = models.CharField(max_length=200, blank=True)
    executor_name = models.CharField(max_length=200, blank=True)
    executor_phone = models.CharField(max_length=20, blank=True)
    executor_address = models.CharField(max_length=300, blank=True)
    court = models.CharField(max_length=200, blank=True)
    # UPC 3-801(b): a creditor mailed notice has the later of 4 months after first publication or
    # 60 days after mailing, so both dates are kept.
    published_notice_on = models.DateField(null=True, blank=True)
    mailed_notice_on = models.DateField(null=True, blank=True)
    claim_deadline_on = models.DateField(null=True, blank=True)
    claim_filed_on = models.DateField(null=True, blank=True)
    # Bankruptcy
    bankruptcy_chapter = models.PositiveSmallIntegerField(null=True, blank=True)
    filed_on = models.DateField(null=True, blank=True)
    # Dispute
    dispute_kind = models.CharField(max_length=15, choices=DisputeKind.choices, blank=True)
    received_on = models.DateField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["account", "kind"], condition=models.Q(released_at__isnull=True), name="hold_active_unique"
            ),
            models.CheckConstraint(
                condition=models.Q(released_at__isnull=True) | ~models.Q(release_reason=""),
                name="hold_release_has_reason",
            ),
        ]
        indexes = [
            models.Index(fields=["account"], condition=models.Q(released_at__isnull=True), name="hold_active_account"),
            models.Index(fields=["review_on"], condition=models.Q(released_at__isnull=True), name="hold_active_review"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} hold on account {self.account_id}"

    @property
    def is_active(self) -> bool:
        return self.released_at is None


class ReturnedMail(models.Model):
    """Mail that came back: the address is marked bad and mailings stop until it is corrected."""

    class Reason(models.TextChoices):
        UNDELIVERABLE = "undeliverable", "Undeliverable as addressed"
        NO_SUCH_ADDRESS = "no_such_address", "No such address"
        MOVED = "moved", "Moved, left no address"
        FORWARD_EXPIRED = "forward_expired", "Forwarding order expired"
        REFUSED = "refused", "Refused"
        OTHER = "other", "Other"

    class Resolution(models.TextChoices):
        ADDRESS_CORRECTED = "address_corrected", "Address corrected"
        ADDRESS_CONFIRMED = "address_confirmed", "Address confirmed good"
        UNABLE_TO_LOCATE = "unable_to_locate", "Unable to locate"

    class Recipient(models.TextChoices):
        # Whose address the mail came back from (correspondence.addresses): the patient's (also a
        # "self" guarantor's), or a guarantor's own. Rows recorded before this was kept say patient.
        PATIENT = "patient", "Patient's address"
        GUARANTOR = "guarantor", "Guarantor's address"

    account = models.ForeignKey("accounts.PatientAccount", on_delete=models.CASCADE, related_name="returned_mail")
    practice = models.ForeignKey("accounts.Practice", on_delete=models.CASCADE, related_name="+")
    patient = models.ForeignKey("accounts.Patient", on_delete=models.CASCADE, related_name="returned_mail")
    recipient = models.CharField(max_length=10, choices=Recipient.choices, default=Recipient.PATIENT)
    # The guarantor whose own address came back (recipient "guarantor"; empty otherwise).
    guarantor = models.ForeignKey(
        "accounts.Guarantor", null=True, blank=True, on_delete=models.CASCADE, related_name="returned_mail"
    )
    received_on = models.DateField()
    reason = models.CharField(max_length=20, choices=Reason.choices)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField(default=timezone.now)
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    resolution = models.CharField(max_length=20, choices=Resolution.choices, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["account"], condition=models.Q(resolved_at__isnull=True), name="returned_mail_open"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(recipient="patient", guarantor__isnull=True)
                | models.Q(recipient="guarantor", guarantor__isnull=False),
                name="returned_mail_guarantor_iff_guarantor_address",
            ),
        ]

    def __str__(self) -> str:
        return f"Returned mail {self.pk} on account {self.account_id}"


class BillingInquiry(models.Model):
    """A patient's billing question (by phone or in writing), due a response by a policy date."""

    class Channel(models.TextChoices):
        PHONE = "phone", "Phone"
        LETTER = "letter", "Letter"
        EMAIL = "email", "Email"
        PORTAL = "portal", "Patient portal"

    account = models.ForeignKey("accounts.PatientAccount", on_delete=models.CASCADE, related_name="inquiries")
    practice = models.ForeignKey("accounts.Practice", on_delete=models.CASCADE, related_name="+")
    channel = models.CharField(max_length=10, choices=Channel.choices)
    question = models.TextField()
    received_on = models.DateField()
    response_due_on = models.DateField()
    response = models.TextField(blank=True)
    responded_on = models.DateField(null=True, blank=True)
    responded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name_plural = "billing inquiries"
        indexes = [
            models.Index(
                fields=["response_due_on"], condition=models.Q(responded_on__isnull=True), name="inquiry_open_due"
            ),
            models.Index(fields=["account", "-created_at"], name="inquiry_account_time"),
        ]

    def __str__(self) -> str:
        return f"Inquiry {self.pk} on account {self.account_id}"


class JobRun(models.Model):
    """One nightly job for one date. Unique per (job, as_of): running it again changes nothing."""

    class Status(models.TextChoices):
        RUNNING = "running", "Running"
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed"

    job = models.CharField(max_length=60)
    as_of = models.DateField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.RUNNING)
    started_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(
        null=True, blank=True, help_text="Last sign of life from the worker running it."
    )
    duration_ms = models.PositiveIntegerField(null=True, blank=True)
    attempts = models.PositiveIntegerField(default=1)
    # Live progress for the jobs page: steps done of steps total (practices, batches...).
    progress_done = models.PositiveIntegerField(default=0)
    progress_total = models.PositiveIntegerField(default=0)
    counts = models.JSONField(default=dict, blank=True)
    error = models.TextField(blank=True, help_text="The exception class and message; never PHI.")

    class Meta:
        ordering = ["-started_at"]
        constraints = [models.UniqueConstraint(fields=["job", "as_of"], name="job_run_unique_per_date")]

    def __str__(self) -> str:
        return f"Nightly job {self.job.replace('_', ' ')} for {self.as_of:%m/%d/%Y}"


# Agencies and placements live in their own module; importing it here registers them with this app.
from collections_app.agencies.models import (  # noqa: E402, F401
    Agency,
    AgencyCandidateCount,
    AgencyFile,
    AgencyPayment,
    AgencyPaymentImport,
    DirectPayment,
    Placement,
    PlacementBatch,
)
