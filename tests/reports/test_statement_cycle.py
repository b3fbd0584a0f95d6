"""The nightly statement cycle: who gets a statement, who is left out and why, one statement per
guarantor per interval covering all their accounts, the dunning level, and idempotency per date."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from accounts import services as ledger
from accounts.jobs import refresh_aging
from accounts.models import Claim, PatientAccount
from collections_app.holds import services as holds
from collections_app.models import Contact
from collections_app.nightly.runner import run_nightly
from core.models import AuditEvent
from payment_plans import services as plans
from reports.models import Statement, StatementBatch
from reports.statements import cycle
from tests.conftest import post_visit
from tests.factories import GuarantorFactory, PatientAccountFactory, PatientFactory

Kind = Statement.Kind


def owing(practice, *, balance="120.00", days_ago=40, **fields):
    """An active account owing `balance` on one visit `days_ago` (insurance settled)."""
    account = PatientAccountFactory(practice=practice, **fields)
    post_visit(
        account, days_ago=days_ago, charge=str(Decimal(balance) + 50), insurance_paid="50.00", to_patient=balance
    )
    account.refresh_from_db()
    return account


def today():
    return timezone.localdate()


def run(practice, as_of=None):
    as_of = as_of or today()
    refresh_aging({practice.pk: as_of})
    return cycle.statement_cycle_practice(practice, as_of)


def statements_of(account):
    return Statement.objects.filter(covers=account).order_by("statement_date", "id")


def test_an_owing_account_gets_a_statement_with_its_content_and_mailing_date(practice):
    account = owing(practice)
    batch = run(practice)
    statement = statements_of(account).get()
    assert statement.batch == batch
    assert statement.kind == Kind.STATEMENT
    assert statement.dunning_level == 0
    assert statement.amount_due == Decimal("120.00")
    assert statement.mailed_on == today()
    assert statement.statement_date == today()
    assert statement.content["account_number"] == account.account_number
    assert statement.content["amount_due"] == "120.00"
    assert batch.statement_count == 1
    assert batch.total_amount == Decimal("120.00")
    assert batch.suppressed == dict.fromkeys(cycle.REASONS, 0)
    assert batch.status == StatementBatch.Status.PENDING
    # logged as a letter on the contact timeline, and audited
    assert Contact.objects.filter(account=account, outcome=Contact.Outcome.STATEMENT_SENT).count() == 1
    assert AuditEvent.objects.filter(object_type="reports.statement", object_id=str(statement.pk)).exists()


def test_first_statement_date_is_set_only_where_empty(practice):
    fresh = owing(practice)
    earlier = owing(practice)
    PatientAccount.objects.filter(pk=earlier.pk).update(first_statement_on=today() - timedelta(days=200))
    run(practice)
    fresh.refresh_from_db()
    earlier.refresh_from_db()
    assert fresh.first_statement_on == today()
    assert earlier.first_statement_on == today() - timedelta(days=200)


def test_running_twice_for_one_date_produces_nothing_new(practice):
    owing(practice)
    owing(practice, balance="300.00")
    first = run(practice)
    assert first.statement_count == 2
    counts = (Statement.objects.count(), Contact.objects.count(), StatementBatch.objects.count())
    assert run(practice) is None
    # even without the batch guard, the guarantor interval sends nothing twice for the date
    assert cycle.cycle_selection(practice, today()).statements == []
    assert (Statement.objects.count(), Contact.objects.count(), StatementBatch.objects.count()) == counts


def test_run_nightly_twice_for_one_date_produces_statements_once(practice):
    owing(practice)
    run_nightly(as_of=today(), job="aging_snapshot")
    first = run_nightly(as_of=today(), job="statement_cycle")
    second = run_nightly(as_of=today(), job="statement_cycle")
    assert first[0].outcome == "ran" and first[0].counts["statements"] == 1
    assert second[0].outcome == "skipped"
    assert Statement.objects.count() == 1


def test_one_statement_per_guarantor_covers_all_their_accounts_filed_under_the_oldest(practice):
    parent = GuarantorFactory(practice=practice, patient=PatientFactory(practice=practice))
    newer = owing(practice, guarantor=parent, days_ago=20, balance="40.00")
    older = owing(practice, guarantor=parent, days_ago=50, balance="30.00")
    batch = run(practice)
    statement = Statement.objects.get(batch=batch)
    assert statement.guarantor == parent
    assert statement.account == older
    assert set(statement.covers.all()) == {newer, older}
    assert statement.amount_due == Decimal("70.00")
    assert batch.statement_count == 1


def test_at_most_one_statement_per_guarantor_in_the_interval(practice):
    practice.statement_cycle_days = 30
    practice.statement_guarantor_min_days = 25
    practice.save()
    parent = GuarantorFactory(practice=practice, patient=PatientFactory(practice=practice))
    first_account = owing(practice, guarantor=parent)
    run(practice, today() - timedelta(days=10))
    # a new account of the same guarantor is due (never billed), but the guarantor was written to 10 days ago
    second_account = owing(practice, guarantor=parent, days_ago=5)
    assert run(practice).statement_count == 0
    assert statements_of(second_account).count() == 0
    # once the interval has passed, one statement covers both
    later = run(practice, today() + timedelta(days=15))
    statement = Statement.objects.get(batch=later)
    assert set(statement.covers.all()) == {first_account, second_account}


def test_cadence_sends_the_next_statement_after_the_cycle_days(practice):
    practice.statement_cycle_days = 30
    practice.statement_guarantor_min_days = 10
    practice.save()
    account = owing(practice, days_ago=5)
    start = today()
    assert run(practice, start).statement_count == 1
    assert run(practice, start + timedelta(days=20)).statement_count == 0  # guarantor free, account not due
    assert run(practice, start + timedelta(days=30)).statement_count == 1
    assert statements_of(account).count() == 2


def test_guarantor_balance_under_the_minimum_gets_no_statement(practice):
    practice.statement_min_balance = Decimal("25.00")
    practice.save()
    parent = GuarantorFactory(practice=practice, patient=PatientFactory(practice=practice))
    small = owing(practice, guarantor=parent, balance="10.00")
    alone = owing(practice, balance="24.99")
    batch = run(practice)
    assert batch.statement_count == 0
    assert batch.suppressed[cycle.REASON_MINIMUM] == 2
    # combined with another account the guarantor's balance reaches the minimum
    owing(practice, guarantor=parent, balance="15.00")
    batch = run(practice, today() + timedelta(days=1))
    assert batch.statement_count == 1
    assert small in Statement.objects.get(batch=batch).covers.all()
    assert statements_of(alone).count() == 0


def hold(medium, account):
    holds.hold_place(acting_user=medium, account_id=account.pk, kind="dispute", dispute_kind="balance")


def cease(medium, account):
    PatientAccount.objects.filter(pk=account.pk).update(cease_communication_on=today())


def attorney(medium, account):
    PatientAccount.objects.filter(pk=account.pk).update(attorney_represented=True, attorney_name="Sam Counsel")


def returned_mail(medium, account):
    account.patient.address_is_bad = True
    account.patient.save()


def no_address(medium, account):
    account.patient.address_line1 = ""
    account.patient.save()


def agency(medium, account):
    PatientAccount.objects.filter(pk=account.pk).update(status=PatientAccount.Status.AGENCY)


def insurance_pending(medium, account):
    encounter = account.encounters.get()
    Claim.objects.create(
        encounter=encounter,
        account=account,
        payer_name="Aetna",
        billed_amount=Decimal("170.00"),
        status=Claim.Status.PENDING,
        submitted_on=today() - timedelta(days=20),
    )


@pytest.mark.parametrize(
    ("suppress", "reason"),
    [
        (hold, cycle.REASON_HOLD),
        (cease, cycle.REASON_CEASE),
        (attorney, cycle.REASON_ATTORNEY),
        (returned_mail, cycle.REASON_ADDRESS),
        (no_address, cycle.REASON_ADDRESS),
        (agency, cycle.REASON_AGENCY),
        (insurance_pending, cycle.REASON_INSURANCE),
    ],
    ids=["hold", "cease", "attorney", "returned-mail", "no-address", "agency", "insurance-pending"],
)
def test_each_suppression_rule_leaves_the_account_out_and_counts_it(practice, medium, suppress, reason):
    kept = owing(practice)
    left_out = owing(practice)
    suppress(medium, left_out)
    batch = run(practice)
    assert statements_of(left_out).count() == 0
    assert statements_of(kept).count() == 1
    assert batch.suppressed == {**dict.fromkeys(cycle.REASONS, 0), reason: 1}
    left_out.refresh_from_db()
    assert left_out.first_statement_on is None


def test_a_suppressed_account_is_left_off_its_guarantors_statement(practice, medium):
    parent = GuarantorFactory(practice=practice, patient=PatientFactory(practice=practice))
    kept = owing(practice, guarantor=parent)
    held = owing(practice, guarantor=parent)
    hold(medium, held)
    batch = run(practice)
    statement = Statement.objects.get(batch=batch)
    assert list(statement.covers.all()) == [kept]
    assert batch.suppressed[cycle.REASON_HOLD] == 1


def test_an_account_is_counted_under_its_first_reason_only(practice, medium):
    owing(practice)
    both = owing(practice)
    hold(medium, both)
    returned_mail(medium, both)
    batch = run(practice)
    assert batch.suppressed[cycle.REASON_HOLD] == 1
    assert batch.suppressed[cycle.REASON_ADDRESS] == 0


def test_a_payment_plan_account_gets_statements_at_level_zero(practice, medium):
    account = owing(practice, days_ago=200, balance="600.00")
    plans.plan_create(acting_user=medium, account_id=account.pk, installment_count=6, activate=True)
    batch = run(practice)
    statement = Statement.objects.get(batch=batch)
    assert statement.dunning_level == 0
    assert statement.kind == Kind.STATEMENT


def test_dunning_advances_one_level_per_statement_up_to_the_final_notice(practice):
    practice.statement_cycle_days = 30
    practice.statement_guarantor_min_days = 25
    practice.final_notice_after_days = 90
    practice.save()
    account = owing(practice, days_ago=5, balance="400.00")
    start = today()
    levels = []
    for month in range(6):
        batch = run(practice, start + timedelta(days=30 * month))
        levels.append(Statement.objects.get(batch=batch).dunning_level)
    assert levels == [0, 1, 2, 3, 4, 4]
    kinds = list(statements_of(account).values_list("kind", flat=True))
    assert kinds == [
        Kind.STATEMENT,
        Kind.DUNNING_30,
        Kind.DUNNING_60,
        Kind.DUNNING_90,
        Kind.FINAL_NOTICE,
        Kind.FINAL_NOTICE,
    ]
    # the final notice is what agency candidates count 30 days from
    assert Contact.objects.filter(account=account, outcome=Contact.Outcome.FINAL_NOTICE_SENT).count() == 2
    final = statements_of(account).filter(kind=Kind.FINAL_NOTICE).first()
    assert final.pay_by == final.statement_date + timedelta(days=30)


def test_dunning_never_passes_what_the_age_allows(practice):
    account = owing(practice, days_ago=10)
    run(practice)
    # a month later the balance is 40 days old: a 30-day letter at most, and only one step
    batch = run(practice, today() + timedelta(days=35))
    assert Statement.objects.get(batch=batch).dunning_level == 1
    assert statements_of(account).count() == 2


def test_an_old_balance_starts_at_a_statement_not_a_final_notice(practice):
    account = owing(practice, days_ago=400)
    run(practice)
    assert statements_of(account).get().dunning_level == 0


def test_a_statement_about_a_balance_since_paid_does_not_advance_a_new_one(practice):
    practice.statement_cycle_days = 30
    practice.save()
    account = owing(practice, days_ago=100)
    start = today() - timedelta(days=60)
    run(practice, start)
    run(practice, start + timedelta(days=30))
    assert statements_of(account).last().dunning_level == 1
    # the old balance paid; a new visit 10 days ago is a new balance: a plain statement
    ledger.transaction_post(
        acting_user=None,
        account_id=account.pk,
        kind="patient_payment",
        patient_amount=-account.patient_balance,
        payment_method="check",
        effective_on=today() - timedelta(days=20),
    )
    post_visit(account, days_ago=10, charge="90.00", insurance_paid="50.00", to_patient="40.00")
    batch = run(practice)
    assert Statement.objects.get(batch=batch).dunning_level == 0


def test_each_practice_gets_its_own_batch(practice, other_practice):
    owing(practice)
    owing(other_practice)
    owing(other_practice)
    refresh_aging({practice.pk: today(), other_practice.pk: today()})
    counts = cycle.statement_cycle_run({practice.pk: today(), other_practice.pk: today()})
    assert counts["batches"] == 2 and counts["statements"] == 3
    assert StatementBatch.objects.get(practice=other_practice).statement_count == 2


def test_an_empty_run_still_records_the_batch_with_its_suppressions(practice, medium):
    account = owing(practice)
    hold(medium, account)
    batch = run(practice)
    assert batch.statement_count == 0
    assert batch.status == StatementBatch.Status.DONE
    assert batch.suppressed[cycle.REASON_HOLD] == 1


def test_printing_starts_after_commit(practice, django_capture_on_commit_callbacks):
    owing(practice)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        run(practice)
    assert len(callbacks) >= 1


def test_each_practice_is_selected_on_its_own_cadence_and_date(practice, other_practice):
    other_practice.statement_cycle_days = 10
    other_practice.statement_guarantor_min_days = 10
    other_practice.save()
    ours = owing(practice)
    theirs = owing(other_practice)
    earlier = today() - timedelta(days=15)
    refresh_aging({practice.pk: earlier, other_practice.pk: earlier})
    cycle.statement_cycle_run({practice.pk: earlier, other_practice.pk: earlier})
    # 15 days on: due again on the 10-day cadence, not on the 30-day one
    later = today() + timedelta(days=1)
    refresh_aging({practice.pk: later, other_practice.pk: later})
    counts = cycle.statement_cycle_run({practice.pk: later, other_practice.pk: later})
    assert counts["statements"] == 1
    assert statements_of(ours).count() == 1
    assert statements_of(theirs).count() == 2
