"""REST API for returned mail, address correction and billing inquiries."""

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status

from accounts.selectors import account_get
from collections_app.correspondence.selectors import (
    inquiry_get,
    inquiry_list,
    patient_for_address,
    returned_mail_get,
    returned_mail_list,
)
from collections_app.correspondence.services import (
    address_correct,
    guarantor_address_correct,
    inquiry_open,
    inquiry_respond,
    returned_mail_record,
    returned_mail_resolve,
)
from collections_app.models import BillingInquiry, ReturnedMail
from core.access import FieldGroup
from core.api_support import Api, FieldGroupSerializerMixin
from core.audit import audit_read

DEMOGRAPHICS = FieldGroup.DEMOGRAPHICS
BILLING = FieldGroup.BILLING


# --- Output ------------------------------------------------------------------------------------


class ReturnedMailOutput(FieldGroupSerializerMixin, serializers.ModelSerializer):
    recorded_by = serializers.SlugRelatedField(slug_field="username", read_only=True)
    resolved_by = serializers.SlugRelatedField(slug_field="username", read_only=True)
    field_groups = {
        BILLING: (
            "id",
            "account",
            "patient",
            "recipient",
            "guarantor",
            "received_on",
            "reason",
            "recorded_by",
            "recorded_at",
            "resolved_at",
            "resolved_by",
            "resolution",
        )
    }

    class Meta:
        model = ReturnedMail


class AddressOutput(FieldGroupSerializerMixin, serializers.Serializer):
    field_groups = {
        DEMOGRAPHICS: ("id", "address_line1", "address_line2", "city", "state", "postal_code", "address_is_bad")
    }

    id = serializers.IntegerField()
    address_line1 = serializers.CharField()
    address_line2 = serializers.CharField()
    city = serializers.CharField()
    state = serializers.CharField()
    postal_code = serializers.CharField()
    address_is_bad = serializers.BooleanField()


class InquiryOutput(FieldGroupSerializerMixin, serializers.ModelSerializer):
    created_by = serializers.SlugRelatedField(slug_field="username", read_only=True)
    responded_by = serializers.SlugRelatedField(slug_field="username", read_only=True)
    field_groups = {
        BILLING: (
            "id",
            "account",
            "channel",
            "question",
            "received_on",
            "response_due_on",
            "response",
            "responded_on",
            "responded_by",
            "created_by",
            "created_at",
        )
    }

    class Meta:
        model = BillingInquiry


# --- Input -------------------------------------------------------------------------------------


class ReturnedMailInput(serializers.Serializer):
    received_on = serializers.DateField()
    reason = serializers.ChoiceField(choices=ReturnedMail.Reason.choices)
    # Whose address the letter went to; left out, where the account's statements go.
    recipient = serializers.ChoiceField(choices=ReturnedMail.Recipient.choices, required=False)


class ReturnedMailResolveInput(serializers.Serializer):
    resolution = serializers.ChoiceField(
        choices=[ReturnedMail.Resolution.ADDRESS_CONFIRMED, ReturnedMail.Resolution.UNABLE_TO_LOCATE]
    )


class AddressInput(serializers.Serializer):
    address_line1 = serializers.CharField(max_length=200)
    address_line2 = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    city = serializers.CharField(max_length=100)
    state = serializers.CharField(max_length=2, min_length=2)
    postal_code = serializers.CharField(max_length=10)


class InquiryInput(serializers.Serializer):
    channel = serializers.ChoiceField(choices=BillingInquiry.Channel.choices)
    question = serializers.CharField(max_length=4000)
    received_on = serializers.DateField(required=False)


class InquiryRespondInput(serializers.Serializer):
    response = serializers.CharField(max_length=4000)


# --- Views -------------------------------------------------------------------------------------


