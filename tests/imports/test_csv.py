"""CSV imports of demographics, appointments and opening balances: the template, row-by-row
rejects with their line numbers, and a second import that changes nothing."""

from datetime import datetime
from decimal import Decimal
from io import StringIO
from zoneinfo import ZoneInfo

import pytest
from django.core.management import call_command

from accounts.ledger_check import ledger_mismatches
from accounts.models import Appointment, Patient, PatientAccount, Transaction
from imports.csv_import import LAYOUTS, import_csv, template_csv
from tests.imports.conftest import row_counts, run_json

DEMOGRAPHICS = (
    "mrn,first_name,last_name,date_of_birth,sex,email,address_line1,city,state,postal_code,account_number,insurance,"
    "guarantor_first_name,guarantor_last_name,guarantor_relationship\n"
    "MRN1,Maria,Garcia,1970-05-17,F,maria@example.org,12 Elm St,Albany,NY,12207,N1001,commercial,,,self\n"
    "MRN2,Leo,Garcia,05/01/2015,M,,12 Elm St,Albany,NY,12207,,medicaid,Maria,Garcia,parent\n"
    "MRN3,Bad,Date,1970-13-45,F,,,,,,,,,,\n"
    "MRN4,No,Email,1980-01-01,F,not-an-email,,,,,,,,,\n"
    "MRN5,Odd,Plan,1980-01-01,F,,,,,,,gold,,,\n"
)


@pytest.mark.parametrize("kind", sorted(LAYOUTS))
def test_the_template_has_the_documented_header_and_an_example_row_that_imports(practice, kind, tmp_path):
    text = template_csv(kind)
    header, example, *rest = text.splitlines()
    assert header.split(",") == [column for column, _, _ in LAYOUTS[kind]] and rest == []
    assert len(example.split(",")) == len(LAYOUTS[kind])
    if kind != "demographics":  # appointments and balances need the example patient first
        import_csv(practice=practice, kind="demographics", content=template_csv("demographics"), file_name="d.csv")
    summary = import_csv(practice=practice, kind=kind, content=text, file_name=f"{kind}.csv")
    assert (summary.rows, summary.rejects) == (1, [])
    out = StringIO()
    call_command("import_csv", kind, "--template", stdout=out)
    assert out.getvalue() == text


def test_demographics_create_patients_and_accounts_and_report_bad_rows_by_line(practice, tmp_path):
    path = tmp_path / "people.csv"
    path.write_text(DEMOGRAPHICS)
    summary = run_json("import_csv", "demographics", str(path), "--practice", practice.code)
    assert (summary["rows"], summary["patients_created"], summary["accounts_created"]) == (5, 2, 2)
    assert [(r["line"], r["reason"]) for r in summary["rejects"]] == [
        (4, "date_of_birth '1970-13-45' is not a date (YYYY-MM-DD or MM/DD/YYYY)"),
        (5, "Enter a valid email address."),
        (6, "insurance 'gold' is not one of: commercial, medicare, medicaid, self_pay, workers_comp"),
    ]
    maria = PatientAccount.objects.select_related("patient").get(account_number="N1001")
    assert maria.patient.email == "maria@example.org" and maria.guarantor.relationship == "self"
    leo = PatientAccount.objects.select_related("guarantor").get(patient__medical_record_number="MRN2")
    assert (leo.guarantor.first_name, leo.guarantor.relationship, leo.primary_insurance) == (
        "Maria",
        "parent",
        "medicaid",
    )
    assert not Patient.objects.filter(medical_record_number__in=["MRN3", "MRN4", "MRN5"]).exists()


def test_a_second_csv_import_changes_no_row(practice, tmp_path):
    path = tmp_path / "people.csv"
    path.write_text(DEMOGRAPHICS)
    run_json("import_csv", "demographics", str(path), "--practice", practice.code)
    before = row_counts()
    summary = run_json("import_csv", "demographics", str(path), "--practice", practice.code)
    assert row_counts() == before and summary["files_already_imported"] == 1
    # The same rows in another file: found by MRN, nothing new.
    path2 = tmp_path / "people-again.csv"
    path2.write_text(DEMOGRAPHICS + "\n")
    again = run_json("import_csv", "demographics", str(path2), "--practice", practice.code)
    after = row_counts()
    assert after.pop("imports.ImportBatch") == before.pop("imports.ImportBatch") + 1
    assert {k: (before[k], v) for k, v in after.items() if before[k] != v} == {}
    assert again["patients_created"] == 0


def test_a_header_without_a_required_column_refuses_the_file(practice):
    summary = import_csv(practice=practice, kind="demographics", content="mrn,first_name\nX,Y\n", file_name="p.csv")
    assert summary.files_refused == 1
    assert summary.rejects[0]["line"] == 1 and "last_name" in summary.rejects[0]["reason"]
    assert not Patient.objects.exists()


def test_appointments_are_booked_in_the_practice_time_and_once(practice):
    import_csv(practice=practice, kind="demographics", content=DEMOGRAPHICS, file_name="p.csv")
    text = (
        "mrn,starts_at,provider,location,reason,status\n"
        "MRN1,2026-12-15 09:30,Dr. Ruth Alvarez,Main office,Follow-up,\n"
        "MRN9,2026-12-15 10:30,Dr. Ruth Alvarez,,,\n"
        "MRN1,tomorrow,Dr. Ruth Alvarez,,,\n"
    )
    summary = import_csv(practice=practice, kind="appointments", content=text, file_name="a.csv")
    assert summary.appointments_created == 1
    assert [r["line"] for r in summary.rejects] == [3, 4]
    appointment = Appointment.objects.get()
    assert appointment.starts_at == datetime(2026, 12, 15, 9, 30, tzinfo=ZoneInfo(practice.time_zone))
    again = import_csv(practice=practice, kind="appointments", content=text + "\n", file_name="a2.csv")
    assert again.appointments_created == 0 and Appointment.objects.count() == 1


def test_opening_balances_post_once_and_a_changed_amount_is_refused(practice):
    import_csv(practice=practice, kind="demographics", content=DEMOGRAPHICS, file_name="p.csv")
    text = (
        "account_number,date_of_service,patient_balance,insurance_balance,as_of\n"
        "N1001,2026-08-01,120.00,30.00,2026-11-30\n"
        "NOPE,2026-08-01,10.00,,\n"
        "MRN2,2026-08-01,-5.00,,\n"
    )
    summary = import_csv(practice=practice, kind="balances", content=text, file_name="b.csv")
    assert summary.postings == 1 and [r["line"] for r in summary.rejects] == [3, 4]
    account = PatientAccount.objects.get(account_number="N1001")
    assert (account.patient_balance, account.insurance_balance) == (Decimal("120.00"), Decimal("30.00"))
    charge = Transaction.objects.get(account=account)
    assert (charge.reference, str(charge.effective_on)) == ("opening:N1001", "2026-11-30")
    changed = text.replace("120.00", "125.00")
    refused = import_csv(practice=practice, kind="balances", content=changed, file_name="b2.csv")
    assert refused.postings == 0 and "already used" in refused.rejects[0]["reason"]
    account.refresh_from_db()
    assert account.patient_balance == Decimal("120.00")
    assert not ledger_mismatches()[0]
