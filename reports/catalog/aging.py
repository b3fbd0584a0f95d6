"""AR aging: patient and insurance AR by practice, rendering provider or payer, and bucket.

Two sources, the same numbers: the nightly snapshot (accounts.PracticeAgingSnapshot, one row per
practice and bucket) when the as-of date has one and the choices match what it holds (date of
service, by practice), else the ledger itself (accounts.aging.aging_by_group: one statement, as of
any date, so a payment dated after the as-of date does not drop the invoice). The page says which.
Agency-placed accounts are left out unless asked for; from the snapshot, their balances (aged live,
a small set) are taken off the snapshot's figures.
"""

from collections import OrderedDict
from decimal import Decimal

from django import forms

from accounts.aging import (
    BUCKET_LABELS,
    FIRST_STATEMENT_FALLBACK,
    FIRST_STATEMENT_NOTE,
    GROUP_PAYER,
    GROUP_PRACTICE,
    GROUP_PROVIDER,
    AgingCell,
    Basis,
    aging_by_group,
    first_statement_source,
)
from accounts.models import PracticeAgingSnapshot
from accounts.money import ZERO
from reports import charts
from reports.framework import Chart, Column, Figure, Report, ReportParams, ReportResult, Table, register

GROUP_CHOICES = ((GROUP_PRACTICE, "Practice"), (GROUP_PROVIDER, "Rendering provider"), (GROUP_PAYER, "Payer"))
GROUP_LABELS = dict(GROUP_CHOICES)
BASIS_LABELS = dict(Basis.CHOICES)
CHART_GROUPS = 12  # the horizontal chart shows the largest groups; the tables show all


def snapshot_cells(practice_ids: list[int], as_of) -> list[AgingCell] | None:
    """The nightly snapshot's figures for these practices on `as_of`, or None when any practice
    has no snapshot that day. One query."""
    rows = PracticeAgingSnapshot.objects.filter(practice_id__in=practice_ids, as_of=as_of).values_list(
        "practice_id", "bucket", "patient_amount", "insurance_amount"
    )
    cells: dict[int, AgingCell] = {}
    for practice_id, bucket, patient, insurance in rows:
        cell = cells.setdefault(practice_id, AgingCell(practice_id=practice_id, group=""))
        if bucket in cell.patient:
            cell.patient[bucket] += patient
            cell.insurance[bucket] += insurance
    if set(cells) != set(practice_ids):
        return None
    return [cells[pk] for pk in practice_ids]


def _subtract(cells: list[AgingCell], agency: list[AgingCell]) -> None:
    by_practice = {cell.practice_id: cell for cell in cells}
    for placed in agency:
        cell = by_practice[placed.practice_id]
        for label in BUCKET_LABELS:
            cell.patient[label] -= placed.patient[label]
            cell.insurance[label] -= placed.insurance[label]


def _total(values) -> Decimal:
    return sum(values, ZERO)


