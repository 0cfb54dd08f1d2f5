"""``eingang up / status / down`` against real servers, run as a user would, in fresh interpreters.

Platforms A and B use this session's test database (``DATABASE_URL``) and start their own
SeaweedFS and Prefect; one more data directory starts the embedded PostgreSQL, with the object
store and Prefect given from outside. Every test stops what it started, also when it fails.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import psycopg
import pytest

from pipeline.services import load_state, service_env
from pipeline.settings import load_settings

if TYPE_CHECKING:  # loaded for real by tests/conftest.py's pytest_plugins
    from service_fixtures import ObjectStore

REPO = Path(__file__).resolve().parents[2]
# Settings that would point `up` at other services than the ones each test chooses.
_PLATFORM_VARS = (
    "EINGANG_DATA_DIR",
    "DATABASE_URL",
    "S3_ENDPOINT",
    "S3_SECURE",
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "PREFECT_API_URL",
    "EINGANG_WEB_PORT",
    "EINGANG_WEB_HOST",
)


def _environment(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in _PLATFORM_VARS}
    return {**env, **extra}


def _eingang(*args: str | Path, env: dict[str, str], timeout: float = 180) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pipeline.cli", *map(str, args)],
        capture_output=True,
        text=True,
        cwd=REPO,
        env=env,
        timeout=timeout,
    )


def _alive(pid: int) -> bool:
    """Runs (a zombie, dead but not yet reaped by whoever adopted it, does not count)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    return stat[stat.rindex(")") + 2] not in "ZX"


@dataclass(frozen=True)
class Platform:
    data_dir: Path
    env: dict[str, str]

    def run(self, *args: str) -> subprocess.CompletedProcess[str]:
        return _eingang(*args, "--data-dir", self.data_dir, env=self.env)

    def status(self) -> dict[str, Any]:
        result = self.run("status", "--format", "json")
        assert result.returncode in (0, 1), result.stderr
        return dict(json.loads(result.stdout))

    def services(self) -> dict[str, dict[str, Any]]:
        return {s["name"]: s for s in self.status()["services"]}

    def started_pids(self) -> list[int]:
        return [s["pid"] for s in self.services().values() if s["started_by_us"]]


@contextlib.contextmanager
def _running(data_dir: Path, env: dict[str, str]) -> Iterator[Platform]:
    """``up`` on entry, ``down`` on exit, whatever happened in between."""
    platform = Platform(data_dir, env)
    try:
        result = platform.run("up")
        assert result.returncode == 0, f"up failed:\n{result.stdout}\n{result.stderr}"
        yield platform
    finally:
        platform.run("down")


@pytest.fixture(scope="module")
def platform_a(tmp_path_factory: pytest.TempPathFactory, database_url: str) -> Iterator[Platform]:
    with _running(tmp_path_factory.mktemp("platform-a"), _environment(DATABASE_URL=database_url)) as platform:
        yield platform


@pytest.fixture(scope="module")
def platform_b(tmp_path_factory: pytest.TempPathFactory, database_url: str) -> Iterator[Platform]:
    with _running(tmp_path_factory.mktemp("platform-b"), _environment(DATABASE_URL=database_url)) as platform:
        yield platform


def test_up_starts_object_store_and_prefect_and_status_reports_every_service_healthy(platform_a: Platform) -> None:
    status = platform_a.status()
    services = {s["name"]: s for s in status["services"]}

    assert status["healthy"] is True
    assert set(services) == {"postgres", "objectstore", "prefect", "web", "flowrunner"}
    for service in services.values():
        assert service["state"] == "healthy", service
    assert services["postgres"]["started_by_us"] is False  # DATABASE_URL: used, not started
    for name in ("objectstore", "prefect"):
        assert services[name]["started_by_us"] is True
        assert _alive(services[name]["pid"])
        assert Path(services[name]["log"]) == platform_a.data_dir / "logs" / f"{name}.log"
        assert services[name]["url"].startswith("http://127.0.0.1:")


def test_child_environment_points_at_the_running_services(platform_a: Platform, database_url: str) -> None:
    services = platform_a.services()
    settings = load_settings(environ=platform_a.env, data_dir=platform_a.data_dir)

    env = service_env(settings)

    assert env["DATABASE_URL"] == database_url
    assert env["S3_ENDPOINT"] == services["objectstore"]["url"].removeprefix("http://")
    assert env["PREFECT_API_URL"] == services["prefect"]["url"]
    assert env["EINGANG_DATA_DIR"] == str(platform_a.data_dir)
    child = load_settings(environ=env)  # what a child process started with this environment reads
    assert (child.database_url, child.s3_endpoint, child.prefect_api_url) == (
        env["DATABASE_URL"],
        env["S3_ENDPOINT"],
        env["PREFECT_API_URL"],
    )


def test_running_up_twice_starts_nothing_new(platform_a: Platform) -> None:
    before = platform_a.services()

    again = platform_a.run("up")

    assert again.returncode == 0, again.stderr
    assert "already running" in again.stdout
    after = platform_a.services()
    assert {n: s["pid"] for n, s in after.items()} == {n: s["pid"] for n, s in before.items()}
    assert all(s["state"] == "healthy" for s in after.values())


