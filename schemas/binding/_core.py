"""The generic reader that walks a syntax binding table into the EN 16931 model.

A binding is data: a tuple of ``Bind`` (one term at a relative XPath) and ``Group``
(a business group at a relative XPath, with its own table). The reader looks up which
model field carries each term, converts the text by the field's type, and builds the
model. Nothing here knows UBL or CII.
"""

from __future__ import annotations

import binascii
import re
import types
import typing
from collections.abc import Callable, Mapping, Sequence
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

# The conversions are made per term, as closures: one Python call per value, where a function
# taking the term (through a lambda or a keyword partial) costs two or more. Reading an invoice
# converts a value for almost every element it reads.


def _date_reader(term: str) -> Callable[[Any], date]:
    def read(node: Any) -> date:
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

    return read


def _decimal_reader(term: str) -> Callable[[Any], Decimal]:
    def read(node: Any) -> Decimal:
        # _text(node), inlined for the common case of a plain text element.
        text = (_text(node) if isinstance(node, str) or len(node) else node.text or "").strip()
        try:
            value = Decimal(text)
        except InvalidOperation:
            raise BindingError(f"{term}: {text!r} is not a decimal number") from None
        if not value.is_finite():
            raise BindingError(f"{term}: {text!r} is not a decimal number")
        return value

    return read


def _binary_reader(term: str) -> Callable[[Any], AttachedBinary]:
    def read(node: Any) -> AttachedBinary:
        try:
            # What base64.b64decode(text, validate=False) does, without first copying the text to bytes:
            # binascii reads an ASCII str in place, and attachments are the largest texts in an invoice.
            content = binascii.a2b_base64(_text(node), strict_mode=False)
        except (binascii.Error, ValueError):
            raise BindingError(f"{term}: attached document is not valid base64") from None
        return AttachedBinary(content=content, mime_code=node.get("mimeCode"), filename=node.get("filename"))

    return read


def _identifier(node: Any, scheme: str | None = None) -> dict[str, Any]:
    if scheme is None and not isinstance(node, str):
        scheme = node.get("schemeID")
    # A dict, not an Identifier: model_validate builds it with the rest of the invoice, in one
    # pass of pydantic's compiled validator, which is cheaper than a Python-level constructor call.
    return {"id": _text(node), "scheme": scheme}


def _classification(node: Any) -> dict[str, Any]:
    return {"id": _text(node), "scheme": node.get("listID"), "scheme_version": node.get("listVersionID")}


def _converter(kind: Any, term: str, scheme: Callable[[Any], str | None] | None = None) -> Callable[[Any], Any]:
    """How one node becomes a value of the field's type, chosen once per table entry."""
    if kind is str:
        return _text
    if kind is Decimal:
        return _decimal_reader(term)
    if kind is date:
        return _date_reader(term)
    if kind is Identifier:
        if scheme is None:
            return _identifier
        return lambda node: _identifier(node, scheme(node))
    if kind is ItemClassification:
        return _classification
    if kind is AttachedBinary:
        return _binary_reader(term)
    raise TypeError(f"no conversion for {kind!r} ({term})")


def _table(group: Group) -> Table:
    return group.table() if callable(group.table) else group.table


_QNAME = r"[A-Za-z_][\w.-]*:[A-Za-z_][\w.-]*"
_REL = rf"(?:{_QNAME}(?:/{_QNAME})*(?:/@[\w-]+)?|@[\w-]+)"
_EQUALS = re.compile(rf"normalize-space\(({_REL})\)='([^']*)'")
_STEP = re.compile(rf"({_QNAME})(?:\[(.+)\])?")
_QNAME_ONLY = re.compile(_QNAME)


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
    """Children by tag, built once per element: for callers that ask one element many paths (the writer)."""

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

    def holds(self, node: etree._Element, index: _Index | None = None) -> bool:
        # Loops, not any() over a generator: predicates are tested on every element they guard.
        for found in self.path.select(node, index):
            if " ".join(_text(found).split()) == self.value:
                return not self.negate
        return self.negate


