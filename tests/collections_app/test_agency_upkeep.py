"""Agency upkeep (Management): the set-up list, adding an agency, changing it (its commission rate
above all), stopping and resuming its use. Agencies belong to one practice: another practice's
manager gets a 404 and changes nothing; Medium and Low are refused. Pages and API alike; every
change audited with the old and new values."""

from decimal import Decimal

import pytest
from rest_framework.test import APIClient

from collections_app.agencies import services
from collections_app.models import Agency, Placement
from core.errors import ApplicationError
from core.models import AuditEvent, Tier
from tests.collections_app.agencies_support import make_agency, ready_account
from tests.factories import StaffUserFactory

pytestmark = pytest.mark.django_db

SETUP, NEW = "/agencies/setup/", "/agencies/new/"


@pytest.fixture
def south_manager(other_practice):
    return StaffUserFactory(username="south-manager", tier=Tier.MANAGEMENT, practices=[other_practice])


def form_data(practice=None, **overrides):
    data = {
        "name": "Hudson Valley Recovery",
        "contact_name": "Dana Ruiz",
        "phone": "(518) 555-0199",
        "email": "placements@hudson.example",
        "mailing_address": "PO Box 44\nKingston NY 12401",
        "commission_rate": "27.50",
        "file_layout": "fixed_width",
    }
    if practice is not None:
        data["practice"] = practice.pk
    data.update(overrides)
    return data


def place(manager, accounts, **kwargs):
    ids = [a.pk for a in accounts]
    preview = services.placement_preview(acting_user=manager, account_ids=ids, **kwargs)
    return services.placement_place(acting_user=manager, account_ids=ids, fingerprint=preview.fingerprint, **kwargs)


def audits(agency):
    return list(
        AuditEvent.objects.filter(object_type="collections_app.agency", object_id=str(agency.pk)).order_by("id")
    )


# --- services -------------------------------------------------------------------------------------------


def test_a_manager_adds_an_agency_with_its_contact_commission_and_layout(practice, manager):
    agency = services.agency_create(
        acting_user=manager, practice_id=practice.pk, **{**form_data(), "commission_rate": Decimal("27.5")}
    )
    agency.refresh_from_db()
    assert (agency.practice, agency.name, agency.phone, agency.commission_rate, agency.file_layout) == (
        practice,
        "Hudson Valley Recovery",
        "5185550199",
        Decimal("27.50"),
        Agency.FileLayout.FIXED_WIDTH,
    )
    assert agency.mailing_address == "PO Box 44\nKingston NY 12401" and agency.is_active and not agency.is_default
    [row] = audits(agency)
    assert row.action == AuditEvent.Action.CREATE and row.user == manager and row.practice_id == practice.pk


@pytest.mark.parametrize(
    ("rate", "ok"),
    [
        ("0", True),
        ("100", True),
        ("0.01", True),
        ("99.99", True),
        ("-0.01", False),
        ("100.01", False),
        ("25.001", False),
    ],
)
def test_the_commission_is_a_percent_from_0_to_100_with_two_decimals(practice, manager, rate, ok):
    if ok:
        agency = services.agency_create(acting_user=manager, practice_id=practice.pk, name="A", commission_rate=rate)
        assert agency.commission_rate == Decimal(rate)
    else:
        with pytest.raises(ApplicationError) as refused:
            services.agency_create(acting_user=manager, practice_id=practice.pk, name="A", commission_rate=rate)
        assert refused.value.field == "commission_rate" and "from 0 to 100" in refused.value.message
        assert not Agency.objects.exists()


def test_a_name_is_unique_within_the_practice_not_across_practices(practice, other_practice, manager, director):
    make_agency(practice, name="Keystone Recovery")
    with pytest.raises(ApplicationError) as refused:
        services.agency_create(
            acting_user=manager, practice_id=practice.pk, name="keystone recovery", commission_rate=1
        )
    assert refused.value.message == "Northside Pediatrics already has an agency named keystone recovery."
    services.agency_create(
        acting_user=director, practice_id=other_practice.pk, name="Keystone Recovery", commission_rate=1
    )
    assert Agency.objects.filter(name="Keystone Recovery").count() == 2


