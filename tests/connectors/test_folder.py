"""The drop folder against the real PostgreSQL and SeaweedFS: files are taken once complete, exactly once,
then moved to processed/ or failed/ (with the reason beside them)."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from imap_server import corpus_invoice

from connectors.folder import scan
from connectors.mailconfig import FolderConfig
from pipeline.settings import Settings
from pipeline.store import close_pools, connect, documents, migrate

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def settings(platform_settings: Settings) -> Iterator[Settings]:
    with psycopg.connect(platform_settings.database_url or "") as conn:
        migrate(conn)
    yield platform_settings
    close_pools()


def drop(tmp_path: Path, *, min_age: float = 60.0, settle: float = 0.2) -> FolderConfig:
    root = tmp_path / "drop"
    root.mkdir()
    return FolderConfig(name=f"test-{tmp_path.name[-20:]}", path=root, min_age=min_age, settle=settle)


def doc_for(settings: Settings, folder: FolderConfig, data: bytes) -> documents.DocumentRow | None:
    key = f"folder:{folder.name}:{hashlib.sha256(data).hexdigest()}"
    with connect(settings) as conn:
        doc_id = documents.id_for_source_key(conn, key)
        return documents.get_document(conn, doc_id) if doc_id else None


def test_accepted_file_goes_to_processed_and_the_same_bytes_again_make_no_second_document(
    settings: Settings, tmp_path: Path
) -> None:
    folder = drop(tmp_path)
    invoice = corpus_invoice()
    (folder.path / "rechnung.xml").write_bytes(invoice)

    result = scan(settings, folder)

    assert [(f.name, f.status) for f in result.files] == [("rechnung.xml", "processed")]
    assert (folder.path / "processed" / "rechnung.xml").read_bytes() == invoice
    assert not (folder.path / "rechnung.xml").exists()
    first = doc_for(settings, folder, invoice)
    assert first is not None and first.status == "accepted" and first.source == f"folder:{folder.name}"
    # Dropped again under the same name: the same key, the same document; the file lands beside the first.
    (folder.path / "rechnung.xml").write_bytes(invoice)
    again = scan(settings, folder)
    assert [f.document_ids for f in again.files] == [(first.id,)]
    assert sorted(p.name for p in (folder.path / "processed").iterdir()) == sorted(
        ["rechnung.xml", f"rechnung.{hashlib.sha256(invoice).hexdigest()[:12]}.xml"]
    )


def test_bad_file_goes_to_failed_with_the_reason_beside_it(settings: Settings, tmp_path: Path) -> None:
    folder = drop(tmp_path)
    bad = corpus_invoice().replace(b"<cbc:InvoiceTypeCode>380", b"<cbc:InvoiceTypeCode>999")
    (folder.path / "kaputt.xml").write_bytes(bad)
    (folder.path / "brief.txt").write_bytes(b"Sehr geehrte Damen und Herren, ...")

    result = scan(settings, folder)

    assert sorted((f.name, f.status) for f in result.files) == [("brief.txt", "failed"), ("kaputt.xml", "failed")]
    failed = folder.path / "failed"
    assert (failed / "kaputt.xml").read_bytes() == bad
    reason = (failed / "kaputt.xml.reason.txt").read_text()
    assert "rejected" in reason and "BR-CL-01" in reason and "UNTDID 1001" in reason
    assert "not well-formed" in (failed / "brief.txt.reason.txt").read_text()
    assert sorted(os.listdir(folder.path)) == ["failed"]


def test_half_written_file_is_taken_only_once_it_is_stable(settings: Settings, tmp_path: Path) -> None:
    folder = drop(tmp_path, settle=0.3)
    invoice = corpus_invoice()
    target = folder.path / "langsam.xml"
    chunks = [invoice[i : i + 200] for i in range(0, len(invoice), 200)]
    started = threading.Event()

    def write_slowly() -> None:
        # A writer without a temporary name: the file grows in place for well over a second.
        with target.open("wb") as out:
            for n, chunk in enumerate(chunks):
                out.write(chunk)
                out.flush()
                if n == 0:
                    started.set()
                time.sleep(max(1.5 / len(chunks), 0.02))

    writer = threading.Thread(target=write_slowly)
    writer.start()
    try:
        started.wait(5)
        during = scan(settings, folder)
    finally:
        writer.join()

    assert [(f.name, f.status) for f in during.files] == [("langsam.xml", "waiting")]
    assert not (folder.path / "processed").exists()
    with connect(settings) as conn:  # nothing of the partial file was taken in
        row = conn.execute("SELECT count(*) AS n FROM documents WHERE source = %s", (f"folder:{folder.name}",))
        assert row.fetchone() == {"n": 0}

    after = scan(settings, folder)

    assert [(f.name, f.status) for f in after.files] == [("langsam.xml", "processed")]
    doc = doc_for(settings, folder, invoice)
    assert doc is not None and doc.size == len(invoice) and doc.status == "accepted"


def test_temporary_hidden_and_linked_files_are_left_alone(settings: Settings, tmp_path: Path) -> None:
    folder = drop(tmp_path, min_age=0)
    for name in ("rechnung.xml.part", "upload.TMP", ".versteckt.xml"):
        (folder.path / name).write_bytes(corpus_invoice())
    outside = tmp_path / "geheim.xml"
    outside.write_bytes(corpus_invoice())
    (folder.path / "link.xml").symlink_to(outside)
    (folder.path / "unterordner").mkdir()

    assert scan(settings, folder).files == []
    assert sorted(os.listdir(folder.path)) == [".versteckt.xml", "link.xml", "rechnung.xml.part", "unterordner",
                                               "upload.TMP"]  # fmt: skip


def test_old_file_is_taken_without_a_second_look_and_a_file_over_the_limit_fails(
    settings: Settings, tmp_path: Path
) -> None:
    folder = drop(tmp_path, min_age=30, settle=5)  # a second look would take 5 s
    invoice = corpus_invoice()
    old = folder.path / "alt.xml"
    old.write_bytes(invoice)
    past = time.time() - 120
    os.utime(old, (past, past))
    big = folder.path / "gross.xml"
    big.write_bytes(corpus_invoice() + b"<!-- " + b"x" * 100 + b" -->")
    os.utime(big, (past, past))
    small = settings.model_copy(update={"max_upload_bytes": len(invoice)})

    started = time.monotonic()
    result = scan(small, folder)

    assert time.monotonic() - started < 5
    assert sorted((f.name, f.status) for f in result.files) == [("alt.xml", "processed"), ("gross.xml", "failed")]
    assert "more than the limit" in (folder.path / "failed" / "gross.xml.reason.txt").read_text()


def test_folder_scan_command(settings: Settings, tmp_path: Path) -> None:
    folder = drop(tmp_path)
    (folder.path / "a.xml").write_bytes(corpus_invoice())
    (folder.path / "b.xml").write_bytes(b"<kaputt")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("EINGANG_", "DATABASE_URL", "S3_", "AWS_"))}
    env.update(
        EINGANG_DATA_DIR=str(settings.data_dir), DATABASE_URL=settings.database_url or "",
        S3_ENDPOINT=settings.s3_endpoint or "", AWS_ACCESS_KEY_ID=settings.s3_access_key.get_secret_value(),
        AWS_SECRET_ACCESS_KEY=settings.s3_secret_key.get_secret_value(),
    )  # fmt: skip

    done = subprocess.run(
        [sys.executable, "-m", "pipeline.cli", "folder", "scan", str(folder.path), "--min-age", "0"],
        capture_output=True, text=True, cwd=REPO, env=env, timeout=300,
    )  # fmt: skip

    assert done.returncode == 1, done.stdout + done.stderr  # one file went to failed/
    lines = done.stdout.splitlines()
    assert lines, done.stderr
    assert lines[0].split()[:3] == ["processed", "a.xml", "processed/a.xml"]
    assert lines[1].split()[:3] == ["failed", "b.xml", "failed/b.xml"]
    assert lines[-1] == "drop: 1 processed, 1 failed, 0 waiting"


def test_public_surface_of_the_drop_folder_is_deliberate() -> None:
    import connectors.folder

    assert sorted(connectors.folder.__all__) == [
        "FAILED_DIR", "FileResult", "PROCESSED_DIR", "ScanResult", "is_ignored", "scan"
    ]  # fmt: skip
