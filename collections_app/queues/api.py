"""Work queue API: claim the next account, release it, list my queue, reassign (managers).

`POST /api/queue/next/` is the contract of DESIGN.md: it claims and returns the requesting rep's
next account (200), or 404 with a message when nothing is left.
"""

from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_field, extend_schema_serializer
from rest_framework import serializers, status
from rest_framework.response import Response

from accounts.models import PatientAccount
from accounts.money import MONEY
from collections_app.models import QueueEntry
from collections_app.queues import selectors, services
from collections_app.queues.views import MESSAGE_QUEUE_EMPTY
from core.access import FieldGroup, get_scoped_or_404
from core.api_support import Api, FieldGroupSerializerMixin, StrictPageNumberPagination
from core.audit import audit_reads

DEMOGRAPHICS = FieldGroup.DEMOGRAPHICS
BILLING = FieldGroup.BILLING  # the rep's own queue: scores, reasons, leases, balances


# --- Output ------------------------------------------------------------------------------------
# Outputs published before the Output rename keep their schema component names (clients generate
# types from them).


@extend_schema_serializer(component_name="Reason")
class ReasonOutput(FieldGroupSerializerMixin, serializers.Serializer):
    field_groups = {BILLING: ("code", "label")}

    code = serializers.CharField()
    label = serializers.CharField()


def _reasons(codes, context) -> list[dict]:
    rows = [{"code": code, "label": selectors.REASON_LABELS.get(code, code)} for code in codes or ()]
    return ReasonOutput(rows, many=True, context=context).data


@extend_schema_serializer(component_name="ClaimedAccount")
class ClaimedAccountOutput(FieldGroupSerializerMixin, serializers.Serializer):
    field_groups = {
        DEMOGRAPHICS: ("id", "account_number", "practice", "practice_code", "patient_name"),
        BILLING: (
            "patient_balance",
            "insurance_balance",
            "score",
            "top_reason",
            "reasons",
            "claim_expires_at",
        ),
    }

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

    @extend_schema_field(ReasonOutput(many=True))
    def get_reasons(self, account) -> list[dict]:
        return _reasons(account.queue_entry.reasons, self.context)


class QueueReleaseOutput(FieldGroupSerializerMixin, serializers.Serializer):
    field_groups = {DEMOGRAPHICS: ("account",), BILLING: ("claim_expires_at",)}

    account = serializers.IntegerField(source="account_id")
    claim_expires_at = serializers.DateTimeField()


@extend_schema_serializer(component_name="QueueEntry")
class QueueEntryOutput(FieldGroupSerializerMixin, serializers.ModelSerializer):
    field_groups = {
        DEMOGRAPHICS: ("account", "account_number", "practice", "patient_name"),
        BILLING: (
            "patient_balance",
            "insurance_balance",
            "score",
            "top_reason",
            "reasons",
            "oldest_item_on",
            "assigned_rep",
            "claimed_by",
            "claim_expires_at",
        ),
    }

    account_number = serializers.CharField(source="account.account_number")
    patient_name = serializers.CharField(source="account.patient.full_name")
    patient_balance = serializers.DecimalField(source="account.patient_balance", **MONEY)
    insurance_balance = serializers.DecimalField(source="account.insurance_balance", **MONEY)
    reasons = serializers.SerializerMethodField()

    class Meta:
        model = QueueEntry

    @extend_schema_field(ReasonOutput(many=True))
    def get_reasons(self, entry) -> list[dict]:
        return _reasons(entry.reasons, self.context)


class QueueReassignOutput(FieldGroupSerializerMixin, serializers.Serializer):
    field_groups = {DEMOGRAPHICS: ("account",), BILLING: ("assigned_rep",)}

    account = serializers.IntegerField(source="pk")
    assigned_rep = serializers.IntegerField(source="assigned_rep_id", allow_null=True)


# --- Input -------------------------------------------------------------------------------------


class QueueNextInput(serializers.Serializer):
    release_current = serializers.BooleanField(default=False)
    lease_minutes = serializers.IntegerField(default=services.LEASE_MINUTES, min_value=5, max_value=240)


