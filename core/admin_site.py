"""Django admin as the Directors' administration page.

Installed in place of `django.contrib.admin` (INSTALLED_APPS names `DirectorAdminConfig`), so every
`admin.site.register(...)` lands on `DirectorAdminSite`. Only active Directors get in (DESIGN.md:
user and tier administration is Director-only); anyone else who is logged in gets a 403, and an
anonymous visitor goes to the one login page (/login/, with its lockout), not a second login form.

This module is imported while apps load: no model imports at module level.
"""

from functools import wraps

from django.contrib import admin
from django.contrib.admin.apps import AdminConfig
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect
from django.urls import reverse

from core.display import display_time  # no models: safe while apps load


def redirect_to_login(next_url: str):
    # imported here: this module loads with INSTALLED_APPS, and auth.views imports models (AppRegistryNotReady)
    from django.contrib.auth.views import redirect_to_login as to_login

    return to_login(next_url)


def is_director(user) -> bool:
    # imported here: this module loads with INSTALLED_APPS, and core.access imports models (AppRegistryNotReady)
    from core.access import FieldGroup, can_see

    return can_see(user, FieldGroup.DIRECTOR)


class DirectorAdminSite(admin.AdminSite):
    site_header = "Collections administration"
    site_title = "Collections administration"
    index_title = "Staff, access tiers and practices"
    # The app's one way of writing an empty value (core.display.EMPTY), not Django's "-".
    empty_value_display = "—"
    # Read by the test that walks every URL: this site's has_permission requires the Director tier.
    required_field_group = "director"

    def has_permission(self, request) -> bool:
        return is_director(request.user)

    def admin_view(self, view, cacheable=False):
        inner = super().admin_view(view, cacheable)

        @wraps(inner)
        def guarded(request, *args, **kwargs):
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            if not self.has_permission(request):
                raise PermissionDenied("Administration is for Directors.")
            return inner(request, *args, **kwargs)

        guarded.field_group = self.required_field_group
        return guarded

    def login(self, request, extra_context=None):
        if not request.user.is_authenticated:
            return redirect_to_login(request.GET.get("next") or reverse("admin:index", current_app=self.name))
        if not self.has_permission(request):
            raise PermissionDenied("Administration is for Directors.")
        return redirect("admin:index")


class DirectorAdminConfig(AdminConfig):
    default_site = "core.admin_site.DirectorAdminSite"


def admin_time(description: str, field: str):
    """A list or detail column writing a datetime field the app's one way: "12/02/2026 3:04 PM EST",
    in the Director's zone (My settings) else the office's (core.display), "—" when empty."""

    def column(self, obj):
        return display_time(getattr(obj, field))

    column.short_description = description
    column.admin_order_field = field
    return column


class DirectorOnlyPermissions:
    """ModelAdmin mixin: a Director may view, add and change; nobody deletes (the audit trail
    refers to these rows; deactivate instead)."""

    def has_module_permission(self, request):
        return is_director(request.user)

    def has_view_permission(self, request, obj=None):
        return is_director(request.user)

    def has_add_permission(self, request, *args):
        return is_director(request.user)

    def has_change_permission(self, request, obj=None):
        return is_director(request.user)

    def has_delete_permission(self, request, obj=None):
        return False
