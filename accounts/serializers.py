"""API serializers for practices, patients, accounts and the ledger.

`XxxOutput` serializers declare the field group of each field (core.api_support.
FieldGroupSerializerMixin); the response carries only the groups the user's tier may see.
`XxxInput` serializers validate the body or the query string before any query runs: bad input is
a 400 with field errors, never a 500.

Each Output keeps the schema component name it was published under (`AccountDetail`, not
`AccountDetailOutput`): API clients generate their types from those names.
"""

from drf_spectacular.utils import extend_schema_field, extend_schema_serializer
from rest_framework import serializers
from rest_framework.exceptions import PermissionDenied

from accounts.aging import AccountAging
from accounts.models import (
    Appointment,
    Guarantor,
    Patient,
    PatientAccount,
    Practice,
    Transaction,
)
from accounts.money import MONEY
from accounts.selectors import MAX_QUERY_LENGTH, account_past_due_last_night, account_sees_billing_office
from core.access import FieldGroup, can_see, practice_ids_for
from core.api_support import FieldGroupSerializerMixin
from core.models import MAX_ID

DEMOGRAPHICS = FieldGroup.DEMOGRAPHICS
BILLING = FieldGroup.BILLING

# Database ids are bigint; a larger number can never match and would overflow the query parameter.
ADDRESS = ("address_line1", "address_line2", "city", "state", "postal_code")


# --- Practices ---------------------------------------------------------------------------------


@extend_schema_serializer(component_name="PracticeSummary")
class PracticeSummaryOutput(FieldGroupSerializerMixin, serializers.ModelSerializer):
    field_groups = {DEMOGRAPHICS: ("id", "code", "name")}

    class Meta:
        model = Practice


@extend_schema_serializer(component_name="Practice")
class PracticeOutput(FieldGroupSerializerMixin, serializers.ModelSerializer):
    """A practice and its collection policy. Reps (Medium) see the rules they work by (statement
    cadence, plan rules, call caps); targets, write-off limits and small-balance thresholds are
    management policy."""

    field_groups = {
        DEMOGRAPHICS: ("id", "code", "name", "time_zone", "state", "is_active"),
        BILLING: (
            "statement_cycle_days",
            "statement_grace_days",
            "final_notice_after_days",
            "plan_min_installment",
            "plan_max_months",
            "plan_min_down_payment_percent",
            "plan_grace_days",
            "plan_default_missed_count",
            "call_cap_count",
            "call_cap_days",
            "claim_followup_days",
            "follows_501r",
        ),
        FieldGroup.MANAGEMENT: (
            "target_collection_rate",
            "small_balance_threshold",
            "small_balance_min_age_days",
            "writeoff_limit_management",
        ),
    }

    class Meta:
        model = Practice


# --- Patients ----------------------------------------------------------------------------------


@extend_schema_serializer(component_name="PatientSummary")
class PatientSummaryOutput(FieldGroupSerializerMixin, serializers.ModelSerializer):
    """Who the patient is, enough to recognise them in a list or on an account."""

    field_groups = {
        DEMOGRAPHICS: (
            "id",
            "medical_record_number",
            "first_name",
            "middle_name",
            "last_name",
            "date_of_birth",
            "phone",
            "deceased_on",
        ),
    }

    class Meta:
        model = Patient


@extend_schema_serializer(component_name="PatientList")
class PatientListOutput(PatientSummaryOutput):
    field_groups = {DEMOGRAPHICS: (*PatientSummaryOutput.field_groups[DEMOGRAPHICS], "practice")}

    practice = PracticeSummaryOutput(read_only=True)

    class Meta:
        model = Patient


@extend_schema_serializer(component_name="Appointment")
class AppointmentOutput(FieldGroupSerializerMixin, serializers.ModelSerializer):
    field_groups = {DEMOGRAPHICS: ("id", "starts_at", "provider", "location", "reason", "status")}

    class Meta:
        model = Appointment


