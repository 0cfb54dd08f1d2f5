"""The generic writer: walks the reader's binding tables the other way, model → XML.

There is no second mapping. For every term the model holds, the writer creates the elements
of the term's path: it reuses an element where the schema allows only one (two terms in
``cac:PartyLegalEntity`` share it) and starts a new one where the element repeats or is full
(each BT-29 gets its own ``cac:PartyIdentification``, because that holds one ``cbc:ID``).
Equality predicates are made true by writing what they name; ``not(...)`` needs nothing. Of a
union, the first branch the parent element admits is written, so ``cbc:InvoiceTypeCode |
cbc:CreditNoteTypeCode`` follows the root. Children are sorted into schema sequence order at
the end.

Order, admissible children and repeatability come from ``element_order.json``, derived once
from the official XML Schemas (``tests/schemas/test_writer.py`` derives it, checks it against
the schemas and, run as a script, rewrites it; the schemas stay outside the repository).

What a table cannot say about writing sits in each binding module's ``WRITE_HINTS`` (a
``WriteHints``): path overrides for paths the reader evaluates by XPath, union choices that
depend on the value, currency attributes, date format, the inverse of a group's ``post``,
children the schema requires that EN 16931 has no term for, and terms the syntax requires
that the model may omit (derived by the EN 16931 rules).
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from copy import deepcopy
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any, Literal

from lxml import etree
from pydantic import BaseModel

from schemas.binding._core import (
    Bind,
    Group,
    Table,
    _ChildSteps,
    _compile_steps,
    _Equals,
    _Index,
    _NotSimple,
    _slots,
    _split_top,
    _table,
)
from schemas.model import AttachedBinary, Identifier, Invoice, ItemClassification

__all__ = ["ORDER_FILE", "Extra", "Hint", "Prepared", "WriteError", "WriteHints", "element_names", "write_tree"]

ORDER_FILE = Path(__file__).with_name("element_order.json")

Extra = tuple[str, str]
"""A text to write at a path relative to a group item's element (one of its ``Hint.extras``)."""
Prepared = list[tuple[Any, tuple[Extra, ...]]]
"""Group items as the writer walks them, each with extra texts the model has no term for."""


class WriteError(ValueError):
    """The model holds something the target syntax cannot express; the message names the term."""


@dataclass(frozen=True)
class Hint:
    """How to write one term (or group) where its reading path alone does not say."""

    # Written here instead of the reading path: for paths the reader evaluates by XPath
    # (positional or cross-document predicates) and where a syntax-required qualifier must be
    # chosen (UBL BT-32's tax scheme, CII BG-24's document type).
    path: str | None = None
    # Union branch for each value, by index, when the value decides (CII ram:ID vs ram:GlobalID).
    branch: Callable[[Sequence[Any]], Sequence[int]] | None = None
    # The term whose value goes into ``@currencyID`` (BT-111 is in the VAT accounting currency).
    currency: str | None = None
    # Code translation into this syntax's code list (BT-8 is UNTDID 2005 in UBL, 2475 in CII).
    codes: Mapping[str, str] = field(default_factory=dict)
    # The inverse of a group's ``post``: reshapes the items before they are written.
    prepare: Callable[[Sequence[Any]], Prepared] | None = None
    # The paths ``prepare`` may write extra texts to (declared so the element order covers them).
    extras: tuple[str, ...] = ()


_NO_HINT = Hint()


@dataclass(frozen=True)
class WriteHints:
    """Per syntax: what writing needs beyond the binding table."""

    terms: Mapping[str, Hint] = field(default_factory=dict)
    # None: ISO 8601 (xs:date). "102": CCYYMMDD with ``@format="102"`` (UN/CEFACT).
    date_format: str | None = None
    # When set, every element named ``…Amount`` carries ``@currencyID`` from this term.
    amount_currency: str | None = None
    # Children the schema requires that the model may lack, filled in after writing:
    # element name → (relative path, text or None for an empty aggregate).
    required: Mapping[str, tuple[tuple[str, str | None], ...]] = field(default_factory=dict)
    # Element name → children copied from its first sibling into later ones that lack them
    # (a second UBL cac:PaymentMeans for another account needs the mandatory means code).
    repeat: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    # Terms the syntax needs that the model may omit, derived before writing.
    complete: Callable[[Invoice], Invoice] | None = None


# --- element order, from the official schemas -----------------------------------------------------


@dataclass(frozen=True)
class _Schema:
    order: Mapping[str, Mapping[str, int]]  # parent name → child name → position in the sequence
    repeatable: Mapping[str, frozenset[str]]  # parent name → children with maxOccurs > 1


@cache
def _schema() -> _Schema:
    data = json.loads(ORDER_FILE.read_text(encoding="utf-8"))
    return _Schema(
        order={parent: {child: i for i, child in enumerate(children)} for parent, children in data["order"].items()},
        repeatable={parent: frozenset(children) for parent, children in data["repeatable"].items()},
    )


