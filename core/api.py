"""REST API for your own API tokens: list the ones that still work, revoke one.

Any signed-in staff member (the demographics field group, Low and up). Only your own tokens:
another user's is a 404. The key is never shown here; it is shown once, by POST /api/auth/token/.
Directors see and revoke everyone's tokens in the admin (core/admin.py).
"""

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers

from core import selectors, services
from core.access import FieldGroup
from core.api_support import Api, FieldGroupSerializerMixin, StrictPageNumberPagination
from core.models import ApiToken


class ApiTokenOutput(FieldGroupSerializerMixin, serializers.ModelSerializer):
    """One of your API tokens, without its key."""

    current = serializers.SerializerMethodField(help_text="True for the token this request was made with.")
    field_groups = {
        FieldGroup.DEMOGRAPHICS: (
            "id",
            "name",
            "created_at",
            "expires_at",
            "last_used_at",
            "revoked_at",
            "revoke_reason",
            "current",
        )
    }

    class Meta:
        model = ApiToken

    def get_current(self, token) -> bool:
        used = getattr(self.context.get("request"), "auth", None)
        return isinstance(used, ApiToken) and used.pk == token.pk


class ApiTokenListApi(Api):
    """Your API tokens that still work (not expired, not revoked), newest first."""

    field_group = FieldGroup.DEMOGRAPHICS
    pagination_class = StrictPageNumberPagination

    @extend_schema(responses=ApiTokenOutput(many=True))
    def get(self, request):
        page = self.paginate(selectors.api_tokens_live(user=request.user))
        return self.paginated_response(ApiTokenOutput(page, many=True, context={"request": request}).data)


class ApiTokenRevokeApi(Api):
    """Revoke one of your API tokens; it is refused (401) from the next request on. Revoking a
    revoked token again changes nothing."""

    field_group = FieldGroup.DEMOGRAPHICS

    @extend_schema(
        request=None,
        responses={200: ApiTokenOutput, 404: OpenApiResponse(description="Not one of your tokens.")},
    )
    def post(self, request, pk):
        token = selectors.api_token_get(user=request.user, token_id=pk)
        return self.respond(ApiTokenOutput, services.api_token_revoke(acting_user=request.user, token=token))
