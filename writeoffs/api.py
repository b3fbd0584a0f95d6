"""REST API for write-offs: list and propose, approve (posts at once), deny, reverse, bulk approve.

Thin views: the input serializer validates (400 with field errors), a service applies the approval
matrix (a tier or requester refusal is a 403, another rule an ApplicationError 400 with its field),
a scoped selector finds the request (another practice's: 404). Listing and proposing are Medium and
up (the propose field group); approving, denying and reversing Management and up, and the amount
limit of each practice is checked per request (403 above it for a manager).
"""

from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response

from accounts.money import MONEY, ZERO
from core.access import FieldGroup
from core.api_support import Api, FieldGroupSerializerMixin, StrictPageNumberPagination
from core.audit import audit_read, audit_reads
from core.models import MAX_ID
from writeoffs import selectors, services
from writeoffs.models import Reason, WriteOffRequest

PROPOSE = FieldGroup.PROPOSE
MANAGEMENT = FieldGroup.MANAGEMENT

IDEMPOTENCY_KEY = OpenApiParameter(
    "Idempotency-Key",
    str,
    OpenApiParameter.HEADER,
    description="Any unique string (a UUID) per call. Sent again with the same key, the call records nothing "
    "and answers with the first result (header `Idempotent-Replayed: true`).",
)
REFUSED_400 = OpenApiResponse(
    description="Refused by a rule (the message names the field): e.g. more than the balance."
)
REFUSED_403 = OpenApiResponse(
    description="Your tier may not do this, the amount is over the practice's limit for managers, or you proposed "
    "this write-off yourself."
)
NOT_FOUND_404 = OpenApiResponse(description="No such write-off request in your practices.")


# --- Output ------------------------------------------------------------------------------------


class WriteOffOutput(FieldGroupSerializerMixin, serializers.ModelSerializer):
    """A write-off request and where it stands."""

    account_number = serializers.CharField(source="account.account_number", read_only=True)
    requested_by = serializers.SlugRelatedField(slug_field="username", read_only=True)
    decided_by = serializers.SlugRelatedField(slug_field="username", read_only=True)
    reversed_by = serializers.SlugRelatedField(slug_field="username", read_only=True)
    encounters = serializers.PrimaryKeyRelatedField(many=True, read_only=True)
    entries = serializers.PrimaryKeyRelatedField(
        many=True, read_only=True, help_text="The ledger rows the approval posted."
    )
    # A plain string in the schema: an enum here would collide with other "reason" enums' names.
    reason = serializers.CharField(read_only=True, help_text=f"One of: {', '.join(Reason.values)}.")
    field_groups = {
        PROPOSE: (
            "id",
            "practice",
            "account",
            "account_number",
            "amount",
            "reason",
            "note",
            "status",
            "source",
            "small_balance_run",
            "encounters",
            "requested_by",
            "requested_at",
            "decided_by",
            "decided_at",
            "denial_reason",
            "posted_at",
            "entries",
            "reversed_by",
            "reversed_at",
            "reversal_reason",
        )
    }

    class Meta:
        model = WriteOffRequest


class BulkPreviewOutput(serializers.Serializer):
    count = serializers.IntegerField(help_text="How many of the chosen write-offs you may approve now.")
    total = serializers.DecimalField(**MONEY)
    ids = serializers.ListField(child=serializers.IntegerField(), source="request_ids")
    refused = serializers.SerializerMethodField(help_text="The chosen write-offs left out, each with why.")
    fingerprint = serializers.CharField(help_text="Send it back with the same ids to approve exactly these.")

    def get_refused(self, preview) -> list[dict]:
        return [{"id": pk, "message": message} for pk, message in preview.refused]


class BulkApprovedOutput(serializers.Serializer):
    count = serializers.IntegerField()
    total = serializers.DecimalField(**MONEY)
    ids = serializers.ListField(child=serializers.IntegerField())
    posted = WriteOffOutput(many=True)


# --- Input -------------------------------------------------------------------------------------


class WriteOffListQuery(serializers.Serializer):
    status = serializers.ChoiceField(choices=WriteOffRequest.Status.choices, required=False)
    practice = serializers.IntegerField(required=False, min_value=1, max_value=MAX_ID)
    reason = serializers.ChoiceField(choices=Reason.choices, required=False)
    account = serializers.IntegerField(required=False, min_value=1, max_value=MAX_ID)


class WriteOffProposeInput(serializers.Serializer):
    account = serializers.IntegerField(min_value=1, max_value=MAX_ID)
    amount = serializers.DecimalField(**MONEY)
    reason = serializers.ChoiceField(choices=Reason.choices)
    note = serializers.CharField(required=False, allow_blank=True, max_length=500, default="")
    encounters = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=MAX_ID),
        required=False,
        default=list,
        max_length=200,
        help_text="Write off only these visits' open balances (oldest first); empty: the account's balance.",
    )


class ReasonInput(serializers.Serializer):
    reason = serializers.CharField(max_length=500)


class BulkApproveInput(serializers.Serializer):
    ids = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=MAX_ID), min_length=1, max_length=500
    )
    fingerprint = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=64,
        default="",
        help_text="Empty: preview only. The preview's fingerprint: approve and post what it showed.",
    )


# --- Views -------------------------------------------------------------------------------------


def _replayed(response, record):
    if getattr(record, "replayed", False):
        response["Idempotent-Replayed"] = "true"
    return response


