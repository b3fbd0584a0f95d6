"""Synthea exports up to a cut-off: patients, visits, claims and their transactions, with the last
statement cycle's patient balances still open; a later cut-off adds just the later rows."""

import csv
from datetime import date, timedelta
from decimal import Decimal

from accounts.ledger_check import ledger_mismatches
from accounts.models import Claim, PatientAccount, Transaction
from payment_plans import services as plans
from payment_plans.models import PaymentPlan
from tests.imports.conftest import SYNTHEA, need, row_counts, run_json

CUTOFF = date(2024, 1, 15)


def _expected(cutoff: date, cycle_days: int):
    """Claims up to the cut-off and the patient shares not yet paid by then, from a plain CSV read."""
    with (SYNTHEA / "claims.csv").open() as handle:
        claims = [row for row in csv.DictReader(handle) if date.fromisoformat(row["SERVICEDATE"][:10]) <= cutoff]
    open_shares = Decimal("0.00")
    with (SYNTHEA / "claims_transactions.csv").open() as handle:
        for row in csv.DictReader(handle):
            day = date.fromisoformat(row["FROMDATE"][:10])
            to_patient = (row["TYPE"] == "TRANSFERIN" and row["TRANSFERTYPE"] == "p") or (
                row["TYPE"] == "CHARGE" and row["TRANSFERTYPE"] == "p"
            )
            if to_patient and day <= cutoff < day + timedelta(days=cycle_days):
                open_shares += Decimal(row["AMOUNT"])
    return len(claims), open_shares


def _import(practice, cutoff: date) -> dict:
    return run_json("import_synthea", str(SYNTHEA), "--practice", practice.code, "--cutoff", cutoff.isoformat())


def test_synthea_imports_up_to_the_cutoff_leaving_the_last_cycle_open(practice):
    need(SYNTHEA)
    summary = _import(practice, CUTOFF)
    claims, open_shares = _expected(CUTOFF, practice.statement_cycle_days)
    assert (summary["claims"], summary["claims_created"], summary["rejects"]) == (claims, claims, [])
    assert (summary["patients_created"], summary["accounts_created"]) == (3, 3)
    assert Claim.objects.count() == claims == 102
    balances = dict(PatientAccount.objects.values_list("patient__first_name", "patient_balance"))
    assert sum(balances.values()) == open_shares == Decimal("100.00")
    assert balances["Jennie425"] == Decimal("100.00")
    assert not Transaction.objects.filter(effective_on__gt=CUTOFF).exists()
    assert not ledger_mismatches()[0]
    before = row_counts()
    again = _import(practice, CUTOFF)
    assert row_counts() == before
    assert again["files_already_imported"] == 6 and "nothing changed" in again["messages"][0]


def test_a_later_cutoff_adds_only_the_later_rows_and_the_patient_payment_moves_the_plan(practice, medium):
    need(SYNTHEA)
    _import(practice, CUTOFF)
    account = PatientAccount.objects.get(patient__first_name="Jennie425")
    plan = plans.plan_create(acting_user=medium, account_id=account.pk, installment_count=2, activate=True)
    # The plan was agreed the day after the cut-off: the payment of Jan 31 counts toward it.
    PaymentPlan.objects.filter(pk=plan.pk).update(created_on=CUTOFF + timedelta(days=1))
    posted = Transaction.objects.count()
    later = date(2024, 3, 31)
    summary = _import(practice, later)
    claims, _ = _expected(later, practice.statement_cycle_days)
    assert summary["claims_created"] == claims - 102 == 3
    assert summary["claims_unchanged"] == 102
    assert Transaction.objects.count() == posted + summary["postings"]
    account.refresh_from_db()
    assert account.patient_balance == 0
    plan.refresh_from_db()
    assert plan.status == PaymentPlan.Status.COMPLETED
    assert account.status == PatientAccount.Status.ACTIVE
    assert not ledger_mismatches()[0]
