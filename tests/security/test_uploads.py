"""Letter of Protection uploads: only a plain PDF is kept (it parses, no password, no script,
launch action, attached file or web page inside), a size limit checked before parsing and before
the body is read, the letter served as a sandboxed download, and the file readable by the app's
user only."""

import io
import os
import stat

import pytest
from django.core.files.storage import FileSystemStorage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from pypdf import PdfWriter
from pypdf.generic import DictionaryObject, NameObject, TextStringObject

from collections_app import models as collections_models
from collections_app.holds import services, views
from collections_app.models import AccountHold
from core.errors import ApplicationError
from core.models import AuditEvent
from tests.factories import minimal_pdf

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}
ACTIVE = services.MESSAGE_LETTER_ACTIVE_CONTENT


@pytest.fixture(autouse=True)
def private_root(tmp_path, settings, monkeypatch):
    """The real private storage (collections_app.models.private_storage), in a temporary folder."""
    settings.PRIVATE_MEDIA_ROOT = tmp_path / "private"
    field = AccountHold._meta.get_field("lop_letter")
    monkeypatch.setattr(field, "storage", collections_models.private_storage())
    return tmp_path / "private"


def stored_files(root) -> list:
    return [path for path in root.rglob("*") if path.is_file()] if root.exists() else []


def upload(content: bytes, *, name="letter.pdf", content_type="application/pdf"):
    return SimpleUploadedFile(name, content, content_type=content_type)


def place_lop(user, account, content: bytes, **kwargs):
    return services.hold_place(
        acting_user=user,
        account_id=account.pk,
        kind="lop",
        attorney_name="Sam Counsel",
        lop_letter=upload(content, **kwargs),
    )


def written(writer: PdfWriter) -> bytes:
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def letter_writer() -> PdfWriter:
    writer = PdfWriter()
    writer.add_blank_page(width=612, height=792)
    return writer


def javascript_action(script="app.alert(1)") -> DictionaryObject:
    return DictionaryObject({NameObject("/S"): NameObject("/JavaScript"), NameObject("/JS"): TextStringObject(script)})


def pdf_with_open_action_javascript() -> bytes:
    writer = letter_writer()
    writer.root_object[NameObject("/OpenAction")] = javascript_action()
    return written(writer)


def pdf_with_names_tree_javascript() -> bytes:
    writer = letter_writer()
    writer.add_js("app.alert(1);")
    return written(writer)


def pdf_with_page_aa_javascript() -> bytes:
    writer = letter_writer()
    writer.pages[0][NameObject("/AA")] = DictionaryObject({NameObject("/O"): javascript_action()})
    return written(writer)


def pdf_with_launch_action() -> bytes:
    writer = letter_writer()
    writer.root_object[NameObject("/OpenAction")] = DictionaryObject(
        {NameObject("/S"): NameObject("/Launch"), NameObject("/F"): TextStringObject("calc.exe")}
    )
    return written(writer)


def pdf_with_embedded_file() -> bytes:
    writer = letter_writer()
    writer.add_attachment("invoice.html", b"<script>alert(1)</script>")
    return written(writer)


def pdf_with_escaped_javascript_names() -> bytes:
    """/S /JavaScript /JS spelt with #-escapes, which a PDF reader decodes: only the parsed check sees them."""
    return pdf_with_open_action_javascript().replace(b"/S /JavaScript\n/JS (", b"/S /J#61vaScript\n/J#53 (")


def html_polyglot() -> bytes:
    """A real PDF that a browser sniffing the first bytes would take for a web page."""
    return minimal_pdf().replace(
        b"%PDF-1.3\n", b"%PDF-1.3\n%<html><body><script>alert(document.cookie)</script></body></html>\n", 1
    )


def encrypted_pdf() -> bytes:
    writer = letter_writer()
    writer.encrypt("secret", algorithm="RC4-128")
    return written(writer)


def weasyprint_letter() -> bytes:
    """A letter as a word processor would write one: fonts, compressed object streams."""
    import weasyprint

    return weasyprint.HTML(
        string="<h1>Letter of Protection</h1><p>Re: our client, date of loss 01/02/2025.</p>"
    ).write_pdf()


# --- what is accepted -----------------------------------------------------------------------------------


