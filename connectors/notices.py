"""Notices to senders: one reply per rejected invoice, by SMTP, through the outbox.

Order:

1. ``enqueue_rejections`` writes one ``outbox`` row per rejected document in the SAME transaction
   that records the mail's outcome (the row is keyed UNIQUE by document and kind, so a retried
   decision adds nothing);
2. after that commit, ``send_pending`` locks one due row at a time (``SKIP LOCKED``: two senders
   never take the same row), sends it, and marks it sent in that transaction. A failed send keeps
   the row pending with the error and a later due time; the next pass sends it.

So a sender gets at most one notice per document. The one window left is a crash after the SMTP
server accepted the message and before the "sent" mark is committed: the retry sends it again,
with the same Message-ID (fixed in step 1), which lets the receiving side recognise the repeat.
A rejection caused only by Eingang's own trouble (no rule pack installed, an engine error) is
withheld (status ``withheld``): that is for the operators to fix, not for the sender.

The notice is plain text, German first, then English: the file name, the reason, and every error
and warning with its rule id, message and the business terms it concerns (id and name, from
``schemas.terms.term_name``); the rejected file is attached as it was received. Templates live in
``connectors/templates`` and can be replaced by a directory named in the configuration.
"""

from __future__ import annotations

import contextlib
import logging
import smtplib
import ssl
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from email.message import EmailMessage
from email.utils import format_datetime, formatdate, parseaddr
from typing import Any
from uuid import UUID, uuid4

from jinja2 import ChoiceLoader, Environment, FileSystemLoader, PackageLoader, StrictUndefined

from connectors.mailconfig import SmtpConfig
from pipeline.settings import Settings
from pipeline.store import Connection, connect, documents, invoices, objects_for, outbox, transient_guard
from pipeline.store import mail as mail_store
from pipeline.store.outbox import OutboxRow
from schemas.terms import term_name
from validators.report import EINGANG_ENGINE_DIFF, EINGANG_INTERNAL, EINGANG_NO_ARTEFACTS, EINGANG_NO_RULEPACK

__all__ = ["REJECTION", "NoticeResult", "enqueue_rejections", "render_notice", "send_pending"]

log = logging.getLogger(__name__)

REJECTION = "rejection-notice"
_MAX_FINDINGS = 60  # a notice lists this many errors and warnings; the rest are counted
# Findings about Eingang's own state (no rule pack, an engine crash): never the sender's business.
_INTERNAL = frozenset({EINGANG_INTERNAL, EINGANG_NO_RULEPACK, EINGANG_NO_ARTEFACTS, EINGANG_ENGINE_DIFF})
_FIRST_RETRY = timedelta(minutes=1)
_LAST_RETRY = timedelta(hours=6)


@dataclass
class NoticeResult:
    sent: int = 0
    failed: int = 0
    withheld: int = 0
    errors: list[str] = field(default_factory=list)


def _domain(sender: str | None) -> str:
    address = parseaddr(sender or "")[1]
    return address.rsplit("@", 1)[1] if "@" in address else "eingang.invalid"


def enqueue_rejections(
    conn: Connection, document_ids: Sequence[UUID], *, recipient: str, mail_id: UUID | None, sender: str | None
) -> int:
    """One rejection notice per document, in the caller's transaction; returns how many were new."""
    added = 0
    for doc_id in document_ids:
        notice_id = uuid4()
        added += outbox.enqueue(
            conn, id=notice_id, document_id=doc_id, kind=REJECTION, recipient=recipient, mail_id=mail_id,
            # Short enough that the header is never folded (an id split over two lines still works,
            # but is harder to search for in a mail log).
            message_id=f"<{notice_id.hex}.notice@{_domain(sender)}>",
        )  # fmt: skip
    return added


# -- the text ----------------------------------------------------------------------------------------


