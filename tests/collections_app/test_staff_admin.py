"""Staff administration: create_staff, the Directors-only admin, and the audit of every access change."""

import io

import pytest
from axes.models import AccessAttempt
from django.contrib import admin
from django.contrib.auth.models import AnonymousUser
from django.core.management import call_command
from django.core.management.base import CommandError

from collections_app import services
from core.access import practices_for
from core.errors import ApplicationError
from core.models import AuditEvent, StaffUser, Tier

pytestmark = pytest.mark.django_db

GOOD_PASSWORD = "window-lantern-4471"
ACCESS_CHANGE = AuditEvent.Action.ACCESS_CHANGE


def _access_changes(user):
    return list(
        AuditEvent.objects.filter(object_type="core.staffuser", object_id=str(user.pk), action=ACCESS_CHANGE)
        .order_by("id")
        .values_list("detail", flat=True)
    )


def _create_staff(*args):
    out = io.StringIO()
    call_command("create_staff", *args, stdout=out)
    return out.getvalue()


# -- manage.py create_staff -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "tier"),
    [("low", Tier.LOW), ("medium", Tier.MEDIUM), ("management", Tier.MANAGEMENT), ("director", Tier.DIRECTOR)],
)
def test_create_staff_sets_the_tier_and_the_password(practice, name, tier):
    output = _create_staff(f"new_{name}", "--tier", name, "--practice", "north", "--password", GOOD_PASSWORD)
    user = StaffUser.objects.get(username=f"new_{name}")
    assert user.tier == tier
    assert user.check_password(GOOD_PASSWORD)
    assert user.is_staff is (tier == Tier.DIRECTOR)  # only Directors reach /admin/
    assert f"Created new_{name} ({tier.label})" in output


def test_create_staff_grants_each_practice_and_audits_each_grant(practice, other_practice):
    _create_staff("rita", "--tier", "medium", "--practice", "north", "--practice", "south", "--password", GOOD_PASSWORD)
    rita = StaffUser.objects.get(username="rita")
    assert set(practices_for(rita).values_list("code", flat=True)) == {"north", "south"}
    assert _access_changes(rita) == [{"practice_granted": "north"}, {"practice_granted": "south"}]
    created = AuditEvent.objects.get(object_id=str(rita.pk), action=AuditEvent.Action.CREATE)
    assert created.detail == {"tier": [None, "Medium"], "is_active": [None, True]}
    assert created.username == services.COMMAND_LINE


def test_create_staff_refuses_an_unknown_practice_code_and_creates_nobody(practice):
    with pytest.raises(CommandError, match=r"No practice with code 'nowhere'\. Known codes: north"):
        _create_staff("rita", "--tier", "medium", "--practice", "nowhere", "--password", GOOD_PASSWORD)
    assert not StaffUser.objects.filter(username="rita").exists()


def test_create_staff_applies_the_password_rules(practice):
    with pytest.raises(CommandError, match="too short"):
        _create_staff("rita", "--tier", "low", "--practice", "north", "--password", "abc")
    assert not StaffUser.objects.filter(username="rita").exists()


def test_create_staff_refuses_a_second_user_with_the_same_name(medium):
    with pytest.raises(CommandError, match="already exists"):
        _create_staff("MEDIUM", "--tier", "low", "--password", GOOD_PASSWORD)


def test_create_staff_without_a_terminal_generates_and_prints_a_password(practice):
    output = _create_staff("rita", "--tier", "low", "--practice", "north")
    password = output.split("Password (shown once): ")[1].strip()
    assert StaffUser.objects.get(username="rita").check_password(password)


def test_create_staff_refuses_an_unknown_tier(practice):
    with pytest.raises(CommandError, match="invalid choice: 'admin'"):
        _create_staff("rita", "--tier", "admin", "--password", GOOD_PASSWORD)


# -- who gets into /admin/ -------------------------------------------------------------------


