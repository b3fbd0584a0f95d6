"""API tokens for Directors: everyone's tokens with their state, and a revoke action.

Read-only otherwise: a token is issued only through POST /api/auth/token/ (the key is shown once,
to the person who signed in), never added or edited here (extending one would defeat its lifetime),
and never deleted (the audit trail names it). The key's hash is not shown either.
"""

from django.contrib import admin, messages
from django.utils import timezone

from core import services
from core.admin_site import DirectorOnlyPermissions, admin_time, is_director
from core.models import ApiToken


class TokenStateFilter(admin.SimpleListFilter):
    title = "state"
    parameter_name = "state"

    def lookups(self, request, model_admin):
        return [("active", "Active"), ("expired", "Expired"), ("revoked", "Revoked")]

    def queryset(self, request, queryset):
        now = timezone.now()
        if self.value() == "active":
            return queryset.filter(revoked_at__isnull=True, expires_at__gt=now)
        if self.value() == "expired":
            return queryset.filter(revoked_at__isnull=True, expires_at__lte=now)
        if self.value() == "revoked":
            return queryset.filter(revoked_at__isnull=False)
        return queryset


@admin.register(ApiToken)
class ApiTokenAdmin(DirectorOnlyPermissions, admin.ModelAdmin):
    list_display = ("user", "name", "issued", "expires", "last_used", "revoked", "state")
    list_filter = (TokenStateFilter, "revoke_reason")
    list_select_related = ("user",)
    search_fields = ("user__username", "name")
    date_hierarchy = "created_at"
    fields = ("user", "name", "issued", "expires", "last_used", "revoked", "revoked_by", "revoke_reason")
    readonly_fields = fields
    issued = admin_time("issued", "created_at")
    expires = admin_time("expires", "expires_at")
    last_used = admin_time("last used", "last_used_at")
    revoked = admin_time("revoked", "revoked_at")
    actions = ["revoke"]

    def has_add_permission(self, request, *args):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_revoke_permission(self, request):
        return is_director(request.user)

    @admin.display(description="state")
    def state(self, token):
        return token.state().capitalize()

    @admin.action(description="Revoke selected API tokens", permissions=["revoke"])
    def revoke(self, request, queryset):
        revoked = 0
        for token in queryset.filter(revoked_at__isnull=True).select_related("user"):
            services.api_token_revoke(acting_user=request.user, token=token)
            revoked += 1
        self.message_user(request, f"{revoked} API token(s) revoked.", level=messages.SUCCESS)
