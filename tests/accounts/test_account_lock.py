"""One lock for every change to an account (accounts.services.account_lock): a form drawn on an
older version is refused and changes nothing; every change a user makes moves the account's
version by one and its updated_at to now, however many services the change passes through."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import transaction
from django.db.transaction import TransactionManagementError
from django.utils import timezone

from accounts import services as ledger
from accounts.models import PatientAccount, Transaction
from accounts.selectors import practice_today
from collections_app.contacts import services as contacts
from collections_app.correspondence import services as correspondence
from collections_app.holds import services as holds
from collections_app.models import AccountHold
from core.errors import ApplicationError
from core.models import AuditEvent
from core.nightly import JobContext
from payment_plans import services as plans
from payment_plans.jobs import plan_lapse_default
from payment_plans.models import PaymentPlan

A_DAY_AGO = timedelta(days=1)


@pytest.fixture
def last_changed(account):
    """The account as last changed a day ago, so a change today shows in updated_at."""
    stamp = timezone.now() - A_DAY_AGO
    PatientAccount.objects.filter(pk=account.pk).update(updated_at=stamp)
    return stamp


def _version_and_stamp(account) -> tuple[int, object]:
    return PatientAccount.objects.values_list("version", "updated_at").get(pk=account.pk)


def _pay(account, amount: str, **fields) -> Transaction:
    return ledger.transaction_post(
        acting_user=None,
        account_id=account.pk,
        kind=Transaction.Kind.PATIENT_PAYMENT,
        patient_amount=-Decimal(amount),
        payment_method=Transaction.PaymentMethod.CHECK,
        **fields,
    )


def _payment(user, account):
    contacts.payment_record(acting_user=user, account_id=account.pk, amount="50.00", method="cash")


def _follow_up(user, account):
    today = practice_today(account.practice)
    contacts.follow_up_set(acting_user=user, account_id=account.pk, follow_up_on=today + timedelta(days=14))


def _plan_set_up(user, account):
    plans.plan_create(acting_user=user, account_id=account.pk, installment_count=4)


def _plan_agreed(user, account):
    plans.plan_create(acting_user=user, account_id=account.pk, installment_count=4, activate=True)


def _hold(user, account):
    holds.hold_place(acting_user=user, account_id=account.pk, kind=AccountHold.Kind.DISPUTE, dispute_kind="balance")


def _address_correction(user, account):
    correspondence.address_correct(
        acting_user=user,
        patient_id=account.patient_id,
        address_line1="42 Elm Street",
        city="Troy",
        state="NY",
        postal_code="12180",
    )


@pytest.mark.parametrize(
    "change",
    [_payment, _follow_up, _plan_set_up, _plan_agreed, _hold, _address_correction],
    ids=["payment", "follow-up date", "plan set up", "plan set up and agreed", "hold", "address correction"],
)
def test_each_change_moves_the_version_once_and_updated_at(medium, account, last_changed, change):
    version, _ = _version_and_stamp(account)
    change(medium, account)
    after_version, after_stamp = _version_and_stamp(account)
    assert after_version == version + 1
    assert after_stamp > last_changed + A_DAY_AGO / 2


def test_a_form_drawn_on_an_older_version_is_refused_and_changes_nothing(medium, account, last_changed):
    drawn_at = account.version
    _follow_up(medium, account)  # someone else changed the account after the form was drawn
    before = _version_and_stamp(account)
    audits = AuditEvent.objects.count()
    with pytest.raises(ApplicationError) as refused:
        contacts.flags_set(
            acting_user=medium, account_id=account.pk, cease_communication=True, expected_version=drawn_at
        )
    assert refused.value.message == ledger.MESSAGE_ACCOUNT_STALE
    assert refused.value.field is None
    account.refresh_from_db()
    assert account.cease_communication_on is None
    assert _version_and_stamp(account) == before
    assert AuditEvent.objects.count() == audits


def test_a_form_drawn_on_the_current_version_is_taken(medium, account):
    contacts.flags_set(
        acting_user=medium, account_id=account.pk, cease_communication=True, expected_version=account.version
    )
    account.refresh_from_db()
    assert account.cease_communication_on is not None


def test_a_refused_change_leaves_the_version_and_updated_at_alone(medium, account, last_changed):
    before = _version_and_stamp(account)
    with pytest.raises(ApplicationError):
        contacts.follow_up_set(acting_user=medium, account_id=account.pk, follow_up_on=practice_today(account.practice))
    assert _version_and_stamp(account) == before


def test_a_payment_that_completes_a_plan_moves_the_version_once(medium, account, last_changed):
    _plan_agreed(medium, account)
    version, _ = _version_and_stamp(account)
    _pay(account, "200.00")
    account.refresh_from_db()
    assert PaymentPlan.objects.get(account=account).status == PaymentPlan.Status.COMPLETED
    assert account.status == PatientAccount.Status.ACTIVE
    assert account.version == version + 1


def test_a_replayed_posting_leaves_the_account_as_it_was(account, last_changed):
    first = _pay(account, "25.00", reference="CHK-1001")
    before = _version_and_stamp(account)
    assert _pay(account, "25.00", reference="CHK-1001").pk == first.pk
    assert _version_and_stamp(account) == before


def test_the_returned_account_carries_the_new_version_and_time(account, last_changed):
    with transaction.atomic():
        locked = ledger.account_lock(account_id=account.pk)
    assert (locked.version, locked.updated_at) == _version_and_stamp(account)
    assert locked.version == account.version + 1


def test_the_nightly_default_moves_the_accounts_it_returns_to_the_cadence(medium, practice, account, last_changed):
    _plan_agreed(medium, account)
    PatientAccount.objects.filter(pk=account.pk).update(updated_at=last_changed)
    version, _ = _version_and_stamp(account)
    second_due = PaymentPlan.objects.get(account=account).installments.order_by("due_on")[1].due_on
    as_of = second_due + timedelta(days=practice.plan_grace_days + 1)
    assert plan_lapse_default(JobContext(as_of=as_of, practice_dates={practice.pk: as_of}))["defaulted"] == 1
    account.refresh_from_db()
    assert account.status == PatientAccount.Status.ACTIVE
    assert account.version == version + 1
    assert account.updated_at > last_changed + A_DAY_AGO / 2


@pytest.mark.django_db(transaction=True)
def test_the_lock_is_refused_outside_a_transaction(sqlite_flushable, account):
    with pytest.raises(TransactionManagementError):
        ledger.account_lock(account_id=account.pk)
