"""The ``process-documents`` flow: claim a batch of received documents and take each to its verdict.

Thin on purpose (STYLE.md §8): claiming and processing are ``pipeline.processing`` functions,
tested without Prefect. This module adds what Prefect is for:

- one flow run per batch, never per invoice, named after what it processes
  (``process-documents-3-docs-1b9e2c4d``; ``process-documents-empty`` when the queue was empty);
- retries with backoff, but only for transient failures (database or object store unreachable):
  a retry is safe because ``process_document`` leaves a finished document untouched, while a
  document that breaks the reader has already been failed with its reason and must not loop;
- a markdown artifact per processed document (verdict, findings, link to the web view) and a log
  line per document.

Flow and tasks are async: a synchronous flow run pays about a second for its heartbeat thread, and
retry waits on the event loop (not in a sleeping thread) let a SIGTERM end a run at once. The
blocking pipeline calls run in threads (``asyncio.to_thread``), a few documents at a time.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from typing import Any
from uuid import UUID

import httpx
from prefect import flow, get_client, get_run_logger, task
from prefect.artifacts import acreate_markdown_artifact
from prefect.client.schemas.objects import State, TaskRun
from prefect.runtime import flow_run

from flows._artifacts import DocumentSummary, artifact_key, document_url, load_summary, summary_markdown
from pipeline.processing import claim_batch, process_document, worker_name
from pipeline.settings import Settings, load_settings
from pipeline.store import connect, is_transient, transient_guard

__all__ = ["FLOW_NAME", "RETRIES", "RETRY_DELAYS", "is_retryable", "process_documents"]

FLOW_NAME = "process-documents"
RETRIES = 3
RETRY_DELAYS: list[float] = [2, 10, 30]  # seconds: rides out a restarting service without hammering it
# Processing is mostly waiting on PostgreSQL and the object store, with validation in between;
# a few at a time overlap that without letting one batch swamp the database pool (8 connections).
MAX_PARALLEL = 4


def is_retryable(exc: BaseException) -> bool:
    """Worth another try: an unreachable database or object store, or Prefect's API not answering."""
    return is_transient(exc) or isinstance(exc, httpx.TransportError)


def _retry_condition(task: Any, task_run: TaskRun, state: State[Any]) -> bool:
    # Prefect hands over the failed attempt as a state whose data is the exception the task raised.
    exc = state.data
    return isinstance(exc, BaseException) and is_retryable(exc)


def _actor() -> str:
    # The event log says which worker process and which flow run did the work.
    run_id = flow_run.get_id()
    return f"{worker_name()}:flow-run:{run_id}" if run_id else worker_name()


def _claim(limit: int, actor: str) -> list[UUID]:
    settings = load_settings()
    with transient_guard("claiming"), connect(settings) as conn:
        return claim_batch(conn, limit, worker=actor)


@task(
    name="claim-batch",
    retries=RETRIES,
    retry_delay_seconds=RETRY_DELAYS,
    retry_condition_fn=_retry_condition,
)
async def claim(limit: int, actor: str) -> list[UUID]:
    """Claim up to ``limit`` received (or stale) documents; a retry claims afresh, nothing is lost."""
    return await asyncio.to_thread(_claim, limit, actor)


@task(
    name="process-document",
    task_run_name="process-document-{doc_id}",
    retries=RETRIES,
    retry_delay_seconds=RETRY_DELAYS,
    retry_condition_fn=_retry_condition,
)
async def process(doc_id: UUID, actor: str) -> str:
    """Take one document to its verdict and publish its artifact; safe to run twice."""
    logger = get_run_logger()
    settings = load_settings()
    # Blocking work runs in a thread only while it works; retry waits are awaited on the event
    # loop, so a SIGTERM ends the run at once instead of waiting for a sleeping thread.
    done = await asyncio.to_thread(process_document, settings, doc_id, worker=actor)
    summary = await asyncio.to_thread(_summary, settings, doc_id)
    url = document_url(settings, doc_id)
    await acreate_markdown_artifact(
        key=artifact_key(doc_id),
        markdown=summary_markdown(summary, url),
        description=f"{summary.filename or doc_id}: {done.status}",
    )
    logger.info(
        "%s %s %s: %s (%d finding(s)) %s",
        doc_id, summary.filename or "-", done.status, done.reason or "-", len(summary.findings), url,
    )  # fmt: skip
    return str(done.status)


