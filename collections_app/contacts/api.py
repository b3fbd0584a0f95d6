"""REST API of the contacts area: the contact log, the compliance governor's answer, promises,
payments, follow-up, notes, communication flags and consents.

Every view is billing work (FieldGroup.BILLING: 403 below Medium), loads the account through the
access policy (404 outside the user's practices), validates input with a serializer (400 with field
errors; bad input changes nothing) and calls one service.
"""

from django.utils import timezone
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response

from accounts.models import PatientAccount, Transaction
from accounts.money import MONEY
from accounts.selectors import account_get
from collections_app.contacts import selectors, services
from collections_app.contacts.compliance import contact_decision
from collections_app.contacts.filters import PromiseFilter
from collections_app.contacts.forms import PAYMENT_METHOD_CHOICES
from collections_app.models import AccountNote, Contact, ContactConsent, PromiseToPay
from core.access import FieldGroup
from core.api_support import Api, FieldGroupSerializerMixin, StrictPageNumberPagination
from core.audit import audit_read

BILLING = FieldGroup.BILLING


# --- Output serializers ------------------------------------------------------------------------


class ContactOutput(FieldGroupSerializerMixin, serializers.ModelSerializer):
    logged_by = serializers.SlugRelatedField(slug_field="username", read_only=True)
    override_by = serializers.SlugRelatedField(slug_field="username", read_only=True)
    field_groups = {
        BILLING: (
            "id",
            "account",
            "channel",
            "party",
            "outcome",
            "autodialed",
            "notes",
            "occurred_at",
            "logged_by",
            "override_by",
            "override_reason",
        )
    }

    class Meta:
        model = Contact


class PromiseToPayOutput(FieldGroupSerializerMixin, serializers.ModelSerializer):
    field_groups = {BILLING: ("id", "account", "contact", "amount", "promised_on", "due_on", "status", "resolved_on")}

    class Meta:
        model = PromiseToPay


class AccountNoteOutput(FieldGroupSerializerMixin, serializers.ModelSerializer):
    created_by = serializers.SlugRelatedField(slug_field="username", read_only=True)
    field_groups = {BILLING: ("id", "account", "body", "created_by", "created_at")}

    class Meta:
        model = AccountNote


class ContactConsentOutput(FieldGroupSerializerMixin, serializers.ModelSerializer):
    field_groups = {BILLING: ("id", "account", "channel", "granted_on", "granted_how", "revoked_on")}

    class Meta:
        model = ContactConsent


class PaymentRecordOutput(FieldGroupSerializerMixin, serializers.ModelSerializer):
    account_patient_balance = serializers.SerializerMethodField()
    field_groups = {
        BILLING: (
            "id",
            "account",
            "patient_amount",
            "effective_on",
            "payment_method",
            "reference",
            "account_patient_balance",
        )
    }

    class Meta:
        model = Transaction

    def get_account_patient_balance(self, row) -> str:
        return str(PatientAccount.objects.values_list("patient_balance", flat=True).get(pk=row.account_id))


class CommunicationFlagsOutput(FieldGroupSerializerMixin, serializers.ModelSerializer):
    field_groups = {
        BILLING: (
            "id",
            "cease_communication_on",
            "attorney_represented",
            "attorney_name",
            "attorney_phone",
            "follow_up_on",
            "version",
        )
    }

    class Meta:
        model = PatientAccount


class ContactDecisionReason(FieldGroupSerializerMixin, serializers.Serializer):
    field_groups = {BILLING: ("code", "explanation")}

    code = serializers.CharField()
    explanation = serializers.CharField()


class ContactDecisionOutput(FieldGroupSerializerMixin, serializers.Serializer):
    field_groups = {BILLING: ("allowed", "reasons", "next_allowed_at")}

    allowed = serializers.BooleanField()
    reasons = ContactDecisionReason(many=True)
    next_allowed_at = serializers.DateTimeField(allow_null=True)


# --- Input serializers -------------------------------------------------------------------------


