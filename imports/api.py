"""REST API for uploaded imports (Management and up): upload a file to import in the background,
then follow it to its report, the same summary `manage.py import_* --json` prints. And the review
list of remittance claims that matched no claim: read it, and resolve each entry."""

from django.urls import reverse
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_field
from rest_framework import exceptions, serializers, status
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.response import Response

from core.access import FieldGroup
from core.api_support import Api, FieldGroupSerializerMixin, StrictPageNumberPagination
from core.audit import audit_read, audit_reads
from core.models import MAX_ID
from imports import selectors, services
from imports.models import ImportUpload, UnmatchedClaim
from imports.uploads import too_large_message, upload_body_too_large

MANAGEMENT = FieldGroup.MANAGEMENT
REFUSED_400 = OpenApiResponse(description="Refused: the field named says why; nothing was kept or imported.")
REFUSED_403 = OpenApiResponse(description="Your access tier may not import files (Management and up).")
NOT_FOUND_404 = OpenApiResponse(description="No upload of that id in your practices.")
TOO_LARGE_413 = OpenApiResponse(description="The body is larger than an import file may be; nothing was read.")

# --- Input -------------------------------------------------------------------------------------------


class ImportUploadInput(serializers.Serializer):
    practice = serializers.IntegerField(min_value=1, max_value=MAX_ID, help_text="One of your practices.")
    kind = serializers.ChoiceField(choices=ImportUpload.Kind.choices)
    file = serializers.FileField(
        allow_empty_file=True, help_text="The X12 or CSV file, or for `synthea` a .zip of Synthea's CSV files."
    )
    cutoff = serializers.DateField(required=False, help_text="`synthea` only (required there): nothing dated after it.")


class ImportUploadQueryInput(serializers.Serializer):
    practice = serializers.IntegerField(min_value=1, max_value=MAX_ID, required=False)
    status = serializers.ChoiceField(choices=ImportUpload.Status.choices, required=False)
    page = serializers.IntegerField(min_value=1, required=False)
    page_size = serializers.IntegerField(min_value=1, max_value=200, required=False)


# --- Output ------------------------------------------------------------------------------------------


class AdjustmentTotalsOutput(serializers.Serializer):
    CO = serializers.CharField(help_text="Contractual obligation, a decimal string.")
    PR = serializers.CharField(help_text="Patient responsibility, a decimal string.")
    OA = serializers.CharField(help_text="Other adjustments, a decimal string.")
    PI = serializers.CharField(help_text="Payer initiated, a decimal string.")


class UnmatchedEntryOutput(serializers.Serializer):
    file = serializers.CharField()
    segment = serializers.IntegerField(help_text="Segment number of the CLP in the file.")
    patient_control_number = serializers.CharField()
    paid = serializers.CharField(help_text="CLP04, a decimal string.")
    new = serializers.BooleanField(help_text="False when the review list already held it.")


class RejectOutput(serializers.Serializer):
    file = serializers.CharField()
    reason = serializers.CharField()
    segment = serializers.IntegerField(required=False, help_text="X12: the segment number.")
    line = serializers.IntegerField(required=False, help_text="CSV: the line number (the header is line 1).")


class ImportSummaryOutput(serializers.Serializer):
    """What `manage.py import_x12/import_csv/import_synthea --json` prints for the same file."""

    files = serializers.IntegerField()
    files_already_imported = serializers.IntegerField()
    files_refused = serializers.IntegerField()
    claims = serializers.IntegerField()
    claims_posted = serializers.IntegerField()
    claims_unchanged = serializers.IntegerField()
    claims_reversed = serializers.IntegerField()
    claims_created = serializers.IntegerField()
    patients_created = serializers.IntegerField()
    accounts_created = serializers.IntegerField()
    encounters_created = serializers.IntegerField()
    appointments_created = serializers.IntegerField()
    rows = serializers.IntegerField()
    postings = serializers.IntegerField()
    payments = serializers.CharField(help_text="Insurance payments, a decimal string.")
    adjustments = AdjustmentTotalsOutput(help_text="By group, as the files say.")
    adjustments_posted = AdjustmentTotalsOutput(help_text="By group, posted (matched claims only).")
    provider_adjustments = serializers.IntegerField()
    unmatched_claims = UnmatchedEntryOutput(many=True)
    rejects = RejectOutput(many=True)
    warnings = serializers.ListField(child=serializers.CharField())
    messages = serializers.ListField(
        child=serializers.CharField(), help_text='"already imported on ...; nothing changed".'
    )


