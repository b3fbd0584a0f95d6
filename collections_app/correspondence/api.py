"""REST API for returned mail, address correction and billing inquiries."""

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

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
    inquiry_open,
    inquiry_respond,
    returned_mail_record,
    returned_mail_resolve,
)
from collections_app.models import BillingInquiry, ReturnedMail
from core.access import FieldGroup
from core.audit import audit_read


class ReturnedMailOutputSerializer(serializers.ModelSerializer):
    recorded_by = serializers.SlugRelatedField(slug_field="username", read_only=True)
    resolved_by = serializers.SlugRelatedField(slug_field="username", read_only=True)

    class Meta:
        model = ReturnedMail
        fields = (
            "id",
            "account",
            "patient",
            "received_on",
            "reason",
            "recorded_by",
            "recorded_at",
            "resolved_at",
            "resolved_by",
            "resolution",
        )
        read_only_fields = fields


class ReturnedMailInputSerializer(serializers.Serializer):
    received_on = serializers.DateField()
    reason = serializers.ChoiceField(choices=ReturnedMail.Reason.choices)


class ReturnedMailResolveInputSerializer(serializers.Serializer):
    resolution = serializers.ChoiceField(
        choices=[ReturnedMail.Resolution.ADDRESS_CONFIRMED, ReturnedMail.Resolution.UNABLE_TO_LOCATE]
    )


class AddressInputSerializer(serializers.Serializer):
    address_line1 = serializers.CharField(max_length=200)
    address_line2 = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    city = serializers.CharField(max_length=100)
    state = serializers.CharField(max_length=2, min_length=2)
    postal_code = serializers.CharField(max_length=10)


class AddressOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    address_line1 = serializers.CharField()
    address_line2 = serializers.CharField()
    city = serializers.CharField()
    state = serializers.CharField()
    postal_code = serializers.CharField()
    address_is_bad = serializers.BooleanField()


class InquiryOutputSerializer(serializers.ModelSerializer):
    created_by = serializers.SlugRelatedField(slug_field="username", read_only=True)
    responded_by = serializers.SlugRelatedField(slug_field="username", read_only=True)

    class Meta:
        model = BillingInquiry
        fields = (
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
        read_only_fields = fields


class InquiryInputSerializer(serializers.Serializer):
    channel = serializers.ChoiceField(choices=BillingInquiry.Channel.choices)
    question = serializers.CharField(max_length=4000)
    received_on = serializers.DateField(required=False)


class InquiryRespondInputSerializer(serializers.Serializer):
    response = serializers.CharField(max_length=4000)


class AccountReturnedMailApi(APIView):
    """GET: returned mail for the account's patient, open first. POST: record mail that came back."""

    field_group = FieldGroup.BILLING

    @extend_schema(responses=ReturnedMailOutputSerializer(many=True))
    def get(self, request, pk):
        account = account_get(user=request.user, account_id=pk)
        rows = list(returned_mail_list(user=request.user, account=account)[:200])
        audit_read(
            user=request.user, obj=account, field_groups={FieldGroup.BILLING}, detail={"returned_mail": len(rows)}
        )
        return Response(ReturnedMailOutputSerializer(rows, many=True).data)

    @extend_schema(request=ReturnedMailInputSerializer, responses={201: ReturnedMailOutputSerializer})
    def post(self, request, pk):
        account = account_get(user=request.user, account_id=pk)
        data = ReturnedMailInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        row = returned_mail_record(acting_user=request.user, account_id=account.pk, **data.validated_data)
        return Response(ReturnedMailOutputSerializer(row).data, status=status.HTTP_201_CREATED)


class ReturnedMailResolveApi(APIView):
    """Resolve returned mail without a new address: confirmed good, or unable to locate."""

    field_group = FieldGroup.BILLING

    @extend_schema(request=ReturnedMailResolveInputSerializer, responses=ReturnedMailOutputSerializer)
    def post(self, request, pk):
        row = returned_mail_get(user=request.user, returned_mail_id=pk)
        data = ReturnedMailResolveInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        row = returned_mail_resolve(
            acting_user=request.user, returned_mail_id=row.pk, resolution=data.validated_data["resolution"]
        )
        return Response(ReturnedMailOutputSerializer(row).data)


class PatientAddressApi(APIView):
    """Correct the patient's address: the old one is kept in the history, returned mail resolved."""

    field_group = FieldGroup.BILLING

    @extend_schema(request=AddressInputSerializer, responses=AddressOutputSerializer)
    def post(self, request, pk):
        patient = patient_for_address(user=request.user, patient_id=pk)
        data = AddressInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        patient = address_correct(acting_user=request.user, patient_id=patient.pk, **data.validated_data)
        return Response(AddressOutputSerializer(patient).data)


class AccountInquiriesApi(APIView):
    """GET: the account's billing inquiries, unanswered first. POST: log an inquiry."""

    field_group = FieldGroup.BILLING

    @extend_schema(responses=InquiryOutputSerializer(many=True))
    def get(self, request, pk):
        account = account_get(user=request.user, account_id=pk)
        rows = list(inquiry_list(user=request.user, account=account)[:200])
        audit_read(user=request.user, obj=account, field_groups={FieldGroup.BILLING}, detail={"inquiries": len(rows)})
        return Response(InquiryOutputSerializer(rows, many=True).data)

    @extend_schema(request=InquiryInputSerializer, responses={201: InquiryOutputSerializer})
    def post(self, request, pk):
        account = account_get(user=request.user, account_id=pk)
        data = InquiryInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        inquiry = inquiry_open(acting_user=request.user, account_id=account.pk, **data.validated_data)
        return Response(InquiryOutputSerializer(inquiry).data, status=status.HTTP_201_CREATED)


class InquiryRespondApi(APIView):
    field_group = FieldGroup.BILLING

    @extend_schema(request=InquiryRespondInputSerializer, responses=InquiryOutputSerializer)
    def post(self, request, pk):
        inquiry = inquiry_get(user=request.user, inquiry_id=pk)
        data = InquiryRespondInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        inquiry = inquiry_respond(
            acting_user=request.user, inquiry_id=inquiry.pk, response=data.validated_data["response"]
        )
        return Response(InquiryOutputSerializer(inquiry).data)
