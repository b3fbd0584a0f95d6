"""Batches of real statements for the batch printing and email tests."""

from io import BytesIO

from pypdf import PdfReader

from accounts.selectors import practice_today
from reports.models import Statement, StatementBatch
from reports.statements import emailing
from reports.statements.documents import statement_content
from tests.conftest import post_visit
from tests.factories import PatientAccountFactory


def make_batch(practice, count: int, *, accounts=None, run_on=None, route_email=True) -> StatementBatch:
    """A cycle batch of `count` patient statements, one per new account (or per given account),
    with their content frozen and those whose patient consented marked for email, as the statement
    cycle leaves it for printing."""
    today = practice_today(practice)
    batch = StatementBatch.objects.create(practice=practice, run_on=run_on or today, statement_count=count)
    for number in range(count):
        if accounts is not None:
            account = accounts[number]
        else:
            account = PatientAccountFactory(practice=practice)
            post_visit(account, days_ago=40 + number, charge="250.00", insurance_paid="100.00", to_patient="150.00")
        statement = Statement.objects.create(
            account=account,
            practice=practice,
            guarantor=account.guarantor,
            batch=batch,
            kind=Statement.Kind.STATEMENT,
            statement_date=today,
            amount_due=account.patient_balance,
            mailed_on=today,
        )
        statement.covers.add(account)
        statement.content = statement_content(statement)
        statement.save(update_fields=["content"])
    if route_email:
        emailing.statements_route_to_email(batch.statements.all(), as_of=batch.run_on)
    return batch


def pdf_pages(data: bytes) -> int:
    return len(PdfReader(BytesIO(data)).pages)


def pdf_text(data: bytes) -> str:
    return "\n".join(page.extract_text() or "" for page in PdfReader(BytesIO(data)).pages)


def read_file(field) -> bytes:
    with field.open("rb") as handle:
        return handle.read()


def record_renders(monkeypatch) -> list[list[int]]:
    """Every render's statement ids, in order (the real renderer runs)."""
    from reports.statements import documents

    calls = []
    real = documents.render_statements_pdf

    def recording(statements):
        statements = list(statements)
        calls.append([s.pk for s in statements])
        return real(statements)

    monkeypatch.setattr(documents, "render_statements_pdf", recording)
    return calls
