"""``eingang reprocess ID [--data-dir DIR]``: send a failed document through processing again.

Only documents with status ``failed`` can be reprocessed (after the cause, say a missing rule pack
or a bug, was fixed); any other status is refused with a message saying which it has.
"""

from __future__ import annotations

import argparse
from typing import Any

from pipeline.commands._platform import actor, add_data_dir, guarded, parse_id, platform_settings, require_schema
from pipeline.lifecycle import Status
from pipeline.processing import reprocess

__all__ = ["register"]


def register(sub: Any) -> None:
    parser = sub.add_parser("reprocess", help="process a failed document again")
    parser.add_argument("id", metavar="ID")
    add_data_dir(parser)
    parser.set_defaults(run=guarded(run))


def run(args: argparse.Namespace) -> int:
    settings = platform_settings(args)
    require_schema(settings)
    done = reprocess(settings, parse_id(args.id), actor=actor())
    print(f"{done.document_id}  {done.status}" + (f"  {done.reason}" if done.reason else ""))
    return 0 if done.status in (Status.ACCEPTED, Status.DUPLICATE) else 1
