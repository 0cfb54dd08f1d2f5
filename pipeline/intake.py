"""Intake: the one function every connector calls to hand a file to the pipeline.

Order, for every connector (mail, upload, folder, command line):

1. store the raw bytes in the object store under their SHA-256 (a ZIP's members too);
2. ``INSERT … ON CONFLICT (source_key) DO NOTHING``, the ZIP and its members in one transaction:
   no row back means "already in", and the existing ids are returned with ``created=False``;
3. the connector then applies its post-action (move the mail, delete the dropped file).

A crash between 1 and 2 leaves an unreferenced object that the retry finds in place; a crash
after 2 makes the retry see "already in". Nothing is lost and nothing is taken in twice.
"""

from __future__ import annotations

import hashlib
import io
import zipfile
from dataclasses import dataclass
from pathlib import PurePosixPath
from uuid import UUID, uuid4

from pipeline.lifecycle import entered
from pipeline.settings import Settings
from pipeline.store import TransientError, connect, documents, objects_for, transient_guard
from pipeline.store.documents import NewDocument

__all__ = [
    "IntakeRefused",
    "Member",
    "SubmitResult",
    "TransientError",
    "ZipRefused",
    "media_type_of",
    "submit",
    "unpack_zip",
]

ZIP_MEDIA_TYPE = "application/zip"


@dataclass(frozen=True)
class SubmitResult:
    document_ids: tuple[UUID, ...]  # a ZIP first, then its members in archive order
    created: bool  # False: the source key was already in, these are the existing documents


class IntakeRefused(ValueError):
    """The file is not taken in at all (too large); nothing was stored."""


class ZipRefused(ValueError):
    """The archive is not unpacked; it stays as one document, rejected with this reason."""


@dataclass(frozen=True)
class Member:
    index: int
    name: str
    data: bytes


def media_type_of(data: bytes, filename: str | None = None) -> str:
    """What the bytes are, by their first bytes; the file name only breaks ties."""
    head = data[:1024].lstrip(b"\xef\xbb\xbf \t\r\n")
    if data.startswith(b"%PDF-"):
        return "application/pdf"
    if data.startswith(b"PK\x03\x04") or data.startswith(b"PK\x05\x06"):
        return ZIP_MEDIA_TYPE
    if head.startswith(b"<"):
        return "application/xml"
    if filename and filename.lower().endswith(".xml"):
        return "application/xml"
    return "application/octet-stream"


def unpack_zip(data: bytes, *, max_members: int, max_total_bytes: int) -> list[Member]:
    """The archive's files, or ZipRefused when it is unsafe or exceeds the limits.

    Sizes are enforced while decompressing, because the sizes a ZIP declares can lie. Member names
    are only ever labels (nothing is written to disk), but a name that climbs out of the archive
    (``../``, absolute paths) marks the archive as hostile, and nested archives are not opened.
    """
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        infos = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, EOFError) as exc:
        raise ZipRefused(f"ZIP archive cannot be read: {exc}") from None
    files = [i for i in infos if not i.is_dir() and not i.filename.startswith("__MACOSX/")]
    if len(files) > max_members:
        raise ZipRefused(f"ZIP archive has {len(files)} files, more than the limit of {max_members}")
    for info in files:
        parts = PurePosixPath(info.filename.replace("\\", "/")).parts
        if info.filename.startswith(("/", "\\")) or ".." in parts or (parts and ":" in parts[0]):
            raise ZipRefused(f"ZIP archive refused: member name {info.filename!r} points outside the archive")
        if info.flag_bits & 0x1:
            raise ZipRefused(f"ZIP archive refused: member {info.filename!r} is encrypted")
        if info.filename.lower().endswith(".zip"):
            raise ZipRefused(f"ZIP archive refused: member {info.filename!r} is itself a ZIP archive (not unpacked)")
    members: list[Member] = []
    budget = max_total_bytes
    for index, info in enumerate(files):
        try:
            with archive.open(info) as stream:
                content = stream.read(budget + 1)
        except (zipfile.BadZipFile, NotImplementedError, OSError, EOFError, RuntimeError) as exc:
            raise ZipRefused(f"ZIP archive refused: member {info.filename!r} cannot be unpacked: {exc}") from None
        if len(content) > budget:
            raise ZipRefused(f"ZIP archive refused: unpacked size exceeds the limit of {max_total_bytes} bytes")
        budget -= len(content)
        if media_type_of(content) == ZIP_MEDIA_TYPE:
            raise ZipRefused(f"ZIP archive refused: member {info.filename!r} is itself a ZIP archive (not unpacked)")
        members.append(Member(index, info.filename, content))
    return members


