"""The web app: ``uvicorn --factory pipeline.web:create_app`` pointed at the running services.

It listens on ``EINGANG_WEB_HOST`` (loopback by default). Its port is ``EINGANG_WEB_PORT`` when
that is set (and then must be free); otherwise 8088 when free, else any free port, so a second
data directory gets its own. Healthy when ``GET /healthz`` answers 200.
"""

from __future__ import annotations

import importlib.util
import subprocess
import sys

from pipeline.services._environment import code_root, service_env
from pipeline.services._lifecycle import Health, ensure_started, http_health, log_path, stop_recorded
from pipeline.services._process import is_running, spawn, start_time
from pipeline.services.ports import LOOPBACK, choose_port
from pipeline.services.state import ServiceRecord, ServiceState
from pipeline.settings import Settings

__all__ = ["APP", "NAME", "available", "health", "start", "stop"]

NAME = "web"
APP = "pipeline.web:create_app"
_START_TIMEOUT = 60.0
_WILDCARD = ("", "0.0.0.0", "::")


def available() -> bool:
    """Whether this installation has the web app (it always should; a missing one fails ``start``)."""
    try:
        return importlib.util.find_spec(APP.split(":")[0]) is not None
    except ImportError:
        return False


def _port(settings: Settings) -> int:
    if "web_port" in settings.model_fields_set:
        return settings.web_port  # asked for explicitly: use it or fail, never silently elsewhere
    return choose_port(settings.web_port, settings.web_host)


def _launch(settings: Settings, state: ServiceState) -> tuple[ServiceRecord, subprocess.Popen[bytes]]:
    log = log_path(settings, NAME)
    port = _port(settings)
    host = settings.web_host
    args = [sys.executable, "-m", "uvicorn", "--factory", APP, "--host", host, "--port", str(port)]
    proc = spawn(args, env=service_env(settings, state), log=log, cwd=code_root())
    # A server on every interface is still reached by its users here through loopback.
    url_host = LOOPBACK if host in _WILDCARD else host
    record = ServiceRecord(
        name=NAME,
        url=f"http://{url_host}:{port}",
        port=port,
        pid=proc.pid,
        started_by_us=True,
        pid_start=start_time(proc.pid),
        log=str(log),
    )
    return record, proc


def _healthz(record: ServiceRecord) -> Health:
    return http_health(f"{record.url}/healthz")


def start(settings: Settings, state: ServiceState) -> ServiceRecord:
    """Start the web app and wait until it answers ``/healthz``."""
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    return ensure_started(state, NAME, launch=lambda: _launch(settings, state), ready=_healthz, timeout=_START_TIMEOUT)


def stop(settings: Settings, state: ServiceState) -> ServiceRecord | None:
    return stop_recorded(state, NAME)


def health(settings: Settings, state: ServiceState) -> Health:
    record = state.get(NAME)
    if record is None:
        return Health(False, "not started")
    if not is_running(record.pid, record.pid_start):
        return Health(False, f"process {record.pid} is gone")
    return _healthz(record)
