"""PostgreSQL: the connection pool and the versioned schema migrations.

Connections from the pool run in autocommit mode, so every unit of work that must be atomic
says so with ``with conn.transaction():`` (a real transaction, or a savepoint when nested)
instead of relying on an implicit transaction that someone has to remember to commit.
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from importlib import resources
from typing import Any

import psycopg
from psycopg.rows import dict_row, tuple_row
from psycopg_pool import ConnectionPool

from pipeline.settings import Settings

__all__ = [
    "Connection",
    "Migration",
    "MissingServiceError",
    "close_pools",
    "connect",
    "create_pool",
    "migrate",
    "migrations",
    "pending",
    "pool_for",
    "xact_lock",
]

log = logging.getLogger(__name__)

Connection = psycopg.Connection[dict[str, Any]]

# Any constant works as long as every Eingang process uses the same one; it only has to differ
# from locks other applications sharing the database might take.
MIGRATION_LOCK = 0x45494E47  # "EING"

_NAME = re.compile(r"^(\d{3})_([a-z0-9_]+)\.sql$")


class MissingServiceError(RuntimeError):
    """The settings name no database (or object store): the user has to start or point at one."""


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    sql: str


def migrations() -> list[Migration]:
    """The packaged ``migrations/NNN_name.sql`` files in version order; a gap or a repeat is a bug."""
    found = []
    for entry in resources.files("pipeline.store").joinpath("migrations").iterdir():
        match = _NAME.match(entry.name)
        if match:
            found.append(Migration(int(match[1]), match[2], entry.read_text(encoding="utf-8")))
    found.sort(key=lambda m: m.version)
    versions = [m.version for m in found]
    if versions != list(range(1, len(found) + 1)):
        raise RuntimeError(f"migration versions must run 1, 2, 3 … without gaps: {versions}")
    return found


def pending(conn: psycopg.Connection[Any]) -> list[Migration]:
    """Migrations not applied yet (all of them on an empty database)."""
    with conn.cursor(row_factory=tuple_row) as cur:
        cur.execute("SELECT to_regclass('schema_migrations') IS NOT NULL")
        row = cur.fetchone()
        done: set[int] = set()
        if row and row[0]:
            cur.execute("SELECT version FROM schema_migrations")
            done = {r[0] for r in cur.fetchall()}
    return [m for m in migrations() if m.version not in done]


def migrate(conn: psycopg.Connection[Any]) -> list[Migration]:
    """Apply the migrations not yet recorded in ``schema_migrations``; return those applied.

    Each migration runs in its own transaction together with its ``schema_migrations`` row, so
    it is applied completely or not at all. A session advisory lock makes a second process
    wait and then find nothing left to do, instead of applying the same file twice.
    """
    if conn.info.transaction_status != psycopg.pq.TransactionStatus.IDLE:
        raise RuntimeError("migrate() needs a connection outside a transaction")
    autocommit = conn.autocommit
    conn.autocommit = True  # so each `transaction()` below is a real transaction, not a savepoint
    applied: list[Migration] = []
    try:
        with conn.cursor(row_factory=tuple_row) as cur:
            cur.execute("SELECT pg_advisory_lock(%s)", (MIGRATION_LOCK,))
            try:
                cur.execute(
                    "CREATE TABLE IF NOT EXISTS schema_migrations ("
                    " version integer PRIMARY KEY, name text NOT NULL,"
                    " applied_at timestamptz NOT NULL DEFAULT now())"
                )
                cur.execute("SELECT version FROM schema_migrations")
                done = {row[0] for row in cur.fetchall()}
                for migration in migrations():
                    if migration.version in done:
                        continue
                    with conn.transaction():
                        # A migration file is trusted code shipped with the package, never user input.
                        cur.execute(migration.sql)
                        cur.execute(
                            "INSERT INTO schema_migrations (version, name) VALUES (%s, %s)",
                            (migration.version, migration.name),
                        )
                    log.info("applied migration %03d_%s", migration.version, migration.name)
                    applied.append(migration)
            finally:
                cur.execute("SELECT pg_advisory_unlock(%s)", (MIGRATION_LOCK,))
    finally:
        conn.autocommit = autocommit
    return applied


def create_pool(settings: Settings, *, min_size: int = 1, max_size: int = 8) -> ConnectionPool[Connection]:
    """A pool of autocommit connections with dict rows; a broken connection is replaced on checkout."""
    if not settings.database_url:
        raise MissingServiceError("no database configured: set DATABASE_URL or start the services with `eingang up`")
    return ConnectionPool(
        settings.database_url,
        connection_class=psycopg.Connection[dict[str, Any]],
        kwargs={"autocommit": True, "row_factory": dict_row, "connect_timeout": 5},
        min_size=min_size,
        max_size=max_size,
        check=ConnectionPool.check_connection,
        # A caller waiting longer than this for a connection gets PoolTimeout, a transient error:
        # retrying with backoff is the flow layer's job, not something to block on here.
        timeout=5,
        name="eingang",
        open=True,
    )


# One pool per database URL and process: a pool's threads do not survive a fork, so a child
# process gets its own instead of inheriting a dead one.
_POOLS: dict[tuple[int, str], ConnectionPool[Connection]] = {}


def pool_for(settings: Settings) -> ConnectionPool[Connection]:
    """The process-wide pool for ``settings.database_url``, created on first use."""
    key = (os.getpid(), settings.database_url or "")
    pool = _POOLS.get(key)
    if pool is None or pool.closed:
        pool = _POOLS[key] = create_pool(settings)
    return pool


def close_pools() -> None:
    """Close the pools this process opened (command-line exit, test teardown)."""
    pid = os.getpid()
    for key in [k for k in _POOLS if k[0] == pid]:
        _POOLS.pop(key).close()


def xact_lock(conn: psycopg.Connection[Any], key: int) -> None:
    """Wait for the advisory lock ``key``; it is released when the caller's transaction ends."""
    conn.execute("SELECT pg_advisory_xact_lock(%s)", (key,))


@contextmanager
def connect(settings: Settings) -> Iterator[Connection]:
    """A pooled connection for one unit of work."""
    with pool_for(settings).connection() as conn:
        yield conn
