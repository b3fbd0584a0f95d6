"""REST API for payment plans: list and set up an account's plans, read one, move it.

Thin views: the input serializer validates (400 with field errors), a service applies the practice's
policy (ApplicationError: 400 with the field), a scoped selector finds the plan (another practice's:
404), FieldGroupPermission refuses tiers below billing (403).
"""

from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import serializers, status
from rest_framework.response import Response

from accounts.money import MONEY
from accounts.selectors import account_get
from core.access import FieldGroup
from core.api_support import Api, FieldGroupSerializerMixin
from core.audit import audit_read, audit_reads
from payment_plans import selectors, services
from payment_plans.filters import PlanFilter
from payment_plans.models import Installment, PaymentPlan, PlanRevision, PlanStatusChange

BILLING = FieldGroup.BILLING


# --- Output ------------------------------------------------------------------------------------


class InstallmentOutput(FieldGroupSerializerMixin, serializers.ModelSerializer):
    field_groups = {
        BILLING: ("id", "revision", "number", "due_on", "amount", "paid_amount", "paid_on", "superseded_at")
    }

    class Meta:
        model = Installment


class StatusChangeOutput(FieldGroupSerializerMixin, serializers.ModelSerializer):
    changed_by = serializers.SlugRelatedField(slug_field="username", read_only=True)
    # A plain string in the schema: an enum here would collide with other "reason" enums' names.
    reason = serializers.CharField(read_only=True, help_text=f"One of: {', '.join(PlanStatusChange.Reason.values)}.")
    field_groups = {BILLING: ("from_status", "to_status", "reason", "note", "as_of", "changed_at", "changed_by")}

    class Meta:
        model = PlanStatusChange


class RevisionOutput(FieldGroupSerializerMixin, serializers.ModelSerializer):
    created_by = serializers.SlugRelatedField(slug_field="username", read_only=True)
    field_groups = {
        BILLING: (
            "number",
            "financed_amount",
            "installment_count",
            "installment_amount",
            "frequency",
            "day_of_month",
            "start_on",
            "reason",
            "created_at",
            "created_by",
        )
    }

    class Meta:
        model = PlanRevision


PLAN_FIELDS = (
    "id",
    "account",
    "practice",
    "status",
    "total_amount",
    "down_payment",
    "frequency",
    "day_of_month",
    "start_on",
    "installment_count",
    "installment_amount",
    "revision",
    "autopay",
    "created_on",
    "created_at",
    "status_changed_at",
)


class PlanOutput(FieldGroupSerializerMixin, serializers.ModelSerializer):
    """A plan's terms (the autopay token itself is never returned)."""

    field_groups = {BILLING: PLAN_FIELDS}

    class Meta:
        model = PaymentPlan


class PlanDetailOutput(FieldGroupSerializerMixin, serializers.ModelSerializer):
    """A plan with its schedule (all revisions; superseded rows marked), history and revisions."""

    installments = serializers.SerializerMethodField()
    history = serializers.SerializerMethodField()
    revisions = serializers.SerializerMethodField()
    field_groups = {BILLING: (*PLAN_FIELDS, "installments", "history", "revisions")}

    class Meta:
        model = PaymentPlan

    @extend_schema_field(InstallmentOutput(many=True))
    def get_installments(self, plan) -> list[dict]:
        return InstallmentOutput(selectors.plan_all_installments(plan), many=True, context=self.context).data

    @extend_schema_field(StatusChangeOutput(many=True))
    def get_history(self, plan) -> list[dict]:
        return StatusChangeOutput(selectors.plan_history(plan), many=True, context=self.context).data

    @extend_schema_field(RevisionOutput(many=True))
    def get_revisions(self, plan) -> list[dict]:
        return RevisionOutput(selectors.plan_revisions(plan), many=True, context=self.context).data


# --- Input -------------------------------------------------------------------------------------

MONEY_INPUT = {**MONEY, "required": False, "allow_null": True}


class TermsInput(serializers.Serializer):
    installment_amount = serializers.DecimalField(min_value=0, **MONEY_INPUT)
    installment_count = serializers.IntegerField(required=False, allow_null=True, min_value=1, max_value=1000)
    frequency = serializers.ChoiceField(choices=PaymentPlan.Frequency.choices, required=False)
    day_of_month = serializers.IntegerField(required=False, allow_null=True, min_value=1, max_value=31)
    start_on = serializers.DateField(required=False, allow_null=True)


