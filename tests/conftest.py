"""Personas for every tier plus a user of another practice, and a small account with a ledger."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.utils import timezone

from accounts import services as ledger
from accounts.models import Transaction
from core.models import Tier
from tests.factories import EncounterFactory, PatientAccountFactory, PracticeFactory, StaffUserFactory

Kind = Transaction.Kind


@pytest.fixture
def practice(db):
    return PracticeFactory(code="north", name="Northside Pediatrics")


@pytest.fixture
def other_practice(db):
    return PracticeFactory(code="south", name="Southside Orthopedics", time_zone="America/Los_Angeles", state="CA")


@pytest.fixture
def low(practice):
    return StaffUserFactory(username="low", tier=Tier.LOW, practices=[practice])


@pytest.fixture
def medium(practice):
    return StaffUserFactory(username="medium", tier=Tier.MEDIUM, practices=[practice])


@pytest.fixture
def manager(practice):
    return StaffUserFactory(username="manager", tier=Tier.MANAGEMENT, practices=[practice])


@pytest.fixture
def director(db):
    return StaffUserFactory(username="director", tier=Tier.DIRECTOR)


@pytest.fixture
def outsider(other_practice):
    """Medium tier, but only for another practice."""
    return StaffUserFactory(username="outsider", tier=Tier.MEDIUM, practices=[other_practice])


@pytest.fixture
def personas(low, medium, manager, director, outsider):
    return {"low": low, "medium": medium, "manager": manager, "director": director, "outsider": outsider}


def post_visit(account, *, user=None, days_ago=45, charge="200.00", insurance_paid="0.00", to_patient="200.00"):
    """A visit with its charge billed to insurance, the payer's payment and the patient's share."""
    encounter = EncounterFactory(account=account, date_of_service=timezone.localdate() - timedelta(days=days_ago))
    day = encounter.date_of_service
    ledger.transaction_post(
        acting_user=user,
        account_id=account.pk,
        kind=Kind.CHARGE,
        insurance_amount=charge,
        encounter_id=encounter.pk,
        effective_on=day,
    )
    remaining = Decimal(charge)
    if Decimal(insurance_paid):
        ledger.transaction_post(
            acting_user=user,
            account_id=account.pk,
            kind=Kind.INSURANCE_PAYMENT,
            insurance_amount=-Decimal(insurance_paid),
            encounter_id=encounter.pk,
            effective_on=day + timedelta(days=14),
        )
        remaining -= Decimal(insurance_paid)
    adjustment = remaining - Decimal(to_patient)
    if adjustment:
        ledger.transaction_post(
            acting_user=user,
            account_id=account.pk,
            kind=Kind.CONTRACTUAL_ADJUSTMENT,
            insurance_amount=-adjustment,
            encounter_id=encounter.pk,
            effective_on=day + timedelta(days=14),
        )
    if Decimal(to_patient):
        ledger.transaction_post(
            acting_user=user,
            account_id=account.pk,
            kind=Kind.TRANSFER_TO_PATIENT,
            patient_amount=to_patient,
            insurance_amount=-Decimal(to_patient),
            encounter_id=encounter.pk,
            effective_on=day + timedelta(days=14),
        )
    return encounter


@pytest.fixture
def account(practice):
    """An account of `practice` with two visits: one 45 days old, one 100 days old, $80 and $120 owed."""
    account = PatientAccountFactory(practice=practice, account_number="N0001234")
    post_visit(account, days_ago=100, charge="300.00", insurance_paid="150.00", to_patient="120.00")
    post_visit(account, days_ago=45, charge="200.00", insurance_paid="100.00", to_patient="80.00")
    account.refresh_from_db()
    return account


@pytest.fixture
def other_account(other_practice):
    account = PatientAccountFactory(practice=other_practice, account_number="S0009999")
    post_visit(account, days_ago=60, charge="100.00", to_patient="100.00")
    account.refresh_from_db()
    return account


@pytest.fixture
def sqlite_flushable(transactional_db):
    """On SQLite the flush after a transactional test DELETEs rows, which the append-only triggers
    refuse; drop them for the flush and put them back for the next test (PostgreSQL truncates)."""
    from core.append_only import drop_triggers, install_triggers

    install_triggers(connection)
    yield
    if connection.vendor == "sqlite":
        drop_triggers(connection)


@pytest.fixture(autouse=True)
def _append_only_triggers_present(request):
    """Put the triggers back (SQLite) for any database test that follows a browser test."""
    uses_db = {"db", "transactional_db", "live_server"} & set(request.fixturenames)
    if uses_db and connection.vendor == "sqlite":
        from core.append_only import install_triggers

        request.getfixturevalue("db" if "db" in uses_db else "transactional_db")
        install_triggers(connection)
