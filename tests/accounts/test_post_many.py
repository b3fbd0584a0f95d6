"""Batch posting (transactions_post_many): the same ledger, balances, bad-debt recoveries, plans and
audit rows as posting one by one through transaction_post; replays answer with the first row; one
refused posting refuses the batch."""

from decimal import Decimal

import pytest

from accounts import services as ledger
from accounts.ledger_check import ledger_mismatches
from accounts.models import PatientAccount, Transaction
from accounts.selectors import practice_today
from accounts.validators import texts_without_card_numbers
from core.errors import ApplicationError
from core.models import AuditEvent
from payment_plans import services as plans
from payment_plans.models import PaymentPlan
from tests.conftest import post_visit
from tests.factories import EncounterFactory, PatientAccountFactory
from writeoffs import services as writeoffs
from writeoffs.models import WriteOffRequest

Kind = Transaction.Kind
AWKWARD = ["0.01", "0.03", "99999.99"]


def twin(practice):
    """An account owing $120 on a visit (insurance paid $150 of $300), and that visit."""
    account = PatientAccountFactory(practice=practice)
    encounter = post_visit(account, days_ago=60, charge="300.00", insurance_paid="150.00", to_patient="120.00")
    return account, encounter


def remittance_postings(account, encounter, amount: str, tag: str) -> list[ledger.Posting]:
    """What an 835 claim posts: a payment, a contractual adjustment, a transfer to the patient."""
    value = Decimal(amount)
    common = {"account_id": account.pk, "encounter_id": encounter.pk, "effective_on": practice_today(account.practice)}
    return [
        ledger.Posting(kind=Kind.INSURANCE_PAYMENT, insurance_amount=-value, reference=f"{tag}:PAY", **common),
        ledger.Posting(kind=Kind.CONTRACTUAL_ADJUSTMENT, insurance_amount=value, reference=f"{tag}:CO", **common),
        ledger.Posting(
            kind=Kind.TRANSFER_TO_PATIENT,
            patient_amount=value,
            insurance_amount=-value,
            reference=f"{tag}:PR",
            memo="ERA 1: PR 1",
            **common,
        ),
    ]


def patient_payment(account, amount: str, reference: str = "") -> ledger.Posting:
    return ledger.Posting(
        account_id=account.pk,
        kind=Kind.PATIENT_PAYMENT,
        patient_amount=-Decimal(amount),
        payment_method=Transaction.PaymentMethod.CHECK,
        effective_on=practice_today(account.practice),
        reference=reference,
    )


def one_by_one(postings: list[ledger.Posting]) -> list[Transaction]:
    return [ledger.transaction_post(acting_user=None, **vars(posting)) for posting in postings]


def ledger_of(account) -> list[tuple]:
    """The account's ledger as a reader sees it, without ids (references of recoveries name them)."""
    rows = Transaction.objects.filter(account=account).order_by("effective_on", "kind", "patient_amount")
    return [
        (row.kind, row.patient_amount, row.insurance_amount, row.effective_on, row.memo[:12], row.reference[:4])
        for row in rows
    ]


def state(account) -> tuple:
    account = PatientAccount.objects.get(pk=account.pk)
    return account.patient_balance, account.insurance_balance, account.last_patient_payment_on


def same_for_move(postings_for, practice):
    """Post the same postings on two twin accounts, batch and one by one; return both accounts."""
    batch_account, batch_encounter = twin(practice)
    single_account, single_encounter = twin(practice)
    one_by_one(postings_for(single_account, single_encounter))
    version = PatientAccount.objects.get(pk=batch_account.pk).version
    ledger.transactions_post_many(acting_user=None, postings=postings_for(batch_account, batch_encounter))
    assert PatientAccount.objects.get(pk=batch_account.pk).version == version + 1
    assert ledger_of(batch_account) == ledger_of(single_account)
    assert state(batch_account) == state(single_account)
    assert ledger_mismatches()[0] == []
    return batch_account, single_account


@pytest.mark.parametrize("amount", AWKWARD)
def test_a_batch_posts_what_one_by_one_posts(practice, amount):
    def postings(account, encounter):
        return [*remittance_postings(account, encounter, amount, "A"), patient_payment(account, amount)]

    same_for_move(postings, practice)


