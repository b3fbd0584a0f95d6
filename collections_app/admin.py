"""Staff administration for Directors: users, tiers and the practices each may work.

Saving goes through collections_app.services, so every tier change, activation change and practice
grant or revoke writes its ACCESS_CHANGE audit row in the admin's transaction.
"""

from axes.admin import AccessAttemptAdmin
from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django import forms
from django.contrib import admin, messages
from django.contrib.admin.widgets import FilteredSelectMultiple
from django.contrib.auth.admin import UserAdmin
from django.contrib.auth.forms import UserChangeForm, UserCreationForm
from django.contrib.auth.models import Group
from django.db import transaction
from django.http import HttpResponseRedirect
from django.urls import reverse

from accounts.models import Practice
from collections_app import services
from core.admin_site import DirectorOnlyPermissions, admin_time
from core.errors import ApplicationError
from core.models import StaffUser

PRACTICES_HELP = "The practices whose accounts this person may see. Directors see every practice regardless."


def _practices_field() -> forms.ModelMultipleChoiceField:
    return forms.ModelMultipleChoiceField(
        queryset=Practice.objects.order_by("name"),
        required=False,
        widget=FilteredSelectMultiple("practices", is_stacked=False),
        help_text=PRACTICES_HELP,
    )


class StaffUserCreationForm(UserCreationForm):
    practices = _practices_field()

    class Meta(UserCreationForm.Meta):
        model = StaffUser
        fields = ("username", "first_name", "last_name", "email", "tier")


class StaffUserChangeForm(UserChangeForm):
    practices = _practices_field()

    class Meta(UserChangeForm.Meta):
        model = StaffUser
        fields = ("username", "password", "first_name", "last_name", "email", "tier", "is_active")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.fields["practices"].initial = list(services.staff_granted_practices(self.instance))
            # The username is the audit trail's name for this person: fixed once created.
            self.fields["username"].disabled = True


@admin.register(StaffUser)
class StaffUserAdmin(DirectorOnlyPermissions, UserAdmin):
    form = StaffUserChangeForm
    add_form = StaffUserCreationForm
    fieldsets = (
        (None, {"fields": ("username", "password")}),
        ("Name and contact", {"fields": ("first_name", "last_name", "email")}),
        ("Access", {"fields": ("tier", "is_active", "practices")}),
        ("Dates", {"fields": ("last_sign_in", "joined")}),
        ("Preferences", {"fields": ("time_zone",), "description": "Each person sets their own on My settings."}),
    )
    add_fieldsets = (
        (None, {"classes": ("wide",), "fields": ("username", "password1", "password2")}),
        ("Name and contact", {"fields": ("first_name", "last_name", "email")}),
        ("Access", {"fields": ("tier", "practices")}),
    )
    readonly_fields = ("last_sign_in", "joined", "time_zone")
    list_display = ("username", "first_name", "last_name", "email", "tier", "is_active", "last_sign_in")
    last_sign_in = admin_time("last sign-in", "last_login")
    joined = admin_time("joined", "date_joined")
    list_filter = ("tier", "is_active")
    search_fields = ("username", "first_name", "last_name", "email")
    ordering = ("username",)
    filter_horizontal = ()

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        try:
            if not change:
                created = services.staff_create(
                    acting_user=request.user,
                    username=data["username"],
                    tier=data["tier"],
                    password=data["password1"],
                    practices=data.get("practices") or (),
                    email=data.get("email", ""),
                    first_name=data.get("first_name", ""),
                    last_name=data.get("last_name", ""),
                )
                obj.pk = created.pk
                obj._state.adding = False
                return
            services.staff_update_contact(
                acting_user=request.user,
                staff_user=obj,
                first_name=data["first_name"],
                last_name=data["last_name"],
                email=data["email"],
            )
            services.staff_set_tier(acting_user=request.user, staff_user=obj, tier=data["tier"])
            services.staff_set_active(acting_user=request.user, staff_user=obj, is_active=data["is_active"])
            services.staff_set_practices(acting_user=request.user, staff_user=obj, practices=data["practices"] or ())
        except ApplicationError as error:
            # The admin has already validated the form; a rule refusing now (e.g. a Director lowering
            # their own tier) undoes everything in this save and tells the Director why.
            transaction.set_rollback(True)
            self.message_user(request, error.message, level=messages.ERROR)
            obj._refused = True

    def save_related(self, request, form, formsets, change):
        """Practices are saved by the services above; the user model has no other relations to save."""

    def response_add(self, request, obj, post_url_continue=None):
        if getattr(obj, "_refused", False):
            return self._back_to_form(request, obj)
        return super().response_add(request, obj, post_url_continue)

    def response_change(self, request, obj):
        if getattr(obj, "_refused", False):
            return self._back_to_form(request, obj)
        return super().response_change(request, obj)

    def _back_to_form(self, request, obj):
        if obj.pk:
            return HttpResponseRedirect(reverse("admin:core_staffuser_change", args=(obj.pk,)))
        return HttpResponseRedirect(reverse("admin:core_staffuser_add"))

    def log_addition(self, request, obj, message):
        if not getattr(obj, "_refused", False):
            super().log_addition(request, obj, message)

    def log_change(self, request, obj, message):
        if not getattr(obj, "_refused", False):
            super().log_change(request, obj, message)

    def user_change_password(self, request, id, form_url=""):
        with transaction.atomic():
            response = super().user_change_password(request, id, form_url)
            saved = request.method == "POST" and response.status_code == 302 and response.url != request.get_full_path()
            if saved:
                target = StaffUser.objects.get(pk=id)
                services.staff_password_changed(acting_user=request.user, staff_user=target)
        return response


class LockoutAdmin(DirectorOnlyPermissions, AccessAttemptAdmin):
    """Locked-out logins (django-axes). Deleting the attempts for a username unlocks it, audited."""

    list_display = ("attempted", "username", "ip_address", "failures_since_start")
    attempted = admin_time("last failed attempt", "attempt_time")
    actions = ["delete_selected"]

    def has_add_permission(self, request, *args):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return self.has_view_permission(request, obj)

    def delete_model(self, request, obj):
        self.delete_queryset(request, AccessAttempt.objects.filter(pk=obj.pk))

    def delete_queryset(self, request, queryset):
        with transaction.atomic():
            usernames = sorted(set(queryset.values_list("username", flat=True)))
            queryset.delete()
            services.staff_logins_unlocked(acting_user=request.user, usernames=usernames)


# Access is tier + practices, never groups; the raw axes logs stay out of this page (the audit
# trail already records logins and failures). API tokens have their own page (core/admin.py).
for _model in (Group, AccessLog, AccessFailureLog, AccessAttempt):
    if admin.site.is_registered(_model):
        admin.site.unregister(_model)
admin.site.register(AccessAttempt, LockoutAdmin)


from collections_app.agencies import admin as agencies_admin  # noqa: E402, F401  (registers the agencies)
