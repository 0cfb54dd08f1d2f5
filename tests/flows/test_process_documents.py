"""The ``process-documents`` flow under a real Prefect server (``prefect_test_harness``), against the
session's real PostgreSQL (a database of this module's own) and SeaweedFS.

The flow reads its settings from the environment, as it does when ``flows.serve`` runs it, so the
tests point the environment at the services; a failing object store is a real TCP endpoint that
refuses or drops connections.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit
from uuid import UUID

import psycopg
import pytest
from prefect import get_client
from prefect.client.schemas.filters import (
    ArtifactFilter,
    ArtifactFilterFlowRunId,
    ArtifactFilterKey,
    ArtifactFilterType,
    TaskRunFilter,
    TaskRunFilterFlowRunId,
)
from prefect.client.schemas.objects import Artifact, FlowRun, State, TaskRun
from prefect.testing.utilities import prefect_test_harness
from psycopg import sql

from flows._artifacts import artifact_key
from flows.process_documents import is_retryable, process_documents
from pipeline.intake import submit
from pipeline.lifecycle import FINAL, Status
from pipeline.settings import Settings
from pipeline.store import TransientError, close_pools, connect, documents, events, migrate

REPO = Path(__file__).resolve().parents[2]
CORPUS = REPO.parent / "shared" / "corpus"
KOSIT = CORPUS / "kosit-testsuite" / "business-cases" / "standard"
ZUGFERD_PDF = CORPUS / "zugferd" / "csharp-zf23" / "EN16931_Einfach.pdf"

# The variables load_settings() reads: each test run sees only the ones this module sets.
_SETTINGS_VARS = (
    "EINGANG_DATA_DIR", "DATABASE_URL", "S3_ENDPOINT", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "S3_SECURE",
    "EINGANG_S3_BUCKET", "EINGANG_WEB_HOST", "EINGANG_WEB_PORT", "EINGANG_RULES_DIR", "EINGANG_BATCH_SIZE",
)  # fmt: skip


@pytest.fixture(scope="module")
def flow_database(database_url: str) -> Iterator[str]:
    """A database of this module's own on the session's server: the flow claims whatever is received,
    so no other test's documents may sit in its queue (and ours stay out of theirs)."""
    name = f"eingang_flows_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    # DATABASE_URL stays a URL (what load_settings and the CLI expect): only the path changes.
    url = urlunsplit(urlsplit(database_url)._replace(path=f"/{name}"))
    with psycopg.connect(url) as conn:
        migrate(conn)
    yield url
    close_pools()
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


@pytest.fixture(scope="module")
def settings(flow_database: str, platform_settings: Settings) -> Settings:
    return platform_settings.model_copy(update={"database_url": flow_database, "web_port": 18088})


def _environ(settings: Settings, **overrides: str) -> dict[str, str]:
    env = {
        "EINGANG_DATA_DIR": str(settings.data_dir),
        "DATABASE_URL": settings.database_url or "",
        "S3_ENDPOINT": settings.s3_endpoint or "",
        "S3_SECURE": "false",
        "AWS_ACCESS_KEY_ID": settings.s3_access_key.get_secret_value(),
        "AWS_SECRET_ACCESS_KEY": settings.s3_secret_key.get_secret_value(),
        "EINGANG_WEB_PORT": str(settings.web_port),
    }
    return {**env, **overrides}


@pytest.fixture(scope="module")
def prefect(settings: Settings) -> Iterator[None]:
    """A real Prefect server (SQLite) for this module, and the environment the served flow would have."""
    with pytest.MonkeyPatch.context() as mp, prefect_test_harness(server_startup_timeout=60):
        for name in _SETTINGS_VARS:
            mp.delenv(name, raising=False)
        for name, value in _environ(settings).items():
            mp.setenv(name, value)
        yield


