"""The account's activity timeline: one list merging every area's events, the ledger and the changes."""

from datetime import datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accounts import services as ledger
from accounts.models import Transaction
from accounts.services import patient_update_demographics
from collections_app.workspace import panels, selectors
from collections_app.workspace.panels import Panel
from core.access import FieldGroup
from core.audit import audit_record
from core.models import AuditEvent
from core.panels import TimelineEvent

HTMX = {"HTTP_HX_REQUEST": "true"}


def fake_timeline_events(account):
    return [
        TimelineEvent(
            when=timezone.now() - timedelta(minutes=30),
            kind="contact",
            title="Outbound call: left message",
            detail="Patient: asked for a call back",
            actor="medium",
        ),
        # A date-only event from an area that has no time of day for it.
        TimelineEvent(when=timezone.localdate() - timedelta(days=400), kind="letter", title="First statement mailed"),
    ]


def fake_manager_events(account):
    return [TimelineEvent(when=timezone.now(), kind="approval", title="Write-off approved")]


@pytest.fixture
def fake_panels(monkeypatch):
    registry = (
        Panel("fake", "Fake", "contacts-panel", fake_timeline_events),
        Panel("approvals", "Approvals", "holds-panel", fake_manager_events, field_group=FieldGroup.MANAGEMENT),
        Panel("quiet", "No timeline", "correspondence-panel", None),
    )
    monkeypatch.setattr(panels, "PANELS", registry)


@pytest.fixture
def no_panels(monkeypatch):
    monkeypatch.setattr(panels, "PANELS", ())


def timeline_url(account):
    return reverse("account-timeline", args=[account.pk])


def fetch(client, user, account, **params):
    client.force_login(user)
    return client.get(timeline_url(account), params, **HTMX)


def titles(response) -> list[str]:
    return [event.title for event in response.context["timeline"].events]


def post_payment(user, account, amount="-25.00", reference="CHK-1001"):
    return ledger.transaction_post(
        acting_user=user,
        account_id=account.pk,
        kind=Transaction.Kind.PATIENT_PAYMENT,
        patient_amount=amount,
        payment_method="check",
        reference=reference,
    )


# --- access ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("persona", ["medium", "manager", "director"])
def test_billing_tiers_read_the_timeline(client, account, persona, request, no_panels):
    assert fetch(client, request.getfixturevalue(persona), account).status_code == 200


def test_front_desk_is_refused_the_timeline(client, account, low, no_panels):
    response = fetch(client, low, account)
    assert response.status_code == 403
    assert b"200.00" not in response.content


def test_another_practices_user_gets_not_found(client, account, outsider, no_panels):
    response = fetch(client, outsider, account)
    assert response.status_code == 404
    assert account.account_number.encode() not in response.content


def test_anonymous_visitor_is_sent_to_login(client, account):
    response = client.get(timeline_url(account))
    assert response.status_code == 302 and response["Location"].startswith("/login/")


def test_reading_the_timeline_is_audited_without_phi(client, account, medium, no_panels):
    fetch(client, medium, account)
    event = AuditEvent.objects.filter(action=AuditEvent.Action.VIEW).order_by("-id").first()
    assert (event.object_type, event.object_id, event.field_group) == (
        "accounts.patientaccount",
        str(account.pk),
        "billing",
    )
    assert event.detail["timeline_offset"] == 0
    assert account.patient.last_name not in str(event.detail)


# --- what it merges ----------------------------------------------------------------------------------


def test_timeline_merges_panels_ledger_and_changes_newest_first(client, account, medium, fake_panels):
    patient = account.patient
    post_payment(medium, account)
    patient_update_demographics(
        acting_user=medium, patient_id=patient.pk, expected_updated_at=None, first_name="Mallory", phone="5185550100"
    )
    response = fetch(client, medium, account)
    shown = titles(response)
    assert shown[0] == "Patient changed: first name, phone"
    assert shown[1] == "Patient payment of $25.00"
    assert "Outbound call: left message" in shown
    assert any(title.startswith("Transfer to patient responsibility of $") for title in shown)
    assert any(title.startswith("Insurance payment of $") for title in shown)
    assert shown[-1] == "First statement mailed"  # the date-only event, placed at practice midnight
    assert not any(title.startswith("Charge") for title in shown)  # visits are the encounters table's business
    assert "Write-off approved" not in shown  # a Management panel's events stay with Management
    whens = [event.when for event in response.context["timeline"].events if isinstance(event.when, datetime)]
    assert whens == sorted(whens, reverse=True)
    html = response.content.decode()
    assert "Mallory" not in html  # changes name fields, never values
    assert "Patient -$25.00" in html and "CHK-1001" in html
    assert "<html" not in html