class ContactLogInput(serializers.Serializer):
    channel = serializers.ChoiceField(choices=Contact.Channel.choices)
    party = serializers.ChoiceField(choices=Contact.Party.choices)
    outcome = serializers.ChoiceField(choices=Contact.Outcome.choices)
    notes = serializers.CharField(required=False, allow_blank=True, max_length=5000, default="")
    autodialed = serializers.BooleanField(required=False, default=False)
    occurred_at = serializers.DateTimeField(required=False, allow_null=True, default=None)
    override_reason = serializers.CharField(required=False, allow_blank=True, max_length=300, default="")
    promise_amount = serializers.DecimalField(**MONEY, required=False, allow_null=True, default=None)
    promise_due_on = serializers.DateField(required=False, allow_null=True, default=None)
    attorney_name = serializers.CharField(required=False, allow_blank=True, max_length=200, default="")
    attorney_phone = serializers.CharField(required=False, allow_blank=True, max_length=20, default="")


class ContactDecisionQuery(serializers.Serializer):
    channel = serializers.ChoiceField(choices=Contact.Channel.choices)
    party = serializers.ChoiceField(choices=Contact.Party.choices)
    autodialed = serializers.BooleanField(required=False, default=False)


class PromiseToPayInput(serializers.Serializer):
    amount = serializers.DecimalField(**MONEY)
    due_on = serializers.DateField()


class PaymentRecordInput(serializers.Serializer):
    amount = serializers.DecimalField(**MONEY)
    method = serializers.ChoiceField(choices=PAYMENT_METHOD_CHOICES)
    reference = serializers.CharField(required=False, allow_blank=True, max_length=80, default="")
    notes = serializers.CharField(required=False, allow_blank=True, max_length=200, default="")
    effective_on = serializers.DateField(required=False, allow_null=True, default=None)
    confirm_overpayment = serializers.BooleanField(
        required=False,
        default=False,
        help_text="Required (with `overpayment_reason`) to take more than the patient balance, up to the "
        "practice's overpayment limit.",
    )
    overpayment_reason = serializers.CharField(required=False, allow_blank=True, max_length=150, default="")


IDEMPOTENCY_KEY = OpenApiParameter(
    "Idempotency-Key",
    str,
    OpenApiParameter.HEADER,
    description="Any unique string (a UUID) per call. Sent again with the same key, the call records nothing "
    "and answers with the first result (header `Idempotent-Replayed: true`).",
)


def replayed(response, record):
    """Mark the answer to a replayed call (the record came back from an earlier call's key)."""
    if getattr(record, "replayed", False):
        response["Idempotent-Replayed"] = "true"
    return response


class FollowUpInput(serializers.Serializer):
    follow_up_on = serializers.DateField(allow_null=True)


class AccountNoteInput(serializers.Serializer):
    body = serializers.CharField(max_length=5000)


class CommunicationFlagsInput(serializers.Serializer):
    cease_communication = serializers.BooleanField(required=False, allow_null=True, default=None)
    cease_communication_on = serializers.DateField(required=False, allow_null=True, default=None)
    attorney_represented = serializers.BooleanField(required=False, allow_null=True, default=None)
    attorney_name = serializers.CharField(required=False, allow_blank=True, max_length=200, default="")
    attorney_phone = serializers.CharField(required=False, allow_blank=True, max_length=20, default="")
    version = serializers.IntegerField(required=False, allow_null=True, default=None, min_value=1)


class ContactConsentInput(serializers.Serializer):
    channel = serializers.ChoiceField(choices=ContactConsent.Channel.choices)
    granted_on = serializers.DateField(required=False, allow_null=True, default=None)
    granted_how = serializers.CharField(required=False, allow_blank=True, max_length=200, default="")


class ContactConsentRevokeInput(serializers.Serializer):
    channel = serializers.ChoiceField(choices=ContactConsent.Channel.choices)
    revoked_on = serializers.DateField(required=False, allow_null=True, default=None)


# --- Views ---------------------------------------------------------------------------------------


class _AccountApi(Api):
    field_group = BILLING

    def account(self, request, pk) -> PatientAccount:
        return account_get(user=request.user, account_id=pk)

    def created(self, output_class, obj) -> Response:
        return self.respond(output_class, obj, status_code=status.HTTP_201_CREATED)


