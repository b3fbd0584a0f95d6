"""A statement's PDF as sent: the stored document, rendered and stored first if it has none yet
(a statement the print run has not reached, or one produced before documents were kept)."""

from django.http import HttpResponse

from reports.models import Statement
from reports.statements.services import statement_document_store


def statement_document_bytes(statement: Statement) -> bytes:
    if statement.document:
        try:
            with statement.document.open("rb") as handle:
                return handle.read()
        except FileNotFoundError:
            pass  # the row names a file the storage lost: render it again from the frozen content
    statement_document_store(statement)
    with statement.document.open("rb") as handle:
        return handle.read()


def statement_file_name(statement: Statement) -> str:
    """The download's name: the statement's number only, never the patient's name (it shows in the
    browser's download list and on the disk of whoever saves it)."""
    return f"statement-{statement.pk}.pdf"


def statement_pdf_response(statement: Statement) -> HttpResponse:
    """The PDF as a download. A PHI document: never cached, never sniffed into something else,
    never run with the app's origin."""
    response = HttpResponse(statement_document_bytes(statement), content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{statement_file_name(statement)}"'
    response["Cache-Control"] = "no-store, private"
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "sandbox"
    return response