class ImportUploadOutput(FieldGroupSerializerMixin, serializers.ModelSerializer):
    """An uploaded import: `status` queued, running, done or failed; `stage` and `progress_done` of
    `progress_total` while it runs; `summary` once it ran; `error` in words when it failed."""

    practice = serializers.IntegerField(source="practice_id")
    uploaded_by = serializers.CharField(source="uploaded_by.username")
    percent = serializers.IntegerField(help_text="0 to 100.")
    summary = ImportSummaryOutput(source="summary_or_none", allow_null=True)
    status_url = serializers.SerializerMethodField(help_text="GET it for the status and, once done, the report.")

    field_groups = {
        MANAGEMENT: (
            "id",
            "practice",
            "kind",
            "file_name",
            "size",
            "cutoff",
            "status",
            "stage",
            "progress_done",
            "progress_total",
            "percent",
            "summary",
            "error",
            "uploaded_by",
            "uploaded_at",
            "started_at",
            "finished_at",
            "status_url",
        )
    }

    class Meta:
        model = ImportUpload

    def get_status_url(self, upload) -> str:
        return reverse("api-import-detail", args=[upload.pk])


# --- Views -------------------------------------------------------------------------------------------


class UploadTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_code = "upload_too_large"


class ImportUploadListApi(Api):
    """GET: your practices' uploaded imports, newest first. POST (multipart): upload a file to import;
    it answers 202 at once with the upload and its `status_url`, and the import runs in the
    background. A file the import would refuse whole (too large, empty, the wrong type or kind, a CSV
    without its required columns, a .zip without Synthea's files) is a 400 naming the field, and
    nothing is kept. The same file again imports as "already imported; nothing changed"."""

    field_group = MANAGEMENT
    pagination_class = StrictPageNumberPagination
    parser_classes = [MultiPartParser, FormParser]

    def initial(self, request, *args, **kwargs):
        # Before authentication: its CSRF check reads the body, and a multipart body is streamed to
        # disk whole. A body no import file and its fields can make is refused unread.
        if request.method == "POST" and upload_body_too_large(request):
            raise UploadTooLarge(too_large_message())
        super().initial(request, *args, **kwargs)

    @extend_schema(
        summary="Your practices' uploaded imports",
        parameters=[ImportUploadQueryInput],
        responses={200: ImportUploadOutput(many=True), 400: REFUSED_400, 403: REFUSED_403},
    )
    def get(self, request):
        query = self.valid_query(ImportUploadQueryInput)
        queryset = selectors.import_upload_list(
            user=request.user, practice_id=query.get("practice"), status=query.get("status", "")
        )
        page = self.paginate(queryset)
        audit_reads(user=request.user, objects=page, field_groups={MANAGEMENT})
        return self.paginated_response(ImportUploadOutput(page, many=True, context={"request": request}).data)

    @extend_schema(
        summary="Upload a file to import in the background",
        request={"multipart/form-data": ImportUploadInput},
        responses={
            202: OpenApiResponse(ImportUploadOutput, description="Queued: follow `status_url`."),
            400: REFUSED_400,
            403: REFUSED_403,
            413: TOO_LARGE_413,
        },
    )
    def post(self, request):
        data = self.valid_body(ImportUploadInput)
        upload = services.import_upload_create(
            acting_user=request.user,
            practice_id=data["practice"],
            kind=data["kind"],
            upload=data["file"],
            cutoff=data.get("cutoff"),
        )
        response = self.respond(ImportUploadOutput, upload, status_code=status.HTTP_202_ACCEPTED)
        response["Location"] = reverse("api-import-detail", args=[upload.pk])
        return response


