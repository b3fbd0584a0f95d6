"""Placements and agency payments through the API: the placement list (filters by agency, status,
practice and the date placed) and one placement with what came back, Medium and up; the agency
payments list, Management and up. Each: an allowed tier, a refused tier, another practice's user."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from accounts.selectors import practice_today
from collections_app.agencies import services
from collections_app.models import Placement
from core.models import AuditEvent, Tier
from tests.collections_app.agencies_support import make_agency, ready_account
from tests.factories import StaffUserFactory

pytestmark = pytest.mark.django_db

LIST = "api-placement-create"  # GET lists, POST places
DETAIL = "api-placement-detail"
PAYMENTS = "api-agency-payments"


def api(user):
    client = APIClient()
    client.force_authenticate(user)
    return client


def place(manager, account, agency=None):
    preview = services.placement_preview(
        acting_user=manager, account_ids=[account.pk], agency_id=agency.pk if agency else None
    )
    [batch] = services.placement_place(
        acting_user=manager,
        account_ids=[account.pk],
        agency_id=agency.pk if agency else None,
        fingerprint=preview.fingerprint,
    )
    return batch.placements.get()


@pytest.fixture
def agency(practice):
    return make_agency(practice, rate="25.00")


@pytest.fixture
def placement(practice, manager, agency):
    return place(manager, ready_account(practice, balance="600.00", account_number="P3000001"))


@pytest.fixture
def paid(placement, manager, practice):
    """The agency collected $200.00 of the placement's $600.00."""
    payment, _ = services.agency_payment_record(
        acting_user=manager,
        placement_id=placement.pk,
        paid_on=practice_today(practice) - timedelta(days=2),
        gross=Decimal("200.00"),
        commission=None,
        reference="REMIT-1",
    )
    return payment


# --- GET /api/placements/ -------------------------------------------------------------------------


@pytest.mark.parametrize("tier", ["medium", "manager", "director"])
def test_medium_and_up_list_the_placements(request, tier, placement, agency):
    body = api(request.getfixturevalue(tier)).get(reverse(LIST)).json()
    assert body["count"] == 1 and body["count_capped"] is False
    [row] = body["results"]
    assert row["id"] == placement.pk and row["account_number"] == "P3000001"
    assert row["agency"] == agency.pk and row["agency_name"] == agency.name
    assert row["status"] == "placed" and row["placed_balance"] == "600.00" and row["collected"] == "0.00"
    assert row["patient_name"]


def test_the_low_tier_is_refused_the_placements(low, placement):
    assert api(low).get(reverse(LIST)).status_code == 403


def test_another_practice_lists_none_of_our_placements(outsider, placement):
    body = api(outsider).get(reverse(LIST)).json()
    assert body["count"] == 0 and body["results"] == []


def test_another_practices_id_in_a_filter_reveals_nothing(outsider, placement, practice):
    body = api(outsider).get(reverse(LIST), {"practice": practice.pk}).json()
    assert body["results"] == []


def test_the_placement_list_filters_by_agency_status_practice_and_date(practice, manager, agency, placement):
    second_agency = make_agency(practice, name="Summit Collections", default=False)
    recalled = place(manager, ready_account(practice, account_number="P3000002"), agency=second_agency)
    services.placement_recall(acting_user=manager, placement_ids=[recalled.pk], note="")
    Placement.objects.filter(pk=recalled.pk).update(placed_on=placement.placed_on - timedelta(days=40))
    client = api(manager)

    def ids(**query):
        return [row["id"] for row in client.get(reverse(LIST), query).json()["results"]]

    assert ids() == [placement.pk, recalled.pk]
    assert ids(agency=second_agency.pk) == [recalled.pk]
    assert ids(status="recalled") == [recalled.pk]
    assert ids(status=["placed", "recalled"]) == [placement.pk, recalled.pk]
    assert ids(status="closed") == []
    assert ids(practice=practice.pk) == [placement.pk, recalled.pk]
    assert ids(placed_on_after=(placement.placed_on - timedelta(days=1)).isoformat()) == [placement.pk]
    assert ids(placed_on_before=(placement.placed_on - timedelta(days=30)).isoformat()) == [recalled.pk]
    assert ids(account=recalled.account_id) == [recalled.pk]


@pytest.mark.parametrize(
    ("query", "named"),
    [
        ({"status": "paid"}, "status"),
        ({"agency": "x"}, "agency"),
        ({"practice": "1.5"}, "practice"),
        ({"account": str(2**63)}, "account"),
        ({"placed_on_after": "x"}, "placed_on"),
    ],
)
def test_a_bad_filter_value_is_a_400_naming_it(manager, placement, query, named):
    response = api(manager).get(reverse(LIST), query)
    assert response.status_code == 400
    assert set(response.json()) == {named}


def test_listing_placements_is_audited_per_placement(medium, placement):
    api(medium).get(reverse(LIST))
    event = AuditEvent.objects.get(
        action=AuditEvent.Action.VIEW, object_type="collections_app.placement", object_id=str(placement.pk)
    )
    assert event.field_group == "billing,demographics"


