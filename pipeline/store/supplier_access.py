"""SQL for supplier uploads: upload accounts, their API tokens, upload-page sessions, their own documents.

Tokens and session ids are random secrets handed out once; only their SHA-256 is stored. A lookup
by hash is the comparison, so no secret is ever compared byte by byte in Python and a database
leak yields nothing that logs in. Everything a supplier may see is filtered by the document's
``source`` (``upload:{account}``), which intake writes in the same transaction as the document:
there is no separate ownership row that a crash could leave missing.
"""

from __future__ import annotations

import hashlib
import re
import secrets
import unicodedata
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

from pipeline.store.db import Connection

__all__ = [
    "ACCOUNT_NAME",
    "TOKEN_PREFIX",
    "Account",
    "Caller",
    "IssuedToken",
    "SessionGrant",
    "TokenRow",
    "account_handle",
    "add_account",
    "caller_for_session",
    "caller_for_token",
    "close_session",
    "create_token",
    "find_account",
    "list_accounts",
    "list_tokens",
    "open_session",
    "own_document",
    "own_documents",
    "revoke_token",
    "secret_hash",
    "upload_source",
]

ACCOUNT_NAME = re.compile(r"^[a-z0-9][a-z0-9._-]{0,62}$")  # as the CHECK in 003_supplier_tokens.sql
TOKEN_PREFIX = "egu_"  # "Eingang upload": lets secret scanners and people recognise a leaked token
_SHOWN = len(TOKEN_PREFIX) + 8  # the public part of a token: listed, and enough to name it for revoke
# last_used_at is for people ("is this token still in use?"): minute precision spares a write per request.
_TOUCH_EVERY = timedelta(minutes=1)
_GERMAN = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss"})


@dataclass(frozen=True)
class Account:
    id: UUID
    name: str
    display_name: str
    vat_id: str | None
    created_at: datetime
    created_by: str


@dataclass(frozen=True)
class TokenRow:
    id: UUID
    account: str
    prefix: str
    label: str | None
    created_at: datetime
    created_by: str
    last_used_at: datetime | None
    revoked_at: datetime | None
    revoked_by: str | None


@dataclass(frozen=True)
class IssuedToken:
    token: str  # shown once; only its hash is kept
    row: TokenRow


@dataclass(frozen=True)
class Caller:
    """Who is asking: the account behind a valid token (directly, or through a page session)."""

    account_id: UUID
    account: str
    display_name: str
    token_id: UUID
    token_prefix: str

    @property
    def source(self) -> str:
        return upload_source(self.account)


@dataclass(frozen=True)
class SessionGrant:
    session_id: str  # for the cookie; only its hash is stored
    csrf: str  # for the double-submit cookie and the forms; only its hash is stored
    expires_at: datetime


