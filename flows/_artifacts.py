"""What a processed document looks like in the Prefect UI: one markdown artifact per document.

The database stays the source of truth; the artifact is a readable snapshot for whoever watches
the flow runs (verdict, the findings, a link to the web view), keyed ``document-{id}`` so the
Artifacts page shows each document's latest processing.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from uuid import UUID

from pipeline.settings import Settings
from pipeline.store import connect, documents, events, invoices

__all__ = ["DocumentSummary", "Finding", "artifact_key", "document_url", "load_summary", "summary_markdown"]

# A report can hold hundreds of findings; the artifact shows the first ones and the web view all.
MAX_FINDING_ROWS = 50
_WILDCARD = ("", "0.0.0.0", "::")


@dataclass(frozen=True)
class Finding:
    rule: str
    level: str
    message: str
    terms: tuple[str, ...]


@dataclass(frozen=True)
class DocumentSummary:
    document_id: UUID
    filename: str | None
    status: str
    reason: str | None
    verdict: str | None  # accepted / rejected by the validation report, None when there is none
    scenario: str | None
    supplier: str | None
    invoice_number: str | None
    gross_total: str | None
    currency: str | None
    findings: tuple[Finding, ...]


def artifact_key(doc_id: UUID) -> str:
    # Prefect accepts only lowercase letters, digits and dashes; a UUID's text form is exactly that.
    return f"document-{doc_id}"


def document_url(settings: Settings, doc_id: UUID) -> str:
    # A server bound to every interface is still reached through loopback on this machine.
    host = "127.0.0.1" if settings.web_host in _WILDCARD else settings.web_host
    return f"http://{host}:{settings.web_port}/documents/{doc_id}"


def _message(message: Any) -> str:
    if isinstance(message, dict):
        return str(message.get("en") or message.get("de") or "")
    return str(message or "")


def load_summary(settings: Settings, doc_id: UUID) -> DocumentSummary:
    """The document's status, invoice header and findings as stored (after processing)."""
    with connect(settings) as conn:
        doc = documents.get_document(conn, doc_id)
        if doc is None:
            raise LookupError(f"no document {doc_id}")
        invoice = invoices.invoice_of(conn, doc_id)
        report = invoices.report_of(conn, doc_id)
        history = events.events_for(conn, doc_id)
    found = [
        Finding(f["rule"], f["level"], _message(f["message"]), tuple(f["terms"] or ()))
        for f in (report["findings"] if report else [])
    ]
    # Findings processing records as events (a bank account new for this supplier) belong here too.
    found += [
        Finding(
            str(e.data.get("rule", e.kind)),
            str(e.data.get("level", "information")),
            _message(e.data.get("message") or e.reason),
            tuple(e.data.get("terms") or ()),
        )
        for e in history
        if e.kind == "finding"
    ]
    total = invoice["total_with_vat"] if invoice else None
    return DocumentSummary(
        document_id=doc.id,
        filename=doc.filename,
        status=doc.status,
        reason=doc.status_reason,
        verdict=None if report is None else "accepted" if report["accepted"] else "rejected",
        scenario=report["scenario"] if report else None,
        supplier=invoice["supplier"] if invoice else None,
        invoice_number=invoice["invoice_number"] if invoice else None,
        gross_total=None if total is None else str(total),
        currency=invoice["currency"] if invoice else None,
        findings=tuple(found),
    )


def _cell(text: object) -> str:
    """Table-cell safe: a supplier's pipe or line break must not break the table."""
    return str(text if text is not None else "-").replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ")


def summary_markdown(summary: DocumentSummary, url: str) -> str:
    title = summary.invoice_number or summary.filename or str(summary.document_id)
    amount = f"{summary.gross_total} {summary.currency or ''}".strip() if summary.gross_total else None
    lines = [
        f"## {_cell(title)}: {summary.status}",
        "",
        "| | |",
        "|---|---|",
        f"| Document | [{summary.document_id}]({url}) |",
        f"| File | {_cell(summary.filename)} |",
        f"| Status | {_cell(summary.status)} |",
        f"| Reason | {_cell(summary.reason)} |",
        f"| Verdict | {_cell(summary.verdict)} |",
        f"| Scenario | {_cell(summary.scenario)} |",
        f"| Supplier | {_cell(summary.supplier)} |",
        f"| Invoice number | {_cell(summary.invoice_number)} |",
        f"| Gross total | {_cell(amount)} |",
        "",
        f"### Findings ({len(summary.findings)})",
        "",
    ]
    if not summary.findings:
        lines.append("No findings.")
    else:
        lines += ["| Rule | Level | Message | Terms |", "|---|---|---|---|"]
        lines += [
            f"| {_cell(f.rule)} | {_cell(f.level)} | {_cell(f.message)} | {_cell(', '.join(f.terms) or None)} |"
            for f in summary.findings[:MAX_FINDING_ROWS]
        ]
        hidden = len(summary.findings) - MAX_FINDING_ROWS
        if hidden > 0:
            lines += ["", f"… and {hidden} more: see the [web view]({url})."]
    lines += ["", f"[Open in Eingang]({url})"]
    return "\n".join(lines) + "\n"
