"""The one way a report is built: a `Report` subclass in `reports/catalog/`, registered once.

Every report is then, with the same numbers everywhere:
- a page at `/reports/<slug>/` (parameters form, formula, charts, tables, "Download CSV" / "Download PDF"),
- `?format=csv` and `?format=pdf` on that page (the PDF embeds the same SVG charts, prints the formula
  and the parameters, and its times carry their zone),
- the JSON API `/api/reports/<slug>/` (also `?format=csv|pdf`); bad parameters are a 400 with field
  errors there and a form error on the page,
- listed on the index `/reports/` for the tiers that may run it,
- audited on every run (core.audit: the report's slug, the practices, the parameters; no PHI).
A practice outside the user's scope is refused by the form (a field error; 400 in the API). Tiers
below the report's `field_group` get 403.

How to add a report (R2, and whoever comes next)
-------------------------------------------------
1. Create `reports/catalog/<name>.py`:

    from django import forms
    from reports import charts
    from reports.framework import Chart, Column, Figure, Report, ReportParams, ReportResult, Table, register

    @register
    class CollectionRateReport(Report):
        slug = "collection-rate"                 # URL: /reports/collection-rate/, /api/reports/collection-rate/
        title = "Collection rate against target"
        description = "One line for the index page."
        formula = "Net collection rate = (payments - refunds) / (charges - contractual adjustments)"
        period = Report.PERIOD_RANGE             # ?from=&to= (default: the last `default_days`), or
                                                 # PERIOD_AS_OF (?as_of=, default today) or PERIOD_NONE
        default_days = 365
        # field_group = FieldGroup.DIRECTOR      # default FieldGroup.MANAGEMENT

        def option_fields(self) -> dict:         # report-specific options (optional)
            return {"group_by": forms.ChoiceField(choices=[("month", "Month")], required=False, initial="month")}

        def clean(self, params: ReportParams) -> None:   # optional cross-field checks
            if params.options.get("group_by") == "week" and params.days > 400:
                raise forms.ValidationError({"to": "Weekly figures cover at most 400 days."})

        def compute(self, user, params: ReportParams) -> ReportResult:
            # params.practices: the chosen practices (already limited to the user's), ordered by name;
            # params.practice_ids, params.date_from / params.date_to (PERIOD_RANGE, inclusive),
            # params.as_of (PERIOD_AS_OF), params.options (cleaned option fields).
            table = Table(
                key="by_month", title="By month",
                columns=[Column("month", "Month"), Column("rate", "Net rate", Column.PERCENT),
                         Column("payments", "Payments", Column.MONEY), Column("count", "Accounts", Column.INT)],
                rows=[{"month": "11/2026", "rate": Decimal("96.20"), "payments": Decimal("1234.56"), "count": 12}],
                totals={"month": "Total", "payments": Decimal("1234.56"), "count": 12},
            )
            chart = charts.line_chart(...)       # an SVG string; see reports/charts.py
            return ReportResult(tables=[table], charts=[Chart("Net rate by month", chart)],
                                summary=[Figure("Net rate", Decimal("96.20"), Column.PERCENT)],
                                notes=["Refunds count in the month they were paid."])

2. Add one line to `reports/catalog/__init__.py`: `from reports.catalog import collection_rate  # noqa: F401`.

That is all: the URLs, templates, CSV, PDF, API, audit and the index entry come from here. Values in
rows are Decimal (money with two places, percents as 96.20 meaning 96.20 %), int, str, date or None;
the column's `kind` decides how the page and PDF write them, CSV and JSON give them plain
("1234.56", "96.20", "2026-11-30"). Compute reads through selectors / scoped querysets of the
chosen practices only, in a handful of grouped queries (no query per row: the page's query count is
asserted in tests). Compute raises `ApplicationError(message, field=...)` for a rule the form could
not check; it shows as a field error.
"""

from __future__ import annotations

import copy
import csv
import io
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from django import forms
from django.core.exceptions import ValidationError
from django.http import QueryDict
from django.utils import timezone

from core.access import FieldGroup, can_see, practices_for
from core.audit import audit_record
from core.display import EMPTY, display_time, office_zone
from core.errors import ApplicationError
from core.models import MAX_ID, AuditEvent

