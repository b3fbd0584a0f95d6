"""Agency payments page: one payment typed from the agency's remittance statement, beside the file
upload. Management posts it (gross, commission at the agency's rate, net); the same reference again
posts nothing; a Medium rep is refused; another practice's manager cannot reach the placement."""

from datetime import timedelta
from decimal import Decimal

import pytest

from accounts.ledger_check import ledger_mismatches
from accounts.selectors import practice_today
from collections_app.agencies import services
from collections_app.models import AgencyPayment
from core.models import AuditEvent, Tier
from tests.collections_app.agencies_support import make_agency, ready_account
from tests.factories import StaffUserFactory

pytestmark = pytest.mark.django_db

PAYMENTS = "/agencies/payments/"


@pytest.fixture
def placed(practice, manager):
    agency = make_agency(practice, rate="25.00")
    account = ready_account(practice, balance="600.00", account_number="H1000001")
    preview = services.placement_preview(acting_user=manager, account_ids=[account.pk])
    services.placement_place(acting_user=manager, account_ids=[account.pk], fingerprint=preview.fingerprint)
    return agency, account


def by_hand(agency, practice, **overrides):
    data = {
        "form": "by-hand",
        "agency": agency.pk,
        "account_number": "H1000001",
        "paid_on": (practice_today(practice) - timedelta(days=2)).isoformat(),
        "gross": "200.00",
        "commission": "",
        "reference": "REMIT-77",
    }
    return {**data, **overrides}


def test_a_manager_posts_one_agency_payment_by_hand_at_the_agency_rate(client, practice, manager, placed):
    agency, account = placed
    client.force_login(manager)
    page = client.get(PAYMENTS).content.decode()
    assert "Post a payment by hand" in page
    done = client.post(PAYMENTS, by_hand(agency, practice), follow=True)
    assert (
        "Posted $200.00 collected by the agency on account H1000001: commission $50.00, net to the practice $150.00."
        in done.content.decode()
    )
    payment = AgencyPayment.objects.get()
    assert (payment.gross, payment.commission, payment.net) == (Decimal("200.00"), Decimal("50.00"), Decimal("150.00"))
    assert payment.transaction.account_id == account.pk
    mismatches, _ = ledger_mismatches()
    assert mismatches == []
    again = client.post(PAYMENTS, by_hand(agency, practice), follow=True)
    assert "was posted before: nothing new posted" in again.content.decode()
    assert AgencyPayment.objects.count() == 1
    assert AuditEvent.objects.filter(user=manager).exists()


def test_refusals_show_beside_their_field_and_post_nothing(client, practice, manager, placed):
    agency, _ = placed
    client.force_login(manager)
    unknown = client.post(PAYMENTS, by_hand(agency, practice, account_number="H9999999"))
    assert unknown.status_code == 400
    assert "No account with this number was placed with that agency." in unknown.content.decode()
    overpaid = client.post(PAYMENTS, by_hand(agency, practice, gross="900.00"))
    assert overpaid.status_code == 400
    future = client.post(
        PAYMENTS, by_hand(agency, practice, paid_on=(practice_today(practice) + timedelta(days=3)).isoformat())
    )
    assert future.status_code == 400
    odd = client.post(PAYMENTS, by_hand(agency, practice, gross="-5", paid_on="yesterday"))
    assert odd.status_code == 400
    assert AgencyPayment.objects.count() == 0


def test_a_medium_rep_is_refused(client, practice, medium, placed):
    agency, _ = placed
    client.force_login(medium)
    assert client.post(PAYMENTS, by_hand(agency, practice)).status_code == 403
    assert AgencyPayment.objects.count() == 0


def test_another_practices_manager_cannot_post_to_this_practices_placement(client, practice, other_practice, placed):
    agency, _ = placed
    south = StaffUserFactory(username="south-manager", tier=Tier.MANAGEMENT, practices=[other_practice])
    client.force_login(south)
    response = client.post(PAYMENTS, by_hand(agency, practice))
    assert response.status_code == 400
    assert AgencyPayment.objects.count() == 0
