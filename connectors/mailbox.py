"""IMAP mailboxes: every invoice in a mail taken in once, and the mail moved to the folder for its outcome.

One pass over a mailbox (``poll_mailbox``), for each message in the folder it reads that passes the
mailbox's filter, in this order:

1. FETCH the raw message (``BODY.PEEK[]``: reading does not mark it seen) and store it in the
   object store under its SHA-256 (``originals/{sha256}``, the ``.eml``);
2. ``INSERT … ON CONFLICT DO NOTHING RETURNING`` its ``mail_messages`` row, keyed UNIQUE by
   (mailbox, UIDVALIDITY, UID) and by (mailbox, message key). No row back means the mail is
   already in, and the existing row's STATUS decides what happens (below);
3. each invoice-like part (XML, PDF, ZIP, or an XML invoice sent as the body) goes through
   ``pipeline.intake.submit`` under ``imap:{mailbox}/{uidvalidity}/{uid}/{n}``, the UID being
   the one the row was first seen under, so a repeat finds the same documents;
4. the documents are processed here (``process_document``), so the verdict is known in this pass;
5. one transaction locks the row, reads the documents' statuses, records the outcome and writes
   the outbox rows for notices about rejected documents; it commits;
6. only then the mail is moved (UID MOVE) to the folder for its outcome, and the move is recorded;
   the mails of one fetch batch (up to 25) are moved together, one MOVE per target folder, once
   every one of them has its outcome committed.

Why process inline (4) instead of leaving the documents to the process-documents flow: the folder
a mail belongs in depends on the verdicts, and ``process_document`` is safe to call on a document
another worker holds or has finished (it returns the finished one unchanged). When a verdict
cannot be had now (a service is down, another worker is still busy with the document), the row
stays ``received``, the mail stays where it is, and the next pass decides and moves it: the
"later pass" is the fallback, not the rule.

What a pass does with a mail that has a row:

* ``processed`` / ``rejected`` / ``no-invoice``: only step 6. This is the crash between the
  commit of step 5 and the move, and a copy of a known mail (same message key, another UID);
  neither ever creates a second document.
* ``received``: steps 3-6 again (a pass that stopped midway, or a mail whose documents were not
  final yet); submit returns the documents already in.
* ``failed``: retried when it is seen in the folder read from again (moved back by someone, or the
  move after giving up did not happen): status decides, the row's existence alone blocks nothing.

A failure that is not the services' fault (a bug, an attachment over the size limit, a document
whose processing failed) counts an attempt and leaves the mail in place for the next pass; after
``MAX_ATTEMPTS`` (at once for an oversized attachment) the mail is ``failed`` and moved to the
failed folder. Unreachable services (IMAP, database, object store) end the pass with
``MailboxUnavailable`` / ``TransientError`` for the flow to retry with backoff.
"""

from __future__ import annotations

import contextlib
import hashlib
import imaplib
import logging
import re
import ssl
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from email import policy
from email.message import Message
from email.parser import BytesHeaderParser, BytesParser
from email.utils import getaddresses, parseaddr
from pathlib import PurePosixPath
from typing import Protocol
from uuid import UUID, uuid4

from imap_tools import BaseMailBox, MailBox, MailBoxStartTls, MailBoxUnencrypted
from imap_tools.errors import ImapToolsError
from imap_tools.utils import encode_folder

from connectors import notices
from connectors.mailconfig import ConnectorConfig, MailboxConfig
from pipeline.intake import IntakeRefused, submit
from pipeline.lifecycle import FINAL, Status
from pipeline.processing import process_document, reprocess
from pipeline.settings import Settings
from pipeline.store import Connection, TransientError, connect, is_transient, objects_for, transient_guard
from pipeline.store import mail as mail_store
from pipeline.store.mail import MailRow, NewMail

__all__ = [
    "MAX_ATTEMPTS",
    "ImapMailbox",
    "MailHeader",
    "MailRef",
    "MailResult",
    "Mailbox",
    "MailboxError",
    "MailboxResult",
    "MailboxUnavailable",
    "Part",
    "PollResult",
    "mail_outcome",
    "message_key",
    "notify_address",
    "parts_of",
    "poll",
    "poll_mailbox",
]

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 3  # failed passes over one mail before it is moved to the failed folder
_HEADER_BATCH = 200  # UIDs per header FETCH
_RAW_BATCH = 25  # messages per raw FETCH …
_RAW_BATCH_BYTES = 16 * 1024 * 1024  # … and at most about this many bytes
_SETTLED = frozenset({"processed", "rejected", "no-invoice"})

