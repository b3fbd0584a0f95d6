"""The audit trail report: readable names, filters, and the CSV download (Directors only)."""

import csv
import io
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from core.audit import audit_record
from core.models import AuditEvent

pytestmark = pytest.mark.django_db


def download(client, **params):
    response = client.get(reverse("audit-log"), {"format": "csv", **params})
    body = b"".join(response.streaming_content).decode() if response.streaming else response.content.decode()
    return response, body


def test_a_director_downloads_the_filtered_trail_with_readable_names(director, manager, account, client):
    manager.first_name, manager.last_name = "Maria", "Manager"
    manager.save(update_fields=["first_name", "last_name"])
    audit_record(user=manager, action=AuditEvent.Action.VIEW, obj=account, field_group="billing")
    audit_record(user=manager, action=AuditEvent.Action.VIEW, object_type="report", object_id="aging")
    audit_record(user=director, action=AuditEvent.Action.UPDATE, obj=account, field_group="billing")
    client.force_login(director)
    response, body = download(client, user=manager.pk)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(body)))
    assert {row["User"] for row in rows} == {"Maria Manager"}
    assert {row["Object"] for row in rows} == {
        f"Patient account {account.account_number} ({account.patient.last_name}, {account.patient.first_name})",
        "Report: AR aging",
    }
    assert all(row["When"].endswith(("EST", "EDT")) for row in rows)
    assert {row["Field groups"] for row in rows} == {"Billing", ""}
    # The download is itself in the trail, with its filters.
    export = AuditEvent.objects.get(action=AuditEvent.Action.EXPORT, object_type="core.auditevent")
    assert export.user == director and export.detail["user"] == manager.pk


def test_the_download_is_bounded_by_its_period(director, client):
    client.force_login(director)
    today = timezone.localdate()
    response, body = download(client, date_from=(today - timedelta(days=400)).isoformat(), date_to=today.isoformat())
    assert response.status_code == 400
    assert "at most 366 days" in body
    AuditEvent.objects.create(  # append-only: written with its time, never moved
        user=director,
        username=director.username,
        action=AuditEvent.Action.VIEW,
        object_type="report",
        object_id="aging",
        occurred_at=timezone.now() - timedelta(days=60),
    )
    _, body = download(client)  # no dates: the last 30 days
    assert "Report: AR aging" not in body


@pytest.mark.parametrize("persona", ["low", "medium", "manager", "outsider"])
def test_only_directors_download_the_trail(personas, persona, client):
    client.force_login(personas[persona])
    assert client.get(reverse("audit-log"), {"format": "csv"}).status_code == 403


def test_the_page_shows_staff_names_and_a_download_link(director, manager, client):
    manager.first_name, manager.last_name = "Maria", "Manager"
    manager.save(update_fields=["first_name", "last_name"])
    audit_record(user=manager, action=AuditEvent.Action.VIEW, object_type="report", object_id="days-in-ar")
    client.force_login(director)
    page = client.get(reverse("audit-log")).content.decode()
    assert "Maria Manager" in page and "Report: Days in AR" in page
    assert "format=csv" in page and "Download CSV" in page