class ContactListApi(_AccountApi):
    """The account's contact log (newest first); POST logs a contact (outbound attempts pass the
    compliance governor first; a refusal is a 400 naming the rules and when next allowed)."""

    pagination_class = StrictPageNumberPagination

    @extend_schema(summary="An account's contact log, newest first", responses=ContactOutput(many=True))
    def get(self, request, pk):
        account = self.account(request, pk)
        page = self.paginate(selectors.contact_list(account=account))
        data = ContactOutput(page, many=True, context={"request": request}).data
        audit_read(
            user=request.user, obj=account, field_groups={BILLING}, detail={"contacts_page": self.paginator.page.number}
        )
        return self.paginated_response(data)

    @extend_schema(
        summary="Log a contact (outbound attempts pass the compliance governor first)",
        request=ContactLogInput,
        responses={201: ContactOutput},
        parameters=[IDEMPOTENCY_KEY],
    )
    def post(self, request, pk):
        account = self.account(request, pk)
        data = self.valid_body(ContactLogInput)
        key = request.headers.get("Idempotency-Key", "")
        contact = services.contact_log(acting_user=request.user, account_id=account.pk, idempotency_key=key, **data)
        return replayed(self.created(ContactOutput, contact), contact)


class ContactDecisionApi(_AccountApi):
    """The compliance governor's answer for an attempt now: allowed, the refusing rules, and when
    the attempt would next be allowed (if only time stands in the way)."""

    @extend_schema(parameters=[ContactDecisionQuery], responses=ContactDecisionOutput)
    def get(self, request, pk):
        account = self.account(request, pk)
        query = self.valid_query(ContactDecisionQuery)
        decision = contact_decision(account=account, at=timezone.now(), **query)
        audit_read(
            user=request.user, obj=account, field_groups={BILLING}, detail={"contact_decision": query["channel"]}
        )
        return self.respond(ContactDecisionOutput, decision)


class PromiseListApi(_AccountApi):
    filterset_class = PromiseFilter

    @extend_schema(summary="An account's promises to pay", responses=PromiseToPayOutput(many=True))
    def get(self, request, pk):
        account = self.account(request, pk)
        promises = self.filter(selectors.promise_list(account=account))[:200]
        audit_read(user=request.user, obj=account, field_groups={BILLING}, detail={"promises": "list"})
        return self.respond(PromiseToPayOutput, promises, many=True)

    @extend_schema(
        summary="Record a promise to pay",
        request=PromiseToPayInput,
        responses={201: PromiseToPayOutput},
        parameters=[IDEMPOTENCY_KEY],
    )
    def post(self, request, pk):
        account = self.account(request, pk)
        data = self.valid_body(PromiseToPayInput)
        key = request.headers.get("Idempotency-Key", "")
        promise = services.promise_create(acting_user=request.user, account_id=account.pk, idempotency_key=key, **data)
        return replayed(self.created(PromiseToPayOutput, promise), promise)


class PromiseDetailApi(Api):
    """One promise to pay and where it stands. Promises are resolved by the nightly promise check
    (kept or broken) and cancelled when the account goes on a payment plan; there is no change by hand."""

    field_group = BILLING

    @extend_schema(summary="One promise to pay", responses=PromiseToPayOutput)
    def get(self, request, pk):
        promise = selectors.promise_get(user=request.user, promise_id=pk)
        audit_read(user=request.user, obj=promise, field_groups={BILLING}, detail={"account_id": promise.account_id})
        return self.respond(PromiseToPayOutput, promise)


class ContactDetailApi(Api):
    """One entry of an account's contact log."""

    field_group = BILLING

    @extend_schema(summary="One logged contact", responses=ContactOutput)
    def get(self, request, pk):
        contact = selectors.contact_get(user=request.user, contact_id=pk)
        audit_read(user=request.user, obj=contact, field_groups={BILLING}, detail={"account_id": contact.account_id})
        return self.respond(ContactOutput, contact)


