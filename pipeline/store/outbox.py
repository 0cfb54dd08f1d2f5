"""SQL for the ``outbox``: messages to send after the decision that caused them has been committed.

A row is written in the SAME transaction as the decision (``enqueue``, keyed UNIQUE by document
and kind), so a decision without its notice, or a notice without its decision, cannot exist; a
retried decision finds the row already there. Sending happens after the commit: ``claim_due``
locks one due row (``SKIP LOCKED``: two senders never take the same row), the caller sends it and
marks it sent, or records the failure with the time of the next attempt, in that transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from pipeline.store.db import Connection

__all__ = [
    "OutboxRow",
    "claim_due",
    "enqueue",
    "for_document",
    "mark_sent",
    "mark_withheld",
    "pending_count",
    "record_failure",
]


@dataclass(frozen=True)
class OutboxRow:
    id: UUID
    document_id: UUID
    kind: str
    recipient: str
    mail_id: UUID | None
    message_id: str
    status: str
    attempts: int
    last_error: str | None
    next_attempt_at: datetime
    created_at: datetime
    sent_at: datetime | None


_COLUMNS = ", ".join(OutboxRow.__dataclass_fields__)


def _row(row: dict[str, Any]) -> OutboxRow:
    return OutboxRow(**row)


def enqueue(
    conn: Connection,
    *,
    id: UUID,
    document_id: UUID,
    kind: str,
    recipient: str,
    message_id: str,
    mail_id: UUID | None = None,
) -> bool:
    """Add a message unless this document already has one of this kind; True when added."""
    row = conn.execute(
        "INSERT INTO outbox (id, document_id, kind, recipient, mail_id, message_id) VALUES (%s, %s, %s, %s, %s, %s)"
        " ON CONFLICT (document_id, kind) DO NOTHING RETURNING id",
        (id, document_id, kind, recipient, mail_id, message_id),
    ).fetchone()
    return row is not None


def claim_due(conn: Connection, kinds: tuple[str, ...] | None = None) -> OutboxRow | None:
    """The oldest pending row that is due, locked until the caller's transaction ends; rows others hold are skipped."""
    row = conn.execute(
        f"SELECT {_COLUMNS} FROM outbox WHERE status = 'pending' AND next_attempt_at <= now()"
        " AND (%s::text[] IS NULL OR kind = ANY(%s::text[]))"
        " ORDER BY next_attempt_at, created_at, id LIMIT 1 FOR UPDATE SKIP LOCKED",
        (list(kinds) if kinds else None, list(kinds) if kinds else None),
    ).fetchone()
    return _row(row) if row else None


def mark_sent(conn: Connection, outbox_id: UUID) -> None:
    conn.execute(
        "UPDATE outbox SET status = 'sent', sent_at = now(), attempts = attempts + 1, last_error = NULL WHERE id = %s",
        (outbox_id,),
    )


def mark_withheld(conn: Connection, outbox_id: UUID, reason: str) -> None:
    """Never to be sent (the reason says why); kept, so the decision not to send is on record."""
    conn.execute("UPDATE outbox SET status = 'withheld', last_error = %s WHERE id = %s", (reason[:2000], outbox_id))


def record_failure(conn: Connection, outbox_id: UUID, error: str, retry_after: timedelta) -> None:
    """The row stays pending (a failed send is retried, never dropped), due again after ``retry_after``."""
    conn.execute(
        "UPDATE outbox SET attempts = attempts + 1, last_error = %s, next_attempt_at = now() + %s WHERE id = %s",
        (error[:2000], retry_after, outbox_id),
    )


def for_document(conn: Connection, document_id: UUID) -> list[OutboxRow]:
    rows = conn.execute(
        f"SELECT {_COLUMNS} FROM outbox WHERE document_id = %s ORDER BY created_at, id", (document_id,)
    ).fetchall()
    return [_row(r) for r in rows]


def pending_count(conn: Connection) -> int:
    row = conn.execute("SELECT count(*) AS n FROM outbox WHERE status = 'pending'").fetchone()
    return int(row["n"]) if row else 0