def test_second_data_dir_runs_side_by_side_on_other_ports(platform_a: Platform, platform_b: Platform) -> None:
    a, b = platform_a.services(), platform_b.services()

    for name in ("objectstore", "prefect"):
        assert b[name]["state"] == "healthy"
        assert a[name]["state"] == "healthy"
        assert a[name]["port"] != b[name]["port"]
        assert a[name]["pid"] != b[name]["pid"]


def test_down_stops_exactly_what_up_started(platform_a: Platform, platform_b: Platform, database_url: str) -> None:
    pids_a, pids_b = platform_a.started_pids(), platform_b.started_pids()
    assert pids_a and pids_b

    result = platform_a.run("down")

    assert result.returncode == 0, result.stderr
    assert not [pid for pid in pids_a if _alive(pid)]
    assert not (platform_a.data_dir / "run" / "services.json").exists()
    assert all(_alive(pid) for pid in pids_b)  # the other data directory is untouched
    assert platform_b.status()["healthy"] is True
    with psycopg.connect(database_url) as conn:  # the database we were given still serves
        assert conn.execute("SELECT 1").fetchone() == (1,)
    assert platform_a.run("down").stdout.startswith("nothing to stop")


def test_down_leaves_alone_a_process_that_reuses_a_recorded_pid(tmp_path: Path) -> None:
    # GIVEN a state file whose recorded object store pid now belongs to an unrelated program
    # (same pid, another start time: the kernel handed the pid on after ours had ended)
    stranger = subprocess.Popen(["sleep", "60"], start_new_session=True)
    try:
        run_dir = tmp_path / "run"
        run_dir.mkdir()
        record = {
            "name": "objectstore", "url": "http://127.0.0.1:1", "port": 1, "pid": stranger.pid,
            "started_by_us": True, "pid_start": 1, "log": None,
        }  # fmt: skip
        (run_dir / "services.json").write_text(json.dumps({"version": 1, "services": {"objectstore": record}}))

        # WHEN the platform is stopped
        result = _eingang("down", "--data-dir", tmp_path, env=_environment())

        # THEN the stranger lives on, and the stale record is gone
        assert result.returncode == 0, result.stderr
        assert stranger.poll() is None
        assert load_state(load_settings(environ={}, data_dir=tmp_path)).records() == []
    finally:
        stranger.send_signal(signal.SIGKILL)
        stranger.wait()


def test_embedded_postgres_starts_when_no_database_url_is_set(
    tmp_path_factory: pytest.TempPathFactory, object_store: ObjectStore, platform_b: Platform
) -> None:
    # Object store and Prefect come from outside here, so only PostgreSQL is embedded: this is
    # its test, and the outside ones must come through `down` untouched.
    prefect_api_url = platform_b.services()["prefect"]["url"]
    env = _environment(
        S3_ENDPOINT=object_store.endpoint,
        AWS_ACCESS_KEY_ID=object_store.access_key,
        AWS_SECRET_ACCESS_KEY=object_store.secret_key,
        PREFECT_API_URL=prefect_api_url,
    )
    data_dir = tmp_path_factory.mktemp("platform-embedded")
    with _running(data_dir, env) as platform:
        services = platform.services()
        assert services["postgres"]["state"] == "healthy"
        assert services["postgres"]["started_by_us"] is True
        assert services["postgres"]["url"].startswith("postgresql://postgres@127.0.0.1:")
        assert (services["objectstore"]["started_by_us"], services["prefect"]["started_by_us"]) == (False, False)
        assert (data_dir / "postgres" / "PG_VERSION").exists()
        url = service_env(load_settings(environ=env, data_dir=data_dir))["DATABASE_URL"]
        with psycopg.connect(url) as conn:
            assert conn.execute("SELECT current_database()").fetchone() == ("eingang",)
            conn.execute("CREATE TABLE kept (note text)")
            conn.execute("INSERT INTO kept VALUES ('survives down and up')")

        # down stops our server and only it; the next up starts it again on the same data
        postgres_pid = services["postgres"]["pid"]
        assert platform.run("down").returncode == 0
        assert not _alive(postgres_pid)
        assert platform_b.services()["prefect"]["state"] == "healthy"
        assert platform.run("status").returncode == 1  # postgres is down now
        assert platform.run("up").returncode == 0
        url = service_env(load_settings(environ=env, data_dir=data_dir))["DATABASE_URL"]
        with psycopg.connect(url) as conn:
            assert conn.execute("SELECT note FROM kept").fetchone() == ("survives down and up",)


def test_public_surface_of_the_services_package_is_deliberate() -> None:
    import pipeline.services

    assert sorted(pipeline.services.__all__) == [
        "Health",
        "SERVICES",
        "Service",
        "ServiceError",
        "ServiceRecord",
        "ServiceSkipped",
        "ServiceState",
        "ServiceStatus",
        "bring_down",
        "bring_up",
        "load_state",
        "locked_state",
        "platform_status",
        "redact_url",
        "service_env",
        "state_path",
        "ui_url",
    ]
