"""Supplier upload end to end: the operator creates an account and a token with the ``eingang`` command line,
the supplier uploads over HTTP to the web app under uvicorn (started the way ``eingang up`` starts it),
AP staff see the document with ``eingang show``, and a revoked token stops working. Real PostgreSQL and
SeaweedFS; nothing replaced."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest

from pipeline.settings import Settings

REPO = Path(__file__).resolve().parents[2]
INVOICE = REPO.parent / "shared/corpus/kosit-testsuite/business-cases/standard/01.01a-INVOICE_uncefact.xml"
Run = Callable[..., subprocess.CompletedProcess[str]]

pytestmark = pytest.mark.corpus


def _environment(settings: Settings) -> dict[str, str]:
    """The environment `eingang up` gives its children, pointing at the session's services."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("EINGANG_", "DATABASE_URL", "S3_", "AWS_"))}
    env.update(
        EINGANG_DATA_DIR=str(settings.data_dir),
        DATABASE_URL=settings.database_url or "",
        S3_ENDPOINT=settings.s3_endpoint or "",
        AWS_ACCESS_KEY_ID=settings.s3_access_key.get_secret_value(),
        AWS_SECRET_ACCESS_KEY=settings.s3_secret_key.get_secret_value(),
    )
    return env


@pytest.fixture(scope="module")
def eingang(platform_settings: Settings) -> Run:
    """``eingang`` in a fresh interpreter, pointed at the session's services through the environment."""
    env = _environment(platform_settings)

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "pipeline.cli", *args], capture_output=True, text=True, cwd=REPO, env=env,
            timeout=300,
        )  # fmt: skip

    migrated = run("db", "migrate")
    assert migrated.returncode == 0, migrated.stderr
    return run


@pytest.fixture(scope="module")
def server(platform_settings: Settings, eingang: Run, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The web app as `eingang up` runs it: ``uvicorn --factory pipeline.web:create_app``, settings from the
    environment, on a free loopback port; stopped (its own process group only) at the end."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = int(probe.getsockname()[1])
    log = tmp_path_factory.mktemp("web") / "uvicorn.log"
    args = [sys.executable, "-m", "uvicorn", "--factory", "pipeline.web:create_app", "--host", "127.0.0.1",
            "--port", str(port)]  # fmt: skip
    with log.open("ab") as out:
        proc = subprocess.Popen(
            args, cwd=REPO, env=_environment(platform_settings), stdin=subprocess.DEVNULL, stdout=out,
            stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"uvicorn exited with {proc.returncode}: {log.read_text()[-2000:]}")
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as answer:
                    if answer.status == 200:
                        break
            except OSError:
                if time.monotonic() > deadline:
                    raise RuntimeError(f"uvicorn not ready: {log.read_text()[-2000:]}") from None
            time.sleep(0.1)
        yield f"http://127.0.0.1:{port}"
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def _http(method: str, url: str, token: str, body: bytes | None = None) -> tuple[int, dict[str, Any]]:
    headers = {"Authorization": f"Bearer {token}"}
    if body is not None:
        headers |= {"Content-Type": "application/xml", "Content-Disposition": 'attachment; filename="RE-1.xml"'}
    request = urllib.request.Request(url, data=body, method=method, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=120) as answer:
            return answer.status, json.loads(answer.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def test_an_operator_issues_a_token_and_the_supplier_uploads_with_it(
    eingang: Run, server: str, platform_settings: Settings
) -> None:
    if not INVOICE.is_file():
        pytest.skip(f"{INVOICE} is not present on this machine")
    company = f"Lieferant {uuid.uuid4().hex[:6]} GmbH & Co. KG"
    added = eingang("suppliers", "add", company, "--vat-id", "de 123 456 789")
    assert added.returncode == 0, added.stderr
    status, name, *_ = added.stdout.split()
    assert status == "created" and re.fullmatch(r"lieferant-[0-9a-f]{6}-gmbh-co.-kg", name), added.stdout
    again = eingang("suppliers", "add", company)
    assert again.returncode == 0 and again.stdout.split()[:2] == ["exists", name]
    conflict = eingang("suppliers", "add", name, "--vat-id", "DE999999999")
    assert conflict.returncode == 2 and "exists with VAT id DE123456789" in conflict.stderr

    created = eingang("suppliers", "token", "create", company, "--label", "ERP export")
    assert created.returncode == 0, created.stderr
    token = created.stdout.strip()
    assert token.startswith("egu_") and len(token) > 40 and "shown only this once" in created.stderr

    number = f"E2E-{uuid.uuid4().hex[:8]}"
    text = INVOICE.read_text(encoding="utf-8")
    body = re.sub(r"(<rsm:ExchangedDocument>\s*<ram:ID>)[^<]*<", rf"\g<1>{number}<", text, count=1).encode()
    status_code, answer = _http("POST", f"{server}/api/v1/invoices", token, body)
    assert status_code == 201, answer
    assert answer["status"] == "accepted" and answer["invoice"]["number"] == number
    assert _http("POST", f"{server}/api/v1/invoices", token, body) == (200, answer)
    listed = _http("GET", f"{server}/api/v1/invoices", token)[1]["documents"]
    assert [d["id"] for d in listed] == [answer["id"]]

    shown = eingang("show", answer["id"])
    assert shown.returncode == 0, shown.stderr
    assert f"source    upload:{name} key upload:{name}:" in shown.stdout and "RE-1.xml" in shown.stdout
    accounts = eingang("suppliers", "list").stdout
    assert re.search(rf"^{re.escape(name)}\s+DE123456789\s+1 token\(s\)\s+1 doc\(s\)", accounts, re.M), accounts

    tokens = eingang("suppliers", "token", "list", name)
    assert tokens.returncode == 0 and tokens.stdout.startswith(token[:12]) and "active" in tokens.stdout
    assert "ERP export" in tokens.stdout and "last used -" not in tokens.stdout
    revoked = eingang("suppliers", "token", "revoke", token[:12])
    assert revoked.returncode == 0 and revoked.stdout.split()[:2] == ["revoked", token[:12]]
    assert eingang("suppliers", "token", "revoke", token[:12]).stdout.startswith("already revoked")
    assert _http("GET", f"{server}/api/v1/invoices", token)[0] == 401
    assert "revoked" in eingang("suppliers", "token", "list", name).stdout
    with psycopg.connect(platform_settings.database_url or "") as conn:
        kinds = conn.execute("SELECT kind FROM events WHERE data->>'account' = %s ORDER BY id", (name,)).fetchall()
    assert [k for (k,) in kinds] == ["upload-token-created", "upload-token-revoked"]  # who could upload, and when
    assert eingang("audit", "verify").stdout.startswith("OK")
    unknown = eingang("suppliers", "token", "create", "nobody-here")
    assert unknown.returncode == 2 and "eingang suppliers add" in unknown.stderr
