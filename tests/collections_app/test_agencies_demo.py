"""`make run`'s demo data gives the manager agency work: candidates to place today, and one batch
already placed with the agency's first payments posted on it (so the agency recovery report has
numbers), with the ledger checking out."""

from io import StringIO

import pytest
from django.core.management import call_command
from django.test import Client
from django.utils import timezone

from accounts.models import Practice
from accounts.selectors import practice_today
from collections_app.agencies import selectors
from collections_app.models import AgencyPayment, Placement
from core.access import practice_ids_for
from core.models import StaffUser


@pytest.mark.django_db
def test_the_demo_gives_the_manager_candidates_a_placed_batch_and_agency_payments():
    today = timezone.localdate()
    out = StringIO()
    call_command("seed_demo", accounts=600, today=today, stdout=out)
    manager = StaffUser.objects.get(username="manager")
    assert selectors.candidate_list(user=manager).count() >= 10
    client = Client()
    client.force_login(manager)
    assert "accounts ready to place" in client.get("/agencies/candidates/").content.decode()
    # The demo places only when the manager's first practice is on the seed's date (the services
    # date a placement by the practice's own today).
    first = Practice.objects.filter(pk__in=practice_ids_for(manager)).order_by("id").first()
    if practice_today(first) != today:
        assert not Placement.objects.exists()
        return
    assert Placement.objects.count() == 3
    payments = AgencyPayment.objects.all()
    assert payments.count() == 3
    assert all(p.net == p.gross - p.commission and p.commission > 0 for p in payments)
    assert Placement.objects.filter(status=Placement.Status.CLOSED).count() == 1  # one paid in full
    report = client.get("/api/reports/agencies/").json()
    gross = sum(p.gross for p in payments)
    assert report["tables"][0]["totals"]["gross"] == f"{gross:.2f}"
    ledger = StringIO()
    call_command("check_ledger", stdout=ledger)
    assert "Ledger OK" in ledger.getvalue()