DATE_INPUT_FORMATS = ["%Y-%m-%d", "%m/%d/%Y"]
MAX_PERIOD_DAYS = 3 * 366 + 1  # a report covers at most about three years
EARLIEST = date(2000, 1, 1)


# ---- results --------------------------------------------------------------------------------------


@dataclass
class Column:
    key: str
    label: str
    kind: str = "text"
    TEXT = "text"
    MONEY = "money"  # Decimal, $1,234.56
    INT = "int"  # 1,234
    PERCENT = "percent"  # Decimal percent points, 96.2%
    DAYS = "days"  # Decimal days, 41.3
    DATE = "date"  # date, 11/30/2026

    @property
    def numeric(self) -> bool:
        return self.kind in (self.MONEY, self.INT, self.PERCENT, self.DAYS)


@dataclass
class Table:
    key: str
    title: str
    columns: list[Column]
    rows: list[dict]
    totals: dict | None = None
    note: str = ""

    def cells(self, row: dict) -> list[tuple[Column, object]]:
        return [(column, row.get(column.key)) for column in self.columns]


@dataclass
class Figure:
    """A headline number shown above the charts ("Total AR $1.2M")."""

    label: str
    value: object
    kind: str = Column.TEXT
    note: str = ""


@dataclass
class Chart:
    title: str
    svg: str  # from reports.charts: escaped, self-contained markup


@dataclass
class ReportResult:
    tables: list[Table] = field(default_factory=list)
    charts: list[Chart] = field(default_factory=list)
    summary: list[Figure] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    source: str = ""  # where the numbers came from, e.g. "Nightly snapshot of 12/02/2026"


# ---- formatting: one place for the page, the PDF, the CSV and the JSON ----------------------------


def format_cell(value, kind: str) -> str:
    """How the page and the PDF write a value."""
    if value is None or value == "":
        return EMPTY if kind != Column.TEXT else ""
    if kind == Column.MONEY:
        amount = Decimal(value).quantize(Decimal("0.01"))
        return f"{'-' if amount < 0 else ''}${abs(amount):,.2f}"
    if kind == Column.INT:
        return f"{int(value):,}"
    if kind == Column.PERCENT:
        return f"{Decimal(value).quantize(Decimal('0.1'))}%"
    if kind == Column.DAYS:
        return f"{Decimal(value).quantize(Decimal('0.1')):,}"
    if kind == Column.DATE or isinstance(value, date):
        return f"{value:%m/%d/%Y}"
    return str(value)


def plain_cell(value, kind: str = Column.TEXT):
    """How CSV and JSON give a value: money and percents as exact decimal strings, dates ISO."""
    if value is None:
        return None
    if isinstance(value, Decimal):
        places = Decimal("0.01") if kind in (Column.MONEY, Column.PERCENT, Column.TEXT) else Decimal("0.1")
        return str(value.quantize(places))
    if isinstance(value, date):
        return value.isoformat()
    return value


# ---- parameters -----------------------------------------------------------------------------------


@dataclass
class ReportParams:
    practices: list
    date_from: date | None = None
    date_to: date | None = None
    as_of: date | None = None
    options: dict = field(default_factory=dict)

    @property
    def practice_ids(self) -> list[int]:
        return [practice.pk for practice in self.practices]

    @property
    def days(self) -> int:
        """Days in the period, both ends included (PERIOD_RANGE)."""
        return (self.date_to - self.date_from).days + 1 if self.date_from and self.date_to else 0


def office_today() -> date:
    return timezone.now().astimezone(office_zone()).date()


def _date_field(label: str, help_text: str = "") -> forms.DateField:
    return forms.DateField(
        required=False,
        label=label,
        help_text=help_text,
        input_formats=DATE_INPUT_FORMATS,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )


class PracticeChoiceField(forms.ModelMultipleChoiceField):
    """The practices to report on: ids the user may see. An id that is not a whole number within the
    database's range is refused as any unknown practice is, before it reaches the query."""

    def _check_values(self, value):
        for item in value:
            text = str(item).strip()
            if not (text.isascii() and text.isdigit()) or not 1 <= int(text) <= MAX_ID:
                raise ValidationError(
                    self.error_messages["invalid_choice"], code="invalid_choice", params={"value": text[:40]}
                )
        return super()._check_values(value)


