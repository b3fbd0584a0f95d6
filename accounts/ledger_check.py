"""The ledger invariant: stored balances equal the ledger sums, for every account. One query."""

from dataclasses import dataclass
from decimal import Decimal

from django.db import connection

_SQL = """
SELECT a.id, a.account_number, p.code, a.patient_balance, a.insurance_balance,
       COALESCE(l.patient, 0), COALESCE(l.insurance, 0)
FROM accounts_patientaccount a
JOIN accounts_practice p ON p.id = a.practice_id
LEFT JOIN (
    SELECT account_id, SUM(patient_amount) AS patient, SUM(insurance_amount) AS insurance
    FROM accounts_transaction GROUP BY account_id
) l ON l.account_id = a.id
WHERE (a.patient_balance <> COALESCE(l.patient, 0) OR a.insurance_balance <> COALESCE(l.insurance, 0))
  {practice_filter}
ORDER BY a.id
LIMIT %s
"""


@dataclass(frozen=True)
class LedgerMismatch:
    account_id: int
    account_number: str
    practice_code: str
    stored_patient: Decimal
    stored_insurance: Decimal
    ledger_patient: Decimal
    ledger_insurance: Decimal


def _money(value) -> Decimal:
    return Decimal(str(value)).quantize(Decimal("0.01"))


def ledger_mismatches(*, practice_code: str | None = None, limit: int = 100) -> tuple[list[LedgerMismatch], int]:
    params: list = []
    practice_filter = ""
    if practice_code:
        practice_filter = "AND p.code = %s"
        params.append(practice_code)
    params.append(limit)
    rows = []
    with connection.cursor() as cursor:
        cursor.execute(_SQL.format(practice_filter=practice_filter), params)
        for account_id, number, code, stored_p, stored_i, ledger_p, ledger_i in cursor.fetchall():
            mismatch = LedgerMismatch(
                account_id, number, code, _money(stored_p), _money(stored_i), _money(ledger_p), _money(ledger_i)
            )
            # SQLite sums in floating point; compare in cents so float noise is not a mismatch.
            if (mismatch.stored_patient, mismatch.stored_insurance) != (
                mismatch.ledger_patient,
                mismatch.ledger_insurance,
            ):
                rows.append(mismatch)
        count_sql = "SELECT COUNT(*) FROM accounts_patientaccount a JOIN accounts_practice p ON p.id = a.practice_id"
        if practice_code:
            count_sql += " WHERE p.code = %s"
        cursor.execute(count_sql, params[:-1])
        checked = cursor.fetchone()[0]
    return rows, checked
