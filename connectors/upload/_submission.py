"""Taking a supplier's upload in and describing the result: shared by the API and the upload page.

Synchronous on purpose (database and object store calls block): the routes run these in a worker
thread. An upload follows the connector order of every channel: ``intake.submit`` stores the bytes
and records the document under the upload's idempotency key, then the document is processed here
and now, so the answer carries the verdict. A retry after a crash finds the key already in and only
finishes the processing that is missing.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, cast
from uuid import UUID

from connectors.upload._body import Upload
from connectors.upload._i18n import Lang
from connectors.upload._models import DocumentOut, DocumentSummary, FindingOut, InvoiceFacts, PublicStatus, TermOut
from pipeline.intake import ZIP_MEDIA_TYPE, submit
from pipeline.lifecycle import FINAL, Status
from pipeline.processing import process_document
from pipeline.settings import Settings
from pipeline.store import connect, documents, invoices
from pipeline.store.supplier_access import Caller, own_document, own_documents
from schemas.terms import term_name
from validators.report import EINGANG_ENGINE_DIFF, EINGANG_INTERNAL, EINGANG_NO_ARTEFACTS, EINGANG_NO_RULEPACK

__all__ = [
    "IDEMPOTENCY_KEY",
    "IdempotencyKeyReused",
    "Taken",
    "describe",
    "list_submissions",
    "public_status",
    "take_in",
]

# Printable ASCII without spaces, as most APIs accept it (a UUID, a hash, "inv-2024-0815").
IDEMPOTENCY_KEY = r"^[\x21-\x7e]{1,200}$"

# About our installation, not about the supplier's invoice: AP staff see them, the supplier never.
_OPERATOR_ONLY = frozenset({EINGANG_NO_RULEPACK, EINGANG_NO_ARTEFACTS, EINGANG_ENGINE_DIFF})
_INTERNAL_MESSAGE: Mapping[str, str] = {
    "de": "Die Prüfung konnte wegen eines Fehlers bei uns nicht abgeschlossen werden.",
    "en": "The check could not be completed because of an error on our side.",
}
_LATER = {Status.IN_APPROVAL, Status.APPROVED, Status.RETURNED, Status.EXPORTED}
_PUBLIC_REASON: Mapping[str, Mapping[str, str]] = {
    # The internal reasons name other documents' ids or exception texts: neither is the supplier's business.
    Status.DUPLICATE: {"de": "Diese Rechnung liegt bereits vor.", "en": "This invoice was already received."},
    Status.FAILED: {"de": "Die Prüfung ist bei uns gestört.", "en": "The check failed on our side."},
}


class IdempotencyKeyReused(ValueError):
    """The client's Idempotency-Key already names an upload of different bytes."""


@dataclass(frozen=True)
class Taken:
    document_id: UUID  # the upload itself (a ZIP archive's own document for an archive)
    created: bool  # False: this upload was already received, nothing new was taken in


def take_in(settings: Settings, caller: Caller, upload: Upload, idempotency_key: str | None) -> Taken:
    """Submit the upload under ``upload:{account}:{key or sha256}`` and process what is not finished yet."""
    key = f"{caller.source}:{idempotency_key or upload.sha256}"
    result = submit(
        settings,
        upload.data,
        filename=upload.filename,
        source=caller.source,
        sender=f"{caller.account} (token {caller.token_prefix})",
        source_key=key,
    )
    with connect(settings) as conn:
        rows = [documents.get_document(conn, doc_id) for doc_id in result.document_ids]
    first = rows[0]
    assert first is not None  # documents are never deleted
    if not result.created and first.sha256 != upload.sha256:
        # Answering with the other file's verdict would tell the client this file arrived. It did not.
        raise IdempotencyKeyReused(
            f"Idempotency-Key {idempotency_key!r} was already used for a different file (document {first.id})"
        )
    for row in rows:
        # A repeat normally finds everything finished. Anything else is an earlier attempt that died
        # between intake and verdict (or a worker busy with it): processing is safe to run again.
        if row is not None and Status(row.status) not in FINAL:
            process_document(settings, row.id)
    return Taken(first.id, result.created)