class ReportForm(forms.Form):
    """The parameters of one report. Always bound (blank fields take their defaults), so the page,
    the CSV, the PDF and the API read the same values the same way."""

    practice = PracticeChoiceField(
        queryset=None,
        required=False,
        label="Practices",
        help_text="None chosen: all your practices.",
        widget=forms.CheckboxSelectMultiple,
        error_messages={"invalid_choice": "You have no access to practice %(value)s, or it does not exist."},
    )

    def __init__(self, data, *, report: Report, user):
        if not isinstance(data, QueryDict):  # a plain dict (tests, scripts): lists become repeated keys
            query = QueryDict(mutable=True)
            for key, value in (data or {}).items():
                query.setlist(key, [str(v) for v in value] if isinstance(value, list | tuple) else [str(value)])
            data = query
        data = self._with_default_period(data.copy(), report)
        super().__init__(data)
        self.report, self.user = report, user
        self.fields["practice"].queryset = practices_for(user).order_by("name")
        if report.period == Report.PERIOD_RANGE:
            self.fields["from"] = _date_field("From")
            self.fields["to"] = _date_field("To")
        elif report.period == Report.PERIOD_AS_OF:
            self.fields["as_of"] = _date_field("As of")
        for name, option in report.option_fields().items():
            self.fields[name] = copy.deepcopy(option)
        self.params: ReportParams | None = None

    @staticmethod
    def _with_default_period(data: QueryDict, report: Report) -> QueryDict:
        """Blank dates take their defaults in the data itself, so the form shows them and the
        download links carry them (the file has the page's figures even past midnight)."""
        today = office_today()
        if report.period == Report.PERIOD_AS_OF and not data.get("as_of"):
            data["as_of"] = today.isoformat()
        elif report.period == Report.PERIOD_RANGE:
            if not data.get("to"):
                data["to"] = today.isoformat()
            if not data.get("from"):
                try:
                    end = date.fromisoformat(data["to"])
                except ValueError:
                    return data  # the form reports the bad end date
                data["from"] = (end - timedelta(days=report.default_days - 1)).isoformat()
        return data

    def clean(self):
        data = super().clean()
        if self.errors:
            return data
        report, today = self.report, office_today()
        practices = list(data.get("practice") or self.fields["practice"].queryset)
        if not practices:
            raise ValidationError({"practice": "You have no practices to report on."})
        params = ReportParams(practices=sorted(practices, key=lambda p: (p.name, p.pk)))
        if report.period == Report.PERIOD_RANGE:
            params.date_to = data.get("to") or today
            params.date_from = data.get("from") or params.date_to - timedelta(days=report.default_days - 1)
            if params.date_from > params.date_to:
                raise ValidationError({"from": "The period starts after it ends."})
            if params.days > MAX_PERIOD_DAYS:
                raise ValidationError({"from": "A report covers at most three years."})
            if params.date_from < EARLIEST:
                raise ValidationError({"from": f"Reports start no earlier than {EARLIEST:%m/%d/%Y}."})
        elif report.period == Report.PERIOD_AS_OF:
            params.as_of = data.get("as_of") or today
            if params.as_of < EARLIEST:
                raise ValidationError({"as_of": f"Reports start no earlier than {EARLIEST:%m/%d/%Y}."})
        params.options = {name: data.get(name) for name in report.option_fields()}
        for name, option in self.fields.items():
            if name in params.options and params.options[name] in (None, "") and option.initial is not None:
                params.options[name] = option.initial
        report.clean(params)
        self.params = params
        return data

    def api_errors(self) -> dict:
        """Field errors keyed by the query parameter's name ("non_field_errors" for the rest)."""
        return {("non_field_errors" if k == "__all__" else k): [str(m) for m in v] for k, v in self.errors.items()}

    def described(self) -> list[tuple[str, str]]:
        """The parameters as printed on the PDF and the CSV: (label, value) in words."""
        params = self.params
        rows = [("Practices", ", ".join(p.name for p in params.practices))]
        if params.date_from:
            rows.append(("Period", f"{params.date_from:%m/%d/%Y} to {params.date_to:%m/%d/%Y} ({params.days} days)"))
        if params.as_of:
            rows.append(("As of", f"{params.as_of:%m/%d/%Y}"))
        for name in params.options:
            option = self.fields[name]
            value = params.options[name]
            if isinstance(option, forms.ChoiceField):
                value = dict(option.choices).get(value, value)
            elif isinstance(option, forms.BooleanField):
                value = "yes" if value else "no"
            rows.append((str(option.label or name.replace("_", " ").capitalize()), str(value)))
        return rows

    def audit_parameters(self) -> dict:
        """The parameters for the audit trail: dates and option codes, never PHI."""
        params = self.params
        out = {}
        if params.date_from:
            out.update({"from": params.date_from.isoformat(), "to": params.date_to.isoformat()})
        if params.as_of:
            out["as_of"] = params.as_of.isoformat()
        for name, value in params.options.items():
            out[name] = value if isinstance(value, bool | int | None) else str(value)
        return out

    def query_without_format(self) -> str:
        query = self.data.copy() if hasattr(self.data, "copy") else dict(self.data)
        query.pop("format", None)
        return query.urlencode() if hasattr(query, "urlencode") else ""