# The root element of an e-invoice, for an XML invoice pasted into the body of a mail.
_INVOICE_ROOT = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?(?:Invoice|CreditNote|CrossIndustryInvoice)[\s>/]")
_CANDIDATE_TYPES = {
    "application/pdf": "pdf",
    "application/x-pdf": "pdf",
    "application/xml": "xml",
    "text/xml": "xml",
    "application/zip": "zip",
    "application/x-zip-compressed": "zip",
    "application/x-zip": "zip",
}
_CANDIDATE_SUFFIXES = {".pdf": "pdf", ".xml": "xml", ".zip": "zip"}
# Addresses that never read a reply (RFC 3834 asks auto-responders not to answer these).
_NO_REPLY_LOCAL_PARTS = frozenset(
    {"mailer-daemon", "postmaster", "noreply", "no-reply", "donotreply", "do-not-reply", "bounce", "bounces"}
)


class MailboxError(RuntimeError):
    """The IMAP server refused something (login, a folder): not fixed by trying again soon."""


class MailboxUnavailable(MailboxError):
    """The IMAP server could not be reached or dropped the connection: the same pass later may well work."""


# -- the mailbox interface -------------------------------------------------------------------------


@dataclass(frozen=True)
class MailRef:
    mailbox: str
    folder: str
    uidvalidity: int
    uid: int


@dataclass(frozen=True)
class MailHeader:
    """What a pass needs before it fetches a whole message: the filter's inputs and the size."""

    ref: MailRef
    sender: str | None
    subject: str | None
    size: int


class Mailbox(Protocol):
    """One folder of one account. ``ImapMailbox`` is the real one; tests wrap it to inject faults."""

    name: str
    folder: str

    def list_new(self) -> list[MailHeader]: ...

    def fetch_raw(self, refs: Sequence[MailRef]) -> Iterator[tuple[MailRef, bytes]]: ...

    def move(self, refs: Sequence[MailRef], folder: str) -> None: ...


@contextlib.contextmanager
def _imap_guard(what: str) -> Iterator[None]:
    """IMAP trouble as MailboxUnavailable (connection: retry) or MailboxError (refused: do not)."""
    try:
        yield
    except MailboxError:
        raise
    except (imaplib.IMAP4.abort, OSError, EOFError) as exc:
        # abort is imaplib's "connection is gone"; OSError covers refused, reset, timeouts, TLS.
        raise MailboxUnavailable(f"{what}: {type(exc).__name__}: {exc}") from exc
    except (imaplib.IMAP4.error, ImapToolsError) as exc:
        raise MailboxError(f"{what}: {exc}") from exc


_FETCH_UID = re.compile(rb"UID (\d+)")
_FETCH_SIZE = re.compile(rb"RFC822\.SIZE (\d+)")


def _client_for(config: MailboxConfig) -> BaseMailBox:
    host, port, timeout = config.host, config.effective_port, config.timeout
    if config.security == "tls":
        return MailBox(host, port, timeout=timeout, ssl_context=ssl.create_default_context())
    if config.security == "starttls":
        return MailBoxStartTls(host, port, timeout=timeout, ssl_context=ssl.create_default_context())
    # mailconfig refuses "plain" for anything but a loopback host.
    return MailBoxUnencrypted(host, port, timeout=timeout)


