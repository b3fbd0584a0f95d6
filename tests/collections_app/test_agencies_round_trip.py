"""Done-when of issue 11: "A placement file and an agency payment file round-trip, with check_ledger
exiting 0". Through the API as another system would: place accounts (preview, then confirm),
download the placement file, read it back as the agency does (CSV, or fixed-width with its
trailer), build the agency's returned payment CSV from it, post it, and see every total reconcile
(the file's TOTAL line, the import, the payment rows, the ledger, the placements) before
`manage.py check_ledger` exits 0."""

from datetime import timedelta
from decimal import ROUND_HALF_UP, Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from rest_framework.test import APIClient

from accounts.models import PatientAccount, Transaction
from accounts.selectors import practice_today
from accounts.services import bad_debt_unrecovered
from collections_app.agencies import files
from collections_app.models import Agency, AgencyPayment, AgencyPaymentImport, Placement
from tests.collections_app.agencies_support import make_agency, ready_account

pytestmark = pytest.mark.django_db
Kind = Transaction.Kind
RATE = Decimal("27.50")
BALANCES = {"N4000001": "600.00", "N4000002": "250.51", "N4000003": "1234.56"}


def api(user):
    client = APIClient()
    client.force_authenticate(user)
    return client


def read_placement_file(text: str, layout: str) -> tuple[dict[str, Decimal], int, Decimal]:
    """What the agency reads: {account number: balance}, and the record count and total it checks."""
    if layout == Agency.FileLayout.CSV:
        lines = text.splitlines()
        assert lines[0].split(",") == files.PLACEMENT_CSV_HEADER
        rows = [line.split(",") for line in lines[1:]]
        balances = {row[0]: Decimal(row[9]) for row in rows}
        return balances, len(rows), sum(balances.values(), Decimal("0.00"))
    lines = text.split("\r\n")[:-1]
    assert {len(line) for line in lines} == {files.FIXED_WIDTH_RECORD_LENGTH}
    records, trailer = lines[:-1], lines[-1]
    assert all(line[0] == "D" for line in records) and trailer[0] == "T"
    balances = {line[1:21].strip(): Decimal(int(line[146:158])) / 100 for line in records}
    return balances, int(trailer[1:10]), Decimal(int(trailer[10:25])) / 100


def commission(gross: Decimal) -> Decimal:
    return (gross * RATE / 100).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


