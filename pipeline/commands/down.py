"""``eingang down [--data-dir DIR]``: stop the services ``eingang up`` started for this data directory.

Only those: a service configured from outside (``DATABASE_URL`` …) is never stopped, nor is a
process that merely reuses a recorded pid. Each server's process group gets SIGTERM (PostgreSQL:
SIGINT, its fast shutdown), then SIGKILL if it has not ended in time.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from pipeline.commands.up import add_data_dir_option
from pipeline.services import ServiceError, bring_down
from pipeline.settings import load_settings

__all__ = ["register", "run"]


def register(sub: Any) -> None:
    parser = sub.add_parser("down", help="stop the platform services `eingang up` started")
    add_data_dir_option(parser)
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    settings = load_settings(data_dir=args.data_dir)
    try:
        stopped = bring_down(settings)
    except (ServiceError, OSError) as exc:
        sys.stderr.write(f"eingang: error: {exc}\n")
        return 2
    for record in stopped:
        print(f"{record.name:<12} stopped (pid {record.pid})")
    if not stopped:
        print(f"nothing to stop in {settings.data_dir}")
    return 0