def _satisfies(
    node: etree._Element, alternatives: tuple[tuple[_Equals, ...], ...], index: _Index | None = None
) -> bool:
    """Whether any group of the predicates all hold (``[a and b or c]``)."""
    for group in alternatives:
        for predicate in group:
            if not predicate.holds(node, index):
                break
        else:
            return True
    return False


@dataclass(frozen=True)
class _ChildSteps:
    """Plain child steps with simple equality predicates, optionally ending in an attribute.

    Walked without XPath: most binding paths have this shape, and reading must stay close
    to the cost of parsing.
    """

    steps: tuple[tuple[str, tuple[tuple[_Equals, ...], ...]], ...]  # (tag, any-of groups of all-of)
    attribute: str | None

    def select(self, element: etree._Element, index: _Index | None = None) -> list[Any]:
        """The nodes the path selects; ``index`` caches children where one element is asked often."""
        nodes: list[Any] = [element]
        for tag, alternatives in self.steps:
            if index is None:  # lxml filters by tag in C, without a proxy for every other child
                nodes = [c for n in nodes for c in n.iterchildren(tag)]
            else:
                nodes = [c for n in nodes for c in index.children(n).get(tag, ())]
            if alternatives:
                nodes = [n for n in nodes if _satisfies(n, alternatives, index)]
        if self.attribute is None:
            return nodes
        return [v for n in nodes if (v := n.get(self.attribute)) is not None]


@dataclass(frozen=True)
class _Union:
    branches: tuple[_ChildSteps, ...]

    def select(self, element: etree._Element, index: _Index | None = None) -> list[Any]:
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
        # Without EXSLT regular expressions, which no binding path uses (its prefix is not even
        # declared) and which lxml would otherwise register on every evaluation.
        return etree.XPath(path, namespaces=dict(ns), smart_strings=False, regexp=False)


# --- reading -------------------------------------------------------------------------------------------
#
# A table is compiled once into a plan: a trie of the child steps its paths take, shared by all
# paths that start alike. Reading an element iterates its children once and looks each child's
# tag up in a dict, instead of testing every entry against every element.
#
# Most entries are read *eagerly*, during that walk: a Bind or Group whose path has one branch
# and whose field no other entry of the table fills, so that neither "the first one wins" nor
# branch order can depend on when it is read. The others (unions, predicates on the last step,
# XPath, groups with a ``post``) are *deferred*: their hits are recorded per path branch, keyed
# ``position * width + branch``, and read after the walk in key order, which is table order
# and, within an entry, branch order.
#
# Eager reading converts in document order. Which value is converted is the same either way, but
# when two are bad, the one met first may differ: so on a BindingError the document is read again
# with every entry deferred, and the error reported is the one reading entry by entry meets first.

_Found = dict[int, list[Any]]
_Evaluate = Callable[[etree._Element], list[Any]]


@dataclass(eq=False)
class _Entry:
    """A table entry resolved against its model: the field it fills and how its nodes become a value."""

    entry: Bind | Group
    name: str
    many: bool
    eager: bool = False  # read during the walk (see above)
    convert: Callable[[Any], Any] | None = None  # a Bind's conversion of one node
    model: type[BaseModel] | None = None  # a Group's model
    plan: _Plan | None = None  # a Group's compiled table, resolved on first use (a table may contain itself)


class _Edge:
    """One child step in a table's trie, shared by every path that starts with the same steps."""

    __slots__ = ("alternatives", "attributes", "deferred_ends", "eager_ends", "ends", "then", "triggers")

    def __init__(self, alternatives: tuple[tuple[_Equals, ...], ...]) -> None:
        self.alternatives = alternatives  # the step's predicate: any-of groups of all-of
        self.ends: tuple[int, ...] = ()  # keys of path branches that select the child itself
        # ``ends`` split by how they are read while reading eagerly (set by _Node.freeze).
        self.eager_ends: tuple[_One | _Sub, ...] = ()
        self.deferred_ends: tuple[int, ...] = ()
        self.attributes: tuple[tuple[int, str], ...] = ()  # keys of path branches that select one of its attributes
        self.triggers: tuple[int, ...] = ()  # keys of XPath entries that can only match when such a child exists
        self.then: _Node | None = None  # the steps below the child