_NAME = re.compile(r"\b([a-z]+):([A-Za-z_][\w.-]*)")


def element_names(table: Table, hints: WriteHints, roots: Iterable[str], namespaces: Mapping[str, str]) -> set[str]:
    """Every prefixed element name the writer may create for a syntax: what element_order.json must cover."""
    texts: list[str] = list(roots)
    seen: set[int] = set()

    def walk(entries: Table) -> None:
        if id(entries) in seen:
            return
        seen.add(id(entries))
        for entry in entries:
            texts.append(entry.path)
            if isinstance(entry, Bind) and entry.scheme:
                texts.append(entry.scheme)
            if isinstance(entry, Group):
                walk(_table(entry))

    walk(table)
    for hint in hints.terms.values():
        texts.extend([hint.path or "", *hint.extras])
    for parent, children in hints.required.items():
        texts.extend([parent, *(path for path, _ in children)])
    for parent, children in hints.repeat.items():
        texts.extend([parent, *children])
    return {f"{m[1]}:{m[2]}" for text in texts for m in _NAME.finditer(text) if m[1] in namespaces}


# --- paths -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _WritePath:
    up: int | None  # parent steps before the child steps; None: from the document element
    steps: _ChildSteps


def _compile_write(path: str, namespaces: Mapping[str, str]) -> _WritePath | None:
    """A path the writer can walk, or None where a predicate is not a plain equality."""
    up: int | None = 0
    if path.startswith("/*/"):
        up, path = None, path[3:]
    while path.startswith("../") and up is not None:
        up, path = up + 1, path[3:]
    if path == ".":
        return _WritePath(up, _ChildSteps((), None))
    try:
        return _WritePath(up, _compile_steps(path, namespaces))
    except _NotSimple:
        return None


_Mode = Literal["leaf", "attribute", "group"]


def _format_decimal(value: Decimal) -> str:
    # 'f' keeps the scale ("1.50" stays "1.50") and never writes an exponent, which xs:decimal forbids.
    return format(value, "f")


def _present(value: Any) -> bool:
    return value is not None and value != []


# --- the writer ----------------------------------------------------------------------------------------


