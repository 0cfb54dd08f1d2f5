"""One-pass probes for "should not be present" rules: many paths, one walk of the context node.

The syntax patterns hold hundreds of rules of the form "this element (or attribute) should not
be in the invoice". Evaluating each as its own XPath costs one XPath call per rule and node; a
probe instead compiles all paths of one context into a tree of element steps and walks the
context node once, descending only into children some path names.

Paths are a small subset of XPath 1.0, so each stays readable and can be checked against lxml:

* ``cac:Delivery/cac:DeliveryLocation/cbc:Name`` (child steps from the context node),
* ``(cac:InvoiceLine|cac:CreditNoteLine)/cbc:UUID`` (alternatives for a step),
* ``cac:PaymentMeans[not(/cn:CreditNote)]/cbc:PaymentDueDate`` (a predicate, any XPath 1.0),
* ``cbc:ID/@schemeID`` (an unqualified attribute as the last step; ``@schemeID`` alone is the
  context node's own),
* ``//cac:Country/cbc:IdentificationCode/@listID`` and ``//@unitCodeListID`` (anywhere in the document).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from lxml import etree

from validators.rules._engine import Fail, Guarded, Session, Test, active_session
from validators.rules._session import ACTIVE

__all__ = ["AbsenceProbe", "attribute_owners"]


@dataclass
class _Step:
    """Elements reachable by one more step: keys found when such an element exists, and deeper steps."""

    found: list[str] = field(default_factory=list)
    attrs: dict[str, list[str]] = field(default_factory=dict)
    # Clark tag -> (predicate or None, next step); a list since one tag may carry several predicates.
    children: dict[str, list[tuple[etree.XPath | None, _Step]]] = field(default_factory=dict)
    # The child tags through which some key can be found by another child tag too: the alternatives of a
    # path (``(a|b)/c``), as each key has one path. Where two of them are children of one element, its
    # children are taken in document order, not tag by tag.
    merged: frozenset[str] = frozenset()


def _split(path: str, sep: str) -> list[str]:
    """Split at ``sep`` outside brackets and parentheses."""
    parts, depth, start = [], 0, 0
    for i, ch in enumerate(path):
        if ch in "[(":
            depth += 1
        elif ch in "])":
            depth -= 1
        elif ch == sep and depth == 0:
            parts.append(path[start:i])
            start = i + 1
    parts.append(path[start:])
    return parts


_OWNERS = "attribute owners"


def attribute_owners(session: Session) -> dict[str, list[etree._Element]]:
    """Each attribute name of the session's document (Clark names for namespaced ones) with the elements
    carrying it, in document order: what ``//@*`` lists, read once per check."""
    return session.fact(_OWNERS, lambda: _attribute_owners(session))  # type: ignore[no-any-return]


def _attribute_owners(session: Session) -> dict[str, list[etree._Element]]:
    # Asking each element for its attribute names is cheaper than libxml2's //@*, whose every result
    # is a string object of its own.
    owners: dict[str, list[etree._Element]] = {}
    for element in session.elements:
        names = element.keys()
        if names:
            for name in names:
                bucket = owners.get(name)
                if bucket is None:
                    owners[name] = [element]
                else:
                    bucket.append(element)
    return owners


