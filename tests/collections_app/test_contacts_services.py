"""Promises to pay (kept, broken, idempotent), payments taken by reps, follow-up, notes, flags, consent."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from accounts import services as ledger
from accounts.models import PatientAccount, Transaction
from accounts.validators import CARD_NUMBER_REFUSED
from collections_app.contacts import services
from collections_app.contacts.jobs import promise_check_job
from collections_app.models import AccountNote, Contact, ContactConsent, PromiseToPay
from core.errors import ApplicationError
from core.models import AuditEvent
from core.nightly import JobContext, registered_jobs
from tests.collections_app.test_compliance_overrides import log_call

Kind = Transaction.Kind
CARD = "4111 1111 1111 1111"


def today():
    return timezone.localdate()


def pay(account, amount, *, on=None, kind=Kind.PATIENT_PAYMENT, reference=""):
    return ledger.transaction_post(
        acting_user=None,
        account_id=account.pk,
        kind=kind,
        patient_amount=-Decimal(amount),
        effective_on=on or today(),
        payment_method="check",
        reference=reference,
    )


# --- Promises ------------------------------------------------------------------------------------


@pytest.mark.parametrize("amount", ["0.01", "80.00", "200.00"])
def test_a_promise_is_created_with_a_decimal_amount(medium, account, amount):
    promise = services.promise_create(
        acting_user=medium, account_id=account.pk, amount=amount, due_on=today() + timedelta(days=5)
    )
    promise.refresh_from_db()
    assert promise.amount == Decimal(amount)
    assert promise.status == PromiseToPay.Status.OPEN
    assert promise.promised_on == today()
    assert AuditEvent.objects.filter(object_type="collections_app.promisetopay", object_id=str(promise.pk)).exists()


@pytest.mark.parametrize(
    ("amount", "due_in_days", "field"),
    [("0", 5, "amount"), ("-5", 5, "amount"), ("abc", 5, "amount"), ("10", -1, "due_on"), ("10", 91, "due_on")],
)
def test_a_bad_promise_is_refused(medium, account, amount, due_in_days, field):
    with pytest.raises(ApplicationError) as refused:
        services.promise_create(
            acting_user=medium, account_id=account.pk, amount=amount, due_on=today() + timedelta(days=due_in_days)
        )
    assert refused.value.field == field
    assert not PromiseToPay.objects.exists()


def _promise(user, account, amount="50.00", due_in_days=0):
    return services.promise_create(
        acting_user=user, account_id=account.pk, amount=amount, due_on=today() + timedelta(days=due_in_days)
    )


def test_a_promise_paid_in_full_by_its_due_date_is_kept(medium, account):
    promise = _promise(medium, account, due_in_days=3)
    pay(account, "30.00")
    pay(account, "20.00", kind=Kind.AGENCY_PAYMENT)
    counts = services.promise_check(as_of_by_practice={account.practice_id: today()})
    promise.refresh_from_db()
    assert promise.status == PromiseToPay.Status.KEPT
    assert promise.resolved_on == today()
    assert counts == {"kept": 1, "broken": 0}


def test_a_partly_paid_promise_stays_open_until_due_then_breaks(medium, account):
    promise = _promise(medium, account, due_in_days=0)
    pay(account, "49.99")
    assert services.promise_check(as_of_by_practice={account.practice_id: today()}) == {"kept": 0, "broken": 0}
    promise.refresh_from_db()
    assert promise.status == PromiseToPay.Status.OPEN

    counts = services.promise_check(as_of_by_practice={account.practice_id: today() + timedelta(days=1)})
    promise.refresh_from_db()
    assert promise.status == PromiseToPay.Status.BROKEN
    assert promise.resolved_on == today() + timedelta(days=1)
    assert counts == {"kept": 0, "broken": 1}


def test_a_reversed_payment_does_not_keep_a_promise(medium, account):
    promise = _promise(medium, account)
    payment = pay(account, "50.00")
    ledger.transaction_reverse(acting_user=None, transaction_id=payment.pk, reason="Check returned")
    services.promise_check(as_of_by_practice={account.practice_id: today() + timedelta(days=1)})
    promise.refresh_from_db()
    assert promise.status == PromiseToPay.Status.BROKEN


def test_payments_before_the_promise_or_on_another_account_do_not_count(medium, account, other_account):
    pay(account, "50.00", on=today() - timedelta(days=1))
    pay(other_account, "50.00")
    promise = _promise(medium, account)
    services.promise_check(
        as_of_by_practice={account.practice_id: today() + timedelta(days=1), other_account.practice_id: today()}
    )
    promise.refresh_from_db()
    assert promise.status == PromiseToPay.Status.BROKEN


def test_promise_check_twice_for_the_same_date_changes_nothing(medium, account):
    kept, broken = _promise(medium, account, due_in_days=2), _promise(medium, account, amount="150.00")
    pay(account, "50.00")
    as_of = {account.practice_id: today() + timedelta(days=1)}
    assert services.promise_check(as_of_by_practice=as_of) == {"kept": 1, "broken": 1}
    audits = AuditEvent.objects.count()
    assert services.promise_check(as_of_by_practice=as_of) == {"kept": 0, "broken": 0}
    assert AuditEvent.objects.count() == audits
    assert PromiseToPay.objects.get(pk=kept.pk).status == PromiseToPay.Status.KEPT
    assert PromiseToPay.objects.get(pk=broken.pk).status == PromiseToPay.Status.BROKEN


def test_the_nightly_job_is_registered_and_uses_each_practice_date(medium, account):
    assert "promise_check" in {job.name for job in registered_jobs()}
    promise = _promise(medium, account)
    context = JobContext(as_of=today(), practice_dates={account.practice_id: today() + timedelta(days=1)})
    assert promise_check_job(context) == {"kept": 0, "broken": 1}
    promise.refresh_from_db()
    assert promise.status == PromiseToPay.Status.BROKEN


def test_promise_check_is_a_fixed_number_of_queries(medium, account, django_assert_max_num_queries):
    for due_in_days in range(5):
        _promise(medium, account, amount="10.00", due_in_days=due_in_days)
    with django_assert_max_num_queries(8):
        services.promise_check(as_of_by_practice={account.practice_id: today() + timedelta(days=10)})


def test_a_promise_to_pay_outcome_needs_an_amount_and_date_and_creates_the_promise(medium, account):
    with pytest.raises(ApplicationError) as refused:
        log_call(medium, account, outcome=Contact.Outcome.PROMISE_TO_PAY)
    assert refused.value.field == "promise_amount"
    assert not Contact.objects.exists()

    contact = log_call(
        medium,
        account,
        outcome=Contact.Outcome.PROMISE_TO_PAY,
        promise_amount=Decimal("40.00"),
        promise_due_on=today() + timedelta(days=7),
    )
    promise = PromiseToPay.objects.get()
    assert promise.contact == contact
    assert promise.amount == Decimal("40.00")


def test_an_attorney_represented_outcome_sets_the_flag(medium, account):
    log_call(
        medium,
        account,
        outcome=Contact.Outcome.ATTORNEY_REPRESENTED,
        attorney_name="Pat Lee",
        attorney_phone="555-0100",
    )
    account.refresh_from_db()
    assert account.attorney_represented
    assert account.attorney_name == "Pat Lee"
    assert account.attorney_phone == "5550100"
    assert account.version > 1


def test_a_cease_request_sets_cease_communication(medium, account):
    version = PatientAccount.objects.get(pk=account.pk).version
    log_call(medium, account, outcome=Contact.Outcome.CEASE_REQUESTED)
    account.refresh_from_db()
    assert account.cease_communication_on is not None
    assert account.version == version + 1


def test_nobody_reached_cannot_promise(medium, account):
    with pytest.raises(ApplicationError) as refused:
        log_call(medium, account, party=Contact.Party.NOBODY, outcome=Contact.Outcome.PROMISE_TO_PAY)
    assert refused.value.field == "party"


def test_a_card_number_in_contact_notes_is_refused(medium, account):
    with pytest.raises(ApplicationError) as refused:
        log_call(medium, account, notes=f"paid with {CARD}")
    assert refused.value.message == CARD_NUMBER_REFUSED
    assert refused.value.field == "notes"


# --- Payments ------------------------------------------------------------------------------------


@pytest.mark.parametrize("method", ["cash", "check", "money_order"])
def test_a_payment_posts_to_the_ledger_and_moves_the_balance(medium, account, method):
    assert account.patient_balance == Decimal("200.00")
    row = services.payment_record(acting_user=medium, account_id=account.pk, amount="75.25", method=method)
    account.refresh_from_db()
    assert account.patient_balance == Decimal("124.75")
    assert row.kind == Kind.PATIENT_PAYMENT
    assert row.patient_amount == Decimal("-75.25")
    assert row.payment_method == method
    assert account.last_patient_payment_on == today()


def test_a_payment_tells_the_payment_plan_then_the_queue(medium, account, monkeypatch):
    # The plan first: a payment catching up a lapsed plan must clear its queue item in the refresh.
    # Both follow the ledger posting (accounts.events.ledger_posted), in INSTALLED_APPS order.
    told = []
    monkeypatch.setattr("collections_app.receivers.queue_refresh_account", lambda **kw: told.append(("q", kw)))
    monkeypatch.setattr("collections_app.receivers.posting_can_change_queue", lambda **kw: True)
    monkeypatch.setattr("payment_plans.receivers.plan_payment_received", lambda **kw: told.append(("p", kw)))
    services.payment_record(acting_user=medium, account_id=account.pk, amount="10.00", method="cash")
    assert told == [("p", {"account_id": account.pk, "acting_user": medium}), ("q", {"account_id": account.pk})]


def test_a_card_number_as_the_payment_reference_is_refused(medium, account):
    with pytest.raises(ApplicationError) as refused:
        services.payment_record(
            acting_user=medium, account_id=account.pk, amount="10.00", method="card", reference=CARD
        )
    assert refused.value.message == CARD_NUMBER_REFUSED
    assert refused.value.field == "reference"
    assert not Transaction.objects.filter(account=account, kind=Kind.PATIENT_PAYMENT).exists()


def test_a_card_number_in_payment_notes_is_refused(medium, account):
    with pytest.raises(ApplicationError) as refused:
        services.payment_record(
            acting_user=medium, account_id=account.pk, amount="10.00", method="card", reference="ch_3PX", notes=CARD
        )
    assert refused.value.field == "notes"


def test_a_card_payment_needs_the_processor_reference(medium, account):
    with pytest.raises(ApplicationError) as refused:
        services.payment_record(acting_user=medium, account_id=account.pk, amount="10.00", method="card")
    assert refused.value.field == "reference"
    row = services.payment_record(
        acting_user=medium, account_id=account.pk, amount="10.00", method="card", reference="ch_3PXa91"
    )
    assert row.reference == "ch_3PXa91"


@pytest.mark.parametrize(("amount", "method", "field"), [("0", "cash", "amount"), ("5", "eft", "method")])
def test_a_bad_payment_is_refused(medium, account, amount, method, field):
    with pytest.raises(ApplicationError) as refused:
        services.payment_record(acting_user=medium, account_id=account.pk, amount=amount, method=method)
    assert refused.value.field == field


# --- Follow-up, notes, flags, consent ------------------------------------------------------------


def test_follow_up_must_be_in_the_next_year(medium, account):
    version = account.version
    for days in (0, 366):
        with pytest.raises(ApplicationError):
            services.follow_up_set(
                acting_user=medium, account_id=account.pk, follow_up_on=today() + timedelta(days=days)
            )
    services.follow_up_set(acting_user=medium, account_id=account.pk, follow_up_on=today() + timedelta(days=14))
    account.refresh_from_db()
    assert account.follow_up_on == today() + timedelta(days=14)
    assert account.version == version + 1


def test_a_note_is_added_and_audited_without_its_text(medium, account):
    note = services.note_add(acting_user=medium, account_id=account.pk, body="Prefers calls after 5pm")
    audit = AuditEvent.objects.get(object_type="collections_app.accountnote", object_id=str(note.pk))
    assert "5pm" not in str(audit.detail)
    with pytest.raises(ApplicationError):
        services.note_add(acting_user=medium, account_id=account.pk, body="   ")
    with pytest.raises(ApplicationError):
        services.note_add(acting_user=medium, account_id=account.pk, body=f"card {CARD}")
    assert AccountNote.objects.count() == 1


def test_flags_turn_on_and_off_bump_the_version_and_are_audited(medium, account):
    version = account.version
    services.flags_set(acting_user=medium, account_id=account.pk, cease_communication=True)
    account.refresh_from_db()
    assert account.cease_communication_on == today()
    assert account.version == version + 1
    with pytest.raises(ApplicationError):
        services.flags_set(acting_user=medium, account_id=account.pk, attorney_represented=True)
    services.flags_set(
        acting_user=medium,
        account_id=account.pk,
        attorney_represented=True,
        attorney_name="Pat Lee",
        expected_version=version + 1,
    )
    services.flags_set(acting_user=medium, account_id=account.pk, cease_communication=False)
    account.refresh_from_db()
    assert account.cease_communication_on is None
    assert account.attorney_represented
    changes = list(
        AuditEvent.objects.filter(object_type="accounts.patientaccount", detail__has_key="flag_change")
        .order_by("id")
        .values_list("detail__flag_change", flat=True)
    )
    assert changes == [["cease_on"], ["attorney_on"], ["cease_off"]]


def test_flags_refuse_a_stale_version_and_a_future_cease_date(medium, account):
    with pytest.raises(ApplicationError):
        services.flags_set(acting_user=medium, account_id=account.pk, cease_communication=True, expected_version=1)
    with pytest.raises(ApplicationError):
        services.flags_set(
            acting_user=medium,
            account_id=account.pk,
            cease_communication=True,
            cease_communication_on=today() + timedelta(days=1),
        )


def test_consent_is_recorded_and_revoked_with_its_date(medium, account):
    consent = services.consent_record(
        acting_user=medium, account_id=account.pk, channel="text", granted_on=today() - timedelta(days=10)
    )
    with pytest.raises(ApplicationError):
        services.consent_record(acting_user=medium, account_id=account.pk, channel="text")
    with pytest.raises(ApplicationError):
        services.consent_revoke(
            acting_user=medium, account_id=account.pk, channel="text", revoked_on=today() + timedelta(days=1)
        )
    services.consent_revoke(
        acting_user=medium, account_id=account.pk, channel="text", revoked_on=today() - timedelta(days=2)
    )
    consent.refresh_from_db()
    assert consent.revoked_on == today() - timedelta(days=2)
    with pytest.raises(ApplicationError):
        services.consent_revoke(acting_user=medium, account_id=account.pk, channel="text")
    assert ContactConsent.objects.count() == 1


def test_promises_follow_ups_and_flags_ask_the_queue_to_re_evaluate(medium, account, monkeypatch):
    told = []
    monkeypatch.setattr("collections_app.contacts.services.queue_refresh_account", lambda **kw: told.append(kw))
    services.promise_create(acting_user=medium, account_id=account.pk, amount="5.00", due_on=today())
    services.follow_up_set(acting_user=medium, account_id=account.pk, follow_up_on=today() + timedelta(days=3))
    services.flags_set(acting_user=medium, account_id=account.pk, cease_communication=True)
    assert told == [{"account_id": account.pk}] * 3
