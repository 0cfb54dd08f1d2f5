"""``python -m flows.serve``: serve Eingang's Prefect deployments until SIGTERM or Ctrl-C.

``eingang up`` starts this as the flow runner, with ``PREFECT_API_URL``, ``DATABASE_URL`` and the
object store in its environment; each flow run reads its settings from that same environment.

Adding a flow is one line in ``deployments()``. Each deployment can also be run on demand:
``prefect deployment run process-documents/process-documents``.

On SIGTERM Prefect's runner stops polling, pauses the schedules (so runs do not pile up as
"late" while nothing serves them; the next start resumes them), and exits. A flow run cut off
that way leaves its documents ``processing`` under a claim that goes stale and is taken again.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from prefect import Flow, serve
from prefect.deployments.runner import RunnerDeployment

from flows.intake import POLL_INTERVAL, WATCH_INTERVAL, poll_mailboxes, watch_folder
from flows.process_documents import process_documents

__all__ = ["PROCESS_INTERVAL", "deployments", "main"]

# Often enough that a submitted invoice is judged within seconds; an empty run costs about a second.
PROCESS_INTERVAL = timedelta(seconds=10)


def deployments() -> list[RunnerDeployment]:
    """Everything this runner serves: one line per flow."""
    return [
        _deployment(process_documents, "process-documents", PROCESS_INTERVAL,
                    "Claim a batch of received documents and take each to its verdict."),
        _deployment(poll_mailboxes, "poll-mailboxes", POLL_INTERVAL),
        _deployment(watch_folder, "watch-folder", WATCH_INTERVAL),
    ]  # fmt: skip


def _deployment(
    flow: Flow[Any, Any], name: str, interval: timedelta, description: str | None = None
) -> RunnerDeployment:
    """A deployment on an interval schedule, runnable on demand too."""
    deployment = flow.to_deployment(name=name, interval=interval, description=description, tags=["eingang"])
    # to_deployment hands back a coroutine only inside a running event loop; serve() runs outside one.
    assert isinstance(deployment, RunnerDeployment)
    return deployment


def main() -> None:
    # Registering sets paused=False (Prefect's default), so schedules the last shutdown paused resume.
    serve(*deployments(), pause_on_shutdown=True, print_starting_message=True)


if __name__ == "__main__":
    main()
