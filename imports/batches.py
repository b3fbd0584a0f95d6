"""The import log and the one summary every import command prints.

A file is recognised by the digest of its content (for X12, of its segments, so the same
interchange with other line breaks is the same file): a second import of a file already imported
for the practice changes nothing and says when the first one ran. An X12 interchange is also
recognised by sender and ISA13; a different file reusing them is imported (its postings carry
their own references) with a warning, since payers reuse control numbers in test files.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.money import ZERO
from core.display import display_time
from core.sql import analyze_if_grown
from imports.models import ImportBatch
from imports.x12 import ADJUSTMENT_GROUPS

MESSAGE_ALREADY_IMPORTED = "{name}: already imported on {when}; nothing changed."
# A file of this many claims may grow the claim tables by a large share: their statistics are
# brought up to date when it finishes (DESIGN: a job that rewrites a large share of a table ANALYZEs
# it before the next one reads it), so a remittance right after its claims is planned on real counts.
LARGE_IMPORT_CLAIMS = 1000
IMPORTED_TABLES = [
    "accounts_patient",
    "accounts_guarantor",
    "accounts_patientaccount",
    "accounts_encounter",
    "accounts_chargeline",
    "accounts_claim",
    "accounts_transaction",
]
_LONG_DIGITS = re.compile(r"\d{12}(?=\d)")


def break_digit_runs(text: str) -> str:
    """A dot after every 12 digits of a longer run: payer claim and trace numbers of 13+ digits would
    otherwise look like card numbers to the ledger, which refuses those in a reference or memo
    (accounts.validators, PCI DSS). Stable, so the reference of a claim is the same every time."""
    return _LONG_DIGITS.sub(lambda match: match.group() + ".", text)


@dataclass
class Summary:
    """Counts of one run over one or more files; `to_json` is what --json prints."""

    files: int = 0
    files_already_imported: int = 0
    files_refused: int = 0
    claims: int = 0
    claims_posted: int = 0
    claims_unchanged: int = 0
    claims_reversed: int = 0
    claims_created: int = 0
    patients_created: int = 0
    accounts_created: int = 0
    encounters_created: int = 0
    appointments_created: int = 0
    rows: int = 0
    postings: int = 0
    provider_adjustments: int = 0
    unmatched_claims: list[dict] = field(default_factory=list)
    # As the files say (every CAS read, matched or not), and as posted to the ledger.
    adjustments: dict[str, Decimal] = field(default_factory=lambda: dict.fromkeys(ADJUSTMENT_GROUPS, ZERO))
    adjustments_posted: dict[str, Decimal] = field(default_factory=lambda: dict.fromkeys(ADJUSTMENT_GROUPS, ZERO))
    payments: Decimal = ZERO
    rejects: list[dict] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    messages: list[str] = field(default_factory=list)

    def reject(self, file_name: str, reason: str, *, segment: int | None = None, line: int | None = None) -> None:
        entry = {"file": file_name, "reason": reason}
        if segment is not None:
            entry["segment"] = segment
        if line is not None:
            entry["line"] = line
        self.rejects.append(entry)

    COUNTS = (
        "claims",
        "claims_posted",
        "claims_unchanged",
        "claims_reversed",
        "claims_created",
        "patients_created",
        "accounts_created",
        "encounters_created",
        "appointments_created",
        "rows",
        "postings",
        "provider_adjustments",
    )

    def counts(self) -> dict:
        out = {name: getattr(self, name) for name in self.COUNTS if getattr(self, name)}
        out["unmatched_claims"] = len(self.unmatched_claims)
        out["adjustments"] = {group: str(value) for group, value in self.adjustments.items()}
        out["adjustments_posted"] = {group: str(value) for group, value in self.adjustments_posted.items()}
        out["payments"] = str(self.payments)
        return out

    def add(self, other: Summary) -> None:
        for name in ("files", "files_already_imported", "files_refused", *self.COUNTS):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        for group, value in other.adjustments.items():
            self.adjustments[group] = self.adjustments.get(group, ZERO) + value
        for group, value in other.adjustments_posted.items():
            self.adjustments_posted[group] = self.adjustments_posted.get(group, ZERO) + value
        self.payments += other.payments
        for name in ("unmatched_claims", "rejects", "warnings", "messages"):
            getattr(self, name).extend(getattr(other, name))

    def to_json(self) -> dict:
        return {
            "files": self.files,
            "files_already_imported": self.files_already_imported,
            "files_refused": self.files_refused,
            "claims": self.claims,
            "claims_posted": self.claims_posted,
            "claims_unchanged": self.claims_unchanged,
            "claims_reversed": self.claims_reversed,
            "claims_created": self.claims_created,
            "patients_created": self.patients_created,
            "accounts_created": self.accounts_created,
            "encounters_created": self.encounters_created,
            "appointments_created": self.appointments_created,
            "rows": self.rows,
            "postings": self.postings,
            "payments": str(self.payments),
            "adjustments": {group: str(self.adjustments.get(group, ZERO)) for group in ADJUSTMENT_GROUPS},
            "adjustments_posted": {group: str(self.adjustments_posted.get(group, ZERO)) for group in ADJUSTMENT_GROUPS},
            "provider_adjustments": self.provider_adjustments,
            "unmatched_claims": self.unmatched_claims,
            "rejects": self.rejects,
            "warnings": self.warnings,
            "messages": self.messages,
        }

    def lines(self) -> list[str]:
        """The readable summary (without --json)."""
        out = list(self.messages)
        out.append(
            f"{self.files} file(s): {self.files_already_imported} already imported, {self.files_refused} refused."
        )
        if self.claims or self.claims_created:
            out.append(
                f"Claims: {self.claims} read, {self.claims_created} created, {self.claims_posted} posted, "
                f"{self.claims_reversed} reversed, {self.claims_unchanged} already on file, "
                f"{len(self.unmatched_claims)} unmatched (review list)."
            )
        if self.rows:
            out.append(f"Rows: {self.rows} read.")
        if self.patients_created or self.accounts_created or self.encounters_created or self.appointments_created:
            out.append(
                f"Created {self.patients_created} patient(s), {self.accounts_created} account(s), "
                f"{self.encounters_created} visit(s), {self.appointments_created} appointment(s)."
            )
        out.append(f"Ledger postings: {self.postings}. Insurance payments: ${self.payments:,.2f}.")
        for label, totals in (("in the files", self.adjustments), ("posted", self.adjustments_posted)):
            if any(totals.values()):
                amounts = ", ".join(f"{g} ${totals.get(g, ZERO):,.2f}" for g in ADJUSTMENT_GROUPS)
                out.append(f"Adjustments {label}: {amounts}.")
        if self.provider_adjustments:
            out.append(f"Provider-level adjustments recorded: {self.provider_adjustments}.")
        for entry in self.rejects:
            where = ""
            if "segment" in entry:
                where = f"segment {entry['segment']}"
            elif "line" in entry:
                where = f"line {entry['line']}"
            out.append(f"Rejected: {entry['file']}{', ' + where if where else ''}: {entry['reason']}")
        out.extend(f"Note: {warning}" for warning in self.warnings)
        return out


class Progress:
    """How far an import has got, for whoever watches it (the upload page's progress bar): a stage
    in words and the items done of its total. `report(stage, done, total)` is called when a stage
    starts, about every hundredth of it, and at its end, so a file of 100,000 claims writes about
    a hundred updates, not 100,000. Without `report` it does nothing (the commands)."""

    def __init__(self, report=None):
        self.report = report
        self.stage = ""
        self.done = 0
        self.total = 0
        self._next = 0

    def start(self, stage: str, total: int) -> None:
        self.stage, self.done, self.total = stage, 0, total
        self._next = max(1, total // 100)
        if self.report is not None:
            self.report(stage, 0, total)

    def step(self, count: int = 1) -> None:
        self.done += count
        if self.report is not None and (self.done >= self._next or self.done >= self.total):
            self._next = self.done + max(1, self.total // 100)
            self.report(self.stage, self.done, self.total)


def batch_already_imported(*, practice, kind: str, digest: str) -> ImportBatch | None:
    return (
        ImportBatch.objects.filter(practice=practice, kind=kind, sha256=digest, status=ImportBatch.Status.DONE)
        .order_by("finished_at")
        .first()
    )


def already_imported_message(batch: ImportBatch, name: str) -> str:
    when = display_time(batch.finished_at or batch.started_at, batch.practice.time_zone)
    return MESSAGE_ALREADY_IMPORTED.format(name=name, when=when)


def batch_start(*, practice, kind: str, file_name: str, digest: str, acting_user=None, **extra) -> ImportBatch:
    return ImportBatch.objects.create(
        practice=practice,
        kind=kind,
        file_name=file_name[:255],
        sha256=digest,
        started_by=acting_user if getattr(acting_user, "is_authenticated", False) else None,
        **extra,
    )


def batch_finish(batch: ImportBatch, summary: Summary, *, refused: bool = False) -> bool:
    """Close the log row; False when another run finished the same file first (the constraint)."""
    batch.status = ImportBatch.Status.FAILED if refused else ImportBatch.Status.DONE
    batch.counts = summary.counts()
    batch.rejects = summary.rejects
    batch.warnings = summary.warnings
    batch.finished_at = timezone.now()
    try:
        with transaction.atomic():
            batch.save(update_fields=["status", "counts", "rejects", "warnings", "finished_at"])
    except IntegrityError:
        ImportBatch.objects.filter(pk=batch.pk).update(status=ImportBatch.Status.FAILED, finished_at=batch.finished_at)
        return False
    if not refused and summary.claims >= LARGE_IMPORT_CLAIMS:
        analyze_if_grown(IMPORTED_TABLES)
    return True
