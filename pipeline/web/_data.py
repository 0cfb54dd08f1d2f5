"""Reading what the web app shows: plain functions over ``pipeline.store``, returning the models.

Read-only: nothing here writes to the database or the object store.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import asdict
from typing import Any
from uuid import UUID

from pipeline.render import render_invoice
from pipeline.settings import Settings
from pipeline.store import connect, documents, events, invoices, objects_for
from pipeline.store.documents import DocumentRow
from pipeline.web._models import (
    DocumentDetail,
    DocumentInfo,
    DocumentSummary,
    EventInfo,
    FindingInfo,
    InvoiceInfo,
    ReportInfo,
)
from schemas.reader import read_invoice

__all__ = ["detail", "document_list", "invoice_view", "original"]


def _verdict(accepted: bool | None) -> Any:
    return None if accepted is None else "accepted" if accepted else "rejected"


def document_list(settings: Settings, *, statuses: Iterable[str] | None, limit: int) -> list[DocumentSummary]:
    with connect(settings) as conn:
        # Plain strings: a StrEnum must reach the database as its value, whatever the driver's enum handling.
        wanted = [str(s) for s in statuses] if statuses else None
        rows = documents.list_documents(conn, limit=limit, statuses=wanted)
    return [
        DocumentSummary(
            id=r["id"],
            source=r["source"],
            filename=r["filename"],
            received_at=r["received_at"],
            status=r["status"],
            reason=r["status_reason"],
            supplier=r["supplier"],
            invoice_number=r["invoice_number"],
            issue_date=r["issue_date"],
            currency=r["currency"],
            gross_total=r["gross_total"],
            verdict=_verdict(r["accepted"]),
            duplicate_of=r["duplicate_of"],
            parent_id=r["parent_id"],
        )
        for r in rows
    ]


def _messages(message: Any) -> dict[str, str]:
    if isinstance(message, Mapping):
        return {str(k): str(v) for k, v in message.items()}
    return {"en": str(message or "")}


def _document_info(doc: DocumentRow) -> DocumentInfo:
    fields = asdict(doc)
    return DocumentInfo(reason=doc.status_reason, **{k: v for k, v in fields.items() if k in DocumentInfo.model_fields})


def detail(settings: Settings, doc_id: UUID) -> DocumentDetail | None:
    """Everything known about one document, or None when there is no such document."""
    with connect(settings) as conn:
        doc = documents.get_document(conn, doc_id)
        if doc is None:
            return None
        invoice = invoices.invoice_of(conn, doc_id)
        report = invoices.report_of(conn, doc_id)
        history = events.events_for(conn, doc_id)
        members = documents.children(conn, doc_id)
    findings = [
        FindingInfo(
            rule=f["rule"],
            level=f["level"],
            message=_messages(f["message"]),
            terms=list(f["terms"] or []),
            location=f["location"],
            value=f["value"],
            source="report",
        )
        for f in (report["findings"] if report else [])
    ]
    # Checks made while filing the invoice (a bank account new for this supplier) are events, not
    # report findings; accounts payable must see them next to the others.
    findings += [
        FindingInfo(
            rule=str(e.data.get("rule", e.kind)),
            level=str(e.data.get("level", "information")),
            message=_messages(e.data.get("message") or e.reason),
            terms=[str(t) for t in e.data.get("terms", [])],
            value=e.data.get("value"),
            source="processing",
        )
        for e in history
        if e.kind == "finding"
    ]
    return DocumentDetail(
        document=_document_info(doc),
        invoice=None
        if invoice is None
        else InvoiceInfo(
            has_view=invoice["html_object_key"] is not None,
            **{k: v for k, v in invoice.items() if k in InvoiceInfo.model_fields},
        ),
        report=None
        if report is None
        else ReportInfo(
            verdict=_verdict(report["accepted"]),
            scenario=report["scenario"],
            syntax=report["syntax"],
            xsd=report["xsd"],
            rule_sets=list(report["rule_sets"]),
            notes=list(report["notes"]),
            eingang_version=report["eingang_version"],
            created_at=report["created_at"],
        ),
        findings=findings,
        events=[
            EventInfo(
                id=e.id,
                at=e.at,
                actor=e.actor,
                kind=e.kind,
                from_status=e.from_status,
                to_status=e.to_status,
                reason=e.reason,
                data=dict(e.data),
                hash=e.hash,
            )
            for e in history
        ],
        members=members,
    )


def original(settings: Settings, doc_id: UUID) -> tuple[DocumentRow, bytes] | None:
    """The document and its original bytes (checked against their SHA-256 by the store)."""
    with connect(settings) as conn:
        doc = documents.get_document(conn, doc_id)
    if doc is None:
        return None
    return doc, objects_for(settings).get_original(doc.sha256)


def invoice_view(settings: Settings, doc_id: UUID, lang: str) -> str | None:
    """The reading copy of the invoice as HTML, or None when the document holds no readable invoice.

    Processing stores the German copy, so that one is served as stored; other languages are
    rendered from the original bytes, read again with the same reader.
    """
    with connect(settings) as conn:
        doc = documents.get_document(conn, doc_id)
        invoice = invoices.invoice_of(conn, doc_id) if doc is not None else None
    if doc is None or invoice is None:
        return None
    store = objects_for(settings)
    key = invoice["html_object_key"]
    if lang == "de" and key:
        return store.get(key).decode("utf-8")
    return render_invoice(read_invoice(store.get_original(doc.sha256)), lang=lang)
