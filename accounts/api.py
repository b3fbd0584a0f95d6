"""REST API for practices, patients, accounts and the ledger (read endpoints).

Thin views: validate the query string, ask a selector (already scoped to the user's practices),
render with a serializer that drops the field groups the tier may not see, write the audit rows.
Each view declares its `field_group`; core.access.FieldGroupPermission checks it (403),
selectors raise 404 for records outside the user's practices.

`queryset = X.objects.none()` on each view only tells the schema generator the model; requests
never use it, so a forgotten override shows nothing rather than everything.
"""

from django.contrib.auth import authenticate, user_logged_in
from django.contrib.auth.views import redirect_to_login
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView
from rest_framework import exceptions, status
from rest_framework.authtoken.models import Token
from rest_framework.generics import ListAPIView, RetrieveAPIView
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.models import Patient, PatientAccount, Practice, Transaction
from accounts.selectors import (
    AccountSearch,
    account_aging_today,
    account_get,
    account_ledger,
    account_search,
    patient_get,
    patient_search,
    patient_upcoming_appointments,
    practice_get,
    practice_list,
)
from accounts.serializers import (
    ACCOUNT_ORDERINGS,
    AccountDetailSerializer,
    AccountFilterSerializer,
    AccountListSerializer,
    PatientDetailSerializer,
    PatientFilterSerializer,
    PatientListSerializer,
    PracticeSerializer,
    TokenInputSerializer,
    TokenOutputSerializer,
    TransactionSerializer,
)
from core.access import FieldGroup, FieldGroupPermission, scope_to_user
from core.audit import audit_read, audit_reads
from core.errors import ApplicationError
from core.models import AuditEvent

MESSAGE_BAD_CREDENTIALS = "Unable to sign in with that username and password."
MESSAGE_LOCKED_OUT = "Too many failed sign-in attempts. Try again later or ask an administrator."


def _valid_filters(serializer_class, request) -> dict:
    filters = serializer_class(data=request.query_params, context={"request": request})
    filters.is_valid(raise_exception=True)
    return filters.validated_data


def _shown(context) -> set:
    """The field groups a rendered response showed (empty when a page had no rows)."""
    return context.get("field_groups_shown", set())


# --- Schema, docs, token -----------------------------------------------------------------------


class SchemaApi(SpectacularAPIView):
    """The OpenAPI 3 schema. Signed-in staff only: it describes PHI fields."""

    field_group = FieldGroup.DEMOGRAPHICS
    permission_classes = [FieldGroupPermission]


class DocsApi(SpectacularSwaggerView):
    """Swagger UI, served from our own static files (drf-spectacular-sidecar)."""

    field_group = FieldGroup.DEMOGRAPHICS
    permission_classes = [FieldGroupPermission]

    def handle_exception(self, exc):
        # A person opening the docs in a browser is sent to sign in, not shown a bare 403.
        refused = isinstance(exc, exceptions.NotAuthenticated | exceptions.PermissionDenied)
        if refused and not self.request.user.is_authenticated:
            return redirect_to_login(self.request.get_full_path())
        return super().handle_exception(exc)


class TokenObtainApi(APIView):
    """Exchange a username and password for an API token.

    Public (no session, no token needed). Failures go through django-axes like the login page:
    they are counted and audited, and a locked-out username gets 429 even with the right password.
    """

    public = True  # the URL-walk test exempts views that say so
    field_group = None
    permission_classes = [AllowAny]
    authentication_classes = []

    @extend_schema(
        request=TokenInputSerializer,
        responses={
            200: TokenOutputSerializer,
            400: OpenApiResponse(description="Wrong username or password."),
            429: OpenApiResponse(description="Locked out after repeated failures."),
        },
        auth=[],
    )
    def post(self, request):
        credentials = TokenInputSerializer(data=request.data)
        credentials.is_valid(raise_exception=True)
        # The request goes to authenticate() so axes can count the failure and refuse a locked user.
        user = authenticate(request=request, **credentials.validated_data)
        if user is None:
            if getattr(request, "axes_locked_out", False):
                return Response({"detail": MESSAGE_LOCKED_OUT}, status=status.HTTP_429_TOO_MANY_REQUESTS)
            raise ApplicationError(MESSAGE_BAD_CREDENTIALS)
        token, _ = Token.objects.get_or_create(user=user)
        # A token is a sign-in: audit it and let axes reset the failure count, as a page login does.
        user_logged_in.send(sender=type(user), request=request, user=user)
        return Response(TokenOutputSerializer({"token": token.key}).data)


# --- Practices ---------------------------------------------------------------------------------


class PracticeListApi(ListAPIView):
    """The practices you work. Collection policy fields by tier."""

    field_group = FieldGroup.DEMOGRAPHICS
    serializer_class = PracticeSerializer
    queryset = Practice.objects.none()

    def list(self, request):
        page = self.paginate_queryset(practice_list(user=request.user))
        data = PracticeSerializer(page, many=True, context=self.get_serializer_context()).data
        return self.get_paginated_response(data)


