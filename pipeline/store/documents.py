"""SQL for the ``documents`` table: intake rows, status updates, claims and the overview queries."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from pipeline.store.db import Connection

__all__ = [
    "DocumentRow",
    "NewDocument",
    "children",
    "claimable",
    "first_processed_with_sha256",
    "get_document",
    "id_for_source_key",
    "insert_document",
    "list_documents",
    "lock_document",
    "mark_claimed",
    "set_status",
]


@dataclass(frozen=True)
class NewDocument:
    id: UUID
    source: str
    source_key: str
    sender: str | None
    sha256: str
    size: int
    media_type: str
    filename: str | None
    object_key: str
    parent_id: UUID | None = None


@dataclass(frozen=True)
class DocumentRow:
    id: UUID
    source: str
    source_key: str
    sender: str | None
    received_at: datetime
    sha256: str
    size: int
    media_type: str
    filename: str | None
    object_key: str
    status: str
    status_reason: str | None
    duplicate_of: UUID | None
    parent_id: UUID | None
    attempts: int
    claimed_at: datetime | None
    claimed_by: str | None
    updated_at: datetime


_COLUMNS = ", ".join(DocumentRow.__dataclass_fields__)


def _row(row: dict[str, Any]) -> DocumentRow:
    return DocumentRow(**row)


def insert_document(conn: Connection, doc: NewDocument) -> bool:
    """Insert unless the source key is already in; True when this call created the row."""
    row = conn.execute(
        "INSERT INTO documents (id, source, source_key, sender, sha256, size, media_type, filename, object_key,"
        " parent_id) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)"
        " ON CONFLICT (source_key) DO NOTHING RETURNING id",
        (
            doc.id,
            doc.source,
            doc.source_key,
            doc.sender,
            doc.sha256,
            doc.size,
            doc.media_type,
            doc.filename,
            doc.object_key,
            doc.parent_id,
        ),
    ).fetchone()
    return row is not None


def id_for_source_key(conn: Connection, source_key: str) -> UUID | None:
    row = conn.execute("SELECT id FROM documents WHERE source_key = %s", (source_key,)).fetchone()
    return row["id"] if row else None


def children(conn: Connection, parent_id: UUID) -> list[UUID]:
    rows = conn.execute(
        # Member keys end in "#<index>": ordering by length first keeps #10 after #9.
        "SELECT id FROM documents WHERE parent_id = %s ORDER BY length(source_key), source_key",
        (parent_id,),
    ).fetchall()
    return [r["id"] for r in rows]


def get_document(conn: Connection, doc_id: UUID) -> DocumentRow | None:
    row = conn.execute(f"SELECT {_COLUMNS} FROM documents WHERE id = %s", (doc_id,)).fetchone()
    return _row(row) if row else None


def lock_document(conn: Connection, doc_id: UUID) -> DocumentRow | None:
    """The row, locked until the caller's transaction ends: concurrent advances wait here."""
    row = conn.execute(f"SELECT {_COLUMNS} FROM documents WHERE id = %s FOR UPDATE", (doc_id,)).fetchone()
    return _row(row) if row else None


def set_status(
    conn: Connection, doc_id: UUID, status: str, reason: str | None, *, duplicate_of: UUID | None = None
) -> None:
    conn.execute(
        "UPDATE documents SET status = %s, status_reason = %s, duplicate_of = COALESCE(%s, duplicate_of),"
        " updated_at = now() WHERE id = %s",
        (status, reason, duplicate_of, doc_id),
    )


def mark_claimed(conn: Connection, doc_id: UUID, worker: str) -> None:
    conn.execute(
        "UPDATE documents SET claimed_at = now(), claimed_by = %s, attempts = attempts + 1, updated_at = now()"
        " WHERE id = %s",
        (worker, doc_id),
    )


def claimable(conn: Connection, limit: int, stale_after: timedelta) -> list[DocumentRow]:
    """Received documents and processing ones whose claim went stale, locked; rows others hold are skipped."""
    rows = conn.execute(
        f"SELECT {_COLUMNS} FROM documents"
        " WHERE status = 'received'"
        "    OR (status = 'processing' AND (claimed_at IS NULL OR claimed_at < now() - %s))"
        " ORDER BY received_at, id LIMIT %s FOR UPDATE SKIP LOCKED",
        (stale_after, limit),
    ).fetchall()
    return [_row(r) for r in rows]


def first_processed_with_sha256(conn: Connection, sha256: str, exclude: UUID, statuses: Iterable[str]) -> UUID | None:
    """The earliest other document with the same bytes in one of ``statuses`` (the processed ones)."""
    row = conn.execute(
        "SELECT id FROM documents WHERE sha256 = %s AND id <> %s AND status = ANY(%s) ORDER BY received_at, id LIMIT 1",
        (sha256, exclude, list(statuses)),
    ).fetchone()
    return row["id"] if row else None


def list_documents(
    conn: Connection, *, limit: int = 100, statuses: Iterable[str] | None = None
) -> list[dict[str, Any]]:
    """The overview: one row per document with what AP staff sort and search by."""
    wanted = list(statuses) if statuses else None
    return conn.execute(
        "SELECT d.id, d.source, d.filename, d.received_at, d.status, d.status_reason, d.duplicate_of, d.parent_id,"
        " COALESCE(i.seller_name, s.name) AS supplier, i.invoice_number, i.issue_date, i.currency,"
        " i.total_with_vat AS gross_total, r.accepted"
        " FROM documents d"
        " LEFT JOIN invoices i ON i.document_id = d.id"
        " LEFT JOIN suppliers s ON s.id = i.supplier_id"
        " LEFT JOIN validation_reports r ON r.document_id = d.id"
        " WHERE %s::text[] IS NULL OR d.status = ANY(%s::text[])"
        " ORDER BY d.received_at DESC, d.id LIMIT %s",
        (wanted, wanted, limit),
    ).fetchall()
