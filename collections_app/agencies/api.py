"""REST API for agencies: the agencies, today's candidates, placing a batch (preview then confirm),
recalling a placement, and posting an agency's payments (its CSV file, or one payment by hand).
Medium reads; Management adds and changes agencies, places, recalls and posts."""

from django.http import HttpResponse
from django.urls import reverse
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.response import Response

from accounts.money import MONEY
from accounts.selectors import practice_today
from collections_app.agencies import files, rules, selectors, services
from collections_app.models import Agency, Placement
from core.access import FieldGroup, check_field_group, practices_for
from core.api_support import Api, FieldGroupSerializerMixin, StrictPageNumberPagination
from core.audit import audit_read, audit_reads
from core.models import MAX_ID

BILLING = FieldGroup.BILLING
MANAGEMENT = FieldGroup.MANAGEMENT
REFUSED_400 = OpenApiResponse(description="Refused: the field named says why (nothing was placed or posted).")
REFUSED_403 = OpenApiResponse(description="Your access tier may not do this.")
NOT_FOUND_404 = OpenApiResponse(description="An account, placement or agency outside your practices.")

# --- Output ------------------------------------------------------------------------------------------


class AgencyOutput(FieldGroupSerializerMixin, serializers.ModelSerializer):
    field_groups = {
        BILLING: (
            "id",
            "practice",
            "name",
            "contact_name",
            "phone",
            "email",
            "mailing_address",
            "commission_rate",
            "file_layout",
            "is_default",
            "is_active",
            "updated_at",
        )
    }

    class Meta:
        model = Agency


class CandidateOutput(FieldGroupSerializerMixin, serializers.Serializer):
    id = serializers.IntegerField()
    account_number = serializers.CharField()
    practice = serializers.IntegerField(source="practice_id")
    patient_name = serializers.SerializerMethodField()
    patient_balance = serializers.DecimalField(**MONEY)
    final_notice_at = serializers.DateTimeField(allow_null=True)
    oldest_open_service_on = serializers.DateField(allow_null=True)
    report_to_credit_bureaus = serializers.SerializerMethodField(
        help_text="Whether the agency could report it to the credit bureaus if placed today."
    )

    field_groups = {
        BILLING: (
            "id",
            "account_number",
            "practice",
            "patient_name",
            "patient_balance",
            "final_notice_at",
            "oldest_open_service_on",
            "report_to_credit_bureaus",
        )
    }

    def get_patient_name(self, account) -> str:
        return f"{account.patient.last_name}, {account.patient.first_name}"

    def get_report_to_credit_bureaus(self, account) -> bool:
        delinquent_on = rules.delinquent_since(account.practice, account.oldest_open_service_on)
        return rules.may_report_to_credit_bureaus(
            balance=account.patient_balance, delinquent_on=delinquent_on, as_of=practice_today(account.practice)
        )


class PlacementOutput(FieldGroupSerializerMixin, serializers.ModelSerializer):
    field_groups = {
        BILLING: (
            "id",
            "account",
            "agency",
            "batch",
            "status",
            "placed_on",
            "placed_balance",
            "collected",
            "report_to_credit_bureaus",
            "recalled_at",
            "recall_reason",
            "recall_note",
        )
    }

    class Meta:
        model = Placement


class RefusedOutput(serializers.Serializer):
    account = serializers.IntegerField()
    reason = serializers.CharField()


class GroupOutput(serializers.Serializer):
    practice = serializers.IntegerField(source="practice.pk")
    agency = serializers.IntegerField(source="agency.pk")
    agency_name = serializers.CharField(source="agency.name")
    accounts = serializers.ListField(child=serializers.IntegerField(), source="account_ids")
    total = serializers.DecimalField(**MONEY)


class PlacementPreviewOutput(serializers.Serializer):
    count = serializers.IntegerField()
    total = serializers.DecimalField(**MONEY)
    accounts = serializers.ListField(child=serializers.IntegerField(), source="account_ids")
    groups = GroupOutput(many=True)
    refused = serializers.SerializerMethodField()
    fingerprint = serializers.CharField(help_text="Send it back with the same accounts to place exactly these.")

    def get_refused(self, preview) -> list[dict]:
        return [{"account": pk, "reason": why} for pk, why in preview.refused]


class BatchOutput(serializers.Serializer):
    id = serializers.IntegerField()
    practice = serializers.IntegerField(source="practice_id")
    agency = serializers.IntegerField(source="agency_id")
    account_count = serializers.IntegerField()
    total = serializers.DecimalField(**MONEY)
    bad_debt_written_off = serializers.BooleanField()
    file_url = serializers.SerializerMethodField()

    def get_file_url(self, batch) -> str | None:
        return reverse("api-agency-file", args=[batch.file_id]) if batch.file_id else None


