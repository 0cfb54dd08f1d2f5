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

from validators.rules._engine import Fail, Test

__all__ = ["AbsenceProbe"]


@dataclass
class _Step:
    """Elements reachable by one more step: keys found when such an element exists, and deeper steps."""

    found: list[str] = field(default_factory=list)
    attrs: dict[str, list[str]] = field(default_factory=dict)
    # Clark tag -> (predicate or None, next step); a list since one tag may carry several predicates.
    children: dict[str, list[tuple[etree.XPath | None, _Step]]] = field(default_factory=dict)


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


class AbsenceProbe:
    """Finds, in one walk, which of many element/attribute paths exist below a context node."""

    def __init__(self, paths: Mapping[str, str], namespaces: Mapping[str, str]) -> None:
        self._ns = dict(namespaces)
        self.paths = dict(paths)
        self._relative = _Step()
        self._anywhere = _Step()
        self._predicates: dict[str, etree.XPath] = {}
        for key, path in self.paths.items():
            self._add(key, path)
        # The engine asks every rule of a context about the same node in a row, so one entry
        # suffices; it holds (node, result) as one tuple so concurrent runs never mix them up.
        self._last: tuple[etree._Element | None, dict[str, etree._Element]] = (None, {})
        self._made = 0

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
            for parent in level:
                for qname in map(self._qname, names):
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

        Answers from the last walk when asked about the same node again.
        """
        last_node, last = self._last
        return last if last_node is node else self.walk(node)

    def walk(self, node: etree._Element) -> dict[str, etree._Element]:
        """Walk ``node`` afresh (the tree may have changed since a previous run) and remember the answer."""
        found: dict[str, etree._Element] = {}
        # Attribute paths without element steps (``@schemeID``) name the context node's own attributes.
        self._attributes(node, self._relative, found)
        self._walk(node, self._relative, found)
        if self._anywhere.children or self._anywhere.attrs:
            for element in node.getroottree().getroot().iter(etree.Element):
                self._attributes(element, self._anywhere, found)
                self._enter(element, self._anywhere, found)
        self._last = (node, found)
        return found

    @staticmethod
    def _attributes(element: etree._Element, step: _Step, found: dict[str, etree._Element]) -> None:
        for attr, keys in step.attrs.items():
            if attr in element.attrib:
                for key in keys:
                    found.setdefault(key, element)

    def _enter(self, element: etree._Element, step: _Step, found: dict[str, etree._Element]) -> None:
        """Take ``element`` as one more step below ``step``, if its tag (and predicate) match one."""
        for test, nxt in step.children.get(element.tag, ()):
            if test is None or test(element):
                for key in nxt.found:
                    found.setdefault(key, element)
                self._attributes(element, nxt, found)
                if nxt.children:
                    self._walk(element, nxt, found)

    def _walk(self, parent: etree._Element, step: _Step, found: dict[str, etree._Element]) -> None:
        for child in parent.iterchildren(etree.Element):
            if child.tag in step.children:
                self._enter(child, step, found)

    def rule(self, key: str) -> Test:
        """The test of one rule: passes unless the probe found its path.

        Register the rules of one probe on their context in the order they are made: the first
        walks the node afresh on every run, the others reuse that walk.
        """
        refresh = not self._made
        self._made += 1

        def absent(node: etree._Element) -> bool | Fail:
            element = (self.walk(node) if refresh else self(node)).get(key)
            return True if element is None else Fail(node=element)

        return absent