def test_the_placement_list_runs_a_fixed_number_of_queries(practice, manager, agency, django_assert_max_num_queries):
    for number in range(8):
        place(manager, ready_account(practice, account_number=f"P31{number:05d}"))
    client = api(manager)
    with django_assert_max_num_queries(8):
        response = client.get(reverse(LIST))
    assert response.json()["count"] == 8


def test_a_medium_rep_still_cannot_place(medium, practice):
    account = ready_account(practice, account_number="P3000009")
    response = api(medium).post(reverse(LIST), {"accounts": [account.pk]}, format="json")
    assert response.status_code == 403
    assert not Placement.objects.exists()


# --- GET /api/placements/<id>/ ----------------------------------------------------------------------


@pytest.mark.parametrize("tier", ["medium", "manager", "director"])
def test_one_placement_with_what_the_agency_collected(request, tier, placement, paid):
    body = api(request.getfixturevalue(tier)).get(reverse(DETAIL, args=[placement.pk])).json()
    assert body["id"] == placement.pk and body["collected"] == "200.00"
    [payment] = body["payments"]
    assert (payment["gross"], payment["commission"], payment["net"]) == ("200.00", "50.00", "150.00")
    assert payment["transaction"] == paid.transaction_id
    assert body["direct_payments"] == []
    assert body["patient_name"] and body["first_service_on"] and "write_off" in body


def test_a_payment_to_the_practice_while_placed_shows_on_the_placement(placement, medium, practice):
    from accounts import services as ledger
    from accounts.models import Transaction

    ledger.transaction_post(
        acting_user=medium,
        account_id=placement.account_id,
        kind=Transaction.Kind.PATIENT_PAYMENT,
        patient_amount=Decimal("-25.00"),
        payment_method="cash",
    )
    [direct] = api(medium).get(reverse(DETAIL, args=[placement.pk])).json()["direct_payments"]
    assert direct["amount"] == "25.00" and direct["reported_in"] is None


def test_reading_a_placement_is_audited(medium, placement):
    api(medium).get(reverse(DETAIL, args=[placement.pk]))
    event = AuditEvent.objects.get(
        action=AuditEvent.Action.VIEW, object_type="collections_app.placement", object_id=str(placement.pk)
    )
    assert event.detail == {"account_id": placement.account_id}


def test_the_low_tier_is_refused_a_placement(low, placement):
    assert api(low).get(reverse(DETAIL, args=[placement.pk])).status_code == 403


def test_another_practice_gets_404_for_a_placement(outsider, placement):
    response = api(outsider).get(reverse(DETAIL, args=[placement.pk]))
    assert response.status_code == 404
    assert response.json() == {"detail": "No such record in your practices."}


# --- GET /api/agency-payments/ ------------------------------------------------------------------------


@pytest.mark.parametrize("tier", ["manager", "director"])
def test_management_lists_what_agencies_collected(request, tier, paid, placement):
    body = api(request.getfixturevalue(tier)).get(reverse(PAYMENTS)).json()
    [row] = body["results"]
    assert row["id"] == paid.pk and row["placement"] == placement.pk and row["account_number"] == "P3000001"
    assert (row["gross"], row["commission"], row["net"]) == ("200.00", "50.00", "150.00")
    assert row["posted_by"] == "manager"


@pytest.mark.parametrize("tier", ["low", "medium"])
def test_lower_tiers_are_refused_the_agency_payments(request, tier, paid):
    assert api(request.getfixturevalue(tier)).get(reverse(PAYMENTS)).status_code == 403


def test_another_practices_manager_sees_none_of_our_agency_payments(other_practice, paid):
    south = StaffUserFactory(username="south-manager", tier=Tier.MANAGEMENT, practices=[other_practice])
    assert api(south).get(reverse(PAYMENTS)).json()["results"] == []


def test_the_agency_payments_filter_by_agency_placement_and_date(manager, paid, placement, agency, practice):
    client = api(manager)

    def ids(**query):
        return [row["id"] for row in client.get(reverse(PAYMENTS), query).json()["results"]]

    assert ids(agency=agency.pk) == [paid.pk]
    assert ids(agency=agency.pk + 1000) == []
    assert ids(placement=placement.pk) == [paid.pk]
    assert ids(practice=practice.pk) == [paid.pk]
    assert ids(paid_on_after=practice_today(practice).isoformat()) == []
    assert ids(paid_on_before=practice_today(practice).isoformat()) == [paid.pk]


def test_listing_agency_payments_is_audited_and_runs_a_fixed_number_of_queries(
    manager, practice, placement, django_assert_max_num_queries
):
    for number in range(6):
        services.agency_payment_record(
            acting_user=manager,
            placement_id=placement.pk,
            paid_on=practice_today(practice) - timedelta(days=1),
            gross=Decimal("10.00"),
            commission=None,
            reference=f"REMIT-{number}",
        )
    client = api(manager)
    with django_assert_max_num_queries(8):
        body = client.get(reverse(PAYMENTS)).json()
    assert body["count"] == 6
    viewed = AuditEvent.objects.filter(action=AuditEvent.Action.VIEW, object_type="collections_app.agencypayment")
    assert viewed.count() == 6