class ImapMailbox:
    """The folder ``config.folder`` of an IMAP account, selected in one session (imap-tools)."""

    def __init__(self, config: MailboxConfig, client: BaseMailBox, uidvalidity: int) -> None:
        self.name = config.name
        self.folder = config.folder
        self.config = config
        self.client = client
        self.uidvalidity = uidvalidity
        self.capabilities: frozenset[str] = frozenset()

    @classmethod
    @contextlib.contextmanager
    def open(cls, config: MailboxConfig) -> Iterator[ImapMailbox]:
        """Log in, make sure the target folders exist, select the folder read from."""
        assert config.password is not None  # load_config guarantees it
        with _imap_guard(f"mailbox {config.name}: connecting to {config.host}:{config.effective_port}"):
            client = _client_for(config)
        try:
            with _imap_guard(f"mailbox {config.name}: login as {config.user}"):
                client.login(config.user, config.password.get_secret_value(), initial_folder=None)
            with _imap_guard(f"mailbox {config.name}: preparing folders"):
                box = cls(config, client, 0)
                box.capabilities = box._capabilities()
                for target in (config.processed_folder, config.rejected_folder, config.no_invoice_folder,
                               config.failed_folder):  # fmt: skip
                    box._ensure_folder(target)
                box.uidvalidity = box._select(config.folder)
            yield box
        finally:
            with contextlib.suppress(Exception):  # logging out of a dead connection has nothing left to do
                client.logout()

    def _capabilities(self) -> frozenset[str]:
        # imaplib keeps the capabilities from before login; servers announce more (MOVE, UIDPLUS) after it.
        typ, data = self.client.client.capability()
        if typ == "OK" and data and data[0]:
            caps = frozenset(data[0].decode("ascii", "replace").upper().split())
            self.client.client.capabilities = tuple(caps)
            return caps
        return frozenset(c.upper() for c in self.client.client.capabilities)

    def _ensure_folder(self, folder: str) -> None:
        if self.client.folder.exists(folder):
            return
        try:
            self.client.folder.create(folder)
        except ImapToolsError:
            if not self.client.folder.exists(folder):  # another poller may have created it a moment ago
                raise

    def _select(self, folder: str) -> int:
        self.client.folder.set(folder)
        # The UIDVALIDITY the server sent with this SELECT: the one our UIDs belong to.
        _, data = self.client.client.response("UIDVALIDITY")
        if data and data[0]:
            return int(data[-1])
        status = self.client.folder.status(folder, ["UIDVALIDITY"])
        return int(status["UIDVALIDITY"])

    def _ref(self, uid: int) -> MailRef:
        return MailRef(self.name, self.folder, self.uidvalidity, uid)

    def list_new(self) -> list[MailHeader]:
        """Every message in the folder not marked deleted, oldest first, with From, Subject and size."""
        with _imap_guard(f"mailbox {self.name}: listing {self.folder}"):
            # No CHARSET argument: some servers refuse one, and the criterion is plain ASCII.
            uids = [int(u) for u in self.client.uids("UNDELETED", charset=None)]
            headers: list[MailHeader] = []
            parser = BytesHeaderParser(policy=policy.default)
            for start in range(0, len(uids), _HEADER_BATCH):
                batch = uids[start : start + _HEADER_BATCH]
                typ, data = self.client.client.uid(
                    "FETCH", ",".join(map(str, batch)), "(UID RFC822.SIZE BODY.PEEK[HEADER.FIELDS (FROM SUBJECT)])"
                )
                if typ != "OK":
                    raise MailboxError(f"mailbox {self.name}: FETCH headers answered {typ}: {data!r}")
                for item in data:
                    if not isinstance(item, tuple):
                        continue
                    uid, size = _FETCH_UID.search(item[0]), _FETCH_SIZE.search(item[0])
                    if uid is None:
                        continue
                    head = parser.parsebytes(item[1])
                    headers.append(
                        MailHeader(self._ref(int(uid[1])), _header(head, "From"), _header(head, "Subject"),
                                   int(size[1]) if size else 0)
                    )  # fmt: skip
            headers.sort(key=lambda h: h.ref.uid)
            return headers

    def fetch_raw(self, refs: Sequence[MailRef]) -> Iterator[tuple[MailRef, bytes]]:
        """The messages' bytes exactly as stored on the server, fetched in batches."""
        wanted = {r.uid: r for r in refs}
        for start in range(0, len(refs), _RAW_BATCH):
            batch = refs[start : start + _RAW_BATCH]
            with _imap_guard(f"mailbox {self.name}: fetching {len(batch)} message(s)"):
                typ, data = self.client.client.uid("FETCH", ",".join(str(r.uid) for r in batch), "(UID BODY.PEEK[])")
                if typ != "OK":
                    raise MailboxError(f"mailbox {self.name}: FETCH answered {typ}: {data!r}")
            for item in data:
                if not isinstance(item, tuple):
                    continue
                uid = _FETCH_UID.search(item[0])
                if uid is not None and int(uid[1]) in wanted:
                    yield wanted[int(uid[1])], item[1]

    def move(self, refs: Sequence[MailRef], folder: str) -> None:
        """Move the messages; moving one that is already gone does nothing, so this is safe to repeat."""
        if not refs:
            return
        if any(ref.uidvalidity != self.uidvalidity for ref in refs):
            raise MailboxError(f"mailbox {self.name}: UIDVALIDITY changed during the pass; not moving")
        target = encode_folder(folder)
        uids = ",".join(str(ref.uid) for ref in refs)
        with _imap_guard(f"mailbox {self.name}: moving {len(refs)} mail(s) to {folder}"):
            imap = self.client.client
            if "MOVE" in self.capabilities:
                # imaplib passes bytes through as they are: the folder name, quoted in modified UTF-7.
                typ, data = imap.uid("MOVE", uids, target)  # type: ignore[arg-type]
                _check(typ, data, "MOVE")
                return
            # Without MOVE: copy, flag, and expunge only these messages where UIDPLUS allows it. A crash
            # between COPY and EXPUNGE leaves a second copy in the target folder, never a second document.
            typ, data = imap.uid("COPY", uids, target)  # type: ignore[arg-type]
            _check(typ, data, "COPY")
            typ, data = imap.uid("STORE", uids, "+FLAGS.SILENT", r"(\Deleted)")
            _check(typ, data, "STORE")
            if "UIDPLUS" in self.capabilities:
                typ, data = imap.uid("EXPUNGE", uids)
                _check(typ, data, "UID EXPUNGE")
            # Without UIDPLUS they stay flagged \Deleted (and are skipped by list_new): a plain EXPUNGE
            # would also remove whatever else someone flagged for deletion in this folder.


