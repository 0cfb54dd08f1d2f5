"""``eingang suppliers …``: the accounts suppliers upload invoices with, and their API tokens.

    eingang suppliers add NAME [--vat-id ID]      create (or find) an upload account
    eingang suppliers list                        accounts with live tokens and documents uploaded
    eingang suppliers token create NAME [--label TEXT]
                                                  print a new API token once (stdout: the token only)
    eingang suppliers token list [NAME] [--active]
    eingang suppliers token revoke PREFIX...      the prefix `token list` shows (or the whole token)

NAME may be written as the company is called ("Müller & Söhne GmbH"): the account's name is its
handle ("mueller-soehne-gmbh"), which appears in the documents' source (``upload:{name}``).
Creating and revoking tokens is recorded in the event log. Exit status 0, or 2 with one line on
stderr for a usage or service error.
"""

from __future__ import annotations

import argparse
import sys
from datetime import datetime
from typing import Any

from pipeline.commands._platform import UsageError, actor, add_data_dir, guarded, platform_settings, require_schema
from pipeline.lifecycle import record
from pipeline.settings import Settings
from pipeline.store import connect
from pipeline.store.db import Connection
from pipeline.store.supplier_access import (
    Account,
    account_handle,
    add_account,
    create_token,
    find_account,
    list_accounts,
    list_tokens,
    revoke_token,
)

__all__ = ["register"]


def register(sub: Any) -> None:
    parser = sub.add_parser("suppliers", help="supplier upload accounts and their API tokens")
    actions = parser.add_subparsers(dest="suppliers_action", required=True, parser_class=type(parser))

    p_add = actions.add_parser("add", help="create (or find) an upload account for a supplier")
    p_add.add_argument("name", metavar="NAME", help='the supplier, e.g. "Müller & Söhne GmbH" or mueller-soehne')
    p_add.add_argument("--vat-id", metavar="ID", help="the supplier's VAT id (BT-31), e.g. DE123456789")
    add_data_dir(p_add)
    p_add.set_defaults(run=guarded(run_add))

    p_list = actions.add_parser("list", help="list upload accounts")
    add_data_dir(p_list)
    p_list.set_defaults(run=guarded(run_list))

    p_token = actions.add_parser("token", help="create, list or revoke API tokens")
    tokens = p_token.add_subparsers(dest="token_action", required=True, parser_class=type(parser))
    p_create = tokens.add_parser("create", help="create a token and print it (shown only this once)")
    p_create.add_argument("name", metavar="NAME", help="the upload account")
    p_create.add_argument("--label", metavar="TEXT", help="what the token is for, e.g. 'ERP export'")
    add_data_dir(p_create)
    p_create.set_defaults(run=guarded(run_token_create))

    p_tlist = tokens.add_parser("list", help="list tokens (revoked ones too, marked)")
    p_tlist.add_argument("name", metavar="NAME", nargs="?", help="only this account's tokens")
    p_tlist.add_argument("--active", action="store_true", help="leave out revoked tokens")
    add_data_dir(p_tlist)
    p_tlist.set_defaults(run=guarded(run_token_list))

    p_revoke = tokens.add_parser("revoke", help="revoke tokens: API calls and page sessions stop at once")
    p_revoke.add_argument("prefixes", metavar="PREFIX", nargs="+", help="as `token list` shows it, or the token")
    add_data_dir(p_revoke)
    p_revoke.set_defaults(run=guarded(run_token_revoke))


def _settings(args: argparse.Namespace) -> Settings:
    settings = platform_settings(args)
    require_schema(settings)
    return settings


def _handle(name: str) -> str:
    handle = account_handle(name)
    if not handle:
        raise UsageError(f"cannot make an account name of {name!r}: use letters or digits")
    return handle


def _account(conn: Connection, name: str) -> Account:
    account = find_account(conn, _handle(name))
    if account is None:
        raise UsageError(f"no upload account {_handle(name)!r}: create it with `eingang suppliers add {name!r}`")
    return account


def _when(value: datetime | None) -> str:
    return value.astimezone().strftime("%Y-%m-%d %H:%M") if value else "-"


def run_add(args: argparse.Namespace) -> int:
    settings = _settings(args)
    display = " ".join(args.name.split())
    with connect(settings) as conn:
        account, created = add_account(
            conn, _handle(args.name), display_name=display, vat_id=args.vat_id, actor=actor()
        )
    wanted = "".join((args.vat_id or "").split()).upper()
    if not created and wanted and account.vat_id != wanted:
        # Two VAT ids are two companies: never repoint an account someone already uploads with.
        raise UsageError(f"upload account {account.name!r} exists with VAT id {account.vat_id}, not {wanted}")
    vat = f", VAT id {account.vat_id}" if account.vat_id else ""
    print(f"{'created' if created else 'exists '}  {account.name}  ({account.display_name}{vat})")
    return 0


def run_list(args: argparse.Namespace) -> int:
    settings = _settings(args)
    with connect(settings) as conn:
        rows = list_accounts(conn)
    for row in rows:
        print(
            f"{row['name']:<30}  {row['vat_id'] or '-':<16}  {row['tokens']:>3} token(s)  {row['documents']:>6} doc(s)"
            f"  {row['display_name']}"
        )
    return 0


def run_token_create(args: argparse.Namespace) -> int:
    settings = _settings(args)
    who = actor()
    with connect(settings) as conn, conn.transaction():
        account = _account(conn, args.name)
        issued = create_token(conn, account, label=args.label, actor=who)
        # The event log is the audit trail of who could upload, and since when; never the token itself.
        record(
            conn,
            None,
            "upload-token-created",
            who,
            f"API token {issued.row.prefix} for {account.name}",
            {"account": account.name, "token": issued.row.prefix, "label": args.label},
        )
    print(issued.token)
    sys.stderr.write(
        f"token {issued.row.prefix}… for {account.name} created; it is shown only this once, store it now\n"
    )
    return 0


def run_token_list(args: argparse.Namespace) -> int:
    settings = _settings(args)
    with connect(settings) as conn:
        name = _account(conn, args.name).name if args.name else None
        rows = list_tokens(conn, name, include_revoked=not args.active)
    for t in rows:
        state = f"revoked {_when(t.revoked_at)}" if t.revoked_at else "active"
        print(
            f"{t.prefix}  {t.account:<30}  {state:<24}  created {_when(t.created_at)}"
            f"  last used {_when(t.last_used_at)}  {t.label or ''}".rstrip()
        )
    return 0


def run_token_revoke(args: argparse.Namespace) -> int:
    settings = _settings(args)
    who = actor()
    unknown = []
    with connect(settings) as conn:
        for prefix in args.prefixes:
            with conn.transaction():
                done = revoke_token(conn, prefix, actor=who)
                if done is None:
                    unknown.append(prefix)
                    continue
                row, changed = done
                if changed:
                    record(
                        conn,
                        None,
                        "upload-token-revoked",
                        who,
                        f"API token {row.prefix} of {row.account}",
                        {"account": row.account, "token": row.prefix},
                    )
            print(f"{'revoked' if changed else 'already revoked'}  {row.prefix}  {row.account}")
    if unknown:
        raise UsageError(f"no such token: {', '.join(unknown)} (see `eingang suppliers token list`)")
    return 0