class PracticeDetailApi(RetrieveAPIView):
    field_group = FieldGroup.DEMOGRAPHICS
    serializer_class = PracticeSerializer
    queryset = Practice.objects.none()

    def retrieve(self, request, pk):
        practice = practice_get(user=request.user, practice_id=pk)
        return Response(PracticeSerializer(practice, context=self.get_serializer_context()).data)


# --- Patients ----------------------------------------------------------------------------------


@extend_schema_view(get=extend_schema(parameters=[PatientFilterSerializer]))
class PatientListApi(ListAPIView):
    """Find patients by name, date of birth, phone or medical record number."""

    field_group = FieldGroup.DEMOGRAPHICS
    serializer_class = PatientListSerializer
    queryset = Patient.objects.none()

    def list(self, request):
        filters = _valid_filters(PatientFilterSerializer, request)
        patients = patient_search(
            user=request.user,
            query=filters.get("q", ""),
            practice_id=filters.get("practice"),
            date_of_birth=filters.get("date_of_birth"),
        )
        page = self.paginate_queryset(patients)
        context = self.get_serializer_context()
        data = PatientListSerializer(page, many=True, context=context).data
        action = AuditEvent.Action.SEARCH if filters.get("q") else AuditEvent.Action.VIEW
        audit_reads(user=request.user, objects=page, field_groups=_shown(context), action=action)
        return self.get_paginated_response(data)


class PatientDetailApi(RetrieveAPIView):
    """A patient's demographics, contact details, upcoming appointments and accounts (SSN: Director)."""

    field_group = FieldGroup.DEMOGRAPHICS
    serializer_class = PatientDetailSerializer
    queryset = Patient.objects.none()

    def retrieve(self, request, pk):
        patient = patient_get(user=request.user, patient_id=pk)
        accounts = scope_to_user(PatientAccount.objects.filter(patient=patient), request.user)
        context = {
            **self.get_serializer_context(),
            "upcoming_appointments": patient_upcoming_appointments(patient=patient),
            "accounts": accounts.order_by("account_number"),
        }
        data = PatientDetailSerializer(patient, context=context).data
        audit_read(user=request.user, obj=patient, field_groups=_shown(context))
        return Response(data)


# --- Accounts ----------------------------------------------------------------------------------


@extend_schema_view(get=extend_schema(parameters=[AccountFilterSerializer]))
class AccountListApi(ListAPIView):
    """Search and filter accounts. Balances, status and balance filters need a billing tier."""

    field_group = FieldGroup.DEMOGRAPHICS
    serializer_class = AccountListSerializer
    queryset = PatientAccount.objects.none()

    def list(self, request):
        filters = _valid_filters(AccountFilterSerializer, request)
        search = AccountSearch(
            query=filters.get("q", ""), practice_id=filters.get("practice"), status=filters.get("status", "")
        )
        accounts = account_search(user=request.user, search=search)
        if filters.get("min_patient_balance") is not None:
            accounts = accounts.filter(patient_balance__gte=filters["min_patient_balance"])
        accounts = accounts.order_by(*ACCOUNT_ORDERINGS[filters["ordering"]][0])
        page = self.paginate_queryset(accounts)
        context = self.get_serializer_context()
        data = AccountListSerializer(page, many=True, context=context).data
        action = AuditEvent.Action.SEARCH if filters.get("q") else AuditEvent.Action.VIEW
        audit_reads(user=request.user, objects=page, field_groups=_shown(context), action=action)
        return self.get_paginated_response(data)


class AccountDetailApi(RetrieveAPIView):
    """One account: demographics and the past-due flag for every tier; balances and aging by
    encounter for Medium and up."""

    field_group = FieldGroup.DEMOGRAPHICS
    serializer_class = AccountDetailSerializer
    queryset = PatientAccount.objects.none()

    def retrieve(self, request, pk):
        account = account_get(user=request.user, account_id=pk)
        context = {**self.get_serializer_context(), "aging": account_aging_today(account)}
        data = AccountDetailSerializer(account, context=context).data
        audit_read(user=request.user, obj=account, field_groups=_shown(context))
        return Response(data)


class AccountLedgerApi(ListAPIView):
    """The account's ledger in posting order (effective date, then id), paginated."""

    field_group = FieldGroup.BILLING
    serializer_class = TransactionSerializer
    queryset = Transaction.objects.none()

    def list(self, request, pk):
        account = account_get(user=request.user, account_id=pk)
        page = self.paginate_queryset(account_ledger(account=account).select_related("reversed_by"))
        data = TransactionSerializer(page, many=True, context=self.get_serializer_context()).data
        audit_read(
            user=request.user,
            obj=account,
            field_groups=[FieldGroup.BILLING],
            detail={"ledger_page": self.paginator.page.number},
        )
        return self.get_paginated_response(data)