def test_a_manager_cannot_add_an_agency_to_another_practice(other_practice, manager):
    with pytest.raises(ApplicationError) as refused:
        services.agency_create(acting_user=manager, practice_id=other_practice.pk, name="X", commission_rate=10)
    assert refused.value.field == "practice"
    assert not Agency.objects.exists()


def test_a_rep_cannot_add_change_or_stop_an_agency(practice, medium):
    from django.core.exceptions import PermissionDenied

    agency = make_agency(practice)
    with pytest.raises(PermissionDenied):
        services.agency_create(acting_user=medium, practice_id=practice.pk, name="X", commission_rate=10)
    with pytest.raises(PermissionDenied):
        services.agency_update(acting_user=medium, agency_id=agency.pk, commission_rate="30")
    with pytest.raises(PermissionDenied):
        services.agency_set_active(acting_user=medium, agency_id=agency.pk, active=False)


def test_a_commission_change_is_audited_with_old_and_new_and_applies_to_later_payments(practice, manager):
    agency = make_agency(practice, rate="25.00")
    account = ready_account(practice, balance="600.00")
    place(manager, [account])
    placement = Placement.objects.get(account=account)
    from accounts.selectors import practice_today

    before, _ = services.agency_payment_record(
        acting_user=manager, placement_id=placement.pk, paid_on=practice_today(practice), gross="100.00", reference="R1"
    )
    services.agency_update(acting_user=manager, agency_id=agency.pk, commission_rate="30")
    after, _ = services.agency_payment_record(
        acting_user=manager, placement_id=placement.pk, paid_on=practice_today(practice), gross="100.00", reference="R2"
    )
    before.refresh_from_db()
    assert (before.commission, after.commission) == (Decimal("25.00"), Decimal("30.00"))
    row = audits(agency)[-1]
    assert row.action == AuditEvent.Action.UPDATE
    assert row.detail["changes"] == {"commission_rate": {"was": "25.00", "now": "30.00"}}


def test_making_an_agency_the_default_replaces_the_practices_default(practice, manager):
    first = make_agency(practice, name="Keystone Recovery", default=True)
    second = make_agency(practice, name="Second Chance Collections", default=False)
    services.agency_update(acting_user=manager, agency_id=second.pk, is_default=True)
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.is_default, second.is_default) == (False, True)
    assert audits(first)[-1].detail["changes"] == {"is_default": {"was": True, "now": False}}


def test_saving_nothing_new_writes_no_audit_row(practice, manager):
    agency = make_agency(practice)
    services.agency_update(acting_user=manager, agency_id=agency.pk, name="Keystone Recovery", commission_rate="25")
    assert audits(agency) == []


def test_an_agency_with_placed_accounts_cannot_be_stopped_and_says_so(practice, manager):
    agency = make_agency(practice)
    one, two = ready_account(practice), ready_account(practice)
    place(manager, [one, two])
    with pytest.raises(ApplicationError) as refused:
        services.agency_set_active(acting_user=manager, agency_id=agency.pk, active=False)
    assert refused.value.message == (
        "Keystone Recovery still has 2 accounts placed with it. Recall them (Placements and files) "
        "before it stops taking placements."
    )
    agency.refresh_from_db()
    assert agency.is_active
    services.placement_recall(
        acting_user=manager, placement_ids=list(Placement.objects.values_list("pk", flat=True)), note="Contract ends"
    )
    services.agency_set_active(acting_user=manager, agency_id=agency.pk, active=False)
    agency.refresh_from_db()
    assert not agency.is_active and not agency.is_default  # no longer the practice's default