@pytest.mark.parametrize("persona", ["low", "medium", "manager", "outsider"])
def test_admin_refuses_everyone_below_director(client, personas, persona):
    user = personas[persona]
    user.is_staff = True  # even a stray is_staff flag does not open the admin: the tier decides
    user.save()
    client.force_login(user)
    assert client.get("/admin/").status_code == 403
    assert client.get("/admin/core/staffuser/").status_code == 403
    assert client.get("/admin/login/").status_code == 403


def test_management_is_refused_and_director_gets_in(client, manager, director):
    client.force_login(manager)
    assert client.get("/admin/").status_code == 403
    client.force_login(director)
    response = client.get("/admin/")
    assert response.status_code == 200
    assert b"Staff users" in response.content
    assert client.get("/admin/core/staffuser/").status_code == 200
    assert client.get("/admin/accounts/practice/").status_code == 200


def test_admin_sends_anonymous_visitors_to_the_login_page(client, db):
    response = client.get("/admin/")
    assert response.status_code == 302
    assert response["Location"].startswith("/login/?next=/admin/")


def test_admin_site_permission_is_the_director_tier(rf, personas):
    request = rf.get("/admin/")
    for name, user in personas.items():
        request.user = user
        assert admin.site.has_permission(request) is (name == "director")
    personas["director"].is_active = False
    request.user = personas["director"]
    assert admin.site.has_permission(request) is False


def test_inactive_director_is_refused(client, director):
    director.is_active = False
    director.save()
    client.force_login(director)
    assert client.get("/admin/").status_code in (302, 403)


# -- changes through the admin, each audited -----------------------------------------------------


def _change_form(user, **changes):
    data = {
        "username": user.username,
        "first_name": user.first_name,
        "last_name": user.last_name,
        "email": user.email,
        "tier": user.tier,
        "is_active": "on" if user.is_active else "",
        "practices": [p.pk for p in services.staff_granted_practices(user)],
        "_save": "Save",
    }
    data.update(changes)
    return {key: value for key, value in data.items() if value != ""}


def test_director_raises_a_tier_and_the_change_is_audited(client, director, medium):
    client.force_login(director)
    response = client.post(f"/admin/core/staffuser/{medium.pk}/change/", _change_form(medium, tier=Tier.MANAGEMENT))
    assert response.status_code == 302, response.content.decode()[:2000]
    medium.refresh_from_db()
    assert medium.tier == Tier.MANAGEMENT
    event = AuditEvent.objects.get(object_id=str(medium.pk), action=ACCESS_CHANGE)
    assert event.detail == {"tier": ["Medium", "Management"]}
    assert event.user == director


def test_director_grants_and_revokes_practices_and_each_is_audited(client, director, medium, other_practice):
    client.force_login(director)
    url = f"/admin/core/staffuser/{medium.pk}/change/"
    client.post(url, _change_form(medium, practices=[p.pk for p in [*practices_for(medium), other_practice]]))
    # A fresh user object, as the rep's next request loads (scope is cached per request).
    assert set(practices_for(StaffUser.objects.get(pk=medium.pk)).values_list("code", flat=True)) == {"north", "south"}
    client.post(url, _change_form(medium, practices=[other_practice.pk]))
    assert list(practices_for(StaffUser.objects.get(pk=medium.pk)).values_list("code", flat=True)) == ["south"]
    assert _access_changes(medium) == [{"practice_granted": "south"}, {"practice_revoked": "north"}]


def test_director_deactivates_a_user_and_it_is_audited(client, director, low):
    client.force_login(director)
    client.post(f"/admin/core/staffuser/{low.pk}/change/", _change_form(low, is_active=""))
    low.refresh_from_db()
    assert low.is_active is False
    assert _access_changes(low) == [{"is_active": [True, False]}]


def test_saving_without_changes_writes_no_access_change(client, director, low):
    client.force_login(director)
    client.post(f"/admin/core/staffuser/{low.pk}/change/", _change_form(low))
    assert _access_changes(low) == []


def test_director_cannot_lower_their_own_tier(client, director):
    client.force_login(director)
    response = client.post(
        f"/admin/core/staffuser/{director.pk}/change/", _change_form(director, tier=Tier.MEDIUM), follow=True
    )
    director.refresh_from_db()
    assert director.tier == Tier.DIRECTOR
    assert services.MESSAGE_OWN_DEMOTION in response.content.decode()
    assert _access_changes(director) == []