class _One:
    """Read a child eagerly into a single-valued field: the first one wins."""

    __slots__ = ("convert", "name")

    def __init__(self, entry: _Entry) -> None:
        assert entry.convert is not None
        self.name, self.convert = entry.name, entry.convert


class _Text(_One):
    """Read a child's text eagerly into a single-valued str field (the most frequent action of all)."""

    __slots__ = ()


class _Many(_One):
    """Read a child eagerly into a list field."""

    __slots__ = ()


class _Sub:
    """Read a child eagerly as one group element."""

    __slots__ = ("entry",)

    def __init__(self, entry: _Entry) -> None:
        self.entry = entry


def _eager(entry: _Entry) -> _One | _Sub:
    if entry.convert is None:
        return _Sub(entry)
    if entry.many:
        return _Many(entry)
    return _Text(entry) if entry.convert is _text else _One(entry)


class _Node:
    """The child steps possible below one element, by tag."""

    __slots__ = ("by_tag", "deferring", "dispatch")

    def __init__(self) -> None:
        self.by_tag: dict[str, tuple[_Edge, ...]] = {}
        # What the walk does with a child of a tag, the common cases unwrapped from their edge:
        # a _One, _Many or _Sub to read it eagerly, an int key to defer it, the _Node to go down
        # to; else the tuple of edges to follow. ``deferring`` is the same with every eager
        # reading replaced by its key, for reading in table order.
        self.dispatch: dict[str, Any] = {}
        self.deferring: dict[str, Any] = {}

    def edge(self, tag: str, alternatives: tuple[tuple[_Equals, ...], ...]) -> _Edge:
        edges = self.by_tag.get(tag, ())
        for edge in edges:
            if edge.alternatives == alternatives:
                return edge
        edge = _Edge(alternatives)
        self.by_tag[tag] = (*edges, edge)
        return edge

    def freeze(self, entries: Sequence[_Entry | None]) -> None:
        for tag, edges in self.by_tag.items():
            action: Any = edges
            deferring: Any = edges
            edge = edges[0]
            if len(edges) == 1 and not edge.alternatives and not edge.attributes and not edge.triggers:
                if edge.then is None and len(edge.ends) == 1:
                    action = deferring = edge.ends[0]
                    entry = entries[deferring]
                    if entry is not None and entry.eager:
                        action = _eager(entry)
                elif edge.then is not None and not edge.ends:
                    action = deferring = edge.then
            self.dispatch[tag] = action
            self.deferring[tag] = deferring
            for edge in edges:
                ends = [(key, entries[key]) for key in edge.ends]
                edge.eager_ends = tuple(_eager(e) for _, e in ends if e is not None and e.eager)
                edge.deferred_ends = tuple(key for key, e in ends if e is None or not e.eager)
                if edge.then is not None:
                    edge.then.freeze(entries)


_NODE_TEST = re.compile(rf"{_QNAME}|\.\.?|\*|@[\w-]+")


def _location_step(step: str) -> str | None:
    """The node test of an XPath step made of a node test and whole ``[...]`` predicates, else None."""
    test, _, rest = step.partition("[")
    if _NODE_TEST.fullmatch(test) is None:
        return None
    depth = 1 if rest else 0  # rest follows the opening "["
    for ch in rest:
        if depth == 0 and ch != "[":  # something other than a further predicate after one
            return None
        if ch == "[":
            depth += 1
        elif ch == "]":
            depth -= 1
    return test if depth == 0 else None


def _xpath_first_tags(path: str, ns: Mapping[str, str]) -> set[str] | None:
    """The child tags an XPath location path must start with, or None when it need not start with one.

    A path like ``ram:X/ram:Y[not(../../ram:Z)]`` selects nothing unless the element has a
    ``ram:X`` child, so it is only evaluated where one exists.
    """
    tags = set()
    for branch in _split_top(path, "|"):
        tests = [_location_step(step) for step in _split_top(branch, "/")]
        if None in tests or _QNAME_ONLY.fullmatch(tests[0] or "") is None:
            return None
        prefix, local = (tests[0] or "").split(":")
        tags.add(f"{{{ns[prefix]}}}{local}")
    return tags


