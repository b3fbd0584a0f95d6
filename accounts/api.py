"""REST API for practices, patients, accounts and the ledger (read endpoints).

Thin views (core.api_support.Api): validate the query string with an Input serializer, ask a
selector (already scoped to the user's practices: 404 outside them), render with an Output
serializer that drops the field groups the tier may not see, write the audit rows. Each view
declares its `field_group`; core.access.FieldGroupPermission checks it (403).
"""

from django.contrib.auth import authenticate, user_logged_in
from django.contrib.auth.views import redirect_to_login
from django.urls import reverse
from drf_spectacular.utils import OpenApiResponse, extend_schema
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView
from rest_framework import exceptions, status
from rest_framework.permissions import AllowAny
from rest_framework.response import Response

from accounts.filters import AccountFilter, TransactionFilter
from accounts.models import PatientAccount
from accounts.selectors import (
    AccountSearch,
    account_aging_today,
    account_get,
    account_ledger,
    account_search,
    accounts_with_past_due_flag,
    patient_get,
    patient_search,
    patient_upcoming_appointments,
    practice_get,
    practice_list,
)
from accounts.serializers import (
    ACCOUNT_ORDERINGS,
    AccountDetailOutput,
    AccountFilterInput,
    AccountListOutput,
    AccountListQuery,
    PatientDetailOutput,
    PatientFilterInput,
    PatientListOutput,
    PatientListQuery,
    PracticeOutput,
    TokenInput,
    TokenOutput,
    TransactionOutput,
)
from core.access import FieldGroup, FieldGroupPermission, scope_to_user
from core.api_support import Api, StrictPageNumberPagination
from core.audit import audit_read, audit_reads
from core.errors import ApplicationError
from core.models import AuditEvent
from core.services import api_token_issue

MESSAGE_BAD_CREDENTIALS = "Unable to sign in with that username and password."
MESSAGE_LOCKED_OUT = "Too many failed sign-in attempts. Try again later or ask an administrator."


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


class TokenObtainApi(Api):
    """Exchange a username and password for a new API token, good for API_TOKEN_LIFETIME_HOURS (8 by default).

    Each call issues another token (name it after the client asking); the key is in this response
    only. Public (no session, no token needed). Failures go through django-axes like the login page:
    they are counted and audited, and a locked-out username gets 429 even with the right password.
    """

    public = True  # the URL-walk test exempts views that say so
    field_group = None
    permission_classes = [AllowAny]
    authentication_classes = []

    @extend_schema(
        request=TokenInput,
        responses={
            200: TokenOutput,
            400: OpenApiResponse(description="Wrong username or password."),
            429: OpenApiResponse(description="Locked out after repeated failures."),
        },
        auth=[],
    )
    def post(self, request):
        credentials = self.valid_body(TokenInput)
        # The request goes to authenticate() so axes can count the failure and refuse a locked user.
        name = credentials.pop("name")
        user = authenticate(request=request, **credentials)
        if user is None:
            if getattr(request, "axes_locked_out", False):
                return Response({"detail": MESSAGE_LOCKED_OUT}, status=status.HTTP_429_TOO_MANY_REQUESTS)
            raise ApplicationError(MESSAGE_BAD_CREDENTIALS)
        token, key = api_token_issue(user=user, name=name)
        # A token is a sign-in: audit it and let axes reset the failure count, as a page login does.
        user_logged_in.send(sender=type(user), request=request, user=user)
        data = TokenOutput({"token": key, "id": token.pk, "name": token.name, "expires_at": token.expires_at}).data
        # The key is in this response only: no cache or proxy may keep it (as RFC 6749 5.1 asks).
        return Response(data, headers={"Cache-Control": "no-store"})


# --- Practices ---------------------------------------------------------------------------------


class PracticeListApi(Api):
    """The practices you work. Collection policy fields by tier."""

    field_group = FieldGroup.DEMOGRAPHICS
    pagination_class = StrictPageNumberPagination

    @extend_schema(responses=PracticeOutput(many=True))
    def get(self, request):
        page = self.paginate(practice_list(user=request.user))
        return self.paginated_response(PracticeOutput(page, many=True, context={"request": request}).data)


class PracticeDetailApi(Api):
    field_group = FieldGroup.DEMOGRAPHICS

    @extend_schema(summary="One of your practices", responses=PracticeOutput)
    def get(self, request, pk):
        return self.respond(PracticeOutput, practice_get(user=request.user, practice_id=pk))


# --- Patients ----------------------------------------------------------------------------------


# Search terms (names, dates of birth, phone numbers) are PHI: they travel in a POST body, never in
# a URL (server and proxy logs, browser history). GET lists take only non-PHI filters.
MESSAGE_SEARCH_BY_POST = "Search terms go in the body of a POST to {url}, never in the URL."
PHI_QUERY_PARAMETERS = ("q", "date_of_birth")


def _refuse_phi_in_url(request, search_url_name: str) -> None:
    named = [name for name in PHI_QUERY_PARAMETERS if name in request.query_params]
    if named:
        message = MESSAGE_SEARCH_BY_POST.format(url=reverse(search_url_name))
        raise exceptions.ValidationError({name: [message] for name in named})


