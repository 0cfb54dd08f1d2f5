"""Server processes: start each in a process group of its own, know it again later, stop the group.

Every server is started with ``start_new_session=True``, so its pid is also the id of a new
process group holding the server and anything it forks. Stopping signals that group and nothing
else. A pid alone is not an identity (the kernel reuses them), so we keep the kernel's start time
of the pid too and compare it before sending any signal.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

__all__ = ["ProcessUser", "is_running", "spawn", "start_time", "stop_group"]

_PROC = Path("/proc")
_SECOND_SIGNAL_AFTER = 3.0  # seconds; long enough for a clean shutdown to get going, short for `down`


@dataclass(frozen=True)
class ProcessUser:
    """Run a child as this system user (PostgreSQL refuses to run as root)."""

    uid: int
    gid: int


def _stat_fields(pid: int) -> list[str] | None:
    """Fields of /proc/PID/stat from the state on (field 3): the name before it may hold spaces."""
    try:
        raw = (_PROC / str(pid) / "stat").read_text()
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        return None
    return raw[raw.rindex(")") + 2 :].split()


def start_time(pid: int) -> int | None:
    """When the process ``pid`` started, in clock ticks since boot; None if there is none (or a zombie)."""
    if not _PROC.is_dir():  # not Linux: existence is all we can tell
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return None
        except PermissionError:
            return 0
        return 0
    fields = _stat_fields(pid)
    if fields is None or fields[0] in ("Z", "X"):
        return None
    return int(fields[19])  # field 22 of the man page, counted from field 3


def is_running(pid: int | None, pid_start: int | None) -> bool:
    """True when ``pid`` runs and is the same process we recorded (not a later one with its pid)."""
    if pid is None:
        return False
    now = start_time(pid)
    return now is not None and (pid_start is None or now == pid_start)


def _group_alive(pgid: int) -> bool:
    if not _PROC.is_dir():
        try:
            os.killpg(pgid, 0)
        except ProcessLookupError:
            return False
        return True
    for entry in _PROC.iterdir():
        if entry.name.isdigit():
            fields = _stat_fields(int(entry.name))
            # fields[2] is the process group (field 5); zombies are dead, only not yet reaped.
            if fields is not None and fields[0] not in ("Z", "X") and int(fields[2]) == pgid:
                return True
    return False


def _reap(pid: int) -> None:
    """Collect the exit status when ``pid`` is our own child, so it does not linger as a zombie."""
    with contextlib.suppress(ChildProcessError, OSError):
        os.waitpid(pid, os.WNOHANG)


def spawn(
    args: Sequence[str],
    *,
    env: Mapping[str, str],
    log: Path,
    cwd: Path | None = None,
    user: ProcessUser | None = None,
) -> subprocess.Popen[bytes]:
    """Start ``args`` in a new session with stdout and stderr appended to ``log``.

    ``env`` is added to the environment we were started with: children need PATH, locale and
    the like from it, plus the variables that point them at the platform.
    """
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("ab") as out:
        out.write(f"--- {datetime.now(UTC).isoformat(timespec='seconds')} eingang starts: {' '.join(args)}\n".encode())
        out.flush()
        return subprocess.Popen(
            list(args),
            cwd=cwd,
            env={**os.environ, **env},
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            user=user.uid if user else None,
            group=user.gid if user else None,
            extra_groups=[] if user else None,
        )


def stop_group(
    pid: int,
    pid_start: int | None,
    *,
    graceful: signal.Signals = signal.SIGTERM,
    leader_only: bool = False,
    timeout: float = 15.0,
    repeat: bool = True,
) -> bool:
    """Stop the process group led by ``pid``: ``graceful`` twice, then SIGKILL. True when it is gone.

    ``graceful`` goes a second time after a few seconds because some servers treat the first one
    as "finish what you are doing". ``repeat=False`` sends it once and waits the whole ``timeout``,
    for servers whose clean shutdown takes a while and whose answer to a second signal is to drop
    it (Prefect's runner exits at once, before it has paused its schedules).
    ``leader_only`` sends it to the leader alone, for servers (PostgreSQL) whose children must
    hear about a shutdown from their parent, not from us; SIGKILL always goes to the group.
    """
    leader_now = start_time(pid)
    if leader_now is not None and pid_start is not None and leader_now != pid_start:
        return True  # the pid belongs to another program now: ours is long gone, and its group with it
    # While any member of our group lives, the kernel keeps its id (our old pid) from being reused,
    # so a live group with this id is ours even if the leader has exited.
    if not _group_alive(pgid=pid):
        _reap(pid)
        return True
    deadline = time.monotonic() + timeout
    _signal(pid, graceful, leader_only=leader_only)
    if repeat:
        if _wait_gone(pid, time.monotonic() + min(_SECOND_SIGNAL_AFTER, timeout / 2)):
            return True
        _signal(pid, graceful, leader_only=leader_only)
    if _wait_gone(pid, deadline):
        return True
    _signal(pid, signal.SIGKILL, leader_only=False)
    return _wait_gone(pid, time.monotonic() + 5)


def _signal(pid: int, sig: signal.Signals, *, leader_only: bool) -> None:
    with contextlib.suppress(ProcessLookupError):
        if leader_only:
            os.kill(pid, sig)
        else:
            os.killpg(pid, sig)


def _wait_gone(pid: int, deadline: float) -> bool:
    while True:
        _reap(pid)
        if not _group_alive(pid):
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.1)