# ---- reports and their registry -----------------------------------------------------------------


class Report:
    PERIOD_RANGE = "range"
    PERIOD_AS_OF = "as_of"
    PERIOD_NONE = "none"

    slug: str = ""
    title: str = ""
    description: str = ""
    formula: str = ""
    field_group: FieldGroup = FieldGroup.MANAGEMENT
    period: str = PERIOD_RANGE
    default_days: int = 90
    order: int = 100  # position on the index page (lower first)

    def option_fields(self) -> dict[str, forms.Field]:
        return {}

    def clean(self, params: ReportParams) -> None:
        """Cross-field checks; raise django.forms.ValidationError({field: message})."""

    def compute(self, user, params: ReportParams) -> ReportResult:
        raise NotImplementedError

    def formula_for(self, params: ReportParams) -> str:
        """The formula as printed; override when it names the period or the basis."""
        return self.formula

    def filename(self, params: ReportParams, extension: str) -> str:
        day = params.as_of or params.date_to or office_today()
        return f"{self.slug}-{day:%Y-%m-%d}.{extension}"


REGISTRY: dict[str, Report] = {}


def register(report_class: type[Report]) -> type[Report]:
    """Class decorator: one instance per report, by slug."""
    report = report_class()
    if not report.slug or report.slug in REGISTRY:
        raise ValueError(f"Report slug {report.slug!r} is empty or taken.")
    REGISTRY[report.slug] = report
    return report_class


def get_report(slug: str) -> Report | None:
    import reports.catalog  # noqa: F401  (registers the catalog once)

    return REGISTRY.get(slug)


def reports_for(user) -> list[Report]:
    import reports.catalog  # noqa: F401

    return sorted(
        (report for report in REGISTRY.values() if can_see(user, report.field_group)), key=lambda r: (r.order, r.title)
    )


# ---- running and exporting ---------------------------------------------------------------------


@dataclass
class ReportRun:
    report: Report
    form: ReportForm
    result: ReportResult | None
    generated_at: object = None
    format: str = "html"

    @property
    def params(self) -> ReportParams | None:
        return self.form.params

    @property
    def ok(self) -> bool:
        return self.result is not None

    @property
    def formula(self) -> str:
        return self.report.formula_for(self.params) if self.params else self.report.formula

    @property
    def generated_text(self) -> str:
        return display_time(self.generated_at)


