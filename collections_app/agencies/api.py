"""REST API for agencies: the agencies, today's candidates, the placements (a list and one with what
came back), placing a batch (preview then confirm), recalling a placement, and the agency's payments
(listed; posted from its CSV file, or one by hand). Medium reads agencies and placements;
Management adds and changes agencies, places, recalls, and lists and posts payments."""

from django.http import HttpResponse
from django.urls import reverse
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_field
from rest_framework import serializers, status
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.response import Response

from accounts.money import MONEY
from accounts.selectors import practice_today
from collections_app.agencies import files, rules, selectors, services
from collections_app.agencies.filters import AgencyPaymentFilter, PlacementFilter
from collections_app.models import Agency, AgencyPayment, DirectPayment, Placement, PlacementBatch
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


PLACEMENT_ROW_FIELDS = (
    "id",
    "account",
    "account_number",
    "practice",
    "agency",
    "agency_name",
    "batch",
    "status",
    "placed_on",
    "placed_balance",
    "collected",
    "report_to_credit_bureaus",
    "recalled_at",
    "recall_reason",
    "recall_note",
    "closed_at",
)


class PlacementRowOutput(FieldGroupSerializerMixin, serializers.ModelSerializer):
    """A placement as the list shows it: the account placed, with whom, for how much and what the
    agency has collected so far."""

    account_number = serializers.CharField(source="account.account_number", read_only=True)
    patient_name = serializers.SerializerMethodField()
    agency_name = serializers.CharField(source="agency.name", read_only=True)

    field_groups = {FieldGroup.DEMOGRAPHICS: ("patient_name",), BILLING: PLACEMENT_ROW_FIELDS}

    class Meta:
        model = Placement

    def get_patient_name(self, placement) -> str:
        patient = placement.account.patient
        return f"{patient.last_name}, {patient.first_name}"


class AgencyPaymentOutput(FieldGroupSerializerMixin, serializers.ModelSerializer):
    """What the agency collected on a placed account: gross (on the ledger as an agency payment),
    its commission, and the net remitted to the practice."""

    account_number = serializers.CharField(source="account.account_number", read_only=True)
    agency_name = serializers.CharField(source="agency.name", read_only=True)
    posted_by = serializers.SlugRelatedField(slug_field="username", read_only=True)

    field_groups = {
        BILLING: (
            "id",
            "placement",
            "account",
            "account_number",
            "practice",
            "agency",
            "agency_name",
            "payment_import",
            "line_number",
            "paid_on",
            "gross",
            "commission",
            "net",
            "transaction",
            "posted_by",
            "posted_at",
        )
    }

    class Meta:
        model = AgencyPayment


class DirectPaymentOutput(FieldGroupSerializerMixin, serializers.ModelSerializer):
    """A payment the patient made to the practice while placed (negative: its reversal); the agency
    is told in its next direct-payments file (`reported_in`, empty until then)."""

    field_groups = {BILLING: ("id", "paid_on", "amount", "transaction", "reported_in")}

    class Meta:
        model = DirectPayment


class PlacementDetailOutput(PlacementRowOutput):
    """One placement: the list's fields, the dates the agency was sent, the bad-debt write-off, the
    recall, and every payment the agency collected or the practice took while placed."""

    recalled_by = serializers.SlugRelatedField(slug_field="username", read_only=True)
    payments = serializers.SerializerMethodField(help_text="What the agency collected, newest first.")
    direct_payments = serializers.SerializerMethodField(
        help_text="Payments the patient made to the practice while placed, oldest first."
    )

    field_groups = {
        FieldGroup.DEMOGRAPHICS: ("patient_name",),
        BILLING: (
            *PLACEMENT_ROW_FIELDS,
            "delinquent_since",
            "first_service_on",
            "last_service_on",
            "last_payment_on",
            "write_off",
            "recalled_by",
            "recall_file",
            "payments",
            "direct_payments",
        ),
    }

    class Meta:
        model = Placement

    @extend_schema_field(AgencyPaymentOutput(many=True))
    def get_payments(self, placement) -> list[dict]:
        return AgencyPaymentOutput(placement.payments.all(), many=True, context=self.context).data

    @extend_schema_field(DirectPaymentOutput(many=True))
    def get_direct_payments(self, placement) -> list[dict]:
        return DirectPaymentOutput(placement.direct_payments.all(), many=True, context=self.context).data


class PlacementBatchOutput(FieldGroupSerializerMixin, serializers.ModelSerializer):
    """One batch placed with an agency: how many accounts for how much, how many are still there,
    and the placement file sent (its download is audited)."""

    agency_name = serializers.CharField(source="agency.name", read_only=True)
    placed_by = serializers.SlugRelatedField(slug_field="username", read_only=True)
    still_placed = serializers.IntegerField(read_only=True, help_text="Of its accounts, how many are still placed.")
    file_url = serializers.SerializerMethodField(help_text="The placement file as sent to the agency.")

    field_groups = {
        BILLING: (
            "id",
            "practice",
            "agency",
            "agency_name",
            "placed_on",
            "account_count",
            "total",
            "still_placed",
            "bad_debt_written_off",
            "placed_by",
            "placed_at",
            "file_url",
        )
    }

    class Meta:
        model = PlacementBatch

    def get_file_url(self, batch) -> str | None:
        return reverse("api-agency-file", args=[batch.file_id]) if batch.file_id else None


