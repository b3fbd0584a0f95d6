"""Agency payments: gross, commission and net from the agency's file or by hand; a file whose totals
do not reconcile is refused naming the line; the same file twice posts once; the ledger checks out."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied

from accounts.ledger_check import ledger_mismatches
from accounts.models import PatientAccount, Transaction
from accounts.selectors import practice_today
from accounts.services import bad_debt_unrecovered
from collections_app.agencies import services
from collections_app.models import AgencyPayment, AgencyPaymentImport, Placement
from core.errors import ApplicationError
from tests.collections_app.agencies_support import make_agency, ready_account

Kind = Transaction.Kind


@pytest.fixture
def placed_pair(practice, manager):
    agency = make_agency(practice, rate="25.00")
    one = ready_account(practice, balance="600.00", account_number="N1000001")
    two = ready_account(practice, balance="400.00", account_number="N1000002")
    preview = services.placement_preview(acting_user=manager, account_ids=[one.pk, two.pk])
    services.placement_place(acting_user=manager, account_ids=[one.pk, two.pk], fingerprint=preview.fingerprint)
    return agency, one, two


def payment_file(*rows, total=None, net=False):
    header = "account_number,payment_date,gross,commission" + (",net" if net else "")
    lines = [header, *rows]
    if total is not None:
        lines.append(total)
    return ("\r\n".join(lines) + "\r\n").encode()


def day(practice, ago=3):
    return (practice_today(practice) - timedelta(days=ago)).isoformat()


def test_a_file_that_reconciles_posts_gross_commission_and_net_as_bad_debt_recovery(practice, manager, placed_pair):
    agency, one, two = placed_pair
    d = day(practice)
    data = payment_file(f"N1000001,{d},200.00,50.00", f"N1000002,{d},400.00,100.00", total="TOTAL,2,600.00,150.00")
    result = services.agency_payment_import(
        acting_user=manager, agency_id=agency.pk, data=data, file_name="keystone.csv"
    )
    imported = result.payment_import
    assert (imported.row_count, imported.gross_total, imported.commission_total, imported.net_total) == (
        2,
        Decimal("600.00"),
        Decimal("150.00"),
        Decimal("450.00"),
    )
    assert result.posted_count == 2
    # With bad debt written off at placement, each agency payment comes with its bad-debt recovery.
    for account, gross in ((one, Decimal("200.00")), (two, Decimal("400.00"))):
        rows = Transaction.objects.filter(account=account, kind__in=[Kind.AGENCY_PAYMENT, Kind.BAD_DEBT_RECOVERY])
        assert sorted((row.kind, row.patient_amount) for row in rows) == sorted(
            [(Kind.AGENCY_PAYMENT, -gross), (Kind.BAD_DEBT_RECOVERY, gross)]
        )
        account.refresh_from_db()
        assert account.patient_balance == 0
    assert bad_debt_unrecovered(one.pk) == Decimal("400.00")
    # Two paid in full: the placement is closed and the account comes back; one is still at the agency.
    assert Placement.objects.get(account=two).status == Placement.Status.CLOSED
    assert PatientAccount.objects.get(pk=two.pk).status == PatientAccount.Status.ACTIVE
    placement_one = Placement.objects.get(account=one)
    assert placement_one.status == Placement.Status.PLACED and placement_one.collected == Decimal("200.00")
    payment = AgencyPayment.objects.get(account=one)
    assert (payment.gross, payment.commission, payment.net) == (Decimal("200.00"), Decimal("50.00"), Decimal("150.00"))
    mismatches, _ = ledger_mismatches()
    assert mismatches == []


def test_the_same_file_twice_posts_once(practice, manager, placed_pair):
    agency, one, _ = placed_pair
    data = payment_file(f"N1000001,{day(practice)},100.00,25.00")
    services.agency_payment_import(acting_user=manager, agency_id=agency.pk, data=data)
    again = services.agency_payment_import(acting_user=manager, agency_id=agency.pk, data=data)
    assert again.replayed and again.posted_count == 0
    assert Transaction.objects.filter(account=one, kind=Kind.AGENCY_PAYMENT).count() == 1
    assert AgencyPaymentImport.objects.count() == 1


def test_a_row_repeated_in_a_later_file_is_not_posted_twice(practice, manager, placed_pair):
    agency, one, _ = placed_pair
    d = day(practice)
    services.agency_payment_import(
        acting_user=manager, agency_id=agency.pk, data=payment_file(f"N1000001,{d},100.00,25.00")
    )
    later = payment_file(f"N1000001,{d},100.00,25.00", f"N1000001,{day(practice, 1)},50.00,12.50")
    result = services.agency_payment_import(acting_user=manager, agency_id=agency.pk, data=later)
    assert [line.already_posted for line in result.lines] == [True, False]
    assert Transaction.objects.filter(account=one, kind=Kind.AGENCY_PAYMENT).count() == 2


@pytest.mark.parametrize(
    ("rows", "total", "message"),
    [
        (["N1000001,{d},100.00,25.00"], "TOTAL,1,100.01,25.00", "Line 3: the file states a gross total of $100.01"),
        (["N1000001,{d},100.00,25.00"], "TOTAL,2,100.00,25.00", "Line 3: the file states a row count of 2"),
        (["N1000001,{d},100.00,25.00"], "TOTAL,1,100.00,20.00", "Line 3: the file states a commission total"),
        (["N1000001,{d},100.00,125.00"], None, "Line 2: the commission must be between zero"),
        (["N1000001,{d},abc,1.00"], None, "Line 2: 'abc' is not an amount for gross"),
        (["N1000001,12/01/2026,10.00,1.00"], None, "Line 2: '12/01/2026' is not a payment date"),
        (["N1000001,{d},10.00,1.00", "N9999999,{d},10.00,1.00"], None, "Line 3: account N9999999 is not an account"),
        (["N1000001,{d},700.00,1.00"], None, "Line 2: account N1000001 owes $600.00"),
        (["N1000001,{d},10.00"], None, "Line 2: expected 4 columns, found 3"),
    ],
)
def test_a_file_that_does_not_reconcile_is_refused_naming_the_line(
    practice, manager, placed_pair, rows, total, message
):
    agency, _one, _ = placed_pair
    d = day(practice)
    data = payment_file(*[row.format(d=d) for row in rows], total=total)
    with pytest.raises(ApplicationError) as refused:
        services.agency_payment_import(acting_user=manager, agency_id=agency.pk, data=data)
    assert message in refused.value.message
    assert not AgencyPayment.objects.exists()
    assert not Transaction.objects.filter(kind=Kind.AGENCY_PAYMENT).exists()


def test_a_net_column_must_be_gross_less_commission(practice, manager, placed_pair):
    agency, *_ = placed_pair
    data = payment_file(f"N1000001,{day(practice)},100.00,25.00,70.00", net=True)
    with pytest.raises(ApplicationError) as refused:
        services.agency_payment_import(acting_user=manager, agency_id=agency.pk, data=data)
    assert refused.value.message.startswith("Line 2: net 70.00")


def test_an_account_never_placed_with_the_agency_is_refused(practice, manager, placed_pair):
    agency, *_ = placed_pair
    ready_account(practice, account_number="N1000003")
    with pytest.raises(ApplicationError) as refused:
        services.agency_payment_import(
            acting_user=manager, agency_id=agency.pk, data=payment_file(f"N1000003,{day(practice)},10.00,2.50")
        )
    assert "never placed with Keystone Recovery" in refused.value.message


def test_payment_by_hand_defaults_the_commission_to_the_agency_rate(practice, manager, placed_pair):
    _, one, _ = placed_pair
    placement = Placement.objects.get(account=one)
    payment, replayed = services.agency_payment_record(
        acting_user=manager,
        placement_id=placement.pk,
        paid_on=practice_today(practice),
        gross="80.00",
        reference="RMT-881",
    )
    assert not replayed and (payment.commission, payment.net) == (Decimal("20.00"), Decimal("60.00"))
    _, replayed = services.agency_payment_record(
        acting_user=manager,
        placement_id=placement.pk,
        paid_on=practice_today(practice),
        gross="80.00",
        reference="RMT-881",
    )
    assert replayed
    assert AgencyPayment.objects.count() == 1
    mismatches, _ = ledger_mismatches()
    assert mismatches == []


def test_a_rep_cannot_post_agency_payments(practice, medium, placed_pair):
    agency, *_ = placed_pair
    with pytest.raises(PermissionDenied):
        services.agency_payment_import(acting_user=medium, agency_id=agency.pk, data=payment_file())


def test_round_trip_placement_file_then_agency_payment_file(practice, manager, placed_pair):
    """What the agency was sent comes back paid: the ledger checks out and both placements close."""
    agency, one, two = placed_pair
    sent = Placement.objects.filter(agency=agency).select_related("batch__file", "account").first().batch.file.content
    rows = [line.split(",") for line in sent.strip().splitlines()[1:]]
    d = day(practice)
    back = [f"{row[0]},{d},{row[9]},{Decimal(row[9]) / 4:.2f}" for row in rows]
    gross = sum(Decimal(row[9]) for row in rows)
    data = payment_file(*back, total=f"TOTAL,{len(back)},{gross:.2f},{gross / 4:.2f}")
    services.agency_payment_import(acting_user=manager, agency_id=agency.pk, data=data)
    assert set(Placement.objects.values_list("status", flat=True)) == {Placement.Status.CLOSED}
    assert bad_debt_unrecovered(one.pk) == bad_debt_unrecovered(two.pk) == 0
    mismatches, _ = ledger_mismatches()
    assert mismatches == []


@pytest.mark.parametrize(
    ("gross", "commission"), [("84.95", "21.24"), ("0.03", "0.01"), ("0.01", "0.00"), ("99.99", "33.33")]
)
def test_awkward_amounts_post_exact_gross_commission_and_net(practice, manager, placed_pair, gross, commission):
    agency, one, _ = placed_pair
    data = payment_file(f"N1000001,{day(practice)},{gross},{commission}", total=f"TOTAL,1,{gross},{commission}")
    services.agency_payment_import(acting_user=manager, agency_id=agency.pk, data=data)
    payment = AgencyPayment.objects.get(account=one)
    assert (payment.gross, payment.commission, payment.net) == (
        Decimal(gross),
        Decimal(commission),
        Decimal(gross) - Decimal(commission),
    )
    assert ledger_mismatches()[0] == []


def check_ledger() -> str:
    """`manage.py check_ledger` as an operator runs it: exits 0 (no CommandError) and says so."""
    from io import StringIO

    from django.core.management import call_command

    out = StringIO()
    call_command("check_ledger", stdout=out)
    return out.getvalue()


def test_agency_payment_file_reconciles_with_the_ledger_and_check_ledger_passes(practice, manager, placed_pair):
    agency, one, two = placed_pair
    d = day(practice)
    data = payment_file(
        f"N1000001,{d},150.00,37.50",
        f"N1000002,{d},99.99,25.00",
        f"N1000001,{day(practice, 1)},0.03,0.01",
        total="TOTAL,3,250.02,62.51",
    )
    result = services.agency_payment_import(acting_user=manager, agency_id=agency.pk, data=data)
    imported = result.payment_import
    # The file's TOTAL line, the stored import, the payment rows and the ledger all say the same.
    assert (imported.gross_total, imported.commission_total, imported.net_total) == (
        Decimal("250.02"),
        Decimal("62.51"),
        Decimal("187.51"),
    )
    payments = AgencyPayment.objects.filter(payment_import=imported)
    assert sum(p.gross for p in payments) == imported.gross_total
    assert sum(p.net for p in payments) == imported.net_total
    ledger_gross = -sum(
        Transaction.objects.filter(kind=Kind.AGENCY_PAYMENT, account__in=[one, two]).values_list(
            "patient_amount", flat=True
        )
    )
    assert ledger_gross == Decimal("250.02")
    assert Placement.objects.get(account=one).collected == Decimal("150.03")
    assert "Ledger OK" in check_ledger()


def test_round_trip_then_check_ledger_exits_zero(practice, manager, placed_pair):
    agency, *_ = placed_pair
    sent = Placement.objects.filter(agency=agency).select_related("batch__file").first().batch.file.content
    rows = [line.split(",") for line in sent.strip().splitlines()[1:]]
    back = [f"{row[0]},{day(practice)},{row[9]},{Decimal(row[9]) / 4:.2f}" for row in rows]
    services.agency_payment_import(acting_user=manager, agency_id=agency.pk, data=payment_file(*back))
    assert set(Placement.objects.values_list("status", flat=True)) == {Placement.Status.CLOSED}
    assert "Ledger OK" in check_ledger()


def test_the_agency_may_no_longer_report_once_under_500_is_owed(practice, manager, placed_pair):
    """Credit reporting: never under $500, and never once paid (DESIGN.md, compliance guardrails)."""
    agency, one, _ = placed_pair
    placement = Placement.objects.get(account=one)
    assert placement.report_to_credit_bureaus  # $600, delinquent over a year
    pay = payment_file(f"N1000001,{day(practice, 4)},100.00,25.00")
    services.agency_payment_import(acting_user=manager, agency_id=agency.pk, data=pay)
    placement.refresh_from_db()
    assert placement.report_to_credit_bureaus  # $500.00 still owed: not under $500
    pay = payment_file(f"N1000001,{day(practice)},0.01,0.00")
    services.agency_payment_import(acting_user=manager, agency_id=agency.pk, data=pay)
    placement.refresh_from_db()
    assert placement.report_to_credit_bureaus is False and placement.status == Placement.Status.PLACED
