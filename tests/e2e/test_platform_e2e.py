"""The whole platform as a user runs it: ``eingang up``, submit invoices without processing them, the
served ``process-documents`` deployment judges them, the web app shows them, ``eingang down``.

Real services throughout: the session's PostgreSQL server (with a database of this module's own,
because the served flow claims every received document it finds), and the SeaweedFS, Prefect
server, web app and flow runner that ``eingang up`` starts under a temporary data directory.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import psycopg
import pytest
from psycopg import sql

REPO = Path(__file__).resolve().parents[2]
CORPUS = REPO.parent / "shared" / "corpus"
KOSIT = CORPUS / "kosit-testsuite" / "business-cases" / "standard"
INVOICES = (
    KOSIT / "01.03a-INVOICE_ubl.xml",
    KOSIT / "01.04a-INVOICE_uncefact.xml",
    CORPUS / "zugferd" / "csharp-zf23" / "EN16931_Einfach.pdf",
)
# Settings that would point the platform at services other than the ones this test chooses.
_PLATFORM_VARS = (
    "EINGANG_DATA_DIR", "DATABASE_URL", "S3_ENDPOINT", "S3_SECURE", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY",
    "PREFECT_API_URL", "PREFECT_HOME", "EINGANG_WEB_PORT", "EINGANG_WEB_HOST",
)  # fmt: skip
_FINAL = {"accepted", "rejected", "duplicate", "no-invoice", "failed"}
_PROCESSING_DEADLINE = 90.0  # the schedule runs every 10 s; the first run also compiles the validators
# No HTTP proxy from the environment for loopback.
_HTTP = urllib.request.build_opener(urllib.request.ProxyHandler({}))


@pytest.fixture(scope="module")
def e2e_database(database_url: str) -> Iterator[str]:
    name = f"eingang_e2e_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    yield urlunsplit(urlsplit(database_url)._replace(path=f"/{name}"))
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


class Eingang:
    def __init__(self, data_dir: Path, database_url: str) -> None:
        self.data_dir = data_dir
        self.env = {k: v for k, v in os.environ.items() if k not in _PLATFORM_VARS}
        self.env["DATABASE_URL"] = database_url

    def __call__(self, *args: str | Path, timeout: float = 240) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "pipeline.cli", *map(str, args), "--data-dir", str(self.data_dir)],
            capture_output=True, text=True, cwd=REPO, env=self.env, timeout=timeout,
        )  # fmt: skip

    def services(self) -> dict[str, dict[str, Any]]:
        result = self("status", "--format", "json")
        return {s["name"]: s for s in json.loads(result.stdout)["services"]}

    def documents(self) -> dict[str, dict[str, Any]]:
        result = self("list", "--format", "json", "--limit", "1000")
        assert result.returncode == 0, result.stderr
        rows = [json.loads(line) for line in result.stdout.splitlines() if line.strip()]
        return {row["id"]: row for row in rows}


def _alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    return stat[stat.rindex(")") + 2] not in "ZX"


def _get(url: str) -> tuple[int, str]:
    with _HTTP.open(url, timeout=10) as response:
        return response.status, response.read().decode("utf-8")


@pytest.fixture(scope="module")
def platform(tmp_path_factory: pytest.TempPathFactory, e2e_database: str) -> Iterator[Eingang]:
    if not all(path.is_file() for path in INVOICES):
        pytest.skip("../shared/corpus is not present on this machine")
    eingang = Eingang(tmp_path_factory.mktemp("platform-e2e"), e2e_database)
    try:
        up = eingang("up")
        assert up.returncode == 0, f"up failed:\n{up.stdout}\n{up.stderr}"
        migrated = eingang("db", "migrate")
        assert migrated.returncode == 0, migrated.stderr
        yield eingang
    finally:
        eingang("down")


def test_submitted_invoices_are_judged_by_the_served_flow_and_shown_by_the_web_app(platform: Eingang) -> None:
    services = platform.services()
    assert {n: s["state"] for n, s in services.items()} == dict.fromkeys(services, "healthy")

    # GIVEN invoices taken in but not processed
    submitted = platform("submit", "--no-process", *INVOICES)
    assert submitted.returncode == 0, submitted.stderr
    ids = [line.split()[0] for line in submitted.stdout.splitlines() if line.strip()]
    assert len(ids) == len(INVOICES)
    assert all(line.split()[1] == "received" for line in submitted.stdout.splitlines() if line.strip())

    # WHEN the served process-documents deployment gets to them
    deadline = time.monotonic() + _PROCESSING_DEADLINE
    while True:
        rows = platform.documents()
        if all(rows[i]["status"] in _FINAL for i in ids):
            break
        assert time.monotonic() < deadline, {i: rows[i]["status"] for i in ids}
        time.sleep(1)

    # THEN each is judged once, by a flow run
    for doc_id in ids:
        assert rows[doc_id]["status"] == "accepted", rows[doc_id]
        shown = platform("show", doc_id, "--format", "json")
        record = json.loads(shown.stdout)
        verdicts = [e for e in record["events"] if e["from_status"] == "processing"]
        assert len(verdicts) == 1
        assert ":flow-run:" in verdicts[0]["actor"]
        assert record["document"]["attempts"] == 1

    # AND the web app shows them
    web = services["web"]["url"]
    status, page = _get(f"{web}/documents?lang=en")
    assert status == 200
    for doc_id in ids:
        assert doc_id in page
        status, detail = _get(f"{web}/documents/{doc_id}")
        assert status == 200 and "angenommen" in detail
        status, api = _get(f"{web}/api/v1/documents/{doc_id}")
        assert json.loads(api)["document"]["status"] == "accepted"
    assert rows[ids[0]]["invoice_number"] and rows[ids[0]]["invoice_number"] in page

    # AND Prefect knows the flow runs by what they processed
    prefect = services["prefect"]["url"]
    query = {"flow_runs": {"state": {"type": {"any_": ["COMPLETED"]}}}, "sort": "START_TIME_DESC", "limit": 100}
    request = urllib.request.Request(
        f"{prefect}/flow_runs/filter", data=json.dumps(query).encode(), headers={"Content-Type": "application/json"}
    )
    with _HTTP.open(request, timeout=10) as response:
        names = [run["name"] for run in json.loads(response.read())]
    assert any(name.startswith(f"process-documents-{len(ids)}-docs-") for name in names), names


def test_down_stops_the_web_app_and_the_flow_runner(platform: Eingang) -> None:
    services = platform.services()
    pids = [s["pid"] for s in services.values() if s["started_by_us"]]
    assert services["flowrunner"]["pid"] in pids and services["web"]["pid"] in pids

    started = time.monotonic()
    down = platform("down")
    took = time.monotonic() - started

    assert down.returncode == 0, down.stderr
    assert not [pid for pid in pids if _alive(pid)]
    assert took < 60, f"down took {took:.1f}s"  # every service stopped without waiting for SIGKILL
    # the runner shut down on its own terms: schedules paused, so nothing piles up while it is down
    assert "All deployments have been paused" in Path(services["flowrunner"]["log"]).read_text()
