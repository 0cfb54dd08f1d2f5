"""The generic reader that walks a syntax binding table into the EN 16931 model.

A binding is data: a tuple of ``Bind`` (one term at a relative XPath) and ``Group``
(a business group at a relative XPath, with its own table). The reader looks up which
model field carries each term, converts the text by the field's type, and builds the
model. Nothing here knows UBL or CII.
"""

from __future__ import annotations

import base64
import binascii
import re
import types
import typing
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from functools import cache
from typing import Any, Union

from lxml import etree
from pydantic import BaseModel

from schemas.model import AttachedBinary, Identifier, ItemClassification

__all__ = ["Bind", "BindingError", "Group", "Table", "read_group"]


class BindingError(ValueError):
    """A value in the document cannot be read as its business term requires."""


@dataclass(frozen=True)
class Bind:
    """One business term at an XPath relative to its group's element."""

    term: str
    path: str


@dataclass(frozen=True)
class Group:
    """One business group at an XPath; its terms come from ``table``.

    ``table`` may be a zero-argument callable so a group can contain itself
    (the XRechnung Extension's sub invoice lines).
    """

    term: str
    path: str
    table: Table | Callable[[], Table]
    # Reshapes the list of (element, values) a repeatable group produced, for syntaxes
    # that express nesting by reference rather than by containment (CII sub lines).
    post: Callable[[list[tuple[etree._Element, dict[str, Any]]]], list[dict[str, Any]]] | None = None


Table = tuple[Bind | Group, ...]


@dataclass(frozen=True)
class _Slot:
    name: str
    many: bool
    kind: Any  # str, Decimal, date, Identifier, AttachedBinary, ItemClassification or a model


def _unwrap(annotation: Any) -> tuple[Any, bool]:
    origin = typing.get_origin(annotation)
    if origin is list:
        return typing.get_args(annotation)[0], True
    if origin in (Union, types.UnionType):
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        return _unwrap(args[0])
    return annotation, False


@cache
def _slots(model: type[BaseModel]) -> Mapping[str, _Slot]:
    slots: dict[str, _Slot] = {}
    for name, info in model.model_fields.items():
        extra = info.json_schema_extra
        if not isinstance(extra, dict) or "term" not in extra:
            continue
        kind, many = _unwrap(info.annotation)
        slots[str(extra["term"])] = _Slot(name, many, kind)
    return slots


def _text(node: Any) -> str:
    if isinstance(node, str):  # an attribute value from the XPath
        return str(node)
    if len(node) == 0:
        return node.text or ""
    # Comments or stray children inside a value: take the string value, as XPath does.
    return str(node.xpath("string()"))


_DATE_FORMATS = {"102": re.compile(r"(\d{4})(\d{2})(\d{2})")}
# xs:date may carry a time zone, which a calendar date does not need.
_ISO_DATE = re.compile(r"(\d{4})-(\d{2})-(\d{2})(?:Z|[+-]\d{2}:\d{2})?")


def _date(node: Any, term: str) -> date:
    text = _text(node).strip()
    fmt = None if isinstance(node, str) else node.get("format")
    pattern = _DATE_FORMATS.get(fmt or "", _ISO_DATE)
    match = pattern.fullmatch(text)
    if match is None:
        raise BindingError(f"{term}: {text!r} is not a date" + (f" in format {fmt}" if fmt else ""))
    try:
        return date(int(match[1]), int(match[2]), int(match[3]))
    except ValueError:
        raise BindingError(f"{term}: {text!r} is not a calendar date") from None


def _decimal(node: Any, term: str) -> Decimal:
    text = _text(node).strip()
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise BindingError(f"{term}: {text!r} is not a decimal number") from None
    if not value.is_finite():
        raise BindingError(f"{term}: {text!r} is not a decimal number")
    return value


def _binary(node: Any, term: str) -> AttachedBinary:
    try:
        content = base64.b64decode(_text(node), validate=False)
    except (binascii.Error, ValueError):
        raise BindingError(f"{term}: attached document is not valid base64") from None
    return AttachedBinary(content=content, mime_code=node.get("mimeCode"), filename=node.get("filename"))


def _convert(node: Any, slot: _Slot, term: str) -> Any:
    kind = slot.kind
    if kind is str:
        return _text(node)
    if kind is Decimal:
        return _decimal(node, term)
    if kind is date:
        return _date(node, term)
    if kind is Identifier:
        return Identifier(id=_text(node), scheme=None if isinstance(node, str) else node.get("schemeID"))
    if kind is ItemClassification:
        return ItemClassification(id=_text(node), scheme=node.get("listID"), scheme_version=node.get("listVersionID"))
    if kind is AttachedBinary:
        return _binary(node, term)
    raise TypeError(f"no conversion for {kind!r} ({term})")


def _table(group: Group) -> Table:
    return group.table() if callable(group.table) else group.table


class _Reader:
    """Compiles XPaths lazily, once per (table entry, namespaces)."""

    def __init__(self, namespaces: Mapping[str, str]) -> None:
        self._ns = dict(namespaces)
        self._xpaths: dict[str, etree.XPath] = {}

    def select(self, element: etree._Element, path: str) -> list[Any]:
        xpath = self._xpaths.get(path)
        if xpath is None:
            xpath = self._xpaths[path] = etree.XPath(path, namespaces=self._ns, smart_strings=False)
        result = xpath(element)
        return result if isinstance(result, list) else [result]

    def values(self, element: etree._Element, model: type[BaseModel], table: Table) -> dict[str, Any]:
        slots = _slots(model)
        values: dict[str, Any] = {}
        for entry in table:
            slot = slots.get(entry.term)
            if slot is None:
                raise TypeError(f"{model.__name__} has no field for {entry.term}")
            nodes = self.select(element, entry.path)
            if not nodes:
                continue
            if isinstance(entry, Group):
                produced = [(node, self.values(node, slot.kind, _table(entry))) for node in nodes]
                # An element with none of its group's terms inside carries no business data.
                produced = [(node, v) for node, v in produced if v]
                if not produced:
                    continue
                items = entry.post(produced) if entry.post else [v for _, v in produced]
                if slot.many:
                    values.setdefault(slot.name, []).extend(items)
                elif slot.name not in values:
                    values[slot.name] = items[0]
            elif slot.many:
                values.setdefault(slot.name, []).extend(_convert(n, slot, entry.term) for n in nodes)
            elif slot.name not in values:
                # A term written twice where the model allows it once: the first wins and the
                # validators report the cardinality breach (it is their rule, not a read error).
                values[slot.name] = _convert(nodes[0], slot, entry.term)
        return values


@cache
def _reader(namespaces: tuple[tuple[str, str], ...]) -> _Reader:
    return _Reader(dict(namespaces))


def read_group(
    element: etree._Element, model: type[BaseModel], table: Table, namespaces: Mapping[str, str]
) -> dict[str, Any]:
    """The values of ``model``'s fields found under ``element``, as a dict for model_validate."""
    return _reader(tuple(sorted(namespaces.items()))).values(element, model, table)