class PlacementBatchDetailOutput(PlacementBatchOutput):
    """One placement batch with each account placed in it, by account number."""

    placements = serializers.SerializerMethodField()

    field_groups = {BILLING: (*PlacementBatchOutput.field_groups[BILLING], "placements")}

    class Meta:
        model = PlacementBatch

    @extend_schema_field(PlacementRowOutput(many=True))
    def get_placements(self, batch) -> list[dict]:
        return PlacementRowOutput(self.context["placements"], many=True, context=self.context).data


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
    """GET (Medium and up): the placements of your practices, newest first. POST (Management): place
    accounts with an agency in two steps. Send `accounts` alone: the preview (how many may go, their
    total and agency per practice, the ones left out and why, and a fingerprint). Send the same
    `accounts` with that `fingerprint`: they are placed, or none if anything changed."""

    field_group = BILLING
    pagination_class = StrictPageNumberPagination
    filterset_class = PlacementFilter

    @extend_schema(
        summary="List the placements with agencies",
        description="Newest first. Filter by agency, practice, account, status and the date placed.",
        responses={200: PlacementRowOutput(many=True), 403: REFUSED_403},
    )
    def get(self, request):
        page = self.paginate(self.filter(selectors.placement_list(user=request.user)))
        context = {"request": request}
        data = PlacementRowOutput(page, many=True, context=context).data
        audit_reads(user=request.user, objects=page, field_groups=context.get("field_groups_shown", set()))
        return self.paginated_response(data)

    @extend_schema(
        summary="Preview, then place, a batch of accounts (Management)",
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
        check_field_group(request.user, MANAGEMENT)
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


class PlacementDetailApi(Api):
    """One placement with what came back: the agency's payments and those made to the practice."""

    field_group = BILLING

    @extend_schema(
        summary="One placement with its payments",
        responses={200: PlacementDetailOutput, 403: REFUSED_403, 404: NOT_FOUND_404},
    )
    def get(self, request, pk):
        placement = selectors.placement_detail(user=request.user, placement_id=pk)
        context = {"request": request}
        data = PlacementDetailOutput(placement, context=context).data
        audit_read(
            user=request.user,
            obj=placement,
            field_groups=context.get("field_groups_shown", set()),
            detail={"account_id": placement.account_id},
        )
        return Response(data)


class PlacementBatchListApi(Api):
    field_group = MANAGEMENT
    pagination_class = StrictPageNumberPagination

    @extend_schema(
        summary="List the batches placed with agencies (Management)",
        description="Newest first: each batch's agency, accounts, total and how many are still placed. "
        "No patient is named, so the list is not a PHI read.",
        responses={200: PlacementBatchOutput(many=True), 403: REFUSED_403},
    )
    def get(self, request):
        page = self.paginate(selectors.batch_list(user=request.user))
        return self.paginated_response(PlacementBatchOutput(page, many=True, context={"request": request}).data)


class PlacementBatchDetailApi(Api):
    field_group = MANAGEMENT

    @extend_schema(
        summary="One batch placed with an agency, with its accounts (Management)",
        responses={200: PlacementBatchDetailOutput, 403: REFUSED_403, 404: NOT_FOUND_404},
    )
    def get(self, request, pk):
        batch = selectors.batch_with_placements(user=request.user, batch_id=pk)
        placements = batch.placement_rows
        context = {"request": request, "placements": placements}
        data = PlacementBatchDetailOutput(batch, context=context).data
        audit_reads(user=request.user, objects=placements, field_groups=context.get("field_groups_shown", set()))
        return Response(data)


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
    """GET: what agencies collected, newest first. POST: post what an agency collected: its payment
    file (multipart `agency` and `file`; refused whole, naming the line, unless it reconciles; the
    same file again posts nothing), or one payment by hand (`placement`, `paid_on`, `gross`, optional
    `commission`, and the agency's `reference`)."""

    field_group = MANAGEMENT
    parser_classes = [JSONParser, FormParser, MultiPartParser]
    pagination_class = StrictPageNumberPagination
    filterset_class = AgencyPaymentFilter

    @extend_schema(
        summary="List what agencies collected",
        description="Newest payment first: gross, commission and net of each. Filter by agency, practice, "
        "placement and the date paid.",
        responses={200: AgencyPaymentOutput(many=True), 403: REFUSED_403},
    )
    def get(self, request):
        page = self.paginate(self.filter(selectors.agency_payment_list(user=request.user)))
        context = {"request": request}
        data = AgencyPaymentOutput(page, many=True, context=context).data
        audit_reads(user=request.user, objects=page, field_groups=context.get("field_groups_shown", set()))
        return self.paginated_response(data)

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
