"""``eingang mail poll|notices [--config FILE] [--mailbox NAME]``: one pass over the configured IMAP mailboxes.

``poll`` takes every new mail in (see ``connectors.mailbox``), moves it to the folder for its outcome,
then sends the pending notices; ``notices`` only sends the pending notices. The configuration is
``mailboxes.toml`` in the data directory unless ``--config`` names another file. This command is
where the environment variables the configuration names (``password_env``) are read: the
connectors get the values passed in and never look at the environment themselves.

One line per mail: mailbox, UID, outcome, the folder it was moved to, its documents, subject.
Exit status: 0 the pass completed, 1 some mail failed (moved to the failed folder or left for a
retry), 2 configuration, mailbox or service error.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any

from connectors.mailbox import MailboxError, MailboxResult, poll
from connectors.mailconfig import MailConfigError, default_config_path, load_config
from connectors.notices import NoticeResult, send_pending
from pipeline.commands._platform import add_data_dir, guarded, platform_settings, require_schema
from pipeline.settings import Settings

__all__ = ["register"]


def register(sub: Any) -> None:
    parser = sub.add_parser("mail", help="take invoices in from IMAP mailboxes, send notices to senders")
    actions = parser.add_subparsers(dest="mail_command", required=True, parser_class=type(parser))
    poll_parser = actions.add_parser("poll", help="one pass over the mailboxes, then send pending notices")
    poll_parser.add_argument("--mailbox", action="append", metavar="NAME", help="only this mailbox (repeatable)")
    poll_parser.add_argument("--no-notices", action="store_true", help="do not send notices after the pass")
    notices_parser = actions.add_parser("notices", help="send the pending notices to senders")
    for p in (poll_parser, notices_parser):
        p.add_argument("--config", type=Path, metavar="FILE", help="the connector configuration (TOML)")
        add_data_dir(p)
    poll_parser.set_defaults(run=guarded(_configured(run_poll)))
    notices_parser.set_defaults(run=guarded(_configured(run_notices)))


def _configured(run: Any) -> Any:
    def wrapper(args: argparse.Namespace) -> int:
        try:
            return int(run(args))
        except (MailConfigError, MailboxError) as exc:
            sys.stderr.write(f"eingang: error: {exc}\n")
            return 2

    return wrapper


def _load(args: argparse.Namespace) -> tuple[Settings, Any]:
    settings = platform_settings(args)
    require_schema(settings)
    path = args.config or default_config_path(settings)
    # The one place the variables named by password_env are read (pipeline.settings reads the rest).
    return settings, load_config(path, os.environ)


def _print_notices(result: NoticeResult | None) -> None:
    if result is None:
        return
    if result.sent or result.failed:
        print(f"notices: {result.sent} sent, {result.failed} not sent (retried on the next pass)")
    for error in result.errors:
        sys.stderr.write(f"eingang: notice not sent: {error}\n")


def _print_mailbox(box: MailboxResult) -> int:
    if box.error:
        sys.stderr.write(f"eingang: error: mailbox {box.mailbox}: {box.error}\n")
        return 2
    if box.busy:
        print(f"{box.mailbox}: another process is polling this mailbox; skipped")
        return 0
    code = 0
    for mail in box.mails:
        docs = f"{len(mail.document_ids)} doc(s)"
        print(f"{box.mailbox}  {mail.uid:>6}  {mail.status:<10}  {mail.moved_to or '-':<24}  {docs:<9}  "
              f"{mail.subject or ''}")  # fmt: skip
        if mail.status == "failed" or (mail.status == "received" and mail.reason):
            code = 1
    taken = sum(1 for m in box.mails if m.new)
    print(f"{box.mailbox}: {len(box.mails)} mail(s), {taken} new, {box.skipped} left alone by the filter")
    return code


def run_poll(args: argparse.Namespace) -> int:
    settings, config = _load(args)
    if not config.mailbox:
        print(f"no [[mailbox]] in {config.path}")
        return 0
    result = poll(settings, config, only=args.mailbox, send_notices=not args.no_notices)
    code = max((_print_mailbox(box) for box in result.mailboxes), default=0)
    _print_notices(result.notices)
    return code


def run_notices(args: argparse.Namespace) -> int:
    settings, config = _load(args)
    if config.smtp is None:
        raise MailConfigError(f"no [smtp] section in {config.path}: notices cannot be sent")
    result = send_pending(settings, config.smtp)
    _print_notices(result)
    if not (result.sent or result.failed):
        print("notices: nothing pending")
    return 1 if result.failed else 0
