"""REST API of the contacts area: the contact log, the compliance governor's answer, promises,
payments, follow-up, notes, communication flags and consents.

Every view is billing work (FieldGroup.BILLING: 403 below Medium), loads the account through the
access policy (404 outside the user's practices), validates input with a serializer (400 with field
errors; bad input changes nothing) and calls one service.
"""

from django.utils import timezone
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.models import PatientAccount, Transaction
from accounts.money import MONEY
from accounts.selectors import account_get
from collections_app.contacts import selectors, services
from collections_app.contacts.compliance import contact_decision
from collections_app.contacts.forms import PAYMENT_METHOD_CHOICES
from collections_app.models import AccountNote, Contact, ContactConsent, PromiseToPay
from core.access import FieldGroup
from core.api_support import FieldGroupSerializerMixin, StrictPageNumberPagination
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


class ContactDecisionReason(serializers.Serializer):
    code = serializers.CharField()
    explanation = serializers.CharField()


class ContactDecisionOutput(serializers.Serializer):
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


def _valid(serializer_class, data) -> dict:
    serializer = serializer_class(data=data)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


class _AccountApi(APIView):
    field_group = BILLING

    def account(self, request, pk) -> PatientAccount:
        return account_get(user=request.user, account_id=pk)

    def created(self, serializer_class, obj, request) -> Response:
        return Response(serializer_class(obj, context={"request": request}).data, status=status.HTTP_201_CREATED)


class ContactListApi(_AccountApi):
    """The account's contact log (newest first); POST logs a contact (outbound attempts pass the
    compliance governor first; a refusal is a 400 naming the rules and when next allowed)."""

    pagination_class = StrictPageNumberPagination

    @extend_schema(responses=ContactOutput(many=True))
    def get(self, request, pk):
        account = self.account(request, pk)
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(selectors.contact_list(account=account), request, view=self)
        data = ContactOutput(page, many=True, context={"request": request}).data
        audit_read(
            user=request.user, obj=account, field_groups={BILLING}, detail={"contacts_page": paginator.page.number}
        )
        return paginator.get_paginated_response(data)

    @extend_schema(request=ContactLogInput, responses={201: ContactOutput})
    def post(self, request, pk):
        account = self.account(request, pk)
        data = _valid(ContactLogInput, request.data)
        contact = services.contact_log(acting_user=request.user, account_id=account.pk, **data)
        return self.created(ContactOutput, contact, request)


class ContactDecisionApi(_AccountApi):
    """The compliance governor's answer for an attempt now: allowed, the refusing rules, and when
    the attempt would next be allowed (if only time stands in the way)."""

    @extend_schema(parameters=[ContactDecisionQuery], responses=ContactDecisionOutput)
    def get(self, request, pk):
        account = self.account(request, pk)
        query = _valid(ContactDecisionQuery, request.query_params)
        decision = contact_decision(account=account, at=timezone.now(), **query)
        audit_read(
            user=request.user, obj=account, field_groups={BILLING}, detail={"contact_decision": query["channel"]}
        )
        return Response(ContactDecisionOutput(decision).data)


class PromiseListApi(_AccountApi):
    @extend_schema(responses=PromiseToPayOutput(many=True))
    def get(self, request, pk):
        account = self.account(request, pk)
        promises = selectors.promise_list(account=account)[:200]
        audit_read(user=request.user, obj=account, field_groups={BILLING}, detail={"promises": "list"})
        return Response(PromiseToPayOutput(promises, many=True, context={"request": request}).data)

    @extend_schema(request=PromiseToPayInput, responses={201: PromiseToPayOutput})
    def post(self, request, pk):
        account = self.account(request, pk)
        data = _valid(PromiseToPayInput, request.data)
        promise = services.promise_create(acting_user=request.user, account_id=account.pk, **data)
        return self.created(PromiseToPayOutput, promise, request)


class PaymentApi(_AccountApi):
    """Record a payment taken by a rep; posts a patient payment to the ledger."""

    @extend_schema(request=PaymentRecordInput, responses={201: PaymentRecordOutput})
    def post(self, request, pk):
        account = self.account(request, pk)
        data = _valid(PaymentRecordInput, request.data)
        row = services.payment_record(acting_user=request.user, account_id=account.pk, **data)
        return self.created(PaymentRecordOutput, row, request)


class FollowUpApi(_AccountApi):
    @extend_schema(request=FollowUpInput, responses=CommunicationFlagsOutput)
    def post(self, request, pk):
        account = self.account(request, pk)
        data = _valid(FollowUpInput, request.data)
        account = services.follow_up_set(acting_user=request.user, account_id=account.pk, **data)
        return Response(CommunicationFlagsOutput(account, context={"request": request}).data)


class NoteListApi(_AccountApi):
    @extend_schema(responses=AccountNoteOutput(many=True))
    def get(self, request, pk):
        account = self.account(request, pk)
        notes = selectors.note_list(account=account)[:200]
        audit_read(user=request.user, obj=account, field_groups={BILLING}, detail={"notes": "list"})
        return Response(AccountNoteOutput(notes, many=True, context={"request": request}).data)

    @extend_schema(request=AccountNoteInput, responses={201: AccountNoteOutput})
    def post(self, request, pk):
        account = self.account(request, pk)
        data = _valid(AccountNoteInput, request.data)
        note = services.note_add(acting_user=request.user, account_id=account.pk, **data)
        return self.created(AccountNoteOutput, note, request)


class FlagsApi(_AccountApi):
    """Cease-communication and attorney representation. A flag left out (or null) is unchanged."""

    @extend_schema(responses=CommunicationFlagsOutput)
    def get(self, request, pk):
        account = self.account(request, pk)
        audit_read(user=request.user, obj=account, field_groups={BILLING}, detail={"flags": "read"})
        return Response(CommunicationFlagsOutput(account, context={"request": request}).data)

    @extend_schema(request=CommunicationFlagsInput, responses=CommunicationFlagsOutput)
    def post(self, request, pk):
        account = self.account(request, pk)
        data = _valid(CommunicationFlagsInput, request.data)
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
        return Response(CommunicationFlagsOutput(account, context={"request": request}).data)


class ConsentListApi(_AccountApi):
    """Recorded consent to texts and autodialed calls (TCPA); POST records a new one."""

    @extend_schema(responses=ContactConsentOutput(many=True))
    def get(self, request, pk):
        account = self.account(request, pk)
        consents = selectors.consent_list(account=account)
        audit_read(user=request.user, obj=account, field_groups={BILLING}, detail={"consents": "list"})
        return Response(ContactConsentOutput(consents, many=True, context={"request": request}).data)

    @extend_schema(request=ContactConsentInput, responses={201: ContactConsentOutput})
    def post(self, request, pk):
        account = self.account(request, pk)
        data = _valid(ContactConsentInput, request.data)
        consent = services.consent_record(acting_user=request.user, account_id=account.pk, **data)
        return self.created(ContactConsentOutput, consent, request)


class ConsentRevokeApi(_AccountApi):
    @extend_schema(request=ContactConsentRevokeInput, responses=ContactConsentOutput)
    def post(self, request, pk):
        account = self.account(request, pk)
        data = _valid(ContactConsentRevokeInput, request.data)
        consent = services.consent_revoke(acting_user=request.user, account_id=account.pk, **data)
        return Response(ContactConsentOutput(consent, context={"request": request}).data)