def _check(typ: str, data: object, command: str) -> None:
    if typ != "OK":
        raise MailboxError(f"{command} answered {typ}: {data!r}")


def _batches(headers: Sequence[MailHeader]) -> Iterator[list[MailRef]]:
    """Consecutive groups of at most ``_RAW_BATCH`` messages and about ``_RAW_BATCH_BYTES``: one FETCH each."""
    batch: list[MailRef] = []
    size = 0
    for header in headers:
        if batch and (len(batch) >= _RAW_BATCH or size + header.size > _RAW_BATCH_BYTES):
            yield batch
            batch, size = [], 0
        batch.append(header.ref)
        size += header.size
    if batch:
        yield batch


def _header(msg: Message, name: str) -> str | None:
    try:
        value = msg.get(name)
    except (ValueError, TypeError, IndexError):  # a malformed header the parser could not model
        return None
    return None if value is None else str(value).replace("\r", " ").replace("\n", " ").strip()


# -- what a mail holds -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Part:
    """An invoice-like part of a mail; ``position`` is the ``n`` of its source key."""

    position: int
    filename: str
    data: bytes


def _kind(part: Message) -> str | None:
    filename = part.get_filename() or ""
    suffix = PurePosixPath(filename.lower()).suffix
    declared = _CANDIDATE_TYPES.get(part.get_content_type())
    return declared or _CANDIDATE_SUFFIXES.get(suffix)


def parts_of(msg: Message) -> list[Part]:
    """The attachments that may hold an invoice (XML, PDF, ZIP), and an XML invoice sent as the body.

    By declared type or file name, in MIME order (attached mails included), so the positions are
    the same every time the same mail is read. What the bytes really are is intake's business.
    """
    found: list[Part] = []
    for part in msg.walk():
        if part.is_multipart():
            continue
        try:
            payload = part.get_payload(decode=True)
        except (ValueError, TypeError, LookupError):  # a broken transfer encoding: nothing usable in it
            continue
        if not isinstance(payload, bytes) or not payload.strip():
            continue
        kind = _kind(part)
        filename = part.get_filename()
        if kind is None and filename is None and part.get_content_type() == "text/plain":
            # An XML invoice pasted into the body (some billing systems send it so).
            head = payload.lstrip(b"\xef\xbb\xbf \t\r\n")[:4096]
            if head.startswith(b"<") and _INVOICE_ROOT.search(head):
                kind = "xml"
        if kind is None:
            continue
        name = _safe_name(filename) if filename else f"message-body-{len(found)}.{kind}"
        found.append(Part(len(found), name, payload))
    return found


