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
    # Where an identifier's scheme (BT-n-1) is not the element's ``@schemeID``: a path relative
    # to the bound element (CII writes BT-18-1 in a sibling ``ram:ReferenceTypeCode``).
    scheme: str | None = None


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


def _convert(node: Any, slot: _Slot, term: str, scheme: str | None = None) -> Any:
    kind = slot.kind
    if kind is str:
        return _text(node)
    if kind is Decimal:
        return _decimal(node, term)
    if kind is date:
        return _date(node, term)
    if kind is Identifier:
        if scheme is None and not isinstance(node, str):
            scheme = node.get("schemeID")
        return Identifier(id=_text(node), scheme=scheme)
    if kind is ItemClassification:
        return ItemClassification(id=_text(node), scheme=node.get("listID"), scheme_version=node.get("listVersionID"))
    if kind is AttachedBinary:
        return _binary(node, term)
    raise TypeError(f"no conversion for {kind!r} ({term})")


def _table(group: Group) -> Table:
    return group.table() if callable(group.table) else group.table


_QNAME = r"[A-Za-z_][\w.-]*:[A-Za-z_][\w.-]*"
_REL = rf"(?:{_QNAME}(?:/{_QNAME})*(?:/@[\w-]+)?|@[\w-]+)"
_EQUALS = re.compile(rf"normalize-space\(({_REL})\)='([^']*)'")
_STEP = re.compile(rf"({_QNAME})(?:\[(.+)\])?")


def _split_top(text: str, separator: str) -> list[str]:
    """Split at separators outside brackets and parentheses."""
    parts, depth, start = [], 0, 0
    for i, ch in enumerate(text):
        if ch in "[(":
            depth += 1
        elif ch in "])":
            depth -= 1
        elif depth == 0 and text.startswith(separator, i):
            parts.append(text[start:i])
            start = i + len(separator)
    parts.append(text[start:])
    return [p.strip() for p in parts]


class _Index:
    """Children by tag, built once per element during one read."""

    def __init__(self) -> None:
        self._by_element: dict[etree._Element, dict[str, list[etree._Element]]] = {}

    def children(self, element: etree._Element) -> dict[str, list[etree._Element]]:
        found = self._by_element.get(element)
        if found is None:
            found = self._by_element[element] = {}
            for child in element:
                found.setdefault(child.tag, []).append(child)  # type: ignore[arg-type]
        return found


@dataclass(frozen=True)
class _Equals:
    """``normalize-space(path)='value'``, possibly negated: the predicates binding tables use."""

    path: _ChildSteps
    value: str
    negate: bool

    def holds(self, node: etree._Element, index: _Index) -> bool:
        found = any(" ".join(_text(n).split()) == self.value for n in self.path.select(node, index))
        return found != self.negate


@dataclass(frozen=True)
class _ChildSteps:
    """Plain child steps with simple equality predicates, optionally ending in an attribute.

    Walked without XPath: most binding paths have this shape, and reading must stay close
    to the cost of parsing.
    """

    steps: tuple[tuple[str, tuple[tuple[_Equals, ...], ...]], ...]  # (tag, any-of groups of all-of)
    attribute: str | None

    def select(self, element: etree._Element, index: _Index) -> list[Any]:
        nodes: list[Any] = [element]
        for tag, alternatives in self.steps:
            nodes = [c for n in nodes for c in index.children(n).get(tag, ())]
            if alternatives:
                nodes = [n for n in nodes if any(all(p.holds(n, index) for p in group) for group in alternatives)]
        if self.attribute is None:
            return nodes
        return [v for n in nodes if (v := n.get(self.attribute)) is not None]


@dataclass(frozen=True)
class _Union:
    branches: tuple[_ChildSteps, ...]

    def select(self, element: etree._Element, index: _Index) -> list[Any]:
        return [n for branch in self.branches for n in branch.select(element, index)]


class _NotSimple(ValueError):
    pass


def _compile_steps(path: str, ns: Mapping[str, str]) -> _ChildSteps:
    steps = _split_top(path, "/")
    attribute = None
    if steps and steps[-1].startswith("@"):
        attribute = steps.pop()[1:]
        if ":" in attribute:
            raise _NotSimple(path)
    compiled = []
    for step in steps:
        match = _STEP.fullmatch(step)
        if match is None:
            raise _NotSimple(path)
        prefix, local = match[1].split(":")
        alternatives = []
        if match[2]:
            for any_of in _split_top(match[2], " or "):
                group = []
                for cond in _split_top(any_of, " and "):
                    negate = cond.startswith("not(") and cond.endswith(")")
                    eq = _EQUALS.fullmatch(cond[4:-1] if negate else cond)
                    if eq is None:
                        raise _NotSimple(path)
                    group.append(_Equals(_compile_steps(eq[1], ns), eq[2], negate))
                alternatives.append(tuple(group))
        compiled.append((f"{{{ns[prefix]}}}{local}", tuple(alternatives)))
    if not compiled and attribute is None:
        raise _NotSimple(path)
    return _ChildSteps(tuple(compiled), attribute)


