"""``eingang up [--data-dir DIR]``: start the platform services that are not running yet.

Starts what is missing (embedded PostgreSQL, SeaweedFS and Prefect unless ``DATABASE_URL``,
``S3_ENDPOINT`` or ``PREFECT_API_URL`` point elsewhere; then the web app and the flow runner),
waits until each is healthy, prints the URLs and returns; the services keep running. Running it
again starts nothing new. Exit status: 0 all up, 2 a service failed (named, with its log file).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from pipeline.services import ServiceError, bring_up, redact_url, ui_url
from pipeline.settings import load_settings

__all__ = ["add_data_dir_option", "register", "run"]


def add_data_dir_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--data-dir", type=Path, metavar="DIR", help="the platform's data directory (default: $EINGANG_DATA_DIR)"
    )


def register(sub: Any) -> None:
    parser = sub.add_parser("up", help="start the platform services (database, object store, Prefect, web app)")
    add_data_dir_option(parser)
    parser.set_defaults(run=run)


def _warn(message: str) -> None:
    sys.stderr.write(f"eingang: warning: {message}\n")


def run(args: argparse.Namespace) -> int:
    settings = load_settings(data_dir=args.data_dir)
    try:
        results = bring_up(settings, warn=_warn)
    except (ServiceError, OSError) as exc:
        sys.stderr.write(f"eingang: error: {exc}\n")
        sys.stderr.write("eingang: services started before the failure keep running; `eingang down` stops them\n")
        return 2
    urls: dict[str, str] = {}
    for record, started in results:
        how = "started" if started else ("already running" if record.started_by_us else "external")
        shown = redact_url(record.url) if record.url else f"pid {record.pid}"
        print(f"{record.name:<12} {how:<16} {shown}")
        if record.url:
            urls[record.name] = record.url
    print()
    if "web" in urls:
        print(f"Web app:    {urls['web']}/")
        print(f"API docs:   {urls['web']}/docs")
    if "prefect" in urls:
        print(f"Prefect UI: {ui_url(urls['prefect'])}/")
    print(f"Data:       {settings.data_dir}")
    return 0
