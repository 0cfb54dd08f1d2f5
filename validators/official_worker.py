"""Worker process that runs official compiled Schematron (XSLT) with SaxonC: ``python -m validators.official_worker``.

SaxonC embeds a JVM-like runtime (GraalVM native image) with its own threads; it must not live in a
process that forks, and a crash in it must not take the validator down. So it runs here, alone,
started fresh (never forked) by ``validators.official``. This module needs only the standard
library and ``saxonche``, so it can start without the rest of Eingang.

Protocol: one JSON object per line on stdin, one answer per line on stdout.
  {"op": "ping"}                                   -> {"ok": true, "saxon": "<version>"}
  {"op": "transform", "xslt": PATH, "xml": TEXT}  -> {"ok": true, "svrl": TEXT} | {"ok": false, "error": MSG}
Each stylesheet is compiled on first use and kept for the life of the worker.
"""

from __future__ import annotations

import json
import os
import sys
from typing import IO, Any


def _serve(requests: IO[str], answers: IO[str]) -> int:
    from saxonche import PySaxonProcessor

    proc = PySaxonProcessor(license=False)
    xslt = proc.new_xslt30_processor()
    compiled: dict[str, Any] = {}
    for line in requests:
        if not line.strip():
            continue
        try:
            request = json.loads(line)
            op = request.get("op")
            if op == "ping":
                answer: dict[str, Any] = {"ok": True, "saxon": str(proc.version)}
            elif op == "transform":
                path = str(request["xslt"])
                executable = compiled.get(path)
                if executable is None:
                    executable = compiled[path] = xslt.compile_stylesheet(stylesheet_file=path)
                # The caller sends a document it parsed hardened and serialized without a DTD,
                # so Saxon's parser never sees entities or external references.
                node = proc.parse_xml(xml_text=request["xml"])
                svrl = executable.transform_to_string(xdm_node=node)
                if svrl is None:
                    answer = {"ok": False, "error": "the stylesheet produced no output"}
                else:
                    answer = {"ok": True, "svrl": svrl}
            else:
                answer = {"ok": False, "error": f"unknown op {op!r}"}
        except Exception as exc:  # every failure is an answer; the caller turns it into a finding
            answer = {"ok": False, "error": f"{type(exc).__name__}: {exc}".strip()}
        answers.write(json.dumps(answer) + "\n")
        answers.flush()
    return 0


def main() -> int:
    # Keep stdout for the protocol only: whatever Saxon or an xsl:message prints goes to stderr.
    protocol = os.fdopen(os.dup(sys.stdout.fileno()), "w", encoding="utf-8")
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())
    requests = open(sys.stdin.fileno(), encoding="utf-8", closefd=False)  # noqa: SIM115
    return _serve(requests, protocol)


if __name__ == "__main__":
    raise SystemExit(main())
