"""One-pass answers for the cardinality rules of one context: ``count(path) <= n`` and ``count(path) = n``.

The syntax patterns hold dozens of such rules per context (the document element alone has thirty).
Asked one by one, each costs an assert call and a path evaluation, though all of them pass on almost
every invoice. A ``Cardinality`` probe instead counts every path of the context in one walk through
the session's child index, sharing the steps paths have in common, and returns only the rules that
fail: the engine (see ``Guarded``) then calls no test at all for the passing ones.

Paths are child steps of element names from the context node, the last step perhaps an unqualified
attribute (``cac:PaymentMeans/cbc:PaymentMeansCode/@name``). Rules that need more (a predicate, a
distinct-values count) join the same probe as ``custom`` tests: plain functions of the context node
that must never raise, since a probe that raises counts as failing at its first rule.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from lxml import etree

from validators.rules._engine import Fail, Guarded, Test
from validators.rules._session import ACTIVE, child_elements

__all__ = ["Cardinality"]


@dataclass
class _Level:
    """The elements one more step selects: the rules counting them, their attributes, and deeper steps."""

    # (key, limit, exact): fails when the count exceeds the limit, or, if exact, differs from it.
    counts: list[tuple[str, int, bool]] = field(default_factory=list)
    # attribute name -> (key, limit, exact) counting the elements that carry it.
    attributes: list[tuple[str, str, int, bool]] = field(default_factory=list)
    children: dict[str, _Level] = field(default_factory=dict)
    # Whether an exact rule lies below: its count of none must be looked at even where this step finds nothing.
    exact_below: bool = False


_NO_ELEMENTS: list[etree._Element] = []


class Cardinality:
    """The cardinality rules of one context, answered for a node in one walk; see the module docstring."""

    def __init__(self, namespaces: Mapping[str, str]) -> None:
        self._ns = dict(namespaces)
        self._top = _Level()
        self._custom: list[tuple[str, Test]] = []

    def _qname(self, name: str) -> str:
        prefix, _, local = name.partition(":")
        return f"{{{self._ns[prefix]}}}{local}"

    def at_most(self, key: str, path: str, limit: int) -> Test:
        """``count(path) <= limit``; a failure points at the first element over the limit."""
        return self._add(key, path, limit, exact=False)

    def exactly(self, key: str, path: str, number: int) -> Test:
        """``count(path) = number``; a failure points at the context node."""
        return self._add(key, path, number, exact=True)

    def custom(self, key: str, test: Test) -> Test:
        """Any other test of the context node (it must not raise), run in the same probe call."""
        self._custom.append((key, test))
        return self._guarded(key)

    def _add(self, key: str, path: str, limit: int, *, exact: bool) -> Test:
        *steps, last = path.split("/")
        attribute = last[1:] if last.startswith("@") else None
        if attribute is None:
            steps.append(last)
        level = self._top
        for step in steps:
            level.exact_below = level.exact_below or exact
            level = level.children.setdefault(self._qname(step), _Level())
        if attribute is None:
            level.counts.append((key, limit, exact))
        else:
            level.attributes.append((attribute, key, limit, exact))
        return self._guarded(key)

    def _guarded(self, key: str) -> Test:
        def test(node: etree._Element) -> bool | Fail:
            return self(node).get(key, True)

        return Guarded(self, key, test)

    def __call__(self, node: etree._Element) -> dict[str, bool | Fail]:
        """The rules that fail on ``node``, with what each returns; within a run, worked out once per node."""
        session = ACTIVE.get()
        if session is None:
            return self.evaluate(node)
        # Only a failure is kept: the engine asks again only for the rules that fail.
        key = (self, node)
        failed = session.memo.get(key)
        if failed is None:
            failed = self.evaluate(node)
            if failed:
                session.memo[key] = failed
        return failed  # type: ignore[no-any-return]

    def evaluate(self, node: etree._Element) -> dict[str, bool | Fail]:
        failed: dict[str, bool | Fail] = {}
        self._walk([node], self._top, failed)
        for key, test in self._custom:
            result = test(node)
            if result is not True:
                failed[key] = result
        return failed

    def _walk(self, parents: list[etree._Element], level: _Level, failed: dict[str, bool | Fail]) -> None:
        for tag, below in level.children.items():
            if len(parents) == 1:
                found = child_elements(parents[0], tag)
            else:
                found = [child for parent in parents for child in child_elements(parent, tag)]
            number = len(found)
            for key, limit, exact in below.counts:
                if exact:
                    if number != limit:
                        failed[key] = False
                elif number > limit:
                    failed[key] = Fail(node=found[limit])
            for attribute, key, limit, exact in below.attributes:
                owners = sum(1 for element in found if element.get(attribute) is not None)
                if owners != limit if exact else owners > limit:
                    # The official count is of attribute nodes: the finding stays on the context node.
                    failed[key] = False
            if below.children and (found or below.exact_below):
                self._walk(found, below, failed)