def test_a_stopped_agency_takes_no_placements_until_used_again(practice, manager):
    agency = make_agency(practice)
    account = ready_account(practice)
    services.agency_set_active(acting_user=manager, agency_id=agency.pk, active=False)
    preview = services.placement_preview(acting_user=manager, account_ids=[account.pk], agency_id=agency.pk)
    assert preview.count == 0 and preview.refused == [(account.pk, "Keystone Recovery no longer takes placements.")]
    with pytest.raises(ApplicationError) as refused:
        services.agency_update(acting_user=manager, agency_id=agency.pk, is_default=True)
    assert refused.value.field == "is_default"
    services.agency_set_active(acting_user=manager, agency_id=agency.pk, active=True)
    [batch] = place(manager, [account], agency_id=agency.pk)
    assert batch.agency == agency


def test_an_agency_stopped_between_preview_and_confirm_places_nothing(practice, manager):
    agency = make_agency(practice)
    account = ready_account(practice)
    preview = services.placement_preview(acting_user=manager, account_ids=[account.pk])
    Agency.objects.filter(pk=agency.pk).update(is_active=False)  # another manager, a moment ago
    with pytest.raises(ApplicationError):
        services.placement_place(acting_user=manager, account_ids=[account.pk], fingerprint=preview.fingerprint)
    assert not Placement.objects.exists()


def test_another_practices_manager_cannot_change_or_stop_our_agency(practice, manager, south_manager):
    agency = make_agency(practice)
    with pytest.raises(ApplicationError):
        services.agency_update(acting_user=south_manager, agency_id=agency.pk, commission_rate="50")
    with pytest.raises(ApplicationError):
        services.agency_set_active(acting_user=south_manager, agency_id=agency.pk, active=False)
    agency.refresh_from_db()
    assert agency.commission_rate == Decimal("25.00") and agency.is_active


# --- pages ------------------------------------------------------------------------------------------------


def test_the_setup_list_shows_every_agency_in_a_fixed_number_of_queries(
    client, practice, manager, django_assert_max_num_queries
):
    for number in range(6):
        make_agency(practice, name=f"Agency {number}", default=number == 0)
    stopped = make_agency(practice, name="Old Agency", default=False)
    services.agency_set_active(acting_user=manager, agency_id=stopped.pk, active=False)
    client.force_login(manager)
    with django_assert_max_num_queries(10):
        response = client.get(SETUP)
    assert response.status_code == 200
    text = response.content.decode()
    assert "Agency 5" in text and "Old Agency" in text and "No longer used" in text and "Use again" in text


@pytest.mark.parametrize("path", [SETUP, NEW])
def test_setup_pages_refuse_low_and_medium(client, practice, low, medium, path):
    for user in (low, medium):
        client.force_login(user)
        assert client.get(path).status_code == 403
        assert client.post(NEW, form_data(practice)).status_code == 403
    assert not Agency.objects.exists()


def test_a_manager_adds_an_agency_from_the_page(client, practice, manager):
    client.force_login(manager)
    page = client.get(NEW).content.decode()
    assert "Commission (percent)" in page and "Placement file layout" in page
    done = client.post(NEW, form_data(practice, is_default="on"), follow=True)
    assert "Hudson Valley Recovery is set up for Northside Pediatrics." in done.content.decode()
    agency = Agency.objects.get()
    assert (agency.commission_rate, agency.phone, agency.is_default) == (Decimal("27.50"), "5185550199", True)


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("name", "", "Enter the agency&#x27;s name."),
        ("commission_rate", "", "Enter the commission as a percent from 0 to 100."),
        ("commission_rate", "abc", "Enter the commission as a number, such as 25 or 27.50."),
        ("commission_rate", "-1", "The commission cannot be below 0 percent."),
        ("commission_rate", "100.5", "The commission cannot be above 100 percent."),
        ("commission_rate", "12.345", "Use at most two decimals for the commission."),
        ("phone", "555-01", "Enter a ten-digit phone number, area code first."),
        ("email", "not-an-address", "Enter an email address such as placements@agency.example."),
        ("file_layout", "pdf", "Select a valid choice."),
    ],
)
def test_the_form_says_what_is_wrong_beside_the_field(client, practice, manager, field, value, message):
    client.force_login(manager)
    response = client.post(NEW, form_data(practice, **{field: value}))
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not Agency.objects.exists()


