"""An uploaded image as bytes in memory: the request body read up to a limit, and the file
taken out of a multipart form. Nothing a client sends is written to disk (Starlette's own form
parsing spools files over 1 MB to a temporary file, so it is not used)."""

from __future__ import annotations

from python_multipart.exceptions import MultipartParseError
from python_multipart.multipart import MultipartParser, parse_options_header
from starlette.requests import Request

from lenet5.errors import Lenet5Error

MAX_IMAGE_BYTES = 10 * 1024 * 1024  # larger uploads get 413
FORM_OVERHEAD = 64 * 1024  # room for a multipart form's boundaries and headers around the file
FIELD = "file"  # the form field that holds the image


class UploadTooLarge(Lenet5Error):
    """An upload over MAX_IMAGE_BYTES (HTTP 413)."""


def too_large() -> UploadTooLarge:
    return UploadTooLarge(f"upload too large: the limit is {MAX_IMAGE_BYTES // (1024 * 1024)} MB")


async def read_body(request: Request) -> bytes:
    """The whole request body, refused as soon as it passes the limit (by its Content-Length,
    or while it streams in when it has none)."""
    limit = MAX_IMAGE_BYTES + FORM_OVERHEAD
    length = request.headers.get("content-length", "")
    if length.isdigit() and int(length) > limit:
        raise too_large()
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise too_large()
        chunks.append(chunk)
    return b"".join(chunks)


def image_bytes(body: bytes, content_type: str) -> tuple[str, bytes]:
    """(name, bytes) of the uploaded image: the form field "file" of a multipart/form-data body
    (named by its filename), else the body itself (a raw image POST, named "upload")."""
    kind, options = parse_options_header(content_type)
    if kind != b"multipart/form-data":
        data, name = body, "upload"
    else:
        name, data = form_file(body, options.get(b"boundary", b""))
    if len(data) > MAX_IMAGE_BYTES:
        raise too_large()
    return name, data


def form_file(body: bytes, boundary: bytes) -> tuple[str, bytes]:
    """(filename, bytes) of the field "file" of a multipart/form-data body."""
    if not boundary:
        raise Lenet5Error("multipart/form-data without a boundary in its Content-Type")
    parts: list[tuple[dict[bytes, bytes], bytearray]] = []
    header: list[bytearray] = []
    ended = []

    def on_part_begin() -> None:
        parts.append(({}, bytearray()))

    def on_header_begin() -> None:
        header[:] = [bytearray(), bytearray()]

    def on_header_end() -> None:
        parts[-1][0][bytes(header[0]).lower()] = bytes(header[1])

    callbacks = {
        "on_part_begin": on_part_begin,
        "on_header_begin": on_header_begin,
        "on_header_field": lambda data, start, end: header[0].extend(data[start:end]),
        "on_header_value": lambda data, start, end: header[1].extend(data[start:end]),
        "on_header_end": on_header_end,
        "on_part_data": lambda data, start, end: parts[-1][1].extend(data[start:end]),
        "on_end": lambda: ended.append(True),
    }
    try:
        parser = MultipartParser(boundary, callbacks)
        parser.write(body)
        parser.finalize()
    except MultipartParseError as e:
        raise Lenet5Error(f"malformed multipart form ({e})") from None
    if not ended:
        raise Lenet5Error("multipart form cut short (no closing boundary)")
    for headers, data in parts:
        _, disposition = parse_options_header(headers.get(b"content-disposition", b""))
        if disposition.get(b"name") == FIELD.encode():
            filename = disposition.get(b"filename", b"").decode("utf-8", "replace")[:100]
            return filename or "upload", bytes(data)
    raise Lenet5Error(f'no image in the form: send it as the field "{FIELD}"')
