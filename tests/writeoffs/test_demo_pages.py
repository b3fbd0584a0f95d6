"""`make run`'s demo data gives the manager write-offs to approve: the rep's bad-debt and charity
proposals wait on the approvals page, and one posted write-off may be reversed."""

from io import StringIO

import pytest
from django.core.management import call_command
from django.test import Client
from django.utils import timezone

from core.models import StaffUser
from writeoffs.models import WriteOffRequest


@pytest.mark.django_db
def test_the_demo_leaves_write_offs_waiting_for_the_manager():
    out = StringIO()
    call_command("seed_demo", accounts=120, today=timezone.localdate(), stdout=out)
    assert "writeoff_requests" in out.getvalue()
    waiting = WriteOffRequest.objects.filter(status="proposed", requested_by__username="medium")
    assert waiting.count() >= 5
    assert {"bad_debt", "charity"} <= set(waiting.values_list("reason", flat=True))
    client = Client()
    client.force_login(StaffUser.objects.get(username="manager"))
    html = client.get("/writeoffs/approvals/").content.decode()
    assert "write-offs waiting for approval" in html
    assert "Bad debt" in html and "Charity / financial assistance" in html
