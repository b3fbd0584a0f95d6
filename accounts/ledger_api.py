"""REST API for one ledger row and its correction: read a transaction, and reverse it (Management
and up) with accounts.services.transaction_reverse, which appends the negating row (the ledger is
append-only: the original is never changed) and moves the stored balances back.

A write-off is not reversed here: its write-off request records the reversal
(`POST /api/writeoffs/{id}/reverse/`), and a reversal is never reversed (post the row again).
"""

from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_serializer
from rest_framework import serializers, status
from rest_framework.response import Response

from accounts.models import Transaction
from accounts.selectors import transaction_get
from accounts.serializers import TransactionOutput
from accounts.services import transaction_reverse
from core.access import FieldGroup, check_field_group
from core.api_support import Api
from core.audit import audit_read
from core.errors import ApplicationError

BILLING = FieldGroup.BILLING
MESSAGE_WRITE_OFF_FROM_REQUEST = "A write-off is reversed from its write-off request, so the request shows it."


@extend_schema_serializer(component_name="TransactionDetail")
class TransactionDetailOutput(TransactionOutput):
    """One ledger row with its account and the account's patient balance now. Amounts are signed:
    a charge is positive, a payment or adjustment negative."""

    account_number = serializers.CharField(source="account.account_number", read_only=True)
    account_patient_balance = serializers.DecimalField(
        source="account.patient_balance",
        max_digits=12,
        decimal_places=2,
        read_only=True,
        help_text="The account's patient balance now (after this row and every other).",
    )

    field_groups = {
        BILLING: (
            "id",
            "account",
            "account_number",
            "account_patient_balance",
            *TransactionOutput.field_groups[BILLING][1:],
        ),
    }

    class Meta:
        model = Transaction


class TransactionReverseInput(serializers.Serializer):
    reason = serializers.CharField(
        max_length=200, help_text="Why the row is reversed, in words (kept on the reversal row as its memo)."
    )


class TransactionDetailApi(Api):
    """One ledger row: its kind, amounts, visit, who posted it, and what reverses it."""

    field_group = BILLING

    @extend_schema(summary="One ledger transaction", responses=TransactionDetailOutput)
    def get(self, request, pk):
        row = transaction_get(user=request.user, transaction_id=pk)
        context = {"request": request}
        data = TransactionDetailOutput(row, context=context).data
        audit_read(
            user=request.user,
            obj=row.account,
            field_groups=context.get("field_groups_shown", set()),
            detail={"transaction_id": row.pk},
        )
        return Response(data)


class TransactionReverseApi(Api):
    """Reverse a ledger row (Management and up): a new reversal row negates it and the balances move
    back; the original stays as it was. A payment's bad-debt recovery is reversed with it."""

    field_group = FieldGroup.MANAGEMENT

    @extend_schema(
        summary="Reverse a ledger transaction (Management)",
        request=TransactionReverseInput,
        responses={
            201: OpenApiResponse(TransactionDetailOutput, description="The reversal row."),
            400: OpenApiResponse(
                description="No reason, or a row that is already reversed, is itself a reversal, or is a "
                "write-off (reverse it from its write-off request)."
            ),
        },
    )
    def post(self, request, pk):
        check_field_group(request.user, FieldGroup.MANAGEMENT)
        row = transaction_get(user=request.user, transaction_id=pk)
        data = self.valid_body(TransactionReverseInput)
        if row.kind == Transaction.Kind.WRITE_OFF:
            raise ApplicationError(MESSAGE_WRITE_OFF_FROM_REQUEST)
        reversal = transaction_reverse(acting_user=request.user, transaction_id=row.pk, reason=data["reason"])
        reversal = transaction_get(user=request.user, transaction_id=reversal.pk)
        return self.respond(TransactionDetailOutput, reversal, status_code=status.HTTP_201_CREATED)
