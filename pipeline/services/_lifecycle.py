"""The start/wait/stop steps every service shares, and the errors they raise.

A service module supplies how to launch its server and how to tell it is healthy; this module
decides whether to launch at all (an earlier ``up`` may have started it), records it before
waiting (so ``down`` can stop it even if we crash while waiting), waits with a deadline, and
stops what it launched when the wait fails.
"""

from __future__ import annotations

import signal
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from pipeline.services._process import is_running, stop_group
from pipeline.services.state import ServiceRecord, ServiceState
from pipeline.settings import Settings

__all__ = [
    "Health",
    "ServiceError",
    "ServiceSkipped",
    "adopt_external",
    "ensure_started",
    "http_health",
    "log_path",
    "redact_url",
    "stop_recorded",
]


@dataclass(frozen=True)
class Health:
    ok: bool
    detail: str


class ServiceError(RuntimeError):
    """A service could not be started, reached or stopped; the message names it and its log file."""


class ServiceSkipped(Exception):  # an outcome, not an error: `up` goes on without it
    """The service's code is not part of this installation yet; ``up`` warns and continues."""


Launch = Callable[[], tuple[ServiceRecord, "subprocess.Popen[bytes]"]]
Check = Callable[[ServiceRecord], Health]


def log_path(settings: Settings, name: str) -> Path:
    return settings.data_dir / "logs" / f"{name}.log"


def redact_url(url: str) -> str:
    """``url`` without its password, for printing."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.netloc.rsplit("@", 1)[1]
    return urlunsplit(parts._replace(netloc=f"{parts.username}:***@{host}"))


# Loopback health checks must not go through an HTTP proxy from the environment.
_NO_PROXY = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def http_health(url: str, timeout: float = 3.0) -> Health:
    """Healthy when ``GET url`` answers 200."""
    try:
        with _NO_PROXY.open(url, timeout=timeout) as response:
            return Health(response.status == 200, f"HTTP {response.status} from {url}")
    except urllib.error.HTTPError as exc:
        return Health(False, f"HTTP {exc.code} from {url}")
    except (OSError, ValueError) as exc:
        return Health(False, f"{url}: {getattr(exc, 'reason', exc)}")


def _wait_until_healthy(
    record: ServiceRecord,
    check: Check,
    *,
    timeout: float,
    proc: subprocess.Popen[bytes] | None = None,
) -> Health:
    where = f"; see {record.log}" if record.log else ""
    deadline = time.monotonic() + timeout
    while True:
        if proc is not None and proc.poll() is not None:
            raise ServiceError(f"{record.name} exited with status {proc.returncode} while starting{where}")
        if proc is None and record.started_by_us and not is_running(record.pid, record.pid_start):
            raise ServiceError(f"{record.name} (pid {record.pid}) is no longer running{where}")
        health = check(record)
        if health.ok:
            return health
        if time.monotonic() >= deadline:
            raise ServiceError(f"{record.name} not healthy after {timeout:.0f}s: {health.detail}{where}")
        time.sleep(0.25)


def ensure_started(
    state: ServiceState,
    name: str,
    *,
    launch: Launch,
    ready: Check,
    timeout: float,
    graceful: signal.Signals = signal.SIGTERM,
    leader_only: bool = False,
    after_ready: Callable[[ServiceRecord], None] | None = None,
) -> ServiceRecord:
    """The running service ``name``: the one an earlier ``up`` started if it still runs, else a new one.

    ``ready`` is polled until it passes or ``timeout`` runs out; ``after_ready`` (which must be
    safe to repeat) runs once it passed, for a fresh or a reused server alike.
    """
    record = state.get(name)
    if record is not None and record.started_by_us and is_running(record.pid, record.pid_start):
        _wait_until_healthy(record, ready, timeout=timeout)
        if after_ready is not None:
            after_ready(record)
        return record
    if record is not None:
        if record.started_by_us and record.pid is not None:
            # The leader died; anything it forked may still hold ports or files. stop_group leaves
            # the group alone if the pid now belongs to another program.
            stop_group(record.pid, record.pid_start, graceful=graceful, leader_only=leader_only, timeout=5)
        state.remove(name)
    record, proc = launch()
    state.put(record)
    try:
        _wait_until_healthy(record, ready, timeout=timeout, proc=proc)
        if after_ready is not None:
            after_ready(record)
    except BaseException:
        # A server that never got healthy is of no use to anyone: stop it rather than leave it half up.
        if record.pid is not None:
            stop_group(record.pid, record.pid_start, graceful=graceful, leader_only=leader_only)
        state.remove(name)
        raise
    return record


def adopt_external(state: ServiceState, record: ServiceRecord, check: Check, *, timeout: float, source: str) -> None:
    """Record a service configured from outside (``source`` names the setting) once it answers."""
    previous = state.get(record.name)
    if previous is not None and previous.started_by_us and is_running(previous.pid, previous.pid_start):
        raise ServiceError(
            f"{record.name} is now configured by {source}, but the embedded {record.name} an earlier "
            f"`eingang up` started still runs (pid {previous.pid}); run `eingang down` first"
        )
    try:
        _wait_until_healthy(record, check, timeout=timeout)
    except ServiceError as exc:
        raise ServiceError(f"{exc} (configured by {source}; eingang does not start it)") from None
    state.put(record)


def stop_recorded(
    state: ServiceState,
    name: str,
    *,
    graceful: signal.Signals = signal.SIGTERM,
    leader_only: bool = False,
    timeout: float = 15.0,
    repeat: bool = True,
) -> ServiceRecord | None:
    """Stop ``name`` if we started it and forget it; a service configured from outside is only forgotten.

    Returns the record of what was stopped, None when there was nothing of ours. ``repeat``: see ``stop_group``.
    """
    record = state.get(name)
    if record is None:
        return None
    if record.started_by_us and record.pid is not None:
        if not stop_group(
            record.pid, record.pid_start, graceful=graceful, leader_only=leader_only, timeout=timeout, repeat=repeat
        ):
            raise ServiceError(f"{name} (process group {record.pid}) did not stop even after SIGKILL")
        state.remove(name)
        return record
    state.remove(name)
    return None