def test_every_error_shows_at_once(client, practice, manager):
    client.force_login(manager)
    response = client.post(NEW, form_data(practice, name="", commission_rate="150", phone="12"))
    errors = response.context["form"].errors
    assert set(errors) == {"name", "commission_rate", "phone"}


def test_the_practice_must_be_one_of_the_managers(client, practice, other_practice, manager):
    client.force_login(manager)
    response = client.post(NEW, form_data(other_practice))
    assert response.status_code == 400 and "Choose one of your practices." in response.content.decode()
    assert not Agency.objects.exists()


def test_a_duplicate_name_is_refused_beside_the_name(client, practice, manager):
    make_agency(practice, name="Hudson Valley Recovery")
    client.force_login(manager)
    response = client.post(NEW, form_data(practice))
    assert response.status_code == 400
    assert response.context["form"].errors["name"] == [
        "Northside Pediatrics already has an agency named Hudson Valley Recovery."
    ]


def test_a_manager_edits_the_commission_from_the_page(client, practice, manager):
    agency = make_agency(practice)
    client.force_login(manager)
    page = client.get(f"/agencies/{agency.pk}/edit/")
    assert page.status_code == 200 and 'value="25.00"' in page.content.decode()
    data = {**page.context["form"].initial, "commission_rate": "30", "is_default": "on"}
    data = {key: value for key, value in data.items() if value is not None}
    done = client.post(f"/agencies/{agency.pk}/edit/", data, follow=True)
    assert "Keystone Recovery saved." in done.content.decode()
    agency.refresh_from_db()
    assert agency.commission_rate == Decimal("30.00")


def test_an_edit_over_someone_elses_change_is_refused_and_shows_theirs(client, practice, manager):
    agency = make_agency(practice)
    client.force_login(manager)
    initial = dict(client.get(f"/agencies/{agency.pk}/edit/").context["form"].initial)
    services.agency_update(acting_user=manager, agency_id=agency.pk, commission_rate="40")
    response = client.post(f"/agencies/{agency.pk}/edit/", {**initial, "commission_rate": "30"})
    assert response.status_code == 400
    assert services.MESSAGE_AGENCY_CHANGED in response.content.decode()
    assert 'value="40.00"' in response.content.decode()
    agency.refresh_from_db()
    assert agency.commission_rate == Decimal("40.00")


def test_another_practices_manager_gets_404_on_our_agency_pages(client, practice, manager, south_manager):
    agency = make_agency(practice)
    client.force_login(south_manager)
    assert client.get(f"/agencies/{agency.pk}/edit/").status_code == 404
    assert client.post(f"/agencies/{agency.pk}/edit/", form_data(commission_rate="90")).status_code == 404
    assert client.post(f"/agencies/{agency.pk}/active/", {"active": "0"}).status_code == 404
    assert "Keystone" not in client.get(SETUP).content.decode()
    agency.refresh_from_db()
    assert agency.commission_rate == Decimal("25.00") and agency.is_active


def test_stopping_from_the_page_is_refused_in_words_while_accounts_are_placed(client, practice, manager):
    agency = make_agency(practice)
    place(manager, [ready_account(practice)])
    client.force_login(manager)
    done = client.post(f"/agencies/{agency.pk}/active/", {"active": "0"}, follow=True)
    assert "Keystone Recovery still has 1 account placed with it. Recall it" in done.content.decode()
    agency.refresh_from_db()
    assert agency.is_active


def test_stopping_and_resuming_from_the_page(client, practice, manager, medium):
    agency = make_agency(practice)
    client.force_login(medium)
    assert client.post(f"/agencies/{agency.pk}/active/", {"active": "0"}).status_code == 403
    client.force_login(manager)
    done = client.post(f"/agencies/{agency.pk}/active/", {"active": "0"}, follow=True)
    assert "Keystone Recovery no longer takes placements." in done.content.decode()
    agency.refresh_from_db()
    assert not agency.is_active
    done = client.post(f"/agencies/{agency.pk}/active/", {"active": "1"}, follow=True)
    assert "Keystone Recovery takes placements again." in done.content.decode()
    assert client.post(f"/agencies/{agency.pk}/active/", {"active": "maybe"}, follow=True).status_code == 200


