"""``eingang submit FILE... [--no-process] [--sender WHO] [--data-dir DIR]``: hand files to the pipeline.

Each file goes through ``intake.submit`` under the key ``submit:{sha256}`` (so a file submitted
twice is taken in once) and is then processed right here, unless ``--no-process`` only enqueues it
for the workers. One line per document: id, status, file name and the reason for the status.
A ZIP archive prints its own line and one per member.

Exit status: 0 every document accepted (or only enqueued, or a duplicate), 1 at least one was
rejected, failed or is no invoice, 2 usage, I/O or service error.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from pipeline.commands._platform import actor, add_data_dir, guarded, platform_settings, require_schema
from pipeline.intake import submit
from pipeline.lifecycle import Status
from pipeline.processing import process_document
from pipeline.store import connect, documents

__all__ = ["register"]

_TROUBLE = frozenset({Status.REJECTED, Status.FAILED, Status.NO_INVOICE})


def register(sub: Any) -> None:
    parser = sub.add_parser("submit", help="take invoice files in (XML, PDF, ZIP) and process them")
    parser.add_argument("files", nargs="+", type=Path, metavar="FILE")
    parser.add_argument("--no-process", action="store_true", help="only enqueue; the workers process them")
    parser.add_argument("--sender", metavar="WHO", help="who sent the files (recorded with each document)")
    add_data_dir(parser)
    parser.set_defaults(run=guarded(run))


def run(args: argparse.Namespace) -> int:
    settings = platform_settings(args)
    require_schema(settings)
    who = actor()
    exit_code = 0
    for path in args.files:
        try:
            data = path.read_bytes()
        except OSError as exc:
            sys.stderr.write(f"eingang: error: cannot read {path}: {exc.strerror}\n")
            exit_code = 2
            continue
        result = submit(settings, data, filename=path.name, source="submit", sender=args.sender or who)
        for doc_id in result.document_ids:
            if not args.no_process:
                process_document(settings, doc_id)
            with connect(settings) as conn:
                doc = documents.get_document(conn, doc_id)
            assert doc is not None
            note = "" if result.created else "  (already in)"
            reason = f"  {doc.status_reason}" if doc.status_reason else ""
            print(f"{doc.id}  {doc.status:<11}  {doc.filename or path.name}{reason}{note}")
            if doc.status in _TROUBLE and exit_code == 0:
                exit_code = 1
    return exit_code