@extend_schema_serializer(component_name="PatientAccountLink")
class PatientAccountLinkOutput(FieldGroupSerializerMixin, serializers.ModelSerializer):
    field_groups = {DEMOGRAPHICS: ("id", "account_number")}

    class Meta:
        model = PatientAccount


@extend_schema_serializer(component_name="PatientDetail")
class PatientDetailOutput(FieldGroupSerializerMixin, serializers.ModelSerializer):
    """A patient's chart header: demographics, contact, address, upcoming appointments, accounts.
    The full SSN is a Director-only identifier; everyone else gets no `ssn` key at all."""

    field_groups = {
        DEMOGRAPHICS: (
            "id",
            "practice",
            "medical_record_number",
            *Patient.NAME_AND_CONTACT_FIELDS,
            *ADDRESS,
            "address_is_bad",
            "time_zone",
            "deceased_on",
            "chart_notes",
            "upcoming_appointments",
            "accounts",
        ),
        FieldGroup.DIRECTOR: ("ssn",),
    }

    practice = PracticeSummaryOutput(read_only=True)
    upcoming_appointments = serializers.SerializerMethodField()
    accounts = serializers.SerializerMethodField()

    class Meta:
        model = Patient

    @extend_schema_field(AppointmentOutput(many=True))
    def get_upcoming_appointments(self, patient):
        return AppointmentOutput(self.context["upcoming_appointments"], many=True, context=self.context).data

    @extend_schema_field(PatientAccountLinkOutput(many=True))
    def get_accounts(self, patient):
        return PatientAccountLinkOutput(self.context["accounts"], many=True, context=self.context).data


# --- Accounts ----------------------------------------------------------------------------------


@extend_schema_serializer(component_name="Guarantor")
class GuarantorOutput(FieldGroupSerializerMixin, serializers.ModelSerializer):
    field_groups = {
        DEMOGRAPHICS: ("id", "relationship", "first_name", "last_name", "phone", "email", *ADDRESS, "address_is_bad")
    }

    class Meta:
        model = Guarantor


@extend_schema_serializer(component_name="AccountList")
class AccountListOutput(FieldGroupSerializerMixin, serializers.ModelSerializer):
    field_groups = {
        DEMOGRAPHICS: ("id", "account_number", "practice", "patient"),
        FieldGroup.PAST_DUE_FLAG: ("past_due",),
        BILLING: ("status", "patient_balance", "insurance_balance", "follow_up_on"),
    }

    practice = PracticeSummaryOutput(read_only=True)
    patient = PatientSummaryOutput(read_only=True)
    past_due = serializers.SerializerMethodField(
        help_text=(
            "'See billing office' as of last night's aging: a patient balance past the practice's grace period "
            "that may be collected now (a payment, plan or hold since then clears it at once). The account's own "
            "endpoint ages the ledger as of today."
        )
    )

    class Meta:
        model = PatientAccount

    def get_past_due(self, account) -> bool:
        flag = getattr(account, "past_due_last_night", None)
        return bool(flag) if flag is not None else account_past_due_last_night(account)


@extend_schema_serializer(component_name="AgingBucket")
class AgingBucketOutput(FieldGroupSerializerMixin, serializers.Serializer):
    field_groups = {BILLING: ("bucket", "amount")}

    bucket = serializers.CharField(help_text="Days since the date of service: 0-30, 31-60, 61-90, 91-120, 121+.")
    amount = serializers.DecimalField(**MONEY)


@extend_schema_serializer(component_name="AgingEncounter")
class AgingEncounterOutput(FieldGroupSerializerMixin, serializers.Serializer):
    field_groups = {BILLING: ("encounter_id", "date_of_service", "charged", "open_amount", "age_days", "bucket")}

    encounter_id = serializers.IntegerField()
    date_of_service = serializers.DateField()
    charged = serializers.DecimalField(**MONEY, help_text="Net patient responsibility on this encounter.")
    open_amount = serializers.DecimalField(**MONEY, help_text="What is still owed after payments applied oldest first.")
    age_days = serializers.IntegerField()
    bucket = serializers.CharField()


