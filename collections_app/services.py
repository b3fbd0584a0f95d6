"""Administration of staff access: users, tiers, the practices each may work, practice policy.

Every change runs in one transaction with its audit row (action ACCESS_CHANGE for tier, activation
and practice grants), so the trail can always answer "who gave this person access, and when".
Only Directors administer access (DESIGN.md: "user and tier administration"); `acting_user=None`
means the command line (`manage.py create_staff`), recorded as such.
"""

from collections.abc import Iterable

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction

from accounts.models import Practice
from core.access import (
    FieldGroup,
    check_director_or_command_line,
    grant_practice,
    granted_practice_ids,
    revoke_practice,
)
from core.audit import COMMAND_LINE, audit_record
from core.errors import ApplicationError
from core.models import AuditEvent, StaffUser, Tier

MESSAGE_USERNAME_TAKEN = "A staff user named {username!r} already exists."
MESSAGE_USERNAME_EMPTY = "Enter a username."
MESSAGE_UNKNOWN_PRACTICE = "No practice with code {code!r}. Known codes: {known}."
MESSAGE_OWN_DEMOTION = "You cannot lower your own tier or deactivate yourself; ask another Director."
MESSAGE_UNKNOWN_TIER = "Unknown tier {tier!r}."

TIER_BY_NAME = {"low": Tier.LOW, "medium": Tier.MEDIUM, "management": Tier.MANAGEMENT, "director": Tier.DIRECTOR}


def tier_from_name(name: str) -> Tier:
    try:
        return TIER_BY_NAME[name.strip().lower()]
    except KeyError:
        raise ApplicationError(MESSAGE_UNKNOWN_TIER.format(tier=name), field="tier") from None


def _label(tier) -> str:
    return Tier(tier).label


def _audit(*, acting_user, staff_user, detail: dict, action=AuditEvent.Action.ACCESS_CHANGE, practice_id=None):
    audit_record(
        user=acting_user,
        username="" if acting_user is not None else COMMAND_LINE,
        action=action,
        obj=staff_user,
        practice_id=practice_id,
        field_group=FieldGroup.DIRECTOR,
        detail=detail,
    )


def practices_from_codes(codes: Iterable[str]) -> list[Practice]:
    """Practices by code, in the order given; an unknown code is an error that lists the known ones."""
    wanted = [code.strip() for code in codes if code and code.strip()]
    found = {p.code: p for p in Practice.objects.filter(code__in=wanted)}
    for code in wanted:
        if code not in found:
            known = ", ".join(Practice.objects.order_by("code").values_list("code", flat=True)) or "none yet"
            raise ApplicationError(MESSAGE_UNKNOWN_PRACTICE.format(code=code, known=known), field="practice")
    return [found[code] for code in dict.fromkeys(wanted)]


def staff_granted_practices(staff_user: StaffUser):
    """The practices explicitly granted to this user (a Director sees all regardless)."""
    return Practice.objects.filter(pk__in=granted_practice_ids(staff_user))


@transaction.atomic
def staff_create(
    *,
    acting_user,
    username: str,
    tier: int,
    password: str,
    practices: Iterable[Practice] = (),
    email: str = "",
    first_name: str = "",
    last_name: str = "",
) -> StaffUser:
    """A new staff user. The password must pass the configured validators."""
    check_director_or_command_line(acting_user)
    username = (username or "").strip()
    if not username:
        raise ApplicationError(MESSAGE_USERNAME_EMPTY, field="username")
    if StaffUser.objects.filter(username__iexact=username).exists():
        raise ApplicationError(MESSAGE_USERNAME_TAKEN.format(username=username), field="username")
    tier = Tier(tier)
    staff_user = StaffUser(
        username=username,
        email=email,
        first_name=first_name,
        last_name=last_name,
        tier=tier,
        # Django admin is the Directors' administration page; is_staff follows the tier.
        is_staff=tier >= Tier.DIRECTOR,
    )
    try:
        validate_password(password, staff_user)
    except ValidationError as error:
        raise ApplicationError(" ".join(error.messages), field="password") from None
    staff_user.set_password(password)
    staff_user.save()
    _audit(
        acting_user=acting_user,
        staff_user=staff_user,
        action=AuditEvent.Action.CREATE,
        detail={"tier": [None, _label(tier)], "is_active": [None, True]},
    )
    staff_set_practices(acting_user=acting_user, staff_user=staff_user, practices=practices)
    return staff_user