def public_status(status: str, media_type: str) -> PublicStatus:
    value = Status(status)
    if value in _LATER:
        return "accepted"
    if value == Status.NO_INVOICE and media_type == ZIP_MEDIA_TYPE:
        return "unpacked"  # a refused archive is rejected instead, so no-invoice means its files were taken in
    return cast(PublicStatus, value.value)


def _accepted(status: PublicStatus) -> bool | None:
    return None if status in ("received", "processing", "unpacked") else status == "accepted"


def _finding(row: Mapping[str, Any], lang: Lang) -> FindingOut:
    message: Mapping[str, str] = _INTERNAL_MESSAGE if row["rule"] == EINGANG_INTERNAL else row["message"]
    return FindingOut(
        rule=row["rule"],
        level=row["level"],
        message=message.get(lang) or message.get("en") or "",
        terms=[TermOut(id=t, name=term_name(t, lang)) for t in row["terms"]],
        location=row["location"],
        value=row["value"],
    )


def _reason(status: PublicStatus, internal: str | None, lang: Lang) -> str | None:
    if status == "accepted":
        return None
    public = _PUBLIC_REASON.get(status)
    return public[lang] if public else internal


def _describe(conn: Any, caller: Caller, doc_id: UUID, lang: Lang, *, members: bool) -> DocumentOut | None:
    row = own_document(conn, caller.source, doc_id)
    if row is None:
        return None
    status = public_status(row["status"], row["media_type"])
    report = invoices.report_of(conn, doc_id)
    findings = [_finding(f, lang) for f in (report or {}).get("findings", []) if f["rule"] not in _OPERATOR_ONLY]
    parts: list[DocumentOut] = []
    if members:
        for member_id in documents.children(conn, doc_id):
            member = _describe(conn, caller, member_id, lang, members=False)
            if member is not None:
                parts.append(member)
    accepted = _accepted(status)
    if status == "unpacked" and parts:
        # What counts for an archive is what happened to each invoice in it.
        verdicts = [p.accepted for p in parts]
        accepted = None if None in verdicts else all(verdicts)
    invoice = None
    if row["invoice_number"] is not None or row["total_with_vat"] is not None:
        invoice = InvoiceFacts(
            number=row["invoice_number"],
            issue_date=row["issue_date"],
            currency=row["currency"],
            total_with_vat=row["total_with_vat"],
            seller_name=row["seller_name"],
        )
    return DocumentOut(
        id=row["id"],
        filename=row["filename"],
        received_at=row["received_at"],
        status=status,
        accepted=accepted,
        reason=None if status == "unpacked" else _reason(status, row["status_reason"], lang),
        scenario=row["scenario"],
        invoice=invoice,
        findings=findings,
        parent_id=row["parent_id"],
        documents=parts,
    )


def describe(settings: Settings, caller: Caller, doc_id: UUID, lang: Lang) -> DocumentOut | None:
    """The caller's document with its verdict and findings (and a ZIP's invoices); None when not theirs."""
    with connect(settings) as conn:
        return _describe(conn, caller, doc_id, lang, members=True)


def list_submissions(settings: Settings, caller: Caller, *, limit: int, offset: int) -> list[DocumentSummary]:
    with connect(settings) as conn:
        rows = own_documents(conn, caller.source, limit=limit, offset=offset)
    result = []
    for row in rows:
        status = public_status(row["status"], row["media_type"])
        result.append(
            DocumentSummary(
                id=row["id"],
                filename=row["filename"],
                received_at=row["received_at"],
                status=status,
                accepted=_accepted(status),
                invoice_number=row["invoice_number"],
                issue_date=row["issue_date"],
                parent_id=row["parent_id"],
            )
        )
    return result
