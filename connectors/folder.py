"""Drop folder: files placed in a directory are taken in once complete, then moved to ``processed/`` or ``failed/``.

One scan (``scan``), in this order for each file:

1. only regular files directly in the folder; dotfiles, ``*.part`` and ``*.tmp`` (files still being
   written under a temporary name) and symbolic links are ignored;
2. a file is taken only when it is stable: older than ``min_age`` seconds, or with size and mtime
   unchanged over two looks ``settle`` seconds apart; a half-written file changes between the
   looks and waits for the next scan. It is stat'ed again after reading, so bytes that changed
   while being read are not taken either;
3. ``pipeline.intake.submit`` under ``folder:{name}:{sha256}``: the same bytes are taken in once,
   however often they are dropped or a scan is repeated;
4. its documents are processed here, so the outcome is known;
5. the post-action: an accepted file (or one already in) goes to ``processed/``; anything else to
   ``failed/`` with ``<file>.reason.txt`` beside it. The move is ``os.replace`` of a file that is
   either still there or already moved, so repeating it is harmless; a crash before it leaves the
   file in place, and the next scan finds its documents under the same key and only moves it.

A document whose verdict cannot be had now (a service is down, another worker holds it) leaves
its file in place for the next scan.
"""

from __future__ import annotations

import hashlib
import logging
import os
import stat
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from uuid import UUID, uuid4

from connectors.mailconfig import FolderConfig
from pipeline.intake import IntakeRefused, submit
from pipeline.lifecycle import FINAL, Status
from pipeline.processing import process_document
from pipeline.settings import Settings
from pipeline.store import connect, documents, invoices, transient_guard
from pipeline.store import mail as mail_store

__all__ = ["FAILED_DIR", "PROCESSED_DIR", "FileResult", "ScanResult", "is_ignored", "scan"]

log = logging.getLogger(__name__)

PROCESSED_DIR = "processed"
FAILED_DIR = "failed"
_IGNORED_SUFFIXES = (".part", ".tmp")
_REASON_SUFFIX = ".reason.txt"


@dataclass(frozen=True)
class FileResult:
    name: str
    status: str  # processed | failed | waiting (not stable yet, or its verdict is not in yet)
    moved_to: Path | None = None
    document_ids: tuple[UUID, ...] = ()
    reason: str | None = None


@dataclass
class ScanResult:
    folder: str
    files: list[FileResult] = field(default_factory=list)

    def count(self, status: str) -> int:
        return sum(1 for f in self.files if f.status == status)


@dataclass(frozen=True)
class _Look:
    size: int
    mtime_ns: int


def is_ignored(name: str) -> bool:
    """Names a writer uses while a file is incomplete, and hidden files."""
    lowered = name.lower()
    return name.startswith(".") or lowered.endswith(_IGNORED_SUFFIXES)


def _look(path: Path) -> _Look | None:
    """Size and mtime of a regular file; None for anything else (directories, links, vanished files)."""
    try:
        st = path.lstat()
    except FileNotFoundError:
        return None
    if not stat.S_ISREG(st.st_mode):
        return None
    return _Look(st.st_size, st.st_mtime_ns)


def _candidates(root: Path) -> dict[str, _Look]:
    found: dict[str, _Look] = {}
    with os.scandir(root) as entries:
        for entry in entries:
            if is_ignored(entry.name):
                continue
            look = _look(Path(entry.path))
            if look is not None:
                found[entry.name] = look
    return found


def _stable(root: Path, min_age: float, settle: float) -> tuple[dict[str, _Look], list[str]]:
    """Files that are complete by the rules above, and those that must wait for a later scan."""
    first = _candidates(root)
    now_ns = time.time_ns()
    ready = {n: look for n, look in first.items() if now_ns - look.mtime_ns >= min_age * 1e9}
    young = {n: look for n, look in first.items() if n not in ready}
    waiting: list[str] = []
    if young:
        time.sleep(settle)
        second = _candidates(root)
        for name, look in young.items():
            # An empty young file is most likely just created: it waits, even if nothing changed yet.
            if second.get(name) == look and look.size > 0:
                ready[name] = look
            else:
                waiting.append(name)
    return ready, sorted(waiting)


def _read(path: Path, look: _Look) -> bytes | None:
    """The bytes, if the file is still the one looked at; None when it changed in the meantime.

    Opened without following a link and checked on the open descriptor, so a file swapped for a
    link (or another file) between the look and the read is not taken.
    """
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
    except (FileNotFoundError, OSError):
        return None
    with os.fdopen(fd, "rb") as handle:
        before = os.fstat(handle.fileno())
        if not stat.S_ISREG(before.st_mode) or _Look(before.st_size, before.st_mtime_ns) != look:
            return None
        data = handle.read()
        after = os.fstat(handle.fileno())
    if _Look(after.st_size, after.st_mtime_ns) != look or len(data) != look.size:
        return None
    return data


