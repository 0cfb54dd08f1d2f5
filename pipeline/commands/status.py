"""``eingang status [--data-dir DIR] [--format text|json]``: each platform service's health and URL.

Exit status: 0 when every service that should run is healthy ("skipped" services, whose code is
not installed, do not count), 1 otherwise, 2 on an I/O error.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
from typing import Any

from pipeline.commands.up import add_data_dir_option
from pipeline.services import platform_status, redact_url
from pipeline.settings import load_settings

__all__ = ["register", "run"]


def register(sub: Any) -> None:
    parser = sub.add_parser("status", help="show the health and URL of each platform service")
    add_data_dir_option(parser)
    parser.add_argument("--format", choices=("text", "json"), default="text")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    settings = load_settings(data_dir=args.data_dir)
    try:
        statuses = platform_status(settings)
    except OSError as exc:
        sys.stderr.write(f"eingang: error: {exc}\n")
        return 2
    all_healthy = all(s.state in ("healthy", "skipped") for s in statuses)
    if args.format == "json":
        services = [{**dataclasses.asdict(s), "url": redact_url(s.url) if s.url else None} for s in statuses]
        json.dump(
            {"data_dir": str(settings.data_dir), "healthy": all_healthy, "services": services}, sys.stdout, indent=2
        )
        sys.stdout.write("\n")
    else:
        for s in statuses:
            parts = [f"{s.name:<12}", f"{s.state:<10}"]
            if s.url or s.pid:
                parts.append(redact_url(s.url) if s.url else f"pid {s.pid}")
            if s.url and not s.started_by_us and s.state not in ("stopped", "skipped"):
                parts.append("(external)")
            parts.append(f"- {s.detail}")
            print(" ".join(parts))
    return 0 if all_healthy else 1