def _compile(path: str, ns: Mapping[str, str]) -> _ChildSteps | _Union | etree.XPath:
    try:
        branches = _split_top(path, "|")
        if len(branches) == 1:
            return _compile_steps(path, ns)
        # Union branches here are siblings or alternatives, so branch order is document order.
        return _Union(tuple(_compile_steps(b, ns) for b in branches))
    except _NotSimple:
        return etree.XPath(path, namespaces=dict(ns), smart_strings=False)


@dataclass(frozen=True)
class _Plan:
    """A table prepared for reading: which entries can match, keyed by their first child tag."""

    entries: tuple[tuple[Bind | Group, _ChildSteps | _Union | etree.XPath], ...]
    by_first_tag: Mapping[str, tuple[int, ...]]
    always: tuple[int, ...]  # entries that are not plain child paths: evaluated every time


def _first_tags(compiled: _ChildSteps | _Union | etree.XPath) -> set[str] | None:
    if isinstance(compiled, _ChildSteps):
        return {compiled.steps[0][0]} if compiled.steps else None
    if isinstance(compiled, _Union):
        tags: set[str] = set()
        for branch in compiled.branches:
            if not branch.steps:
                return None
            tags.add(branch.steps[0][0])
        return tags
    return None


class _Reader:
    """Reads tables into field values.

    Work is proportional to what the document holds, not to the table size: an entry is
    only looked at when the element has a child with the entry's first tag. Plain paths
    are walked over a per-element child index; other paths are evaluated by XPath.
    """

    def __init__(self, namespaces: Mapping[str, str]) -> None:
        self._ns = dict(namespaces)
        self._plans: dict[int, _Plan] = {}
        self._paths: dict[str, _ChildSteps | _Union | etree.XPath] = {}

    def _plan(self, table: Table) -> _Plan:
        plan = self._plans.get(id(table))
        if plan is None:
            entries = tuple((entry, _compile(entry.path, self._ns)) for entry in table)
            by_tag: dict[str, list[int]] = {}
            always = []
            for position, (_, compiled) in enumerate(entries):
                tags = _first_tags(compiled)
                if tags is None:
                    always.append(position)
                else:
                    for tag in tags:
                        by_tag.setdefault(tag, []).append(position)
            plan = _Plan(entries, {t: tuple(p) for t, p in by_tag.items()}, tuple(always))
            self._plans[id(table)] = plan
        return plan

    def _convert(self, node: Any, slot: _Slot, entry: Bind, index: _Index) -> Any:
        scheme = None
        if entry.scheme is not None:
            compiled = self._paths.get(entry.scheme)
            if compiled is None:
                compiled = self._paths[entry.scheme] = _compile(entry.scheme, self._ns)
            found = compiled(node) if isinstance(compiled, etree.XPath) else compiled.select(node, index)
            texts = [" ".join(_text(f).split()) for f in (found if isinstance(found, list) else [found])]
            scheme = next((t for t in texts if t), None)
        return _convert(node, slot, entry.term, scheme)

    def values(
        self, element: etree._Element, model: type[BaseModel], table: Table, index: _Index
    ) -> dict[str, Any]:
        slots = _slots(model)
        plan = self._plan(table)
        positions = set(plan.always)
        for tag in index.children(element):
            positions.update(plan.by_first_tag.get(tag, ()))
        values: dict[str, Any] = {}
        for position in sorted(positions):
            entry, compiled = plan.entries[position]
            slot = slots.get(entry.term)
            if slot is None:
                raise TypeError(f"{model.__name__} has no field for {entry.term}")
            if isinstance(compiled, etree.XPath):
                found = compiled(element)
                nodes = found if isinstance(found, list) else [found]
            else:
                nodes = compiled.select(element, index)
            if not nodes:
                continue
            if isinstance(entry, Group):
                produced = [(node, self.values(node, slot.kind, _table(entry), index)) for node in nodes]
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
                values.setdefault(slot.name, []).extend(self._convert(n, slot, entry, index) for n in nodes)
            elif slot.name not in values:
                # A term written twice where the model allows it once: the first wins and the
                # validators report the cardinality breach (it is their rule, not a read error).
                values[slot.name] = self._convert(nodes[0], slot, entry, index)
        return values


@cache
def _reader(namespaces: tuple[tuple[str, str], ...]) -> _Reader:
    return _Reader(dict(namespaces))


def read_group(
    element: etree._Element, model: type[BaseModel], table: Table, namespaces: Mapping[str, str]
) -> dict[str, Any]:
    """The values of ``model``'s fields found under ``element``, as a dict for model_validate."""
    return _reader(tuple(sorted(namespaces.items()))).values(element, model, table, _Index())
