"""The one access policy: tiers as ordered levels, practice scope, and every URL declaring its tier."""

import pytest
from django.contrib.auth.models import AnonymousUser
from django.urls import URLPattern, URLResolver, get_resolver

from accounts.models import PatientAccount
from core.access import (
    MINIMUM_TIER,
    FieldGroup,
    can_see,
    declared_field_group,
    practices_for,
    revoke_practice,
    scope_to_user,
    visible_groups,
)
from core.models import Tier


def test_tiers_are_ordered_levels():
    assert Tier.LOW < Tier.MEDIUM < Tier.MANAGEMENT < Tier.DIRECTOR


@pytest.mark.parametrize(
    ("tier", "groups"),
    [
        (Tier.LOW, {FieldGroup.DEMOGRAPHICS, FieldGroup.PAST_DUE_FLAG}),
        (Tier.MEDIUM, {FieldGroup.DEMOGRAPHICS, FieldGroup.PAST_DUE_FLAG, FieldGroup.BILLING, FieldGroup.PROPOSE}),
        (Tier.MANAGEMENT, set(FieldGroup) - {FieldGroup.DIRECTOR}),
        (Tier.DIRECTOR, set(FieldGroup)),
    ],
)
def test_field_groups_follow_the_design_table(personas, tier, groups):
    user = next(u for u in personas.values() if u.tier == tier)
    assert visible_groups(user) == groups


def test_anonymous_and_inactive_users_see_nothing(medium):
    assert not can_see(AnonymousUser(), FieldGroup.DEMOGRAPHICS)
    medium.is_active = False
    assert not can_see(medium, FieldGroup.DEMOGRAPHICS)
    assert list(practices_for(medium)) == []


def test_every_field_group_has_a_minimum_tier():
    assert set(MINIMUM_TIER) == set(FieldGroup)


def test_practice_scope(personas, practice, other_practice, account, other_account):
    assert list(practices_for(personas["medium"])) == [practice]
    assert list(practices_for(personas["outsider"])) == [other_practice]
    assert set(practices_for(personas["director"])) == {practice, other_practice}
    assert list(scope_to_user(PatientAccount.objects.all(), personas["medium"])) == [account]
    assert list(scope_to_user(PatientAccount.objects.all(), personas["outsider"])) == [other_account]
    assert scope_to_user(PatientAccount.objects.all(), AnonymousUser()).count() == 0


def test_revoking_a_practice_removes_it_at_once(medium, practice, account):
    assert scope_to_user(PatientAccount.objects.all(), medium).count() == 1
    revoke_practice(medium, practice)
    assert scope_to_user(PatientAccount.objects.all(), medium).count() == 0


def _walk(patterns, prefix=""):
    for entry in patterns:
        if isinstance(entry, URLResolver):
            if getattr(entry, "namespace", None) == "admin":
                yield prefix + str(entry.pattern), "admin", None
                continue
            yield from _walk(entry.url_patterns, prefix + str(entry.pattern))
        elif isinstance(entry, URLPattern):
            yield prefix + str(entry.pattern), entry.name, entry.callback


def _is_public(callback) -> bool:
    view_class = getattr(callback, "view_class", None) or getattr(callback, "cls", None)
    return bool(getattr(callback, "public", False) or getattr(view_class, "public", False))


def test_every_url_declares_its_tier_or_is_marked_public():
    undeclared, public = [], []
    for route, name, callback in _walk(get_resolver().url_patterns):
        if name == "admin":
            continue  # the admin site itself admits Directors only (tests/collections_app/test_staff_admin.py)
        if _is_public(callback):
            public.append(route)
        elif declared_field_group(callback) is None:
            undeclared.append(f"{route} ({name})")
    assert undeclared == [], f"views without a declared field group: {undeclared}"
    # Public views are few and known: login, logout, token, health, static, the site icon.
    known = ("login", "logout", "token", "healthz", "static", "favicon")
    assert all(any(word in route for word in known) for route in public), public


def test_anonymous_requests_never_get_phi(client, account):
    """Every route, filled with the fixture account's id, refuses an anonymous visitor."""
    refused = {301, 302, 401, 403, 404, 405}
    for route, name, callback in _walk(get_resolver().url_patterns):
        if name == "admin" or _is_public(callback):
            continue
        path = "/" + route.replace("<int:pk>", str(account.pk)).replace("<pk>", str(account.pk))
        path = path.replace("<int:account_id>", str(account.pk)).replace("<int:patient_id>", str(account.patient_id))
        if "<" in path or "(?P" in path or "^" in path:
            continue
        response = client.get(path)
        assert response.status_code in refused, f"{path} answered {response.status_code} to an anonymous visitor"


def test_the_site_icon_is_found(client, db):
    response = client.get("/favicon.ico")
    assert response.status_code == 301 and response["Location"].endswith("favicon.svg")