def test_a_batch_over_many_accounts_moves_each_by_its_own_rows(practice):
    accounts = [twin(practice) for _ in range(3)]
    postings = [p for n, (a, e) in enumerate(accounts) for p in remittance_postings(a, e, f"{n + 1}.00", f"R{n}")]
    rows = ledger.transactions_post_many(acting_user=None, postings=postings)
    assert [row.replayed for row in rows] == [False] * 9
    for n, (account, _) in enumerate(accounts):
        assert state(account)[0] == Decimal("120.00") + n + 1
    assert ledger_mismatches()[0] == []


def test_a_batch_writes_an_audit_row_for_each_posting(practice, medium):
    account, encounter = twin(practice)
    before = AuditEvent.objects.filter(object_type="accounts.transaction").count()
    rows = ledger.transactions_post_many(acting_user=medium, postings=remittance_postings(account, encounter, "5", "A"))
    audits = AuditEvent.objects.filter(object_type="accounts.transaction").order_by("pk")
    assert audits.count() == before + 3
    assert [a.object_id for a in audits[before:]] == [str(row.pk) for row in rows]
    assert {(a.user_id, a.action, a.practice_id, a.field_group) for a in audits[before:]} == {
        (medium.pk, AuditEvent.Action.POST, practice.pk, "billing")
    }


def test_the_same_batch_again_is_answered_by_its_references_and_changes_nothing(practice):
    account, encounter = twin(practice)
    first = ledger.transactions_post_many(acting_user=None, postings=remittance_postings(account, encounter, "9", "A"))
    before = (Transaction.objects.count(), PatientAccount.objects.get(pk=account.pk).version, state(account))
    again = ledger.transactions_post_many(acting_user=None, postings=remittance_postings(account, encounter, "9", "A"))
    assert [row.replayed for row in again] == [True, True, True]
    assert [row.pk for row in again] == [row.pk for row in first]
    assert (Transaction.objects.count(), PatientAccount.objects.get(pk=account.pk).version, state(account)) == before


def test_a_reference_twice_in_one_batch_posts_once(practice):
    account, _ = twin(practice)
    rows = ledger.transactions_post_many(
        acting_user=None,
        postings=[patient_payment(account, "10.00", "CHK-1"), patient_payment(account, "10.00", "CHK-1")],
    )
    assert [row.replayed for row in rows] == [False, True]
    assert rows[0].pk == rows[1].pk
    assert state(account)[0] == Decimal("110.00")


def test_a_reference_reused_with_another_amount_refuses_the_whole_batch(practice):
    account, encounter = twin(practice)
    ledger.transaction_post(acting_user=None, **vars(patient_payment(account, "10.00", "CHK-1")))
    before = Transaction.objects.count()
    with pytest.raises(ApplicationError) as refused:
        ledger.transactions_post_many(
            acting_user=None,
            postings=[*remittance_postings(account, encounter, "5", "A"), patient_payment(account, "11.00", "CHK-1")],
        )
    assert refused.value.field == "reference"
    assert Transaction.objects.count() == before
    assert state(account)[0] == Decimal("110.00")


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"patient_amount": Decimal("5.00"), "insurance_amount": Decimal("-4.00")}, "insurance_amount"),
        ({"encounter_id": None}, "encounter"),
        ({"patient_amount": Decimal("-5.00"), "insurance_amount": Decimal("5.00")}, "patient_amount"),
        # A card number anywhere in the batch's texts, found however many texts are clean.
        ({"memo": "Paid by card 4111 1111 1111 1111"}, "memo"),
        ({"reference": "4111-1111-1111-1111"}, "reference"),
    ],
)
def test_a_posting_transaction_post_refuses_refuses_the_batch(practice, change, field):
    account, encounter = twin(practice)
    good, bad = (
        remittance_postings(account, encounter, "5", "A")[:2],
        remittance_postings(account, encounter, "5", "B")[2],
    )
    bad = ledger.Posting(**{**vars(bad), **change})
    before = Transaction.objects.count()
    with pytest.raises(ApplicationError) as refused:
        ledger.transactions_post_many(acting_user=None, postings=[*good, bad])
    assert refused.value.field == field
    assert Transaction.objects.count() == before


