"""SQL for mail intake: ``mail_messages`` (one row per message, two idempotency keys) and ``mail_attachments``.

A message's row is inserted with ``ON CONFLICT DO NOTHING``: no row back means the message (by its
IMAP identity or by its Message-ID) is already in, and the existing row's status says what to do.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from psycopg.rows import tuple_row

from pipeline.store.db import Connection

__all__ = [
    "DECIDED",
    "MailRow",
    "NewMail",
    "attachments",
    "decide",
    "document_statuses",
    "find_by_uids",
    "find_message",
    "get_message",
    "insert_message",
    "link_attachments",
    "lock_message",
    "mailbox_lock",
    "mark_moved",
    "messages",
    "record_failure",
]

# Statuses that name the folder the mail belongs in; "failed" is one of them but stays retryable.
DECIDED = frozenset({"processed", "rejected", "no-invoice", "failed"})


@dataclass(frozen=True)
class NewMail:
    id: UUID
    mailbox: str
    folder: str
    uidvalidity: int
    uid: int
    message_key: str
    message_id: str | None
    sha256: str
    size: int
    sender: str | None
    notify_to: str | None
    subject: str | None


@dataclass(frozen=True)
class MailRow(NewMail):
    """A stored mail: what was taken in, and what became of it."""

    received_at: datetime
    status: str
    status_reason: str | None
    attempts: int
    decided_at: datetime | None
    moved_to: str | None
    moved_at: datetime | None
    updated_at: datetime


_COLUMNS = ", ".join(MailRow.__dataclass_fields__)


def _row(row: dict[str, Any]) -> MailRow:
    return MailRow(**row)


def insert_message(conn: Connection, mail: NewMail) -> MailRow | None:
    """Insert unless either key is already in; the new row, or None when the mail was already in."""
    row = conn.execute(
        "INSERT INTO mail_messages (id, mailbox, folder, uidvalidity, uid, message_key, message_id, sha256, size,"
        " sender, notify_to, subject) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)"
        # No conflict target: both unique constraints mean "already in".
        f" ON CONFLICT DO NOTHING RETURNING {_COLUMNS}",
        (
            mail.id,
            mail.mailbox,
            mail.folder,
            mail.uidvalidity,
            mail.uid,
            mail.message_key,
            mail.message_id,
            mail.sha256,
            mail.size,
            mail.sender,
            mail.notify_to,
            mail.subject,
        ),
    ).fetchone()
    return _row(row) if row else None


def find_message(
    conn: Connection, mailbox: str, uidvalidity: int, uid: int, message_key: str | None = None
) -> MailRow | None:
    """The row for this IMAP identity, else the row of the same message seen under another UID."""
    row = conn.execute(
        f"SELECT {_COLUMNS} FROM mail_messages WHERE mailbox = %s AND uidvalidity = %s AND uid = %s",
        (mailbox, uidvalidity, uid),
    ).fetchone()
    if row is None and message_key is not None:
        row = conn.execute(
            f"SELECT {_COLUMNS} FROM mail_messages WHERE mailbox = %s AND message_key = %s", (mailbox, message_key)
        ).fetchone()
    return _row(row) if row else None


def find_by_uids(conn: Connection, mailbox: str, uidvalidity: int, uids: Sequence[int]) -> dict[int, MailRow]:
    """The rows of these UIDs (one query for a whole folder listing), keyed by UID."""
    rows = conn.execute(
        f"SELECT {_COLUMNS} FROM mail_messages WHERE mailbox = %s AND uidvalidity = %s AND uid = ANY(%s)",
        (mailbox, uidvalidity, list(uids)),
    ).fetchall()
    return {r["uid"]: _row(r) for r in rows}


def get_message(conn: Connection, mail_id: UUID) -> MailRow | None:
    row = conn.execute(f"SELECT {_COLUMNS} FROM mail_messages WHERE id = %s", (mail_id,)).fetchone()
    return _row(row) if row else None


def lock_message(conn: Connection, mail_id: UUID) -> MailRow | None:
    """The row, locked until the caller's transaction ends: two pollers deciding one mail serialise here."""
    row = conn.execute(f"SELECT {_COLUMNS} FROM mail_messages WHERE id = %s FOR UPDATE", (mail_id,)).fetchone()
    return _row(row) if row else None


def messages(conn: Connection, mailbox: str | None = None, *, limit: int = 1000) -> list[MailRow]:
    rows = conn.execute(
        f"SELECT {_COLUMNS} FROM mail_messages WHERE %s::text IS NULL OR mailbox = %s"
        " ORDER BY received_at, id LIMIT %s",
        (mailbox, mailbox, limit),
    ).fetchall()
    return [_row(r) for r in rows]


