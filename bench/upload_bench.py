"""Supplier uploads per second through the HTTP API, each figure next to baselines from the same run.

Starts its own throwaway PostgreSQL and SeaweedFS under a temporary data directory (the same service
code ``eingang up`` uses; ``DATABASE_URL`` and friends are ignored, so no real data is touched), serves
the web app with uvicorn in a process of its own on a loopback port, and measures for ``--seconds``:

* ``GET /api/v1/invoices?limit=1`` with 4 clients (HTTP, token check and one small query, no upload):
  the floor the server puts under every API request, and ``GET /healthz`` (HTTP alone);
* uploads with 1 client, one after the other;
* uploads with 4 concurrent clients (threads, one keep-alive connection each): the headline figure;
* the same work without HTTP: ``intake.submit`` + ``process_document`` from 4 threads in this process.

Every upload is a corpus XRechnung under a fresh invoice number (BT-1), so each one is a new document
that is stored, validated and recorded; nothing is answered from an earlier upload.

    python bench/upload_bench.py [--seconds 10] [--clients 4] [--invoice FILE]
"""

from __future__ import annotations

import argparse
import http.client
import json
import multiprocessing
import os
import re
import shutil
import socket
import statistics
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

import psycopg

from pipeline.intake import submit
from pipeline.processing import process_document
from pipeline.services import locked_state, objectstore, postgres, service_env
from pipeline.settings import Settings, load_settings
from pipeline.store import close_pools, connect, migrate
from pipeline.store.supplier_access import add_account, create_token

SHARED = Path(__file__).resolve().parents[1].parent / "shared"
DEFAULT_INVOICE = SHARED / "corpus/kosit-testsuite/business-cases/standard/01.01a-INVOICE_ubl.xml"


@dataclass(frozen=True)
class Figure:
    label: str
    count: int
    errors: int
    seconds: float
    latencies: list[float]

    @property
    def rate(self) -> float:
        return self.count / self.seconds if self.seconds else 0.0

    def line(self, unit: str) -> str:
        ordered = sorted(self.latencies) or [0.0]
        p50 = statistics.median(ordered) * 1e3
        p95 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.95))] * 1e3
        errors = f", {self.errors} errors" if self.errors else ""
        return f"  {self.label:<40} {self.rate:9.1f} {unit}/s   p50 {p50:7.1f} ms   p95 {p95:7.1f} ms{errors}"


def _invoice(template: str, number: str) -> bytes:
    return re.sub(r"<cbc:ID>[^<]*</cbc:ID>", f"<cbc:ID>{number}</cbc:ID>", template, count=1).encode("utf-8")


def _serve(env: Mapping[str, str], port: int) -> None:
    """The child process: uvicorn serving the web app, as `eingang up` runs it."""
    import uvicorn

    from pipeline.web import create_app

    uvicorn.run(create_app(load_settings(environ=env)), host="127.0.0.1", port=port, log_level="warning",
                access_log=False)  # fmt: skip


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _wait_for(port: int, proc: multiprocessing.process.BaseProcess, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not proc.is_alive():
            raise SystemExit("the web app exited during startup")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.1)
    raise SystemExit(f"the web app did not listen on port {port} within {timeout:.0f}s")


Request = Callable[[http.client.HTTPConnection, int, int], bool]  # connection, client no., request no. -> ok


def _run(label: str, clients: int, seconds: float, port: int, request: Request) -> Figure:
    """``clients`` threads, each on its own keep-alive connection, sending requests until time is up."""
    latencies: list[list[float]] = [[] for _ in range(clients)]
    errors = [0] * clients
    start = threading.Barrier(clients + 1)
    stop_at: list[float] = []

    def client(no: int) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        start.wait()
        n = 0
        while time.perf_counter() < stop_at[0]:
            began = time.perf_counter()
            if request(conn, no, n):
                latencies[no].append(time.perf_counter() - began)
            else:
                errors[no] += 1
            n += 1
        conn.close()

    threads = [threading.Thread(target=client, args=(no,)) for no in range(clients)]
    for thread in threads:
        thread.start()
    began = time.perf_counter()
    stop_at.append(began + seconds)
    start.wait()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - began
    flat = [x for per in latencies for x in per]
    return Figure(label, len(flat), sum(errors), elapsed, flat)


def _uploader(token: str, template: str, run: str) -> Request:
    def upload(conn: http.client.HTTPConnection, client: int, n: int) -> bool:
        body = _invoice(template, f"B-{run}-{client}-{n}")
        conn.request(
            "POST", "/api/v1/invoices", body=body,
            headers={"Authorization": f"Bearer {token}", "Content-Type": "application/xml"},
        )  # fmt: skip
        answer = conn.getresponse()
        payload = json.loads(answer.read())
        return answer.status == 201 and payload.get("status") == "accepted"

    return upload


def _getter(token: str, path: str) -> Request:
    def get(conn: http.client.HTTPConnection, client: int, n: int) -> bool:
        conn.request("GET", path, headers={"Authorization": f"Bearer {token}"})
        answer = conn.getresponse()
        answer.read()
        return answer.status == 200

    return get