@extend_schema_serializer(component_name="Aging")
class AgingOutput(FieldGroupSerializerMixin, serializers.Serializer):
    """The account's open patient balance by encounter and bucket, as of the practice's today."""

    field_groups = {BILLING: ("as_of", "buckets", "encounters", "unapplied_credit")}

    as_of = serializers.DateField()
    buckets = serializers.SerializerMethodField()
    encounters = AgingEncounterOutput(many=True)
    unapplied_credit = serializers.DecimalField(**MONEY)

    @extend_schema_field(AgingBucketOutput(many=True))
    def get_buckets(self, aging: AccountAging):
        rows = [{"bucket": label, "amount": amount} for label, amount in aging.buckets.items()]
        return AgingBucketOutput(rows, many=True, context=self.context).data


@extend_schema_serializer(component_name="AccountDetail")
class AccountDetailOutput(FieldGroupSerializerMixin, serializers.ModelSerializer):
    """One account as the tier may see it: everyone gets demographics and the past-due flag (no
    amounts); Medium and up get balances, status and aging by encounter."""

    # Context: `aging`, accounts.selectors.account_aging_today of this account.

    field_groups = {
        DEMOGRAPHICS: (
            "id",
            "account_number",
            "practice",
            "patient",
            "guarantor",
            "primary_insurance",
            "payer_name",
            "opened_on",
        ),
        FieldGroup.PAST_DUE_FLAG: ("past_due",),
        BILLING: (
            "status",
            "hold_reason",
            "assigned_rep",
            "follow_up_on",
            "patient_balance",
            "insurance_balance",
            "total_balance",
            "last_patient_payment_on",
            "version",
            "aging",
        ),
    }

    practice = PracticeSummaryOutput(read_only=True)
    patient = PatientSummaryOutput(read_only=True)
    guarantor = GuarantorOutput(read_only=True)
    past_due = serializers.SerializerMethodField(
        help_text=(
            "'See billing office': a patient balance past the practice's grace period that may be collected "
            "now (not on a payment plan or hold, at an agency, closed, or represented by an attorney)."
        )
    )
    assigned_rep = serializers.SlugRelatedField(
        slug_field="username", read_only=True, help_text="Username of the rep working the account."
    )
    total_balance = serializers.DecimalField(max_digits=13, decimal_places=2, read_only=True)
    aging = serializers.SerializerMethodField()

    class Meta:
        model = PatientAccount

    def get_past_due(self, account) -> bool:
        return account_sees_billing_office(account, self.context["aging"])

    @extend_schema_field(AgingOutput)
    def get_aging(self, account):
        return AgingOutput(self.context["aging"], context=self.context).data


# --- Ledger ------------------------------------------------------------------------------------


@extend_schema_serializer(component_name="Transaction")
class TransactionOutput(FieldGroupSerializerMixin, serializers.ModelSerializer):
    """One ledger row. Amounts are signed: a charge is positive, a payment or adjustment negative."""

    field_groups = {
        BILLING: (
            "id",
            "effective_on",
            "kind",
            "patient_amount",
            "insurance_amount",
            "encounter",
            "date_of_service",
            "reverses",
            "reversed_by",
            "payment_method",
            "reference",
            "write_off_reason",
            "memo",
            "posted_at",
            "posted_by",
        ),
    }

    date_of_service = serializers.DateField(source="encounter.date_of_service", read_only=True, allow_null=True)
    reversed_by = serializers.SerializerMethodField(help_text="The reversal of this row, if it was reversed.")
    posted_by = serializers.SlugRelatedField(
        slug_field="username", read_only=True, help_text="Username of who posted it; empty for imports."
    )

    class Meta:
        model = Transaction

    def get_reversed_by(self, row) -> int | None:
        reversal = getattr(row, "reversed_by", None)
        return reversal.pk if reversal else None


# --- Token -------------------------------------------------------------------------------------


