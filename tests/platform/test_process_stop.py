"""Stopping a server's process group: a slow clean shutdown is not cut short where that would lose work.

The child below stands in for Prefect's runner: the first SIGTERM starts a shutdown that takes a
while (pausing schedules over the API), a second one makes it exit on the spot, leaving the
shutdown unfinished.
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

from pipeline.services._process import start_time, stop_group

_SLOW_SHUTDOWN = """
import signal, sys, time
from pathlib import Path
done = Path(sys.argv[1])
stopping = False
def on_term(signum, frame):
    global stopping
    if stopping:
        sys.exit(3)
    stopping = True
signal.signal(signal.SIGTERM, on_term)
print("ready", flush=True)
while not stopping:
    time.sleep(0.05)
for _ in range(int(float(sys.argv[2]) * 20)):
    time.sleep(0.05)
done.write_text("paused")
"""


def _start(tmp_path: Path, shutdown_seconds: float) -> tuple[subprocess.Popen[str], Path]:
    done = tmp_path / "done"
    proc = subprocess.Popen(
        [sys.executable, "-c", _SLOW_SHUTDOWN, str(done), str(shutdown_seconds)],
        stdout=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
    return proc, done


def test_a_single_signal_lets_a_slow_shutdown_finish(tmp_path: Path) -> None:
    proc, done = _start(tmp_path, shutdown_seconds=4.5)

    stopped = stop_group(proc.pid, start_time(proc.pid), repeat=False, timeout=30)
    proc.communicate(timeout=5)

    # stop_group reaps its own child, so the exit status is gone: what the child left behind tells.
    assert stopped
    assert done.read_text() == "paused"


def test_a_repeated_signal_cuts_a_slow_shutdown_short(tmp_path: Path) -> None:
    # What the flow runner must not get: the default stop repeats SIGTERM after a few seconds.
    proc, done = _start(tmp_path, shutdown_seconds=10)
    started = time.monotonic()

    stopped = stop_group(proc.pid, start_time(proc.pid), timeout=30)
    proc.communicate(timeout=5)

    assert stopped
    assert not done.exists()
    assert time.monotonic() - started < 9