class PlacedOutput(serializers.Serializer):
    count = serializers.IntegerField()
    total = serializers.DecimalField(**MONEY)
    batches = BatchOutput(many=True)


class PaymentLineOutput(serializers.Serializer):
    line_number = serializers.IntegerField(allow_null=True)
    account_number = serializers.CharField()
    paid_on = serializers.DateField()
    gross = serializers.DecimalField(**MONEY)
    commission = serializers.DecimalField(**MONEY)
    net = serializers.DecimalField(**MONEY)
    already_posted = serializers.BooleanField()


class PaymentImportOutput(serializers.Serializer):
    id = serializers.IntegerField(source="payment_import.pk", allow_null=True)
    replayed = serializers.BooleanField()
    posted = serializers.IntegerField(source="posted_count")
    rows = serializers.IntegerField(source="payment_import.row_count")
    gross_total = serializers.DecimalField(**MONEY, source="payment_import.gross_total")
    commission_total = serializers.DecimalField(**MONEY, source="payment_import.commission_total")
    net_total = serializers.DecimalField(**MONEY, source="payment_import.net_total")
    lines = PaymentLineOutput(many=True)


# --- Input ---------------------------------------------------------------------------------------------


COMMISSION_HELP = 'Percent of what the agency collects, 0 to 100, at most two decimals (a string: "27.50").'


class AgencyCreateInput(serializers.Serializer):
    practice = serializers.IntegerField(min_value=1, max_value=MAX_ID, help_text="One of your practices.")
    name = serializers.CharField(max_length=200)
    contact_name = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    phone = serializers.CharField(
        max_length=20, required=False, allow_blank=True, default="", help_text="Ten digits; punctuation is ignored."
    )
    email = serializers.EmailField(required=False, allow_blank=True, default="")
    mailing_address = serializers.CharField(max_length=300, required=False, allow_blank=True, default="")
    commission_rate = serializers.DecimalField(
        max_digits=5, decimal_places=2, min_value=0, max_value=100, help_text=COMMISSION_HELP
    )
    file_layout = serializers.ChoiceField(choices=Agency.FileLayout.choices, default=Agency.FileLayout.CSV)
    is_default = serializers.BooleanField(
        required=False, default=False, help_text="Placements go here unless another is chosen; replaces the default."
    )


class AgencyUpdateInput(serializers.Serializer):
    """Only the fields sent change. The practice is fixed once an agency exists."""

    name = serializers.CharField(max_length=200, required=False)
    contact_name = serializers.CharField(max_length=200, required=False, allow_blank=True)
    phone = serializers.CharField(max_length=20, required=False, allow_blank=True)
    email = serializers.EmailField(required=False, allow_blank=True)
    mailing_address = serializers.CharField(max_length=300, required=False, allow_blank=True)
    commission_rate = serializers.DecimalField(
        max_digits=5, decimal_places=2, min_value=0, max_value=100, required=False, help_text=COMMISSION_HELP
    )
    file_layout = serializers.ChoiceField(choices=Agency.FileLayout.choices, required=False)
    is_default = serializers.BooleanField(required=False)
    is_active = serializers.BooleanField(
        required=False, help_text="false: stop taking placements (refused while accounts are placed with it)."
    )


class CandidateQueryInput(serializers.Serializer):
    practice = serializers.IntegerField(required=False, min_value=1, max_value=MAX_ID)
    min_balance = serializers.DecimalField(**MONEY, required=False, min_value=0)


class PlaceInput(serializers.Serializer):
    accounts = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=MAX_ID), min_length=1, max_length=1000
    )
    agency = serializers.IntegerField(required=False, allow_null=True, min_value=1, max_value=MAX_ID)
    fingerprint = serializers.CharField(
        required=False,
        allow_blank=True,
        default="",
        max_length=64,
        help_text="Empty: preview only. The preview's fingerprint: place what it showed.",
    )


class RecallInput(serializers.Serializer):
    note = serializers.CharField(required=False, allow_blank=True, default="", max_length=300)


