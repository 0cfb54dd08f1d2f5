"""``eingang db migrate / submit / list / show / reprocess / audit verify`` as a user runs them, against the
session's real PostgreSQL and SeaweedFS (found through DATABASE_URL and S3_ENDPOINT)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from collections.abc import Callable
from pathlib import Path

import pytest

from pipeline.settings import Settings

REPO = Path(__file__).resolve().parents[2]
Run = Callable[..., subprocess.CompletedProcess[str]]
CORPUS = REPO.parent / "shared" / "corpus"
STANDARD = CORPUS / "kosit-testsuite/business-cases/standard"


def _env(settings: Settings | None, data_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("EINGANG_", "DATABASE_URL", "S3_", "AWS_"))}
    env["EINGANG_DATA_DIR"] = str(data_dir)
    if settings is not None:
        env.update(
            DATABASE_URL=settings.database_url or "",
            S3_ENDPOINT=settings.s3_endpoint or "",
            AWS_ACCESS_KEY_ID=settings.s3_access_key.get_secret_value(),
            AWS_SECRET_ACCESS_KEY=settings.s3_secret_key.get_secret_value(),
        )
    return env


@pytest.fixture(scope="module")
def eingang(platform_settings: Settings) -> Run:
    """Run ``eingang`` in a fresh interpreter pointed at the session's services."""
    env = _env(platform_settings, platform_settings.data_dir)

    def run(*args: str | Path) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "pipeline.cli", *map(str, args)],
            capture_output=True, text=True, cwd=REPO, env=env, timeout=300,
        )  # fmt: skip

    done = run("db", "migrate")
    assert done.returncode == 0, done.stderr
    return run


def _lines(out: str) -> list[list[str]]:
    return [line.split() for line in out.splitlines() if line.strip()]


def _hostile(tmp_path: Path) -> Path:
    path = tmp_path / f"hostile-{uuid.uuid4().hex[:6]}.xml"
    path.write_text(
        '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>'
        f'<Invoice xmlns="urn:oasis:names:specification:ubl:schema:xsd:Invoice-2"><ID>&e;</ID><!-- {uuid.uuid4()} -->'
        "</Invoice>"
    )
    return path


def test_migrate_again_changes_nothing(eingang: Run) -> None:
    done = eingang("db", "migrate")
    assert done.returncode == 0, done.stderr
    assert "applied" not in done.stdout and "schema is at version" in done.stdout


def test_submitting_a_file_twice_takes_it_in_once(eingang: Run, tmp_path: Path) -> None:
    bad = _hostile(tmp_path)
    first = eingang("submit", bad)
    assert first.returncode == 1, first.stderr  # rejected
    (doc_id, status, name, *reason) = _lines(first.stdout)[0]
    assert status == "rejected" and name == bad.name and "DTD" in " ".join(reason)
    again = eingang("submit", bad)
    assert _lines(again.stdout)[0][:2] == [doc_id, "rejected"] and "(already in)" in again.stdout

    listed = [json.loads(line) for line in eingang("list", "--format", "json").stdout.splitlines()]
    mine = [r for r in listed if r["id"] == doc_id]
    assert len(mine) == 1 and mine[0]["status"] == "rejected" and mine[0]["verdict"] == "rejected"
    assert {"id", "source", "status", "supplier", "invoice_number", "gross_total", "verdict"} <= set(mine[0])


def test_corpus_invoice_is_accepted_listed_and_shown(eingang: Run, corpus: Path) -> None:
    path = STANDARD / "01.01a-INVOICE_ubl.xml"
    done = eingang("submit", path)
    assert done.returncode == 0, done.stdout + done.stderr
    doc_id, status = _lines(done.stdout)[0][:2]
    assert status in ("accepted", "duplicate")  # duplicate when another test took this file in first

    shown = eingang("show", doc_id, "--format", "json")
    assert shown.returncode == 0, shown.stderr
    record = json.loads(shown.stdout)
    assert record["document"]["id"] == doc_id and record["document"]["filename"] == path.name
    history = [(e["from_status"], e["to_status"]) for e in record["events"] if e["kind"] == "status"]
    assert history[:2] == [(None, "received"), ("received", "processing")]
    if status == "accepted":
        assert record["invoice"]["invoice_number"] == "123456XX"
        assert record["report"]["accepted"] is True
        rows = [json.loads(line) for line in eingang("list", "--format", "json").stdout.splitlines()]
        listed = {row["id"]: row for row in rows}
        assert listed[doc_id]["gross_total"] in ("336.9", "336.90") and listed[doc_id]["invoice_number"] == "123456XX"
    text = eingang("show", doc_id)
    assert text.returncode == 0 and "events" in text.stdout and doc_id in text.stdout


def test_no_process_only_enqueues(eingang: Run, tmp_path: Path) -> None:
    path = tmp_path / "later.xml"
    path.write_bytes(f"<later id='{uuid.uuid4()}'/>".encode())
    done = eingang("submit", "--no-process", path)
    assert done.returncode == 0, done.stderr
    assert _lines(done.stdout)[0][1] == "received"


def test_reprocess_refuses_a_document_that_did_not_fail(eingang: Run, tmp_path: Path) -> None:
    doc_id = _lines(eingang("submit", _hostile(tmp_path)).stdout)[0][0]
    done = eingang("reprocess", doc_id)
    assert done.returncode == 2
    assert f"document {doc_id} is rejected: only failed documents can be reprocessed" in done.stderr
    assert eingang("reprocess", "not-an-id").stderr.strip() == "eingang: error: not a document id: 'not-an-id'"


def test_audit_verify_finds_the_chain_intact(eingang: Run) -> None:
    done = eingang("audit", "verify")
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.startswith("OK: ")


def test_without_services_the_user_is_told_how_to_get_them(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "pipeline.cli", "list", "--data-dir", str(tmp_path)],
        capture_output=True, text=True, cwd=REPO, env=_env(None, tmp_path), timeout=60,
    )  # fmt: skip
    assert done.returncode == 2
    assert "eingang up" in done.stderr and "Traceback" not in done.stderr
