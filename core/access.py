"""The one access policy: which practices a user may see, and which field groups a tier may see.

Every page, API endpoint, selector, export, report and task asks here. A view declares the field
group it serves (`field_group = FieldGroup.BILLING`); `FieldGroupRequiredMixin`, `requires()` and
`FieldGroupPermission` check it; querysets start from `scope_to_user()`. An object outside the
user's practices is a 404, a tier too low a 403 (DESIGN.md, "Access tiers and scope").
"""

from enum import StrEnum
from functools import wraps

from django.apps import apps
from django.conf import settings
from django.contrib.auth.mixins import AccessMixin
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import Http404
from guardian.models import GroupObjectPermission, UserObjectPermission
from guardian.shortcuts import assign_perm, remove_perm
from rest_framework.permissions import BasePermission

from core.errors import ApplicationError
from core.models import Tier

PRACTICE_PERMISSION = "accounts.work_practice"


class FieldGroup(StrEnum):
    """Field groups of DESIGN.md. The value is what the audit trail records."""

    DEMOGRAPHICS = "demographics"  # names, contact, address, appointments, chart notes
    PAST_DUE_FLAG = "past_due_flag"  # "see billing office", never an amount
    BILLING = "billing"  # balances, statements, ledger, plans, contact log, own queue
    PROPOSE = "propose"  # propose a write-off or agency referral
    MANAGEMENT = "management"  # approvals within limit, placements, all reports, other queues
    DIRECTOR = "director"  # approvals above limit, audit trail, full identifiers, administration


# The minimum tier for each field group: the table in DESIGN.md, in one place.
MINIMUM_TIER: dict[FieldGroup, Tier] = {
    FieldGroup.DEMOGRAPHICS: Tier.LOW,
    FieldGroup.PAST_DUE_FLAG: Tier.LOW,
    FieldGroup.BILLING: Tier.MEDIUM,
    FieldGroup.PROPOSE: Tier.MEDIUM,
    FieldGroup.MANAGEMENT: Tier.MANAGEMENT,
    FieldGroup.DIRECTOR: Tier.DIRECTOR,
}


def can_see(user, group: FieldGroup) -> bool:
    return bool(user and user.is_authenticated and user.is_active and user.tier >= MINIMUM_TIER[group])


def visible_groups(user) -> set[FieldGroup]:
    return {group for group in FieldGroup if can_see(user, group)}


def practice_model():
    """The practice model, named by settings.ACCESS_PRACTICE_MODEL as AUTH_USER_MODEL names the user
    model: the access policy sits below the app that owns practices and must not import it."""
    return apps.get_model(settings.ACCESS_PRACTICE_MODEL)


def practices_for(user) -> QuerySet:
    """The practices this user may see. Directors see all; others by object permission."""
    Practice = practice_model()
    if not (user and user.is_authenticated and user.is_active):
        return Practice.objects.none()
    if user.tier >= Tier.DIRECTOR:
        return Practice.objects.all()
    return Practice.objects.filter(pk__in=practice_ids_for(user))


def practice_ids_for(user) -> list[int]:
    """Ids of the practices the user may see (Directors: all; others: granted directly or through a
    group), cached on the user object for the request. One indexed query on guardian's tables: guardian's generic
    get_objects_for_user costs several queries per call, and every page asks this."""
    if not (user and user.is_authenticated and user.is_active):
        return []
    cached = getattr(user, "_practice_ids_cache", None)
    if cached is None and user.tier >= Tier.DIRECTOR:
        cached = user._practice_ids_cache = list(practice_model().objects.order_by("pk").values_list("pk", flat=True))
    if cached is None:
        cached = user._practice_ids_cache = granted_practice_ids(user)
    return cached


def granted_practice_ids(user) -> list[int]:
    """Practices granted to the user (directly or through a group), whatever the tier."""
    app_label, codename = PRACTICE_PERMISSION.split(".")
    granted = {
        "permission__codename": codename,
        "permission__content_type__app_label": app_label,
        "permission__content_type__model": "practice",
    }
    direct = UserObjectPermission.objects.filter(user=user, **granted).values_list("object_pk", flat=True)
    via_groups = GroupObjectPermission.objects.filter(group__user=user, **granted).values_list("object_pk", flat=True)
    return sorted({int(pk) for pk in direct.union(via_groups)})


def scope_to_user(queryset: QuerySet, user, *, practice_field: str = "practice") -> QuerySet:
    """Restrict any queryset to the user's practices. Every selector starts here."""
    if not (user and user.is_authenticated and user.is_active):
        return queryset.none()
    if user.tier >= Tier.DIRECTOR:
        return queryset
    key = "pk__in" if practice_field in ("pk", "id") else f"{practice_field}_id__in"
    return queryset.filter(**{key: practice_ids_for(user)})


def get_scoped_or_404(queryset: QuerySet, user, *, practice_field: str = "practice", **lookup):
    """One object inside the user's practices, or 404 (never reveal that it exists elsewhere)."""
    try:
        return scope_to_user(queryset, user, practice_field=practice_field).get(**lookup)
    except (queryset.model.DoesNotExist, ValueError, TypeError):
        raise Http404("No such record in your practices.") from None


def grant_practice(user, practice) -> None:
    assign_perm(PRACTICE_PERMISSION, user, practice)
    user.__dict__.pop("_practice_ids_cache", None)


def revoke_practice(user, practice) -> None:
    remove_perm(PRACTICE_PERMISSION, user, practice)
    user.__dict__.pop("_practice_ids_cache", None)


MESSAGE_NOT_DIRECTOR = "Only a Director may change staff access or practice policy."


def check_director_or_command_line(acting_user) -> None:
    """Staff access and practice policy change only by a Director, or from the command line
    (`acting_user=None`, recorded as such)."""
    if acting_user is not None and not can_see(acting_user, FieldGroup.DIRECTOR):
        raise ApplicationError(MESSAGE_NOT_DIRECTOR)


def check_field_group(user, group: FieldGroup) -> None:
    if not can_see(user, group):
        raise PermissionDenied("Your access tier does not include this information.")


class FieldGroupRequiredMixin(AccessMixin):
    """Class-based views declare `field_group`; anonymous users go to login, low tiers get 403."""

    field_group: FieldGroup | None = None

    def dispatch(self, request, *args, **kwargs):
        if self.field_group is None:
            raise PermissionDenied("This view declares no field group.")
        if not request.user.is_authenticated:
            return self.handle_no_permission()
        check_field_group(request.user, self.field_group)
        return super().dispatch(request, *args, **kwargs)


def requires(group: FieldGroup):
    """Decorator for function views: the declared field group, checked before the view runs."""

    def decorator(view):
        @wraps(view)
        def wrapped(request, *args, **kwargs):
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            check_field_group(request.user, group)
            return view(request, *args, **kwargs)

        wrapped.field_group = group
        return wrapped

    return decorator


class FieldGroupPermission(BasePermission):
    """DRF: the view's `field_group` decides; a view without one is refused (fail closed)."""

    message = "Your access tier does not include this information."

    def has_permission(self, request, view):
        group = getattr(view, "field_group", None)
        if group is None:
            return False
        return can_see(request.user, group)


def declared_field_group(view_func) -> FieldGroup | None:
    """What a resolved URL callback declares (used by the test that walks every URL)."""
    if getattr(view_func, "field_group", None):
        return view_func.field_group
    view_class = getattr(view_func, "view_class", None) or getattr(view_func, "cls", None)
    if view_class is not None:
        return getattr(view_class, "field_group", None)
    return None