class _Writer:
    def __init__(self, hints: WriteHints, namespaces: Mapping[str, str], invoice: Invoice) -> None:
        self._hints = hints
        self._ns = dict(namespaces)
        self._prefix = {uri: prefix for prefix, uri in namespaces.items()}
        self._invoice = invoice
        self._schema = _schema()
        self._paths: dict[str, tuple[_WritePath | None, ...]] = {}
        # Elements that hold a value: a leaf is reused only while it holds none (an attribute
        # may have been written first). The set also keeps lxml's proxies, and so their identity, alive.
        self._filled: set[etree._Element] = set()

    # names and the schema

    def _name(self, element: etree._Element) -> str:
        qname = etree.QName(element)
        return f"{self._prefix[qname.namespace]}:{qname.localname}"

    def _tag_name(self, tag: str) -> str:
        qname = etree.QName(tag)
        return f"{self._prefix[qname.namespace]}:{qname.localname}"

    def _admits(self, parent: etree._Element, tag: str) -> bool:
        return self._tag_name(tag) in self._schema.order.get(self._name(parent), {})

    def _can_add(self, parent: etree._Element, tag: str) -> bool:
        if not self._admits(parent, tag):
            raise WriteError(f"<{self._tag_name(tag)}> has no place in <{self._name(parent)}>")
        if self._tag_name(tag) in self._schema.repeatable.get(self._name(parent), frozenset()):
            return True
        return not any(child.tag == tag for child in parent)

    # paths

    def _branches(self, path: str) -> tuple[_WritePath | None, ...]:
        found = self._paths.get(path)
        if found is None:
            found = self._paths[path] = tuple(_compile_write(b, self._ns) for b in _split_top(path, "|"))
        return found

    def _anchor(self, element: etree._Element, path: _WritePath) -> etree._Element:
        if path.up is None:
            return element.getroottree().getroot()
        for _ in range(path.up):
            parent = element.getparent()
            if parent is None:
                raise WriteError("path climbs above the document element")
            element = parent
        return element

    def _choose(self, element: etree._Element, path: str, index: int | None) -> _WritePath:
        branches = self._branches(path)
        if index is not None:
            chosen = branches[index]
            if chosen is None:
                raise TypeError(f"branch {index} of {path!r} is not writable: give the term a Hint.path")
            return chosen
        usable = [b for b in branches if b is not None]
        if not usable:
            raise TypeError(f"{path!r} is not writable: give the term a Hint.path")
        if len(branches) == 1:
            return usable[0]
        for branch in usable:
            steps = branch.steps.steps
            if not steps or self._admits(self._anchor(element, branch), steps[0][0]):
                return branch
        raise WriteError(f"no branch of {path!r} fits <{self._name(element)}>")

    def _matches(self, element: etree._Element, alternatives: tuple[tuple[_Equals, ...], ...]) -> bool:
        # A fresh index: the tree grows while it is written, so children cannot be cached.
        return not alternatives or any(all(p.holds(element, _Index()) for p in group) for group in alternatives)

    def _new(self, parent: etree._Element, tag: str, alternatives: tuple[tuple[_Equals, ...], ...]) -> etree._Element:
        element = etree.SubElement(parent, tag)
        # Any branch of an ``or`` makes the predicate true: the first is the canonical one.
        for predicate in alternatives[0] if alternatives else ():
            if not predicate.negate:
                self._set(element, predicate.path, predicate.value)
        return element

    def _set(self, element: etree._Element, steps: _ChildSteps, text: str) -> None:
        attribute = steps.attribute
        target = self._place(element, steps, "attribute" if attribute else "leaf", attribute)
        if target is None:
            raise WriteError(f"no room for {text!r} in <{self._name(element)}>")
        if attribute:
            target.set(attribute, text)
        else:
            target.text = text
            self._filled.add(target)

    def _place(
        self,
        element: etree._Element,
        steps: _ChildSteps,
        mode: _Mode,
        attribute: str | None = None,
        claimed: set[etree._Element] | None = None,
        depth: int = 0,
    ) -> etree._Element | None:
        """The element a value goes into, created as needed; None when the schema has no room.

        Intermediate elements are reused when the rest of the path still fits into them (the
        schema allows another child there). The last element is reused only while it is free
        for this purpose: a leaf that holds no value yet (an attribute was written first), an
        element without the attribute, or a group element this group has not claimed.
        """
        if depth == len(steps.steps):
            return element
        tag, alternatives = steps.steps[depth]
        matching = [c for c in element if c.tag == tag and self._matches(c, alternatives)]
        if depth == len(steps.steps) - 1:
            for candidate in matching:
                if mode == "leaf" and candidate not in self._filled and len(candidate) == 0:
                    return candidate
                if mode == "attribute" and candidate.get(attribute or "") is None:
                    return candidate
                if mode == "group" and candidate not in (claimed or ()):
                    return candidate
            return self._new(element, tag, alternatives) if self._can_add(element, tag) else None
        for candidate in matching:
            placed = self._place(candidate, steps, mode, attribute, claimed, depth + 1)
            if placed is not None:
                return placed
        if not self._can_add(element, tag):
            return None
        # A new element has room for the rest of the path by construction.
        return self._place(self._new(element, tag, alternatives), steps, mode, attribute, claimed, depth + 1)

    # values

    def _term_value(self, term: str) -> Any:
        slot = _slots(Invoice).get(term)
        return getattr(self._invoice, slot.name) if slot else None

    def _fill(self, element: etree._Element, value: Any, entry: Bind, hint: Hint) -> None:
        if isinstance(value, Identifier):
            element.text = value.id
            if value.scheme is not None:
                if entry.scheme:  # CII BT-18 / BT-128: the scheme is a sibling element
                    self._write_text(element, entry.scheme, value.scheme)
                else:
                    element.set("schemeID", value.scheme)
        elif isinstance(value, ItemClassification):
            element.text = value.id
            if value.scheme is not None:
                element.set("listID", value.scheme)
            if value.scheme_version is not None:
                element.set("listVersionID", value.scheme_version)
        elif isinstance(value, AttachedBinary):
            element.text = base64.b64encode(value.content).decode("ascii")
            if value.mime_code is not None:
                element.set("mimeCode", value.mime_code)
            if value.filename is not None:
                element.set("filename", value.filename)
        elif isinstance(value, Decimal):
            element.text = _format_decimal(value)
            currency_term = hint.currency
            if currency_term is None and etree.QName(element).localname.endswith("Amount"):
                currency_term = self._hints.amount_currency
            currency = self._term_value(currency_term) if currency_term else None
            if currency:
                element.set("currencyID", currency)
        elif isinstance(value, date):
            if self._hints.date_format == "102":
                element.text = f"{value.year:04d}{value.month:02d}{value.day:02d}"
                element.set("format", "102")
            else:
                element.text = value.isoformat()
        elif isinstance(value, str):
            element.text = hint.codes.get(value, value)
        else:
            raise TypeError(f"{entry.term}: no way to write {type(value).__name__}")

    def _write_text(self, element: etree._Element, path: str, text: str) -> None:
        written = self._choose(element, path, None)
        self._set(self._anchor(element, written), written.steps, text)

    # tables

    def write_table(self, element: etree._Element, model: BaseModel, table: Table) -> None:
        slots = _slots(type(model))
        bound: set[str] = set()
        for entry in table:
            slot = slots.get(entry.term)
            if slot is None:
                raise TypeError(f"{type(model).__name__} has no field for {entry.term}")
            bound.add(entry.term)
            value = getattr(model, slot.name)
            values = list(value) if slot.many else ([] if value is None else [value])
            if not values:
                continue
            try:
                if isinstance(entry, Group):
                    self._write_group(element, entry, values)
                else:
                    self._write_bind(element, entry, values)
            except WriteError as exc:
                # Nested groups prefix their term, so the message reads as a term path (BG-25/BG-DEX-01: …).
                separator = "/" if str(exc).startswith(("BT-", "BG-")) else ": "
                raise WriteError(f"{entry.term}{separator}{exc}") from None
        for term, slot in slots.items():
            if term not in bound and _present(getattr(model, slot.name)):
                raise WriteError(f"{term}: this syntax has no binding for it")

    def _write_bind(self, element: etree._Element, entry: Bind, values: list[Any]) -> None:
        hint = self._hints.terms.get(entry.term, _NO_HINT)
        path = hint.path or entry.path
        choices = list(hint.branch(values)) if hint.branch else [None] * len(values)
        for value, choice in zip(values, choices, strict=True):
            written = self._choose(element, path, choice)
            anchor = self._anchor(element, written)
            attribute = written.steps.attribute
            if attribute:
                target = self._place(anchor, written.steps, "attribute", attribute)
                if target is not None:
                    text = _format_decimal(value) if isinstance(value, Decimal) else str(value)
                    target.set(attribute, hint.codes.get(text, text))
            else:
                target = self._place(anchor, written.steps, "leaf")
                if target is not None:
                    self._fill(target, value, entry, hint)
                    self._filled.add(target)
            if target is None:
                raise WriteError(f"the schema has no room for another {path!r}")

    def _write_group(self, element: etree._Element, entry: Group, values: list[Any]) -> None:
        hint = self._hints.terms.get(entry.term, _NO_HINT)
        path = hint.path or entry.path
        items: Prepared = hint.prepare(values) if hint.prepare else [(v, ()) for v in values]
        claimed: set[etree._Element] = set()
        for item, extras in items:
            written = self._choose(element, path, None)
            anchor = self._anchor(element, written)
            target = self._place(anchor, written.steps, "group", claimed=claimed)
            if target is None:
                raise WriteError(f"the schema has no room for another {path!r}")
            claimed.add(target)
            self.write_table(target, item, _table(entry))
            for extra_path, text in extras:
                if extra_path not in hint.extras:
                    raise TypeError(f"{entry.term}: extra path {extra_path!r} is not declared in its Hint")
                self._write_text(target, extra_path, text)

    # finishing

    def fill_required(self, element: etree._Element) -> None:
        # Top down, so an aggregate filled in here gets its own required children too.
        for path, text in self._hints.required.get(self._name(element), ()):
            written = self._choose(element, path, None)
            if written.steps.select(element, _Index()):
                continue
            if text is None:
                self._place(element, written.steps, "group", claimed=set())
            else:
                self._set(element, written.steps, text)
        for child in element:
            self.fill_required(child)

    def repeat(self, element: etree._Element) -> None:
        first_of: dict[str, etree._Element] = {}
        for child in element:
            name = self._name(child)
            copied = self._hints.repeat.get(name)
            if copied and name in first_of:
                for tag_name in copied:
                    prefix, local = tag_name.split(":")
                    tag = f"{{{self._ns[prefix]}}}{local}"
                    source = first_of[name].find(tag)
                    if source is not None and child.find(tag) is None:
                        child.append(deepcopy(source))
            first_of.setdefault(name, child)
            self.repeat(child)

    def sort(self, element: etree._Element) -> None:
        children = list(element)
        if len(children) > 1:
            order = self._schema.order[self._name(element)]
            children.sort(key=lambda c: order[self._name(c)])  # stable: repeated elements keep model order
            element[:] = children
        for child in children:
            self.sort(child)


def write_tree(
    invoice: Invoice, root_tag: str, table: Table, namespaces: Mapping[str, str], hints: WriteHints
) -> etree._Element:
    """The document element for ``invoice`` under ``root_tag`` (Clark notation), built from ``table``."""
    if hints.complete is not None:
        invoice = hints.complete(invoice)
    root = etree.Element(root_tag, nsmap=dict(namespaces))  # type: ignore[arg-type]
    writer = _Writer(hints, namespaces, invoice)
    writer.write_table(root, invoice, table)
    writer.fill_required(root)
    writer.repeat(root)
    writer.sort(root)
    # The binding declares every namespace of its syntax (UBL: Invoice and CreditNote); keep those used.
    etree.cleanup_namespaces(root)
    return root
