"""The AR aging report: numbers computed by hand on a small book, as of any date, from the snapshot
or the ledger, by provider and payer, and reconciled with the stored balances."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db.models import Sum
from django.urls import reverse
from django.utils import timezone

from accounts import services as ledger
from accounts.aging import Basis, aging_by_group
from accounts.jobs import refresh_aging
from accounts.models import PatientAccount, Transaction
from reports.framework import get_report, run_report
from reports.models import Statement
from tests.conftest import post_visit
from tests.factories import EncounterFactory, PatientAccountFactory

pytestmark = pytest.mark.django_db
Kind = Transaction.Kind
D = Decimal


@pytest.fixture
def book(account, practice):
    """The practice's book, by hand (today):
    - `account` (conftest): $120 patient, 100 days old; $80 patient, 45 days old (Dr. Ruth Alvarez).
    - insured: a $500 charge 10 days ago still with insurance (Dr. Kim Osei, payer Aetna).
    - overpaid: $50 patient 70 days old, paid $80 five days ago: nothing open, $30 unapplied credit.
    - placed: $60 patient 200 days old, at an agency (left out unless asked for).
    Patient: 31-60 $80, 91-120 $120 = $200 open, $30 credit, $170 balance.
    Insurance: 0-30 $500."""
    today = timezone.localdate()
    insured = PatientAccountFactory(practice=practice, account_number="N0000002", payer_name="Aetna")
    visit = EncounterFactory(
        account=insured, date_of_service=today - timedelta(days=10), rendering_provider="Dr. Kim Osei"
    )
    ledger.transaction_post(
        acting_user=None,
        account_id=insured.pk,
        kind=Kind.CHARGE,
        insurance_amount="500.00",
        encounter_id=visit.pk,
        effective_on=visit.date_of_service,
    )
    overpaid = PatientAccountFactory(practice=practice, account_number="N0000003")
    post_visit(overpaid, days_ago=70, charge="50.00", to_patient="50.00")
    ledger.transaction_post(
        acting_user=None,
        account_id=overpaid.pk,
        kind=Kind.PATIENT_PAYMENT,
        patient_amount="-80.00",
        payment_method="check",
        effective_on=today - timedelta(days=5),
    )
    placed = PatientAccountFactory(practice=practice, account_number="N0000004")
    post_visit(placed, days_ago=200, charge="60.00", to_patient="60.00")
    PatientAccount.objects.filter(pk=placed.pk).update(status=PatientAccount.Status.AGENCY)
    return {"account": account, "insured": insured, "overpaid": overpaid, "placed": placed, "today": today}


def run(user, **data):
    result = run_report(get_report("aging"), user=user, data={k: str(v) for k, v in data.items()}, fmt="json")
    assert result.ok, result.form.errors
    return result.result


def table(result, key):
    return next(t for t in result.tables if t.key == key)


def test_patient_and_insurance_buckets_match_the_book(book, manager):
    result = run(manager)
    patient = table(result, "patient")
    assert patient.totals["0-30"] == D("0.00")
    assert patient.totals["31-60"] == D("80.00")
    assert patient.totals["61-90"] == D("0.00")
    assert patient.totals["91-120"] == D("120.00")
    assert patient.totals["121+"] == D("0.00")  # the agency account is left out
    assert patient.totals["credit"] == D("30.00")
    assert patient.totals["balance"] == D("170.00")
    insurance = table(result, "insurance")
    assert insurance.totals["0-30"] == D("500.00")
    assert insurance.totals["balance"] == D("500.00")
    buckets = table(result, "buckets")
    assert [row["total"] for row in buckets.rows] == [D("500.00"), D("80.00"), D("0.00"), D("120.00"), D("0.00")]
    assert buckets.totals["total"] == D("700.00")
    # 0-30 is 500 of 700 open: 71.43 %
    assert buckets.rows[0]["share"] == D("71.43")
    assert "ledger" in result.source.lower()


def test_agency_placed_balances_are_included_only_when_asked(book, manager):
    result = run(manager, include_agency="on")
    assert table(result, "patient").totals["121+"] == D("60.00")
    assert table(result, "patient").totals["balance"] == D("230.00")


def test_a_payment_after_the_as_of_date_does_not_drop_the_invoice(book, manager):
    today = book["today"]
    as_of = today - timedelta(days=50)
    before = run(manager, as_of=as_of.isoformat())
    # 50 days ago only the 100-day visit existed: its $120 moved to the patient 86 days ago, aged 50 days.
    assert table(before, "patient").totals["31-60"] == D("120.00")
    assert table(before, "patient").totals["balance"] == D("170.00")  # + the $50 visit of 70 days ago
    ledger.transaction_post(
        acting_user=None,
        account_id=book["account"].pk,
        kind=Kind.PATIENT_PAYMENT,
        patient_amount="-120.00",
        payment_method="check",
    )
    after = run(manager, as_of=as_of.isoformat())
    assert table(after, "patient").totals == table(before, "patient").totals
    today_result = run(manager)
    assert table(today_result, "patient").totals["91-120"] == D("0.00")  # the oldest visit is paid today


def test_buckets_minus_credit_reconcile_with_the_stored_balances(book, manager, practice):
    accounts = PatientAccount.objects.filter(practice=practice)
    for include_agency, chosen in ((False, accounts.exclude(status="agency")), (True, accounts)):
        stored = chosen.aggregate(p=Sum("patient_balance"), i=Sum("insurance_balance"))
        cells = aging_by_group([practice.pk], as_of=book["today"], include_agency=include_agency)
        assert sum(c.patient_balance for c in cells) == stored["p"]
        assert sum(c.insurance_balance for c in cells) == stored["i"]
        for group_by in ("provider", "payer"):
            grouped = aging_by_group(
                [practice.pk], as_of=book["today"], include_agency=include_agency, group_by=group_by
            )
            assert sum(c.patient_balance for c in grouped) == stored["p"]
            assert sum(c.insurance_balance for c in grouped) == stored["i"]


def test_by_provider_and_by_payer(book, manager):
    by_provider = table(run(manager, group_by="provider"), "patient")
    rows = {row["group"]: row for row in by_provider.rows}
    assert rows["Dr. Ruth Alvarez"]["balance"] == D("200.00")  # the open visits (all by the default provider)
    assert rows["(no visit)"]["credit"] == D("30.00")  # the overpayment names no visit
    insurance = {row["group"]: row for row in table(run(manager, group_by="provider"), "insurance").rows}
    assert insurance["Dr. Kim Osei"]["0-30"] == D("500.00")
    by_payer = {row["group"]: row for row in table(run(manager, group_by="payer"), "insurance").rows}
    assert by_payer["Aetna"]["balance"] == D("500.00")


def test_last_activity_basis_ages_from_the_last_posting(book, manager):
    result = run(manager, basis=Basis.LAST_ACTIVITY)
    patient = table(result, "patient")
    # `account`: last posting 31 days ago (the 45-day visit's transfer, day of service + 14): $200 at 31 days.
    # overpaid: the payment 5 days ago: its open amount is nothing (credit $30).
    assert patient.totals["31-60"] == D("200.00")
    assert patient.totals["91-120"] == D("0.00")
    assert patient.totals["balance"] == D("170.00")
    assert any("Last activity" in note for note in result.notes)


def _mailed(account, days_ago, *, kind="statement"):
    today = timezone.localdate()
    statement = Statement.objects.create(
        account=account,
        practice=account.practice,
        guarantor=account.guarantor,
        kind=kind,
        statement_date=today - timedelta(days=days_ago),
        mailed_on=today - timedelta(days=days_ago),
        amount_due=account.patient_balance,
    )
    statement.covers.add(account)
    return statement


def test_first_statement_basis_counts_a_balance_no_statement_covered_as_current(book, manager):
    result = run(manager, basis=Basis.FIRST_STATEMENT)
    patient = table(result, "patient")
    assert patient.totals["0-30"] == D("200.00")  # both open balances of `account`, never billed
    assert patient.totals["balance"] == D("170.00")
    assert table(result, "insurance").totals["0-30"] == D("500.00")  # insurance ages from service
    assert any("First statement" in note for note in result.notes)


def test_first_statement_basis_ages_each_balance_from_the_first_statement_after_its_service(book, manager):
    account = book["account"]
    _mailed(account, 95)  # after the 100-day-old visit, before the 45-day-old one
    _mailed(account, 40, kind="dunning_30")  # the first document after the 45-day-old visit
    _mailed(account, 10, kind="inquiry_response")  # a letter, not a statement: does not count
    patient = table(run(manager, basis=Basis.FIRST_STATEMENT), "patient")
    assert patient.totals["91-120"] == D("120.00")
    assert patient.totals["31-60"] == D("80.00")
    assert patient.totals["0-30"] == D("0.00")
    # As of 50 days ago, the 40-day-old letter had not been mailed: the $80 was not billed yet.
    earlier = run(manager, basis=Basis.FIRST_STATEMENT, as_of=(book["today"] - timedelta(days=50)).isoformat())
    assert table(earlier, "patient").totals["31-60"] == D("120.00")  # 95 - 50 = 45 days since the statement


def test_the_nightly_snapshot_is_read_when_it_matches_and_agrees_with_the_ledger(book, manager, practice):
    live = run(manager)
    refresh_aging({practice.pk: book["today"]})
    fast = run(manager)
    assert fast.source.startswith("Nightly snapshot")
    for key in ("patient", "insurance"):
        for bucket in ("0-30", "31-60", "61-90", "91-120", "121+"):
            assert table(fast, key).totals[bucket] == table(live, key).totals[bucket]
    assert table(fast, "buckets").totals == table(live, "buckets").totals
    # Another basis or breakdown is not in the snapshot: the ledger answers.
    assert run(manager, group_by="provider").source.startswith("The ledger")
    assert run(manager, as_of=(book["today"] - timedelta(days=1)).isoformat()).source.startswith("The ledger")


def test_the_page_says_where_the_figures_come_from(book, manager, practice, client):
    refresh_aging({practice.pk: book["today"]})
    client.force_login(manager)
    page = client.get(reverse("report", args=["aging"])).content.decode()
    assert "Nightly snapshot of" in page
    page = client.get(reverse("report", args=["aging"]), {"basis": "first_statement"}).content.decode()
    assert "The ledger, as of" in page
    assert "a balance no statement has covered yet is current" in page