class QueueFilterInput(serializers.Serializer):
    """Narrow and sort `GET /api/queue/` (query parameters; the rules: collections_app.queues.selectors)."""

    practice = serializers.IntegerField(required=False, help_text="One of your practices (its id).")
    reason = serializers.ChoiceField(choices=selectors.REASON_LABELS, required=False, help_text="An open reason.")
    bucket = serializers.ChoiceField(
        choices=selectors.AGING_BUCKET_CHOICES,
        required=False,
        help_text="Aging bucket of the oldest open patient balance, by date of service.",
    )
    balance_min = serializers.DecimalField(**MONEY, min_value=0, required=False, help_text="Patient balance at least.")
    balance_max = serializers.DecimalField(**MONEY, min_value=0, required=False, help_text="Patient balance at most.")
    sort = serializers.ChoiceField(
        choices=[(code, label) for code, (label, _order) in selectors.QUEUE_SORTS.items()],
        default=selectors.SORT_PRIORITY,
    )

    def validate(self, data):
        errors = selectors.queue_filters_errors(
            user=self.context["request"].user,
            practice=data.get("practice"),
            balance_min=data.get("balance_min"),
            balance_max=data.get("balance_max"),
        )
        if errors:
            raise serializers.ValidationError({name: [message] for name, message in errors.items()})
        return data


class QueueReassignInput(serializers.Serializer):
    account = serializers.IntegerField()
    rep = serializers.IntegerField(allow_null=True)


# --- Views -------------------------------------------------------------------------------------


class QueueNextApi(Api):
    """Claim the next account of your queue (a lease of `lease_minutes`). Asking again while your
    lease is live returns the same account, unless `release_current` lets it go first."""

    field_group = BILLING

    @extend_schema(
        request=QueueNextInput,
        responses={200: ClaimedAccountOutput, 404: OpenApiResponse(description="Nothing left in your queue.")},
    )
    def post(self, request):
        data = self.valid_body(QueueNextInput)
        account = services.queue_claim_next(acting_user=request.user, **data)
        if account is None:
            return Response({"detail": MESSAGE_QUEUE_EMPTY}, status=status.HTTP_404_NOT_FOUND)
        return self.respond(ClaimedAccountOutput, account)


class QueueReleaseApi(Api):
    """Release your lease on an account (managers: anyone's). The account stays in the queue."""

    field_group = BILLING

    @extend_schema(request=None, responses={200: QueueReleaseOutput})
    def post(self, request, pk):
        account = get_scoped_or_404(PatientAccount.objects.all(), request.user, pk=pk)
        get_scoped_or_404(QueueEntry.objects.all(), request.user, account_id=account.pk)
        entry = services.queue_release(acting_user=request.user, account_id=account.pk)
        return self.respond(QueueReleaseOutput, entry)


class MyQueueApi(Api):
    """Your queue, best first: what `POST /api/queue/next/` draws from (leased entries included).
    Narrow it by practice, reason, aging bucket or patient balance range, or sort it otherwise."""

    field_group = BILLING
    pagination_class = StrictPageNumberPagination

    @extend_schema(parameters=[QueueFilterInput], responses=QueueEntryOutput(many=True))
    def get(self, request):
        filters = selectors.QueueFilters.from_cleaned(self.valid_query(QueueFilterInput))
        page = self.paginate(selectors.my_queue(user=request.user, filters=filters))
        data = QueueEntryOutput(page, many=True, context={"request": request}).data
        groups = {DEMOGRAPHICS, BILLING}
        audit_reads(user=request.user, objects=[entry.account for entry in page], field_groups=groups)
        return self.paginated_response(data)


class QueueReassignApi(Api):
    """Give an account to a rep (active, Medium or above, working its practice), or `null` for the pool."""

    field_group = FieldGroup.MANAGEMENT

    @extend_schema(request=QueueReassignInput, responses={200: QueueReassignOutput})
    def post(self, request):
        data = self.valid_body(QueueReassignInput)
        account = services.account_reassign(acting_user=request.user, account_id=data["account"], rep_id=data["rep"])
        return self.respond(QueueReassignOutput, account)
