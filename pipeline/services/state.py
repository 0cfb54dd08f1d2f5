"""What ``eingang up`` started, in ``DATA_DIR/run/services.json``.

One record per service: its pid (with the kernel's start time of that pid, so a pid the system
later hands to another program is never taken for ours), port, URL, log file, and whether we
started it. ``eingang down`` stops only records with ``started_by_us``; a service configured from
outside (``DATABASE_URL``, ``S3_ENDPOINT``, ``PREFECT_API_URL``) is recorded with
``started_by_us=False`` so that status and child processes see it, and is never stopped.

Each change is written at once (atomically), so a crash halfway through ``up`` still leaves a
file that ``down`` can act on. ``locked_state`` serialises ``up`` and ``down`` on one data
directory; reading for ``status`` needs no lock.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import tempfile
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from pipeline.settings import Settings

__all__ = ["ServiceRecord", "ServiceState", "load_state", "locked_state", "state_path"]

_VERSION = 1


@dataclass(frozen=True)
class ServiceRecord:
    name: str
    url: str | None  # how clients reach it; None for the flow runner, which serves nothing
    port: int | None
    pid: int | None
    started_by_us: bool
    pid_start: int | None = None  # /proc start time of ``pid``: tells our process from a later one with its pid
    log: str | None = None

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ServiceRecord:
        return cls(
            name=str(data["name"]),
            url=data.get("url"),
            port=data.get("port"),
            pid=data.get("pid"),
            started_by_us=bool(data.get("started_by_us", False)),
            pid_start=data.get("pid_start"),
            log=data.get("log"),
        )


def state_path(settings: Settings) -> Path:
    return settings.data_dir / "run" / "services.json"


class ServiceState:
    """The records of one data directory; every ``put``/``remove`` is saved before it returns."""

    def __init__(self, path: Path, records: dict[str, ServiceRecord]) -> None:
        self.path = path
        self._records = dict(records)

    def get(self, name: str) -> ServiceRecord | None:
        return self._records.get(name)

    def records(self) -> list[ServiceRecord]:
        return list(self._records.values())

    def put(self, record: ServiceRecord) -> None:
        self._records[record.name] = record
        self._save()

    def remove(self, name: str) -> None:
        if self._records.pop(name, None) is not None:
            self._save()

    def _save(self) -> None:
        if not self._records:
            # Nothing running: no file, so a stale one can never mislead a later `down`.
            self.path.unlink(missing_ok=True)
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        payload = {"version": _VERSION, "services": {n: asdict(r) for n, r in self._records.items()}}
        # Write-then-rename: a reader sees the old file or the new one, never half of one. 0600
        # because a configured DATABASE_URL may carry a password.
        fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=".services.", suffix=".json")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as out:
                json.dump(payload, out, indent=2, sort_keys=True)
                out.write("\n")
            os.replace(tmp, self.path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise


def load_state(settings: Settings) -> ServiceState:
    path = state_path(settings)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return ServiceState(path, {})
    except (OSError, ValueError) as exc:
        raise OSError(f"cannot read the service state {path}: {exc}") from exc
    if data.get("version") != _VERSION:
        raise OSError(f"{path}: unknown state version {data.get('version')!r}")
    records = {name: ServiceRecord.from_json(rec) for name, rec in data.get("services", {}).items()}
    return ServiceState(path, records)


@contextlib.contextmanager
def locked_state(settings: Settings) -> Iterator[ServiceState]:
    """The state, with an exclusive lock on the data directory for as long as the block runs."""
    path = state_path(settings)
    path.parent.mkdir(parents=True, exist_ok=True)
    with (path.parent / "services.lock").open("a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes, also if we crash
        yield load_state(settings)