def _safe_name(filename: str) -> str:
    # Only ever a label (intake never writes it to disk), but keep it to one line and a sane length.
    name = PurePosixPath(filename.replace("\\", "/")).name or "attachment"
    return re.sub(r"[\x00-\x1f\x7f]", "_", name)[:200]


def _message_id(msg: Message) -> str | None:
    return (_header(msg, "Message-ID") or "").strip().strip("<>").strip()[:900] or None


def message_key(msg: Message, raw_sha256: str, parts: Sequence[Part]) -> str:
    """The mail's identity across UIDs: its Message-ID together with what it carries.

    A redelivered or copied mail has the same Message-ID and the same attachments, and is the same
    row. The attachments' digest is part of the key because some billing systems reuse one
    Message-ID for every mail they send: keyed by the header alone, their second invoice would
    be taken for a copy of the first and never taken in. A mail without Message-ID is keyed by
    its bytes.
    """
    mid = _message_id(msg)
    if not mid:
        return f"sha256:{raw_sha256}"
    digest = hashlib.sha256()
    for part in parts:
        digest.update(hashlib.sha256(part.data).digest())
    return f"mid:{mid}#{digest.hexdigest()[:32]}"


def notify_address(msg: Message) -> str | None:
    """Where a notice about this mail may go: Reply-To, else From; None for automatic mail (RFC 3834)."""
    if (_header(msg, "Auto-Submitted") or "no").lower() != "no":
        return None
    if (_header(msg, "Precedence") or "").lower() in {"bulk", "junk", "list"}:
        return None
    if _header(msg, "List-Id") or (_header(msg, "Return-Path") or "").strip() == "<>":
        return None
    for name in ("Reply-To", "From"):
        value = _header(msg, name)
        if not value:
            continue
        addresses = [a for _, a in getaddresses([value]) if "@" in a]
        if not addresses:
            continue
        address = addresses[0]
        if address.split("@", 1)[0].lower() in _NO_REPLY_LOCAL_PARTS:
            return None
        return address
    return None


# -- the decision ----------------------------------------------------------------------------------


def mail_outcome(statuses: Iterable[str], refused: int = 0) -> str | None:
    """The folder a mail belongs in, from its documents' statuses; None while one is not final.

    Worst first: a failure, then a rejection (someone has to look), then anything taken in
    (accepted, duplicate, in approval …); no-invoice only when nothing else is there. A ZIP's own
    document is no-invoice once unpacked, so its members decide. Callers pass a duplicate of a
    rejected document as rejected (``document_statuses(effective=True)``).
    """
    found = set(statuses)
    if any(Status(s) not in FINAL for s in found):
        return None
    if refused or Status.FAILED in found:
        return "failed"
    if Status.REJECTED in found:
        return "rejected"
    if found - {Status.NO_INVOICE}:
        return "processed"
    return "no-invoice"


def _folder_for(config: MailboxConfig, status: str) -> str:
    return {
        "processed": config.processed_folder,
        "rejected": config.rejected_folder,
        "no-invoice": config.no_invoice_folder,
        "failed": config.failed_folder,
    }[status]


@dataclass(frozen=True)
class MailResult:
    uid: int
    subject: str | None
    sender: str | None
    status: str  # an outcome, or "received": waiting for a verdict, or a retry after a failure
    moved_to: str | None
    document_ids: tuple[UUID, ...] = ()
    new: bool = False  # this pass took the mail in
    reason: str | None = None


@dataclass
class MailboxResult:
    mailbox: str
    mails: list[MailResult] = field(default_factory=list)
    skipped: int = 0  # did not match the mailbox's filter: left alone
    busy: bool = False  # another process was polling this mailbox
    error: str | None = None
    transient: bool = False


@dataclass
class PollResult:
    mailboxes: list[MailboxResult] = field(default_factory=list)
    notices: notices.NoticeResult | None = None

    @property
    def errors(self) -> list[MailboxResult]:
        return [m for m in self.mailboxes if m.error]

    def raise_for_errors(self) -> None:
        """For the flow layer: an unreachable mailbox as MailboxUnavailable (retried), others as MailboxError."""
        failed = self.errors
        if not failed:
            return
        text = "; ".join(f"{m.mailbox}: {m.error}" for m in failed)
        if all(m.transient for m in failed):
            raise MailboxUnavailable(text)
        raise MailboxError(text)