class TokenInput(serializers.Serializer):
    username = serializers.CharField(max_length=150)
    password = serializers.CharField(max_length=4096, trim_whitespace=False, style={"input_type": "password"})
    name = serializers.CharField(
        max_length=100,
        required=False,
        default="",
        allow_blank=True,
        help_text="The client or integration asking, e.g. `statement-export`: how the token is listed.",
    )


# No field groups on TokenOutput: the caller is not signed in yet, so a tier filter would drop the token.
class TokenOutput(serializers.Serializer):
    token = serializers.CharField(
        help_text="Send as the header `Authorization: Token <token>`. Shown only now: only its hash is kept."
    )
    id = serializers.IntegerField(help_text="The token's id, to revoke it: POST /api/auth/tokens/{id}/revoke/.")
    name = serializers.CharField()
    expires_at = serializers.DateTimeField(help_text="Refused (401) from then on; ask for a new one.")


# --- Query-string filters ----------------------------------------------------------------------


class _ScopedFilterInput(serializers.Serializer):
    """Filters that name a practice check it is one of the user's (context: request)."""

    practice = serializers.IntegerField(
        required=False, min_value=1, max_value=MAX_ID, help_text="Only this practice (its id)."
    )

    def validate_practice(self, value):
        if value not in practice_ids_for(self.context["request"].user):
            raise serializers.ValidationError("Not one of your practices.")
        return value


class PatientFilterInput(_ScopedFilterInput):
    q = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=MAX_QUERY_LENGTH,
        help_text="Name ('Garcia', 'Maria Garcia', 'Garcia, Maria'), date of birth, phone, or medical record number.",
    )
    date_of_birth = serializers.DateField(required=False, help_text="YYYY-MM-DD.")


class PatientListQuery(_ScopedFilterInput):
    """The patient list's query string: non-PHI filters only (search terms go in a POST body)."""


# Ordering name -> (order_by fields, field group needed to sort by it). Sorting by an amount
# reveals amounts (the order of balances), so it needs the billing group.
ACCOUNT_ORDERINGS: dict[str, tuple[tuple[str, ...], FieldGroup]] = {
    "name": (("patient__last_name", "patient__first_name", "id"), DEMOGRAPHICS),
    "-name": (("-patient__last_name", "-patient__first_name", "-id"), DEMOGRAPHICS),
    "account_number": (("account_number", "id"), DEMOGRAPHICS),
    "-account_number": (("-account_number", "-id"), DEMOGRAPHICS),
    "patient_balance": (("patient_balance", "id"), BILLING),
    "-patient_balance": (("-patient_balance", "id"), BILLING),
}


class AccountFilterInput(_ScopedFilterInput):
    """Account search. `status`, `min_patient_balance` and balance ordering reveal billing
    information, so a tier without the billing group gets 403 for them."""

    BILLING_FILTERS = ("status", "min_patient_balance")

    q = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=MAX_QUERY_LENGTH,
        help_text="Name ('Garcia', 'Maria Garcia', 'Garcia, Maria'), date of birth, phone, or account number.",
    )
    status = serializers.ChoiceField(choices=PatientAccount.Status.choices, required=False)
    min_patient_balance = serializers.DecimalField(
        **MONEY, required=False, help_text="Patient balance at least this (billing tiers)."
    )
    ordering = serializers.ChoiceField(choices=list(ACCOUNT_ORDERINGS), required=False, default="name")

    def validate(self, attrs):
        user = self.context["request"].user
        billing_only = [name for name in self.BILLING_FILTERS if attrs.get(name) not in (None, "")]
        if ACCOUNT_ORDERINGS[attrs["ordering"]][1] == BILLING:
            billing_only.append("ordering")
        if billing_only and not can_see(user, BILLING):
            raise PermissionDenied(f"Your access tier cannot filter or sort by {', '.join(billing_only)}.")
        return attrs


class AccountListQuery(AccountFilterInput):
    """The account list's query string: no search terms (they go in a POST body)."""

    q = None
