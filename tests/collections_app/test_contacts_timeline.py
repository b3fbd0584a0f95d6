"""The contacts area's entries in the account timeline."""

from datetime import timedelta

from django.utils import timezone

from accounts.models import PatientAccount
from collections_app.contacts import services
from collections_app.contacts.selectors import timeline_events
from collections_app.models import Contact
from tests.collections_app.test_compliance_overrides import log_call


def test_timeline_lists_contacts_promises_notes_consents_and_flag_changes(medium, account):
    today = timezone.localdate()
    log_call(medium, account, channel=Contact.Channel.INBOUND_CALL, outcome=Contact.Outcome.INFORMATION_GIVEN)
    services.promise_create(acting_user=medium, account_id=account.pk, amount="40.00", due_on=today)
    services.promise_check(as_of_by_practice={account.practice_id: today + timedelta(days=1)})
    services.note_add(acting_user=medium, account_id=account.pk, body="Prefers email")
    services.consent_record(acting_user=medium, account_id=account.pk, channel="text", granted_on=today)
    services.consent_revoke(acting_user=medium, account_id=account.pk, channel="text")
    services.flags_set(acting_user=medium, account_id=account.pk, cease_communication=True)

    events = timeline_events(account)
    titles = {event.title for event in events}
    assert "Inbound call: information given" in titles
    assert f"Promise to pay $40.00 by {today:%m/%d/%Y}" in titles
    assert "Promise to pay $40.00 broken" in titles
    assert "Note" in titles
    assert "Consent to text messages recorded" in titles
    assert "Consent to text messages revoked" in titles
    assert "Cease communication turned on" in titles
    assert {event.kind for event in events} == {"contact", "promise", "note", "consent", "change"}
    assert all(event.when.tzinfo is not None for event in events)
    assert [event.when for event in events] == sorted((event.when for event in events), reverse=True)
    note = next(event for event in events if event.kind == "note")
    assert note.detail == "Prefers email"
    assert note.actor == "medium"


def test_timeline_is_one_query_per_kind(medium, account, django_assert_max_num_queries):
    for _ in range(5):
        services.note_add(acting_user=medium, account_id=account.pk, body="Called")
        log_call(medium, account, channel=Contact.Channel.LETTER, outcome=Contact.Outcome.LETTER_SENT)
    account = PatientAccount.objects.select_related("practice").get(pk=account.pk)
    with django_assert_max_num_queries(5):
        events = timeline_events(account)
    assert len(events) == 10


def test_an_override_is_marked_in_the_timeline(manager, account):
    account.cease_communication_on = timezone.localdate() - timedelta(days=1)
    account.save()
    log_call(manager, account, channel=Contact.Channel.LETTER, outcome=Contact.Outcome.LETTER_SENT, override_reason="x")
    [event] = timeline_events(account)
    assert event.title == "Letter: letter sent (compliance override)"