class PaymentApi(_AccountApi):
    """Record a payment taken by a rep; posts a patient payment to the ledger."""

    @extend_schema(request=PaymentRecordInput, responses={201: PaymentRecordOutput}, parameters=[IDEMPOTENCY_KEY])
    def post(self, request, pk):
        account = self.account(request, pk)
        data = self.valid_body(PaymentRecordInput)
        key = request.headers.get("Idempotency-Key", "")
        row = services.payment_record(acting_user=request.user, account_id=account.pk, idempotency_key=key, **data)
        return replayed(self.created(PaymentRecordOutput, row), row)


class FollowUpApi(_AccountApi):
    @extend_schema(
        summary="Set or clear an account's follow-up date", request=FollowUpInput, responses=CommunicationFlagsOutput
    )
    def post(self, request, pk):
        account = self.account(request, pk)
        data = self.valid_body(FollowUpInput)
        account = services.follow_up_set(acting_user=request.user, account_id=account.pk, **data)
        return self.respond(CommunicationFlagsOutput, account)


class NoteListApi(_AccountApi):
    @extend_schema(summary="An account's notes", responses=AccountNoteOutput(many=True))
    def get(self, request, pk):
        account = self.account(request, pk)
        notes = selectors.note_list(account=account)[:200]
        audit_read(user=request.user, obj=account, field_groups={BILLING}, detail={"notes": "list"})
        return self.respond(AccountNoteOutput, notes, many=True)

    @extend_schema(summary="Add a note to an account", request=AccountNoteInput, responses={201: AccountNoteOutput})
    def post(self, request, pk):
        account = self.account(request, pk)
        data = self.valid_body(AccountNoteInput)
        note = services.note_add(acting_user=request.user, account_id=account.pk, **data)
        return self.created(AccountNoteOutput, note)


class FlagsApi(_AccountApi):
    """Cease-communication and attorney representation. A flag left out (or null) is unchanged."""

    @extend_schema(summary="An account's cease-communication and attorney flags", responses=CommunicationFlagsOutput)
    def get(self, request, pk):
        account = self.account(request, pk)
        audit_read(user=request.user, obj=account, field_groups={BILLING}, detail={"flags": "read"})
        return self.respond(CommunicationFlagsOutput, account)

    @extend_schema(
        summary="Set or clear cease-communication and attorney representation",
        request=CommunicationFlagsInput,
        responses=CommunicationFlagsOutput,
    )
    def post(self, request, pk):
        account = self.account(request, pk)
        data = self.valid_body(CommunicationFlagsInput)
        account = services.flags_set(
            acting_user=request.user,
            account_id=account.pk,
            cease_communication=data["cease_communication"],
            cease_communication_on=data["cease_communication_on"],
            attorney_represented=data["attorney_represented"],
            attorney_name=data["attorney_name"],
            attorney_phone=data["attorney_phone"],
            expected_version=data["version"],
        )
        return self.respond(CommunicationFlagsOutput, account)


class ConsentListApi(_AccountApi):
    """Recorded consent to texts and autodialed calls (TCPA); POST records a new one."""

    @extend_schema(
        summary="Recorded consent to texts and autodialed calls (TCPA)", responses=ContactConsentOutput(many=True)
    )
    def get(self, request, pk):
        account = self.account(request, pk)
        consents = selectors.consent_list(account=account)
        audit_read(user=request.user, obj=account, field_groups={BILLING}, detail={"consents": "list"})
        return self.respond(ContactConsentOutput, consents, many=True)

    @extend_schema(
        summary="Record consent to texts or autodialed calls",
        request=ContactConsentInput,
        responses={201: ContactConsentOutput},
    )
    def post(self, request, pk):
        account = self.account(request, pk)
        data = self.valid_body(ContactConsentInput)
        consent = services.consent_record(acting_user=request.user, account_id=account.pk, **data)
        return self.created(ContactConsentOutput, consent)


class ConsentRevokeApi(_AccountApi):
    @extend_schema(
        summary="Record that consent was revoked", request=ContactConsentRevokeInput, responses=ContactConsentOutput
    )
    def post(self, request, pk):
        account = self.account(request, pk)
        data = self.valid_body(ContactConsentRevokeInput)
        consent = services.consent_revoke(acting_user=request.user, account_id=account.pk, **data)
        return self.respond(ContactConsentOutput, consent)
