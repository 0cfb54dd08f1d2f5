"""Reading an upload from a request: a raw body or one multipart ``file`` field, never more than the limit.

The limit is enforced on the bytes as they arrive (a declared Content-Length over it is refused
before reading anything), so an oversized or endless body costs at most ``limit`` bytes of memory
and never reaches the pipeline. Multipart bodies get a little room for boundaries and the other
form fields; the file inside is then held to the limit itself.
"""

from __future__ import annotations

import email.message
import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import PurePosixPath, PureWindowsPath

from starlette.datastructures import FormData, UploadFile
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.types import Message

__all__ = [
    "MULTIPART",
    "RAW_MEDIA_TYPES",
    "Upload",
    "UploadProblem",
    "clean_filename",
    "media_type",
    "read_form",
    "read_upload",
]

RAW_MEDIA_TYPES = frozenset(
    {"application/xml", "text/xml", "application/pdf", "application/zip", "application/octet-stream"}
)
MULTIPART = "multipart/form-data"
_FORM_OVERHEAD = 64 * 1024  # boundaries, part headers and the small fields next to the file
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


@dataclass(frozen=True)
class Upload:
    data: bytes
    filename: str | None
    sha256: str


class UploadProblem(Exception):
    """Why an upload cannot be taken: an HTTP status, a stable code and a message for people."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


class _TooLarge(Exception):
    pass


def _too_large(limit: int) -> UploadProblem:
    return UploadProblem(413, "too_large", f"the upload is larger than the limit of {limit} bytes")


def media_type(request: Request) -> str:
    return request.headers.get("content-type", "").split(";")[0].strip().lower()


def _declared_length(request: Request) -> int | None:
    try:
        return int(request.headers["content-length"])
    except (KeyError, ValueError):
        return None


def _limited(request: Request, cap: int) -> Request:
    """The same request whose body stream raises once more than ``cap`` bytes came in."""
    seen = 0
    receive = request.receive

    async def limited_receive() -> Message:
        nonlocal seen
        message = await receive()
        if message["type"] == "http.request":
            seen += len(message.get("body", b""))
            if seen > cap:
                raise _TooLarge
        return message

    return Request(request.scope, limited_receive)


def clean_filename(name: str | None) -> str | None:
    """The last path part of a client's file name, without control characters: a label, never a path."""
    if not name:
        return None
    base = PureWindowsPath(PurePosixPath(name).name).name
    base = _CONTROL.sub("", base).strip()[:255]
    return base or None


def _disposition_filename(headers: Mapping[str, str]) -> str | None:
    value = headers.get("content-disposition")
    if not value:
        return None
    message = email.message.Message()
    message["content-disposition"] = value
    return clean_filename(message.get_filename())


async def _read_raw(request: Request, limit: int) -> Upload:
    body = bytearray()
    try:
        async for chunk in _limited(request, limit).stream():
            body.extend(chunk)
    except _TooLarge:
        raise _too_large(limit) from None
    if not body:
        raise UploadProblem(400, "empty_body", "the request body is empty: send the invoice file as the body")
    data = bytes(body)
    return Upload(data, _disposition_filename(request.headers), hashlib.sha256(data).hexdigest())


async def read_form(request: Request, limit: int, *, max_fields: int = 5) -> FormData:
    """The request's form (multipart or urlencoded), refused once the body exceeds ``limit`` plus overhead."""
    cap = limit + _FORM_OVERHEAD
    declared = _declared_length(request)
    if declared is not None and declared > cap:
        raise _too_large(limit)
    try:
        return await _limited(request, cap).form(max_files=1, max_fields=max_fields)
    except _TooLarge:
        raise _too_large(limit) from None
    except HTTPException as exc:  # starlette's word for a malformed form or too many parts
        raise UploadProblem(400, "malformed_form", f"the form cannot be read: {exc.detail}") from None


async def _file_of(form: FormData, limit: int) -> Upload:
    field = form.get("file")
    if not isinstance(field, UploadFile):
        raise UploadProblem(400, "missing_file", "the form has no file in a field named 'file'")
    data = await field.read(limit + 1)
    if len(data) > limit:
        raise _too_large(limit)
    if not data:
        raise UploadProblem(400, "empty_file", "the uploaded file is empty")
    return Upload(data, clean_filename(field.filename), hashlib.sha256(data).hexdigest())


async def read_upload(request: Request, limit: int, form: FormData | None = None) -> Upload:
    """The uploaded file: the whole body for a file media type, the ``file`` field for multipart.

    Raises ``UploadProblem`` for a body over ``limit`` (413), an empty one (400) and any other
    media type (415). ``form`` is a multipart form the caller has already read (to check a field).
    """
    if form is not None:
        return await _file_of(form, limit)
    kind = media_type(request)
    if kind == MULTIPART:
        parsed = await read_form(request, limit)
        try:
            return await _file_of(parsed, limit)
        finally:
            await parsed.close()  # removes the spooled temporary file at once
    if kind not in RAW_MEDIA_TYPES:
        allowed = ", ".join(sorted(RAW_MEDIA_TYPES | {MULTIPART}))
        raise UploadProblem(
            415, "unsupported_media_type", f"Content-Type {kind or '(none)'!r} is not accepted; send one of {allowed}"
        )
    declared = _declared_length(request)
    if declared is not None and declared > limit:
        raise _too_large(limit)
    return await _read_raw(request, limit)