class AgencyPaymentInput(serializers.Serializer):
    agency = serializers.IntegerField(
        required=False, min_value=1, max_value=MAX_ID, help_text="With `file`: the agency that sent it."
    )
    file = serializers.FileField(required=False, help_text="The agency's payment CSV (multipart).")
    placement = serializers.IntegerField(
        required=False, min_value=1, max_value=MAX_ID, help_text="By hand: the placement paid."
    )
    paid_on = serializers.DateField(required=False)
    gross = serializers.DecimalField(**MONEY, required=False)
    commission = serializers.DecimalField(
        **MONEY, required=False, allow_null=True, help_text="By hand: defaults to the agency's rate."
    )
    reference = serializers.CharField(required=False, allow_blank=True, max_length=60)

    def validate(self, data):
        if data.get("file") is not None:
            if not data.get("agency"):
                raise serializers.ValidationError({"agency": ["Name the agency that sent the file."]})
            return data
        missing = [name for name in ("placement", "paid_on", "gross", "reference") if not data.get(name)]
        if missing:
            raise serializers.ValidationError(
                {name: ["Required for a payment by hand (or send a file)."] for name in missing}
            )
        return data


# --- Views ----------------------------------------------------------------------------------------------


class AgencyListApi(Api):
    """Medium reads the agencies of their practices; Management adds one (POST)."""

    field_group = BILLING

    @extend_schema(summary="The collection agencies of your practices", responses=AgencyOutput(many=True))
    def get(self, request):
        return self.respond(AgencyOutput, list(selectors.agency_list(user=request.user)), many=True)

    @extend_schema(
        summary="Add a collection agency to one of your practices (Management)",
        request=AgencyCreateInput,
        responses={201: AgencyOutput, 400: REFUSED_400, 403: REFUSED_403},
    )
    def post(self, request):
        check_field_group(request.user, MANAGEMENT)
        data = self.valid_body(AgencyCreateInput)
        agency = services.agency_create(acting_user=request.user, practice_id=data.pop("practice"), **data)
        return self.respond(AgencyOutput, agency, status_code=status.HTTP_201_CREATED)


class AgencyDetailApi(Api):
    """One agency: Medium reads it; Management changes it (PATCH, only the fields sent)."""

    field_group = BILLING

    @extend_schema(summary="A collection agency", responses={200: AgencyOutput, 403: REFUSED_403, 404: NOT_FOUND_404})
    def get(self, request, pk):
        return self.respond(AgencyOutput, selectors.agency_get(user=request.user, agency_id=pk))

    @extend_schema(
        summary="Change a collection agency (Management)",
        request=AgencyUpdateInput,
        responses={200: AgencyOutput, 400: REFUSED_400, 403: REFUSED_403, 404: NOT_FOUND_404},
    )
    def patch(self, request, pk):
        check_field_group(request.user, MANAGEMENT)
        agency = selectors.agency_get(user=request.user, agency_id=pk)
        data = self.valid_body(AgencyUpdateInput)
        agency = services.agency_update(acting_user=request.user, agency_id=agency.pk, **data)
        return self.respond(AgencyOutput, agency)


class CandidateListApi(Api):
    field_group = BILLING
    pagination_class = StrictPageNumberPagination

    @extend_schema(
        summary="Accounts ready to place with an agency today",
        parameters=[CandidateQueryInput],
        responses={200: CandidateOutput(many=True), 400: REFUSED_400, 403: REFUSED_403},
    )
    def get(self, request):
        query = self.valid_query(CandidateQueryInput)
        if query.get("practice") and not practices_for(request.user).filter(pk=query["practice"]).exists():
            raise serializers.ValidationError({"practice": ["Choose one of your practices."]})
        queryset = selectors.candidate_list(
            user=request.user, practice_id=query.get("practice"), min_balance=query.get("min_balance")
        )
        page = self.paginate(queryset)
        audit_reads(
            user=request.user, objects=list({a.patient_id: a.patient for a in page}.values()), field_groups={BILLING}
        )
        data = CandidateOutput(page, many=True, context={"request": request}).data
        return self.paginated_response(data)


class PlacementCreateApi(Api):
    """Place accounts with an agency in two steps. Send `accounts` alone: the preview (how many may
    go, their total and agency per practice, the ones left out and why, and a fingerprint). Send the
    same `accounts` with that `fingerprint`: they are placed, or none if anything changed."""

    field_group = MANAGEMENT

    @extend_schema(
        summary="Preview, then place, a batch of accounts",
        request=PlaceInput,
        responses={
            200: OpenApiResponse(PlacementPreviewOutput, description="Without a fingerprint: the preview."),
            201: PlacedOutput,
            400: REFUSED_400,
            403: REFUSED_403,
            404: NOT_FOUND_404,
        },
    )
    def post(self, request):
        data = self.valid_body(PlaceInput)
        # An account outside the user's practices is a 404 for the whole request, never a preview
        # that quietly leaves it out (the page's form only ever offers the user's own candidates).
        selectors.accounts_in_scope_or_404(user=request.user, account_ids=data["accounts"])
        agency_id = data.get("agency")
        if agency_id is not None:
            selectors.agency_get(user=request.user, agency_id=agency_id)
        if not data["fingerprint"]:
            preview = services.placement_preview(
                acting_user=request.user, account_ids=data["accounts"], agency_id=agency_id
            )
            return self.respond(PlacementPreviewOutput, preview)
        batches = services.placement_place(
            acting_user=request.user, account_ids=data["accounts"], agency_id=agency_id, fingerprint=data["fingerprint"]
        )
        result = {
            "count": sum(batch.account_count for batch in batches),
            "total": sum(batch.total for batch in batches),
            "batches": batches,
        }
        return Response(PlacedOutput(result).data, status=status.HTTP_201_CREATED)


