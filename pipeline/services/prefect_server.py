"""Prefect: ``PREFECT_API_URL`` when set, else ``prefect server start`` with its home in ``DATA_DIR/prefect``.

The server keeps its SQLite database in its home, so flow runs survive ``down`` and ``up``.
It prefers port 4200 (Prefect's default, which people remember) and takes any free port when
4200 is busy, e.g. for a second data directory. Analytics are off.
"""

from __future__ import annotations

import subprocess
import sys

from pipeline.services._environment import prefect_home
from pipeline.services._lifecycle import Health, adopt_external, ensure_started, http_health, log_path, stop_recorded
from pipeline.services._process import is_running, spawn, start_time
from pipeline.services.ports import LOOPBACK, choose_port
from pipeline.services.state import ServiceRecord, ServiceState
from pipeline.settings import Settings

__all__ = ["NAME", "health", "start", "stop", "ui_url"]

NAME = "prefect"
_PREFERRED_PORT = 4200
# The first start creates the database; on a slow machine that takes a while.
_START_TIMEOUT = 120.0


def ui_url(api_url: str) -> str:
    """The Prefect UI belongs at the API URL without its ``/api``."""
    return api_url.removesuffix("/").removesuffix("/api")


def _launch(settings: Settings) -> tuple[ServiceRecord, subprocess.Popen[bytes]]:
    home = prefect_home(settings)
    log = log_path(settings, NAME)
    port = choose_port(_PREFERRED_PORT)
    api_url = f"http://{LOOPBACK}:{port}/api"
    args = [
        sys.executable,
        "-m",
        "prefect",
        "server",
        "start",
        "--host",
        LOOPBACK,
        "--port",
        str(port),
        "--analytics-off",
    ]
    env = {
        "PREFECT_HOME": home,
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        # The server's own UI and any client it spawns talk to this server, not one from our environment.
        "PREFECT_API_URL": api_url,
        "PREFECT_UI_API_URL": api_url,
    }
    proc = spawn(args, env=env, log=log, cwd=settings.data_dir)
    record = ServiceRecord(
        name=NAME,
        url=api_url,
        port=port,
        pid=proc.pid,
        started_by_us=True,
        pid_start=start_time(proc.pid),
        log=str(log),
    )
    return record, proc


def _api_health(api_url: str) -> Health:
    return http_health(f"{api_url.removesuffix('/')}/health")


def start(settings: Settings, state: ServiceState) -> ServiceRecord:
    if settings.prefect_api_url:
        record = ServiceRecord(name=NAME, url=settings.prefect_api_url, port=None, pid=None, started_by_us=False)
        adopt_external(state, record, lambda r: _api_health(str(r.url)), timeout=15, source="PREFECT_API_URL")
        return record
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    return ensure_started(
        state, NAME, launch=lambda: _launch(settings), ready=lambda r: _api_health(str(r.url)), timeout=_START_TIMEOUT
    )


def stop(settings: Settings, state: ServiceState) -> ServiceRecord | None:
    return stop_recorded(state, NAME)


def health(settings: Settings, state: ServiceState) -> Health:
    record = state.get(NAME)
    if record is None:
        if settings.prefect_api_url:
            return _api_health(settings.prefect_api_url)
        return Health(False, "not started")
    if record.started_by_us and not is_running(record.pid, record.pid_start):
        return Health(False, f"process {record.pid} is gone")
    return _api_health(str(record.url))