class AbsenceProbe:
    """Finds, in one walk, which of many element/attribute paths exist below a context node.

    A run asks the probe once per context node: the answer is kept in the run's session, so the
    rules of the probe (``Guarded`` tests) and the engine share one walk, and a later check of the
    same tree (perhaps changed in between) walks afresh.
    """

    def __init__(self, paths: Mapping[str, str], namespaces: Mapping[str, str]) -> None:
        self._ns = dict(namespaces)
        self.paths = dict(paths)
        self._relative = _Step()
        self._anywhere = _Step()
        self._predicates: dict[str, etree.XPath] = {}
        for key, path in self.paths.items():
            self._add(key, path)
        # Elements a document-wide (``//``) path can start at: those with a first-step tag, and,
        # for ``//@attr``, the owners of such attributes (see ``attribute_owners``).
        self._anywhere_tags = tuple(self._anywhere.children)
        self._anywhere_attrs = frozenset(self._anywhere.attrs)
        # Unless alternatives let one key start at elements of two names, each key of a document-wide path
        # is found from the elements of one name (or the owners of one attribute) only, which the session
        # lists in document order: the starts need no merging.
        self._anywhere_apart = not self._anywhere.merged

    def _qname(self, name: str) -> str:
        prefix, _, local = name.partition(":")
        return f"{{{self._ns[prefix]}}}{local}"

    def _add(self, key: str, path: str) -> None:
        anywhere = path.startswith("//")
        steps = _split(path[2:] if anywhere else path, "/")
        attr = steps.pop()[1:] if steps[-1].startswith("@") else None
        level = [self._anywhere if anywhere else self._relative]
        for step in steps:
            name, _, predicate = step.partition("[")
            names = name[1:-1].split("|") if name.startswith("(") else [name]
            test = None
            if predicate:
                expr = f"boolean({predicate[:-1]})"
                test = self._predicates.get(expr)
                if test is None:
                    test = self._predicates[expr] = etree.XPath(expr, namespaces=self._ns)
            nxt = []
            qnames = [self._qname(n) for n in names]
            for parent in level:
                if len(qnames) > 1:
                    parent.merged = parent.merged.union(qnames)
                for qname in qnames:
                    options = parent.children.setdefault(qname, [])
                    existing = next((s for t, s in options if t is test), None)
                    if existing is None:
                        existing = _Step()
                        options.append((test, existing))
                    nxt.append(existing)
            level = nxt
        for target in level:
            if attr is None:
                target.found.append(key)
            else:
                target.attrs.setdefault(attr, []).append(key)

    def __call__(self, node: etree._Element) -> dict[str, etree._Element]:
        """Every key whose path exists, with the first element found (the owner, for an attribute).

        Within a run, a walk that finds something is made once per node (the engine then asks again for
        the keys found, a walk that finds nothing it does not ask again); outside a run, every call walks.
        """
        # Keyed by the node itself, the answer cannot be mistaken for another node's: no need to
        # check (at some cost) that the node belongs to the session's document.
        session = ACTIVE.get()
        if session is None:
            return self.walk(node)
        # Only a walk that found something is kept: the engine asks again only for the keys found.
        key = (self, node)
        found = session.memo.get(key)
        if found is None:
            found = self.walk(node)
            if found:
                session.memo[key] = found
        return found  # type: ignore[no-any-return]

    def walk(self, node: etree._Element) -> dict[str, etree._Element]:
        """Walk ``node`` afresh."""
        found: dict[str, etree._Element] = {}
        # Attribute paths without element steps (``@schemeID``) name the context node's own attributes.
        if self._relative.attrs:
            self._attributes(node, self._relative, found)
        session = ACTIVE.get()
        if session is None:
            self._walk(node, self._relative, found)
        elif self._relative.children:
            self._walk_indexed(node, self._relative, found, session)
        if self._anywhere.children or self._anywhere.attrs:
            root = node.getroottree().getroot()
            if session is not None and self._anywhere_apart and session.root is root:
                self._walk_anywhere(session, found)
            else:
                for element in self._anywhere_starts(node):
                    self._attributes(element, self._anywhere, found)
                    self._enter(element, self._anywhere, found)
        return found

    def _walk_anywhere(self, session: Session, found: dict[str, etree._Element]) -> None:
        """The document-wide paths, from the session's index: the elements of each first name in document order."""
        anywhere = self._anywhere
        by_tag = session.by_tag
        for tag, options in anywhere.children.items():
            elements = by_tag.get(tag)
            if elements:
                self._take(elements, options, found, session)
        if anywhere.attrs:
            owners = attribute_owners(session)
            for name in self._anywhere_attrs.intersection(owners):
                for key in anywhere.attrs[name]:
                    found.setdefault(key, owners[name][0])

    def _walk_indexed(
        self, parent: etree._Element, step: _Step, found: dict[str, etree._Element], session: Session
    ) -> None:
        """``_walk``, through the session's child index where other rules have had it built for ``parent``.

        Taken tag by tag, the children a step names are fewer to look at than all children. Each key is
        found through one tag of the step, whose elements come in document order, so the first finding of
        each key is the one ``_walk`` makes; where two tags can find the same key and both are present,
        the children are taken in document order as ``_walk`` takes them. Building the index only for
        this walk would cost more than a pass over the children.
        """
        wanted = step.children
        kids = session._children.get(parent)
        if kids is None or (step.merged and len(step.merged.intersection(kids)) > 1):
            for child in parent:  # _take for each child, written out: most walks take this way
                options = wanted.get(child.tag)
                if options is None:
                    continue
                for test, nxt in options:
                    if test is None or test(child):
                        for key in nxt.found:
                            found.setdefault(key, child)
                        if nxt.attrs:
                            self._attributes(child, nxt, found)
                        if nxt.children and len(child):
                            self._walk_indexed(child, nxt, found, session)
        elif len(kids) <= len(wanted):
            for tag, elements in kids.items():
                options = wanted.get(tag)
                if options is not None:
                    self._take(elements, options, found, session)
        else:
            for tag, options in wanted.items():
                elements = kids.get(tag)
                if elements is not None:
                    self._take(elements, options, found, session)

    def _take(
        self,
        elements: list[etree._Element],
        options: list[tuple[etree.XPath | None, _Step]],
        found: dict[str, etree._Element],
        session: Session,
    ) -> None:
        """Elements of one name as one more step: ``_enter`` for each, in document order."""
        for element in elements:
            for test, nxt in options:
                if test is None or test(element):
                    for key in nxt.found:
                        found.setdefault(key, element)
                    if nxt.attrs:
                        self._attributes(element, nxt, found)
                    if nxt.children and len(element):
                        self._walk_indexed(element, nxt, found, session)

    def _anywhere_starts(self, node: etree._Element) -> list[etree._Element]:
        """The elements, in document order, at which a ``//`` path can begin; no other element adds anything."""
        root = node.getroottree().getroot()
        session = active_session(root)
        if session is None:
            return [el for el in root.iter(etree.Element) if self._starts_here(el)]
        starts = [el for tag in self._anywhere_tags for el in session.by_tag.get(tag, ())]
        if self._anywhere_attrs:
            owners = attribute_owners(session)
            for name in self._anywhere_attrs.intersection(owners):
                starts.extend(owners[name])
        return session.in_document_order(starts)

    def _starts_here(self, element: etree._Element) -> bool:
        return element.tag in self._anywhere.children or not self._anywhere_attrs.isdisjoint(element.keys())

    @staticmethod
    def _attributes(element: etree._Element, step: _Step, found: dict[str, etree._Element]) -> None:
        # An element has few attributes and a step may name many: look up each attribute the element has.
        # (Iterating ``element`` itself would give its children: the names come from ``attrib``.)
        wanted = step.attrs
        for name in element.attrib:
            keys = wanted.get(name)
            if keys is not None:
                for key in keys:
                    found.setdefault(key, element)

    def _enter(self, element: etree._Element, step: _Step, found: dict[str, etree._Element]) -> None:
        """Take ``element`` as one more step below ``step``, if its tag (and predicate) match one."""
        for test, nxt in step.children.get(element.tag, ()):
            if test is None or test(element):
                for key in nxt.found:
                    found.setdefault(key, element)
                if nxt.attrs:
                    self._attributes(element, nxt, found)
                if nxt.children:
                    self._walk(element, nxt, found)

    def _walk(self, parent: etree._Element, step: _Step, found: dict[str, etree._Element]) -> None:
        # _enter for each child, written out: this loop runs for most elements of a document.
        children = step.children
        for child in parent:
            options = children.get(child.tag)
            if options is None:
                continue
            for test, nxt in options:
                if test is None or test(child):
                    for key in nxt.found:
                        found.setdefault(key, child)
                    if nxt.attrs:
                        self._attributes(child, nxt, found)
                    if nxt.children and len(child):
                        self._walk(child, nxt, found)

    def rule(self, key: str) -> Test:
        """The test of one rule: passes unless the probe found its path."""

        def present(node: etree._Element) -> bool | Fail:
            element = self(node).get(key)
            return True if element is None else Fail(node=element)

        return Guarded(self, key, present)