def submit(
    settings: Settings,
    data: bytes,
    *,
    filename: str | None,
    source: str,
    sender: str | None,
    source_key: str | None = None,
) -> SubmitResult:
    """Take a file in: store it, record it under its idempotency key, unpack a ZIP into member documents.

    ``source_key`` defaults to ``{source}:{sha256}`` (e.g. ``submit:…``), so the same bytes through
    the same channel are taken in once. Raises ``TransientError`` when a service is unreachable
    (safe to call again) and ``IntakeRefused`` for a file over the size limit.
    """
    if len(data) > settings.max_upload_bytes:
        raise IntakeRefused(
            f"{filename or 'file'}: {len(data)} bytes, more than the limit of {settings.max_upload_bytes}"
        )
    sha256 = hashlib.sha256(data).hexdigest()
    key = source_key or f"{source}:{sha256}"
    with transient_guard("database"), connect(settings) as conn:
        # A shortcut for connectors that see the same file again and again (a folder, a mailbox):
        # no unpacking, no object-store calls. The insert below stays the real guard.
        existing = documents.id_for_source_key(conn, key)
        if existing is not None:
            return SubmitResult((existing, *documents.children(conn, existing)), created=False)
    media_type = media_type_of(data, filename)
    members: list[Member] = []
    if media_type == ZIP_MEDIA_TYPE:
        try:
            members = unpack_zip(
                data, max_members=settings.max_zip_members, max_total_bytes=settings.max_unzipped_bytes
            )
        except ZipRefused:
            members = []  # kept as one document; processing rejects it with the same reason
    with transient_guard("object store"):
        store = objects_for(settings)
        object_key = store.put_original(data, sha256)
        member_docs = []
        parent_id = uuid4()
        for member in members:
            member_sha = hashlib.sha256(member.data).hexdigest()
            member_docs.append(
                NewDocument(
                    id=uuid4(),
                    source=source,
                    # The archive's key plus the position: stable for the same archive, unique inside it.
                    source_key=f"{key}#{member.index}",
                    sender=sender,
                    sha256=member_sha,
                    size=len(member.data),
                    media_type=media_type_of(member.data, member.name),
                    filename=member.name,
                    object_key=store.put_original(member.data, member_sha),
                    parent_id=parent_id,
                )
            )
    parent = NewDocument(
        id=parent_id,
        source=source,
        source_key=key,
        sender=sender,
        sha256=sha256,
        size=len(data),
        media_type=media_type,
        filename=filename,
        object_key=object_key,
    )
    with transient_guard("database"), connect(settings) as conn, conn.transaction():
        if not documents.insert_document(conn, parent):
            existing = documents.id_for_source_key(conn, key)
            assert existing is not None  # the row whose key refused ours
            return SubmitResult((existing, *documents.children(conn, existing)), created=False)
        entered(conn, parent.id, f"intake:{source}", _facts(parent))
        for doc in member_docs:
            # A new parent means new member keys too, so these inserts cannot conflict.
            documents.insert_document(conn, doc)
            entered(conn, doc.id, f"intake:{source}", _facts(doc))
    return SubmitResult((parent.id, *(d.id for d in member_docs)), created=True)


def _facts(doc: NewDocument) -> dict[str, object]:
    return {
        "source_key": doc.source_key,
        "sha256": doc.sha256,
        "size": doc.size,
        "filename": doc.filename,
        "media_type": doc.media_type,
        "parent_id": doc.parent_id,
    }
