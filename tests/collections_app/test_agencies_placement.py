"""Placing accounts: preview then confirm, bad debt at placement, placement files against golden
files, recall (by hand, on a hold, on a dispute, when paid in full)."""

from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.exceptions import PermissionDenied

from accounts import services as ledger
from accounts.ledger_check import ledger_mismatches
from accounts.models import PatientAccount, Transaction
from collections_app.agencies import files, services
from collections_app.holds import services as holds
from collections_app.models import Agency, AgencyFile, DirectPayment, Placement
from core.errors import ApplicationError
from tests.collections_app.agencies_support import make_agency, ready_account
from tests.factories import PatientFactory

GOLDEN = Path(__file__).parent / "golden" / "agencies"
Kind = Transaction.Kind
Status = PatientAccount.Status


def place(manager, accounts, **kwargs):
    ids = [a.pk for a in accounts]
    preview = services.placement_preview(acting_user=manager, account_ids=ids, **kwargs)
    return preview, services.placement_place(
        acting_user=manager, account_ids=ids, fingerprint=preview.fingerprint, **kwargs
    )


def ledger_ok() -> bool:
    mismatches, _ = ledger_mismatches()
    return not mismatches


def test_preview_counts_and_totals_and_says_why_the_rest_may_not_go(practice, manager):
    make_agency(practice)
    one = ready_account(practice, balance="600.00")
    two = ready_account(practice, balance="250.50")
    not_yet = ready_account(practice, final_notice_days_ago=5)
    preview = services.placement_preview(acting_user=manager, account_ids=[one.pk, two.pk, not_yet.pk])
    assert (preview.count, preview.total) == (2, Decimal("850.50"))
    assert preview.account_ids == sorted([one.pk, two.pk])
    [(refused_id, why)] = preview.refused
    assert refused_id == not_yet.pk and "less than 30 days ago" in why
    # Nothing happened yet.
    assert not Placement.objects.exists()
    assert PatientAccount.objects.get(pk=one.pk).status == Status.ACTIVE


def test_placing_writes_the_balance_off_to_bad_debt_and_marks_the_accounts_at_the_agency(practice, manager):
    agency = make_agency(practice)
    one, two = ready_account(practice, balance="600.00"), ready_account(practice, balance="250.50")
    _, [batch] = place(manager, [one, two])
    assert (batch.agency, batch.account_count, batch.total) == (agency, 2, Decimal("850.50"))
    for account, balance in ((one, "600.00"), (two, "250.50")):
        account.refresh_from_db()
        assert account.status == Status.AGENCY
        assert account.patient_balance == 0
        placement = Placement.objects.get(account=account)
        assert placement.placed_balance == Decimal(balance)
        write_off = placement.write_off
        assert (write_off.kind, write_off.write_off_reason, write_off.patient_amount) == (
            Kind.WRITE_OFF,
            "bad_debt",
            -Decimal(balance),
        )
    assert batch.file.kind == AgencyFile.Kind.PLACEMENT
    assert batch.file.record_count == 2
    assert ledger_ok()


def test_without_bad_debt_policy_the_balance_stays_on_the_account(practice, manager):
    practice.agency_bad_debt_at_placement = False
    practice.save()
    make_agency(practice)
    account = ready_account(practice)
    _, [batch] = place(manager, [account])
    account.refresh_from_db()
    assert account.patient_balance == Decimal("600.00") and account.status == Status.AGENCY
    assert not batch.bad_debt_written_off
    assert Placement.objects.get(account=account).write_off is None


def test_confirm_refuses_when_anything_changed_since_the_preview(practice, manager, medium):
    make_agency(practice)
    account = ready_account(practice)
    preview = services.placement_preview(acting_user=manager, account_ids=[account.pk])
    ledger.transaction_post(
        acting_user=medium,
        account_id=account.pk,
        kind=Kind.PATIENT_PAYMENT,
        patient_amount="-10.00",
        payment_method="cash",
    )
    with pytest.raises(ApplicationError) as refused:
        services.placement_place(acting_user=manager, account_ids=[account.pk], fingerprint=preview.fingerprint)
    assert refused.value.field == "fingerprint"
    assert not Placement.objects.exists()


def test_a_practice_without_a_default_agency_must_choose_one(practice, manager):
    chosen = make_agency(practice, default=False)
    account = ready_account(practice)
    preview = services.placement_preview(acting_user=manager, account_ids=[account.pk])
    assert preview.count == 0 and "no default agency" in preview.refused[0][1]
    _, [batch] = place(manager, [account], agency_id=chosen.pk)
    assert batch.agency == chosen


def test_a_rep_cannot_place(practice, medium):
    make_agency(practice)
    account = ready_account(practice)
    with pytest.raises(PermissionDenied):
        services.placement_preview(acting_user=medium, account_ids=[account.pk])
    with pytest.raises(PermissionDenied):
        services.placement_place(acting_user=medium, account_ids=[account.pk], fingerprint="x")


