"""The files exchanged with agencies: placement files (CSV or fixed-width with a trailer), recall
files, the direct-payments file, and the agency's payment file we read back.

Minimum necessary (45 CFR 164.502(b)): a placement record carries only what an agency needs to
collect: account number, patient name, address, date of birth, balance, dates of service, last
payment date and whether it may be reported to the credit bureaus. No diagnosis, no procedure, no
insurance, no SSN.

Fixed-width placement layout (one record per line, ASCII, space-padded text left-aligned, numbers
zero-padded right-aligned, dates YYYYMMDD or spaces, amounts in cents):

    pos  len  field
      1    1  record type "D"
      2   20  account number
     22   25  patient last name
     47   20  patient first name
     67   40  street address (line 1 and line 2)
    107   20  city
    127    2  state
    129   10  ZIP code
    139    8  date of birth
    147   12  balance, cents
    159    8  first date of service
    167    8  last date of service
    175    8  last payment date (spaces: none)
    183    1  may report to credit bureaus: Y or N
  trailer: "T", record count (9 digits), total balance in cents (15 digits)
"""

import csv
import hashlib
import io
import unicodedata
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation

from accounts.money import ZERO
from core.errors import ApplicationError

PLACEMENT_CSV_HEADER = [
    "account_number",
    "last_name",
    "first_name",
    "address_line1",
    "address_line2",
    "city",
    "state",
    "postal_code",
    "date_of_birth",
    "balance",
    "first_date_of_service",
    "last_date_of_service",
    "last_payment_date",
    "report_to_credit_bureaus",
]
FIXED_WIDTH_FIELDS = (
    ("account_number", 20),
    ("last_name", 25),
    ("first_name", 20),
    ("address", 40),
    ("city", 20),
    ("state", 2),
    ("postal_code", 10),
    ("date_of_birth", 8),
)
FIXED_WIDTH_RECORD_LENGTH = 183
RECALL_CSV_HEADER = ["account_number", "last_name", "first_name", "placed_on", "recalled_on", "reason"]
DIRECT_PAYMENTS_CSV_HEADER = ["account_number", "payment_date", "amount"]
PAYMENT_FILE_COLUMNS = ("account_number", "payment_date", "gross", "commission")
TOTAL_MARKER = "TOTAL"


@dataclass(frozen=True)
class PlacementRecord:
    account_number: str
    last_name: str
    first_name: str
    address_line1: str
    address_line2: str
    city: str
    state: str
    postal_code: str
    date_of_birth: date
    balance: Decimal
    first_service_on: date | None
    last_service_on: date | None
    last_payment_on: date | None
    report_to_credit_bureaus: bool


def _iso(day: date | None) -> str:
    return day.isoformat() if day else ""


def _ymd(day: date | None) -> str:
    return day.strftime("%Y%m%d") if day else " " * 8


def cents(amount: Decimal, width: int) -> str:
    return str(int((amount * 100).to_integral_value())).rjust(width, "0")


def _ascii(text: str, width: int) -> str:
    """Fixed-width text: accents folded to ASCII (agencies' systems read bytes), cut to the width."""
    folded = unicodedata.normalize("NFKD", text or "").encode("ascii", "ignore").decode("ascii")
    return folded.replace("\r", " ").replace("\n", " ")[:width].ljust(width)


