"""A statement's PDF as sent: the stored document, rendered and stored first if it has none yet
(a statement the print run has not reached, or one produced before documents were kept)."""

from core.downloads import phi_pdf_download
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


def statement_pdf_response(statement: Statement):
    """The PDF as a download named by the statement's number only."""
    return phi_pdf_download(statement_document_bytes(statement), filename=f"statement-{statement.pk}.pdf")