def test_managers_see_their_panels_events(client, account, manager, fake_panels):
    assert "Write-off approved" in titles(fetch(client, manager, account))


def test_account_changes_list_field_names_from_the_audit_trail(client, account, medium, no_panels):
    audit_record(
        user=medium,
        action=AuditEvent.Action.UPDATE,
        obj=account,
        field_group=FieldGroup.BILLING,
        detail={"fields": ["follow_up_on", "status"], "status": "hold"},
    )
    audit_record(user=medium, action=AuditEvent.Action.VIEW, obj=account, field_group=FieldGroup.BILLING)
    event = fetch(client, medium, account).context["timeline"].events[0]
    assert (event.kind, event.title, event.actor) == ("change", "Account changed: follow-up date, status", "medium")


def test_another_accounts_changes_and_payments_stay_off_the_timeline(client, account, other_account, medium, no_panels):
    post_payment(None, other_account, reference="OTHER-1")
    audit_record(user=None, action=AuditEvent.Action.UPDATE, obj=other_account, detail={"fields": ["status"]})
    html = fetch(client, medium, account).content.decode()
    assert "OTHER-1" not in html and "Account changed" not in html


def test_reversal_is_on_the_timeline(client, account, medium, no_panels):
    payment = post_payment(medium, account)
    ledger.transaction_reverse(acting_user=medium, transaction_id=payment.pk, reason="Check returned")
    event = fetch(client, medium, account).context["timeline"].events[0]
    assert event.title == "Reversal of $25.00"
    assert f"Reverses the patient payment of {payment.effective_on:%m/%d/%Y}" in event.detail


# --- paging ------------------------------------------------------------------------------------------


def test_show_more_continues_where_the_first_page_ended(client, account, medium, no_panels, monkeypatch):
    monkeypatch.setattr(selectors, "TIMELINE_PAGE_SIZE", 3)
    for n in range(3):
        post_payment(medium, account, amount="-1.00", reference=f"R{n}")
    first = fetch(client, medium, account)  # 3 payments + 6 rows from the fixture's two visits
    assert titles(first) == ["Patient payment of $1.00"] * 3
    assert first.context["timeline"].next_offset == 3
    assert f"{timeline_url(account)}?offset=3" in first.content.decode()
    second = fetch(client, medium, account, offset=3)
    assert len(titles(second)) == 3 and second.context["timeline"].next_offset == 6
    assert '<ol class="timeline"' not in second.content.decode()  # rows only, swapped in for the button
    last = fetch(client, medium, account, offset=6)
    assert len(titles(last)) == 3 and last.context["timeline"].next_offset is None
    assert "Show older activity" not in last.content.decode()


@pytest.mark.parametrize("raw", ["abc", "-5", "", "9" * 30])
def test_odd_offsets_never_fail(client, account, medium, no_panels, raw):
    assert fetch(client, medium, account, offset=raw).status_code == 200


def test_without_htmx_the_timeline_is_a_whole_page(client, account, medium, no_panels):
    client.force_login(medium)
    response = client.get(timeline_url(account))
    assert response.status_code == 200 and b"<html" in response.content


# --- query counts ------------------------------------------------------------------------------------


def _queries(client, url) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url, **HTMX).status_code == 200
    return len(captured.captured_queries)


def test_timeline_queries_are_bounded_and_do_not_grow_with_the_ledger(client, account, medium, no_panels):
    client.force_login(medium)
    post_payment(medium, account, amount="-1.00", reference="Q-first")  # a staff member on the page
    client.get(timeline_url(account), **HTMX)
    before = _queries(client, timeline_url(account))
    # session, user, scope, account, ledger events, changes, the page's staff names (one query), audit
    assert before <= 8
    for n in range(30):
        post_payment(medium, account, amount="-1.00", reference=f"Q{n}")
    assert _queries(client, timeline_url(account)) == before