class _PatientSearchMixin:
    field_group = FieldGroup.DEMOGRAPHICS
    pagination_class = StrictPageNumberPagination

    def _respond_with_patients(self, request, filters):
        patients = patient_search(
            user=request.user,
            query=filters.get("q", ""),
            practice_id=filters.get("practice"),
            date_of_birth=filters.get("date_of_birth"),
        )
        page = self.paginate(patients)
        context = {"request": request}
        data = PatientListOutput(page, many=True, context=context).data
        searched = filters.get("q") or filters.get("date_of_birth")
        action = AuditEvent.Action.SEARCH if searched else AuditEvent.Action.VIEW
        audit_reads(user=request.user, objects=page, field_groups=_shown(context), action=action)
        return self.paginated_response(data)


class PatientListApi(_PatientSearchMixin, Api):
    """The patients of your practices (filter by `practice`). To find a patient by name, date of
    birth, phone or medical record number, POST the terms to `/api/patients/search/`."""

    @extend_schema(parameters=[PatientListQuery], responses=PatientListOutput(many=True))
    def get(self, request):
        _refuse_phi_in_url(request, "api-patient-search")
        return self._respond_with_patients(request, self.valid_query(PatientListQuery))


class PatientSearchApi(_PatientSearchMixin, Api):
    """Find patients by name, date of birth, phone or medical record number (terms in the body;
    `page` and `page_size` in the query string)."""

    @extend_schema(request=PatientFilterInput, responses=PatientListOutput(many=True), operation_id="patients_search")
    def post(self, request):
        return self._respond_with_patients(request, self.valid_body(PatientFilterInput))


class PatientDetailApi(Api):
    """A patient's demographics, contact details, upcoming appointments and accounts (SSN: Director)."""

    field_group = FieldGroup.DEMOGRAPHICS

    @extend_schema(responses=PatientDetailOutput)
    def get(self, request, pk):
        patient = patient_get(user=request.user, patient_id=pk)
        accounts = scope_to_user(PatientAccount.objects.filter(patient=patient), request.user)
        context = {
            "request": request,
            "upcoming_appointments": patient_upcoming_appointments(patient=patient),
            "accounts": accounts.order_by("account_number"),
        }
        data = PatientDetailOutput(patient, context=context).data
        audit_read(user=request.user, obj=patient, field_groups=_shown(context))
        return Response(data)


# --- Accounts ----------------------------------------------------------------------------------


class _AccountSearchMixin:
    field_group = FieldGroup.DEMOGRAPHICS
    pagination_class = StrictPageNumberPagination
    filterset_class = AccountFilter

    def _respond_with_accounts(self, request, filters):
        search = AccountSearch(
            query=filters.get("q", ""), practice_id=filters.get("practice"), status=filters.get("status", "")
        )
        accounts = account_search(user=request.user, search=search)
        if filters.get("min_patient_balance") is not None:
            accounts = accounts.filter(patient_balance__gte=filters["min_patient_balance"])
        accounts = self.filter(accounts_with_past_due_flag(accounts))
        accounts = accounts.order_by(*ACCOUNT_ORDERINGS[filters["ordering"]][0])
        page = self.paginate(accounts)
        context = {"request": request}
        data = AccountListOutput(page, many=True, context=context).data
        action = AuditEvent.Action.SEARCH if filters.get("q") else AuditEvent.Action.VIEW
        audit_reads(user=request.user, objects=page, field_groups=_shown(context), action=action)
        return self.paginated_response(data)


class AccountListApi(_AccountSearchMixin, Api):
    """Filter accounts by practice (and, for billing tiers, status, balance and balance order). To
    search by name, date of birth, phone or account number, POST the terms to `/api/accounts/search/`."""

    @extend_schema(parameters=[AccountListQuery], responses=AccountListOutput(many=True))
    def get(self, request):
        _refuse_phi_in_url(request, "api-account-search")
        return self._respond_with_accounts(request, self.valid_query(AccountListQuery))


class AccountSearchApi(_AccountSearchMixin, Api):
    """Search accounts by name, date of birth, phone or account number, with the list's filters
    (terms in the body; `page` and `page_size` in the query string)."""

    @extend_schema(request=AccountFilterInput, responses=AccountListOutput(many=True), operation_id="accounts_search")
    def post(self, request):
        return self._respond_with_accounts(request, self.valid_body(AccountFilterInput))


class AccountDetailApi(Api):
    """One account: demographics and the past-due flag for every tier; balances and aging by
    encounter for Medium and up."""

    field_group = FieldGroup.DEMOGRAPHICS

    @extend_schema(responses=AccountDetailOutput)
    def get(self, request, pk):
        account = account_get(user=request.user, account_id=pk)
        context = {"request": request, "aging": account_aging_today(account)}
        data = AccountDetailOutput(account, context=context).data
        audit_read(user=request.user, obj=account, field_groups=_shown(context))
        return Response(data)


class AccountLedgerApi(Api):
    """The account's ledger in posting order (effective date, then id), paginated."""

    field_group = FieldGroup.BILLING
    pagination_class = StrictPageNumberPagination
    filterset_class = TransactionFilter

    @extend_schema(responses=TransactionOutput(many=True))
    def get(self, request, pk):
        account = account_get(user=request.user, account_id=pk)
        page = self.paginate(self.filter(account_ledger(account=account)).select_related("reversed_by"))
        data = TransactionOutput(page, many=True, context={"request": request}).data
        audit_read(
            user=request.user,
            obj=account,
            field_groups=[FieldGroup.BILLING],
            detail={"ledger_page": self.paginator.page.number},
        )
        return self.paginated_response(data)
