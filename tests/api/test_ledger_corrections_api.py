"""One ledger row, and its correction, through the API: GET /api/transactions/<id>/ (Medium and up)
and POST /api/transactions/<id>/reverse/ (Management and up, with a reason) through
accounts.services.transaction_reverse. The reversal appends a negating row, the balance comes back,
and check_ledger stays clean; a second reversal, a missing reason or a write-off is a 400."""

from decimal import Decimal

import pytest
from django.core.management import call_command
from django.urls import reverse
from rest_framework.test import APIClient

from accounts import services as ledger
from accounts.ledger_check import ledger_mismatches
from accounts.models import PatientAccount, Transaction
from core.models import AuditEvent
from writeoffs import services as writeoff_services
from writeoffs.models import Reason

pytestmark = pytest.mark.django_db

Kind = Transaction.Kind
DETAIL = "api-transaction-detail"
REVERSE = "api-transaction-reverse"


def api(user):
    client = APIClient()
    client.force_authenticate(user)
    return client


@pytest.fixture
def payment(account, medium):
    """A $30.00 cash payment on the $200.00 account."""
    return ledger.transaction_post(
        acting_user=medium,
        account_id=account.pk,
        kind=Kind.PATIENT_PAYMENT,
        patient_amount=Decimal("-30.00"),
        payment_method="cash",
    )


def balance(account) -> Decimal:
    return PatientAccount.objects.values_list("patient_balance", flat=True).get(pk=account.pk)


# --- GET /api/transactions/<id>/ ----------------------------------------------------------------------


@pytest.mark.parametrize("tier", ["medium", "manager", "director"])
def test_medium_and_up_read_one_ledger_row(request, tier, payment, account):
    body = api(request.getfixturevalue(tier)).get(reverse(DETAIL, args=[payment.pk])).json()
    assert body["id"] == payment.pk and body["account"] == account.pk
    assert body["account_number"] == "N0001234" and body["account_patient_balance"] == "170.00"
    assert body["kind"] == "patient_payment" and body["patient_amount"] == "-30.00"
    assert body["reversed_by"] is None and body["posted_by"] == "medium"


def test_reading_a_ledger_row_is_audited_on_its_account(medium, payment, account):
    api(medium).get(reverse(DETAIL, args=[payment.pk]))
    event = AuditEvent.objects.get(action=AuditEvent.Action.VIEW, object_type="accounts.patientaccount")
    assert event.object_id == str(account.pk) and event.detail == {"transaction_id": payment.pk}


def test_the_low_tier_is_refused_a_ledger_row(low, payment):
    assert api(low).get(reverse(DETAIL, args=[payment.pk])).status_code == 403


def test_another_practice_gets_404_for_a_ledger_row(outsider, payment):
    response = api(outsider).get(reverse(DETAIL, args=[payment.pk]))
    assert response.status_code == 404
    assert response.json() == {"detail": "No such record in your practices."}


# --- POST /api/transactions/<id>/reverse/ ----------------------------------------------------------


@pytest.mark.parametrize("tier", ["manager", "director"])
def test_management_reverses_a_payment_and_the_balance_comes_back(request, tier, payment, account):
    assert balance(account) == Decimal("170.00")
    response = api(request.getfixturevalue(tier)).post(
        reverse(REVERSE, args=[payment.pk]), {"reason": "Check returned unpaid."}, format="json"
    )
    assert response.status_code == 201
    body = response.json()
    assert body["kind"] == "reversal" and body["reverses"] == payment.pk
    assert body["patient_amount"] == "30.00" and body["memo"] == "Check returned unpaid."
    assert body["account_patient_balance"] == "200.00"
    assert balance(account) == Decimal("200.00")
    payment.refresh_from_db()
    assert payment.patient_amount == Decimal("-30.00")  # the original row is unchanged
    assert Transaction.objects.get(reverses=payment).pk == body["id"]
    mismatches, _ = ledger_mismatches()
    assert mismatches == []
    call_command("check_ledger")


