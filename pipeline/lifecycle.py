"""A document's lifecycle: the statuses, the transitions allowed between them, and ``advance``.

``advance`` is the only way a status changes. It locks the document row, checks the transition
table, updates the row and appends the hash-chained event, all in one transaction: two workers
racing to finish the same document serialise on the row lock, and the second finds a transition
that is no longer allowed instead of overwriting the first one's verdict.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from typing import Any
from uuid import UUID

from pipeline.store import Connection, documents, events

__all__ = [
    "FINAL",
    "PROCESSED",
    "TRANSITIONS",
    "DocumentNotFound",
    "IllegalTransition",
    "Status",
    "advance",
    "entered",
    "record",
]


class Status(StrEnum):
    RECEIVED = "received"
    PROCESSING = "processing"
    ACCEPTED = "accepted"
    REJECTED = "rejected"
    DUPLICATE = "duplicate"
    NO_INVOICE = "no-invoice"
    FAILED = "failed"
    # Approval and booking export (later issues) continue from accepted.
    IN_APPROVAL = "in-approval"
    APPROVED = "approved"
    RETURNED = "returned"
    EXPORTED = "exported"


TRANSITIONS: Mapping[Status, frozenset[Status]] = {
    Status.RECEIVED: frozenset({Status.PROCESSING}),
    Status.PROCESSING: frozenset(
        {Status.ACCEPTED, Status.REJECTED, Status.DUPLICATE, Status.NO_INVOICE, Status.FAILED}
    ),
    Status.FAILED: frozenset({Status.PROCESSING}),  # reprocess, after the cause was fixed
    Status.ACCEPTED: frozenset({Status.IN_APPROVAL}),
    Status.IN_APPROVAL: frozenset({Status.APPROVED, Status.RETURNED}),
    Status.RETURNED: frozenset({Status.IN_APPROVAL}),  # corrected and sent round again
    Status.APPROVED: frozenset({Status.EXPORTED}),
}

# Processing has reached a verdict of its own (a duplicate points at one, a failure has none).
PROCESSED: frozenset[Status] = frozenset(
    {
        Status.ACCEPTED,
        Status.REJECTED,
        Status.NO_INVOICE,
        Status.IN_APPROVAL,
        Status.APPROVED,
        Status.RETURNED,
        Status.EXPORTED,
    }
)
# Nothing more happens to the document in the intake pipeline.
FINAL: frozenset[Status] = PROCESSED | {Status.DUPLICATE, Status.FAILED}


class DocumentNotFound(LookupError):
    pass


class IllegalTransition(ValueError):
    def __init__(self, doc_id: UUID, current: Status, to: Status) -> None:
        allowed = ", ".join(sorted(TRANSITIONS.get(current, frozenset()))) or "none"
        super().__init__(f"document {doc_id} is {current}: it cannot become {to} (allowed from {current}: {allowed})")
        self.current = current
        self.to = to


def advance(
    conn: Connection,
    doc_id: UUID,
    to: Status,
    actor: str,
    reason: str | None,
    data: Mapping[str, Any] | None = None,
    *,
    duplicate_of: UUID | None = None,
) -> events.Event:
    """Move the document to ``to`` if the table allows it; row and event in one transaction."""
    with conn.transaction():
        row = documents.lock_document(conn, doc_id)
        if row is None:
            raise DocumentNotFound(f"no document {doc_id}")
        current = Status(row.status)
        if to not in TRANSITIONS.get(current, frozenset()):
            raise IllegalTransition(doc_id, current, to)
        documents.set_status(conn, doc_id, to.value, reason, duplicate_of=duplicate_of)
        payload = dict(data or {})
        if duplicate_of is not None:
            payload["duplicate_of"] = str(duplicate_of)
        return events.append_event(
            conn,
            document_id=doc_id,
            actor=actor,
            kind="status",
            from_status=current.value,
            to_status=to.value,
            reason=reason,
            data=payload,
        )


def record(
    conn: Connection,
    doc_id: UUID | None,
    kind: str,
    actor: str,
    reason: str | None,
    data: Mapping[str, Any] | None = None,
) -> events.Event:
    """An event that changes no status (received, reclaimed, a warning about a new bank account …)."""
    return events.append_event(conn, document_id=doc_id, actor=actor, kind=kind, reason=reason, data=data)


def entered(conn: Connection, doc_id: UUID, actor: str, data: Mapping[str, Any] | None = None) -> events.Event:
    """The first event of a document: it was taken in with status received (the row's default)."""
    return events.append_event(
        conn, document_id=doc_id, actor=actor, kind="status", to_status=Status.RECEIVED.value, data=data
    )
