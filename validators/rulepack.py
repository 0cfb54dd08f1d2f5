"""Rule packs: a directory holding the official XML Schemas (and optionally compiled Schematron).

Eingang does not ship the official files; it pins them. ``rulepack/manifest.json`` maps each path
inside a pack to the SHA-256 of the official file, and ``install`` copies a file into a pack only
when its bytes have that hash. Files are found in the source by their hash, not by their path,
so the same command installs from a plain schema folder, a KoSIT configuration release zip or any
other layout that contains the right bytes.

Compiled Schematron (``*.xsl``/``*.xslt``) has no pinned hash yet; it is installed only when asked
for (``allow_unpinned``), into ``xslt/``, and its hash is recorded in the pack so that later
verification notices a change.

Pure: paths in, files out. The default location (an environment variable, the home directory)
is decided by the command line, which passes the paths down.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import tempfile
import zipfile
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path, PurePosixPath

__all__ = [
    "MANIFEST_PATH",
    "PACK_RECORD",
    "InstallResult",
    "Manifest",
    "RulePackError",
    "install",
    "load_manifest",
    "verify",
]

MANIFEST_PATH = Path(__file__).with_name("rulepack") / "manifest.json"
PACK_RECORD = "eingang-rulepack.json"
XSLT_DIR = "xslt"
# A source is read whole to hash it; these bounds keep a hostile archive from exhausting memory.
MAX_FILE_BYTES = 64 * 1024 * 1024
MAX_TOTAL_BYTES = 512 * 1024 * 1024
MAX_FILES = 20_000


class RulePackError(ValueError):
    """A rule pack cannot be installed or used; the message says what to do."""


@dataclass(frozen=True)
class Manifest:
    files: Mapping[str, str]  # path inside the pack -> sha256 hex


@dataclass(frozen=True)
class InstallResult:
    dest: Path
    installed: tuple[str, ...]
    unpinned: tuple[str, ...] = field(default=())


@cache
def _default_manifest() -> Manifest:
    return load_manifest(MANIFEST_PATH)


def load_manifest(path: Path = MANIFEST_PATH) -> Manifest:
    data = json.loads(path.read_text(encoding="utf-8"))
    files = data.get("files")
    if not isinstance(files, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in files.items()):
        raise RulePackError(f"{path}: 'files' must map paths to sha256 hex strings")
    for rel in files:
        _check_relative(rel)
    return Manifest(files=dict(files))


def _check_relative(rel: str) -> None:
    p = PurePosixPath(rel)
    if p.is_absolute() or ".." in p.parts or not p.parts:
        raise RulePackError(f"unsafe path in manifest: {rel!r}")


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@dataclass(frozen=True)
class _SourceFile:
    name: str  # path inside the source, '/'-separated
    read: Callable[[], bytes]
    size: int


def _source_files(source: Path) -> Iterator[_SourceFile]:
    if source.is_dir():
        for path in sorted(source.rglob("*")):
            if path.is_file() and not path.is_symlink():
                rel = path.relative_to(source).as_posix()
                yield _SourceFile(rel, path.read_bytes, path.stat().st_size)
    elif source.is_file() and zipfile.is_zipfile(source):
        archive = zipfile.ZipFile(source)
        for info in archive.infolist():
            if not info.is_dir():
                yield _SourceFile(info.filename, lambda info=info: archive.read(info), info.file_size)
    elif source.exists():
        raise RulePackError(f"{source} is neither a directory nor a zip archive")
    else:
        raise RulePackError(f"{source} does not exist")


def _index(source: Path) -> tuple[dict[str, list[tuple[str, bytes]]], list[tuple[str, bytes]]]:
    """Hash every file of the source: sha256 -> [(name, bytes)], plus the XSLT files found."""
    by_hash: dict[str, list[tuple[str, bytes]]] = {}
    xslt: list[tuple[str, bytes]] = []
    total = 0
    for count, f in enumerate(_source_files(source), start=1):
        total += f.size
        if f.size > MAX_FILE_BYTES or total > MAX_TOTAL_BYTES or count > MAX_FILES:
            raise RulePackError(f"{source} is too large to be a rule pack source (at {f.name})")
        data = f.read()
        by_hash.setdefault(_sha256(data), []).append((f.name, data))
        if f.name.lower().endswith((".xsl", ".xslt")):
            xslt.append((f.name, data))
    return by_hash, xslt


def install(
    source: Path, dest: Path, *, manifest: Manifest | None = None, allow_unpinned: bool = False
) -> InstallResult:
    """Copy every pinned file from ``source`` (directory or zip) into ``dest``, all or nothing.

    Raises RulePackError listing what is missing; ``dest`` is then left as it was.
    """
    manifest = manifest or _default_manifest()
    by_hash, xslt = _index(source)
    chosen: dict[str, bytes] = {}
    missing = []
    for rel, digest in manifest.files.items():
        candidates = by_hash.get(digest.lower(), [])
        if not candidates:
            missing.append(rel)
            continue
        # Prefer the file at the same path (or path suffix); any file with the pinned bytes will do.
        same = [c for c in candidates if c[0] == rel or c[0].endswith("/" + rel)]
        chosen[rel] = (same or candidates)[0][1]
    if missing:
        shown = ", ".join(missing[:5]) + (f" and {len(missing) - 5} more" if len(missing) > 5 else "")
        raise RulePackError(f"{source} lacks {len(missing)} of the {len(manifest.files)} pinned files: {shown}")

    unpinned: dict[str, bytes] = {}
    if allow_unpinned:
        for name, data in xslt:
            rel = f"{XSLT_DIR}/{PurePosixPath(name).name}"
            if rel in unpinned and unpinned[rel] != data:
                raise RulePackError(f"two different stylesheets named {PurePosixPath(name).name} in {source}")
            unpinned[rel] = data

    record = {
        "source": str(source),
        "pinned": {rel: _sha256(data) for rel, data in chosen.items()},
        "unpinned": {rel: _sha256(data) for rel, data in unpinned.items()},
    }
    dest.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{dest.name}.", dir=dest.parent))
    try:
        for rel, data in {**chosen, **unpinned}.items():
            target = staging / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
        (staging / PACK_RECORD).write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
        # Swap the new pack in as a whole, so a reader never sees half a pack.
        old = None
        if dest.exists():
            old = dest.with_name(f".{dest.name}.old")
            if old.exists():
                shutil.rmtree(old)
            dest.rename(old)
        staging.rename(dest)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return InstallResult(dest=dest, installed=tuple(sorted(chosen)), unpinned=tuple(sorted(unpinned)))


def verify(root: Path, manifest: Manifest | None = None) -> list[str]:
    """Problems with an installed pack (missing or changed files); empty when it can be trusted."""
    manifest = manifest or _default_manifest()
    if not root.is_dir():
        return [f"no rule pack at {root}"]
    problems = []
    expected = dict(manifest.files)
    record_path = root / PACK_RECORD
    if record_path.is_file():
        try:
            record = json.loads(record_path.read_text(encoding="utf-8"))
            expected.update({k: v for k, v in dict(record.get("unpinned", {})).items() if isinstance(v, str)})
        except (ValueError, AttributeError):
            problems.append(f"{record_path} is not readable")
    for rel, digest in expected.items():
        path = root / rel
        if not path.is_file():
            problems.append(f"missing {rel}")
        elif _sha256(path.read_bytes()) != digest.lower():
            problems.append(f"changed {rel} (sha256 differs from the pinned one)")
    return problems
