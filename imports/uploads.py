"""Imports uploaded at /imports/ or POST /api/imports/: the checks a file passes before it is kept,
and reading a kept Synthea .zip. The writes are in imports.services (import_upload_create and
import_upload_run); the import itself is the same function the command calls, so the report is
the command's --json summary."""

from __future__ import annotations

import csv
import io
import re
import zipfile
from datetime import date
from pathlib import Path, PurePosixPath

from django.conf import settings
from django.template.defaultfilters import filesizeformat

from core.errors import ApplicationError
from imports.csv_import import LAYOUTS
from imports.models import ImportUpload
from imports.synthea import FILES as SYNTHEA_FILES

Kind = ImportUpload.Kind

CSV_KINDS = {
    Kind.CSV_DEMOGRAPHICS: "demographics",
    Kind.CSV_APPOINTMENTS: "appointments",
    Kind.CSV_BALANCES: "balances",
}
X12_KINDS = {Kind.X12_835: "835", Kind.X12_837P: "837"}
EXTENSIONS = {
    Kind.X12_835: (".835", ".x12", ".edi", ".era", ".txt", ".dat"),
    Kind.X12_837P: (".837", ".x12", ".edi", ".txt", ".dat"),
    Kind.CSV_DEMOGRAPHICS: (".csv", ".txt"),
    Kind.CSV_APPOINTMENTS: (".csv", ".txt"),
    Kind.CSV_BALANCES: (".csv", ".txt"),
    Kind.SYNTHEA: (".zip",),
}
# A Synthea .zip is at most IMPORT_UPLOAD_MAX_BYTES; what it unpacks to is capped too (a small zip
# can unpack to gigabytes).
SYNTHEA_MAX_UNPACKED_BYTES = 256 * 1024 * 1024

MESSAGE_PRACTICE = "Choose one of your practices."
MESSAGE_EMPTY = "The file is empty."
MESSAGE_TOO_LARGE = "The file is {size}; an import file may be at most {limit}. Split it into smaller files."
MESSAGE_EXTENSION = "A {kind} file ends in {extensions}; this one is named {name!r}."
MESSAGE_NOT_X12 = "This is not an X12 file: it should begin with ISA (or ST, without an envelope)."
MESSAGE_WRONG_X12 = "This file holds an X12 {found} transaction; choose {label}, or upload the {expected} file."
MESSAGE_NOT_UTF8 = "The file is not UTF-8 text: save it as CSV UTF-8 (the template shows the layout)."
MESSAGE_NOT_TEXT = "The file is not text (it holds binary data)."
MESSAGE_CSV_HEADER = "The header row lacks the column(s) {columns}: download the template for the layout."
MESSAGE_NOT_ZIP = "Choose a .zip of Synthea's CSV files."
MESSAGE_ZIP_LACKS = "The .zip lacks {names}."
MESSAGE_ZIP_TOO_LARGE = "The .zip unpacks to {size}; at most {limit}."
MESSAGE_CUTOFF = "Give the cut-off date: nothing dated after it is imported."
MESSAGE_CUTOFF_ONLY_SYNTHEA = "A cut-off date is for a Synthea export only."


def _size(value: int) -> str:
    return filesizeformat(value).replace("\xa0", " ")


# Room beside the file in an upload's body: the form's other fields and the multipart framing.
UPLOAD_BODY_MARGIN_BYTES = 512 * 1024


def upload_body_too_large(request) -> bool:
    """The declared body is larger than an import file and its form can make (read before the body is)."""
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0  # Django reads no body when the length is not a number
    return length > settings.IMPORT_UPLOAD_MAX_BYTES + UPLOAD_BODY_MARGIN_BYTES


def too_large_message() -> str:
    limit = _size(settings.IMPORT_UPLOAD_MAX_BYTES)
    return f"An import file may be at most {limit}; nothing was imported. Split the file into smaller ones."


def read_upload(upload) -> bytes:
    """The uploaded file, at most one byte past the limit (so a larger one is refused, not read whole)."""
    upload.seek(0)
    return upload.read(settings.IMPORT_UPLOAD_MAX_BYTES + 1)