class ImportUploadDetailApi(Api):
    """One uploaded import: its status and progress, and once it ran, its report."""

    field_group = MANAGEMENT

    @extend_schema(
        summary="An uploaded import's progress and report",
        responses={200: ImportUploadOutput, 403: REFUSED_403, 404: NOT_FOUND_404},
    )
    def get(self, request, pk):
        upload = selectors.import_upload_get(user=request.user, upload_id=pk)
        audit_read(user=request.user, obj=upload, field_groups={MANAGEMENT}, detail={"status": upload.status})
        return self.respond(ImportUploadOutput, upload)


# --- The review list of remittance claims that matched no claim --------------------------------------

UNMATCHED_NOT_FOUND_404 = OpenApiResponse(description="No entry of that id on your practices' review list.")
UNMATCHED_REFUSED_403 = OpenApiResponse(
    description="Your access tier may not see or resolve the review list (Management and up)."
)
UNMATCHED_REFUSED_400 = OpenApiResponse(
    description="Refused: `claim` (not a claim of the entry's practice, or its payment does not balance) "
    "or `note` (needed to close without a claim) says why; nothing was posted."
)


class UnmatchedQueryInput(serializers.Serializer):
    status = serializers.ChoiceField(
        choices=selectors.UNMATCHED_STATUSES,
        required=False,
        help_text="`open` (the default): waiting, oldest first; `resolved`: latest resolved first.",
    )
    practice = serializers.IntegerField(min_value=1, max_value=MAX_ID, required=False)
    page = serializers.IntegerField(min_value=1, required=False)
    page_size = serializers.IntegerField(min_value=1, max_value=200, required=False)


class UnmatchedResolveInput(serializers.Serializer):
    claim = serializers.IntegerField(
        min_value=1, max_value=MAX_ID, required=False, help_text="Post the payment to this claim of the practice."
    )
    note = serializers.CharField(
        max_length=200,
        required=False,
        allow_blank=True,
        help_text="Why it is closed without a claim (required without `claim`): not our patient, sent back to payer.",
    )


class RemittanceOutput(serializers.Serializer):
    payer_name = serializers.CharField()
    payer_key = serializers.CharField(help_text="TRN03, else the payer's name.")
    trace_number = serializers.CharField(help_text="TRN02: the check or EFT trace number.")
    payment_method = serializers.CharField(help_text="BPR04: CHK, ACH, NON...")
    payment_amount = serializers.DecimalField(max_digits=12, decimal_places=2)
    paid_on = serializers.DateField(allow_null=True)


class SuggestedClaimOutput(serializers.Serializer):
    claim = serializers.IntegerField(source="claim.pk")
    account = serializers.IntegerField(source="claim.account_id")
    account_number = serializers.CharField(source="claim.account.account_number")
    patient_control_number = serializers.CharField(source="claim.patient_control_number")
    date_of_service = serializers.DateField(source="claim.encounter.date_of_service")
    billed_amount = serializers.DecimalField(source="claim.billed_amount", max_digits=12, decimal_places=2)
    payer_name = serializers.CharField(source="claim.payer_name")
    reason = serializers.CharField(help_text="Why it is suggested, in words.")


class UnmatchedClaimOutput(FieldGroupSerializerMixin, serializers.ModelSerializer):
    """A remittance claim that matched no claim of its practice: what the payer sent, and once
    resolved, who resolved it, when, and to which claim (or with which note)."""

    remittance = RemittanceOutput()
    adjustments = AdjustmentTotalsOutput(source="adjustment_totals", help_text="By group, as the payer sent them.")
    status = serializers.SerializerMethodField(help_text="`open` or `resolved`.")
    resolved_by = serializers.CharField(source="resolved_by.username", allow_null=True, default=None)
    matched_account = serializers.IntegerField(source="matched_claim.account_id", allow_null=True, default=None)
    url = serializers.SerializerMethodField()

    field_groups = {
        MANAGEMENT: (
            "id",
            "practice",
            "remittance",
            "patient_control_number",
            "payer_claim_number",
            "claim_status",
            "charge_amount",
            "paid_amount",
            "patient_responsibility",
            "patient_last_name",
            "patient_first_name",
            "member_id",
            "service_date",
            "adjustments",
            "status",
            "resolved_at",
            "resolved_by",
            "resolution_note",
            "matched_claim",
            "matched_account",
            "url",
        )
    }

    class Meta:
        model = UnmatchedClaim

    def get_status(self, entry) -> str:
        return selectors.UNMATCHED_RESOLVED if entry.resolved_at else selectors.UNMATCHED_OPEN

    def get_url(self, entry) -> str:
        return reverse("api-import-unmatched-detail", args=[entry.pk])


