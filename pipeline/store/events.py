"""The append-only event log, chained by hashes so that an edited or removed row shows.

Each event's ``hash`` is SHA-256 over the previous event's hash followed by the canonical JSON of
the event itself (its id, document, time, actor, kind, statuses, reason, data and that previous
hash). Appends are serialised by a transaction-scoped advisory lock: two writers reading the same
"last hash" would fork the chain. A database trigger refuses UPDATE, DELETE and TRUNCATE.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from pipeline.store.db import Connection, xact_lock

__all__ = ["GENESIS", "ChainBreak", "Event", "append_event", "canonical", "event_hash", "events_for", "verify_chain"]

GENESIS = "0" * 64  # the "previous hash" of the first event
CHAIN_LOCK = 0x45564E54  # "EVNT": held from reading the last hash until the new event is committed


@dataclass(frozen=True)
class Event:
    id: int
    document_id: UUID | None
    at: datetime
    actor: str
    kind: str
    from_status: str | None
    to_status: str | None
    reason: str | None
    data: Mapping[str, Any]
    prev_hash: str
    hash: str


@dataclass(frozen=True)
class ChainBreak:
    """The first event whose hash or link does not match: the log was changed after the fact."""

    event_id: int
    problem: str


def canonical(value: Any) -> str:
    """JSON with sorted keys and no insignificant whitespace: the bytes the hash is taken over."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def _as_json(data: Mapping[str, Any] | None) -> dict[str, Any]:
    # Round-trip once so the hashed form is exactly what jsonb gives back (Decimal, UUID, date → str).
    result: dict[str, Any] = json.loads(canonical(dict(data or {})))
    return result


def _row_payload(
    *,
    id: int,
    document_id: UUID | None,
    at: datetime,
    actor: str,
    kind: str,
    from_status: str | None,
    to_status: str | None,
    reason: str | None,
    data: Mapping[str, Any],
    prev_hash: str,
) -> dict[str, Any]:
    return {
        "id": id,
        "document_id": str(document_id) if document_id else None,
        "at": at.astimezone(UTC).isoformat(timespec="microseconds"),
        "actor": actor,
        "kind": kind,
        "from_status": from_status,
        "to_status": to_status,
        "reason": reason,
        "data": data,
        "prev_hash": prev_hash,
    }


def event_hash(prev_hash: str, payload: Mapping[str, Any]) -> str:
    return hashlib.sha256((prev_hash + canonical(payload)).encode("utf-8")).hexdigest()


def append_event(
    conn: Connection,
    *,
    document_id: UUID | None,
    actor: str,
    kind: str,
    from_status: str | None = None,
    to_status: str | None = None,
    reason: str | None = None,
    data: Mapping[str, Any] | None = None,
) -> Event:
    """Append one event to the chain, inside the caller's transaction (or a new one)."""
    with conn.transaction():
        xact_lock(conn, CHAIN_LOCK)
        last = conn.execute("SELECT hash FROM events ORDER BY id DESC LIMIT 1").fetchone()
        prev_hash = last["hash"] if last else GENESIS
        row = conn.execute("SELECT nextval(pg_get_serial_sequence('events', 'id')) AS id").fetchone()
        assert row is not None
        at = datetime.now(UTC)
        clean = _as_json(data)
        payload = _row_payload(
            id=row["id"],
            document_id=document_id,
            at=at,
            actor=actor,
            kind=kind,
            from_status=from_status,
            to_status=to_status,
            reason=reason,
            data=clean,
            prev_hash=prev_hash,
        )
        digest = event_hash(prev_hash, payload)
        conn.execute(
            "INSERT INTO events (id, document_id, at, actor, kind, from_status, to_status, reason, data,"
            " prev_hash, hash) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s::jsonb, %s, %s)",
            (
                row["id"],
                document_id,
                at,
                actor,
                kind,
                from_status,
                to_status,
                reason,
                canonical(clean),
                prev_hash,
                digest,
            ),
        )
    return Event(row["id"], document_id, at, actor, kind, from_status, to_status, reason, clean, prev_hash, digest)


def _event(row: Mapping[str, Any]) -> Event:
    return Event(**{k: row[k] for k in Event.__dataclass_fields__})


def events_for(conn: Connection, document_id: UUID) -> list[Event]:
    rows = conn.execute("SELECT * FROM events WHERE document_id = %s ORDER BY id", (document_id,)).fetchall()
    return [_event(r) for r in rows]


def _all_events(conn: Connection, batch: int = 1000) -> Iterator[Event]:
    # Keyset pages rather than one huge fetch: the log only grows.
    after = 0
    while True:
        rows = conn.execute("SELECT * FROM events WHERE id > %s ORDER BY id LIMIT %s", (after, batch)).fetchall()
        if not rows:
            return
        for row in rows:
            yield _event(row)
        after = rows[-1]["id"]


def verify_chain(conn: Connection) -> tuple[int, ChainBreak | None]:
    """Walk the whole log; return how many events were checked and the first break, if any."""
    prev = GENESIS
    count = 0
    for event in _all_events(conn):
        if event.prev_hash != prev:
            return count, ChainBreak(
                event.id, "its previous-hash link does not match the event before it (an event was removed or replaced)"
            )
        payload = _row_payload(
            id=event.id,
            document_id=event.document_id,
            at=event.at,
            actor=event.actor,
            kind=event.kind,
            from_status=event.from_status,
            to_status=event.to_status,
            reason=event.reason,
            data=event.data,
            prev_hash=event.prev_hash,
        )
        if event_hash(event.prev_hash, payload) != event.hash:
            return count, ChainBreak(event.id, "its content no longer matches its hash (the row was edited)")
        prev = event.hash
        count += 1
    return count, None
