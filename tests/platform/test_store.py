"""Storage and intake against the real PostgreSQL and SeaweedFS: migrations, idempotent intake, ZIPs,
the object store's retention, and the append-only, hash-chained event log."""

from __future__ import annotations

import hashlib
import io
import os
import subprocess
import sys
import threading
import uuid
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg
import pytest
from minio.error import S3Error
from psycopg import conninfo, sql

from pipeline.intake import IntakeRefused, SubmitResult, ZipRefused, submit, unpack_zip
from pipeline.lifecycle import IllegalTransition, Status, advance
from pipeline.settings import Settings
from pipeline.store import close_pools, connect, documents, events, migrate, migrations, objects_for, original_key

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def settings(platform_settings: Settings) -> Iterator[Settings]:
    with psycopg.connect(platform_settings.database_url or "") as conn:
        migrate(conn)
    yield platform_settings
    close_pools()


@contextmanager
def fresh_database(database_url: str) -> Iterator[str]:
    """A database of its own, for tests that must start empty or that break the event chain on purpose."""
    name = f"eingang_store_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield conninfo.make_conninfo(database_url, dbname=name)
    finally:
        close_pools()
        with psycopg.connect(database_url, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


def _unique(text: str = "") -> bytes:
    return f"<note id='{uuid.uuid4()}'>{text}</note>".encode()


# -- migrations -----------------------------------------------------------------------------------


def test_migrating_twice_applies_nothing_the_second_time(database_url: str) -> None:
    with fresh_database(database_url) as url, psycopg.connect(url) as conn:
        first = migrate(conn)
        second = migrate(conn)
        recorded = conn.execute("SELECT version FROM schema_migrations ORDER BY version").fetchall()
    assert [m.version for m in first] == [m.version for m in migrations()]
    assert second == []
    assert [r[0] for r in recorded] == [m.version for m in migrations()]


def test_two_processes_migrating_at_once_apply_each_migration_once(database_url: str) -> None:
    with fresh_database(database_url) as url:
        results: list[list[int]] = []

        def run() -> None:
            with psycopg.connect(url) as conn:
                results.append([m.version for m in migrate(conn)])

        threads = [threading.Thread(target=run) for _ in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    assert sorted(results, key=len) == [[], [m.version for m in migrations()]]


def test_every_lifecycle_status_is_allowed_by_the_database(settings: Settings) -> None:
    with connect(settings) as conn:
        row = conn.execute(
            "SELECT pg_get_constraintdef(oid) AS def FROM pg_constraint"
            " WHERE conrelid = 'documents'::regclass AND contype = 'c' AND pg_get_constraintdef(oid) LIKE '%status%'"
        ).fetchone()
    assert row is not None
    allowed = {s.value for s in Status if f"'{s.value}'" in row["def"]}
    assert allowed == {s.value for s in Status}


# -- intake ---------------------------------------------------------------------------------------


def test_same_file_submitted_twice_is_one_document(settings: Settings) -> None:
    data = _unique("twice")
    first = submit(settings, data, filename="a.xml", source="submit", sender="test")
    again = submit(settings, data, filename="a-copy.xml", source="submit", sender="test")
    assert first.created and not again.created
    assert again.document_ids == first.document_ids
    sha = hashlib.sha256(data).hexdigest()
    with connect(settings) as conn:
        rows = conn.execute("SELECT id, source_key, status FROM documents WHERE sha256 = %s", (sha,)).fetchall()
        history = events.events_for(conn, first.document_ids[0])
    assert [(r["source_key"], r["status"]) for r in rows] == [(f"submit:{sha}", "received")]
    assert [(e.kind, e.to_status) for e in history] == [("status", "received")]


def test_the_same_file_submitted_at_once_by_several_workers_is_one_document(settings: Settings) -> None:
    archive = _zip({"one.xml": _unique("one"), "two.xml": _unique("two")})
    results: list[SubmitResult] = []
    barrier = threading.Barrier(4)

    def take_in() -> None:
        barrier.wait()
        results.append(submit(settings, archive, filename="x.zip", source="folder", sender=None))

    threads = [threading.Thread(target=take_in) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(r.created for r in results) == [False, False, False, True]
    assert len({r.document_ids for r in results}) == 1 and len(results[0].document_ids) == 3


def test_the_same_bytes_through_another_channel_is_another_document(settings: Settings) -> None:
    data = _unique("two channels")
    key = f"imap:acct/INBOX/1/{uuid.uuid4()}"
    one = submit(settings, data, filename="a.xml", source="imap", sender="x", source_key=key)
    two = submit(settings, data, filename="a.xml", source="upload", sender="y")
    assert one.created and two.created and one.document_ids != two.document_ids


def test_original_is_stored_once_under_its_hash_and_locked(settings: Settings) -> None:
    data = _unique("original")
    sha = hashlib.sha256(data).hexdigest()
    submit(settings, data, filename="o.xml", source="submit", sender=None)
    submit(settings, data, filename="o.xml", source="folder", sender=None)  # same bytes, another key
    store = objects_for(settings)
    assert store.get_original(sha) == data
    versions = [o for o in store.client.list_objects(store.bucket, prefix=original_key(sha), include_version=True)]
    assert len(versions) == 1, "stored once: a second intake of the same bytes adds no version"
    retention = store.ensure_bucket()
    assert retention.locked and retention.mode == "COMPLIANCE" and retention.years == settings.retention_years
    locked = store.client.get_object_retention(store.bucket, original_key(sha))
    assert locked is not None and locked.mode == "COMPLIANCE"


def _zip(members: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, content in members.items():
            zf.writestr(name, content)
    return buf.getvalue()


def test_zip_of_two_invoices_is_two_documents_and_the_archive(settings: Settings) -> None:
    archive = _zip({"a/one.xml": _unique("one"), "two.xml": _unique("two"), "folder/": b""})
    result = submit(settings, archive, filename="batch.zip", source="submit", sender="test")
    parent, *members = result.document_ids
    assert result.created and len(members) == 2
    with connect(settings) as conn:
        zip_row = documents.get_document(conn, parent)
        rows = [documents.get_document(conn, m) for m in members]
    assert zip_row is not None and zip_row.media_type == "application/zip" and zip_row.parent_id is None
    assert [(r.filename, r.parent_id, r.media_type) for r in rows if r] == [
        ("a/one.xml", parent, "application/xml"),
        ("two.xml", parent, "application/xml"),
    ]
    again = submit(settings, archive, filename="batch.zip", source="submit", sender="test")
    assert not again.created and again.document_ids == result.document_ids


@pytest.mark.parametrize(
    ("members", "why"),
    [
        ({"../../etc/passwd.xml": b"<x/>"}, "points outside the archive"),
        ({"/abs.xml": b"<x/>"}, "points outside the archive"),
        ({"inner.zip": b"PK\x03\x04rest"}, "itself a ZIP archive"),
        ({"inner.bin": _zip({"x.xml": b"<x/>"})}, "itself a ZIP archive"),
        ({f"{n}.xml": b"<x/>" for n in range(4)}, "more than the limit of 3"),
        ({"big.xml": b"<" + b"a" * 5000 + b"/>"}, "exceeds the limit of 1000 bytes"),
    ],
)
def test_hostile_or_oversized_zip_is_refused(members: dict[str, bytes], why: str) -> None:
    with pytest.raises(ZipRefused, match=why):
        unpack_zip(_zip(members), max_members=3, max_total_bytes=1000)


def test_refused_zip_is_kept_as_one_document(settings: Settings) -> None:
    archive = _zip({"../evil.xml": _unique("evil")})
    result = submit(settings, archive, filename="evil.zip", source="submit", sender="test")
    assert len(result.document_ids) == 1
    with connect(settings) as conn:
        row = documents.get_document(conn, result.document_ids[0])
    assert row is not None and row.status == "received"
    assert objects_for(settings).get_original(row.sha256) == archive


# -- lifecycle and the event log -------------------------------------------------------------------


def test_advance_refuses_a_transition_outside_the_table(settings: Settings) -> None:
    doc_id = submit(settings, _unique(), filename="t.xml", source="submit", sender=None).document_ids[0]
    with connect(settings) as conn:
        with pytest.raises(IllegalTransition, match="received: it cannot become accepted"):
            advance(conn, doc_id, Status.ACCEPTED, "test", "skipping processing")
        advance(conn, doc_id, Status.PROCESSING, "test", "claimed")
        row = documents.get_document(conn, doc_id)
        history = events.events_for(conn, doc_id)
    assert row is not None and row.status == "processing"
    assert [(e.from_status, e.to_status, e.actor) for e in history] == [
        (None, "received", "intake:submit"),
        ("received", "processing", "test"),
    ]


def test_concurrent_advances_let_exactly_one_win(settings: Settings) -> None:
    doc_id = submit(settings, _unique(), filename="race.xml", source="submit", sender=None).document_ids[0]
    outcomes: list[str] = []

    def race(to: Status) -> None:
        with connect(settings) as conn:
            try:
                if to != Status.PROCESSING:
                    advance(conn, doc_id, Status.PROCESSING, f"worker-{to}", "claim")
                advance(conn, doc_id, to, f"worker-{to}", "done")
                outcomes.append(to.value)
            except IllegalTransition:
                outcomes.append("refused")

    threads = [threading.Thread(target=race, args=(s,)) for s in (Status.ACCEPTED, Status.REJECTED)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(outcomes) == 2 and outcomes.count("refused") == 1
    with connect(settings) as conn:
        finals = [e for e in events.events_for(conn, doc_id) if e.to_status in ("accepted", "rejected")]
    assert len(finals) == 1


def test_editing_or_deleting_an_event_is_refused(settings: Settings) -> None:
    submit(settings, _unique(), filename="e.xml", source="submit", sender=None)
    with connect(settings) as conn:
        for statement in (
            "UPDATE events SET reason = 'edited' WHERE id = (SELECT max(id) FROM events)",
            "DELETE FROM events WHERE id = (SELECT max(id) FROM events)",
            "TRUNCATE events CASCADE",
        ):
            with pytest.raises(psycopg.errors.InsufficientPrivilege, match="append-only"):
                conn.execute(statement)


def _cli(settings: Settings, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("EINGANG_", "DATABASE_URL", "S3_", "AWS_"))}
    env.update(
        DATABASE_URL=settings.database_url or "",
        S3_ENDPOINT=settings.s3_endpoint or "",
        AWS_ACCESS_KEY_ID=settings.s3_access_key.get_secret_value(),
        AWS_SECRET_ACCESS_KEY=settings.s3_secret_key.get_secret_value(),
        EINGANG_DATA_DIR=str(settings.data_dir),
    )
    return subprocess.run(
        [sys.executable, "-m", "pipeline.cli", *args], capture_output=True, text=True, cwd=REPO, env=env, timeout=120
    )


def test_tampered_event_is_found_by_audit_verify(database_url: str, settings: Settings) -> None:
    with fresh_database(database_url) as url:
        own = settings.model_copy(update={"database_url": url})
        with psycopg.connect(url) as conn:
            migrate(conn)
        for n in range(3):
            submit(own, _unique(f"chain {n}"), filename=f"{n}.xml", source="submit", sender=None)
        intact = _cli(own, "audit", "verify")
        assert intact.returncode == 0, intact.stderr
        assert intact.stdout.startswith("OK: 3 events")

        with psycopg.connect(url, autocommit=True) as conn:
            # As superuser, get past the trigger the way an attacker with full access would.
            conn.execute("ALTER TABLE events DISABLE TRIGGER events_append_only")
            conn.execute("UPDATE events SET reason = 'nothing to see' WHERE id = 2")
            conn.execute("ALTER TABLE events ENABLE TRIGGER events_append_only")
        edited = _cli(own, "audit", "verify")
        assert edited.returncode == 1
        assert "BROKEN at event 2" in edited.stdout and "edited" in edited.stdout

        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute("ALTER TABLE events DISABLE TRIGGER events_append_only")
            conn.execute("UPDATE events SET reason = NULL WHERE id = 2")  # the edit undone …
            conn.execute("DELETE FROM events WHERE id = 2")  # … and the event removed instead
            conn.execute("ALTER TABLE events ENABLE TRIGGER events_append_only")
        removed = _cli(own, "audit", "verify")
        assert removed.returncode == 1
        assert "BROKEN at event 3" in removed.stdout and "removed" in removed.stdout


def test_a_file_over_the_size_limit_is_refused_before_anything_is_stored(settings: Settings) -> None:
    small = settings.model_copy(update={"max_upload_bytes": 10})
    data = _unique("too big")
    with pytest.raises(IntakeRefused, match="more than the limit of 10"):
        submit(small, data, filename="big.xml", source="submit", sender=None)
    sha = hashlib.sha256(data).hexdigest()
    with connect(settings) as conn:
        assert conn.execute("SELECT id FROM documents WHERE sha256 = %s", (sha,)).fetchall() == []
    store = objects_for(settings)
    with pytest.raises(S3Error, match=r"NoSuchKey|does not exist"):
        store.client.stat_object(store.bucket, original_key(sha))


def test_concurrent_stores_of_the_same_new_bytes_all_succeed(settings: Settings) -> None:
    data = _unique("race") * 1000
    keys: list[str] = []
    threads = [threading.Thread(target=lambda: keys.append(objects_for(settings).put_original(data))) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert keys == [original_key(hashlib.sha256(data).hexdigest())] * 4
    assert objects_for(settings).get_original(hashlib.sha256(data).hexdigest()) == data


def test_public_surface_of_the_store_is_deliberate() -> None:
    import pipeline.store

    assert sorted(pipeline.store.__all__) == [
        "Connection", "MissingServiceError", "ObjectStore", "Retention", "TransientError", "close_pools", "connect",
        "create_pool", "documents", "events", "invoices", "is_transient", "migrate", "migrations", "objects_for",
        "original_key", "pending", "pool_for", "suppliers", "transient_guard", "xact_lock",
    ]  # fmt: skip
