"""``eingang show ID [--format text|json] [--lang de|en] [--data-dir DIR]``: one document in full.

The document (source, key, status and why), the invoice read from it, the validation report with
every finding, and the event history from intake on.
"""

from __future__ import annotations

import argparse
import json
from dataclasses import asdict
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

from pipeline.commands._platform import UsageError, add_data_dir, guarded, parse_id, platform_settings, require_schema
from pipeline.store import connect, documents, events, invoices

__all__ = ["register", "show_record"]


def register(sub: Any) -> None:
    parser = sub.add_parser("show", help="show a document: status, invoice, findings and event history")
    parser.add_argument("id", metavar="ID", help="the document id (as `eingang list` prints it)")
    parser.add_argument("--format", choices=("text", "json"), default="text")
    parser.add_argument("--lang", choices=("de", "en"), default="de", help="language of finding messages")
    add_data_dir(parser)
    parser.set_defaults(run=guarded(run))


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, UUID | Decimal):
        return str(value)
    return value


def show_record(settings: Any, doc_id: UUID) -> dict[str, Any]:
    with connect(settings) as conn:
        doc = documents.get_document(conn, doc_id)
        if doc is None:
            raise UsageError(f"no document {doc_id}")
        invoice = invoices.invoice_of(conn, doc_id)
        report = invoices.report_of(conn, doc_id)
        history = events.events_for(conn, doc_id)
        members = documents.children(conn, doc_id)
    record: dict[str, Any] = _plain(
        {
            "document": asdict(doc),
            "members": members,
            "invoice": invoice,
            "report": report,
            "events": [asdict(e) for e in history],
        }
    )
    return record


def run(args: argparse.Namespace) -> int:
    settings = platform_settings(args)
    require_schema(settings)
    rec = show_record(settings, parse_id(args.id))
    if args.format == "json":
        print(json.dumps(rec, ensure_ascii=False))
        return 0
    doc = rec["document"]
    print(f"document  {doc['id']}")
    print(f"status    {doc['status']}" + (f": {doc['status_reason']}" if doc["status_reason"] else ""))
    if doc["duplicate_of"]:
        print(f"duplicate of {doc['duplicate_of']}")
    print(f"file      {doc['filename'] or '-'} ({doc['media_type']}, {doc['size']} bytes, sha256 {doc['sha256']})")
    print(f"source    {doc['source']} key {doc['source_key']} from {doc['sender'] or '-'} at {doc['received_at']}")
    if doc["parent_id"]:
        print(f"in ZIP    {doc['parent_id']}")
    for member in rec["members"]:
        print(f"member    {member}")
    inv = rec["invoice"]
    if inv:
        print(
            f"invoice   {inv['invoice_number']} of {inv['issue_date']} from {inv['supplier']}"
            f" (VAT id {inv['seller_vat_id'] or '-'})"
        )
        print(
            f"amount    {inv['total_with_vat']} {inv['currency'] or ''}, due {inv['amount_due']}"
            f" by {inv['due_date'] or '-'}; buyer reference {inv['buyer_reference'] or '-'}"
        )
    report = rec["report"]
    if report:
        verdict = "accepted" if report["accepted"] else "rejected"
        print(f"report    {verdict}; scenario {report['scenario'] or '-'}; XML Schema {report['xsd']}")
        for note in report["notes"]:
            print(f"  note: {note}")
        for f in report["findings"]:
            message = f["message"].get(args.lang) or f["message"].get("en", "")
            where = f" at {f['location']}" if f["location"] else ""
            print(f"  [{f['level']}] {f['rule']}: {message}{where}")
    print("events")
    for e in rec["events"]:
        change = f"{e['from_status'] or ''} -> {e['to_status']}" if e["to_status"] else e["kind"]
        print(f"  #{e['id']} {e['at'][:19]} {e['actor']}: {change}" + (f" ({e['reason']})" if e["reason"] else ""))
    return 0