def test_another_practices_account_is_left_out(practice, other_practice, manager):
    make_agency(other_practice)
    theirs = ready_account(other_practice)
    preview = services.placement_preview(acting_user=manager, account_ids=[theirs.pk])
    assert preview.count == 0 and preview.refused == [(theirs.pk, services.MESSAGE_NOT_FOUND)]


def test_credit_reporting_flag_set_only_for_500_and_a_year(practice, manager):
    make_agency(practice)
    big_old = ready_account(practice, balance="900.00", visit_days_ago=500)
    big_recent = ready_account(practice, balance="900.00", visit_days_ago=200)
    small_old = ready_account(practice, balance="499.99", visit_days_ago=500)
    place(manager, [big_old, big_recent, small_old])
    flags = dict(Placement.objects.values_list("account_id", "report_to_credit_bureaus"))
    assert flags == {big_old.pk: True, big_recent.pk: False, small_old.pk: False}


# --- files against golden files -----------------------------------------------------------------------


def golden_records():
    return [
        files.PlacementRecord(
            account_number="N0001234",
            last_name="Müller",
            first_name="Zoë",
            address_line1="12 Elm Street",
            address_line2="Apt 4",
            city="Albany",
            state="NY",
            postal_code="12207",
            date_of_birth=date(1970, 5, 17),
            balance=Decimal("1234.56"),
            first_service_on=date(2025, 9, 2),
            last_service_on=date(2025, 10, 14),
            last_payment_on=date(2025, 11, 1),
            report_to_credit_bureaus=True,
        ),
        files.PlacementRecord(
            account_number="N0005678",
            last_name="O'Brien, Jr.",
            first_name="James",
            address_line1='88 "Old" Mill Road',
            address_line2="",
            city="Troy",
            state="NY",
            postal_code="12180-1234",
            date_of_birth=date(1988, 1, 9),
            balance=Decimal("0.01"),
            first_service_on=date(2025, 12, 1),
            last_service_on=date(2025, 12, 1),
            last_payment_on=None,
            report_to_credit_bureaus=False,
        ),
    ]


@pytest.mark.parametrize(
    ("writer", "golden"),
    [(files.placement_csv, "placement.csv"), (files.placement_fixed_width, "placement.txt")],
)
def test_placement_files_match_the_golden_files(writer, golden):
    expected = (GOLDEN / golden).read_bytes().decode("utf-8")
    assert writer(golden_records()) == expected


def test_fixed_width_records_are_all_183_characters_with_a_count_and_total_trailer():
    lines = files.placement_fixed_width(golden_records()).split("\r\n")[:-1]
    assert {len(line) for line in lines} == {files.FIXED_WIDTH_RECORD_LENGTH}
    trailer = lines[-1]
    assert trailer[0] == "T" and int(trailer[1:10]) == 2 and int(trailer[10:25]) == 123457


def test_the_placement_file_carries_only_what_the_agency_needs(practice, manager):
    make_agency(practice, layout=Agency.FileLayout.FIXED_WIDTH)
    patient = PatientFactory(practice=practice, first_name="Ada", last_name="Lovelace", ssn="987-65-4321")
    account = ready_account(practice, patient=patient)
    _, [batch] = place(manager, [account])
    content = batch.file.content
    assert "Lovelace" in content and account.account_number in content
    for never in ("987-65-4321", "J06.9", "99213", patient.phone, patient.medical_record_number):
        assert never not in content
    assert batch.file.file_name.endswith(".txt")


# --- recall ------------------------------------------------------------------------------------------


def placed(practice, manager, **kwargs):
    make_agency(practice)
    account = ready_account(practice, **kwargs)
    place(manager, [account])
    account.refresh_from_db()
    return account, Placement.objects.get(account=account)


def test_recall_by_hand_brings_the_account_back_and_makes_a_recall_file(practice, manager):
    account, placement = placed(practice, manager)
    _, [made] = services.placement_recall(acting_user=manager, placement_ids=[placement.pk], note="Practice request")
    placement.refresh_from_db()
    account.refresh_from_db()
    assert placement.status == Placement.Status.RECALLED and placement.recall_reason == "by_hand"
    assert account.status == Status.ACTIVE
    assert made.kind == AgencyFile.Kind.RECALL and account.account_number in made.content
    assert placement.recall_file == made
    with pytest.raises(ApplicationError):
        services.placement_recall(acting_user=manager, placement_ids=[placement.pk])