class PlacementRecallApi(Api):
    field_group = MANAGEMENT

    @extend_schema(
        summary="Recall an account from its agency",
        request=RecallInput,
        responses={200: PlacementOutput, 400: REFUSED_400, 403: REFUSED_403, 404: NOT_FOUND_404},
    )
    def post(self, request, pk):
        placement = selectors.placement_get(user=request.user, placement_id=pk)
        data = self.valid_body(RecallInput)
        [recalled], _ = services.placement_recall(
            acting_user=request.user, placement_ids=[placement.pk], note=data["note"]
        )
        return self.respond(PlacementOutput, recalled)


class AgencyPaymentApi(Api):
    """Post what an agency collected: its payment file (multipart `agency` and `file`; refused
    whole, naming the line, unless it reconciles; the same file again posts nothing), or one payment
    by hand (`placement`, `paid_on`, `gross`, optional `commission`, and the agency's `reference`)."""

    field_group = MANAGEMENT
    parser_classes = [JSONParser, FormParser, MultiPartParser]

    @extend_schema(
        summary="Post agency payments",
        request=AgencyPaymentInput,
        responses={
            201: PaymentImportOutput,
            200: PaymentImportOutput,
            400: REFUSED_400,
            403: REFUSED_403,
            404: NOT_FOUND_404,
        },
    )
    def post(self, request):
        check_field_group(request.user, MANAGEMENT)
        data = self.valid_body(AgencyPaymentInput)
        upload = data.get("file")
        if upload is not None:
            agency = selectors.agency_get(user=request.user, agency_id=data["agency"])
            result = services.agency_payment_import(
                acting_user=request.user,
                agency_id=agency.pk,
                data=upload.read(files.MAX_PAYMENT_FILE_BYTES + 1),
                file_name=upload.name or "",
            )
        else:
            placement = selectors.placement_get(user=request.user, placement_id=data["placement"])
            payment, replayed = services.agency_payment_record(
                acting_user=request.user,
                placement_id=placement.pk,
                paid_on=data["paid_on"],
                gross=data["gross"],
                commission=data.get("commission"),
                reference=data["reference"],
            )
            line = services.PostedLine(
                None,
                placement.account.account_number,
                payment.paid_on,
                payment.gross,
                payment.commission,
                payment.net,
                replayed,
            )
            result = _ManualResult(payment=payment, lines=[line], replayed=replayed)
        code = status.HTTP_200_OK if result.replayed else status.HTTP_201_CREATED
        return Response(PaymentImportOutput(result).data, status=code)


class AgencyFileApi(Api):
    """A placement, recall or direct-payments file as sent to the agency (audited: it lists patients)."""

    field_group = MANAGEMENT

    @extend_schema(
        summary="Download a file made for an agency",
        responses={
            (200, "text/csv"): OpenApiResponse(description="The file."),
            403: REFUSED_403,
            404: NOT_FOUND_404,
        },
    )
    def get(self, request, pk):
        made = selectors.file_get(user=request.user, file_id=pk)
        audit_read(
            user=request.user,
            obj=made,
            field_groups={FieldGroup.DEMOGRAPHICS, BILLING, MANAGEMENT},
            detail={"kind": made.kind, "records": made.record_count, "download": True},
        )
        response = HttpResponse(made.content.encode("utf-8"), content_type=f"{made.content_type}; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="{made.file_name}"'
        response["Cache-Control"] = "no-store"
        return response


class _ManualResult:
    """A payment by hand answered in the file's shape: one line, its own totals."""

    def __init__(self, *, payment, lines, replayed):
        self.lines, self.replayed = lines, replayed
        self.posted_count = 0 if replayed else 1
        self.payment_import = _Totals(payment)


class _Totals:
    def __init__(self, payment):
        self.pk, self.row_count = None, 1
        self.gross_total, self.commission_total, self.net_total = payment.gross, payment.commission, payment.net
