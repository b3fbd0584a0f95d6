"""REST API for statements and letters: an account's statements and letters (paged, newest first),
one statement's PDF as it was sent (audited), and the print batches (Management: counts, the
accounts left out by reason, print progress, and a batch's statements). Medium reads statements;
another practice's account, statement or batch is a 404."""

from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_field
from rest_framework import serializers
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.response import Response

from accounts.selectors import account_get
from core.access import FieldGroup
from core.api_support import Api, FieldGroupSerializerMixin, StrictPageNumberPagination
from core.audit import audit_read, audit_reads
from reports.models import Statement, StatementBatch
from reports.statements import batch_selectors
from reports.statements.files import statement_pdf_response
from reports.statements.filters import StatementBatchFilter
from reports.statements.selectors import statement_get, statement_list_for_account

BILLING = FieldGroup.BILLING
MANAGEMENT = FieldGroup.MANAGEMENT
REFUSED_400 = OpenApiResponse(description="A page number that is not a whole number of at least 1.")
REFUSED_403 = OpenApiResponse(description="Your access tier does not include statements.")
NOT_FOUND_404 = OpenApiResponse(description="An account or statement outside your practices, or a page past the last.")


class StatementOutput(FieldGroupSerializerMixin, serializers.ModelSerializer):
    """A statement or letter as the account's list shows it (the document's own fields are in the PDF)."""

    has_document = serializers.SerializerMethodField(
        help_text="Whether the PDF is stored; GET the pdf URL either way (it is rendered when missing)."
    )
    field_groups = {
        BILLING: (
            "id",
            "account",
            "practice",
            "batch",
            "kind",
            "recipient",
            "channel",
            "dunning_level",
            "statement_date",
            "amount_due",
            "pay_by",
            "mailed_on",
            "page_count",
            "has_document",
            "created_at",
        )
    }

    class Meta:
        model = Statement

    def get_has_document(self, statement) -> bool:
        return bool(statement.document)


class AccountStatementsApi(Api):
    field_group = BILLING
    pagination_class = StrictPageNumberPagination

    @extend_schema(
        summary="An account's statements and letters",
        description="Newest first: those filed under the account and a guarantor's statements that cover it.",
        responses={200: StatementOutput(many=True), 400: REFUSED_400, 403: REFUSED_403, 404: NOT_FOUND_404},
    )
    def get(self, request, pk):
        account = account_get(user=request.user, account_id=pk)
        page = self.paginate(statement_list_for_account(user=request.user, account=account))
        audit_reads(user=request.user, objects=page, field_groups={BILLING})
        return self.paginated_response(StatementOutput(page, many=True, context={"request": request}).data)


class StatementDetailApi(Api):
    field_group = BILLING

    @extend_schema(
        summary="One statement or letter",
        description="What was sent, to whom, when and for how much; its PDF is at the `pdf` URL.",
        responses={200: StatementOutput, 403: REFUSED_403, 404: NOT_FOUND_404},
    )
    def get(self, request, pk):
        statement = statement_get(user=request.user, statement_id=pk)
        audit_read(
            user=request.user, obj=statement, field_groups={BILLING}, detail={"account_id": statement.account_id}
        )
        return self.respond(StatementOutput, statement)


class PdfRenderer(BaseRenderer):
    """Lets a client ask for `Accept: application/pdf` (DRF would answer 406 before the view ran).
    The view answers the PDF itself; a refusal still answers JSON to a client that accepts it."""

    media_type = "application/pdf"
    format = "pdf"
    charset = None
    render_style = "binary"

    def render(self, data, accepted_media_type=None, renderer_context=None):
        return JSONRenderer().render(data, renderer_context=renderer_context)


class StatementPdfApi(Api):
    field_group = BILLING
    renderer_classes = [JSONRenderer, PdfRenderer]

    @extend_schema(
        summary="A statement or letter as a PDF",
        description="The document as it was sent, named by the statement's number (audited).",
        responses={
            (200, "application/pdf"): OpenApiResponse(OpenApiTypes.BINARY, description="The PDF."),
            403: REFUSED_403,
            404: NOT_FOUND_404,
        },
    )
    def get(self, request, pk):
        statement = statement_get(user=request.user, statement_id=pk)
        response = statement_pdf_response(statement)
        audit_read(
            user=request.user,
            obj=statement,
            field_groups={FieldGroup.DEMOGRAPHICS, BILLING},
            detail={"account_id": statement.account_id, "kind": statement.kind, "document": "statement_pdf"},
        )
        return response