def run_report(report: Report, *, user, data, fmt: str = "html") -> ReportRun:
    """Validate the parameters, compute, audit the run. The caller has checked the field group."""
    form = ReportForm(data, report=report, user=user)
    run = ReportRun(report=report, form=form, result=None, generated_at=timezone.now(), format=fmt)
    if not form.is_valid():
        return run
    try:
        run.result = report.compute(user, form.params)
    except ApplicationError as error:
        form.add_error(error.field if error.field in form.fields else None, error.message)
        return run
    ids = form.params.practice_ids
    audit_record(
        user=user,
        action=AuditEvent.Action.VIEW if fmt in ("html", "json") else AuditEvent.Action.EXPORT,
        object_type="report",
        object_id=report.slug,
        practice_id=ids[0] if len(ids) == 1 else None,
        field_group=report.field_group,
        detail={"report": report.slug, "practices": ids, "parameters": form.audit_parameters(), "format": fmt},
    )
    return run


def run_as_json(run: ReportRun) -> dict:
    result, params = run.result, run.params
    return {
        "report": run.report.slug,
        "title": run.report.title,
        "formula": run.formula,
        "parameters": {
            "practices": [{"id": p.pk, "code": p.code, "name": p.name} for p in params.practices],
            **run.form.audit_parameters(),
        },
        "source": result.source,
        "generated_at": run.generated_at.isoformat(),
        "summary": [
            {"label": figure.label, "value": plain_cell(figure.value, figure.kind), "kind": figure.kind}
            for figure in result.summary
        ],
        "tables": [
            {
                "key": table.key,
                "title": table.title,
                "columns": [{"key": c.key, "label": c.label, "kind": c.kind} for c in table.columns],
                "rows": [{c.key: plain_cell(row.get(c.key), c.kind) for c in table.columns} for row in table.rows],
                "totals": (
                    {c.key: plain_cell(table.totals.get(c.key), c.kind) for c in table.columns}
                    if table.totals
                    else None
                ),
            }
            for table in result.tables
        ],
        "notes": result.notes,
    }


def run_as_csv(run: ReportRun) -> str:
    """One CSV: the report's title and parameters, then each table (title, header, rows, total)."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([run.report.title])
    for label, value in run.form.described():
        writer.writerow([label, _csv_safe(value)])
    writer.writerow(["Formula", run.formula])
    if run.result.source:
        writer.writerow(["Source", run.result.source])
    writer.writerow(["Generated", run.generated_text])
    for table in run.result.tables:
        writer.writerow([])
        writer.writerow([table.title])
        writer.writerow([column.label for column in table.columns])
        for row in table.rows:
            writer.writerow([_csv_safe(plain_cell(value, column.kind)) for column, value in table.cells(row)])
        if table.totals:
            writer.writerow([_csv_safe(plain_cell(value, column.kind)) for column, value in table.cells(table.totals)])
    return out.getvalue()


def _csv_safe(value):
    """Spreadsheets run a cell starting with = + - @ as a formula (CSV injection); numbers pass."""
    if value is None:
        return ""
    text = str(value)
    if text and text[0] in "=+-@\t\r" and not _is_number(text):
        return "'" + text
    return text


def _is_number(text: str) -> bool:
    try:
        Decimal(text)
    except ArithmeticError:
        return False
    return True


def _no_fetching(url, *args, **kwargs):
    # A report embeds its charts inline; the renderer is given no URL it could be steered to.
    raise ValueError("Reports do not load external resources.")


def run_as_pdf(run: ReportRun) -> bytes:
    from django.template.loader import render_to_string
    from weasyprint import HTML

    html = render_to_string("reports/report_pdf.html", report_context(run))
    return HTML(string=html, url_fetcher=_no_fetching).write_pdf()


def report_context(run: ReportRun) -> dict:
    """What report.html and report_pdf.html render: cells already written as the office writes them."""
    tables = []
    if run.result:
        for table in run.result.tables:
            tables.append(
                {
                    "table": table,
                    "columns": table.columns,
                    "rows": [[(c, format_cell(v, c.kind)) for c, v in table.cells(row)] for row in table.rows],
                    "totals": [(c, format_cell(v, c.kind)) for c, v in table.cells(table.totals)]
                    if table.totals
                    else None,
                }
            )
    summary = [(f, format_cell(f.value, f.kind)) for f in run.result.summary] if run.result else []
    return {
        "run": run,
        "report": run.report,
        "form": run.form,
        "result": run.result,
        "tables": tables,
        "summary": summary,
        "parameters": run.form.described() if run.ok else [],
        "query": run.form.query_without_format(),
    }