@pytest.mark.parametrize("content", [minimal_pdf(), minimal_pdf(pages=3)], ids=["one-page", "three-pages"])
def test_a_real_pdf_is_accepted_and_stored_as_uploaded(medium, account, private_root, content):
    hold = place_lop(medium, account, content)
    assert (private_root / hold.lop_letter.name).read_bytes() == content


def test_a_word_processor_letter_with_object_streams_is_accepted(medium, account, private_root):
    content = weasyprint_letter()
    assert b"/ObjStm" in content
    hold = place_lop(medium, account, content)
    assert (private_root / hold.lop_letter.name).read_bytes() == content


def test_an_open_action_that_only_shows_the_first_page_is_accepted(medium, account):
    writer = letter_writer()
    writer.root_object[NameObject("/OpenAction")] = writer.pages[0].indirect_reference
    hold = place_lop(medium, account, written(writer))
    assert hold.lop_letter


# --- what is refused ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (pdf_with_open_action_javascript, ACTIVE),
        (pdf_with_names_tree_javascript, ACTIVE),
        (pdf_with_page_aa_javascript, ACTIVE),
        (pdf_with_escaped_javascript_names, ACTIVE),
        (pdf_with_launch_action, ACTIVE),
        (pdf_with_embedded_file, ACTIVE),
        (html_polyglot, ACTIVE),
        (lambda: b"%PDF-1.4\n<html><script>alert(1)</script></html>\n", ACTIVE),
        (encrypted_pdf, services.MESSAGE_LETTER_ENCRYPTED),
        (lambda: b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n", services.MESSAGE_LETTER_UNREADABLE),
        (lambda: minimal_pdf()[:200], services.MESSAGE_LETTER_UNREADABLE),
        (lambda: b"MZ\x90\x00 a program, not a letter", services.MESSAGE_LETTER_NOT_PDF),
        (lambda: b"\x89PNG\r\n\x1a\n an image", services.MESSAGE_LETTER_NOT_PDF),
        (lambda: b"<!doctype html><p>%PDF-1.4</p>", services.MESSAGE_LETTER_NOT_PDF),
    ],
    ids=[
        "open-action-javascript",
        "names-tree-javascript",
        "page-aa-javascript",
        "escaped-javascript-names",
        "launch-action",
        "embedded-file",
        "html-polyglot",
        "html-after-pdf-header",
        "encrypted",
        "five-byte-fake",
        "truncated",
        "executable",
        "png",
        "html",
    ],
)
def test_a_letter_that_is_not_a_plain_pdf_is_refused_and_changes_nothing(medium, account, private_root, build, message):
    status = account.status
    with pytest.raises(ApplicationError) as refused:
        place_lop(medium, account, build())
    assert (refused.value.field, refused.value.message) == ("lop_letter", message)
    assert not AccountHold.objects.exists()
    assert stored_files(private_root) == []
    account.refresh_from_db()
    assert account.status == status
    assert not AuditEvent.objects.filter(object_type="collections_app.accounthold").exists()


def test_javascript_is_found_by_parsing_when_the_raw_bytes_hide_it(monkeypatch):
    """The escaped names are not in the raw bytes; the object walk still refuses the file."""
    content = pdf_with_escaped_javascript_names()
    assert b"/JS" not in content and b"/JavaScript" not in content
    with pytest.raises(services._LetterRefused) as refused:
        services._check_letter_bytes(content)
    assert refused.value.reason == "javascript"


def test_a_letter_with_too_many_objects_to_check_is_refused(medium, account, private_root, monkeypatch):
    monkeypatch.setattr(services, "_LETTER_MAX_NODES", 3)
    with pytest.raises(ApplicationError) as refused:
        place_lop(medium, account, minimal_pdf(pages=3))
    assert refused.value.message == services.MESSAGE_LETTER_TOO_COMPLEX
    assert stored_files(private_root) == []


def test_stream_data_is_skipped_in_one_pass():
    assert services._outside_streams(b"a stream\n<html> endstream b") == b"a   b"
    unterminated = b"x stream\n" * 100_000
    assert services._outside_streams(unterminated) == unterminated