class AccountReturnedMailApi(Api):
    """GET: returned mail for the account's patient, open first. POST: record mail that came back."""

    field_group = BILLING

    @extend_schema(
        summary="Returned mail for an account's patient, open first", responses=ReturnedMailOutput(many=True)
    )
    def get(self, request, pk):
        account = account_get(user=request.user, account_id=pk)
        rows = list(returned_mail_list(user=request.user, account=account)[:200])
        audit_read(user=request.user, obj=account, field_groups={BILLING}, detail={"returned_mail": len(rows)})
        return self.respond(ReturnedMailOutput, rows, many=True)

    @extend_schema(summary="Record mail that came back", request=ReturnedMailInput, responses={201: ReturnedMailOutput})
    def post(self, request, pk):
        account = account_get(user=request.user, account_id=pk)
        data = self.valid_body(ReturnedMailInput)
        row = returned_mail_record(acting_user=request.user, account_id=account.pk, **data)
        return self.respond(ReturnedMailOutput, row, status_code=status.HTTP_201_CREATED)


class ReturnedMailResolveApi(Api):
    """Resolve returned mail without a new address: confirmed good, or unable to locate."""

    field_group = BILLING

    @extend_schema(request=ReturnedMailResolveInput, responses=ReturnedMailOutput)
    def post(self, request, pk):
        row = returned_mail_get(user=request.user, returned_mail_id=pk)
        data = self.valid_body(ReturnedMailResolveInput)
        row = returned_mail_resolve(acting_user=request.user, returned_mail_id=row.pk, resolution=data["resolution"])
        return self.respond(ReturnedMailOutput, row)


class PatientAddressApi(Api):
    """Correct the patient's address: the old one is kept in the history, returned mail resolved."""

    field_group = BILLING

    @extend_schema(request=AddressInput, responses=AddressOutput)
    def post(self, request, pk):
        patient = patient_for_address(user=request.user, patient_id=pk)
        data = self.valid_body(AddressInput)
        patient = address_correct(acting_user=request.user, patient_id=patient.pk, **data)
        return self.respond(AddressOutput, patient)


class AccountGuarantorAddressApi(Api):
    """Correct the address of the account's guarantor who is mailed at their own address (a parent,
    a spouse): mailings to the guarantor resume and their returned mail is resolved. A guarantor who
    is the patient is refused (correct the patient's address)."""

    field_group = BILLING

    @extend_schema(request=AddressInput, responses=AddressOutput)
    def post(self, request, pk):
        account = account_get(user=request.user, account_id=pk)
        data = self.valid_body(AddressInput)
        guarantor = guarantor_address_correct(acting_user=request.user, guarantor_id=account.guarantor_id, **data)
        return self.respond(AddressOutput, guarantor)


class AccountInquiriesApi(Api):
    """GET: the account's billing inquiries, unanswered first. POST: log an inquiry."""

    field_group = BILLING

    @extend_schema(summary="An account's billing inquiries, unanswered first", responses=InquiryOutput(many=True))
    def get(self, request, pk):
        account = account_get(user=request.user, account_id=pk)
        rows = list(inquiry_list(user=request.user, account=account)[:200])
        audit_read(user=request.user, obj=account, field_groups={BILLING}, detail={"inquiries": len(rows)})
        return self.respond(InquiryOutput, rows, many=True)

    @extend_schema(summary="Log a billing inquiry", request=InquiryInput, responses={201: InquiryOutput})
    def post(self, request, pk):
        account = account_get(user=request.user, account_id=pk)
        data = self.valid_body(InquiryInput)
        inquiry = inquiry_open(acting_user=request.user, account_id=account.pk, **data)
        return self.respond(InquiryOutput, inquiry, status_code=status.HTTP_201_CREATED)


class InquiryRespondApi(Api):
    field_group = BILLING

    @extend_schema(summary="Answer a billing inquiry", request=InquiryRespondInput, responses=InquiryOutput)
    def post(self, request, pk):
        inquiry = inquiry_get(user=request.user, inquiry_id=pk)
        data = self.valid_body(InquiryRespondInput)
        inquiry = inquiry_respond(acting_user=request.user, inquiry_id=inquiry.pk, response=data["response"])
        return self.respond(InquiryOutput, inquiry)
