"""REST API for uploaded imports (Management and up): upload a file to import in the background,
then follow it to its report, the same summary `manage.py import_* --json` prints."""

from django.urls import reverse
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import exceptions, serializers, status
from rest_framework.parsers import FormParser, MultiPartParser

from core.access import FieldGroup
from core.api_support import Api, FieldGroupSerializerMixin, StrictPageNumberPagination
from core.audit import audit_read, audit_reads
from core.models import MAX_ID
from imports import selectors, services
from imports.models import ImportUpload
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
