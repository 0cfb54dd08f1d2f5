"""The intake flows: ``poll-mailboxes`` (IMAP) and ``watch-folder`` (drop folders).

Thin on purpose (STYLE.md §8): a pass over a mailbox is ``connectors.mailbox.poll`` and a scan of a
folder ``connectors.folder.scan``, both tested without Prefect. This module adds one task per
mailbox or folder, retries with backoff for what a retry can fix (an unreachable IMAP server,
database or object store; a pass is safe to repeat because every step is keyed), and a log line
per mailbox. Rejection notices are sent in a task of their own after the mailboxes, so an SMTP
outage never makes a mailbox pass look failed (the notices stay in the outbox for the next run).

The configuration is ``mailboxes.toml`` in the data directory (or ``config_path``); without the
file there is nothing to do and the run says so. The flows are async, like ``process-documents``:
a synchronous flow run pays about a second for its heartbeat thread; the blocking work runs in
the task runner's threads.
"""

from __future__ import annotations

import asyncio
import os
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
from prefect import flow, get_run_logger, task
from prefect.client.schemas.objects import State, TaskRun
from prefect.futures import PrefectFuture
from prefect.task_runners import ThreadPoolTaskRunner

from connectors import folder as drop_folder
from connectors import mailbox as mail_intake
from connectors import notices
from connectors.mailconfig import ConnectorConfig, default_config_path, load_config
from pipeline.settings import Settings, load_settings
from pipeline.store import is_transient

__all__ = [
    "POLL_INTERVAL",
    "RETRIES",
    "RETRY_DELAYS",
    "WATCH_INTERVAL",
    "is_retryable",
    "poll_mailboxes",
    "watch_folder",
]

POLL_INTERVAL = timedelta(minutes=1)  # suppliers expect an answer within minutes, not seconds
WATCH_INTERVAL = timedelta(seconds=30)
RETRIES = 3
RETRY_DELAYS: list[float] = [10, 60, 300]  # seconds: an IMAP server restarting or briefly refusing logins
# Mailboxes polled at once: each holds an IMAP session and one pooled database connection for its
# pass, plus one more now and then for intake and processing; three stay well inside the pool of 8.
MAX_PARALLEL = 3


def is_retryable(exc: BaseException) -> bool:
    """Worth another try: an unreachable mailbox, database or object store, or Prefect's API not answering."""
    return isinstance(exc, mail_intake.MailboxUnavailable) or is_transient(exc) or isinstance(exc, httpx.TransportError)


def _retry_condition(task: Any, task_run: TaskRun, state: State[Any]) -> bool:
    exc = state.data
    if not isinstance(exc, BaseException):
        try:
            state.result()
        except BaseException as raised:  # the only way to get at a stored exception
            exc = raised
        else:
            return False
    return is_retryable(exc)


def _load(config_path: str | None) -> tuple[Settings, ConnectorConfig | None]:
    settings = load_settings()
    path = Path(config_path) if config_path else default_config_path(settings)
    if config_path is None and not path.exists():
        return settings, None  # nothing configured: not an error for a scheduled run
    # The flow is a command layer: it reads the variables password_env names, the connectors do not.
    return settings, load_config(path, os.environ)


@task(name="poll-mailbox", task_run_name="poll-mailbox-{name}", retries=RETRIES, retry_delay_seconds=RETRY_DELAYS,
      retry_condition_fn=_retry_condition)  # fmt: skip
def poll_one(name: str, config_path: str | None) -> dict[str, int]:
    """One pass over one mailbox; raises for an unreachable mailbox (retried) or a refused login (not)."""
    settings, config = _load(config_path)
    assert config is not None  # the flow only schedules this for configured mailboxes
    result = mail_intake.poll(settings, config, only=[name], send_notices=False)
    result.raise_for_errors()
    (box,) = result.mailboxes
    counts: dict[str, int] = {"skipped": box.skipped, "new": sum(1 for m in box.mails if m.new)}
    for mail in box.mails:
        counts[mail.status] = counts.get(mail.status, 0) + 1
    get_run_logger().info(
        "mailbox %s: %s", name, ", ".join(f"{n} {k}" for k, n in sorted(counts.items())) or "nothing new"
    )
    return counts


