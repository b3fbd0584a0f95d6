"""The mail and inquiries panel: htmx actions re-render it with inline errors and trigger the
timeline refresh; low tier 403, another practice 404, bounded queries."""

from datetime import date, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.models import AddressHistory
from collections_app.correspondence import services
from collections_app.correspondence.selectors import timeline_events
from collections_app.models import BillingInquiry, ReturnedMail
from tests.pages import account_changed_by

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}
YESTERDAY = timezone.localdate() - timedelta(days=1)


def returned(user, account):
    return services.returned_mail_record(acting_user=user, account_id=account.pk, received_on=YESTERDAY, reason="moved")


def inquiry(user, account, received_on=date(2025, 3, 3)):
    return services.inquiry_open(
        acting_user=user, account_id=account.pk, channel="phone", question="Why twice?", received_on=received_on
    )


def test_panel_shows_bad_address_research_and_overdue_inquiries(client, medium, account, django_assert_max_num_queries):
    returned(medium, account)
    inquiry(medium, account)
    client.force_login(medium)
    with django_assert_max_num_queries(12):
        response = client.get(reverse("correspondence-panel", args=[account.pk]), **HTMX)
    html = response.content.decode()
    assert 'id="panel-correspondence"' in html
    assert "Bad address" in html
    assert "Moved, left no address" in html
    assert "Overdue" in html and "Why twice?" in html


def test_panel_query_count_is_bounded(client, medium, account, django_assert_max_num_queries):
    for _ in range(6):
        returned(medium, account)
        inquiry(medium, account)
    services.inquiry_respond(acting_user=medium, inquiry_id=BillingInquiry.objects.first().pk, response="Done")
    client.force_login(medium)
    with django_assert_max_num_queries(12):
        assert client.get(reverse("correspondence-panel", args=[account.pk]), **HTMX).status_code == 200


def test_record_returned_mail_by_htmx(client, medium, account):
    client.force_login(medium)
    response = client.post(
        reverse("returned-mail-record", args=[account.pk]),
        {"received_on": YESTERDAY.isoformat(), "reason": "undeliverable"},
        **HTMX,
    )
    assert response.status_code == 200
    assert account_changed_by(response) == "correspondence"
    assert "Bad address" in response.content.decode()
    assert ReturnedMail.objects.filter(account=account, resolved_at__isnull=True).count() == 1


def test_record_returned_mail_shows_inline_errors(client, medium, account):
    client.force_login(medium)
    response = client.post(reverse("returned-mail-record", args=[account.pk]), {"received_on": "2099-01-01"}, **HTMX)
    assert "HX-Trigger" not in response
    assert "This field is required." in response.content.decode()
    assert not ReturnedMail.objects.exists()


def test_correct_address_by_htmx(client, medium, account):
    returned(medium, account)
    client.force_login(medium)
    response = client.post(
        reverse("address-correct", args=[account.pk]),
        {"address_line1": "9 Oak Lane", "city": "Troy", "state": "NY", "postal_code": "12180"},
        **HTMX,
    )
    assert account_changed_by(response) == "correspondence"
    html = response.content.decode()
    assert "Bad address" not in html and "9 Oak Lane" in html
    assert AddressHistory.objects.filter(patient=account.patient, was_bad=True).exists()


def test_correct_address_inline_error(client, medium, account):
    client.force_login(medium)
    response = client.post(
        reverse("address-correct", args=[account.pk]),
        {"address_line1": "9 Oak Lane", "city": "Troy", "state": "NY", "postal_code": "12"},
        **HTMX,
    )
    assert services.MESSAGE_BAD_POSTAL_CODE in response.content.decode()


def test_resolve_returned_mail(client, medium, account):
    row = returned(medium, account)
    client.force_login(medium)
    response = client.post(
        reverse("returned-mail-resolve", args=[account.pk, row.pk]), {"resolution": "unable_to_locate"}, **HTMX
    )
    assert account_changed_by(response) == "correspondence"
    row.refresh_from_db()
    assert row.resolution == "unable_to_locate"


