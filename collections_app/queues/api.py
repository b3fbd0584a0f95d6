"""Work queue API: claim the next account, release it, list my queue, reassign (managers).

`POST /api/queue/next/` is the contract of DESIGN.md: it claims and returns the requesting rep's
next account (200), or 404 with a message when nothing is left.
"""

from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_field
from rest_framework import serializers, status
from rest_framework.generics import ListAPIView
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.models import PatientAccount
from accounts.money import MONEY
from collections_app.models import QueueEntry
from collections_app.queues import selectors, services
from collections_app.queues.views import MESSAGE_QUEUE_EMPTY
from core.access import FieldGroup, get_scoped_or_404
from core.audit import audit_reads


class ReasonSerializer(serializers.Serializer):
    code = serializers.CharField()
    label = serializers.CharField()


def _reasons(codes) -> list[dict]:
    return [{"code": code, "label": selectors.REASON_LABELS.get(code, code)} for code in codes or ()]


class ClaimedAccountSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="pk")
    account_number = serializers.CharField()
    practice = serializers.IntegerField(source="practice_id")
    practice_code = serializers.CharField(source="practice.code")
    patient_name = serializers.CharField(source="patient.full_name")
    patient_balance = serializers.DecimalField(**MONEY)
    insurance_balance = serializers.DecimalField(**MONEY)
    score = serializers.DecimalField(source="queue_entry.score", max_digits=10, decimal_places=2)
    top_reason = serializers.CharField(source="queue_entry.top_reason")
    reasons = serializers.SerializerMethodField()
    claim_expires_at = serializers.DateTimeField(source="queue_entry.claim_expires_at")

    @extend_schema_field(ReasonSerializer(many=True))
    def get_reasons(self, account) -> list[dict]:
        return _reasons(account.queue_entry.reasons)


class QueueNextApi(APIView):
    """Claim the next account of your queue (a lease of `lease_minutes`). Asking again while your
    lease is live returns the same account, unless `release_current` lets it go first."""

    field_group = FieldGroup.BILLING

    class QueueNextInputSerializer(serializers.Serializer):
        release_current = serializers.BooleanField(default=False)
        lease_minutes = serializers.IntegerField(default=services.LEASE_MINUTES, min_value=5, max_value=240)

    @extend_schema(
        request=QueueNextInputSerializer,
        responses={200: ClaimedAccountSerializer, 404: OpenApiResponse(description="Nothing left in your queue.")},
    )
    def post(self, request):
        given = self.QueueNextInputSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        account = services.queue_claim_next(acting_user=request.user, **given.validated_data)
        if account is None:
            return Response({"detail": MESSAGE_QUEUE_EMPTY}, status=status.HTTP_404_NOT_FOUND)
        return Response(ClaimedAccountSerializer(account).data)


class QueueReleaseApi(APIView):
    """Release your lease on an account (managers: anyone's). The account stays in the queue."""

    field_group = FieldGroup.BILLING

    class QueueReleaseOutputSerializer(serializers.Serializer):
        account = serializers.IntegerField(source="account_id")
        claim_expires_at = serializers.DateTimeField()

    @extend_schema(request=None, responses={200: QueueReleaseOutputSerializer})
    def post(self, request, pk):
        account = get_scoped_or_404(PatientAccount.objects.all(), request.user, pk=pk)
        get_scoped_or_404(QueueEntry.objects.all(), request.user, account_id=account.pk)
        entry = services.queue_release(acting_user=request.user, account_id=account.pk)
        return Response(self.QueueReleaseOutputSerializer(entry).data)


class QueueEntrySerializer(serializers.ModelSerializer):
    account_number = serializers.CharField(source="account.account_number")
    patient_name = serializers.CharField(source="account.patient.full_name")
    patient_balance = serializers.DecimalField(source="account.patient_balance", **MONEY)
    insurance_balance = serializers.DecimalField(source="account.insurance_balance", **MONEY)
    reasons = serializers.SerializerMethodField()

    class Meta:
        model = QueueEntry
        fields = (
            "account",
            "account_number",
            "practice",
            "patient_name",
            "patient_balance",
            "insurance_balance",
            "score",
            "top_reason",
            "reasons",
            "oldest_item_on",
            "assigned_rep",
            "claimed_by",
            "claim_expires_at",
        )
        read_only_fields = fields

    @extend_schema_field(ReasonSerializer(many=True))
    def get_reasons(self, entry) -> list[dict]:
        return _reasons(entry.reasons)


class MyQueueApi(ListAPIView):
    """Your queue, best first: what `POST /api/queue/next/` draws from (leased entries included)."""

    field_group = FieldGroup.BILLING
    serializer_class = QueueEntrySerializer
    queryset = QueueEntry.objects.none()

    def list(self, request):
        page = self.paginate_queryset(selectors.my_queue(user=request.user))
        data = QueueEntrySerializer(page, many=True).data
        groups = {FieldGroup.DEMOGRAPHICS, FieldGroup.BILLING}
        audit_reads(user=request.user, objects=[entry.account for entry in page], field_groups=groups)
        return self.get_paginated_response(data)


class QueueReassignApi(APIView):
    """Give an account to a rep (active, Medium or above, working its practice), or `null` for the pool."""

    field_group = FieldGroup.MANAGEMENT

    class QueueReassignInputSerializer(serializers.Serializer):
        account = serializers.IntegerField()
        rep = serializers.IntegerField(allow_null=True)

    class QueueReassignOutputSerializer(serializers.Serializer):
        account = serializers.IntegerField(source="pk")
        assigned_rep = serializers.IntegerField(source="assigned_rep_id", allow_null=True)

    @extend_schema(request=QueueReassignInputSerializer, responses={200: QueueReassignOutputSerializer})
    def post(self, request):
        given = self.QueueReassignInputSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        account = services.account_reassign(
            acting_user=request.user, account_id=given.validated_data["account"], rep_id=given.validated_data["rep"]
        )
        return Response(self.QueueReassignOutputSerializer(account).data)