class PlanCreateInput(TermsInput):
    total = serializers.DecimalField(min_value=0, **MONEY_INPUT)
    down_payment = serializers.DecimalField(min_value=0, **MONEY_INPUT)
    autopay = serializers.BooleanField(required=False, default=False)
    autopay_token = serializers.CharField(required=False, allow_blank=True, max_length=80, default="")
    activate = serializers.BooleanField(required=False, default=False)


class PlanModifyInput(TermsInput):
    reason = serializers.CharField(required=False, allow_blank=True, max_length=300, default="")
    expected_revision = serializers.IntegerField(
        required=False,
        allow_null=True,
        default=None,
        min_value=1,
        help_text="The plan revision these terms change. If the plan has moved on, the same change sent again "
        "answers with the plan and records nothing; a change by someone else in between is a 400.",
    )


class PlanCancelInput(serializers.Serializer):
    note = serializers.CharField(required=False, allow_blank=True, max_length=300, default="")


# --- Views -------------------------------------------------------------------------------------


class BillingApi(Api):
    field_group = BILLING

    def _detail(self, plan, *, status_code=status.HTTP_200_OK) -> Response:
        return self.respond(PlanDetailOutput, plan, status_code=status_code)


class AccountPlansApi(BillingApi):
    """An account's payment plans, newest first; POST sets one up under the practice's policy."""

    filterset_class = PlanFilter

    @extend_schema(summary="An account's payment plans, newest first", responses=PlanOutput(many=True))
    def get(self, request, pk):
        account = account_get(user=request.user, account_id=pk)
        plans = list(self.filter(selectors.plan_list_for_account(user=request.user, account=account)))
        audit_reads(user=request.user, objects=plans, field_groups={BILLING})
        return self.respond(PlanOutput, plans, many=True)

    @extend_schema(
        summary="Set up a payment plan under the practice's policy",
        request=PlanCreateInput,
        responses={201: PlanDetailOutput},
    )
    def post(self, request, pk):
        account = account_get(user=request.user, account_id=pk)
        data = self.valid_body(PlanCreateInput)
        plan = services.plan_create(acting_user=request.user, account_id=account.pk, **data)
        plan = selectors.plan_get(user=request.user, plan_id=plan.pk)
        return self._detail(plan, status_code=status.HTTP_201_CREATED)


class PlanDetailApi(BillingApi):
    @extend_schema(summary="One payment plan with its installments and history", responses=PlanDetailOutput)
    def get(self, request, pk):
        plan = selectors.plan_get(user=request.user, plan_id=pk)
        audit_read(user=request.user, obj=plan, field_groups={BILLING}, detail={"account_id": plan.account_id})
        return self._detail(plan)


class PlanActivateApi(BillingApi):
    """The patient agreed: a proposed plan becomes active."""

    @extend_schema(request=None, responses=PlanDetailOutput)
    def post(self, request, pk):
        plan = selectors.plan_get(user=request.user, plan_id=pk)
        services.plan_activate(acting_user=request.user, plan_id=plan.pk)
        return self._detail(selectors.plan_get(user=request.user, plan_id=pk))


class PlanCancelApi(BillingApi):
    @extend_schema(summary="Cancel a payment plan", request=PlanCancelInput, responses=PlanDetailOutput)
    def post(self, request, pk):
        plan = selectors.plan_get(user=request.user, plan_id=pk)
        data = self.valid_body(PlanCancelInput)
        services.plan_cancel(acting_user=request.user, plan_id=plan.pk, **data)
        return self._detail(selectors.plan_get(user=request.user, plan_id=pk))


class PlanModifyApi(BillingApi):
    """New installment amount or term for the unpaid remainder (paid installments stay)."""

    @extend_schema(request=PlanModifyInput, responses=PlanDetailOutput)
    def post(self, request, pk):
        plan = selectors.plan_get(user=request.user, plan_id=pk)
        data = self.valid_body(PlanModifyInput)
        services.plan_modify(acting_user=request.user, plan_id=plan.pk, **data)
        return self._detail(selectors.plan_get(user=request.user, plan_id=pk))