def _summary(settings: Settings, doc_id: UUID) -> DocumentSummary:
    with transient_guard(f"summarising {doc_id}"):
        return load_summary(settings, doc_id)


def _run_name() -> str:
    ids = flow_run.get_parameters().get("document_ids") or []
    return _batch_name(ids) if ids else f"{FLOW_NAME}-claiming"


def _batch_name(ids: list[Any]) -> str:
    if not ids:
        return f"{FLOW_NAME}-empty"
    # The first id's leading block identifies the batch in the UI; the full ids are in the task runs.
    return f"{FLOW_NAME}-{len(ids)}-docs-{str(ids[0]).split('-')[0]}"


async def _rename(name: str) -> None:
    # A scheduled run learns what it processes only after claiming, so it is named then.
    run_id = flow_run.get_id()
    if run_id is None:
        return
    try:
        async with get_client() as client:
            await client.update_flow_run(UUID(run_id), name=name)
    except Exception as exc:
        # Only a label: the claimed documents must be processed now, not wait for their claim to go stale.
        get_run_logger().warning("could not rename the flow run to %s: %s", name, exc)


async def _outcome(state: State[str]) -> str | BaseException:
    """The task's status text, or the exception it finally failed with (after its retries)."""
    outcome = await state.aresult(raise_on_failure=False)
    if isinstance(outcome, BaseException):
        return outcome
    if not state.is_completed():  # crashed or cancelled: no exception of its own to show
        return RuntimeError(state.message or str(state.name))
    return str(outcome)


@flow(name=FLOW_NAME, flow_run_name=_run_name, log_prints=False)
async def process_documents(document_ids: list[UUID] | None = None, batch_size: int | None = None) -> dict[str, int]:
    """Claim a batch (``batch_size``, default from settings) and process it; or process ``document_ids``.

    Returns how many documents ended in each status. Raises when any document could not be processed
    after its retries (it stays ``processing`` and is claimed again once its claim goes stale).
    """
    logger = get_run_logger()
    actor = _actor()
    if document_ids:
        ids = list(document_ids)
    else:
        ids = await claim(batch_size or load_settings().batch_size, actor)
        await _rename(_batch_name(ids))
    if not ids:
        logger.info("nothing to process")
        return {}
    logger.info("processing %d document(s): %s", len(ids), ", ".join(map(str, ids)))
    slots = asyncio.Semaphore(MAX_PARALLEL)

    async def one(doc_id: UUID) -> str | BaseException:
        async with slots:
            # An async task called with return_state gives an awaitable of its final state
            # (Prefect's type hints do not say so).
            pending: Any = process(doc_id, actor, return_state=True)
            state: State[str] = await pending
        return await _outcome(state)

    # One task per document, all on this event loop; MAX_PARALLEL of them work at a time.
    outcomes = await asyncio.gather(*(one(doc_id) for doc_id in ids))
    failures = {doc_id: out for doc_id, out in zip(ids, outcomes, strict=True) if isinstance(out, BaseException)}
    counts = Counter(out for out in outcomes if isinstance(out, str))
    logger.info("done: %s", ", ".join(f"{n} {status}" for status, n in sorted(counts.items())) or "none")
    if failures:
        reasons = "; ".join(f"{doc_id}: {type(exc).__name__}: {exc}" for doc_id, exc in failures.items())
        raise RuntimeError(f"{len(failures)} of {len(ids)} document(s) could not be processed: {reasons}"[:2000])
    return dict(counts)
