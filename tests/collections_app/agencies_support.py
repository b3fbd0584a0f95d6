"""Accounts ready for an agency, and agencies, for the agency tests."""

from datetime import datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from accounts.selectors import practice_today
from collections_app.models import Agency, Contact
from tests.conftest import post_visit
from tests.factories import PatientAccountFactory

Outcome = Contact.Outcome


def letter(account, outcome, days_ago: int):
    """A letter sent at noon, the practice's time, `days_ago` days before the practice's today: on
    that local date whatever the hour (now minus whole days can fall on the day before or after
    where daylight saving time differs between then and now)."""
    zone = ZoneInfo(account.practice.time_zone)
    sent_on = practice_today(account.practice) - timedelta(days=days_ago)
    return Contact.objects.create(
        account=account,
        practice=account.practice,
        channel=Contact.Channel.LETTER,
        party=Contact.Party.PATIENT,
        outcome=outcome,
        occurred_at=datetime.combine(sent_on, time(12), tzinfo=zone),
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