@transaction.atomic
def staff_update_contact(*, acting_user, staff_user: StaffUser, first_name: str, last_name: str, email: str) -> None:
    """Name and email: not access, but still a change to a user record, so audited by field name."""
    check_director_or_command_line(acting_user)
    locked = StaffUser.objects.select_for_update().get(pk=staff_user.pk)
    new = {"first_name": first_name, "last_name": last_name, "email": email}
    changed = [field for field, value in new.items() if getattr(locked, field) != value]
    if not changed:
        return
    for field in changed:
        setattr(locked, field, new[field])
    locked.save(update_fields=changed)
    _audit(acting_user=acting_user, staff_user=locked, action=AuditEvent.Action.UPDATE, detail={"fields": changed})


@transaction.atomic
def staff_set_tier(*, acting_user, staff_user: StaffUser, tier: int) -> bool:
    """Change the access tier; returns whether anything changed."""
    check_director_or_command_line(acting_user)
    tier = Tier(tier)
    # Lock the row: two Directors editing the same person must not both record "old" as the same tier.
    locked = StaffUser.objects.select_for_update().get(pk=staff_user.pk)
    if locked.tier == tier:
        return False
    if acting_user is not None and acting_user.pk == locked.pk and tier < locked.tier:
        raise ApplicationError(MESSAGE_OWN_DEMOTION, field="tier")
    old = locked.tier
    locked.tier = tier
    locked.is_staff = tier >= Tier.DIRECTOR
    locked.save(update_fields=["tier", "is_staff"])
    staff_user.tier, staff_user.is_staff = locked.tier, locked.is_staff
    _audit(acting_user=acting_user, staff_user=locked, detail={"tier": [_label(old), _label(tier)]})
    return True


@transaction.atomic
def staff_set_active(*, acting_user, staff_user: StaffUser, is_active: bool) -> bool:
    """Activate or deactivate (never delete: the audit trail points at the user)."""
    check_director_or_command_line(acting_user)
    locked = StaffUser.objects.select_for_update().get(pk=staff_user.pk)
    if locked.is_active == is_active:
        return False
    if acting_user is not None and acting_user.pk == locked.pk and not is_active:
        raise ApplicationError(MESSAGE_OWN_DEMOTION, field="is_active")
    locked.is_active = is_active
    locked.save(update_fields=["is_active"])
    staff_user.is_active = is_active
    _audit(acting_user=acting_user, staff_user=locked, detail={"is_active": [not is_active, is_active]})
    return True


@transaction.atomic
def staff_set_practices(*, acting_user, staff_user: StaffUser, practices: Iterable[Practice]) -> tuple[list, list]:
    """Make the user's granted practices exactly `practices`: one audit row per grant and revoke.

    Returns (granted codes, revoked codes).
    """
    check_director_or_command_line(acting_user)
    StaffUser.objects.select_for_update().filter(pk=staff_user.pk).first()
    wanted = {p.pk: p for p in practices}
    current = {p.pk: p for p in staff_granted_practices(staff_user)}
    granted, revoked = [], []
    for pk in sorted(wanted.keys() - current.keys()):
        practice = wanted[pk]
        grant_practice(staff_user, practice)
        _audit(
            acting_user=acting_user,
            staff_user=staff_user,
            practice_id=practice.pk,
            detail={"practice_granted": practice.code},
        )
        granted.append(practice.code)
    for pk in sorted(current.keys() - wanted.keys()):
        practice = current[pk]
        revoke_practice(staff_user, practice)
        _audit(
            acting_user=acting_user,
            staff_user=staff_user,
            practice_id=practice.pk,
            detail={"practice_revoked": practice.code},
        )
        revoked.append(practice.code)
    return granted, revoked


def staff_password_changed(*, acting_user, staff_user: StaffUser) -> None:
    """Record a password a Director set in the admin's password form (which validated and saved it,
    inside the same transaction). The audit names the field, never the password."""
    check_director_or_command_line(acting_user)
    _audit(
        acting_user=acting_user, staff_user=staff_user, action=AuditEvent.Action.UPDATE, detail={"fields": ["password"]}
    )


@transaction.atomic
def staff_logins_unlocked(*, acting_user, usernames: Iterable[str]) -> None:
    """Record that a Director cleared the lockout (django-axes attempts) for these usernames."""
    check_director_or_command_line(acting_user)
    users = {u.username: u for u in StaffUser.objects.filter(username__in=list(usernames))}
    for username in usernames:
        audit_record(
            user=acting_user,
            action=AuditEvent.Action.ACCESS_CHANGE,
            obj=users.get(username),
            object_type="core.staffuser",
            field_group=FieldGroup.DIRECTOR,
            detail={"login_unlocked": username},
        )