@dataclass(frozen=True)
class _Context:
    settings: Settings
    config: ConnectorConfig
    box: MailboxConfig
    mailbox: Mailbox
    actor: str
    # The connection holding the mailbox lock carries the pass's own statements too, so a pass
    # needs one pooled connection besides those submit and processing take for a moment.
    conn: Connection


def _settled(row: MailRow, ref: MailRef) -> bool:
    """Whether a mail with this row only needs moving (see the module docstring)."""
    if row.status in _SETTLED:
        return True
    if row.status == "failed":
        # The same message not moved yet: the move after giving up did not happen. Anything else
        # (moved back by someone, a copy) is a request to try again.
        return row.moved_at is None and (row.uidvalidity, row.uid) == (ref.uidvalidity, ref.uid)
    return False


@dataclass
class _Handled:
    """A mail after steps 1-5, waiting for step 6 with the others of its batch."""

    ref: MailRef
    row: MailRow | None  # None: not recorded (over the size limit)
    documents: tuple[UUID, ...] = ()
    new: bool = False
    folder: str | None = None  # where it belongs; None while undecided

    def result(self, moved: dict[int, str]) -> MailResult:
        row = self.row
        return MailResult(
            self.ref.uid, row.subject if row else None, row.sender if row else None,
            row.status if row else "failed", moved.get(self.ref.uid), self.documents, self.new,
            row.status_reason if row else None,
        )  # fmt: skip


def _move_all(ctx: _Context, handled: Sequence[_Handled]) -> dict[int, str]:
    """Step 6 for a batch of decided mails: one MOVE per target folder, then one UPDATE recording it.

    Only ever after each mail's outcome is committed. A crash before the UPDATE costs nothing: the
    next pass finds the rows decided and the mails still there (or already gone) and moves again.
    """
    by_folder: dict[str, list[_Handled]] = {}
    for item in handled:
        if item.folder is not None:
            by_folder.setdefault(item.folder, []).append(item)
    moved: dict[int, str] = {}
    for folder, items in by_folder.items():
        ctx.mailbox.move([i.ref for i in items], folder)
        recorded = [i.row.id for i in items if i.row is not None]
        if recorded:
            with transient_guard("database"):
                mail_store.mark_moved(ctx.conn, recorded, folder)
        moved.update((i.ref.uid, folder) for i in items)
    return moved


def _record(
    ctx: _Context, conn: Connection, ref: MailRef, raw: bytes, msg: Message, parts: Sequence[Part]
) -> tuple[MailRow, bool]:
    """Steps 1 and 2: the raw bytes, then the row; returns the row and whether this call created it."""
    sha256 = hashlib.sha256(raw).hexdigest()
    with transient_guard("object store"):
        objects_for(ctx.settings).put_original(raw, sha256)
    new = NewMail(
        id=uuid4(), mailbox=ctx.box.name, folder=ref.folder, uidvalidity=ref.uidvalidity, uid=ref.uid,
        message_key=message_key(msg, sha256, parts), message_id=_message_id(msg), sha256=sha256, size=len(raw),
        sender=parseaddr(_header(msg, "From") or "")[1] or None, notify_to=notify_address(msg),
        subject=(_header(msg, "Subject") or "")[:1000] or None,
    )  # fmt: skip
    created = mail_store.insert_message(conn, new)
    if created is not None:
        return created, True
    row = mail_store.find_message(conn, ctx.box.name, ref.uidvalidity, ref.uid, new.message_key)
    if row is None:  # pragma: no cover - the insert either made it or a key found it
        raise RuntimeError(f"mail {ref} neither inserted nor found")
    return row, False


_Link = tuple[int, UUID, str | None]


def _submit_parts(ctx: _Context, row: MailRow, parts: Sequence[Part]) -> tuple[list[UUID], list[_Link], list[str]]:
    """Step 3, keyed by the UID the row was first seen under: documents, (position, document, name), refusals."""
    documents: list[UUID] = []
    links: list[_Link] = []
    refused: list[str] = []
    for part in parts:
        key = f"imap:{ctx.box.name}/{row.uidvalidity}/{row.uid}/{part.position}"
        try:
            result = submit(ctx.settings, part.data, filename=part.filename, source=ctx.box.source,
                            sender=row.sender, source_key=key)  # fmt: skip
        except IntakeRefused as exc:
            refused.append(str(exc))
            continue
        links.append((part.position, result.document_ids[0], part.filename))
        documents.extend(result.document_ids)
    return documents, links, refused