class WriteOffListApi(Api):
    """GET: write-off requests in your practices, newest first (filters: status, practice, reason,
    account). POST: propose a write-off of an account's balance, or of some of its visits."""

    field_group = PROPOSE
    pagination_class = StrictPageNumberPagination

    @extend_schema(
        summary="List write-off requests",
        parameters=[WriteOffListQuery],
        responses={200: WriteOffOutput(many=True), 403: REFUSED_403},
    )
    def get(self, request):
        filters = self.valid_query(WriteOffListQuery)
        queryset = selectors.writeoff_list(
            request.user,
            status=filters.get("status", ""),
            practice_ids=[filters["practice"]] if filters.get("practice") else None,
            reason=filters.get("reason", ""),
            account_id=filters.get("account"),
        ).prefetch_related("encounters", "entries")
        page = self.paginate(queryset)
        context = {"request": request}
        data = WriteOffOutput(page, many=True, context=context).data
        audit_reads(user=request.user, objects=page, field_groups=context.get("field_groups_shown", set()))
        return self.paginated_response(data)

    @extend_schema(
        summary="Propose a write-off",
        request=WriteOffProposeInput,
        parameters=[IDEMPOTENCY_KEY],
        responses={201: WriteOffOutput, 400: REFUSED_400, 403: REFUSED_403, 404: NOT_FOUND_404},
    )
    def post(self, request):
        data = self.valid_body(WriteOffProposeInput)
        proposed = services.writeoff_propose(
            acting_user=request.user,
            account_id=data["account"],
            amount=data["amount"],
            reason=data["reason"],
            note=data["note"],
            encounter_ids=data["encounters"],
            idempotency_key=request.headers.get("Idempotency-Key", ""),
        )
        code = status.HTTP_200_OK if getattr(proposed, "replayed", False) else status.HTTP_201_CREATED
        return _replayed(self.respond(WriteOffOutput, proposed, status_code=code), proposed)


class WriteOffDetailApi(Api):
    """One write-off request and where it stands."""

    field_group = PROPOSE

    @extend_schema(summary="One write-off request", responses={200: WriteOffOutput, 404: NOT_FOUND_404})
    def get(self, request, pk):
        writeoff = selectors.writeoff_get(request.user, pk)
        context = {"request": request}
        data = WriteOffOutput(writeoff, context=context).data
        audit_read(user=request.user, obj=writeoff, field_groups=context.get("field_groups_shown", set()))
        return Response(data)


class _DecisionApi(Api):
    field_group = MANAGEMENT

    def answer(self, request, decided):
        return self.respond(WriteOffOutput, selectors.writeoff_get(request.user, decided.pk))


class WriteOffApproveApi(_DecisionApi):
    """Approve a waiting write-off: it posts to the ledger at once. Managers approve up to the
    practice's limit, Directors above it; nobody approves a write-off they proposed."""

    @extend_schema(
        summary="Approve and post a write-off",
        request=None,
        responses={200: WriteOffOutput, 400: REFUSED_400, 403: REFUSED_403, 404: NOT_FOUND_404},
    )
    def post(self, request, pk):
        return self.answer(request, services.writeoff_approve(acting_user=request.user, request_id=pk))


class WriteOffDenyApi(_DecisionApi):
    """Deny a waiting write-off, saying why."""

    @extend_schema(
        summary="Deny a write-off",
        request=ReasonInput,
        responses={200: WriteOffOutput, 400: REFUSED_400, 403: REFUSED_403, 404: NOT_FOUND_404},
    )
    def post(self, request, pk):
        selectors.writeoff_get(request.user, pk)
        data = self.valid_body(ReasonInput)
        return self.answer(
            request, services.writeoff_deny(acting_user=request.user, request_id=pk, reason=data["reason"])
        )


class WriteOffReverseApi(_DecisionApi):
    """Reverse a posted write-off, saying why: reversal entries bring the balance back."""

    @extend_schema(
        summary="Reverse a posted write-off",
        request=ReasonInput,
        responses={200: WriteOffOutput, 400: REFUSED_400, 403: REFUSED_403, 404: NOT_FOUND_404},
    )
    def post(self, request, pk):
        selectors.writeoff_get(request.user, pk)
        data = self.valid_body(ReasonInput)
        return self.answer(
            request, services.writeoff_reverse(acting_user=request.user, request_id=pk, reason=data["reason"])
        )


class WriteOffBulkApproveApi(Api):
    """Approve many write-offs at once, in two steps. Send `ids` alone: the preview (how many you
    may approve, their total, the ones left out and why, and a fingerprint). Send the same `ids`
    with that `fingerprint`: all of the previewed write-offs post, or none if anything changed."""

    field_group = MANAGEMENT

    @extend_schema(
        summary="Preview, then approve, write-offs in bulk",
        request=BulkApproveInput,
        responses={
            200: OpenApiResponse(
                BulkPreviewOutput, description="Without a fingerprint: the preview. With one: BulkApprovedOutput."
            ),
            201: BulkApprovedOutput,
            400: REFUSED_400,
            403: REFUSED_403,
        },
    )
    def post(self, request):
        data = self.valid_body(BulkApproveInput)
        if not data["fingerprint"]:
            preview = services.writeoff_bulk_preview(acting_user=request.user, request_ids=data["ids"])
            return self.respond(BulkPreviewOutput, preview)
        posted = services.writeoff_bulk_approve(
            acting_user=request.user, request_ids=data["ids"], fingerprint=data["fingerprint"]
        )
        result = {
            "count": len(posted),
            "total": sum((entry.amount for entry in posted), ZERO),
            "ids": [entry.pk for entry in posted],
            "posted": posted,
        }
        return Response(BulkApprovedOutput(result, context={"request": request}).data, status=status.HTTP_201_CREATED)
