"""REST API for holds: list and place on an account (the LOP letter as multipart), release, status check."""

from django.urls import reverse
from drf_spectacular.utils import extend_schema
from rest_framework import exceptions, serializers, status
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser

from accounts.money import MONEY
from accounts.selectors import account_get
from collections_app.holds.filters import HoldFilter
from collections_app.holds.selectors import hold_get, hold_list
from collections_app.holds.services import (
    KIND_FIELDS,
    hold_place,
    hold_release,
    letter_too_large_message,
    lop_status_check,
)
from collections_app.holds.views import upload_body_too_large
from collections_app.models import AccountHold
from core.access import FieldGroup
from core.api_support import Api, FieldGroupSerializerMixin
from core.audit import audit_read

BILLING = FieldGroup.BILLING

# --- Output ------------------------------------------------------------------------------------


class HoldOutput(FieldGroupSerializerMixin, serializers.ModelSerializer):
    placed_by = serializers.SlugRelatedField(slug_field="username", read_only=True)
    released_by = serializers.SlugRelatedField(slug_field="username", read_only=True)
    is_active = serializers.BooleanField(read_only=True)
    has_letter = serializers.SerializerMethodField()
    letter_url = serializers.SerializerMethodField()

    field_groups = {
        BILLING: (
            "id",
            "account",
            "kind",
            "is_active",
            "placed_on",
            "placed_at",
            "placed_by",
            "review_on",
            "ends_on",
            "released_at",
            "released_by",
            "release_reason",
            "case_number",
            "notes",
            "attorney_name",
            "attorney_firm",
            "attorney_phone",
            "attorney_email",
            "accident_on",
            "lop_status",
            "settlement_amount",
            "status_checked_on",
            "has_letter",
            "letter_url",
            "died_on",
            "estate_name",
            "executor_name",
            "executor_phone",
            "executor_address",
            "court",
            "published_notice_on",
            "mailed_notice_on",
            "claim_deadline_on",
            "bankruptcy_chapter",
            "filed_on",
            "dispute_kind",
            "received_on",
        )
    }

    class Meta:
        model = AccountHold

    def get_has_letter(self, hold) -> bool:
        return bool(hold.lop_letter)

    def get_letter_url(self, hold) -> str | None:
        return reverse("hold-letter", args=[hold.pk]) if hold.lop_letter else None


# --- Input -------------------------------------------------------------------------------------


class HoldPlaceInput(serializers.Serializer):
    kind = serializers.ChoiceField(choices=AccountHold.Kind.choices)
    placed_on = serializers.DateField(required=False)
    case_number = serializers.CharField(max_length=60, required=False, allow_blank=True)
    notes = serializers.CharField(required=False, allow_blank=True)
    attorney_name = serializers.CharField(max_length=200, required=False, allow_blank=True)
    attorney_firm = serializers.CharField(max_length=200, required=False, allow_blank=True)
    attorney_phone = serializers.CharField(max_length=20, required=False, allow_blank=True)
    attorney_email = serializers.EmailField(required=False, allow_blank=True)
    accident_on = serializers.DateField(required=False)
    lop_letter = serializers.FileField(required=False)
    died_on = serializers.DateField(required=False)
    estate_name = serializers.CharField(max_length=200, required=False, allow_blank=True)
    executor_name = serializers.CharField(max_length=200, required=False, allow_blank=True)
    executor_phone = serializers.CharField(max_length=20, required=False, allow_blank=True)
    executor_address = serializers.CharField(max_length=300, required=False, allow_blank=True)
    court = serializers.CharField(max_length=200, required=False, allow_blank=True)
    published_notice_on = serializers.DateField(required=False, allow_null=True)
    mailed_notice_on = serializers.DateField(required=False, allow_null=True)
    bankruptcy_chapter = serializers.ChoiceField(choices=[7, 11, 13], required=False)
    filed_on = serializers.DateField(required=False)
    dispute_kind = serializers.ChoiceField(choices=AccountHold.DisputeKind.choices, required=False)
    received_on = serializers.DateField(required=False)