def test_a_hold_recalls_the_account_and_its_release_returns_it_to_the_office(practice, manager, medium):
    account, placement = placed(practice, manager)
    hold = holds.hold_place(acting_user=medium, account_id=account.pk, kind="lop", attorney_name="Sam Counsel")
    placement.refresh_from_db()
    account.refresh_from_db()
    assert placement.status == Placement.Status.RECALLED and placement.recall_reason == "hold"
    assert placement.recall_file is None  # waits for the next recall file
    assert account.status == Status.HOLD
    holds.hold_release(acting_user=medium, hold_id=hold.pk, reason="Case settled")
    account.refresh_from_db()
    assert account.status == Status.ACTIVE  # not back to the agency
    made = services.recall_file_build(acting_user=manager, agency_id=placement.agency_id)
    assert "Account put on hold" in made.content


def test_a_dispute_recalls_the_account_as_a_dispute(practice, manager, medium):
    account, placement = placed(practice, manager)
    holds.hold_place(acting_user=medium, account_id=account.pk, kind="dispute", dispute_kind="balance")
    placement.refresh_from_db()
    assert placement.recall_reason == "dispute"


def test_a_patient_paying_the_practice_in_full_recalls_and_is_reported_to_the_agency(practice, manager, medium):
    account, placement = placed(practice, manager, balance="600.00")
    ledger.transaction_post(
        acting_user=medium,
        account_id=account.pk,
        kind=Kind.PATIENT_PAYMENT,
        patient_amount="-200.00",
        payment_method="check",
    )
    placement.refresh_from_db()
    assert placement.status == Placement.Status.PLACED
    ledger.transaction_post(
        acting_user=medium,
        account_id=account.pk,
        kind=Kind.PATIENT_PAYMENT,
        patient_amount="-400.00",
        payment_method="check",
    )
    placement.refresh_from_db()
    account.refresh_from_db()
    assert placement.status == Placement.Status.RECALLED and placement.recall_reason == "paid_in_full"
    assert account.status == Status.ACTIVE and account.patient_balance == 0
    assert list(DirectPayment.objects.values_list("amount", flat=True)) == [Decimal("200.00"), Decimal("400.00")]
    made = services.direct_payments_file_build(acting_user=manager, agency_id=placement.agency_id)
    assert made.record_count == 2 and made.total == Decimal("600.00")
    assert made.content.splitlines()[1].endswith(",200.00")
    with pytest.raises(ApplicationError):  # nothing new to report
        services.direct_payments_file_build(acting_user=manager, agency_id=placement.agency_id)


def test_a_reversed_direct_payment_is_reported_as_a_negative(practice, manager, medium):
    account, _ = placed(practice, manager)
    payment = ledger.transaction_post(
        acting_user=medium,
        account_id=account.pk,
        kind=Kind.PATIENT_PAYMENT,
        patient_amount="-50.00",
        payment_method="check",
    )
    ledger.transaction_reverse(acting_user=medium, transaction_id=payment.pk, reason="Check returned")
    assert sorted(DirectPayment.objects.values_list("amount", flat=True)) == [Decimal("-50.00"), Decimal("50.00")]


def test_recall_of_another_practices_placement_is_refused(practice, other_practice, manager, director):
    make_agency(other_practice)
    theirs = ready_account(other_practice)
    place(director, [theirs])
    placement = Placement.objects.get(account=theirs)
    with pytest.raises(ApplicationError):
        services.placement_recall(acting_user=manager, placement_ids=[placement.pk])


def direct_payment(medium, account, amount):
    return ledger.transaction_post(
        acting_user=medium, account_id=account.pk, kind=Kind.PATIENT_PAYMENT, patient_amount=f"-{amount}",
        payment_method="check",
    )  # fmt: skip


def test_a_direct_payment_goes_to_the_agency_with_its_next_placement_file(practice, manager, medium):
    account, _placement = placed(practice, manager, balance="600.00")
    direct_payment(medium, account, "75.00")
    [pending] = DirectPayment.objects.filter(reported_in__isnull=True)
    _, [batch] = place(manager, [ready_account(practice)])
    pending.refresh_from_db()
    sent = pending.reported_in
    assert sent is not None and sent.kind == AgencyFile.Kind.DIRECT_PAYMENTS and sent.agency == batch.agency
    assert sent.content.splitlines()[1].startswith(f"{account.account_number},") and sent.total == Decimal("75.00")
    assert account.account_number not in batch.file.content  # the placement file lists only the new account


def test_a_direct_payment_goes_to_the_agency_with_its_next_recall_file(practice, manager, medium):
    account, placement = placed(practice, manager, balance="600.00")
    place(manager, [ready_account(practice, balance="700.00")])
    other_placement = Placement.objects.exclude(pk=placement.pk).get()
    direct_payment(medium, account, "20.00")
    services.placement_recall(acting_user=manager, placement_ids=[other_placement.pk], note="Practice request")
    sent = DirectPayment.objects.get().reported_in
    assert sent is not None and sent.record_count == 1 and f"{account.account_number}," in sent.content
    with pytest.raises(ApplicationError):  # already told: nothing new for a file of its own
        services.direct_payments_file_build(acting_user=manager, agency_id=placement.agency_id)
