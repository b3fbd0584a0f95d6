"""Logging a contact asks the governor: refusals stand unless a manager overrides with a reason."""

from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from collections_app.contacts import compliance, services
from collections_app.models import Contact
from core.errors import ApplicationError
from core.models import AuditEvent

Channel = Contact.Channel
Party = Contact.Party
Outcome = Contact.Outcome


def calling_hours_moment():
    """The latest noon in New York (the fixture practice's zone) that is not in the future."""
    now = timezone.now().astimezone(ZoneInfo("America/New_York"))
    noon = now.replace(hour=12, minute=0, second=0, microsecond=0)
    return noon if noon <= now else noon - timedelta(days=1)


def log_call(user, account, **kwargs):
    arguments = {
        "channel": Channel.OUTBOUND_CALL,
        "party": Party.PATIENT,
        "outcome": Outcome.LEFT_MESSAGE,
        "occurred_at": calling_hours_moment(),
    }
    arguments.update(kwargs)
    return services.contact_log(acting_user=user, account_id=account.pk, **arguments)


def test_an_allowed_call_is_logged_and_audited(medium, account):
    contact = log_call(medium, account, notes="Left voicemail")
    assert contact.logged_by == medium
    assert contact.override_by is None
    audit = AuditEvent.objects.get(object_type="collections_app.contact", object_id=str(contact.pk))
    assert audit.detail == {
        "account_id": account.pk,
        "channel": "outbound_call",
        "party": "patient",
        "outcome": "left_message",
    }
    assert "voicemail" not in str(audit.detail)


def test_a_refused_call_is_not_logged_and_says_why(medium, account):
    account.attorney_represented = True
    account.save()
    with pytest.raises(ApplicationError) as refused:
        log_call(medium, account)
    assert "represented by an attorney: contact the attorney" in refused.value.message
    assert refused.value.extra["rules"] == [compliance.ATTORNEY_REPRESENTED]
    assert not Contact.objects.filter(account=account).exists()


def test_a_refusal_lifted_by_time_says_when_next(medium, account):
    practice = account.practice
    practice.call_cap_count = 1
    practice.save()
    moment = calling_hours_moment()
    log_call(medium, account, occurred_at=moment - timedelta(days=1))
    with pytest.raises(ApplicationError) as refused:
        log_call(medium, account, occurred_at=moment)
    assert "Next allowed" in refused.value.message
    assert refused.value.extra["next_allowed_at"]


def test_a_manager_override_is_recorded_on_the_contact_and_audited(manager, account):
    account.cease_communication_on = timezone.localdate() - timedelta(days=3)
    account.save()
    contact = log_call(manager, account, outcome=Outcome.INFORMATION_GIVEN, override_reason="1692c(c)(1) notice")
    assert contact.override_by == manager
    assert contact.override_reason == "1692c(c)(1) notice"
    override = AuditEvent.objects.get(
        object_type="collections_app.contact", object_id=str(contact.pk), action=AuditEvent.Action.UPDATE
    )
    assert override.user == manager
    assert override.detail["override"] is True
    assert override.detail["overridden_rules"] == [compliance.CEASE_COMMUNICATION]


def test_a_rep_cannot_override_a_refusal(medium, account):
    account.cease_communication_on = timezone.localdate() - timedelta(days=3)
    account.save()
    with pytest.raises(ApplicationError) as refused:
        log_call(medium, account, override_reason="Patient asked")
    assert refused.value.field == "override_reason"
    assert not Contact.objects.filter(account=account).exists()


def test_an_override_of_an_allowed_call_is_refused(manager, account):
    with pytest.raises(ApplicationError) as refused:
        log_call(manager, account, override_reason="just because")
    assert refused.value.field == "override_reason"


def test_inbound_calls_are_logged_even_under_cease_communication(medium, account):
    account.cease_communication_on = timezone.localdate() - timedelta(days=3)
    account.save()
    contact = log_call(medium, account, channel=Channel.INBOUND_CALL, outcome=Outcome.INFORMATION_GIVEN)
    assert contact.pk


def test_an_unconsented_text_is_refused(medium, account):
    with pytest.raises(ApplicationError) as refused:
        log_call(medium, account, channel=Channel.TEXT)
    assert refused.value.extra["rules"] == [compliance.NO_CONSENT]
    granted_on = timezone.localdate() - timedelta(days=30)
    services.consent_record(acting_user=medium, account_id=account.pk, channel="text", granted_on=granted_on)
    assert log_call(medium, account, channel=Channel.TEXT).pk


def test_the_cap_counts_calls_logged_by_any_rep(medium, manager, account):
    practice = account.practice
    practice.call_cap_count = 1
    practice.save()
    moment = calling_hours_moment()
    log_call(manager, account, occurred_at=moment - timedelta(minutes=5))
    with pytest.raises(ApplicationError):
        log_call(medium, account, occurred_at=moment)
    assert Contact.objects.filter(account=account).count() == 1


def test_the_next_allowed_time_reads_the_same_in_the_refusal_and_on_the_panel():
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from django.template import Context, Template

    from collections_app.contacts.services import next_allowed_text

    local = datetime(2026, 12, 2, 8, 0, tzinfo=ZoneInfo("America/New_York"))
    panel = Template('{% load tz %}{{ at|timezone:"America/New_York"|date:"D m/d/Y g:i A T" }}')
    assert next_allowed_text(local) == "Wed 12/02/2026 8:00 AM EST"
    assert panel.render(Context({"at": local})) == next_allowed_text(local)