def test_a_pdf_declared_as_another_type_is_refused(medium, account):
    with pytest.raises(ApplicationError) as refused:
        place_lop(medium, account, minimal_pdf(), content_type="text/html")
    assert refused.value.message == services.MESSAGE_LETTER_NOT_PDF


def test_attaching_a_letter_with_javascript_keeps_the_one_on_file(medium, account, private_root):
    hold = place_lop(medium, account, minimal_pdf())
    before = hold.lop_letter.name
    with pytest.raises(ApplicationError) as refused:
        services.lop_letter_attach(
            acting_user=medium, hold_id=hold.pk, lop_letter=upload(pdf_with_open_action_javascript())
        )
    assert refused.value.message == ACTIVE
    hold.refresh_from_db()
    assert hold.lop_letter.name == before
    assert stored_files(private_root) == [private_root / before]


def test_a_failure_after_the_file_is_written_leaves_no_file(medium, account, private_root, monkeypatch):
    def broken(**kwargs):
        raise RuntimeError("audit store down")

    monkeypatch.setattr(services, "audit_record", broken)
    with pytest.raises(RuntimeError):
        place_lop(medium, account, minimal_pdf())
    assert stored_files(private_root) == []


# --- size ---------------------------------------------------------------------------------------------


def test_an_oversized_letter_is_refused_before_it_is_parsed(medium, account, private_root, settings, monkeypatch):
    def parser_must_not_run(*args, **kwargs):
        raise AssertionError("an oversized letter was parsed")

    monkeypatch.setattr(services, "PdfReader", parser_must_not_run)
    settings.LOP_LETTER_MAX_BYTES = 1000
    content = minimal_pdf() + b"%" + b"x" * 1000 + b"\n"
    with pytest.raises(ApplicationError) as refused:
        place_lop(medium, account, content)
    assert refused.value.message == services.MESSAGE_LETTER_TOO_LARGE.format(limit="1,000 bytes")
    assert not AccountHold.objects.exists() and stored_files(private_root) == []


def test_the_default_limit_is_ten_megabytes(settings):
    assert settings.LOP_LETTER_MAX_BYTES == 10 * 1024 * 1024
    assert services.letter_too_large_message() == services.MESSAGE_LETTER_TOO_LARGE.format(limit="10 MB")
    assert settings.DATA_UPLOAD_MAX_MEMORY_SIZE <= 2_621_440
    assert settings.FILE_UPLOAD_MAX_MEMORY_SIZE <= 2_621_440


class UnreadableBody:
    """A request body that fails the test if anything reads it."""

    def read(self, *args):
        raise AssertionError("the body was read")

    readline = read


@pytest.mark.parametrize("url_name", ["hold-place", "hold-letter-attach"])
def test_a_content_length_over_the_cap_is_a_413_before_the_body_is_read(medium, account, url_name):
    hold = services.hold_place(acting_user=medium, account_id=account.pk, kind="lop", attorney_name="Sam")
    url = reverse(url_name, args=[account.pk] if url_name == "hold-place" else [account.pk, hold.pk])
    # With CSRF checks on, CsrfViewMiddleware would read request.POST (the whole body) first.
    client = Client(enforce_csrf_checks=True)
    client.force_login(medium)
    too_long = 10 * 1024 * 1024 + views.UPLOAD_BODY_MARGIN_BYTES + 1
    response = client.post(
        url,
        CONTENT_TYPE="multipart/form-data; boundary=BoUnDaRy",
        CONTENT_LENGTH=str(too_long),
        **{"wsgi.input": UnreadableBody()},
        **HTMX,
    )
    assert response.status_code == 413
    assert services.letter_too_large_message() in response.content.decode()
    hold.refresh_from_db()
    assert not hold.lop_letter


def test_the_upload_views_still_check_csrf(medium, account, private_root):
    client = Client(enforce_csrf_checks=True)
    client.force_login(medium)
    response = client.post(
        reverse("hold-place", args=[account.pk]),
        {"kind": "lop", "attorney_name": "Sam", "lop_letter": upload(minimal_pdf())},
        **HTMX,
    )
    assert response.status_code == 403
    assert not AccountHold.objects.exists() and stored_files(private_root) == []