def import_file_check(*, kind: str, content: bytes, file_name: str, cutoff: date | None) -> None:
    """Refuse, with a message on its field, a file the import would refuse whole or a person would
    not mean to send: too large, empty, the wrong type, X12 of the other kind, a CSV without its
    required columns, a .zip without Synthea's files. Rows and segments are the import's business:
    it reports each rejected one with its position."""
    if len(content) > settings.IMPORT_UPLOAD_MAX_BYTES:
        limit = settings.IMPORT_UPLOAD_MAX_BYTES
        raise ApplicationError(MESSAGE_TOO_LARGE.format(size=f"over {_size(limit)}", limit=_size(limit)), field="file")
    if kind == Kind.SYNTHEA and cutoff is None:
        raise ApplicationError(MESSAGE_CUTOFF, field="cutoff")
    if kind != Kind.SYNTHEA and cutoff is not None:
        raise ApplicationError(MESSAGE_CUTOFF_ONLY_SYNTHEA, field="cutoff")
    extensions = EXTENSIONS[kind]
    if not file_name.lower().endswith(extensions):
        label = ImportUpload.Kind(kind).label
        raise ApplicationError(
            MESSAGE_EXTENSION.format(kind=label, extensions=", ".join(extensions), name=file_name[:80]), field="file"
        )
    if not content.strip():
        raise ApplicationError(MESSAGE_EMPTY, field="file")
    if kind in X12_KINDS:
        _check_x12(kind, content)
    elif kind in CSV_KINDS:
        _check_csv(kind, content)
    else:
        synthea_members(content)


_X12_HEAD = 64 * 1024


def _check_x12(kind: str, content: bytes) -> None:
    head = content[:_X12_HEAD]
    if b"\x00" in head:
        raise ApplicationError(MESSAGE_NOT_TEXT, field="file")
    text = head.decode("latin-1").lstrip("\ufeff\xef\xbb\xbf \t\r\n")
    if text.startswith("ISA") and len(text) > 3:
        element = text[3]
    elif text.startswith("ST") and len(text) > 2:
        element = text[2]
    else:
        raise ApplicationError(MESSAGE_NOT_X12, field="file")
    if element.isalnum() or element.isspace():
        raise ApplicationError(MESSAGE_NOT_X12, field="file")
    # The first transaction set's type (ST01): 835 or 837. Not found in the head: the import says why.
    found = re.search(r"(?:^|[^A-Za-z0-9])ST" + re.escape(element) + r"(\d{3})", text)
    expected = X12_KINDS[kind]
    if found and found.group(1) != expected and found.group(1) in X12_KINDS.values():
        other = next(k for k, code in X12_KINDS.items() if code == found.group(1))
        raise ApplicationError(
            MESSAGE_WRONG_X12.format(found=found.group(1), label=ImportUpload.Kind(other).label, expected=expected),
            field="file",
        )


def _check_csv(kind: str, content: bytes) -> None:
    if b"\x00" in content:
        raise ApplicationError(MESSAGE_NOT_TEXT, field="file")
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ApplicationError(MESSAGE_NOT_UTF8, field="file") from None
    first = next(csv.reader(io.StringIO(text)), [])
    header = {name.strip().lower() for name in first}
    layout = LAYOUTS[CSV_KINDS[kind]]
    missing = [column for column, required, _ in layout if required and column not in header]
    if missing:
        raise ApplicationError(MESSAGE_CSV_HEADER.format(columns=", ".join(missing)), field="file")


def synthea_members(content: bytes) -> dict[str, zipfile.ZipInfo]:
    """Synthea's files in the .zip, by name, wherever the export's folder put them (a member is
    taken by its last name part only, so no path in the .zip ever reaches the disk)."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(content))
    except (zipfile.BadZipFile, ValueError):
        raise ApplicationError(MESSAGE_NOT_ZIP, field="file") from None
    members: dict[str, zipfile.ZipInfo] = {}
    for info in archive.infolist():
        name = PurePosixPath(info.filename.replace("\\", "/")).name
        if not info.is_dir() and name in SYNTHEA_FILES and name not in members:
            members[name] = info
    lacking = [name for name in SYNTHEA_FILES if name not in members]
    if lacking:
        raise ApplicationError(MESSAGE_ZIP_LACKS.format(names=", ".join(lacking)), field="file")
    unpacked = sum(info.file_size for info in members.values())
    if unpacked > SYNTHEA_MAX_UNPACKED_BYTES:
        raise ApplicationError(
            MESSAGE_ZIP_TOO_LARGE.format(size=_size(unpacked), limit=_size(SYNTHEA_MAX_UNPACKED_BYTES)), field="file"
        )
    return members


def synthea_unpack(content: bytes, folder: Path) -> None:
    """Write Synthea's six CSV files of the .zip into `folder` (and nothing else)."""
    members = synthea_members(content)
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        for name, info in members.items():
            with archive.open(info) as source, open(folder / name, "wb") as target:
                remaining = SYNTHEA_MAX_UNPACKED_BYTES
                while chunk := source.read(1024 * 1024):
                    remaining -= len(chunk)
                    if remaining < 0:  # file_size in the .zip's directory understated it
                        raise ApplicationError(MESSAGE_ZIP_TOO_LARGE.format(
                            size=f"over {_size(SYNTHEA_MAX_UNPACKED_BYTES)}", limit=_size(SYNTHEA_MAX_UNPACKED_BYTES)
                        ), field="file")  # fmt: skip
                    target.write(chunk)
