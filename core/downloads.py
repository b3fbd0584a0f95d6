"""A stored PHI document as a download: the one set of headers for every such file."""

from django.http import FileResponse, HttpResponse


def phi_pdf_download(document, *, filename: str) -> HttpResponse:
    """A PDF (bytes, or an open file streamed) as an attachment. A PHI document: never cached,
    never sniffed into something else, never run with the app's origin. The file name carries no
    patient name (it shows in the browser's download list and on the disk of whoever saves it)."""
    if isinstance(document, bytes):
        response = HttpResponse(document, content_type="application/pdf")
        response["Content-Disposition"] = f'attachment; filename="{filename}"'
    else:
        response = FileResponse(document, content_type="application/pdf", as_attachment=True, filename=filename)
    response["Cache-Control"] = "no-store, private"
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "sandbox"
    return response
