"""``eingang db migrate [--data-dir DIR]``: bring the database schema up to date.

Applies the packaged ``pipeline/store/migrations/NNN_name.sql`` files that are not yet recorded in
``schema_migrations``, each in its own transaction; running it again does nothing.
"""

from __future__ import annotations

import argparse
from typing import Any

from pipeline.commands._platform import add_data_dir, guarded, platform_settings
from pipeline.store import connect, migrate, migrations

__all__ = ["register"]


def register(sub: Any) -> None:
    parser = sub.add_parser("db", help="manage the database schema")
    actions = parser.add_subparsers(dest="db_action", required=True, parser_class=type(parser))
    p_migrate = actions.add_parser("migrate", help="apply the schema migrations not applied yet")
    add_data_dir(p_migrate)
    p_migrate.set_defaults(run=guarded(run_migrate))


def run_migrate(args: argparse.Namespace) -> int:
    settings = platform_settings(args)
    with connect(settings) as conn:
        applied = migrate(conn)
    for migration in applied:
        print(f"applied {migration.version:03d}_{migration.name}")
    latest = migrations()[-1]
    print(f"schema is at version {latest.version:03d} ({latest.name})")
    return 0