def _direct(settings: Settings, template: str, clients: int, seconds: float, run: str) -> Figure:
    """The pipeline's own cost for the same work: intake and processing, no HTTP, no token check."""
    latencies: list[list[float]] = [[] for _ in range(clients)]
    errors = [0] * clients
    stop_at = time.perf_counter() + seconds

    def worker(no: int) -> None:
        n = 0
        while time.perf_counter() < stop_at:
            began = time.perf_counter()
            result = submit(settings, _invoice(template, f"D-{run}-{no}-{n}"), filename=None, source="bench",
                            sender="bench")  # fmt: skip
            done = process_document(settings, result.document_ids[0])
            if done.status == "accepted":
                latencies[no].append(time.perf_counter() - began)
            else:
                errors[no] += 1
            n += 1

    began = time.perf_counter()
    threads = [threading.Thread(target=worker, args=(no,)) for no in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    flat = [x for per in latencies for x in per]
    return Figure(f"submit + process, {clients} threads, no HTTP", len(flat), sum(errors),
                  time.perf_counter() - began, flat)  # fmt: skip


def _start_services(data_dir: Path) -> dict[str, str]:
    # environ={}: never the DATABASE_URL or S3_ENDPOINT of whoever runs the bench.
    settings = load_settings(environ={}, data_dir=data_dir)
    with locked_state(settings) as state:
        postgres.start(settings, state)
        objectstore.start(settings, state)
    return service_env(settings)


def _stop_services(data_dir: Path) -> None:
    settings = load_settings(environ={}, data_dir=data_dir)
    with locked_state(settings) as state:
        objectstore.stop(settings, state)
        postgres.stop(settings, state)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10.0, help="length of each measurement")
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--invoice", type=Path, default=DEFAULT_INVOICE, help="a UBL XRechnung to upload")
    args = parser.parse_args()
    if not args.invoice.is_file():
        raise SystemExit(f"no invoice at {args.invoice} (the corpus lives in ../shared/corpus)")
    template = args.invoice.read_text(encoding="utf-8")
    run = uuid.uuid4().hex[:6]
    data_dir = Path(tempfile.mkdtemp(prefix="eingang-upload-bench-"))
    server: multiprocessing.process.BaseProcess | None = None
    try:
        print(f"starting PostgreSQL and SeaweedFS under {data_dir} …", flush=True)
        env = _start_services(data_dir)
        settings = load_settings(environ=env)
        with psycopg.connect(settings.database_url or "") as conn:
            migrate(conn)
        with connect(settings) as conn:
            account, _ = add_account(conn, "bench", display_name="Bench GmbH", vat_id=None, actor="bench")
            token = create_token(conn, account, label="bench", actor="bench").token

        port = _free_port()
        # spawn, not fork: the child must not inherit this process's connection pool.
        server = multiprocessing.get_context("spawn").Process(target=_serve, args=(env, port), daemon=True)
        server.start()
        _wait_for(port, server)
        # Each phase numbers its invoices apart: a repeated number from the same supplier is a duplicate.
        # The warm-up compiles the rule sets in the server process, outside the measurement.
        warm = _run("warm-up", 1, 2.0, port, _uploader(token, template, f"{run}w"))
        if warm.errors or not warm.count:
            raise SystemExit("warm-up uploads failed: is the invoice one the pipeline accepts?")
        print(f"{os.cpu_count()} CPUs; {args.seconds:.0f} s per figure; invoice {args.invoice.name}"
              f" ({len(template.encode()) / 1024:.1f} KB); uvicorn in one process\n")  # fmt: skip

        health = _run(f"GET /healthz, {args.clients} clients", args.clients, args.seconds, port,
                      _getter(token, "/healthz"))  # fmt: skip
        print(health.line("req"), flush=True)
        floor = _run(f"GET /api/v1/invoices?limit=1, {args.clients} clients", args.clients, args.seconds, port,
                     _getter(token, "/api/v1/invoices?limit=1"))  # fmt: skip
        print(floor.line("req"), flush=True)
        single = _run("POST /api/v1/invoices, 1 client", 1, args.seconds, port, _uploader(token, template, f"{run}s"))
        print(single.line("upl"), flush=True)
        many = _run(
            f"POST /api/v1/invoices, {args.clients} clients", args.clients, args.seconds, port,
            _uploader(token, template, f"{run}m"),
        )  # fmt: skip
        print(many.line("upl"), flush=True)
        _direct(settings, template, 1, 1.0, run + "w")  # warm this process's checker too
        direct = _direct(settings, template, args.clients, args.seconds, run)
        print(direct.line("doc"), flush=True)

        print()
        print(f"  uploads/s, {args.clients} clients vs 1 client:        {many.rate / single.rate:7.2f}x")
        print(f"  uploads/s via the API vs without HTTP:   {many.rate / direct.rate:7.2f}x")
        print(f"  uploads/s vs authenticated GETs/s:       {many.rate / floor.rate:7.4f}x")
        print(f"  uploads/s vs GET /healthz/s:             {many.rate / health.rate:7.4f}x")
        return 1 if many.errors or single.errors or direct.errors else 0
    finally:
        if server is not None and server.is_alive():
            server.terminate()
            server.join(10)
        close_pools()
        _stop_services(data_dir)
        shutil.rmtree(data_dir, ignore_errors=True)


if __name__ == "__main__":
    raise SystemExit(main())
