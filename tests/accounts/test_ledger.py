"""The ledger: append-only in the database, balances equal to the ledger, reversals, refusals."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import DatabaseError, connection, transaction
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from accounts import services as ledger
from accounts.aging import account_aging
from accounts.models import Transaction
from accounts.money import split_evenly, to_money
from core.errors import ApplicationError
from core.models import AuditEvent
from tests.factories import EncounterFactory, PatientAccountFactory

Kind = Transaction.Kind


def ledger_sums(account):
    rows = Transaction.objects.filter(account=account)
    return (
        sum((row.patient_amount for row in rows), Decimal("0.00")),
        sum((row.insurance_amount for row in rows), Decimal("0.00")),
    )


def test_balances_follow_every_posting(account, medium):
    account.refresh_from_db()
    assert account.patient_balance == Decimal("200.00")
    assert account.insurance_balance == Decimal("0.00")
    ledger.transaction_post(
        acting_user=medium,
        account_id=account.pk,
        kind=Kind.PATIENT_PAYMENT,
        patient_amount="-50.00",
        payment_method="check",
        reference="CHK-1001",
    )
    account.refresh_from_db()
    assert account.patient_balance == Decimal("150.00")
    assert (account.patient_balance, account.insurance_balance) == ledger_sums(account)
    assert account.last_patient_payment_on == timezone.localdate()


def test_posting_writes_an_audit_row_without_amounts(account, medium):
    row = ledger.transaction_post(
        acting_user=medium,
        account_id=account.pk,
        kind=Kind.PATIENT_PAYMENT,
        patient_amount="-25.00",
        payment_method="cash",
    )
    event = AuditEvent.objects.get(object_type="accounts.transaction", object_id=str(row.pk))
    assert event.user == medium
    assert event.action == AuditEvent.Action.POST
    assert event.practice_id == account.practice_id
    assert set(event.detail) == {"account_id", "kind"}  # ids and kinds only: no amounts


@pytest.mark.parametrize("amount", ["0.01", "0.03", "99999.99", "1234.56"])
def test_reversal_restores_the_balance_and_keeps_the_original(account, medium, amount):
    before = account.patient_balance
    payment = ledger.transaction_post(
        acting_user=medium,
        account_id=account.pk,
        kind=Kind.PATIENT_PAYMENT,
        patient_amount=f"-{amount}",
        payment_method="cash",
    )
    reversal = ledger.transaction_reverse(acting_user=medium, transaction_id=payment.pk, reason="Check bounced")
    account.refresh_from_db()
    assert account.patient_balance == before
    assert reversal.reverses_id == payment.pk
    assert reversal.patient_amount == Decimal(amount)
    assert Transaction.objects.filter(pk=payment.pk, patient_amount=-Decimal(amount)).exists()


def test_a_transaction_is_reversed_only_once(account, medium):
    payment = ledger.transaction_post(
        acting_user=medium,
        account_id=account.pk,
        kind=Kind.PATIENT_PAYMENT,
        patient_amount="-10.00",
        payment_method="cash",
    )
    reversal = ledger.transaction_reverse(acting_user=medium, transaction_id=payment.pk, reason="Posted twice")
    with pytest.raises(ApplicationError, match="already been reversed"):
        ledger.transaction_reverse(acting_user=medium, transaction_id=payment.pk, reason="Again")
    with pytest.raises(ApplicationError, match="cannot be reversed"):
        ledger.transaction_reverse(acting_user=medium, transaction_id=reversal.pk, reason="Undo")


def test_same_reference_posts_once(account, medium):
    kwargs = dict(
        acting_user=medium,
        account_id=account.pk,
        kind=Kind.PATIENT_PAYMENT,
        patient_amount="-40.00",
        payment_method="check",
        reference="CHK-77",
    )
    first = ledger.transaction_post(**kwargs)
    again = ledger.transaction_post(**kwargs)
    assert first.pk == again.pk
    account.refresh_from_db()
    assert account.patient_balance == Decimal("160.00")
    with pytest.raises(ApplicationError, match="already used"):
        ledger.transaction_post(**{**kwargs, "patient_amount": "-41.00"})


@pytest.mark.parametrize(
    ("kind", "amounts", "message"),
    [
        (Kind.PATIENT_PAYMENT, {"patient_amount": "50.00"}, "cannot increase the patient balance"),
        (Kind.PATIENT_PAYMENT, {"patient_amount": "-5.00", "insurance_amount": "-5.00"}, "cannot change"),
        (Kind.CHARGE, {"patient_amount": "-1.00"}, "cannot decrease"),
        (Kind.PATIENT_PAYMENT, {}, "other than zero"),
        (Kind.REVERSAL, {"patient_amount": "1.00"}, "can be posted"),
    ],
)
def test_postings_against_the_rules_are_refused_and_change_nothing(account, medium, kind, amounts, message):
    count = Transaction.objects.count()
    with pytest.raises(ApplicationError, match=message):
        ledger.transaction_post(acting_user=medium, account_id=account.pk, kind=kind, payment_method="cash", **amounts)
    account.refresh_from_db()
    assert Transaction.objects.count() == count
    assert account.patient_balance == Decimal("200.00")


def test_card_numbers_are_refused_in_references(account, medium):
    with pytest.raises(ApplicationError, match="card number"):
        ledger.transaction_post(
            acting_user=medium,
            account_id=account.pk,
            kind=Kind.PATIENT_PAYMENT,
            patient_amount="-5.00",
            payment_method="card",
            reference="4111 1111 1111 1111",
        )


def test_an_encounter_of_another_account_is_refused(account, medium):
    stranger = EncounterFactory()
    with pytest.raises(ApplicationError, match="another account"):
        ledger.transaction_post(
            acting_user=medium,
            account_id=account.pk,
            kind=Kind.CHARGE,
            insurance_amount="10.00",
            encounter_id=stranger.pk,
        )


def test_float_money_is_refused():
    with pytest.raises(TypeError):
        to_money(0.1)


@pytest.mark.parametrize(("total", "parts"), [("0.01", 3), ("0.03", 3), ("100.00", 3), ("99999.99", 7)])
def test_split_evenly_sums_to_the_total(total, parts):
    shares = split_evenly(Decimal(total), parts)
    assert sum(shares) == Decimal(total)
    assert len(shares) == parts
    assert all(share == shares[0] for share in shares[:-1])
    assert shares[-1] >= shares[0]


@pytest.mark.parametrize(
    "statement", ["UPDATE accounts_transaction SET patient_amount = 0", "DELETE FROM accounts_transaction"]
)
def test_database_refuses_changes_to_the_ledger(account, statement):
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(statement)
    assert Transaction.objects.filter(account=account).count() == 8


def test_orm_cannot_edit_a_ledger_row_either(account):
    row = Transaction.objects.filter(account=account).first()
    row.memo = "edited"
    with pytest.raises(DatabaseError), transaction.atomic():
        row.save()
    with pytest.raises(DatabaseError), transaction.atomic():
        Transaction.objects.filter(pk=row.pk).delete()


def test_database_refuses_changes_to_the_audit_trail(account, medium):
    ledger.transaction_post(
        acting_user=medium,
        account_id=account.pk,
        kind=Kind.PATIENT_PAYMENT,
        patient_amount="-5.00",
        payment_method="cash",
    )
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("DELETE FROM core_auditevent")
    assert AuditEvent.objects.exists()


def test_check_ledger_passes_on_a_consistent_ledger(account, other_account, capsys):
    call_command("check_ledger")
    assert "Ledger OK: 2 accounts" in capsys.readouterr().out


def test_check_ledger_names_an_account_whose_stored_balance_drifted(account, other_account, capsys):
    # Stored balances are not append-only; a bug (or a hand edit) can make them drift.
    type(account).objects.filter(pk=account.pk).update(patient_balance=Decimal("199.99"))
    with pytest.raises(CommandError, match="1 account"):
        call_command("check_ledger")
    err = capsys.readouterr().err
    assert "N0001234" in err and "199.99" in err and "200.00" in err


# --- property test: random postings and reversals -----------------------------------------------

money = st.decimals(min_value=Decimal("0.01"), max_value=Decimal("5000.00"), places=2)
operation = st.one_of(
    st.tuples(st.just("visit"), st.integers(min_value=0, max_value=400), money, st.integers(0, 100)),
    st.tuples(st.just("payment"), st.integers(min_value=0, max_value=400), money, st.none()),
    st.tuples(st.just("refund"), st.integers(min_value=0, max_value=400), money, st.none()),
    st.tuples(st.just("reverse"), st.integers(min_value=0, max_value=10_000), st.none(), st.none()),
)


@pytest.mark.django_db
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(operations=st.lists(operation, min_size=1, max_size=12), as_of_back=st.integers(min_value=0, max_value=400))
def test_property_balances_equal_ledger_and_buckets_sum_to_balance(practice, operations, as_of_back):
    account = PatientAccountFactory(practice=practice)
    today = timezone.localdate()
    posted = []
    for kind, days_ago, amount, patient_percent in operations:
        day = today - timedelta(days=days_ago)
        if kind == "visit":
            encounter = EncounterFactory(account=account, date_of_service=day)
            posted.append(
                ledger.transaction_post(
                    acting_user=None,
                    account_id=account.pk,
                    kind=Kind.CHARGE,
                    insurance_amount=amount,
                    encounter_id=encounter.pk,
                    effective_on=day,
                )
            )
            share = to_money(amount * patient_percent / 100)
            if share:
                posted.append(
                    ledger.transaction_post(
                        acting_user=None,
                        account_id=account.pk,
                        kind=Kind.TRANSFER_TO_PATIENT,
                        patient_amount=share,
                        insurance_amount=-share,
                        encounter_id=encounter.pk,
                        effective_on=day,
                    )
                )
        elif kind == "payment":
            posted.append(
                ledger.transaction_post(
                    acting_user=None,
                    account_id=account.pk,
                    kind=Kind.PATIENT_PAYMENT,
                    patient_amount=-amount,
                    payment_method="cash",
                    effective_on=day,
                )
            )
        elif kind == "refund":
            posted.append(
                ledger.transaction_post(
                    acting_user=None,
                    account_id=account.pk,
                    kind=Kind.REFUND,
                    patient_amount=amount,
                    effective_on=day,
                )
            )
        elif posted:
            target = posted[days_ago % len(posted)]
            if target.kind != Kind.REVERSAL and not Transaction.objects.filter(reverses=target).exists():
                posted.append(
                    ledger.transaction_reverse(
                        acting_user=None,
                        transaction_id=target.pk,
                        reason="property test",
                        effective_on=today,
                    )
                )

    account.refresh_from_db()
    assert (account.patient_balance, account.insurance_balance) == ledger_sums(account)

    current = account_aging(account, as_of=today)
    assert current.balance == account.patient_balance
    assert all(amount >= 0 for amount in current.buckets.values())
    assert current.unapplied_credit >= 0

    # As of a past date only rows dated on or before it count.
    as_of = today - timedelta(days=as_of_back)
    past = account_aging(account, as_of=as_of)
    expected = sum(
        (row.patient_amount for row in Transaction.objects.filter(account=account, effective_on__lte=as_of)),
        Decimal("0.00"),
    )
    assert past.balance == expected

    # Rows posted after the date (a late payment, say) leave the past aging untouched.
    before = account_aging(account, as_of=as_of)
    if as_of < today:
        ledger.transaction_post(
            acting_user=None,
            account_id=account.pk,
            kind=Kind.PATIENT_PAYMENT,
            patient_amount="-1.00",
            payment_method="cash",
            effective_on=today,
        )
        assert account_aging(account, as_of=as_of) == before
