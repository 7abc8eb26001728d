"""Streaming the ``file`` field out of a multipart body, without buffering it.

python-multipart's push parser is fed the request as it arrives; the bytes of
the ``file`` part come out as an async iterator, so the blob store can write
them (and stop at its size limit) while the client is still sending.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field

from python_multipart.exceptions import FormParserError
from python_multipart.multipart import MultipartParser, parse_options_header

from chatkitd.errors import InvalidRequest
from chatkitd.rest.input_policy import MAX_FIELD_BYTES, MAX_FIELDS, cut_name

FILE_FIELD = "file"


@dataclass
class FilePart:
    """What the ``file`` part's headers said; filled in as the body is parsed."""

    filename: str | None = None
    content_type: str | None = None
    seen: bool = False
    # The body's other (small) fields, such as the Files API's ``purpose``.
    fields: dict[str, str] = field(default_factory=dict)
    _headers: dict[bytes, bytes] = field(default_factory=dict)


@dataclass
class _ParserState:
    """What the push parser's callbacks share: the header being read, whether the
    current part is the file, and whether the closing boundary has come."""

    in_file: bool = False
    field_name: str | None = None
    field_value: bytes = b""
    header_name: bytes = b""
    header_value: bytes = b""
    ended: bool = False


def boundary_of(content_type: str | None) -> bytes:
    kind, params = parse_options_header(content_type or "")
    if kind != b"multipart/form-data" or b"boundary" not in params:
        raise InvalidRequest(
            "Uploads must be multipart/form-data with a 'file' field.",
            param="file",
            code="invalid_upload",
        )
    return params[b"boundary"]


async def file_chunks(
    body: AsyncIterator[bytes], content_type: str | None, part: FilePart
) -> AsyncIterator[bytes]:
    """The bytes of the ``file`` field; ``part`` gets its filename and content type."""
    parser_state = _ParserState()
    ready: list[bytes] = []

    def on_part_begin() -> None:
        part._headers = {}

    def on_header_field(data: bytes, start: int, end: int) -> None:
        parser_state.header_name += data[start:end]

    def on_header_value(data: bytes, start: int, end: int) -> None:
        parser_state.header_value += data[start:end]

    def on_header_end() -> None:
        part._headers[parser_state.header_name.lower()] = parser_state.header_value
        parser_state.header_name, parser_state.header_value = b"", b""

    def on_headers_finished() -> None:
        _, options = parse_options_header(part._headers.get(b"content-disposition", b""))
        is_file = options.get(b"name") == FILE_FIELD.encode() and not part.seen
        parser_state.in_file = is_file
        name = options.get(b"name")
        parser_state.field_name = name.decode("utf-8", "replace") if name and not is_file else None
        parser_state.field_value = b""
        if is_file:
            part.seen = True
            filename = options.get(b"filename")
            decoded = filename.decode("utf-8", "replace").replace("\x00", "") if filename else None
            part.filename = cut_name(decoded) if decoded else None
            content_type = part._headers.get(b"content-type")
            part.content_type = content_type.decode("latin-1").replace("\x00", "") if content_type else None

    def on_part_data(data: bytes, start: int, end: int) -> None:
        if parser_state.in_file:
            ready.append(data[start:end])
        elif parser_state.field_name is not None:
            parser_state.field_value += data[start:end]
            if len(parser_state.field_value) > MAX_FIELD_BYTES:
                raise InvalidRequest(
                    f"The multipart field '{parser_state.field_name}' is too long.",
                    param=parser_state.field_name,
                    code="invalid_upload",
                )

    def on_part_end() -> None:
        if parser_state.field_name is not None and len(part.fields) < MAX_FIELDS:
            part.fields[parser_state.field_name] = parser_state.field_value.decode("utf-8", "replace")
        parser_state.in_file = False
        parser_state.field_name = None

    def on_end() -> None:
        parser_state.ended = True

    parser = MultipartParser(
        boundary_of(content_type),
        {
            "on_part_begin": on_part_begin,
            "on_header_field": on_header_field,
            "on_header_value": on_header_value,
            "on_header_end": on_header_end,
            "on_headers_finished": on_headers_finished,
            "on_part_data": on_part_data,
            "on_part_end": on_part_end,
            "on_end": on_end,
        },
    )
    try:
        async for chunk in body:
            parser.write(chunk)
            while ready:
                yield ready.pop(0)
        parser.finalize()
    except FormParserError as error:
        raise InvalidRequest(
            f"The multipart body is malformed: {error}", param="file", code="invalid_upload"
        ) from None
    if not part.seen:
        raise InvalidRequest("The upload has no 'file' field.", param="file", code="invalid_upload")
    # Without its closing boundary the body was cut short: the bytes so far are not the file.
    if not parser_state.ended:
        raise InvalidRequest(
            "The multipart body ends before its closing boundary.", param="file", code="invalid_upload"
        )
