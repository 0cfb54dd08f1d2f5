"""SQL for what processing learned about a document: the invoice read from it and its validation report.

Both are one-to-one with the document (``document_id`` is unique in ``invoices`` and
``validation_reports``); ``save_*`` replace what a document already had, so processing the same
document again can never leave two invoices or two reports behind.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import date
from typing import Any
from uuid import UUID, uuid4

from pydantic import BaseModel

from pipeline.store.db import Connection
from schemas.model import Invoice
from validators.report import Report

__all__ = [
    "InvoiceRecord",
    "business_duplicate",
    "invoice_of",
    "model_json",
    "report_of",
    "save_invoice",
    "save_report",
]


@dataclass(frozen=True)
class InvoiceRecord:
    """Where an invoice came from and where its derived objects are; the terms come from the model."""

    document_id: UUID
    supplier_id: UUID | None
    invoice: Invoice
    profile: str | None
    syntax: str
    source_kind: str
    xml_object_key: str | None
    html_object_key: str | None


def _plain(value: Any) -> Any:
    """JSON-ready values; binary attachments (BT-125) become their size and hash, as the bytes are in the original."""
    if isinstance(value, BaseModel):
        return {k: _plain(v) for k, v in value if v is not None and v != []}
    if isinstance(value, bytes):
        return {"size": len(value), "sha256": hashlib.sha256(value).hexdigest()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, date):
        return value.isoformat()
    if value is None or isinstance(value, bool | int | str):
        return value
    return str(value)  # Decimal keeps its scale as written ("336.90")


def model_json(invoice: Invoice) -> str:
    return json.dumps(_plain(invoice), ensure_ascii=False)


def save_invoice(conn: Connection, record: InvoiceRecord) -> None:
    inv = record.invoice
    seller = inv.seller
    totals = inv.totals
    with conn.transaction():
        conn.execute("DELETE FROM invoices WHERE document_id = %s", (record.document_id,))
        conn.execute(
            "INSERT INTO invoices (document_id, supplier_id, seller_name, seller_vat_id, invoice_number, type_code,"
            " issue_date, due_date, currency, total_without_vat, total_vat, total_with_vat, amount_due,"
            " buyer_reference, purchase_order_reference, profile, syntax, source_kind, xml_object_key,"
            " html_object_key, model)"
            " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s::jsonb)",
            (
                record.document_id,
                record.supplier_id,
                seller.name if seller else None,
                seller.vat_identifier if seller else None,
                inv.number,
                inv.type_code,
                inv.issue_date,
                inv.due_date,
                inv.currency_code,
                totals.total_without_vat if totals else None,
                totals.total_vat if totals else None,
                totals.total_with_vat if totals else None,
                totals.amount_due if totals else None,
                inv.buyer_reference,
                inv.purchase_order_reference,
                record.profile,
                record.syntax,
                record.source_kind,
                record.xml_object_key,
                record.html_object_key,
                model_json(inv),
            ),
        )
        with conn.cursor() as cur:
            cur.executemany(
                "INSERT INTO invoice_lines (document_id, position, line_id, item_name, quantity, unit_code,"
                " net_price, net_amount, vat_category_code, vat_rate) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
                [
                    (
                        record.document_id,
                        n,
                        line.identifier,
                        line.item.name if line.item else None,
                        line.quantity,
                        line.quantity_unit_code,
                        line.price.net_price if line.price else None,
                        line.net_amount,
                        line.vat.category_code if line.vat else None,
                        line.vat.rate if line.vat else None,
                    )
                    for n, line in enumerate(inv.lines, start=1)
                ],
            )
            cur.executemany(
                "INSERT INTO vat_breakdown (document_id, position, category_code, rate, taxable_amount, tax_amount,"
                " exemption_reason, exemption_reason_code) VALUES (%s, %s, %s, %s, %s, %s, %s, %s)",
                [
                    (
                        record.document_id,
                        n,
                        vat.category_code,
                        vat.rate,
                        vat.taxable_amount,
                        vat.tax_amount,
                        vat.exemption_reason,
                        vat.exemption_reason_code,
                    )
                    for n, vat in enumerate(inv.vat_breakdown, start=1)
                ],
            )


def save_report(conn: Connection, document_id: UUID, report: Report, object_key: str | None) -> UUID:
    report_id = uuid4()
    with conn.transaction():
        conn.execute("DELETE FROM validation_reports WHERE document_id = %s", (document_id,))
        conn.execute(
            "INSERT INTO validation_reports (id, document_id, accepted, scenario, syntax, xsd, rule_sets, notes,"
            " eingang_version, input_sha256, object_key) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
            (
                report_id,
                document_id,
                report.accepted,
                report.scenario,
                report.syntax,
                report.xsd,
                list(report.rule_sets),
                list(report.notes),
                report.eingang_version,
                report.input_sha256,
                object_key,
            ),
        )
        with conn.cursor() as cur:
            cur.executemany(
                "INSERT INTO findings (report_id, position, rule, flag, level, message, terms, location, value)"
                " VALUES (%s, %s, %s, %s, %s, %s::jsonb, %s, %s, %s)",
                [
                    (
                        report_id,
                        n,
                        f.rule,
                        f.flag,
                        f.level,
                        json.dumps(dict(f.message), ensure_ascii=False),
                        list(f.terms),
                        f.location,
                        f.value,
                    )
                    for n, f in enumerate(report.findings, start=1)
                ],
            )
    return report_id


def business_duplicate(
    conn: Connection, supplier_id: UUID, number: str, issue_date: date | None, exclude: UUID
) -> UUID | None:
    """The earliest other document holding this supplier's invoice number of the same date."""
    row = conn.execute(
        "SELECT i.document_id FROM invoices i JOIN documents d ON d.id = i.document_id"
        " WHERE i.supplier_id = %s AND i.invoice_number = %s AND i.issue_date IS NOT DISTINCT FROM %s"
        " AND i.document_id <> %s ORDER BY d.received_at, d.id LIMIT 1",
        (supplier_id, number, issue_date, exclude),
    ).fetchone()
    return row["document_id"] if row else None


def invoice_of(conn: Connection, document_id: UUID) -> dict[str, Any] | None:
    """The invoice's header columns (without the model) for display."""
    return conn.execute(
        "SELECT i.document_id, i.supplier_id, COALESCE(i.seller_name, s.name) AS supplier, i.seller_name,"
        " i.seller_vat_id, i.invoice_number, i.type_code, i.issue_date, i.due_date, i.currency,"
        " i.total_without_vat, i.total_vat, i.total_with_vat, i.amount_due, i.buyer_reference,"
        " i.purchase_order_reference, i.profile, i.syntax, i.source_kind, i.xml_object_key, i.html_object_key"
        " FROM invoices i LEFT JOIN suppliers s ON s.id = i.supplier_id WHERE i.document_id = %s",
        (document_id,),
    ).fetchone()


def report_of(conn: Connection, document_id: UUID) -> dict[str, Any] | None:
    """The stored report with its findings in order, or None before validation ran."""
    report = conn.execute("SELECT * FROM validation_reports WHERE document_id = %s", (document_id,)).fetchone()
    if report is None:
        return None
    report["findings"] = conn.execute(
        "SELECT rule, flag, level, message, terms, location, value FROM findings WHERE report_id = %s"
        " ORDER BY position",
        (report["id"],),
    ).fetchall()
    return report
