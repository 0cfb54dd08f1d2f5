"""XML Schema validation with lxml (libxml2), the engine the reference verdicts were made with.

Each schema file is compiled once per process and kept: compiling the UBL schemas costs far more
than validating one invoice. libxml2 keeps the errors of the last run on the schema object, so
validation holds a per-schema lock; one process validating one file at a time never waits on it.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path

from lxml import etree

__all__ = ["XsdResult", "clear_cache", "load_schema", "validate"]

# libxml2 messages can quote whole content models; the reference cuts them at 300 characters.
MAX_MESSAGE = 300


@dataclass(frozen=True)
class XsdError:
    line: int
    message: str
    path: str | None

    def text(self) -> str:
        return f"line {self.line}: {self.message}"[:MAX_MESSAGE]


@dataclass(frozen=True)
class XsdResult:
    valid: bool
    errors: tuple[XsdError, ...] = ()


@dataclass
class _Compiled:
    schema: etree.XMLSchema
    lock: threading.Lock


_CACHE: dict[Path, _Compiled] = {}
# The same schema by the path it was asked for: resolving a path costs a system call per component,
# more than validating a small invoice, so it is done once per path.
_BY_GIVEN: dict[Path, _Compiled] = {}
_CACHE_LOCK = threading.Lock()


def _schema_parser() -> etree.XMLParser:
    # Schema files come from a verified rule pack, but they are still parsed without network
    # access or entity expansion: imports are resolved as local files next to the schema.
    return etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)


def load_schema(path: Path) -> etree.XMLSchema:
    """The compiled schema for a file, compiled on first use; raises OSError/XMLSchemaParseError."""
    return _compiled(path).schema


def _compiled(path: Path) -> _Compiled:
    entry = _BY_GIVEN.get(path)
    if entry is not None:
        return entry
    entry = _resolved(path)
    if path.is_absolute():  # a relative path would resolve differently after a change of directory
        _BY_GIVEN[path] = entry
    return entry


def _resolved(path: Path) -> _Compiled:
    key = path.resolve()
    entry = _CACHE.get(key)
    if entry is not None:
        return entry
    with _CACHE_LOCK:
        entry = _CACHE.get(key)
        if entry is None:
            doc = etree.parse(str(key), _schema_parser())
            entry = _CACHE[key] = _Compiled(etree.XMLSchema(doc), threading.Lock())
    return entry


def validate(root: etree._Element, schema_path: Path) -> XsdResult:
    """Validate a parsed document against one schema file; errors carry the document's line numbers."""
    entry = _compiled(schema_path)
    with entry.lock:
        valid = entry.schema.validate(root.getroottree())
        log = list(entry.schema.error_log) if not valid else []
    errors = tuple(XsdError(e.line, e.message, e.path) for e in log)
    return XsdResult(valid=valid, errors=errors)


def clear_cache() -> None:
    with _CACHE_LOCK:
        _CACHE.clear()
        _BY_GIVEN.clear()
