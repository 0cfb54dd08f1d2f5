"""``eingang audit verify [--data-dir DIR]``: check the event log's hash chain.

Prints ``OK`` with the number of events checked, or the first event whose link or content no longer
matches its hash. Exit status 1 when the log was tampered with.
"""

from __future__ import annotations

import argparse
from typing import Any

from pipeline.commands._platform import add_data_dir, guarded, platform_settings, require_schema
from pipeline.store import connect, events

__all__ = ["register"]


def register(sub: Any) -> None:
    parser = sub.add_parser("audit", help="check the audit trail")
    actions = parser.add_subparsers(dest="audit_action", required=True, parser_class=type(parser))
    p_verify = actions.add_parser("verify", help="verify the hash chain of the event log")
    add_data_dir(p_verify)
    p_verify.set_defaults(run=guarded(run_verify))


def run_verify(args: argparse.Namespace) -> int:
    settings = platform_settings(args)
    require_schema(settings)
    with connect(settings) as conn:
        count, broken = events.verify_chain(conn)
    if broken is None:
        print(f"OK: {count} events, hash chain intact")
        return 0
    print(f"BROKEN at event {broken.event_id}: {broken.problem} ({count} events before it are intact)")
    return 1