def _process(ctx: _Context, conn: Connection, row: MailRow, documents: Sequence[UUID]) -> None:
    """Step 4; on a retry after a failure, failed documents are sent through processing again."""
    statuses = mail_store.document_statuses(conn, documents)
    for doc_id in documents:
        status = statuses.get(doc_id)
        if status == Status.FAILED and row.attempts > 0:
            reprocess(ctx.settings, doc_id, actor=ctx.actor)
        elif status not in FINAL:
            process_document(ctx.settings, doc_id, worker=ctx.actor)


def _reason(statuses: dict[UUID, str], refused: Sequence[str]) -> str:
    counts: dict[str, int] = {}
    for status in statuses.values():
        counts[status] = counts.get(status, 0) + 1
    text = ", ".join(f"{n} {s}" for s, n in sorted(counts.items())) or "no invoice attachment"
    if refused:
        text += "; not taken in: " + "; ".join(refused)
    return text[:1000]


def _decide(
    ctx: _Context, conn: Connection, row: MailRow, documents: Sequence[UUID], links: Sequence[_Link],
    refused: Sequence[str],
) -> MailRow:  # fmt: skip
    """Step 5: links, outcome and notices in one transaction, under the row lock."""
    with conn.transaction():
        locked = mail_store.lock_message(conn, row.id)
        assert locked is not None  # mail rows are never deleted
        mail_store.link_attachments(conn, row.id, links)
        if locked.status in _SETTLED:
            return locked  # another pass decided it while we worked: keep that decision
        statuses = mail_store.document_statuses(conn, documents)
        effective = mail_store.document_statuses(conn, documents, effective=True)
        outcome = mail_outcome(effective.values(), len(refused))
        reason = _reason(statuses, refused)
        if outcome is None:
            return locked  # a document is still on its way: the next pass decides
        if outcome == "failed":
            # Retrying cannot shrink an attachment over the size limit: give up at once then.
            give_up = bool(refused) or locked.attempts + 1 >= MAX_ATTEMPTS
            mail_store.record_failure(conn, row.id, reason, give_up=give_up)
            if not give_up:
                return mail_store.get_message(conn, row.id) or locked
        else:
            mail_store.decide(conn, row.id, outcome, reason)
        if ctx.config.notifies(ctx.box) and locked.notify_to:
            rejected = [d for d in documents if statuses.get(d) == Status.REJECTED]
            notices.enqueue_rejections(conn, rejected, recipient=locked.notify_to, mail_id=row.id,
                                       sender=ctx.config.smtp.sender if ctx.config.smtp else None)  # fmt: skip
        decided = mail_store.get_message(conn, row.id)
        assert decided is not None
        return decided


def _fail(ctx: _Context, conn: Connection, row: MailRow, exc: BaseException) -> MailRow:
    with conn.transaction():
        locked = mail_store.lock_message(conn, row.id)
        assert locked is not None
        if locked.status in _SETTLED:
            return locked
        give_up = locked.attempts + 1 >= MAX_ATTEMPTS
        mail_store.record_failure(conn, row.id, f"{type(exc).__name__}: {exc}", give_up=give_up)
        failed = mail_store.get_message(conn, row.id)
        assert failed is not None
        return failed


def _take_in(ctx: _Context, ref: MailRef, raw: bytes) -> _Handled:
    """Steps 1-5 for one fetched mail; the move (6) follows for its whole batch."""
    msg = BytesParser(policy=policy.default).parsebytes(raw)
    broken: Exception | None = None
    try:
        parts = parts_of(msg)
    except Exception as exc:
        # A mail the MIME parser chokes on must not stop every later pass at the same place:
        # it gets a row like any other and fails with the reason.
        parts, broken = [], exc
    documents: list[UUID] = []
    conn = ctx.conn
    with transient_guard("database"):
        row, created = _record(ctx, conn, ref, raw, msg, parts)
        if not _settled(row, ref):
            try:
                if broken is not None:
                    raise broken
                documents, links, refused = _submit_parts(ctx, row, parts)
                _process(ctx, conn, row, documents)
                row = _decide(ctx, conn, row, documents, links, refused)
            except (TransientError, MailboxError):
                raise  # the services' fault: the pass ends here and the flow retries it
            except Exception as exc:
                if is_transient(exc):
                    raise
                # Not the services' fault: a bug, or a mail that breaks a library. This mail counts an
                # attempt and keeps its reason; the other mails of the pass go on.
                log.exception("mailbox %s: mail %s failed", ctx.box.name, ref.uid)
                row = _fail(ctx, conn, row, exc)
    folder = _folder_for(ctx.box, row.status) if row.status in mail_store.DECIDED else None
    return _Handled(ref, row, tuple(documents), created, folder)