def test_an_encounter_of_another_account_refuses_the_batch(practice):
    account, _ = twin(practice)
    other = EncounterFactory(account=PatientAccountFactory(practice=practice))
    with pytest.raises(ApplicationError) as refused:
        ledger.transactions_post_many(acting_user=None, postings=remittance_postings(account, other, "5", "A"))
    assert refused.value.field == "encounter"
    assert state(account)[0] == Decimal("120.00")


@pytest.mark.parametrize("payments", [["150.00"], ["100.00", "50.00"], ["30.00", "95.00", "40.00"], ["300.00"]])
def test_payments_beyond_the_balance_recover_bad_debt_as_one_by_one(practice, medium, manager, payments):
    """$50 written off as bad debt of $120 owed: payments in one batch recover what goes beyond the
    running balance, up to the $50, exactly as posted one by one."""

    def write_off(account):
        request = writeoffs.writeoff_propose(
            acting_user=medium, account_id=account.pk, amount=Decimal("50.00"), reason="bad_debt", note="Bad debt"
        )
        writeoffs.writeoff_approve(acting_user=manager, request_id=request.pk)

    def postings(account, encounter):
        return [patient_payment(account, amount, f"CHK-{n}") for n, amount in enumerate(payments)]

    batch_account, batch_encounter = twin(practice)
    single_account, single_encounter = twin(practice)
    write_off(batch_account)
    write_off(single_account)
    singles = one_by_one(postings(single_account, single_encounter))
    rows = ledger.transactions_post_many(acting_user=None, postings=postings(batch_account, batch_encounter))
    assert ledger_of(batch_account) == ledger_of(single_account)
    assert state(batch_account) == state(single_account)
    assert [r.bad_debt_recovery.patient_amount if r.bad_debt_recovery else None for r in rows] == [
        s.bad_debt_recovery.patient_amount if s.bad_debt_recovery else None for s in singles
    ]
    for row in rows:
        if row.bad_debt_recovery:
            assert row.bad_debt_recovery.reference == ledger.RECOVERY_REFERENCE.format(payment_id=row.pk)
    assert ledger.bad_debt_unrecovered(batch_account.pk) == ledger.bad_debt_unrecovered(single_account.pk)
    assert ledger_mismatches()[0] == []
    assert WriteOffRequest.objects.filter(account=batch_account).count() == 1


def test_a_payment_in_a_batch_moves_the_plan_as_one_by_one(practice, medium):
    batch_account, _ = twin(practice)
    single_account, _ = twin(practice)
    for account in (batch_account, single_account):
        plans.plan_create(acting_user=medium, account_id=account.pk, installment_count=4, activate=True)
    one_by_one([patient_payment(single_account, "30.00", "P1"), patient_payment(single_account, "60.00", "P2")])
    ledger.transactions_post_many(
        acting_user=None,
        postings=[patient_payment(batch_account, "30.00", "P1"), patient_payment(batch_account, "60.00", "P2")],
    )

    def plan_state(account):
        plan = PaymentPlan.objects.get(account=account)
        paid = list(plan.installments.order_by("revision", "number").values_list("paid_amount", "paid_on"))
        return plan.status, paid

    assert plan_state(batch_account) == plan_state(single_account)
    assert plan_state(batch_account)[1][0][0] == Decimal("30.00")


def test_a_batch_s_texts_are_searched_for_card_numbers_together_as_each_alone():
    texts = ["ERA 8812: CO 45 253", "835:payer:88 12:CLM 77:PR", "Card 4111 1111 1111 1111", "4012888888881881", ""]
    assert texts_without_card_numbers(texts) == {"ERA 8812: CO 45 253", "835:payer:88 12:CLM 77:PR", ""}
    # The digits of two texts never run together into one number.
    assert texts_without_card_numbers(["4111 1111", "1111 1111"]) == {"4111 1111", "1111 1111"}
