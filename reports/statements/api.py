"""REST API for statements and letters: an account's statements and letters (paged, newest first)
and one statement's PDF as it was sent (audited). Medium reads; another practice's account or
statement is a 404."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.renderers import BaseRenderer, JSONRenderer

from accounts.selectors import account_get
from core.access import FieldGroup
from core.api_support import Api, FieldGroupSerializerMixin, StrictPageNumberPagination
from core.audit import audit_read, audit_reads
from reports.models import Statement
from reports.statements.files import statement_pdf_response
from reports.statements.selectors import statement_get, statement_list_for_account

BILLING = FieldGroup.BILLING
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