def test_a_letter_within_the_cap_goes_through_the_web_form(client, medium, account, private_root):
    client.force_login(medium)
    response = client.post(
        reverse("hold-place", args=[account.pk]),
        {"kind": "lop", "attorney_name": "Sam", "lop_letter": upload(minimal_pdf())},
        **HTMX,
    )
    assert response.status_code == 200
    assert AccountHold.objects.get().lop_letter


def test_a_refused_letter_is_explained_on_the_web_form(client, medium, account, private_root):
    client.force_login(medium)
    response = client.post(
        reverse("hold-place", args=[account.pk]),
        {"kind": "lop", "attorney_name": "Sam", "lop_letter": upload(pdf_with_open_action_javascript())},
        **HTMX,
    )
    assert response.status_code == 200
    assert "which are not accepted" in response.content.decode()
    assert not AccountHold.objects.exists() and stored_files(private_root) == []


# --- serving ------------------------------------------------------------------------------------------


def test_the_letter_is_a_sandboxed_uncached_download_and_the_read_is_audited(client, medium, account):
    content = minimal_pdf()
    hold = place_lop(medium, account, content)
    client.force_login(medium)
    response = client.get(reverse("hold-letter", args=[hold.pk]))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == f'attachment; filename="letter-of-protection-{hold.pk}.pdf"'
    assert response["Content-Security-Policy"] == "sandbox"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert "no-store" in response["Cache-Control"]
    assert b"".join(response.streaming_content) == content
    read = AuditEvent.objects.get(action="view", object_type="collections_app.accounthold", object_id=str(hold.pk))
    assert read.user == medium and read.detail["document"] == "lop_letter"


# --- storage ------------------------------------------------------------------------------------------


def mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def test_a_stored_letter_is_readable_by_the_app_user_only(medium, account, private_root):
    hold = place_lop(medium, account, minimal_pdf())
    path = private_root / hold.lop_letter.name
    assert mode(path) == 0o600
    folder = path.parent
    while folder != private_root.parent:
        assert mode(folder) == 0o700, folder
        folder = folder.parent


def test_a_replaced_letter_is_stored_0600_too(medium, account, private_root):
    hold = place_lop(medium, account, minimal_pdf())
    hold = services.lop_letter_attach(acting_user=medium, hold_id=hold.pk, lop_letter=upload(minimal_pdf(pages=2)))
    assert mode(private_root / hold.lop_letter.name) == 0o600


def test_any_file_system_storage_writes_0600_by_default(tmp_path, settings):
    assert (settings.FILE_UPLOAD_PERMISSIONS, settings.FILE_UPLOAD_DIRECTORY_PERMISSIONS) == (0o600, 0o700)
    storage = FileSystemStorage(location=tmp_path / "other")
    name = storage.save("a/b.txt", io.BytesIO(b"x"))
    assert mode(tmp_path / "other" / name) == 0o600
    assert mode(tmp_path / "other" / "a") == 0o700


def test_private_storage_keeps_0600_whatever_the_upload_settings_say(tmp_path, settings):
    settings.FILE_UPLOAD_PERMISSIONS = None
    settings.FILE_UPLOAD_DIRECTORY_PERMISSIONS = None
    settings.PRIVATE_MEDIA_ROOT = tmp_path / "elsewhere"
    name = collections_models.private_storage().save("lop/2026/01/x.pdf", io.BytesIO(minimal_pdf()))
    assert mode(tmp_path / "elsewhere" / name) == 0o600
    assert mode(tmp_path / "elsewhere" / "lop") == 0o700


def test_the_holds_api_refuses_an_oversized_body_before_reading_it(medium, account):
    client = Client(enforce_csrf_checks=True)
    client.force_login(medium)
    too_long = 10 * 1024 * 1024 + views.UPLOAD_BODY_MARGIN_BYTES + 1
    response = client.post(
        reverse("api-account-holds", args=[account.pk]),
        CONTENT_TYPE="multipart/form-data; boundary=BoUnDaRy",
        CONTENT_LENGTH=str(too_long),
        **{"wsgi.input": UnreadableBody()},
    )
    assert response.status_code == 413
    assert "Nothing was saved." in response.json()["detail"]
    assert not AccountHold.objects.filter(account=account).exists()