def _environment(smtp: SmtpConfig) -> Environment:
    loaders: list[Any] = [PackageLoader("connectors", "templates")]
    if smtp.templates is not None:
        loaders.insert(0, FileSystemLoader(str(smtp.templates)))
    # Plain-text mail: nothing to escape; StrictUndefined makes a template typo an error, not a gap.
    return Environment(loader=ChoiceLoader(loaders), autoescape=False, undefined=StrictUndefined,
                       trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True)  # fmt: skip


def _finding(row: dict[str, Any]) -> dict[str, Any]:
    message = row.get("message") or {}
    return {
        "rule": row["rule"],
        "level": row["level"],
        "message_de": message.get("de") or message.get("en") or "",
        "message_en": message.get("en") or message.get("de") or "",
        "location": row.get("location"),
        "value": row.get("value"),
        "terms": [{"id": t, "de": term_name(t, "de"), "en": term_name(t, "en")} for t in row.get("terms") or ()],
    }


def render_notice(smtp: SmtpConfig, kind: str, context: dict[str, Any]) -> tuple[str, str]:
    """Subject (one line) and body of a notice from the templates ``{kind}.subject.j2`` and ``{kind}.txt.j2``."""
    env = _environment(smtp)
    subject = env.get_template(f"{kind}.subject.j2").render(context)
    body = env.get_template(f"{kind}.txt.j2").render(context)
    # A header must stay one line whatever a file name or subject contained.
    return " ".join(subject.split())[:250], body


def _context(conn: Connection, row: OutboxRow) -> tuple[dict[str, Any], Any]:
    doc = documents.get_document(conn, row.document_id)
    if doc is None:
        raise LookupError(f"outbox {row.id}: no document {row.document_id}")
    mail = mail_store.get_message(conn, row.mail_id) if row.mail_id else None
    report = invoices.report_of(conn, row.document_id)
    findings = [_finding(f) for f in (report or {}).get("findings", [])
                if f["level"] in ("error", "warning") and f["rule"] not in _INTERNAL]  # fmt: skip
    errors = [f for f in findings if f["level"] == "error"]
    warnings = [f for f in findings if f["level"] == "warning"]
    shown_errors = errors[:_MAX_FINDINGS]
    shown_warnings = warnings[: max(0, _MAX_FINDINGS - len(shown_errors))]
    context = {
        "document": {"id": str(doc.id), "filename": doc.filename or f"{doc.id}", "reason": doc.status_reason or "",
                     "sha256": doc.sha256},
        "mail": {"subject": mail.subject if mail else None,
                 "received": format_datetime(mail.received_at) if mail else None,
                 "date_de": mail.received_at.strftime("%d.%m.%Y") if mail else None,
                 "date_en": mail.received_at.strftime("%Y-%m-%d") if mail else None},
        "scenario": (report or {}).get("scenario"),
        "errors": shown_errors,
        "warnings": shown_warnings,
        "more": len(errors) + len(warnings) - len(shown_errors) - len(shown_warnings),
        # Rejected only for Eingang's own trouble: errors, none of them the sender's.
        "internal_only": bool(report) and not errors and any(
            f["level"] == "error" and f["rule"] in _INTERNAL for f in (report or {}).get("findings", [])
        ),
    }  # fmt: skip
    return context, (doc, mail)


def _message(smtp: SmtpConfig, conn: Connection, settings: Settings, row: OutboxRow) -> EmailMessage | None:
    """The notice, or None when it must not go out (see ``_INTERNAL``)."""
    context, (doc, mail) = _context(conn, row)
    if context["internal_only"]:
        return None
    subject, body = render_notice(smtp, row.kind, context)
    msg = EmailMessage()
    msg["From"] = smtp.sender
    msg["To"] = row.recipient
    msg["Subject"] = subject
    msg["Date"] = formatdate(localtime=True)
    msg["Message-ID"] = row.message_id
    # RFC 3834: an automatic reply says so, so that the other side's auto-responders stay quiet.
    msg["Auto-Submitted"] = "auto-replied"
    if mail is not None and mail.message_id:
        msg["In-Reply-To"] = f"<{mail.message_id}>"
        msg["References"] = f"<{mail.message_id}>"
    msg.set_content(body, charset="utf-8")
    with transient_guard("object store"):
        original = objects_for(settings).get_original(doc.sha256)
    maintype, _, subtype = (doc.media_type or "application/octet-stream").partition("/")
    msg.add_attachment(original, maintype=maintype, subtype=subtype or "octet-stream",
                       filename=doc.filename or f"{doc.id}")  # fmt: skip
    return msg