def link_attachments(conn: Connection, mail_id: UUID, links: Sequence[tuple[int, UUID, str | None]]) -> None:
    """Which document each part (position, document, file name) of the mail became; repeating changes nothing."""
    if not links:
        return
    with conn.cursor() as cur:
        cur.executemany(
            "INSERT INTO mail_attachments (mail_id, position, document_id, filename) VALUES (%s, %s, %s, %s)"
            " ON CONFLICT (mail_id, position) DO NOTHING",
            [(mail_id, position, doc_id, filename) for position, doc_id, filename in links],
        )


def attachments(conn: Connection, mail_id: UUID) -> list[tuple[int, UUID]]:
    rows = conn.execute(
        "SELECT position, document_id FROM mail_attachments WHERE mail_id = %s ORDER BY position", (mail_id,)
    ).fetchall()
    return [(r["position"], r["document_id"]) for r in rows]


def document_statuses(conn: Connection, document_ids: Iterable[UUID], *, effective: bool = False) -> dict[UUID, str]:
    """The documents' statuses; ``effective``: a duplicate of a rejected or no-invoice document counts as that.

    A supplier sending the same broken file again gets a duplicate, and that mail belongs with
    the rejected ones, not with the invoices taken in.
    """
    ids = list(document_ids)
    if not ids:
        return {}
    if not effective:
        rows = conn.execute("SELECT id, status FROM documents WHERE id = ANY(%s)", (ids,)).fetchall()
        return {r["id"]: r["status"] for r in rows}
    rows = conn.execute(
        "SELECT d.id, CASE WHEN d.status = 'duplicate' AND o.status IN ('rejected', 'no-invoice') THEN o.status"
        " ELSE d.status END AS status"
        " FROM documents d LEFT JOIN documents o ON o.id = d.duplicate_of WHERE d.id = ANY(%s)",
        (ids,),
    ).fetchall()
    return {r["id"]: r["status"] for r in rows}


def decide(conn: Connection, mail_id: UUID, status: str, reason: str | None) -> None:
    """Record the mail's outcome (the folder it belongs in); the caller holds the row lock."""
    if status not in DECIDED:
        raise ValueError(f"not an outcome for a mail: {status!r}")
    conn.execute(
        "UPDATE mail_messages SET status = %s, status_reason = %s, decided_at = now(), moved_to = NULL,"
        " moved_at = NULL, updated_at = now() WHERE id = %s",
        (status, reason, mail_id),
    )


def record_failure(conn: Connection, mail_id: UUID, reason: str, *, give_up: bool) -> int:
    """Count a failed pass over the mail; ``give_up`` makes it ``failed`` (moved to the failed folder).

    Without giving up the status stays as it was (``received``), so the next pass simply tries
    again; the reason is kept either way. Returns the attempts so far.
    """
    row = conn.execute(
        "UPDATE mail_messages SET attempts = attempts + 1, status_reason = %s,"
        " status = CASE WHEN %s THEN 'failed' ELSE status END,"
        " decided_at = CASE WHEN %s THEN now() ELSE decided_at END,"
        " moved_to = NULL, moved_at = NULL, updated_at = now()"
        " WHERE id = %s RETURNING attempts",
        (reason[:2000], give_up, give_up, mail_id),
    ).fetchone()
    return int(row["attempts"]) if row else 0


def mark_moved(conn: Connection, mail_ids: Sequence[UUID], folder: str) -> None:
    """Record the post-action for mails moved together to ``folder``."""
    conn.execute(
        "UPDATE mail_messages SET moved_to = %s, moved_at = now(), updated_at = now() WHERE id = ANY(%s)",
        (folder, list(mail_ids)),
    )


def _lock_key(mailbox: str) -> int:
    # A signed 64-bit key from the name: one advisory lock per mailbox, shared by every process.
    return int.from_bytes(hashlib.sha256(f"eingang-mailbox:{mailbox}".encode()).digest()[:8], "big", signed=True)


@contextmanager
def mailbox_lock(conn: Connection, mailbox: str) -> Iterator[bool]:
    """Try to become the only poller of ``mailbox``; yields False when another process polls it now.

    A session lock on the caller's connection, held for the whole pass and released at the end
    (or when the connection dies). It only saves duplicate work: the keys above keep a second
    poller from taking anything in twice even without it.
    """
    key = _lock_key(mailbox)
    with conn.cursor(row_factory=tuple_row) as cur:
        got = cur.execute("SELECT pg_try_advisory_lock(%s)", (key,)).fetchone()
    held = bool(got and got[0])
    try:
        yield held
    finally:
        if held:
            with conn.cursor(row_factory=tuple_row) as cur:
                cur.execute("SELECT pg_advisory_unlock(%s)", (key,))