def test_open_and_answer_an_inquiry(client, medium, account):
    client.force_login(medium)
    response = client.post(
        reverse("inquiry-open", args=[account.pk]), {"channel": "email", "question": "Is my claim paid?"}, **HTMX
    )
    assert account_changed_by(response) == "correspondence"
    row = BillingInquiry.objects.get()
    assert row.received_on == timezone.localdate() or row.received_on <= timezone.localdate()
    response = client.post(reverse("inquiry-respond", args=[account.pk, row.pk]), {"response": ""}, **HTMX)
    assert "HX-Trigger" not in response and "This field is required." in response.content.decode()
    response = client.post(reverse("inquiry-respond", args=[account.pk, row.pk]), {"response": "Yes, paid"}, **HTMX)
    assert account_changed_by(response) == "correspondence"
    row.refresh_from_db()
    assert row.response == "Yes, paid"


def test_without_htmx_actions_redirect_to_the_account(client, medium, account):
    client.force_login(medium)
    response = client.post(reverse("inquiry-open", args=[account.pk]), {"channel": "phone", "question": "Q"})
    assert response.status_code == 302
    assert response["Location"] == reverse("account-detail", args=[account.pk])


def test_timeline_lists_mail_corrections_and_inquiries(medium, account, django_assert_max_num_queries):
    row = returned(medium, account)
    services.address_correct(
        acting_user=medium,
        patient_id=account.patient_id,
        address_line1="9 Oak",
        city="Troy",
        state="NY",
        postal_code="12180",
    )
    asked = inquiry(medium, account)
    services.inquiry_respond(acting_user=medium, inquiry_id=asked.pk, response="Answered")
    account.refresh_from_db()
    with django_assert_max_num_queries(4):
        events = timeline_events(account)
    titles = [event.title for event in events]
    assert "Returned mail: Moved, left no address" in titles
    assert "Returned mail resolved: Address corrected" in titles
    assert "Address changed" in titles
    assert "Billing inquiry (Phone)" in titles and "Billing inquiry answered" in titles
    assert all(event.when.tzinfo for event in events)
    assert {event.extra.get("returned_mail_id") for event in events} >= {row.pk}


def _urls(account, row, asked):
    return [
        ("get", reverse("correspondence-panel", args=[account.pk]), {}),
        ("post", reverse("returned-mail-record", args=[account.pk]), {"received_on": "2025-01-02", "reason": "moved"}),
        (
            "post",
            reverse("address-correct", args=[account.pk]),
            {"address_line1": "9 Oak", "city": "Troy", "state": "NY", "postal_code": "12180"},
        ),
        ("post", reverse("returned-mail-resolve", args=[account.pk, row.pk]), {"resolution": "address_confirmed"}),
        ("post", reverse("inquiry-open", args=[account.pk]), {"channel": "phone", "question": "Q"}),
        ("post", reverse("inquiry-respond", args=[account.pk, asked.pk]), {"response": "A"}),
    ]


@pytest.mark.parametrize("index", range(6))
def test_every_correspondence_page_refuses_low_tier(client, medium, low, account, index):
    method, url, data = _urls(account, returned(medium, account), inquiry(medium, account))[index]
    client.force_login(low)
    assert getattr(client, method)(url, data, **HTMX).status_code == 403


@pytest.mark.parametrize("index", range(6))
def test_every_correspondence_page_hides_other_practices(client, medium, outsider, account, index):
    row, asked = returned(medium, account), inquiry(medium, account)
    method, url, data = _urls(account, row, asked)[index]
    client.force_login(outsider)
    assert getattr(client, method)(url, data, **HTMX).status_code == 404
    assert ReturnedMail.objects.count() == 1 and BillingInquiry.objects.count() == 1
    row.refresh_from_db()
    asked.refresh_from_db()
    assert row.resolved_at is None and asked.responded_on is None


def test_account_page_includes_the_mail_and_inquiries_panel(client, medium, account):
    returned(medium, account)
    inquiry(medium, account)
    client.force_login(medium)
    html = client.get(reverse("account-detail", args=[account.pk])).content.decode()
    panel_url = reverse("correspondence-panel", args=[account.pk])
    assert 'id="panel-correspondence"' in html and f'hx-get="{panel_url}"' in html  # loads when opened
    assert "Why twice?" in client.get(panel_url, HTTP_HX_REQUEST="true").content.decode()