def _process(settings: Settings, document_ids: Sequence[UUID], actor: str) -> dict[UUID, str]:
    with transient_guard("database"), connect(settings) as conn:
        statuses = mail_store.document_statuses(conn, document_ids)
    for doc_id in document_ids:
        if Status(statuses[doc_id]) not in FINAL:
            process_document(settings, doc_id, worker=actor)
    # A duplicate of a rejected file is as bad as the first copy: it goes to failed/ too.
    with transient_guard("database"), connect(settings) as conn:
        return mail_store.document_statuses(conn, document_ids, effective=True)


def _outcome(statuses: dict[UUID, str]) -> str | None:
    """processed when something was taken in and nothing failed; None while a document is on its way."""
    found = {Status(s) for s in statuses.values()}
    if any(s not in FINAL for s in found):
        return None
    if found & {Status.FAILED, Status.REJECTED}:
        return "failed"
    # A ZIP's own document is no-invoice once unpacked: its members decide.
    return "processed" if found - {Status.NO_INVOICE} else "failed"


def _report_text(settings: Settings, name: str, statuses: dict[UUID, str], refused: str | None) -> str:
    lines = [f"file: {name}"]
    if refused:
        lines.append(f"not taken in: {refused}")
    with transient_guard("database"), connect(settings) as conn:
        for doc_id, status in statuses.items():
            doc = documents.get_document(conn, doc_id)
            why = doc.status_reason if doc and doc.status_reason else ""
            lines.append(f"document {doc_id}: {status}" + (f": {why}" if why else ""))
            report = invoices.report_of(conn, doc_id)
            for f in (report or {}).get("findings", []):
                if f["level"] == "error":
                    message = f["message"] or {}
                    lines.append(f"  {f['rule']}: {message.get('en', '')}")
                    if message.get("de"):
                        lines.append(f"  {' ' * len(f['rule'])}  {message['de']}")
    return "\n".join(lines) + "\n"


def _target(directory: Path, name: str, sha256: str) -> Path:
    """The file's name in ``directory``; a different file already there keeps its name, ours gets the hash."""
    plain = directory / name
    if not plain.exists():
        return plain
    stem, dot, suffix = name.rpartition(".")
    return directory / (f"{stem}.{sha256[:12]}.{suffix}" if dot and stem else f"{name}.{sha256[:12]}")


def _write_atomically(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def _move(root: Path, name: str, sha256: str, outcome: str, reason: str | None) -> Path:
    directory = root / (PROCESSED_DIR if outcome == "processed" else FAILED_DIR)
    directory.mkdir(exist_ok=True)
    target = _target(directory, name, sha256)
    if reason is not None:
        # The reason first: a crash between the two leaves the file in place, and the next scan writes both again.
        _write_atomically(target.with_name(target.name + _REASON_SUFFIX), reason)
    os.replace(root / name, target)
    return target


def scan(settings: Settings, folder: FolderConfig, *, actor: str | None = None) -> ScanResult:
    """One scan of the drop folder (see the module docstring)."""
    root = folder.path
    who = actor or f"connector:folder:{folder.name}"
    result = ScanResult(folder.name)
    if not root.is_dir():
        raise FileNotFoundError(f"drop folder {root} does not exist")
    ready, waiting = _stable(root, folder.min_age, folder.settle)
    result.files.extend(FileResult(n, "waiting", reason="still being written") for n in waiting)
    for name, look in sorted(ready.items()):
        path = root / name
        if look.size > settings.max_upload_bytes:
            # Not even read: intake would refuse it, and reading gigabytes to say so helps no one.
            reason = f"{name}: {look.size} bytes, more than the limit of {settings.max_upload_bytes}"
            target = _move(root, name, uuid4().hex, "failed", _report_text(settings, name, {}, reason))
            result.files.append(FileResult(name, "failed", target, reason=reason))
            continue
        data = _read(path, look)
        if data is None:
            result.files.append(FileResult(name, "waiting", reason="changed while being read"))
            continue
        sha256 = hashlib.sha256(data).hexdigest()
        try:
            taken = submit(settings, data, filename=name, source=f"folder:{folder.name}", sender=None,
                           source_key=f"folder:{folder.name}:{sha256}")  # fmt: skip
        except IntakeRefused as exc:
            text = _report_text(settings, name, {}, str(exc))
            target = _move(root, name, sha256, "failed", text)
            result.files.append(FileResult(name, "failed", target, reason=str(exc)))
            continue
        statuses = _process(settings, taken.document_ids, who)
        outcome = _outcome(statuses)
        if outcome is None:
            result.files.append(FileResult(name, "waiting", None, taken.document_ids, "verdict not in yet"))
            continue
        reason = None if outcome == "processed" else _report_text(settings, name, statuses, None)
        target = _move(root, name, sha256, outcome, reason)
        summary = ", ".join(sorted({str(s) for s in statuses.values()}))
        log.info("drop folder %s: %s %s (%s) -> %s", folder.name, name, outcome, summary, target)
        result.files.append(FileResult(name, outcome, target, taken.document_ids, summary))
    return result