def test_the_reversal_is_audited_as_a_posting(manager, payment):
    api(manager).post(reverse(REVERSE, args=[payment.pk]), {"reason": "Posted twice."}, format="json")
    reversal = Transaction.objects.get(reverses=payment)
    event = AuditEvent.objects.get(action=AuditEvent.Action.POST, object_id=str(reversal.pk))
    assert event.detail["reverses"] == payment.pk


def test_the_detail_shows_what_reversed_a_row(manager, payment):
    api(manager).post(reverse(REVERSE, args=[payment.pk]), {"reason": "Posted twice."}, format="json")
    body = api(manager).get(reverse(DETAIL, args=[payment.pk])).json()
    assert body["reversed_by"] == Transaction.objects.get(reverses=payment).pk


def test_a_reason_is_required(manager, payment, account):
    for body in ({}, {"reason": ""}, {"reason": "   "}):
        response = api(manager).post(reverse(REVERSE, args=[payment.pk]), body, format="json")
        assert response.status_code == 400
        assert "reason" in response.json()
    assert balance(account) == Decimal("170.00")


def test_a_row_already_reversed_is_a_400_and_moves_nothing(manager, payment, account):
    client = api(manager)
    client.post(reverse(REVERSE, args=[payment.pk]), {"reason": "Posted twice."}, format="json")
    again = client.post(reverse(REVERSE, args=[payment.pk]), {"reason": "Posted twice."}, format="json")
    assert again.status_code == 400
    assert again.json() == {"non_field_errors": ["This transaction has already been reversed."]}
    assert balance(account) == Decimal("200.00")
    assert Transaction.objects.filter(kind=Kind.REVERSAL).count() == 1


def test_a_reversal_cannot_be_reversed(manager, payment):
    client = api(manager)
    reversal_id = client.post(reverse(REVERSE, args=[payment.pk]), {"reason": "Wrong."}, format="json").json()["id"]
    response = client.post(reverse(REVERSE, args=[reversal_id]), {"reason": "Undo."}, format="json")
    assert response.status_code == 400
    assert "non_field_errors" in response.json()


def test_a_write_off_is_reversed_from_its_request_not_here(manager, medium, account):
    request = writeoff_services.writeoff_propose(
        acting_user=medium, account_id=account.pk, amount=Decimal("10.00"), reason=Reason.SMALL_BALANCE
    )
    writeoff_services.writeoff_approve(acting_user=manager, request_id=request.pk)
    entry = request.entries.get()
    response = api(manager).post(reverse(REVERSE, args=[entry.pk]), {"reason": "Wrong."}, format="json")
    assert response.status_code == 400
    assert "write-off request" in response.json()["non_field_errors"][0]
    assert not Transaction.objects.filter(reverses=entry).exists()


def test_a_card_number_in_the_reason_is_refused(manager, payment):
    response = api(manager).post(
        reverse(REVERSE, args=[payment.pk]), {"reason": "card 4111 1111 1111 1111"}, format="json"
    )
    assert response.status_code == 400 and "reason" in response.json()
    assert not Transaction.objects.filter(reverses=payment).exists()


@pytest.mark.parametrize("tier", ["low", "medium"])
def test_lower_tiers_may_not_reverse(request, tier, payment, account):
    response = api(request.getfixturevalue(tier)).post(
        reverse(REVERSE, args=[payment.pk]), {"reason": "Wrong."}, format="json"
    )
    assert response.status_code == 403
    assert balance(account) == Decimal("170.00")


def test_another_practices_manager_gets_404_and_nothing_moves(other_practice, payment, account):
    from core.models import Tier
    from tests.factories import StaffUserFactory

    south = StaffUserFactory(username="south-manager", tier=Tier.MANAGEMENT, practices=[other_practice])
    response = api(south).post(reverse(REVERSE, args=[payment.pk]), {"reason": "Wrong."}, format="json")
    assert response.status_code == 404
    assert balance(account) == Decimal("170.00")
