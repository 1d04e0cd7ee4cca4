"""An uploaded image as bytes in memory: the request body streamed in up to a limit and a
deadline, and, for a multipart form, parsed as it arrives, keeping only the field "file".
Nothing a client sends is written to disk (Starlette's own form parsing spools files over 1 MB
to a temporary file, so it is not used), and a hostile form costs little: past MAX_PARTS parts,
it is refused at once instead of parsed whole (python-multipart limits each part's headers itself)."""

from __future__ import annotations

import anyio
import anyio.to_thread
from python_multipart.exceptions import FormParserError
from python_multipart.multipart import MultipartParser, parse_options_header
from starlette.requests import Request

from lenet5.errors import Lenet5Error

MAX_IMAGE_BYTES = 10 * 1024 * 1024  # larger uploads get 413
FORM_OVERHEAD = 64 * 1024  # room for a multipart form's boundaries and headers around the file
FIELD = "file"  # the form field that holds the image
MAX_PARTS = 8  # a form with more parts is refused (the page sends one)
BODY_SECONDS = 30.0  # the whole body must arrive within this (a trickling client is cut off)


class UploadTooLarge(Lenet5Error):
    """An upload over MAX_IMAGE_BYTES (HTTP 413)."""


class UploadTooSlow(Lenet5Error):
    """A body that took longer than BODY_SECONDS to arrive (HTTP 408)."""


def too_large() -> UploadTooLarge:
    return UploadTooLarge(f"upload too large: the limit is {MAX_IMAGE_BYTES // (1024 * 1024)} MB")


async def read_upload(request: Request) -> tuple[str, bytes]:
    """(name, bytes) of the uploaded image: the field "file" of a multipart/form-data body (named
    by its filename), else the body itself (a raw image POST, named "upload")."""
    kind, options = parse_options_header(request.headers.get("content-type", ""))
    form = FormFile(options.get(b"boundary", b"")) if kind.lower() == b"multipart/form-data" else None
    limit = MAX_IMAGE_BYTES + FORM_OVERHEAD
    length = request.headers.get("content-length", "")
    if length.isdigit() and int(length) > limit:
        raise too_large()
    chunks, size = [], 0
    try:
        with anyio.fail_after(BODY_SECONDS):
            async for chunk in request.stream():
                size += len(chunk)
                if size > limit:
                    raise too_large()
                if form is not None:
                    await anyio.to_thread.run_sync(form.write, chunk)  # parsing off the event loop
                else:
                    chunks.append(chunk)
    except TimeoutError:
        raise UploadTooSlow(f"the upload took over {BODY_SECONDS:g} s to arrive") from None
    name, data = form.result() if form is not None else ("upload", b"".join(chunks))
    if len(data) > MAX_IMAGE_BYTES:
        raise too_large()
    return name, data


class FormFile:
    """The field "file" of a multipart/form-data body, fed in chunks (`write`), then `result()`."""

    def __init__(self, boundary: bytes):
        if not boundary:
            raise Lenet5Error("multipart/form-data without a boundary in its Content-Type")
        self.parts = 0
        self.field, self.value = bytearray(), bytearray()
        self.headers: dict[bytes, bytes] = {}
        self.keeping = False  # inside the "file" part
        self.found: tuple[str, bytearray] | None = None
        self.ended = False
        callbacks = {
            "on_part_begin": self._part_begin,
            "on_header_field": lambda data, start, end: self.field.extend(data[start:end]),
            "on_header_value": lambda data, start, end: self.value.extend(data[start:end]),
            "on_header_end": self._header_end,
            "on_headers_finished": self._headers_finished,
            "on_part_data": self._data,
            "on_end": self._end,
        }
        try:
            self.parser = MultipartParser(boundary, callbacks)
        except FormParserError as e:  # e.g. a boundary over 256 characters
            raise Lenet5Error(f"malformed multipart form ({e})") from None

    def write(self, chunk: bytes) -> None:
        try:
            self.parser.write(chunk)
        except FormParserError as e:
            raise Lenet5Error(f"malformed multipart form ({e})") from None

    def result(self) -> tuple[str, bytes]:
        try:
            self.parser.finalize()
        except FormParserError as e:
            raise Lenet5Error(f"malformed multipart form ({e})") from None
        if not self.ended:
            raise Lenet5Error("multipart form cut short (no closing boundary)")
        if self.found is None:
            raise Lenet5Error(f'no image in the form: send it as the field "{FIELD}"')
        name, data = self.found
        return name, bytes(data)

    def _part_begin(self) -> None:
        self.parts += 1
        if self.parts > MAX_PARTS:
            raise Lenet5Error(f"a form of more than {MAX_PARTS} parts is refused: send the image as the field \"{FIELD}\"")
        self.headers, self.keeping = {}, False

    def _header_end(self) -> None:
        self.headers[bytes(self.field).lower()] = bytes(self.value)
        self.field, self.value = bytearray(), bytearray()

    def _headers_finished(self) -> None:
        _, disposition = parse_options_header(self.headers.get(b"content-disposition", b""))
        if disposition.get(b"name") == FIELD.encode() and self.found is None:
            filename = disposition.get(b"filename", b"").decode("utf-8", "replace")[:100]
            self.found, self.keeping = (filename or "upload", bytearray()), True

    def _data(self, data: bytes, start: int, end: int) -> None:
        if self.keeping:
            self.found[1].extend(data[start:end])

    def _end(self) -> None:
        self.ended = True
