"""``eingang inspect FILE... [--format text|json|terms] [--extract-attachments DIR]``."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from schemas.model import Invoice, InvoiceLine
from schemas.reader import ReadError, ReadResult, read_invoice
from schemas.terms_view import to_terms

__all__ = ["register"]


def register(sub: Any) -> None:
    parser = sub.add_parser("inspect", help="read invoices into the EN 16931 model and show them")
    parser.add_argument("files", nargs="+", type=Path, metavar="FILE")
    parser.add_argument("--format", choices=("text", "json", "terms"), default="text")
    parser.add_argument(
        "--extract-attachments", type=Path, metavar="DIR", help="write BG-24 attachments and the XML found in a PDF"
    )
    parser.set_defaults(run=run)


def _source(result: ReadResult) -> dict[str, Any]:
    return result.document.source.model_dump(exclude_none=True)


def _line_text(line: InvoiceLine, depth: int = 0) -> list[str]:
    item = line.item.name if line.item and line.item.name else ""
    unit = line.quantity_unit_code or ""
    price = line.price.net_price if line.price and line.price.net_price is not None else ""
    vat = ""
    if line.vat:
        vat = f"{line.vat.category_code or ''} {line.vat.rate if line.vat.rate is not None else ''}".strip()
    indent = "  " * depth
    out = [
        f"    {indent}{line.identifier or '-':>4}  {item[:40]:<40} {line.quantity or ''} {unit} x {price}"
        f" = {line.net_amount if line.net_amount is not None else ''}  [{vat}]"
    ]
    for sub_line in line.sub_lines:
        out.extend(_line_text(sub_line, depth + 1))
    return out


def _text(path: Path, result: ReadResult) -> str:
    inv: Invoice = result.invoice
    src = result.document.source
    seller = inv.seller.name if inv.seller else None
    buyer = inv.buyer.name if inv.buyer else None
    t = inv.totals
    lines = [
        f"{path}",
        f"  format:        {result.document.syntax}, profile {result.profile.value}"
        + (f", from PDF attachment {src.attachment}" if src.kind == "pdf" else ""),
        f"  number:        {inv.number}  (type {inv.type_code})",
        f"  issue date:    {inv.issue_date}" + (f"   due {inv.due_date}" if inv.due_date else ""),
        f"  supplier:      {seller}"
        + (f"  VAT {inv.seller.vat_identifier}" if inv.seller and inv.seller.vat_identifier else ""),
        f"  buyer:         {buyer}",
    ]
    if inv.buyer_reference:
        lines.append(f"  buyer ref:     {inv.buyer_reference}  (BT-10, Leitweg-ID)")
    if inv.purchase_order_reference:
        lines.append(f"  order:         {inv.purchase_order_reference}")
    if t:
        lines.append(
            f"  totals:        net {t.total_without_vat} + VAT {t.total_vat} = {t.total_with_vat} {inv.currency_code}"
            f"; due {t.amount_due}"
        )
    for vat in inv.vat_breakdown:
        lines.append(f"  VAT {vat.category_code} {vat.rate}%: {vat.tax_amount} on {vat.taxable_amount}")
    if inv.payment_terms:
        lines.append("  payment terms: " + inv.payment_terms.strip().replace("\n", " / "))
    lines.append(f"  lines:         {len(inv.lines)}")
    for line in inv.lines:
        lines.extend(_line_text(line))
    if src.note:
        lines.append(f"  note:          {src.note}")
    return "\n".join(lines)


def _extract(result: ReadResult, path: Path, target: Path) -> list[Path]:
    target.mkdir(parents=True, exist_ok=True)
    written = []
    if result.document.source.kind == "pdf":
        name = Path(result.document.source.attachment or f"{path.stem}.xml").name
        out = target / name
        out.write_bytes(result.document.xml)
        written.append(out)
    for index, doc in enumerate(result.invoice.additional_documents, start=1):
        if doc.attachment is None:
            continue
        # A file name from a stranger's document: keep only its last component.
        name = Path(doc.attachment.filename or f"{path.stem}-attachment-{index}").name or f"attachment-{index}"
        out = target / name
        out.write_bytes(doc.attachment.content)
        written.append(out)
    return written


def run(args: argparse.Namespace) -> int:
    status = 0
    for path in args.files:
        try:
            data = path.read_bytes()
        except OSError as exc:
            print(f"eingang: {path}: cannot read: {exc.strerror or exc}", file=sys.stderr)
            status = 2
            continue
        try:
            result = read_invoice(data)
        except ReadError as exc:
            print(f"eingang: {path}: {exc.reason}", file=sys.stderr)
            status = max(status, 1)
            continue
        if args.format == "json":
            record = {"file": str(path), "source": _source(result), "profile": result.profile.value}
            record["invoice"] = result.invoice.model_dump(mode="json", exclude_none=True)
            print(json.dumps(record, ensure_ascii=False))
        elif args.format == "terms":
            record = {"file": str(path), "source": _source(result), **to_terms(result.invoice)}
            print(json.dumps(record, ensure_ascii=False))
        else:
            print(_text(path, result))
        if args.extract_attachments:
            try:
                for written in _extract(result, path, args.extract_attachments):
                    print(f"eingang: wrote {written}", file=sys.stderr)
            except OSError as exc:
                print(f"eingang: {args.extract_attachments}: cannot write: {exc.strerror or exc}", file=sys.stderr)
                status = 2
    return status