class HoldReleaseInput(serializers.Serializer):
    reason = serializers.CharField(max_length=300)


class LopStatusCheckInput(serializers.Serializer):
    status = serializers.ChoiceField(choices=AccountHold.LopStatus.choices)
    settlement_amount = serializers.DecimalField(**MONEY, required=False, allow_null=True)
    note = serializers.CharField(max_length=500, required=False, allow_blank=True)


# --- Views -------------------------------------------------------------------------------------


class UploadTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_code = "upload_too_large"


class AccountHoldsApi(Api):
    """GET: the account's holds, active first. POST: place a hold (multipart to attach the LOP letter)."""

    field_group = BILLING
    parser_classes = [JSONParser, FormParser, MultiPartParser]
    filterset_class = HoldFilter

    def initial(self, request, *args, **kwargs):
        # Before authentication: its CSRF check reads the body, and a multipart body is streamed to
        # disk whole. A body no letter and its fields can make is refused unread.
        if request.method == "POST" and upload_body_too_large(request):
            raise UploadTooLarge(f"{letter_too_large_message()} Nothing was saved.")
        super().initial(request, *args, **kwargs)

    @extend_schema(summary="An account's holds, active first", responses=HoldOutput(many=True))
    def get(self, request, pk):
        account = account_get(user=request.user, account_id=pk)
        holds = list(self.filter(hold_list(user=request.user, account=account)))
        audit_read(user=request.user, obj=account, field_groups={BILLING}, detail={"holds": len(holds)})
        return self.respond(HoldOutput, holds, many=True)

    @extend_schema(summary="Place a hold on an account", request=HoldPlaceInput, responses={201: HoldOutput})
    def post(self, request, pk):
        account = account_get(user=request.user, account_id=pk)
        values = dict(self.valid_body(HoldPlaceInput))
        kind = values.pop("kind")
        letter = values.pop("lop_letter", None)
        placed_on = values.pop("placed_on", None)
        details = {
            name: value for name, value in values.items() if name in (*KIND_FIELDS[kind], "case_number", "notes")
        }
        hold = hold_place(
            acting_user=request.user,
            account_id=account.pk,
            kind=kind,
            placed_on=placed_on,
            lop_letter=letter if kind == AccountHold.Kind.LOP else None,
            **details,
        )
        return self.respond(HoldOutput, hold, status_code=status.HTTP_201_CREATED)


class HoldDetailApi(Api):
    """One hold: its kind, dates, details (attorney, estate, case) and whether it is still in force."""

    field_group = BILLING

    @extend_schema(summary="One hold", responses=HoldOutput)
    def get(self, request, pk):
        hold = hold_get(user=request.user, hold_id=pk)
        audit_read(user=request.user, obj=hold, field_groups={BILLING}, detail={"account_id": hold.account_id})
        return self.respond(HoldOutput, hold)


class HoldReleaseApi(Api):
    field_group = BILLING

    @extend_schema(summary="Release a hold", request=HoldReleaseInput, responses=HoldOutput)
    def post(self, request, pk):
        hold = hold_get(user=request.user, hold_id=pk)
        data = self.valid_body(HoldReleaseInput)
        hold = hold_release(acting_user=request.user, hold_id=hold.pk, reason=data["reason"])
        return self.respond(HoldOutput, hold)


class LopStatusCheckApi(Api):
    field_group = BILLING

    @extend_schema(
        summary="Record a letter-of-protection status check", request=LopStatusCheckInput, responses=HoldOutput
    )
    def post(self, request, pk):
        hold = hold_get(user=request.user, hold_id=pk)
        data = self.valid_body(LopStatusCheckInput)
        hold = lop_status_check(
            acting_user=request.user,
            hold_id=hold.pk,
            status=data["status"],
            settlement_amount=data.get("settlement_amount"),
            note=data.get("note", ""),
        )
        return self.respond(HoldOutput, hold)