# --- API ---------------------------------------------------------------------------------------------------


def api(user):
    client = APIClient()
    client.force_authenticate(user)
    return client


def api_body(practice, **overrides):
    body = {**form_data(practice), "commission_rate": "27.50"}
    body.update(overrides)
    return body


def test_api_a_manager_adds_an_agency(practice, manager):
    response = api(manager).post("/api/agencies/", api_body(practice), format="json")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["name"], body["commission_rate"], body["file_layout"], body["phone"]) == (
        "Hudson Valley Recovery",
        "27.50",
        "fixed_width",
        "5185550199",
    )
    assert body["practice"] == practice.pk and body["mailing_address"].startswith("PO Box 44")


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"commission_rate": "100.01"}, "commission_rate"),
        ({"commission_rate": "-1"}, "commission_rate"),
        ({"commission_rate": "12.345"}, "commission_rate"),
        ({"file_layout": "pdf"}, "file_layout"),
        ({"phone": "12345"}, "phone"),
        ({"name": ""}, "name"),
    ],
)
def test_api_refuses_bad_values_naming_the_field(practice, manager, overrides, field):
    response = api(manager).post("/api/agencies/", api_body(practice, **overrides), format="json")
    assert response.status_code == 400 and field in response.json()
    assert not Agency.objects.exists()


def test_api_refuses_low_and_medium_and_another_practice(practice, other_practice, low, medium, manager):
    for user in (low, medium):
        assert api(user).post("/api/agencies/", api_body(practice), format="json").status_code == 403
    theirs = api(manager).post("/api/agencies/", api_body(other_practice), format="json")
    assert theirs.status_code == 400 and theirs.json() == {"practice": ["Choose one of your practices."]}
    assert not Agency.objects.exists()


def test_api_patch_changes_only_the_fields_sent(practice, manager, medium):
    agency = make_agency(practice)
    response = api(manager).patch(f"/api/agencies/{agency.pk}/", {"commission_rate": "31.25"}, format="json")
    assert response.status_code == 200, response.json()
    assert (response.json()["commission_rate"], response.json()["name"]) == ("31.25", "Keystone Recovery")
    assert api(medium).get(f"/api/agencies/{agency.pk}/").json()["commission_rate"] == "31.25"
    assert api(medium).patch(f"/api/agencies/{agency.pk}/", {"commission_rate": "1"}, format="json").status_code == 403


def test_api_patch_stops_an_agency_or_says_why_not(practice, manager):
    agency = make_agency(practice)
    place(manager, [ready_account(practice)])
    refused = api(manager).patch(f"/api/agencies/{agency.pk}/", {"is_active": False}, format="json")
    assert refused.status_code == 400
    assert refused.json()["is_active"][0].startswith("Keystone Recovery still has 1 account placed with it.")
    Placement.objects.update(status=Placement.Status.CLOSED, closed_at="2026-12-01T00:00:00Z")
    done = api(manager).patch(f"/api/agencies/{agency.pk}/", {"is_active": False}, format="json")
    assert done.status_code == 200 and done.json()["is_active"] is False and done.json()["is_default"] is False


def test_api_another_practices_manager_gets_404(practice, manager, south_manager, outsider):
    agency = make_agency(practice)
    assert api(south_manager).get(f"/api/agencies/{agency.pk}/").status_code == 404
    assert api(outsider).get(f"/api/agencies/{agency.pk}/").status_code == 404
    response = api(south_manager).patch(f"/api/agencies/{agency.pk}/", {"commission_rate": "90"}, format="json")
    assert response.status_code == 404
    agency.refresh_from_db()
    assert agency.commission_rate == Decimal("25.00")