# -- sending -----------------------------------------------------------------------------------------


@contextmanager
def _smtp(smtp: SmtpConfig) -> Iterator[smtplib.SMTP]:
    context = ssl.create_default_context()
    client: smtplib.SMTP
    if smtp.security == "tls":
        client = smtplib.SMTP_SSL(smtp.host, smtp.effective_port, timeout=smtp.timeout, context=context)
    else:
        client = smtplib.SMTP(smtp.host, smtp.effective_port, timeout=smtp.timeout)
    try:
        if smtp.security == "starttls":
            client.starttls(context=context)
            client.ehlo()
        if smtp.user:
            assert smtp.password is not None  # load_config guarantees it
            client.login(smtp.user, smtp.password.get_secret_value())
        yield client
    finally:
        try:
            client.quit()
        except (smtplib.SMTPException, OSError):
            client.close()


def _retry_after(attempts: int) -> timedelta:
    return min(_FIRST_RETRY * (1 << min(max(0, attempts), 16)), _LAST_RETRY)


class _Sender:
    """One SMTP session for a batch, opened on the first notice and reopened after a dropped connection."""

    def __init__(self, smtp: SmtpConfig) -> None:
        self.smtp = smtp
        self._session: Any = None
        self._client: smtplib.SMTP | None = None

    def send(self, msg: EmailMessage, recipient: str) -> None:
        if self._client is None:
            self._session = _smtp(self.smtp)
            self._client = self._session.__enter__()
        try:
            self._client.send_message(msg, from_addr=parseaddr(self.smtp.sender)[1], to_addrs=[recipient])
        except (smtplib.SMTPServerDisconnected, OSError):
            self.close()
            raise

    def close(self) -> None:
        if self._session is not None:
            session, self._session, self._client = self._session, None, None
            session.__exit__(None, None, None)


def send_pending(settings: Settings, smtp: SmtpConfig, *, limit: int | None = None) -> NoticeResult:
    """Send the due notices, each under its row lock; failures stay pending for a later pass."""
    result = NoticeResult()
    sender = _Sender(smtp)
    try:
        while limit is None or result.sent + result.failed < limit:
            with transient_guard("database"), connect(settings) as conn, conn.transaction():
                row = outbox.claim_due(conn, (REJECTION,))
                if row is None:
                    break
                msg = _message(smtp, conn, settings, row)
                if msg is None:
                    outbox.mark_withheld(conn, row.id, "rejected for Eingang's own trouble (rule pack, engine)")
                    result.withheld += 1
                    log.warning("notice %s for document %s withheld: an internal error, not the sender's",
                                row.id, row.document_id)  # fmt: skip
                    continue
                try:
                    sender.send(msg, row.recipient)
                except (smtplib.SMTPException, OSError) as exc:
                    error = f"{type(exc).__name__}: {exc}"
                    outbox.record_failure(conn, row.id, error, _retry_after(row.attempts))
                    result.failed += 1
                    result.errors.append(f"{row.recipient}: {error}")
                    log.warning("notice %s to %s not sent: %s", row.id, row.recipient, error)
                    continue
                outbox.mark_sent(conn, row.id)
                result.sent += 1
    finally:
        with contextlib.suppress(smtplib.SMTPException, OSError):  # the notices are recorded; a failed QUIT is not
            sender.close()
    return result