@task(name="send-notices", retries=RETRIES, retry_delay_seconds=RETRY_DELAYS, retry_condition_fn=_retry_condition)
def send_notices(config_path: str | None) -> dict[str, int]:
    settings, config = _load(config_path)
    if config is None or config.smtp is None:
        return {"sent": 0, "failed": 0}
    result = notices.send_pending(settings, config.smtp)
    if result.sent or result.failed:
        get_run_logger().info("notices: %d sent, %d not sent (%s)", result.sent, result.failed,
                              "; ".join(result.errors) or "-")  # fmt: skip
    return {"sent": result.sent, "failed": result.failed}


def _outcome(future: PrefectFuture[dict[str, int]]) -> dict[str, int] | BaseException:
    outcome = future.result(raise_on_failure=False)
    if isinstance(outcome, BaseException):
        return outcome
    if not future.state.is_completed():
        return RuntimeError(future.state.message or str(future.state.name))
    return dict(outcome)


@flow(name="poll-mailboxes", task_runner=ThreadPoolTaskRunner(max_workers=MAX_PARALLEL), log_prints=False)
async def poll_mailboxes(config_path: str | None = None) -> dict[str, dict[str, int]]:
    """One pass over every configured mailbox, then the pending notices; counts per mailbox (and ``_notices``).

    Raises when a mailbox still failed after its retries; the others were polled all the same.
    """
    logger = get_run_logger()
    _, config = await asyncio.to_thread(_load, config_path)
    if config is None or not config.mailbox:
        logger.info("no mailboxes configured")
        return {}
    names = [box.name for box in config.mailbox]
    futures = poll_one.map(names, config_path=config_path)
    outcomes = await asyncio.to_thread(lambda: [_outcome(f) for f in futures])
    sent = await asyncio.to_thread(lambda: _outcome(send_notices.submit(config_path)))
    failures = {n: o for n, o in zip(names, outcomes, strict=True) if isinstance(o, BaseException)}
    result = {n: o for n, o in zip(names, outcomes, strict=True) if not isinstance(o, BaseException)}
    if not isinstance(sent, BaseException):
        result["_notices"] = sent  # mailbox names start with a letter or digit: no clash
    if failures:
        reasons = "; ".join(f"{n}: {type(e).__name__}: {e}" for n, e in failures.items())
        raise RuntimeError(f"{len(failures)} of {len(names)} mailbox(es) could not be polled: {reasons}"[:2000])
    return result


@task(name="scan-folder", task_run_name="scan-folder-{name}", retries=RETRIES, retry_delay_seconds=RETRY_DELAYS,
      retry_condition_fn=_retry_condition)  # fmt: skip
def scan_one(name: str, config_path: str | None) -> dict[str, int]:
    settings, config = _load(config_path)
    assert config is not None
    (folder,) = config.folders([name])
    result = drop_folder.scan(settings, folder)
    counts = {s: result.count(s) for s in ("processed", "failed", "waiting")}
    if result.files:
        get_run_logger().info("folder %s: %s", name, ", ".join(f"{n} {s}" for s, n in counts.items()))
    return counts


@flow(name="watch-folder", task_runner=ThreadPoolTaskRunner(max_workers=MAX_PARALLEL), log_prints=False)
async def watch_folder(config_path: str | None = None) -> dict[str, dict[str, int]]:
    """One scan of every configured drop folder; counts per folder."""
    logger = get_run_logger()
    _, config = await asyncio.to_thread(_load, config_path)
    if config is None or not config.folder:
        logger.info("no drop folders configured")
        return {}
    names = [f.name for f in config.folder]
    futures = scan_one.map(names, config_path=config_path)
    outcomes = await asyncio.to_thread(lambda: [_outcome(f) for f in futures])
    failures = {n: o for n, o in zip(names, outcomes, strict=True) if isinstance(o, BaseException)}
    if failures:
        reasons = "; ".join(f"{n}: {type(e).__name__}: {e}" for n, e in failures.items())
        raise RuntimeError(f"{len(failures)} of {len(names)} folder(s) could not be scanned: {reasons}"[:2000])
    return {n: o for n, o in zip(names, outcomes, strict=True) if not isinstance(o, BaseException)}