def _oversized(ctx: _Context, header: MailHeader) -> _Handled:
    # Not fetched, so not recorded: nothing about it is in the database. Moving it out keeps it
    # from being looked at on every pass; moved back (after raising the limit) it is tried again.
    log.warning("mailbox %s: mail %s not taken in: %d bytes, more than max_message_bytes = %d",
                ctx.box.name, header.ref.uid, header.size, ctx.box.max_message_bytes)  # fmt: skip
    return _Handled(header.ref, None, folder=ctx.box.failed_folder)


def poll_mailbox(
    settings: Settings, config: ConnectorConfig, box: MailboxConfig, mailbox: Mailbox, *, actor: str | None = None
) -> MailboxResult:
    """One pass over one mailbox (see the module docstring); raises MailboxUnavailable / TransientError."""
    result = MailboxResult(box.name)
    with (
        transient_guard("database"),
        connect(settings) as lock_conn,
        mail_store.mailbox_lock(lock_conn, box.name) as held,
    ):
        ctx = _Context(settings, config, box, mailbox, actor or f"connector:{box.source}", lock_conn)
        if not held:
            result.busy = True
            return result
        wanted: list[MailHeader] = []
        for header in mailbox.list_new():
            if box.filter.matches(header.sender, header.subject):
                wanted.append(header)
            else:
                result.skipped += 1
        known: dict[int, MailRow] = {}
        for uidvalidity in {h.ref.uidvalidity for h in wanted}:
            uids = [h.ref.uid for h in wanted if h.ref.uidvalidity == uidvalidity]
            known.update(mail_store.find_by_uids(lock_conn, box.name, uidvalidity, uids))
        # Mails decided before but not moved (the crash between commit and move) go first, unfetched.
        leftovers: list[_Handled] = []
        to_fetch: list[MailHeader] = []
        for header in wanted:
            row = known.get(header.ref.uid)
            if row is not None and _settled(row, header.ref):
                leftovers.append(_Handled(header.ref, row, folder=_folder_for(box, row.status)))
            elif header.size > box.max_message_bytes:
                leftovers.append(_oversized(ctx, header))
            else:
                to_fetch.append(header)
        moved = _move_all(ctx, leftovers)
        result.mails.extend(item.result(moved) for item in leftovers)
        for batch in _batches(to_fetch):
            handled = [_take_in(ctx, ref, raw) for ref, raw in mailbox.fetch_raw(batch)]
            moved = _move_all(ctx, handled)
            result.mails.extend(item.result(moved) for item in handled)
    return result


Opener = Callable[[MailboxConfig], contextlib.AbstractContextManager[Mailbox]]


def poll(
    settings: Settings,
    config: ConnectorConfig,
    *,
    only: Sequence[str] | None = None,
    send_notices: bool = True,
    open_mailbox: Opener = ImapMailbox.open,
) -> PollResult:
    """One pass over every configured mailbox (or those named), then the pending notices.

    A mailbox that fails does not stop the others; its error is in the result, and
    ``PollResult.raise_for_errors`` turns it into an exception for the flow's retry.
    """
    result = PollResult()
    for box in config.mailboxes(list(only) if only else None):
        try:
            with open_mailbox(box) as mailbox:
                result.mailboxes.append(poll_mailbox(settings, config, box, mailbox))
        except (MailboxError, TransientError) as exc:
            transient = isinstance(exc, MailboxUnavailable | TransientError)
            log.warning("mailbox %s: %s", box.name, exc)
            result.mailboxes.append(MailboxResult(box.name, error=str(exc), transient=transient))
    if send_notices and config.smtp is not None:
        result.notices = notices.send_pending(settings, config.smtp)
    return result
