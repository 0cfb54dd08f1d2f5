"""``eingang samples DIR [--count N]``: write the sample invoices Eingang generates itself."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from pipeline.samples import write_samples

__all__ = ["register"]


def register(sub: Any) -> None:
    parser = sub.add_parser("samples", help="write sample invoices (valid, invalid, duplicate, ZIP, hybrid PDF)")
    parser.add_argument("target", type=Path, metavar="DIR")
    parser.add_argument("--count", type=int, default=6, help="how many valid invoices (default 6)")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    if args.count < 1:
        print("eingang: --count must be at least 1", file=sys.stderr)
        return 2
    try:
        written = write_samples(args.target, args.count)
    except OSError as exc:
        print(f"eingang: {args.target}: cannot write: {exc.strerror or exc}", file=sys.stderr)
        return 2
    for path, sample in written:
        print(f"{path}\t{sample.what}")
    return 0