@pytest.fixture
def env(prefect: None, monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    """Change the flow's environment for one test; the module's is restored afterwards."""
    return monkeypatch


def _corpus(*names: str) -> list[Path]:
    """Corpus invoices by name; each test takes cases no other test uses, or processing would
    rightly call them duplicates (a UBL file and its CII twin are the same invoice, too)."""
    if not CORPUS.is_dir():
        pytest.skip("../shared/corpus is not present on this machine")
    return [ZUGFERD_PDF if name == ZUGFERD_PDF.name else KOSIT / name for name in names]


def _submit(settings: Settings, path: Path) -> UUID:
    # A unique key per call: the corpus bytes may already be in from an earlier test.
    result = submit(settings, path.read_bytes(), filename=path.name, source="test-flow", sender="tests",
                    source_key=f"test-flow:{uuid.uuid4()}")  # fmt: skip
    assert result.created
    return result.document_ids[0]


def _drain(settings: Settings) -> None:
    """Process what earlier tests left received, so the next run sees exactly this test's documents."""
    asyncio.run(process_documents(batch_size=500))


def _run(**parameters: Any) -> State[Any]:
    # Calling the async flow gives a coroutine; Prefect's type hints say "awaitable".
    run: Any = process_documents(**parameters, return_state=True)
    state: State[Any] = asyncio.run(run)
    return state


def _flow_run(state: State[Any]) -> FlowRun:
    run_id = state.state_details.flow_run_id
    assert run_id is not None
    with get_client(sync_client=True) as client:
        return client.read_flow_run(run_id)


def _task_runs(run: FlowRun) -> list[TaskRun]:
    with get_client(sync_client=True) as client:
        return client.read_task_runs(task_run_filter=TaskRunFilter(flow_run_id=TaskRunFilterFlowRunId(any_=[run.id])))


def _artifacts(*, run: FlowRun | None = None, keys: list[str] | None = None) -> list[Artifact]:
    # Only the markdown ones: Prefect adds artifacts of its own (a failed run's stored exception).
    flt = ArtifactFilter(
        flow_run_id=ArtifactFilterFlowRunId(any_=[run.id]) if run else None,
        key=ArtifactFilterKey(any_=keys) if keys else None,
        type=ArtifactFilterType(any_=["markdown"]),
    )
    with get_client(sync_client=True) as client:
        return client.read_artifacts(artifact_filter=flt)


def _status_events(settings: Settings, doc_id: UUID) -> list[tuple[str | None, str | None]]:
    with connect(settings) as conn:
        return [(e.from_status, e.to_status) for e in events.events_for(conn, doc_id) if e.kind == "status"]


def _document(settings: Settings, doc_id: UUID) -> documents.DocumentRow:
    with connect(settings) as conn:
        doc = documents.get_document(conn, doc_id)
    assert doc is not None
    return doc


def test_batch_of_corpus_invoices_is_processed_once_each_with_one_artifact_per_invoice(
    prefect: None, settings: Settings
) -> None:
    files = _corpus("01.01a-INVOICE_ubl.xml", "01.02a-INVOICE_uncefact.xml", "02.01a-INVOICE_ubl.xml",
                    ZUGFERD_PDF.name)  # fmt: skip
    _drain(settings)
    ids = [_submit(settings, path) for path in files]

    state = _run(batch_size=50)

    assert state.is_completed(), state.message
    run = _flow_run(state)
    assert run.name == f"process-documents-{len(ids)}-docs-{str(ids[0]).split('-')[0]}"
    for doc_id, path in zip(ids, files, strict=True):
        doc = _document(settings, doc_id)
        assert doc.status in FINAL and doc.status != Status.FAILED, (path.name, doc.status, doc.status_reason)
        assert doc.attempts == 1
        # exactly one claim and one verdict: received -> processing -> verdict
        assert _status_events(settings, doc_id) == [(None, "received"), ("received", "processing"),
                                                    ("processing", doc.status)]  # fmt: skip
    artifacts = _artifacts(run=run)
    assert sorted(a.key or "" for a in artifacts) == sorted(artifact_key(i) for i in ids)
    by_key = {a.key: a for a in artifacts}
    for doc_id in ids:
        body = str(by_key[artifact_key(doc_id)].data)
        doc = _document(settings, doc_id)
        assert "## " in body and doc.status in body
        assert f"(http://127.0.0.1:18088/documents/{doc_id})" in body
    pdf = str(by_key[artifact_key(ids[-1])].data)
    assert "EN16931_Einfach.pdf" in pdf and "Findings (" in pdf
    assert {t.name for t in _task_runs(run)} >= {f"process-document-{i}" for i in ids}

    # a second run finds nothing: nothing is processed or published twice
    again = _run(batch_size=50)
    assert again.is_completed()
    assert _flow_run(again).name == "process-documents-empty"
    assert all(_document(settings, i).attempts == 1 for i in ids)
    assert len(_artifacts(keys=[artifact_key(i) for i in ids])) == len(ids)


def test_run_for_an_empty_queue_finishes_quickly(prefect: None, settings: Settings) -> None:
    _drain(settings)

    started = time.monotonic()
    state = _run()
    elapsed = time.monotonic() - started

    assert state.is_completed()
    assert state.result() == {}
    assert _flow_run(state).name == "process-documents-empty"
    assert elapsed < 3.0, f"an empty run took {elapsed:.1f}s"


def test_on_demand_run_processes_the_documents_it_is_given(prefect: None, settings: Settings) -> None:
    [path] = _corpus("01.05a-INVOICE_ubl.xml")
    doc_id = _submit(settings, path)

    state = _run(document_ids=[doc_id])

    assert state.is_completed(), state.message
    assert _flow_run(state).name == f"process-documents-1-docs-{str(doc_id).split('-')[0]}"
    assert _document(settings, doc_id).status == Status.ACCEPTED


class _FlakyProxy:
    """A TCP endpoint in front of the real object store that drops every connection until ``heal``."""

    def __init__(self, target: str) -> None:
        host, port = target.rsplit(":", 1)
        self.target = (host, int(port))
        self.server = socket.create_server(("127.0.0.1", 0))
        self.endpoint = f"127.0.0.1:{self.server.getsockname()[1]}"
        self.healed = threading.Event()
        self.dropped = 0
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def heal(self) -> None:
        self.healed.set()

    def close(self) -> None:
        self.server.close()

    def _serve(self) -> None:
        while True:
            try:
                client, _ = self.server.accept()
            except OSError:
                return
            if not self.healed.is_set():
                self.dropped += 1
                client.close()
                continue
            upstream = socket.create_connection(self.target)
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    @staticmethod
    def _pipe(src: socket.socket, dst: socket.socket) -> None:
        with contextlib.suppress(OSError):
            while data := src.recv(65536):
                dst.sendall(data)
        with contextlib.suppress(OSError):
            dst.shutdown(socket.SHUT_WR)


def _wait_for_retry(deadline: float) -> None:
    """Until some task run waits for its retry: the first attempt has failed."""
    with get_client(sync_client=True) as client:
        while time.monotonic() < deadline:
            runs = client.read_task_runs(task_run_filter=TaskRunFilter())
            if any(r.state is not None and r.state.name == "AwaitingRetry" for r in runs):
                return
            time.sleep(0.1)
    raise AssertionError("no task run went into AwaitingRetry")


def test_unreachable_object_store_is_retried_and_the_retry_succeeds(
    env: pytest.MonkeyPatch, settings: Settings
) -> None:
    [path] = _corpus("01.06a-INVOICE_ubl.xml")
    _drain(settings)
    doc_id = _submit(settings, path)
    proxy = _FlakyProxy(settings.s3_endpoint or "")
    env.setenv("S3_ENDPOINT", proxy.endpoint)
    try:
        result: list[State[Any]] = []
        runner = threading.Thread(target=lambda: result.append(_run()))
        runner.start()
        _wait_for_retry(time.monotonic() + 30)
        proxy.heal()  # the object store is back before the retry (2 s later)
        runner.join(60)
    finally:
        proxy.close()

    assert result and result[0].is_completed(), result and result[0].message
    assert proxy.dropped > 0
    doc = _document(settings, doc_id)
    assert doc.status == Status.ACCEPTED
    assert doc.attempts == 1  # retried inside the same claim, not claimed again
    run = _flow_run(result[0])
    [task] = [t for t in _task_runs(run) if t.name == f"process-document-{doc_id}"]
    assert task.run_count == 2
    assert len(_artifacts(run=run)) == 1


def test_object_store_down_for_good_fails_the_run_with_the_reason_and_keeps_the_document_claimed(
    env: pytest.MonkeyPatch, settings: Settings
) -> None:
    [path] = _corpus("01.07a-INVOICE_ubl.xml")
    _drain(settings)
    doc_id = _submit(settings, path)
    with socket.create_server(("127.0.0.1", 0)) as placeholder:
        dead = f"127.0.0.1:{placeholder.getsockname()[1]}"  # nothing listens once it is closed
    env.setenv("S3_ENDPOINT", dead)

    state = _run()

    assert state.is_failed()
    message = state.message or ""
    assert f"{doc_id}: TransientError" in message
    assert f"port={dead.rsplit(':', 1)[1]}" in message and "Connection refused" in message
    run = _flow_run(state)
    [task] = [t for t in _task_runs(run) if t.name == f"process-document-{doc_id}"]
    assert task.run_count == 4  # the first attempt and three retries
    # Not failed and not judged: the claim goes stale and a later run takes the document again.
    doc = _document(settings, doc_id)
    assert doc.status == Status.PROCESSING
    assert not _artifacts(run=run)


@pytest.mark.parametrize(
    ("exc", "expected"),
    [
        (TransientError("object store: MaxRetryError"), True),
        (psycopg.OperationalError("connection refused"), True),
        (ConnectionRefusedError(), True),
        (ValueError("a bug"), False),
        (LookupError("no document"), False),
    ],
)
def test_only_transient_failures_are_retried(exc: BaseException, expected: bool) -> None:
    assert is_retryable(exc) is expected


def test_nothing_is_exported_from_flows_because_nothing_imports_it() -> None:
    import flows

    assert flows.__all__ == []