def secret_hash(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def upload_source(account: str) -> str:
    return f"upload:{account}"


def account_handle(name: str) -> str:
    """The account name for a free-form company name: "Müller & Söhne GmbH" -> "mueller-soehne-gmbh"."""
    text = unicodedata.normalize("NFKC", name).strip().lower().translate(_GERMAN)
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    text = re.sub(r"[^a-z0-9._-]+", "-", text)
    return re.sub(r"-{2,}", "-", text).strip("-._")[:63]


def _compact(value: str | None) -> str | None:
    text = re.sub(r"\s+", "", value or "").upper()
    return text or None


def _account(row: dict[str, Any]) -> Account:
    return Account(**{k: row[k] for k in Account.__dataclass_fields__})


def find_account(conn: Connection, name: str) -> Account | None:
    row = conn.execute(
        "SELECT id, name, display_name, vat_id, created_at, created_by FROM upload_accounts WHERE name = %s", (name,)
    ).fetchone()
    return _account(row) if row else None


def add_account(
    conn: Connection, name: str, *, display_name: str, vat_id: str | None, actor: str
) -> tuple[Account, bool]:
    """The account named ``name`` and whether this call created it; an existing one gains a missing VAT id.

    The caller decides what a different VAT id on an existing account means; it is never overwritten.
    """
    if not ACCOUNT_NAME.match(name):
        raise ValueError(f"not an account name: {name!r} (lower-case letters, digits, '.', '_', '-')")
    vat = _compact(vat_id)
    with conn.transaction():
        row = conn.execute(
            "INSERT INTO upload_accounts (id, name, display_name, vat_id, created_by) VALUES (%s, %s, %s, %s, %s)"
            " ON CONFLICT (name) DO NOTHING RETURNING id, name, display_name, vat_id, created_at, created_by",
            (uuid4(), name, display_name, vat, actor),
        ).fetchone()
        if row is not None:
            return _account(row), True
        if vat:
            conn.execute("UPDATE upload_accounts SET vat_id = %s WHERE name = %s AND vat_id IS NULL", (vat, name))
        found = find_account(conn, name)
    assert found is not None  # the row whose name refused ours; accounts are never deleted
    return found, False


def list_accounts(conn: Connection) -> list[dict[str, Any]]:
    """Every account with its number of live tokens and of documents uploaded."""
    return conn.execute(
        "SELECT a.name, a.display_name, a.vat_id, a.created_at,"
        " (SELECT count(*) FROM upload_tokens t WHERE t.account_id = a.id AND t.revoked_at IS NULL) AS tokens,"
        " (SELECT count(*) FROM documents d WHERE d.source = 'upload:' || a.name) AS documents"
        " FROM upload_accounts a ORDER BY a.name"
    ).fetchall()


_TOKEN_COLUMNS = (
    "t.id, a.name AS account, t.prefix, t.label, t.created_at, t.created_by, t.last_used_at, t.revoked_at, t.revoked_by"
)


def _token(row: dict[str, Any]) -> TokenRow:
    return TokenRow(**{k: row[k] for k in TokenRow.__dataclass_fields__})


def create_token(conn: Connection, account: Account, *, label: str | None, actor: str) -> IssuedToken:
    """A new random token for the account: 32 bytes from the OS's CSPRNG, URL-safe."""
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token_id = uuid4()
    conn.execute(
        "INSERT INTO upload_tokens (id, account_id, prefix, token_hash, label, created_by)"
        " VALUES (%s, %s, %s, %s, %s, %s)",
        (token_id, account.id, token[:_SHOWN], secret_hash(token), label, actor),
    )
    row = conn.execute(
        f"SELECT {_TOKEN_COLUMNS} FROM upload_tokens t JOIN upload_accounts a ON a.id = t.account_id WHERE t.id = %s",
        (token_id,),
    ).fetchone()
    assert row is not None
    return IssuedToken(token, _token(row))


def list_tokens(conn: Connection, account: str | None = None, *, include_revoked: bool = True) -> list[TokenRow]:
    rows = conn.execute(
        f"SELECT {_TOKEN_COLUMNS} FROM upload_tokens t JOIN upload_accounts a ON a.id = t.account_id"
        " WHERE (%s::text IS NULL OR a.name = %s) AND (%s OR t.revoked_at IS NULL)"
        " ORDER BY a.name, t.created_at, t.prefix",
        (account, account, include_revoked),
    ).fetchall()
    return [_token(r) for r in rows]


def revoke_token(conn: Connection, token_or_prefix: str, *, actor: str) -> tuple[TokenRow, bool] | None:
    """Revoke the token (named by its listed prefix, or given whole); True when this call revoked it.

    Its page sessions end with it: session lookups only accept sessions of unrevoked tokens.
    """
    prefix = token_or_prefix.strip()[:_SHOWN]
    if len(prefix) < _SHOWN:
        return None  # a shorter prefix could name several tokens
    with conn.transaction():
        changed = conn.execute(
            "UPDATE upload_tokens SET revoked_at = now(), revoked_by = %s WHERE prefix = %s AND revoked_at IS NULL"
            " RETURNING id",
            (actor, prefix),
        ).fetchone()
        row = conn.execute(
            f"SELECT {_TOKEN_COLUMNS} FROM upload_tokens t JOIN upload_accounts a ON a.id = t.account_id"
            " WHERE t.prefix = %s",
            (prefix,),
        ).fetchone()
        if row is None:
            return None
        # The sessions are dead already (see caller_for_session); deleting them just tidies up.
        conn.execute("DELETE FROM upload_sessions WHERE token_id = %s", (row["id"],))
    return _token(row), changed is not None


_CALLER_COLUMNS = "a.id AS account_id, a.name AS account, a.display_name, t.id AS token_id, t.prefix AS token_prefix"


def _caller(row: dict[str, Any]) -> Caller:
    return Caller(**{k: row[k] for k in Caller.__dataclass_fields__})


def caller_for_token(conn: Connection, token: str) -> Caller | None:
    """The account a presented token belongs to, or None when it is unknown or revoked."""
    if not token.startswith(TOKEN_PREFIX) or len(token) > 200:
        return None  # not one of ours: no database round trip for junk
    row = conn.execute(
        f"SELECT {_CALLER_COLUMNS}, (t.last_used_at IS NULL OR t.last_used_at < now() - %s) AS stale"
        " FROM upload_tokens t JOIN upload_accounts a ON a.id = t.account_id"
        " WHERE t.token_hash = %s AND t.revoked_at IS NULL",
        (_TOUCH_EVERY, secret_hash(token)),
    ).fetchone()
    if row is None:
        return None
    if row["stale"]:
        conn.execute("UPDATE upload_tokens SET last_used_at = now() WHERE id = %s", (row["token_id"],))
    return _caller(row)


def open_session(conn: Connection, caller: Caller, *, lifetime: timedelta) -> SessionGrant:
    """A new page session for a caller who just presented a valid token; expired sessions are swept."""
    session_id = secrets.token_urlsafe(32)
    csrf = secrets.token_urlsafe(32)
    with conn.transaction():
        conn.execute("DELETE FROM upload_sessions WHERE expires_at < now()")
        row = conn.execute(
            "INSERT INTO upload_sessions (id_hash, token_id, csrf_hash, expires_at) VALUES (%s, %s, %s, now() + %s)"
            " RETURNING expires_at",
            (secret_hash(session_id), caller.token_id, secret_hash(csrf), lifetime),
        ).fetchone()
    assert row is not None
    return SessionGrant(session_id, csrf, row["expires_at"])


def caller_for_session(conn: Connection, session_id: str) -> tuple[Caller, str] | None:
    """The caller and the session's CSRF hash, while the session is unexpired and its token unrevoked."""
    if len(session_id) > 100:
        return None
    row = conn.execute(
        f"SELECT {_CALLER_COLUMNS}, s.csrf_hash FROM upload_sessions s"
        " JOIN upload_tokens t ON t.id = s.token_id JOIN upload_accounts a ON a.id = t.account_id"
        " WHERE s.id_hash = %s AND s.expires_at > now() AND t.revoked_at IS NULL",
        (secret_hash(session_id),),
    ).fetchone()
    return (_caller(row), row["csrf_hash"]) if row else None


def close_session(conn: Connection, session_id: str) -> None:
    conn.execute("DELETE FROM upload_sessions WHERE id_hash = %s", (secret_hash(session_id),))


_DOCUMENT_COLUMNS = (
    "d.id, d.filename, d.media_type, d.size, d.sha256, d.received_at, d.updated_at, d.status, d.status_reason,"
    " d.parent_id, i.invoice_number, i.issue_date, i.currency, i.total_with_vat, i.seller_name,"
    " r.accepted, r.scenario"
)
_DOCUMENT_JOINS = (
    " FROM documents d LEFT JOIN invoices i ON i.document_id = d.id"
    " LEFT JOIN validation_reports r ON r.document_id = d.id"
)


def own_document(conn: Connection, source: str, doc_id: UUID) -> dict[str, Any] | None:
    """The document if it came in through ``source``; None both when it does not exist and when it is not theirs."""
    return conn.execute(
        f"SELECT {_DOCUMENT_COLUMNS}{_DOCUMENT_JOINS} WHERE d.id = %s AND d.source = %s", (doc_id, source)
    ).fetchone()


def own_documents(conn: Connection, source: str, *, limit: int, offset: int = 0) -> list[dict[str, Any]]:
    """The documents that came in through ``source``, newest first (a ZIP's members right after it)."""
    # Members share their archive's received_at (one transaction) and their keys end in "#<index>".
    return conn.execute(
        f"SELECT {_DOCUMENT_COLUMNS}{_DOCUMENT_JOINS} WHERE d.source = %s"
        " ORDER BY d.received_at DESC, d.parent_id IS NOT NULL, length(d.source_key), d.source_key LIMIT %s OFFSET %s",
        (source, limit, offset),
    ).fetchall()
