"""``eingang folder scan DIR [--name NAME] [--min-age S] [--settle S]``: take in the finished files of a drop folder.

Each stable file goes through ``intake.submit`` under ``folder:{name}:{sha256}``, is processed, and is
moved to ``DIR/processed/`` or ``DIR/failed/`` (with a ``.reason.txt``); see ``connectors.folder``.
``NAME`` (default: the folder's own name) is part of the idempotency key: keep it stable.
One line per file: outcome, file name, where it went and why.

Exit status: 0 every file taken was accepted (or is waiting), 1 some went to failed/, 2 usage or
service error.
"""

from __future__ import annotations

import argparse
import re
from pathlib import Path
from typing import Any

from connectors.folder import scan
from connectors.mailconfig import FolderConfig
from pipeline.commands._platform import UsageError, add_data_dir, guarded, platform_settings, require_schema

__all__ = ["register"]


def register(sub: Any) -> None:
    parser = sub.add_parser("folder", help="take invoices in from a drop folder")
    actions = parser.add_subparsers(dest="folder_command", required=True, parser_class=type(parser))
    scan_parser = actions.add_parser("scan", help="one scan: take in the finished files, move them out")
    scan_parser.add_argument("directory", type=Path, metavar="DIR")
    scan_parser.add_argument("--name", help="the folder's name in idempotency keys (default: DIR's name)")
    scan_parser.add_argument("--min-age", type=float, default=60.0, metavar="S",
                             help="a file older than this is taken without a second look (default 60)")  # fmt: skip
    scan_parser.add_argument("--settle", type=float, default=2.0, metavar="S",
                             help="seconds between the two looks at a younger file (default 2)")  # fmt: skip
    add_data_dir(scan_parser)
    scan_parser.set_defaults(run=guarded(run))


def _name(args: argparse.Namespace) -> str:
    name = args.name or re.sub(r"[^A-Za-z0-9_.-]", "-", args.directory.resolve().name).strip(".-") or "folder"
    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,62}", name):
        raise UsageError(f"folder name {name!r}: letters, digits, '_', '.', '-' only, at most 63")
    return name


def run(args: argparse.Namespace) -> int:
    directory: Path = args.directory
    if not directory.is_dir():
        raise UsageError(f"{directory} is not a directory")
    if args.min_age < 0 or args.settle < 0:
        raise UsageError("--min-age and --settle cannot be negative")
    settings = platform_settings(args)
    require_schema(settings)
    folder = FolderConfig(name=_name(args), path=directory.resolve(), min_age=args.min_age, settle=args.settle)
    result = scan(settings, folder)
    for item in result.files:
        where = str(item.moved_to.relative_to(folder.path)) if item.moved_to else "-"
        print(f"{item.status:<10}  {item.name}  {where}  {item.reason or ''}".rstrip())
    print(f"{folder.name}: {result.count('processed')} processed, {result.count('failed')} failed, "
          f"{result.count('waiting')} waiting")  # fmt: skip
    return 1 if result.count("failed") else 0
