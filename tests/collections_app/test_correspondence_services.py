"""Returned mail loop (bad address -> mailings suppressed -> correction keeps history -> mailings
resume, research resolved) and billing inquiries with business-day due dates."""

from datetime import date, timedelta
from unittest import mock

import pytest
from django.utils import timezone

from accounts.models import AddressHistory, PatientAccount
from collections_app.correspondence import services
from collections_app.correspondence.selectors import correspondence_for_panel, mailable_q
from collections_app.models import BillingInquiry, ReturnedMail
from core.errors import ApplicationError
from core.models import AuditEvent

pytestmark = pytest.mark.django_db

NEW_ADDRESS = {"address_line1": "42 Elm Street", "city": "Troy", "state": "ny", "postal_code": "12180"}


def record(user, account, reason="moved"):
    return services.returned_mail_record(
        acting_user=user, account_id=account.pk, received_on=timezone.localdate() - timedelta(days=1), reason=reason
    )


def test_returned_mail_marks_the_address_bad_and_suppresses_mailings(medium, account):
    with mock.patch.object(services, "queue_refresh_account") as refresh:
        row = record(medium, account)
    refresh.assert_called_once_with(account_id=account.pk)
    account.patient.refresh_from_db()
    assert account.patient.address_is_bad
    assert not PatientAccount.objects.filter(mailable_q(), pk=account.pk).exists()
    assert row.resolved_at is None and row.patient_id == account.patient_id
    assert AuditEvent.objects.filter(object_type="collections_app.returnedmail", object_id=str(row.pk)).exists()
    assert AuditEvent.objects.filter(object_type="accounts.patient", detail__fields=["address_is_bad"]).exists()


def test_returned_mail_refuses_a_future_date_and_an_unknown_reason(medium, account):
    with pytest.raises(ApplicationError) as error:
        services.returned_mail_record(
            acting_user=medium, account_id=account.pk, received_on=date(2099, 1, 1), reason="moved"
        )
    assert error.value.field == "received_on"
    with pytest.raises(ApplicationError) as error:
        services.returned_mail_record(
            acting_user=medium, account_id=account.pk, received_on=date(2025, 1, 1), reason="x"
        )
    assert error.value.field == "reason"
    assert not ReturnedMail.objects.exists()


def test_address_correction_keeps_history_resumes_mailings_and_resolves_research(medium, account):
    patient = account.patient
    old_line1 = patient.address_line1
    first, second = record(medium, account), record(medium, account, reason="undeliverable")
    with mock.patch.object(services, "queue_refresh_account") as refresh:
        services.address_correct(acting_user=medium, patient_id=patient.pk, **NEW_ADDRESS)
    refresh.assert_called_once_with(account_id=account.pk)
    patient.refresh_from_db()
    assert (patient.address_line1, patient.state, patient.address_is_bad) == ("42 Elm Street", "NY", False)
    assert PatientAccount.objects.filter(mailable_q(), pk=account.pk).exists()
    history = list(AddressHistory.objects.filter(patient=patient).order_by("recorded_at", "pk"))
    assert [(row.address_line1, row.was_bad) for row in history] == [(old_line1, True), ("42 Elm Street", False)]
    assert history[0].reason.startswith("Returned mail")
    for row in (first, second):
        row.refresh_from_db()
        assert row.resolution == "address_corrected" and row.resolved_by == medium
    audit = AuditEvent.objects.filter(object_type="accounts.patient", action="update").first()
    assert "Elm" not in str(audit.detail)


def test_correction_keeps_earlier_history(medium, account):
    from accounts.services import patient_update_demographics

    patient_update_demographics(acting_user=medium, patient_id=account.patient_id, address_line1="1 First Ave")
    record(medium, account)
    services.address_correct(acting_user=medium, patient_id=account.patient_id, **NEW_ADDRESS)
    rows = list(AddressHistory.objects.filter(patient_id=account.patient_id).order_by("recorded_at", "pk"))
    assert [(row.address_line1, row.was_bad) for row in rows][-2:] == [("1 First Ave", True), ("42 Elm Street", False)]
    assert len(rows) == 4


@pytest.mark.parametrize(
    ("field", "value"),
    [("address_line1", ""), ("city", " "), ("state", "New York"), ("postal_code", "1218"), ("postal_code", "ABCDE")],
)
def test_address_correction_validates(medium, account, field, value):
    record(medium, account)
    with pytest.raises(ApplicationError) as error:
        services.address_correct(acting_user=medium, patient_id=account.patient_id, **{**NEW_ADDRESS, field: value})
    assert error.value.field == field
    account.patient.refresh_from_db()
    assert account.patient.address_is_bad


def test_correcting_to_the_same_address_is_refused(medium, account):
    patient = account.patient
    record(medium, account)
    same = {name: getattr(patient, name) for name in ("address_line1", "address_line2", "city", "state", "postal_code")}
    with pytest.raises(ApplicationError):
        services.address_correct(acting_user=medium, patient_id=patient.pk, **same)


def test_address_confirmed_good_resumes_mailings(medium, account):
    row = record(medium, account)
    resolved = services.returned_mail_resolve(
        acting_user=medium, returned_mail_id=row.pk, resolution="address_confirmed"
    )
    assert resolved.resolution == "address_confirmed" and resolved.resolved_at
    account.patient.refresh_from_db()
    assert not account.patient.address_is_bad