def _csv_text(header: list[str], rows: list[list]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue()


def placement_csv(records: list[PlacementRecord]) -> str:
    rows = [
        [
            r.account_number,
            r.last_name,
            r.first_name,
            r.address_line1,
            r.address_line2,
            r.city,
            r.state,
            r.postal_code,
            _iso(r.date_of_birth),
            f"{r.balance:.2f}",
            _iso(r.first_service_on),
            _iso(r.last_service_on),
            _iso(r.last_payment_on),
            "Y" if r.report_to_credit_bureaus else "N",
        ]
        for r in records
    ]
    return _csv_text(PLACEMENT_CSV_HEADER, rows)


def placement_fixed_width(records: list[PlacementRecord]) -> str:
    lines = []
    for r in records:
        address = " ".join(part for part in (r.address_line1, r.address_line2) if part)
        values = {
            "account_number": r.account_number,
            "last_name": r.last_name,
            "first_name": r.first_name,
            "address": address,
            "city": r.city,
            "state": r.state,
            "postal_code": r.postal_code,
            "date_of_birth": _ymd(r.date_of_birth),
        }
        line = "D" + "".join(_ascii(values[name], width) for name, width in FIXED_WIDTH_FIELDS)
        line += cents(r.balance, 12) + _ymd(r.first_service_on) + _ymd(r.last_service_on)
        line += _ymd(r.last_payment_on) + ("Y" if r.report_to_credit_bureaus else "N")
        assert len(line) == FIXED_WIDTH_RECORD_LENGTH, len(line)
        lines.append(line)
    total = sum((r.balance for r in records), ZERO)
    trailer = ("T" + str(len(records)).rjust(9, "0") + cents(total, 15)).ljust(FIXED_WIDTH_RECORD_LENGTH)
    lines.append(trailer)
    return "\r\n".join(lines) + "\r\n"


def recall_csv(rows: list[tuple[str, str, str, date, date, str]]) -> str:
    return _csv_text(
        RECALL_CSV_HEADER,
        [
            [number, last, first, _iso(placed), _iso(recalled), reason]
            for number, last, first, placed, recalled, reason in rows
        ],
    )


def direct_payments_csv(rows: list[tuple[str, date, Decimal]]) -> str:
    return _csv_text(DIRECT_PAYMENTS_CSV_HEADER, [[number, _iso(day), f"{amount:.2f}"] for number, day, amount in rows])


# --- the agency's payment file ----------------------------------------------------------------------


@dataclass(frozen=True)
class PaymentLine:
    line_number: int
    account_number: str
    paid_on: date
    gross: Decimal
    commission: Decimal

    @property
    def net(self) -> Decimal:
        return self.gross - self.commission


@dataclass
class PaymentFile:
    digest: str
    lines: list[PaymentLine] = field(default_factory=list)
    stated_count: int | None = None
    stated_gross: Decimal | None = None
    stated_commission: Decimal | None = None

    @property
    def gross_total(self) -> Decimal:
        return sum((line.gross for line in self.lines), ZERO)

    @property
    def commission_total(self) -> Decimal:
        return sum((line.commission for line in self.lines), ZERO)

    @property
    def net_total(self) -> Decimal:
        return self.gross_total - self.commission_total


MAX_PAYMENT_FILE_BYTES = 5 * 2**20
MESSAGE_FILE_EMPTY = "The file is empty."
MESSAGE_FILE_TOO_LARGE = "The file is larger than 5 MB. Ask the agency to split it."
MESSAGE_FILE_NOT_TEXT = "The file is not a text (CSV) file."
MESSAGE_FILE_HEADER = "Line 1: the first line must name the columns account_number, payment_date, gross, commission."
MESSAGE_LINE_COLUMNS = "Line {line}: expected {expected} columns, found {found}."
MESSAGE_LINE_DATE = "Line {line}: {value!r} is not a payment date (YYYY-MM-DD)."
MESSAGE_LINE_AMOUNT = "Line {line}: {value!r} is not an amount for {column}."
MESSAGE_LINE_GROSS = "Line {line}: the gross payment must be more than zero."
MESSAGE_LINE_COMMISSION = "Line {line}: the commission must be between zero and the gross payment."
MESSAGE_LINE_NET = "Line {line}: net {net} is not gross {gross} less commission {commission}."
MESSAGE_NO_ROWS = "The file has no payment rows."
MESSAGE_TOTAL_NOT_LAST = "Line {line}: the TOTAL line must be the last line of the file."
MESSAGE_TOTAL_MISMATCH = (
    "Line {line}: the file states {what} of {stated}, but its payment rows add up to {actual}. Nothing was posted."
)


def _amount(text: str, *, line: int, column: str) -> Decimal:
    try:
        value = Decimal(text.strip().replace("$", "").replace(",", ""))
    except InvalidOperation:
        raise ApplicationError(MESSAGE_LINE_AMOUNT.format(line=line, value=text, column=column), field="file") from None
    if not value.is_finite() or value != value.quantize(Decimal("0.01")) or abs(value) >= Decimal("1e10"):
        raise ApplicationError(MESSAGE_LINE_AMOUNT.format(line=line, value=text, column=column), field="file")
    return value.quantize(Decimal("0.01"))


def parse_payment_file(data: bytes) -> PaymentFile:
    """Read an agency's payment CSV: a header naming account_number, payment_date, gross, commission
    (and optionally net), one row per payment, and optionally a last line
    `TOTAL,<row count>,<gross total>,<commission total>` that must match the rows. Any fault
    refuses the whole file, naming its line: nothing posts from a file that does not reconcile."""
    if not data:
        raise ApplicationError(MESSAGE_FILE_EMPTY, field="file")
    if len(data) > MAX_PAYMENT_FILE_BYTES:
        raise ApplicationError(MESSAGE_FILE_TOO_LARGE, field="file")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ApplicationError(MESSAGE_FILE_NOT_TEXT, field="file") from None
    if "\x00" in text:
        raise ApplicationError(MESSAGE_FILE_NOT_TEXT, field="file")
    rows = list(csv.reader(io.StringIO(text)))
    numbered = [(number, row) for number, row in enumerate(rows, start=1) if any(cell.strip() for cell in row)]
    if not numbered:
        raise ApplicationError(MESSAGE_FILE_EMPTY, field="file")
    _, header = numbered[0]
    names = [cell.strip().lower() for cell in header]
    if tuple(names[:4]) != PAYMENT_FILE_COLUMNS or names[4:] not in ([], ["net"]):
        raise ApplicationError(MESSAGE_FILE_HEADER, field="file")
    has_net = len(names) == 5
    result = PaymentFile(digest=hashlib.sha256(data).hexdigest())
    body = numbered[1:]
    for position, (line, row) in enumerate(body):
        cells = [cell.strip() for cell in row]
        if cells and cells[0].upper() == TOTAL_MARKER:
            if position != len(body) - 1:
                raise ApplicationError(MESSAGE_TOTAL_NOT_LAST.format(line=line), field="file")
            _check_total(result, cells, line)
            continue
        if len(cells) != len(names):
            raise ApplicationError(
                MESSAGE_LINE_COLUMNS.format(line=line, expected=len(names), found=len(cells)), field="file"
            )
        try:
            paid_on = date.fromisoformat(cells[1])
        except ValueError:
            raise ApplicationError(MESSAGE_LINE_DATE.format(line=line, value=cells[1]), field="file") from None
        gross = _amount(cells[2], line=line, column="gross")
        commission = _amount(cells[3], line=line, column="commission")
        if gross <= 0:
            raise ApplicationError(MESSAGE_LINE_GROSS.format(line=line), field="file")
        if commission < 0 or commission > gross:
            raise ApplicationError(MESSAGE_LINE_COMMISSION.format(line=line), field="file")
        if has_net:
            net = _amount(cells[4], line=line, column="net")
            if net != gross - commission:
                raise ApplicationError(
                    MESSAGE_LINE_NET.format(line=line, net=net, gross=gross, commission=commission), field="file"
                )
        result.lines.append(
            PaymentLine(line_number=line, account_number=cells[0], paid_on=paid_on, gross=gross, commission=commission)
        )
    if not result.lines:
        raise ApplicationError(MESSAGE_NO_ROWS, field="file")
    return result


def _check_total(result: PaymentFile, cells: list[str], line: int) -> None:
    values = [cell for cell in cells[1:] if cell != ""]
    if len(values) < 3:
        raise ApplicationError(MESSAGE_LINE_COLUMNS.format(line=line, expected=4, found=len(values) + 1), field="file")
    try:
        count = int(values[0])
    except ValueError:
        raise ApplicationError(
            MESSAGE_LINE_AMOUNT.format(line=line, value=values[0], column="the row count"), field="file"
        ) from None
    gross = _amount(values[1], line=line, column="the gross total")
    commission = _amount(values[2], line=line, column="the commission total")
    checks = (
        ("a row count", count, len(result.lines)),
        ("a gross total", f"${gross:,.2f}", f"${result.gross_total:,.2f}"),
        ("a commission total", f"${commission:,.2f}", f"${result.commission_total:,.2f}"),
    )
    for what, stated, actual in checks:
        if stated != actual:
            raise ApplicationError(
                MESSAGE_TOTAL_MISMATCH.format(line=line, what=what, stated=stated, actual=actual), field="file"
            )
    result.stated_count, result.stated_gross, result.stated_commission = count, gross, commission
