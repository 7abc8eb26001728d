"""Extracting text from a file, by kind: one row of ``PARSERS`` per kind, each a maintained parser.

Used by ingestion (what gets chunked and searched) and by the conversation
(what a model that cannot take the file itself reads instead). A file no
parser takes is ``UnsupportedFile``; one its parser cannot read (a corrupt
PDF, a scanned PDF with no text layer) is ``InvalidFile``. Both carry a
message meant for the person who uploaded it.
"""

from __future__ import annotations

import csv
import io
import json
import posixpath
from collections.abc import Callable
from dataclasses import dataclass


class UnreadableFile(Exception):
    code = "invalid_file"


class UnsupportedFile(UnreadableFile):
    code = "unsupported_file"


class InvalidFile(UnreadableFile):
    code = "invalid_file"


def _decode(data: bytes) -> str:
    if b"\x00" in data[:8192]:
        raise InvalidFile("The file holds binary data, not text.")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        # Older text files are often Windows-1252; anything it cannot map is not text.
        try:
            return data.decode("cp1252")
        except UnicodeDecodeError:
            raise InvalidFile("The file is not UTF-8 (or Windows-1252) text.") from None


def _text(data: bytes) -> str:
    return _decode(data)


def _html(data: bytes) -> str:
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(_decode(data), "html.parser")
    for hidden in soup(["script", "style", "noscript", "template"]):
        hidden.decompose()
    lines = (line.strip() for line in soup.get_text("\n").splitlines())
    return "\n".join(line for line in lines if line)


def _pdf(data: bytes) -> str:
    from pypdf import PdfReader
    from pypdf.errors import PyPdfError

    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted and not reader.decrypt(""):
            raise InvalidFile("The PDF is encrypted with a password.")
        pages = [page.extract_text() or "" for page in reader.pages]
    except UnreadableFile:
        raise
    except (PyPdfError, ValueError, KeyError, TypeError, AttributeError, IndexError, OSError) as error:
        raise InvalidFile(f"The PDF could not be read: {error}") from None
    text = "\n\n".join(page.strip() for page in pages if page.strip())
    if not text:
        raise InvalidFile("The PDF has no text layer (a scan?); nothing could be extracted.")
    return text


def _docx(data: bytes) -> str:
    import zipfile

    import docx
    from docx.opc.exceptions import PackageNotFoundError

    try:
        document = docx.Document(io.BytesIO(data))
    except (PackageNotFoundError, zipfile.BadZipFile, KeyError, ValueError) as error:
        raise InvalidFile(f"The Word document could not be read: {error}") from None
    parts = [paragraph.text for paragraph in document.paragraphs if paragraph.text.strip()]
    for table in document.tables:
        for row in table.rows:
            parts.append(" | ".join(cell.text.strip() for cell in row.cells))
    return "\n".join(parts)


def _csv(data: bytes) -> str:
    """One line per row, each value named by its column, so a chunk of rows still says what they mean."""
    rows = list(csv.reader(io.StringIO(_decode(data))))
    if not rows:
        return ""
    header, body = rows[0], rows[1:]
    if not body:
        return ", ".join(header)
    return "\n".join(
        "; ".join(f"{name}: {value}" for name, value in zip(header, row, strict=False) if value)
        for row in body
    )


def _json(data: bytes) -> str:
    try:
        value = json.loads(_decode(data))
    except json.JSONDecodeError as error:
        raise InvalidFile(f"The JSON does not parse: {error}") from None
    return json.dumps(value, indent=2, ensure_ascii=False)


@dataclass(frozen=True)
class Parser:
    extensions: frozenset[str]
    mime_types: frozenset[str]
    parse: Callable[[bytes], str]


SOURCE_CODE = (
    ".py .js .mjs .ts .tsx .jsx .java .kt .go .rs .c .h .cc .cpp .hpp .cs .rb .php .swift .scala .sh .bash "
    ".sql .r .m .lua .pl .css .scss .yaml .yml .toml .ini .cfg .xml .tex .rst .log .jsonl .ipynb"
).split()

PARSERS: dict[str, Parser] = {
    "text": Parser(
        frozenset([".txt", ".md", ".markdown", *SOURCE_CODE]),
        frozenset(["text/plain", "text/markdown", "text/x-markdown", "text/x-python", "application/x-yaml"]),
        _text,
    ),
    "html": Parser(frozenset([".html", ".htm"]), frozenset(["text/html", "application/xhtml+xml"]), _html),
    "pdf": Parser(frozenset([".pdf"]), frozenset(["application/pdf"]), _pdf),
    "docx": Parser(
        frozenset([".docx"]),
        frozenset(["application/vnd.openxmlformats-officedocument.wordprocessingml.document"]),
        _docx,
    ),
    "csv": Parser(frozenset([".csv"]), frozenset(["text/csv"]), _csv),
    "json": Parser(frozenset([".json"]), frozenset(["application/json"]), _json),
}


def kind_of(filename: str, mime_type: str | None) -> str | None:
    """Which parser reads a file: by its extension first, then by its declared type."""
    extension = posixpath.splitext(filename.lower())[1]
    for kind, parser in PARSERS.items():
        if extension in parser.extensions:
            return kind
    base = (mime_type or "").split(";", 1)[0].strip().lower()
    for kind, parser in PARSERS.items():
        if base in parser.mime_types:
            return kind
    if base.startswith("text/"):
        return "text"
    return None


def extract_text(data: bytes, filename: str, mime_type: str | None) -> str:
    """The file's text; raises UnsupportedFile or InvalidFile with a message for the uploader."""
    kind = kind_of(filename, mime_type)
    if kind is None:
        kinds = ", ".join(sorted(PARSERS))
        raise UnsupportedFile(f"'{filename}' is not a kind of file chatkitd can read ({kinds}).")
    text = PARSERS[kind].parse(data).replace("\x00", "")
    if not text.strip():
        raise InvalidFile(f"'{filename}' holds no text.")
    return text