def test_director_adds_a_user_with_practices_through_the_admin(client, director, practice):
    client.force_login(director)
    response = client.post(
        "/admin/core/staffuser/add/",
        {
            "username": "newrep",
            "password1": GOOD_PASSWORD,
            "password2": GOOD_PASSWORD,
            "first_name": "Nora",
            "last_name": "Reyes",
            "email": "nora@example.org",
            "tier": Tier.MEDIUM,
            "practices": [practice.pk],
            "_save": "Save",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    rep = StaffUser.objects.get(username="newrep")
    assert rep.tier == Tier.MEDIUM and rep.check_password(GOOD_PASSWORD)
    assert list(practices_for(rep).values_list("code", flat=True)) == ["north"]
    assert _access_changes(rep) == [{"practice_granted": "north"}]
    assert AuditEvent.objects.filter(object_id=str(rep.pk), action=AuditEvent.Action.CREATE, user=director).exists()


def test_password_set_by_a_director_is_audited_without_the_password(client, director, low):
    client.force_login(director)
    response = client.post(
        f"/admin/core/staffuser/{low.pk}/password/",
        {"password1": GOOD_PASSWORD, "password2": GOOD_PASSWORD, "usable_password": "true"},
    )
    assert response.status_code == 302
    low.refresh_from_db()
    assert low.check_password(GOOD_PASSWORD)
    event = AuditEvent.objects.get(object_id=str(low.pk), action=AuditEvent.Action.UPDATE)
    assert event.detail == {"fields": ["password"]}
    assert GOOD_PASSWORD not in str(event.detail)


def test_staff_users_cannot_be_deleted_only_deactivated(client, director, low):
    client.force_login(director)
    assert client.get(f"/admin/core/staffuser/{low.pk}/delete/").status_code == 403
    assert StaffUser.objects.filter(pk=low.pk).exists()


def test_practice_policy_change_is_audited_by_field_name(client, director, practice):
    client.force_login(director)
    url = f"/admin/accounts/practice/{practice.pk}/change/"
    form = client.get(url).context["adminform"].form
    data = {name: form[name].value() for name in form.fields if form[name].value() is not None}
    data = {key: value for key, value in data.items() if value is not False}
    data["call_cap_count"] = 2  # Massachusetts: 2 calls in 7 days
    response = client.post(url, {**data, "_save": "Save"})
    assert response.status_code == 302, response.content.decode()[:2000]
    practice.refresh_from_db()
    assert practice.call_cap_count == 2
    event = AuditEvent.objects.get(object_type="accounts.practice", action=AuditEvent.Action.UPDATE)
    assert event.detail == {"fields": ["call_cap_count"]}
    assert event.practice_id == practice.pk


def test_director_unlocks_a_locked_out_login_and_it_is_audited(client, director, medium):
    attempt = AccessAttempt.objects.create(
        username="medium", ip_address="127.0.0.1", user_agent="test", failures_since_start=5, get_data="", post_data=""
    )
    client.force_login(director)
    response = client.post(f"/admin/axes/accessattempt/{attempt.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302
    assert not AccessAttempt.objects.exists()
    event = AuditEvent.objects.get(action=ACCESS_CHANGE, detail__login_unlocked="medium")
    assert event.object_id == str(medium.pk)


# -- the services refuse anyone below Director -----------------------------------------------------


def test_services_refuse_a_manager_changing_access(manager, medium):
    with pytest.raises(ApplicationError, match="Only a Director"):
        services.staff_set_tier(acting_user=manager, staff_user=medium, tier=Tier.DIRECTOR)
    medium.refresh_from_db()
    assert medium.tier == Tier.MEDIUM


def test_services_refuse_an_anonymous_acting_user(medium):
    with pytest.raises(ApplicationError, match="Only a Director"):
        services.staff_set_active(acting_user=AnonymousUser(), staff_user=medium, is_active=False)
