"""``eingang rules install SOURCE | verify | where [--rules-dir DIR]``: manage the rule pack.

The rule pack holds the official XML Schemas (pinned by SHA-256 in ``validators/rulepack/manifest.json``)
and, optionally, compiled Schematron of a KoSIT configuration release. Its default location is the
settings' (``$EINGANG_RULES_DIR``, else ``rules/`` under the data directory).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from pipeline.settings import load_settings
from validators.rulepack import RulePackError, install, verify

__all__ = ["register", "rules_dir_from"]


def rules_dir_from(explicit: Path | None) -> Path:
    """The rule-pack directory: the option if given, else the one the settings name."""
    return explicit if explicit is not None else load_settings().resolved_rules_dir


def register(sub: Any) -> None:
    parser = sub.add_parser("rules", help="install and check the official rule pack (XML Schemas, Schematron)")
    actions = parser.add_subparsers(dest="rules_action", required=True, parser_class=type(parser))

    p_install = actions.add_parser("install", help="copy the pinned official files from a directory or zip")
    p_install.add_argument("source", type=Path, metavar="SOURCE", help="a directory or a zip archive")
    p_install.add_argument("--rules-dir", type=Path, metavar="DIR", help="where the rule pack goes")
    p_install.add_argument(
        "--allow-unpinned",
        action="store_true",
        help="also install compiled Schematron (*.xsl, *.xslt) found in SOURCE; their hashes are not pinned yet",
    )
    p_install.set_defaults(run=run_install)

    p_verify = actions.add_parser("verify", help="check an installed rule pack against the pinned hashes")
    p_verify.add_argument("--rules-dir", type=Path, metavar="DIR")
    p_verify.set_defaults(run=run_verify)

    p_where = actions.add_parser("where", help="print the rule-pack directory in use")
    p_where.add_argument("--rules-dir", type=Path, metavar="DIR")
    p_where.set_defaults(run=run_where)


def run_install(args: argparse.Namespace) -> int:
    dest = rules_dir_from(args.rules_dir)
    try:
        result = install(args.source, dest, allow_unpinned=args.allow_unpinned)
    except (RulePackError, OSError) as exc:
        sys.stderr.write(f"eingang: error: rule pack not installed: {exc}\n")
        return 2
    extra = f", {len(result.unpinned)} unpinned stylesheet(s)" if result.unpinned else ""
    print(f"installed {len(result.installed)} verified files{extra} into {result.dest}")
    return 0


def run_verify(args: argparse.Namespace) -> int:
    root = rules_dir_from(args.rules_dir)
    problems = verify(root)
    if problems:
        for problem in problems:
            print(f"{root}: {problem}")
        return 1
    print(f"{root}: rule pack verified")
    return 0


def run_where(args: argparse.Namespace) -> int:
    print(rules_dir_from(args.rules_dir))
    return 0