def test_unable_to_locate_keeps_the_address_bad(medium, account):
    row = record(medium, account)
    services.returned_mail_resolve(acting_user=medium, returned_mail_id=row.pk, resolution="unable_to_locate")
    account.patient.refresh_from_db()
    assert account.patient.address_is_bad
    assert not PatientAccount.objects.filter(mailable_q(), pk=account.pk).exists()
    with pytest.raises(ApplicationError):
        services.returned_mail_resolve(acting_user=medium, returned_mail_id=row.pk, resolution="address_confirmed")


def test_resolve_as_corrected_needs_an_address(medium, account):
    row = record(medium, account)
    with pytest.raises(ApplicationError) as error:
        services.returned_mail_resolve(acting_user=medium, returned_mail_id=row.pk, resolution="address_corrected")
    assert error.value.field == "resolution"


# --- billing inquiries ---------------------------------------------------------------------------


def test_inquiry_due_date_counts_business_days_across_a_weekend(medium, account, practice):
    practice.inquiry_response_business_days = 3
    practice.save()
    with mock.patch.object(services, "queue_refresh_account") as refresh:
        inquiry = services.inquiry_open(
            acting_user=medium,
            account_id=account.pk,
            channel="phone",
            question="Why was I billed twice?",
            received_on=date(2025, 3, 6),  # a Thursday
        )
    refresh.assert_called_once_with(account_id=account.pk)
    assert inquiry.response_due_on == date(2025, 3, 11)
    audit = AuditEvent.objects.get(object_type="collections_app.billinginquiry", action="create")
    assert "billed twice" not in str(audit.detail)


def test_default_policy_gives_ten_business_days(medium, account):
    inquiry = services.inquiry_open(
        acting_user=medium, account_id=account.pk, channel="letter", question="Q", received_on=date(2025, 3, 3)
    )
    assert inquiry.response_due_on == date(2025, 3, 17)


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"channel": "fax"}, "channel"),
        ({"question": "  "}, "question"),
        ({"received_on": date(2099, 1, 1)}, "received_on"),
    ],
)
def test_inquiry_refuses_bad_input(medium, account, changes, field):
    values = {"channel": "phone", "question": "Q", "received_on": date(2025, 3, 3), **changes}
    with pytest.raises(ApplicationError) as error:
        services.inquiry_open(acting_user=medium, account_id=account.pk, **values)
    assert error.value.field == field
    assert not BillingInquiry.objects.exists()


def test_inquiry_response_is_recorded_once(medium, account):
    inquiry = services.inquiry_open(
        acting_user=medium, account_id=account.pk, channel="phone", question="Q", received_on=date(2025, 3, 3)
    )
    with pytest.raises(ApplicationError):
        services.inquiry_respond(acting_user=medium, inquiry_id=inquiry.pk, response=" ")
    answered = services.inquiry_respond(
        acting_user=medium, inquiry_id=inquiry.pk, response="Duplicate charge reversed", responded_on=date(2025, 3, 5)
    )
    assert (answered.responded_on, answered.responded_by) == (date(2025, 3, 5), medium)
    with pytest.raises(ApplicationError):
        services.inquiry_respond(acting_user=medium, inquiry_id=inquiry.pk, response="Again")


def test_the_panel_shows_an_inquiry_overdue_from_the_day_after_it_was_due(medium, account):
    inquiry = services.inquiry_open(
        acting_user=medium, account_id=account.pk, channel="phone", question="Q", received_on=date(2025, 3, 3)
    )

    def overdue(today):
        return [
            row.pk for row in correspondence_for_panel(account=account, today=today)["inquiries_open"] if row.is_overdue
        ]

    assert overdue(inquiry.response_due_on) == []
    assert overdue(inquiry.response_due_on + timedelta(days=1)) == [inquiry.pk]
    services.inquiry_respond(acting_user=medium, inquiry_id=inquiry.pk, response="Answered")
    assert overdue(date(2026, 1, 1)) == []


def test_a_self_guarantor_moves_with_the_corrected_address_and_another_guarantor_does_not(medium, account, practice):
    from accounts.models import Guarantor
    from tests.factories import GuarantorFactory, PatientAccountFactory

    record(medium, account)
    parent = GuarantorFactory(practice=practice, relationship=Guarantor.Relationship.PARENT, address_line1="9 Oak Rd")
    child_account = PatientAccountFactory(practice=practice, patient=account.patient, guarantor=parent)
    services.address_correct(acting_user=medium, patient_id=account.patient_id, **NEW_ADDRESS)
    own = Guarantor.objects.get(pk=account.guarantor_id)
    assert own.relationship == Guarantor.Relationship.SELF
    assert (own.address_line1, own.state) == ("42 Elm Street", "NY")
    assert Guarantor.objects.get(pk=child_account.guarantor_id).address_line1 == "9 Oak Rd"
    audit = AuditEvent.objects.get(object_type="accounts.guarantor", object_id=str(own.pk))
    assert audit.detail["reason"] == "patient_address_corrected" and "Elm" not in str(audit.detail)
