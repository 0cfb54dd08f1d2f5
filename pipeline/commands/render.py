"""``eingang render FILE -o OUT.html [--lang de|en]``: a printable HTML reading copy of an invoice."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from pipeline.render import LANGUAGES, render_invoice
from schemas.reader import ReadError, read_invoice

__all__ = ["register", "run"]


def register(sub: Any) -> None:
    parser = sub.add_parser(
        "render",
        help="render an invoice as a self-contained, printable HTML page",
        description="Render an XRechnung, ZUGFeRD or Factur-X invoice as one HTML file for accounts payable.",
    )
    parser.add_argument("file", type=Path, metavar="FILE", help="the invoice: XML or hybrid PDF")
    parser.add_argument(
        "-o",
        "--output",
        type=Path,
        required=True,
        metavar="OUT.html",
        help="where to write the page ('-' for stdout)",
    )
    parser.add_argument("--lang", choices=LANGUAGES, default="de", help="language of the page (default: de)")
    parser.set_defaults(run=run)


def _reason(exc: OSError) -> str:
    return exc.strerror or str(exc)


def run(args: argparse.Namespace) -> int:
    path: Path = args.file
    try:
        data = path.read_bytes()
    except OSError as exc:
        print(f"eingang: {path}: cannot read: {_reason(exc)}", file=sys.stderr)
        return 2
    try:
        result = read_invoice(data)
    except ReadError as exc:
        print(f"eingang: {path}: {exc.reason}", file=sys.stderr)
        return 1
    html = render_invoice(result, lang=args.lang)
    out: Path = args.output
    if str(out) == "-":
        sys.stdout.write(html)
        return 0
    try:
        # Bytes, not text mode: the page declares UTF-8 and must be UTF-8 on every platform.
        out.write_bytes(html.encode("utf-8"))
    except OSError as exc:
        print(f"eingang: {out}: cannot write: {_reason(exc)}", file=sys.stderr)
        return 2
    return 0