class UnmatchedClaimDetailOutput(UnmatchedClaimOutput):
    suggestions = serializers.SerializerMethodField(
        help_text="While open: claims of the practice it may belong to, best first (at most 10)."
    )

    field_groups = {MANAGEMENT: (*UnmatchedClaimOutput.field_groups[MANAGEMENT], "suggestions")}

    class Meta:
        model = UnmatchedClaim

    @extend_schema_field(SuggestedClaimOutput(many=True))
    def get_suggestions(self, entry) -> list:
        return SuggestedClaimOutput(self.context.get("suggestions", []), many=True).data


class UnmatchedListApi(Api):
    """Your practices' review list of remittance claims that matched no claim: waiting ones (the
    default, oldest first) or resolved ones (`status=resolved`, latest first)."""

    field_group = MANAGEMENT
    pagination_class = StrictPageNumberPagination

    @extend_schema(
        summary="Your practices' remittance claims to review",
        parameters=[UnmatchedQueryInput],
        responses={200: UnmatchedClaimOutput(many=True), 403: UNMATCHED_REFUSED_403},
    )
    def get(self, request):
        query = self.valid_query(UnmatchedQueryInput)
        entries = selectors.unmatched_claim_list(
            user=request.user,
            status=query.get("status", selectors.UNMATCHED_OPEN),
            practice_id=query.get("practice"),
        )
        page = self.paginate(entries)
        audit_reads(user=request.user, objects=page, field_groups={MANAGEMENT})
        return self.paginated_response(UnmatchedClaimOutput(page, many=True, context={"request": request}).data)


class UnmatchedDetailApi(Api):
    """One remittance claim of the review list, with the claims it may belong to while it waits."""

    field_group = MANAGEMENT

    @extend_schema(
        summary="A remittance claim to review, with suggested claims",
        responses={200: UnmatchedClaimDetailOutput, 403: UNMATCHED_REFUSED_403, 404: UNMATCHED_NOT_FOUND_404},
    )
    def get(self, request, pk):
        entry = selectors.unmatched_claim_get(user=request.user, unmatched_id=pk)
        suggestions = [] if entry.resolved_at else selectors.unmatched_claim_suggestions(entry=entry)
        detail = {"suggested_claim_ids": [suggestion.claim.pk for suggestion in suggestions]}
        audit_read(user=request.user, obj=entry, field_groups={MANAGEMENT}, detail=detail)
        context = {"request": request, "suggestions": suggestions}
        return Response(UnmatchedClaimDetailOutput(entry, context=context).data)


class UnmatchedResolveApi(Api):
    """Resolve a remittance claim of the review list: `{"claim": id}` posts its payment to that
    claim of the practice exactly as the import would have; `{"note": "..."}` closes it without a
    claim. A resolved entry stays as it was: resolving it again changes nothing and answers it."""

    field_group = MANAGEMENT

    @extend_schema(
        summary="Post a remittance claim to a claim, or close it with a note",
        request=UnmatchedResolveInput,
        responses={
            200: UnmatchedClaimOutput,
            400: UNMATCHED_REFUSED_400,
            403: UNMATCHED_REFUSED_403,
            404: UNMATCHED_NOT_FOUND_404,
        },
    )
    def post(self, request, pk):
        data = self.valid_body(UnmatchedResolveInput)
        entry = services.unmatched_claim_resolve(
            acting_user=request.user, unmatched_id=pk, claim_id=data.get("claim"), note=data.get("note", "")
        )
        entry = selectors.unmatched_claim_get(user=request.user, unmatched_id=entry.pk)
        return self.respond(UnmatchedClaimOutput, entry)
