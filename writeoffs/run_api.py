"""REST API for the nightly small-balance runs: the runs of your practices (filters: practice,
status, night), one run with its write-off requests, and the manager's decision on a run waiting
for approval: approve (posts exactly the requests it listed that are still owed) or discard (with a
reason: its requests are denied, nothing posts). Management and up, as on the approvals page; a
run of another practice is a 404, one over a manager's limit a 403 (writeoffs.services decides).
"""

from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_field
from rest_framework import serializers
from rest_framework.response import Response

from core.access import FieldGroup, check_field_group
from core.api_support import Api, FieldGroupSerializerMixin, StrictPageNumberPagination
from core.audit import audit_reads
from writeoffs import selectors, services
from writeoffs.api import WriteOffOutput
from writeoffs.filters import SmallBalanceRunFilter
from writeoffs.models import SmallBalanceRun

MANAGEMENT = FieldGroup.MANAGEMENT
REFUSED_400 = OpenApiResponse(description="The run is no longer waiting for approval, or no reason was given.")
REFUSED_403 = OpenApiResponse(
    description="Your tier may not decide small-balance runs, or a write-off in it is over the practice's limit "
    "for managers."
)
NOT_FOUND_404 = OpenApiResponse(description="No such small-balance run in your practices.")


class SmallBalanceRunOutput(FieldGroupSerializerMixin, serializers.ModelSerializer):
    """One night's small-balance run for a practice: how many write-offs it proposed and for how
    much, the part approved automatically, and the manager's decision."""

    decided_by = serializers.SlugRelatedField(slug_field="username", read_only=True)

    field_groups = {
        MANAGEMENT: (
            "id",
            "practice",
            "run_on",
            "status",
            "account_count",
            "total",
            "auto_approved_count",
            "auto_approved_total",
            "created_at",
            "decided_at",
            "decided_by",
        )
    }

    class Meta:
        model = SmallBalanceRun


class SmallBalanceRunDetailOutput(SmallBalanceRunOutput):
    """One run with its first write-off requests by account (`requests_shown` of them)."""

    requests = serializers.SerializerMethodField()
    requests_shown = serializers.SerializerMethodField()

    field_groups = {MANAGEMENT: (*SmallBalanceRunOutput.field_groups[MANAGEMENT], "requests", "requests_shown")}

    class Meta:
        model = SmallBalanceRun

    @extend_schema_field(WriteOffOutput(many=True))
    def get_requests(self, run) -> list[dict]:
        return WriteOffOutput(self.context["requests"], many=True, context=self.context).data

    def get_requests_shown(self, run) -> int:
        return len(self.context["requests"])


class SmallBalanceRunDecisionOutput(SmallBalanceRunOutput):
    """The run after the decision, with what posted and what was left out."""

    posted_count = serializers.IntegerField(read_only=True, default=0)
    posted_total = serializers.DecimalField(max_digits=12, decimal_places=2, read_only=True, default="0.00")
    left_out = serializers.ListField(
        child=serializers.IntegerField(),
        read_only=True,
        default=list,
        help_text="Write-off requests left out and denied: the account changed after the preview.",
    )

    field_groups = {
        MANAGEMENT: (*SmallBalanceRunOutput.field_groups[MANAGEMENT], "posted_count", "posted_total", "left_out")
    }

    class Meta:
        model = SmallBalanceRun


class RunDiscardInput(serializers.Serializer):
    reason = serializers.CharField(max_length=300, help_text="Why the night's write-offs are not taken.")


class SmallBalanceRunListApi(Api):
    field_group = MANAGEMENT
    pagination_class = StrictPageNumberPagination
    filterset_class = SmallBalanceRunFilter

    @extend_schema(
        summary="List the nightly small-balance write-off runs",
        description="Newest night first. Counts and totals only (no account is named), so not a PHI read.",
        responses={200: SmallBalanceRunOutput(many=True), 403: REFUSED_403},
    )
    def get(self, request):
        page = self.paginate(self.filter(selectors.small_balance_run_list(request.user)))
        return self.paginated_response(SmallBalanceRunOutput(page, many=True, context={"request": request}).data)


class SmallBalanceRunDetailApi(Api):
    field_group = MANAGEMENT

    @extend_schema(
        summary="One small-balance run with its write-off requests",
        description=f"The run and its first {selectors.RUN_REQUESTS_SHOWN} write-off requests by account "
        "(each request shown is audited).",
        responses={200: SmallBalanceRunDetailOutput, 403: REFUSED_403, 404: NOT_FOUND_404},
    )
    def get(self, request, pk):
        run = selectors.small_balance_run_get(request.user, pk)
        requests = selectors.small_balance_run_requests(run)
        context = {"request": request, "requests": requests}
        data = SmallBalanceRunDetailOutput(run, context=context).data
        audit_reads(user=request.user, objects=requests, field_groups=context.get("field_groups_shown", set()))
        return Response(data)


class SmallBalanceRunApproveApi(Api):
    field_group = MANAGEMENT

    @extend_schema(
        summary="Approve a small-balance run: post its write-offs",
        description="Posts exactly the requests the preview listed that are still waiting and still owed; "
        "a request whose account changed since is denied and listed in `left_out`.",
        request=None,
        responses={200: SmallBalanceRunDecisionOutput, 400: REFUSED_400, 403: REFUSED_403, 404: NOT_FOUND_404},
    )
    def post(self, request, pk):
        check_field_group(request.user, MANAGEMENT)
        run = selectors.small_balance_run_get(request.user, pk)
        done = services.small_balance_run_approve(acting_user=request.user, run_id=run.pk)
        return self.respond(SmallBalanceRunDecisionOutput, done)


class SmallBalanceRunDiscardApi(Api):
    field_group = MANAGEMENT

    @extend_schema(
        summary="Discard a small-balance run",
        description="Its waiting write-off requests are denied with the reason; nothing posts.",
        request=RunDiscardInput,
        responses={200: SmallBalanceRunDecisionOutput, 400: REFUSED_400, 403: REFUSED_403, 404: NOT_FOUND_404},
    )
    def post(self, request, pk):
        check_field_group(request.user, MANAGEMENT)
        run = selectors.small_balance_run_get(request.user, pk)
        data = self.valid_body(RunDiscardInput)
        done = services.small_balance_run_discard(acting_user=request.user, run_id=run.pk, reason=data["reason"])
        return self.respond(SmallBalanceRunDecisionOutput, done)