@register
class AgingReport(Report):
    slug = "aging"
    title = "AR aging"
    description = "Patient and insurance balances by age, by practice, rendering provider or payer."
    period = Report.PERIOD_AS_OF
    order = 10

    def option_fields(self):
        return {
            "basis": forms.ChoiceField(
                label="Age from", choices=Basis.CHOICES, required=False, initial=Basis.DATE_OF_SERVICE
            ),
            "group_by": forms.ChoiceField(
                label="Break down by", choices=GROUP_CHOICES, required=False, initial=GROUP_PRACTICE
            ),
            "include_agency": forms.BooleanField(label="Include agency-placed balances", required=False, initial=False),
        }

    def formula_for(self, params: ReportParams) -> str:
        basis = params.options.get("basis") if params else Basis.DATE_OF_SERVICE
        start = {
            Basis.DATE_OF_SERVICE: "its date of service",
            Basis.FIRST_STATEMENT: "the first statement mailed after its date of service",
            Basis.LAST_ACTIVITY: "the account's last ledger posting",
        }[basis]
        return (
            f"Each visit's open balance on the as-of date, aged in days from {start}, in buckets "
            f"{', '.join(BUCKET_LABELS)}. Patient payments that name no visit pay the oldest visit first. "
            "Balance = bucket total - unapplied credit."
        )

    def compute(self, user, params: ReportParams) -> ReportResult:
        basis = params.options["basis"] or Basis.DATE_OF_SERVICE
        group_by = params.options["group_by"] or GROUP_PRACTICE
        include_agency = bool(params.options["include_agency"])
        ids = params.practice_ids
        notes = []
        cells = None
        if basis == Basis.DATE_OF_SERVICE and group_by == GROUP_PRACTICE:
            cells = snapshot_cells(ids, params.as_of)
        if cells is not None:
            source = f"Nightly snapshot of {params.as_of:%m/%d/%Y}"
            if not include_agency:
                _subtract(cells, aging_by_group(ids, as_of=params.as_of, agency_only=True))
                source += ", less agency-placed balances aged from the ledger"
            notes.append(
                "The nightly snapshot holds open balances by bucket; unapplied credits are not in it "
                "(choose another breakdown or basis to see them from the ledger)."
            )
        else:
            cells = aging_by_group(
                ids, as_of=params.as_of, basis=basis, group_by=group_by, include_agency=include_agency
            )
            source = f"The ledger, as of {params.as_of:%m/%d/%Y} (postings dated after it are left out)"
        if basis == Basis.FIRST_STATEMENT:
            notes.append(FIRST_STATEMENT_FALLBACK if first_statement_source() is None else FIRST_STATEMENT_NOTE)
        if basis == Basis.LAST_ACTIVITY:
            notes.append("Last activity: the latest posting of any kind on the account on or before the as-of date.")
        if group_by == GROUP_PAYER:
            notes.append("Payer: the account's primary insurance payer; accounts without one show as self-pay.")
        notes.append(
            "Agency-placed balances are included."
            if include_agency
            else "Accounts placed with a collection agency (their status today) are left out."
        )
        return self._result(params, cells, group_by, source, notes, from_snapshot=source.startswith("Nightly"))

    def _result(
        self, params, cells: list[AgingCell], group_by: str, source: str, notes: list[str], *, from_snapshot: bool
    ) -> ReportResult:
        names = {p.pk: p.name for p in params.practices}
        codes = {p.pk: p.code for p in params.practices}
        position = {p.pk: index for index, p in enumerate(params.practices)}  # by name, as chosen
        cells = sorted(cells, key=lambda c: (position[c.practice_id], c.group))
        by_group = group_by != GROUP_PRACTICE
        lead = [Column("practice", "Practice")] + ([Column("group", GROUP_LABELS[group_by])] if by_group else [])
        bucket_columns = [Column(label, f"{label} days", Column.MONEY) for label in BUCKET_LABELS]

        def rows_for(side: str) -> tuple[list[dict], dict]:
            rows, totals = [], {"practice": "Total", **{label: ZERO for label in BUCKET_LABELS}}
            totals.update(credit=ZERO, balance=ZERO)
            for cell in cells:
                buckets = cell.patient if side == "patient" else cell.insurance
                credit = cell.unapplied_credit if side == "patient" else cell.insurance_credit
                balance = _total(buckets.values()) - credit
                if from_snapshot:
                    credit = None  # the snapshot holds open amounts only
                if not by_group or any(buckets.values()) or credit:
                    row = {"practice": names[cell.practice_id], "group": cell.group, **buckets}
                    row.update(credit=credit, balance=balance)
                    rows.append(row)
                for label in BUCKET_LABELS:
                    totals[label] += buckets[label]
                totals["credit"] = None if from_snapshot else totals["credit"] + credit
                totals["balance"] += balance
            return rows, totals

        tables = []
        side_totals = {}
        for side, title, credit_label in (
            ("patient", "Patient AR", "Unapplied credit"),
            ("insurance", "Insurance AR", "Insurance credit"),
        ):
            rows, totals = rows_for(side)
            side_totals[side] = totals
            columns = (
                lead
                + bucket_columns
                + [Column("credit", credit_label, Column.MONEY), Column("balance", "Balance", Column.MONEY)]
            )
            tables.append(
                Table(
                    key=side,
                    title=f"{title} by {GROUP_LABELS[group_by].lower()}",
                    columns=columns,
                    rows=rows,
                    totals=totals,
                )
            )

        patient, insurance = side_totals["patient"], side_totals["insurance"]
        combined_open = _total(patient[b] + insurance[b] for b in BUCKET_LABELS)
        summary_rows = []
        for label in BUCKET_LABELS:
            both = patient[label] + insurance[label]
            share = (both * 100 / combined_open).quantize(Decimal("0.01")) if combined_open else None
            summary_rows.append(
                {
                    "bucket": f"{label} days",
                    "patient": patient[label],
                    "insurance": insurance[label],
                    "total": both,
                    "share": share,
                }
            )
        tables.insert(
            0,
            Table(
                key="buckets",
                title="All AR by bucket",
                columns=[
                    Column("bucket", "Bucket"),
                    Column("patient", "Patient", Column.MONEY),
                    Column("insurance", "Insurance", Column.MONEY),
                    Column("total", "Total", Column.MONEY),
                    Column("share", "Share of open AR", Column.PERCENT),
                ],
                rows=summary_rows,
                totals={
                    "bucket": "Total open",
                    "patient": _total(patient[b] for b in BUCKET_LABELS),
                    "insurance": _total(insurance[b] for b in BUCKET_LABELS),
                    "total": combined_open,
                    "share": Decimal("100.00") if combined_open else None,
                },
            ),
        )

        over_90 = _total(patient[b] for b in BUCKET_LABELS[3:])
        patient_open = _total(patient[b] for b in BUCKET_LABELS)
        summary = [
            Figure("Open AR", combined_open, Column.MONEY),
            Figure("Patient open AR", patient_open, Column.MONEY),
            Figure("Insurance open AR", combined_open - patient_open, Column.MONEY),
            Figure("Unapplied patient credit", patient["credit"], Column.MONEY),
            Figure(
                "Patient AR over 90 days",
                (over_90 * 100 / patient_open).quantize(Decimal("0.01")) if patient_open else None,
                Column.PERCENT,
                note=charts.money_full(over_90),
            ),
        ]

        charts_out = [
            Chart(
                "Open AR by bucket, patient and insurance",
                charts.bar_chart(
                    [f"{label} days" for label in BUCKET_LABELS],
                    [
                        ("Patient", [patient[b] for b in BUCKET_LABELS]),
                        ("Insurance", [insurance[b] for b in BUCKET_LABELS]),
                    ],
                    title=f"Open AR by bucket as of {params.as_of:%m/%d/%Y}",
                    stacked=True,
                ),
            )
        ]
        groups: OrderedDict[str, OrderedDict[str, Decimal]] = OrderedDict()
        for cell in cells:
            name = cell.group if by_group else names[cell.practice_id]
            if by_group and len(params.practices) > 1:
                name = f"{cell.group} ({codes[cell.practice_id]})"
            groups[name] = cell.patient
        largest = sorted(groups.items(), key=lambda item: -_total(item[1].values()))[:CHART_GROUPS]
        if len(largest) > 1 or by_group:
            label = GROUP_LABELS[group_by].lower()
            charts_out.append(
                Chart(
                    f"Patient AR by {label}" + (f", the largest {CHART_GROUPS}" if len(groups) > CHART_GROUPS else ""),
                    charts.bar_chart(
                        [name or "(none)" for name, _ in largest],
                        [(f"{b} days", [buckets[b] for _, buckets in largest]) for b in BUCKET_LABELS],
                        title=f"Patient AR by {label} and bucket as of {params.as_of:%m/%d/%Y}",
                        horizontal=True,
                        stacked=True,
                    ),
                )
            )
        return ReportResult(tables=tables, charts=charts_out, summary=summary, notes=notes, source=source)