@pytest.mark.parametrize(
    ("layout", "bad_debt_at_placement"),
    [(Agency.FileLayout.CSV, True), (Agency.FileLayout.FIXED_WIDTH, True), (Agency.FileLayout.CSV, False)],
)
def test_placement_file_and_agency_payment_file_round_trip_and_check_ledger_exits_0(
    practice, manager, layout, bad_debt_at_placement
):
    practice.agency_bad_debt_at_placement = bad_debt_at_placement
    practice.save()
    agency = make_agency(practice, layout=layout, rate=str(RATE))
    accounts = {number: ready_account(practice, balance=b, account_number=number) for number, b in BALANCES.items()}
    ids = [account.pk for account in accounts.values()]
    client = api(manager)

    # 1. Place: the preview's count and total, then the confirm with its fingerprint.
    preview = client.post("/api/placements/", {"accounts": ids}, format="json").json()
    assert (preview["count"], preview["total"]) == (3, "2085.07")
    placed = client.post("/api/placements/", {"accounts": ids, "fingerprint": preview["fingerprint"]}, format="json")
    assert placed.status_code == 201, placed.json()
    [batch] = placed.json()["batches"]

    # 2. The placement file, as the agency receives it, agrees with the batch.
    download = client.get(batch["file_url"])
    assert download.status_code == 200
    balances, record_count, file_total = read_placement_file(download.content.decode(), layout)
    assert balances == {number: Decimal(b) for number, b in BALANCES.items()}
    assert (record_count, file_total) == (batch["account_count"], Decimal(batch["total"])) == (3, Decimal("2085.07"))

    # 3. The agency's returned file, built from what it was sent: the first account paid in full in
    # two payments, the second in full at once, the third in part.
    today = practice_today(practice)
    day = (today - timedelta(days=2)).isoformat()
    payments = [
        ("N4000001", day, Decimal("100.00")),
        ("N4000001", today.isoformat(), balances["N4000001"] - Decimal("100.00")),
        ("N4000002", day, balances["N4000002"]),
        ("N4000003", day, Decimal("34.57")),
    ]
    rows = [f"{number},{paid_on},{gross:.2f},{commission(gross):.2f}" for number, paid_on, gross in payments]
    gross_total = sum((gross for *_, gross in payments), Decimal("0.00"))
    commission_total = sum((commission(gross) for *_, gross in payments), Decimal("0.00"))
    content = "\r\n".join(
        ["account_number,payment_date,gross,commission", *rows, f"TOTAL,{len(rows)},{gross_total},{commission_total}"]
    )

    def send():
        upload = SimpleUploadedFile("hudson-remit.csv", (content + "\r\n").encode(), content_type="text/csv")
        return client.post("/api/agency-payments/", {"agency": agency.pk, "file": upload}, format="multipart")

    posted = send()
    assert posted.status_code == 201, posted.json()
    body = posted.json()

    # 4. Every total reconciles: the file, the import, the payment rows, the ledger, the placements.
    net_total = gross_total - commission_total
    assert (body["rows"], body["posted"]) == (4, 4)
    assert (Decimal(body["gross_total"]), Decimal(body["commission_total"]), Decimal(body["net_total"])) == (
        gross_total,
        commission_total,
        net_total,
    )
    imported = AgencyPaymentImport.objects.get()
    rows_posted = AgencyPayment.objects.filter(payment_import=imported)
    assert sum(p.gross for p in rows_posted) == imported.gross_total == gross_total
    assert sum(p.commission for p in rows_posted) == imported.commission_total == commission_total
    assert sum(p.net for p in rows_posted) == imported.net_total == net_total
    assert all(p.net == p.gross - p.commission for p in rows_posted)
    ledger_gross = -sum(
        Transaction.objects.filter(kind=Kind.AGENCY_PAYMENT, account_id__in=ids).values_list(
            "patient_amount", flat=True
        )
    )
    assert ledger_gross == gross_total
    recovered = sum(
        Transaction.objects.filter(kind=Kind.BAD_DEBT_RECOVERY, account_id__in=ids).values_list(
            "patient_amount", flat=True
        ),
        Decimal("0.00"),
    )
    assert recovered == (gross_total if bad_debt_at_placement else 0)
    assert sum(Placement.objects.values_list("collected", flat=True)) == gross_total

    # Paid in full: the placement is closed, the agency may no longer report it, the account is back.
    for number in ("N4000001", "N4000002"):
        placement = Placement.objects.get(account=accounts[number])
        assert (placement.status, placement.report_to_credit_bureaus) == (Placement.Status.CLOSED, False)
        assert PatientAccount.objects.get(pk=accounts[number].pk).status == PatientAccount.Status.ACTIVE
        assert bad_debt_unrecovered(accounts[number].pk) == 0
    third = accounts["N4000003"]
    assert Placement.objects.get(account=third).status == Placement.Status.PLACED
    still_owed = Decimal("1234.56") - Decimal("34.57")
    third.refresh_from_db()
    if bad_debt_at_placement:
        assert (third.patient_balance, bad_debt_unrecovered(third.pk)) == (0, still_owed)
    else:
        assert third.patient_balance == still_owed

    # 5. check_ledger exits 0 (a CommandError is its exit 1), and the same file again changes nothing.
    def check_ledger() -> str:
        from io import StringIO

        out = StringIO()
        call_command("check_ledger", stdout=out)
        return out.getvalue()

    assert check_ledger().startswith("Ledger OK")
    again = send()
    assert again.status_code == 200 and again.json()["replayed"] is True and again.json()["posted"] == 0
    assert Transaction.objects.filter(kind=Kind.AGENCY_PAYMENT).count() == 4
    assert check_ledger().startswith("Ledger OK")

    # Not a vacuous check: a stored balance that disagrees with the ledger makes it exit 1.
    PatientAccount.objects.filter(pk=third.pk).update(patient_balance=third.patient_balance + Decimal("0.01"))
    with pytest.raises(CommandError):
        check_ledger()