# --- Statement batches (Management) ----------------------------------------------------------------


class SuppressedOutput(serializers.Serializer):
    reason = serializers.CharField(help_text="Why the cycle left these accounts out, in words.")
    count = serializers.IntegerField(min_value=1)


class StatementBatchOutput(FieldGroupSerializerMixin, serializers.ModelSerializer):
    """A print run: the statements and letters the cycle produced for a practice on a date (or a
    manager's letters), the accounts it left out by reason, and how far printing has got."""

    suppressed = serializers.SerializerMethodField()
    suppressed_total = serializers.SerializerMethodField(help_text="How many accounts the cycle left out.")
    percent_done = serializers.SerializerMethodField(help_text="Chunks printed, as a whole percent.")
    has_print_file = serializers.SerializerMethodField(help_text="Whether the merged print file is ready.")
    print_file_url = serializers.SerializerMethodField(help_text="The merged print file's page (audited download).")
    created_by = serializers.SlugRelatedField(slug_field="username", read_only=True)

    field_groups = {
        MANAGEMENT: (
            "id",
            "practice",
            "kind",
            "run_on",
            "status",
            "statement_count",
            "total_amount",
            "suppressed",
            "suppressed_total",
            "chunk_count",
            "chunks_done",
            "percent_done",
            "page_count",
            "error",
            "has_print_file",
            "print_file_url",
            "created_by",
            "created_at",
            "printed_at",
        )
    }

    class Meta:
        model = StatementBatch

    @staticmethod
    def _suppressed_rows(batch) -> list[dict]:
        return [{"reason": reason, "count": count} for reason, count in (batch.suppressed or {}).items() if count]

    @extend_schema_field(SuppressedOutput(many=True))
    def get_suppressed(self, batch) -> list[dict]:
        return self._suppressed_rows(batch)

    def get_suppressed_total(self, batch) -> int:
        return sum(row["count"] for row in self._suppressed_rows(batch))

    def get_percent_done(self, batch) -> int:
        return int(100 * batch.chunks_done / batch.chunk_count) if batch.chunk_count else 0

    def get_has_print_file(self, batch) -> bool:
        return bool(batch.print_file)

    def get_print_file_url(self, batch) -> str | None:
        return reverse("statement-batch-print-file", args=[batch.pk]) if batch.print_file else None


class StatementBatchDetailOutput(StatementBatchOutput):
    """One print batch with its first statements by number (`statements_shown` of `statement_count`)."""

    statements = serializers.SerializerMethodField()
    statements_shown = serializers.SerializerMethodField()

    field_groups = {MANAGEMENT: (*StatementBatchOutput.field_groups[MANAGEMENT], "statements", "statements_shown")}

    class Meta:
        model = StatementBatch

    @extend_schema_field(StatementOutput(many=True))
    def get_statements(self, batch) -> list[dict]:
        return StatementOutput(self.context["statements"], many=True, context=self.context).data

    def get_statements_shown(self, batch) -> int:
        return len(self.context["statements"])


class StatementBatchListApi(Api):
    field_group = MANAGEMENT
    pagination_class = StrictPageNumberPagination
    filterset_class = StatementBatchFilter

    @extend_schema(
        summary="List the statement print batches",
        description="Newest business date first. Counts, total, the accounts left out by reason and print "
        "progress; no patient is named, so the list is not a PHI read.",
        responses={
            200: StatementBatchOutput(many=True),
            403: OpenApiResponse(description="Statement batches are for Management and up."),
        },
    )
    def get(self, request):
        page = self.paginate(self.filter(batch_selectors.batch_list(user=request.user)))
        return self.paginated_response(StatementBatchOutput(page, many=True, context={"request": request}).data)


class StatementBatchDetailApi(Api):
    field_group = MANAGEMENT

    @extend_schema(
        summary="One statement print batch with its statements",
        description=f"The batch and its first {batch_selectors.BATCH_STATEMENTS_SHOWN} statements by number "
        "(each statement shown is audited).",
        responses={
            200: StatementBatchDetailOutput,
            403: OpenApiResponse(description="Statement batches are for Management and up."),
            404: OpenApiResponse(description="A batch outside your practices."),
        },
    )
    def get(self, request, pk):
        batch = batch_selectors.batch_get(user=request.user, batch_id=pk)
        statements = batch_selectors.batch_statements(batch=batch)
        data = StatementBatchDetailOutput(batch, context={"request": request, "statements": statements}).data
        audit_reads(user=request.user, objects=statements, field_groups={BILLING, MANAGEMENT})
        return Response(data)
