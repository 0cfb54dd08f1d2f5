"""``eingang list [--format text|json] [--status STATUS] [--limit N] [--data-dir DIR]``: the documents.

Newest first. ``json`` prints one object per line with id, source, filename, received_at, status,
reason, supplier, invoice_number, issue_date, currency, gross_total (as written), verdict
(accepted/rejected, null before validation), duplicate_of and parent_id.
"""

from __future__ import annotations

import argparse
import json
from typing import Any

from pipeline.commands._platform import add_data_dir, guarded, platform_settings, require_schema
from pipeline.lifecycle import Status
from pipeline.store import connect, documents

__all__ = ["register", "row_record"]


def register(sub: Any) -> None:
    parser = sub.add_parser("list", help="list documents with status, supplier and amount")
    parser.add_argument("--format", choices=("text", "json"), default="text")
    parser.add_argument("--status", choices=[s.value for s in Status], action="append", help="only these (repeatable)")
    parser.add_argument("--limit", type=int, default=100, metavar="N")
    add_data_dir(parser)
    parser.set_defaults(run=guarded(run))


def row_record(row: dict[str, Any]) -> dict[str, Any]:
    accepted = row["accepted"]
    return {
        "id": str(row["id"]),
        "source": row["source"],
        "filename": row["filename"],
        "received_at": row["received_at"].isoformat(),
        "status": row["status"],
        "reason": row["status_reason"],
        "supplier": row["supplier"],
        "invoice_number": row["invoice_number"],
        "issue_date": row["issue_date"].isoformat() if row["issue_date"] else None,
        "currency": row["currency"],
        "gross_total": str(row["gross_total"]) if row["gross_total"] is not None else None,
        "verdict": None if accepted is None else "accepted" if accepted else "rejected",
        "duplicate_of": str(row["duplicate_of"]) if row["duplicate_of"] else None,
        "parent_id": str(row["parent_id"]) if row["parent_id"] else None,
    }


def run(args: argparse.Namespace) -> int:
    settings = platform_settings(args)
    require_schema(settings)
    with connect(settings) as conn:
        rows = documents.list_documents(conn, limit=args.limit, statuses=args.status)
    for row in rows:
        rec = row_record(row)
        if args.format == "json":
            print(json.dumps(rec, ensure_ascii=False))
            continue
        amount = f"{rec['gross_total']} {rec['currency'] or ''}".strip() if rec["gross_total"] else ""
        print(
            f"{rec['id']}  {rec['received_at'][:19]}  {rec['status']:<11}  {(rec['supplier'] or '-')[:30]:<30}"
            f"  {(rec['invoice_number'] or '-')[:20]:<20}  {amount:>16}  {rec['filename'] or ''}"
        )
    return 0