def _xpath_evaluator(compiled: etree.XPath) -> _Evaluate:
    def evaluate(element: etree._Element) -> list[Any]:
        found = compiled(element)
        return found if isinstance(found, list) else [found]

    return evaluate


def _self(element: etree._Element) -> list[Any]:
    return [element]


def _attribute_evaluator(attribute: str) -> _Evaluate:
    def evaluate(element: etree._Element) -> list[Any]:
        value = element.get(attribute)
        return [] if value is None else [value]

    return evaluate


@dataclass(frozen=True)
class _Plan:
    """A table compiled for one model: its path trie and what each key of a read means."""

    table: Table  # kept so the table's id, the cache key, is not reused while the plan lives
    root: _Node
    entries: tuple[_Entry | None, ...]  # by key
    evaluators: Mapping[int, _Evaluate]  # keys whose nodes are not walked but evaluated on the element
    always: tuple[int, ...]  # evaluated keys whose paths need no child: evaluated on every element


class _Reader:
    """Reads tables into field values.

    Work is proportional to what the document holds, not to the table size: each element's
    children are iterated once and dispatched by tag. Plain paths are walked through the
    trie; other paths are evaluated by XPath, and only where the child they start with exists.
    """

    def __init__(self, namespaces: Mapping[str, str]) -> None:
        self._ns = dict(namespaces)
        self._plans: dict[tuple[int, type[BaseModel]], _Plan] = {}

    def read(self, element: etree._Element, plan: _Plan) -> dict[str, Any]:
        try:
            return self.values(element, plan, eager=True)
        except BindingError:
            # Read again in table order, so the error is the one reading entry by entry meets first.
            return self.values(element, plan, eager=False)

    def plan(self, table: Table, model: type[BaseModel]) -> _Plan:
        plan = self._plans.get((id(table), model))
        if plan is None or plan.table is not table:
            plan = self._plans[id(table), model] = self._compile_plan(table, model)
        return plan

    def _compile_plan(self, table: Table, model: type[BaseModel]) -> _Plan:
        slots = _slots(model)
        compiled = [None if entry.path == "." else _compile(entry.path, self._ns) for entry in table]
        width = max([len(c.branches) if isinstance(c, _Union) else 1 for c in compiled], default=1)
        fills: dict[str, int] = {}
        for entry in table:
            slot = slots.get(entry.term)
            if slot is None:
                raise TypeError(f"{model.__name__} has no field for {entry.term}")
            fills[slot.name] = fills.get(slot.name, 0) + 1
        root = _Node()
        entries: list[_Entry | None] = [None] * (len(table) * width)
        evaluators: dict[int, _Evaluate] = {}
        always: list[int] = []
        for position, (entry, path) in enumerate(zip(table, compiled, strict=True)):
            slot = slots[entry.term]
            key = position * width
            resolved = _Entry(entry, slot.name, slot.many)
            if isinstance(entry, Group):
                resolved.model = slot.kind
            else:
                scheme = self._scheme(entry.scheme) if entry.scheme is not None else None
                resolved.convert = _converter(slot.kind, entry.term, scheme)
            if path is None:  # "." is the element itself
                evaluators[key] = _self
                always.append(key)
            elif isinstance(path, etree.XPath):
                evaluators[key] = _xpath_evaluator(path)
                tags = _xpath_first_tags(entry.path, self._ns)
                if tags is None:
                    always.append(key)
                for tag in tags or ():
                    edge = root.edge(tag, ())
                    edge.triggers = (*edge.triggers, key)
            branches = path.branches if isinstance(path, _Union) else (path,) if isinstance(path, _ChildSteps) else ()
            for branch, steps in enumerate(branches):
                if steps.steps:
                    self._add(root, steps, key + branch)
                else:  # the element's own attribute: there is no child to walk to
                    assert steps.attribute is not None
                    evaluators[key + branch] = _attribute_evaluator(steps.attribute)
                    always.append(key + branch)
            for branch in range(len(branches) or 1):
                entries[key + branch] = resolved
            resolved.eager = (
                isinstance(path, _ChildSteps)
                and bool(path.steps)
                and path.attribute is None
                and fills[slot.name] == 1
                and not (isinstance(entry, Group) and entry.post)
            )
        root.freeze(entries)
        return _Plan(table, root, tuple(entries), evaluators, tuple(always))

    @staticmethod
    def _add(root: _Node, steps: _ChildSteps, key: int) -> None:
        *inner, (tag, alternatives) = steps.steps
        node = root
        for inner_tag, inner_alternatives in inner:
            step = node.edge(inner_tag, inner_alternatives)
            if step.then is None:
                step.then = _Node()
            node = step.then
        edge = node.edge(tag, alternatives)
        if steps.attribute is None:
            edge.ends = (*edge.ends, key)
        else:
            edge.attributes = (*edge.attributes, (key, steps.attribute))

    def _scheme(self, path: str) -> Callable[[Any], str | None]:
        """An identifier's scheme read from ``path`` relative to the identifier's element."""
        compiled = _compile(path, self._ns)

        def scheme(node: Any) -> str | None:
            found = compiled(node) if isinstance(compiled, etree.XPath) else compiled.select(node)
            texts = [" ".join(_text(f).split()) for f in (found if isinstance(found, list) else [found])]
            return next((t for t in texts if t), None)

        return scheme

    def _group_plan(self, entry: _Entry) -> _Plan:
        if entry.plan is None:
            group = entry.entry
            assert isinstance(group, Group) and entry.model is not None
            entry.plan = self.plan(_table(group), entry.model)
        return entry.plan

    def values(self, element: etree._Element, plan: _Plan, eager: bool) -> dict[str, Any]:
        found: _Found = {}
        for key in plan.always:
            found[key] = []
        values: dict[str, Any] = {}
        self._walk(element, plan.root, found, values if eager else None)
        if found:
            self._read_deferred(element, plan, found, values, eager)
        return values

    def _walk(self, element: etree._Element, node: _Node, found: _Found, values: dict[str, Any] | None) -> None:
        """Read ``element``'s children down the trie: eager entries into ``values`` (None: defer them too)."""
        action_for = (node.deferring if values is None else node.dispatch).get
        # element[:] builds the list of children in C; iterating the element itself sets up a
        # tag-matching iterator first, which costs more than the rest of a small element's walk.
        for child in element[:]:
            action = action_for(child.tag)  # comments have a function as tag: no match
            if action is None:
                continue
            # Exact class tests, most frequent first: this loop runs for every element read.
            kind = action.__class__
            if kind is _Text:
                name = action.name
                if name not in values:  # the first wins, as below
                    # _text(child), inlined for the common case of a plain text element.
                    values[name] = (child.text or "") if not len(child) else _text(child)  # type: ignore[index]
            elif kind is _One:
                if action.name not in values:
                    # A term written twice where the model allows it once: the first wins and the
                    # validators report the cardinality breach (it is their rule, not a read error).
                    values[action.name] = action.convert(child)  # type: ignore[index]
            elif kind is _Node:
                self._walk(child, action, found, values)
            elif kind is _Sub:
                self._read_group_eagerly(child, action, values)  # type: ignore[arg-type]
            elif kind is int:
                hits = found.get(action)
                if hits is None:
                    found[action] = [child]
                else:
                    hits.append(child)
            elif kind is _Many:
                values.setdefault(action.name, []).append(action.convert(child))  # type: ignore[union-attr]
            else:
                self._follow(child, action, found, values)

    def _follow(
        self, child: etree._Element, edges: tuple[_Edge, ...], found: _Found, values: dict[str, Any] | None
    ) -> None:
        for edge in edges:
            if edge.alternatives and not _satisfies(child, edge.alternatives):
                continue
            if edge.then is not None:
                self._walk(child, edge.then, found, values)
            if values is None:
                for key in edge.ends:
                    found.setdefault(key, []).append(child)
            else:
                for key in edge.deferred_ends:
                    found.setdefault(key, []).append(child)
                for action in edge.eager_ends:
                    self._read_eagerly(child, action, values)
            for key, attribute in edge.attributes:
                value = child.get(attribute)
                if value is not None:
                    found.setdefault(key, []).append(value)
            for key in edge.triggers:
                found.setdefault(key, [])

    def _read_eagerly(self, child: etree._Element, action: _One | _Sub, values: dict[str, Any]) -> None:
        """What _walk does with an eager action, for the children it hands to _follow."""
        if isinstance(action, _Sub):
            self._read_group_eagerly(child, action, values)
        elif isinstance(action, _Many):
            values.setdefault(action.name, []).append(action.convert(child))
        elif action.name not in values:
            values[action.name] = action.convert(child)

    def _read_group_eagerly(self, child: etree._Element, sub: _Sub, values: dict[str, Any]) -> None:
        entry = sub.entry
        plan = entry.plan or self._group_plan(entry)
        # What values() does, inlined: a group element is read for almost every aggregate in a document.
        found: _Found = {}
        for key in plan.always:
            found[key] = []
        read: dict[str, Any] = {}
        self._walk(child, plan.root, found, read)
        if found:
            self._read_deferred(child, plan, found, read, True)
        # An element with none of its group's terms inside carries no business data.
        if not read:
            return
        if entry.many:
            values.setdefault(entry.name, []).append(read)
        elif entry.name not in values:
            values[entry.name] = read

    def _read_deferred(
        self, element: etree._Element, plan: _Plan, found: _Found, values: dict[str, Any], eager: bool
    ) -> None:
        entries, evaluators = plan.entries, plan.evaluators
        keys = sorted(found)
        count, i = len(keys), 0
        while i < count:
            key = keys[i]
            entry = entries[key]
            assert entry is not None
            nodes = evaluators[key](element) if key in evaluators else found[key]
            i += 1
            while i < count and entries[keys[i]] is entry:  # the next branch of a union
                key = keys[i]
                nodes = [*nodes, *(evaluators[key](element) if key in evaluators else found[key])]
                i += 1
            if not nodes:
                continue
            name = entry.name
            if entry.convert is not None:
                if entry.many:
                    values.setdefault(name, []).extend(map(entry.convert, nodes))
                elif name not in values:
                    values[name] = entry.convert(nodes[0])
                continue
            group = entry.entry
            assert isinstance(group, Group)
            sub = entry.plan or self._group_plan(entry)
            # An element with none of its group's terms inside carries no business data.
            if group.post is None:
                items = [v for node in nodes if (v := self.values(node, sub, eager))]
                if not items:
                    continue
            else:
                produced = [(node, v) for node in nodes if (v := self.values(node, sub, eager))]
                if not produced:
                    continue
                items = group.post(produced)
            if entry.many:
                values.setdefault(name, []).extend(items)
            elif name not in values:
                values[name] = items[0]


@cache
def _reader_for(namespaces: tuple[tuple[str, str], ...]) -> _Reader:
    return _Reader(dict(namespaces))


_READERS: dict[int, tuple[dict[str, str], _Reader]] = {}


def _reader(namespaces: Mapping[str, str]) -> _Reader:
    # By the mapping's identity (a binding's NAMESPACES), checked by value in case it changed:
    # cheaper than sorting it into a cache key on every read.
    known = _READERS.get(id(namespaces))
    if known is None or known[0] != namespaces:
        known = _READERS[id(namespaces)] = (dict(namespaces), _reader_for(tuple(sorted(namespaces.items()))))
    return known[1]


def read_group(
    element: etree._Element, model: type[BaseModel], table: Table, namespaces: Mapping[str, str]
) -> dict[str, Any]:
    """The values of ``model``'s fields found under ``element``, as a dict for model_validate."""
    reader = _reader(namespaces)
    return reader.read(element, reader.plan(table, model))
