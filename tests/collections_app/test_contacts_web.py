"""The account page's contact panel and its htmx actions."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape

from accounts.selectors import account_get
from accounts.validators import CARD_NUMBER_REFUSED
from collections_app.contacts.views import panel_context
from collections_app.models import AccountHold, AccountNote, Contact, ContactConsent, PromiseToPay
from core.models import AuditEvent
from tests.pages import account_changed_by

HTMX = {"HTTP_HX_REQUEST": "true"}


def today():
    return timezone.localdate()


def _post_data(name, account):
    """A valid form for each action."""
    future = (today() + timedelta(days=10)).isoformat()
    return {
        "contacts-log": {
            "contact-channel": "letter",
            "contact-party": "patient",
            "contact-outcome": "letter_sent",
        },
        "contacts-payment": {"payment-amount": "25.00", "payment-method": "cash"},
        "contacts-follow-up": {"follow-follow_up_on": future},
        "contacts-note": {"note-body": "Spoke with front desk"},
        "contacts-flags": {"flags-cease_communication": "on", "flags-version": str(account.version)},
        "contacts-consent": {"consent-channel": "text", "consent-granted_how": "Signed intake form"},
        "contacts-consent-revoke": {"revoke-channel": "autodialed_call"},
    }[name]


ACTIONS = [
    "contacts-log",
    "contacts-payment",
    "contacts-follow-up",
    "contacts-note",
    "contacts-flags",
    "contacts-consent",
]


def test_panel_shows_the_governor_answer_forms_promises_and_consents(client, medium, account):
    account.cease_communication_on = today() - timedelta(days=1)
    account.save()
    PromiseToPay.objects.create(
        account=account,
        practice=account.practice,
        amount=Decimal("45.00"),
        promised_on=today(),
        due_on=today() + timedelta(days=5),
    )
    ContactConsent.objects.create(account=account, practice=account.practice, channel="text", granted_on=today())
    client.force_login(medium)
    response = client.get(reverse("contacts-panel", args=[account.pk]), **HTMX)
    assert response.status_code == 200
    html = response.content.decode()
    assert 'id="panel-contacts"' in html
    assert "Do not call the patient now." in html
    assert 'data-rule="cease_communication"' in html
    assert "$45.00" in html
    assert "Text messages" in html
    assert "Log a contact" in html and "Record a payment" in html
    assert 'name="contact-override_reason"' not in html  # a rep has no override field


def test_panel_shows_the_override_field_to_a_manager(client, manager, account):
    client.force_login(manager)
    html = client.get(reverse("contacts-panel", args=[account.pk])).content.decode()
    assert 'name="contact-override_reason"' in html


def test_panel_says_contact_the_attorney_for_a_represented_account(client, medium, account):
    account.attorney_represented = True
    account.attorney_name = "Pat Lee"
    account.save()
    client.force_login(medium)
    html = client.get(reverse("contacts-panel", args=[account.pk])).content.decode()
    assert "Represented by an attorney: contact the attorney." in html
    assert "Calling the attorney" in html


def test_panel_answers_for_each_channel_beside_the_call(client, medium, account):
    """The call is allowed, but an email with no address on file and a text with no consent are not:
    the panel says so per channel before the rep tries. (Contact hours open all day here, so the
    answer does not depend on the hour the suite runs.)"""
    practice = account.practice
    practice.call_window_start_hour, practice.call_window_end_hour = 0, 24
    practice.save(update_fields=["call_window_start_hour", "call_window_end_hour"])
    account.patient.email = ""
    account.patient.save(update_fields=["email"])
    client.force_login(medium)
    html = client.get(reverse("contacts-panel", args=[account.pk]), **HTMX).content.decode()
    decisions = html.split('data-testid="channel-decisions"', 1)[1].split("</ul>", 1)[0]
    assert "Text message:</strong>\n      not now: no recorded consent to text messages." in decisions
    assert "Email:</strong>\n      not now: no email address on file for the patient." in decisions
    assert "Letter:</strong>\n      allowed now." in decisions


def test_a_reason_the_call_gave_is_not_repeated_per_channel(client, medium, account):
    AccountHold.objects.create(
        account=account, practice=account.practice, kind=AccountHold.Kind.BANKRUPTCY, placed_on=today()
    )
    client.force_login(medium)
    html = client.get(reverse("contacts-panel", args=[account.pk]), **HTMX).content.decode()
    assert "Do not call the patient now." in html and 'data-rule="bankruptcy_stay"' in html
    decisions = html.split('data-testid="channel-decisions"', 1)[1].split("</ul>", 1)[0]
    assert "Letter:</strong>\n      not now, as above." in decisions
    assert "no recorded consent to text messages; and as above." in decisions
    assert "automatic stay" not in decisions


def test_panel_render_is_a_fixed_number_of_queries(client, medium, account, django_assert_max_num_queries):
    for days in range(1, 8):
        Contact.objects.create(
            account=account,
            practice=account.practice,
            channel="outbound_call",
            party="patient",
            outcome="no_answer",
            occurred_at=timezone.now() - timedelta(days=days),
            logged_by=medium,
        )
    client.force_login(medium)
    client.get(reverse("contacts-panel", args=[account.pk]))
    with django_assert_max_num_queries(11):  # the text's consent, for the per-channel answers
        response = client.get(reverse("contacts-panel", args=[account.pk]))
    assert response.status_code == 200


def test_panel_context_renders_inside_the_account_page_contract(rf, medium, account, django_assert_max_num_queries):
    request = rf.get("/")
    request.user = medium
    account = account_get(user=medium, account_id=account.pk)
    with django_assert_max_num_queries(6):
        context = panel_context(request, account)
    assert context["contact_call_decision"]["time_zone"] == "America/New_York"


@pytest.mark.parametrize("name", ACTIONS)
def test_each_action_rerenders_the_panel_and_triggers_account_changed(client, medium, account, name):
    client.force_login(medium)
    response = client.post(reverse(name, args=[account.pk]), _post_data(name, account), **HTMX)
    assert response.status_code == 200, response.content
    assert account_changed_by(response) == "contacts"
    html = response.content.decode()
    assert 'id="panel-contacts"' in html
    assert 'class="notice-inline notice-success"' in html


@pytest.mark.parametrize("name", [*ACTIONS, "contacts-consent-revoke"])
def test_each_action_is_refused_to_front_desk(client, low, account, name):
    client.force_login(low)
    response = client.post(reverse(name, args=[account.pk]), _post_data(name, account), **HTMX)
    assert response.status_code == 403


@pytest.mark.parametrize("name", [*ACTIONS, "contacts-consent-revoke"])
def test_each_action_is_404_for_another_practice(client, outsider, account, name):
    client.force_login(outsider)
    response = client.post(reverse(name, args=[account.pk]), _post_data(name, account), **HTMX)
    assert response.status_code == 404


def test_the_panel_is_refused_to_front_desk_and_hidden_from_another_practice(client, low, outsider, account):
    client.force_login(low)
    assert client.get(reverse("contacts-panel", args=[account.pk])).status_code == 403
    client.force_login(outsider)
    assert client.get(reverse("contacts-panel", args=[account.pk])).status_code == 404


def test_without_htmx_an_action_redirects_to_the_account_page(client, medium, account):
    client.force_login(medium)
    response = client.post(reverse("contacts-note", args=[account.pk]), {"note-body": "Called back"})
    assert response.status_code == 302
    assert response["Location"] == f"/accounts/{account.pk}/"
    assert AccountNote.objects.filter(account=account).count() == 1


def test_a_card_number_in_the_payment_reference_is_shown_beside_the_field(client, medium, account):
    client.force_login(medium)
    data = {"payment-amount": "25.00", "payment-method": "card", "payment-reference": "4111111111111111"}
    response = client.post(reverse("contacts-payment", args=[account.pk]), data, **HTMX)
    assert response.status_code == 200
    assert "HX-Trigger" not in response
    html = response.content.decode()
    assert escape(CARD_NUMBER_REFUSED) in html
    assert "4111111111111111" not in html  # never echoed back
    account.refresh_from_db()
    assert account.patient_balance == Decimal("200.00")


def test_a_payment_from_the_panel_moves_the_balance(client, medium, account):
    client.force_login(medium)
    data = {"payment-amount": "60.00", "payment-method": "check", "payment-reference": "1042"}
    client.post(reverse("contacts-payment", args=[account.pk]), data, **HTMX)
    account.refresh_from_db()
    assert account.patient_balance == Decimal("140.00")


def test_a_refused_call_shows_why_and_logs_nothing(client, medium, account):
    account.attorney_represented = True
    account.save()
    client.force_login(medium)
    data = {
        "contact-channel": "outbound_call",
        "contact-party": "patient",
        "contact-outcome": "no_answer",
    }
    response = client.post(reverse("contacts-log", args=[account.pk]), data, **HTMX)
    assert "represented by an attorney: contact the attorney" in response.content.decode()
    assert not Contact.objects.exists()


def test_a_promise_logged_from_the_panel_creates_the_promise(client, medium, account):
    client.force_login(medium)
    data = {
        "contact-channel": "inbound_call",
        "contact-party": "patient",
        "contact-outcome": "promise_to_pay",
        "contact-promise_amount": "30.00",
        "contact-promise_due_on": (today() + timedelta(days=3)).isoformat(),
    }
    response = client.post(reverse("contacts-log", args=[account.pk]), data, **HTMX)
    assert account_changed_by(response) == "contacts"
    assert PromiseToPay.objects.get().amount == Decimal("30.00")


def test_a_missing_promise_date_is_shown_beside_the_field(client, medium, account):
    client.force_login(medium)
    data = {
        "contact-channel": "inbound_call",
        "contact-party": "patient",
        "contact-outcome": "promise_to_pay",
        "contact-promise_amount": "30.00",
    }
    html = client.post(reverse("contacts-log", args=[account.pk]), data, **HTMX).content.decode()
    assert "Enter the date the payment was promised for." in html
    assert not Contact.objects.exists()


def test_panel_read_is_audited(client, medium, account):
    client.force_login(medium)
    client.get(reverse("contacts-panel", args=[account.pk]))
    assert AuditEvent.objects.filter(
        object_type="accounts.patientaccount", object_id=str(account.pk), action=AuditEvent.Action.VIEW
    ).exists()
