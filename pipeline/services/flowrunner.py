"""The flow runner: ``python -m flows.serve``, which serves Eingang's Prefect deployments.

It talks to Prefect, the database and the object store through the environment ``service_env``
gives it. It serves nothing itself, so "healthy" means its process runs; at start it must
survive a few seconds, which catches a crash on import or on the first contact with Prefect.
"""

from __future__ import annotations

import importlib.util
import subprocess
import sys
import time

from pipeline.services._environment import code_root, service_env
from pipeline.services._lifecycle import Health, ensure_started, log_path, stop_recorded
from pipeline.services._process import is_running, spawn, start_time
from pipeline.services.state import ServiceRecord, ServiceState
from pipeline.settings import Settings

__all__ = ["MODULE", "NAME", "available", "health", "start", "stop"]

NAME = "flowrunner"
MODULE = "flows.serve"
_SETTLE_SECONDS = 3.0
_START_TIMEOUT = 30.0
_STOP_TIMEOUT = 30.0


def available() -> bool:
    """Whether this installation has the flow runner (it always should; a missing one fails ``start``)."""
    try:
        return importlib.util.find_spec(MODULE) is not None
    except ImportError:
        return False


def _launch(settings: Settings, state: ServiceState) -> tuple[ServiceRecord, subprocess.Popen[bytes]]:
    log = log_path(settings, NAME)
    proc = spawn([sys.executable, "-m", MODULE], env=service_env(settings, state), log=log, cwd=code_root())
    record = ServiceRecord(
        name=NAME, url=None, port=None, pid=proc.pid, started_by_us=True, pid_start=start_time(proc.pid), log=str(log)
    )
    return record, proc


def _alive(record: ServiceRecord) -> Health:
    if is_running(record.pid, record.pid_start):
        return Health(True, f"process {record.pid} runs")
    return Health(False, f"process {record.pid} is gone")


def start(settings: Settings, state: ServiceState) -> ServiceRecord:
    """Start the flow runner and wait until it has survived its first seconds."""
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    launched_at: list[float] = []

    def launch() -> tuple[ServiceRecord, subprocess.Popen[bytes]]:
        launched_at.append(time.monotonic())
        return _launch(settings, state)

    def settled(record: ServiceRecord) -> Health:
        alive = _alive(record)
        if alive.ok and launched_at and time.monotonic() - launched_at[0] < _SETTLE_SECONDS:
            return Health(False, "just started")
        return alive

    return ensure_started(state, NAME, launch=launch, ready=settled, timeout=_START_TIMEOUT)


def stop(settings: Settings, state: ServiceState) -> ServiceRecord | None:
    # One SIGTERM: the runner cancels what runs and pauses its schedules, a few API calls that take
    # longer on a busy machine; a second SIGTERM would make it exit in the middle of them.
    return stop_recorded(state, NAME, repeat=False, timeout=_STOP_TIMEOUT)


def health(settings: Settings, state: ServiceState) -> Health:
    record = state.get(NAME)
    if record is None:
        return Health(False, "not started")
    return _alive(record)
