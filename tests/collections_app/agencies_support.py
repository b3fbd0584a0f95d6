"""Accounts ready for an agency, and agencies, for the agency tests."""

from datetime import timedelta
from decimal import Decimal

from django.utils import timezone

from collections_app.models import Agency, Contact
from tests.conftest import post_visit
from tests.factories import PatientAccountFactory

Outcome = Contact.Outcome


def letter(account, outcome, days_ago: int):
    return Contact.objects.create(
        account=account,
        practice=account.practice,
        channel=Contact.Channel.LETTER,
        party=Contact.Party.PATIENT,
        outcome=outcome,
        occurred_at=timezone.now() - timedelta(days=days_ago),
    )


def ready_account(practice, *, balance="600.00", visit_days_ago=430, final_notice_days_ago=45, **fields):
    """An active account owing `balance` on one visit, its final notice sent long enough ago."""
    account = PatientAccountFactory(practice=practice, **fields)
    post_visit(
        account,
        days_ago=visit_days_ago,
        charge=str(Decimal(balance) + 100),
        insurance_paid="100.00",
        to_patient=balance,
    )
    if final_notice_days_ago is not None:
        letter(account, Outcome.FINAL_NOTICE_SENT, final_notice_days_ago)
    account.refresh_from_db()
    return account


def make_agency(practice, *, name="Keystone Recovery", layout=Agency.FileLayout.CSV, default=True, rate="25.00"):
    return Agency.objects.create(
        practice=practice,
        name=name,
        contact_name="Pat Keyes",
        phone="5185550150",
        email="placements@keystone.example",
        commission_rate=Decimal(rate),
        file_layout=layout,
        is_default=default,
    )
