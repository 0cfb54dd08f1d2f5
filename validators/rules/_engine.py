"""Rule sets with Schematron semantics, run natively on an lxml tree.

A rule set holds patterns; a pattern holds contexts in order; a context holds asserts.
As in Schematron, within one pattern a node is handled by the *first* context that
matches it, so a specific context written before a general one shadows it. Each assert
is a small Python function of the context node that returns True when the node is fine
(or, for a ``report``, True when the condition the rule reports holds).

Contexts are XSLT match patterns written in XPath 1.0 (``cac:InvoiceLine``,
``/ubl:Invoice``, ``cac:AllowanceCharge[cbc:ChargeIndicator='false']``); a relative
pattern matches such an element anywhere, as in XSLT.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from lxml import etree

__all__ = [
    "Assert",
    "Context",
    "Fail",
    "Fired",
    "Flag",
    "Pattern",
    "RuleSet",
    "Test",
    "node_path",
]


class Flag(StrEnum):
    FATAL = "fatal"
    WARNING = "warning"
    INFORMATION = "information"


@dataclass(frozen=True)
class Fail:
    """A failed assert with details: the offending value and, if not the context, the node."""

    value: str | None = None
    node: etree._Element | None = None


# An assert's test: context node → True (passes), False or Fail (fires).
Test = Callable[[etree._Element], "bool | Fail"]


@dataclass(frozen=True)
class Assert:
    id: str
    flag: Flag
    test: Test
    terms: tuple[str, ...]
    en: str
    de: str
    report: bool = False  # a Schematron <report>: fires when the test is True


@dataclass(frozen=True)
class Fired:
    """One rule that fired on one node."""

    rule: Assert
    node: etree._Element
    value: str | None


def _split_top(text: str, separator: str) -> list[str]:
    """Split at a one-character separator outside brackets and parentheses."""
    parts, depth, start = [], 0, 0
    for i, ch in enumerate(text):
        if ch in "[(":
            depth += 1
        elif ch in "])":
            depth -= 1
        elif ch == separator and depth == 0:
            parts.append(text[start:i])
            start = i + 1
    parts.append(text[start:])
    return [p.strip() for p in parts]


def _match_xpath(pattern: str) -> str:
    """Turn an XSLT match pattern into an XPath selecting every node it matches."""
    return " | ".join(b if b.startswith("/") else "//" + b for b in _split_top(pattern, "|"))


_QNAME_STEP = re.compile(r"([A-Za-z_][\w.-]*):([A-Za-z_][\w.-]*)(\[.*\])?")


def _target_tags(pattern: str, namespaces: Mapping[str, str]) -> frozenset[str] | None:
    """The element names a pattern can select, when its last step names one; else None."""
    tags = set()
    for branch in _split_top(pattern, "|"):
        last = _split_top(branch, "/")[-1]
        match = _QNAME_STEP.fullmatch(last)
        if match is None or match[1] not in namespaces:
            return None
        tags.add(f"{{{namespaces[match[1]]}}}{match[2]}")
    return frozenset(tags)


@dataclass
class Context:
    pattern: str
    asserts: list[Assert] = field(default_factory=list)

    def check(
        self, rule_id: str, flag: Flag, *, terms: tuple[str, ...] = (), en: str, de: str = "", report: bool = False
    ) -> Callable[[Test], Test]:
        """Decorator registering a test under this context."""

        def register(test: Test) -> Test:
            self.asserts.append(Assert(rule_id, flag, test, terms, en, de or en, report))
            return test

        return register


@dataclass
class Pattern:
    name: str
    contexts: list[Context] = field(default_factory=list)

    def context(self, match: str) -> Context:
        ctx = Context(match)
        self.contexts.append(ctx)
        return ctx


@dataclass
class RuleSet:
    """A versioned set of rules for one syntax, e.g. ``en16931-ubl@1.3.15``."""

    name: str
    version: str
    namespaces: Mapping[str, str]
    patterns: list[Pattern] = field(default_factory=list)
    _compiled: dict[str, etree.XPath] = field(default_factory=dict, repr=False)
    _targets: dict[str, frozenset[str] | None] = field(default_factory=dict, repr=False)

    @property
    def key(self) -> str:
        return f"{self.name}@{self.version}"

    def pattern(self, name: str) -> Pattern:
        p = Pattern(name)
        self.patterns.append(p)
        return p

    def rule_ids(self) -> set[str]:
        return {a.id for p in self.patterns for c in p.contexts for a in c.asserts}

    def _select(self, root: etree._Element, match: str) -> list[Any]:
        xpath = self._compiled.get(match)
        if xpath is None:
            xpath = self._compiled[match] = etree.XPath(_match_xpath(match), namespaces=dict(self.namespaces))
        result = xpath(root)
        return result if isinstance(result, list) else []

    def run(self, root: etree._Element) -> Iterator[Fired]:
        """Every assert that fires on the document, pattern by pattern, in context order.

        Exceptions propagate: the caller turns them into an error finding, never into silence.
        """
        # Most contexts name the element they select; when no such element is in the document,
        # the (whole-document) XPath need not run at all.
        present = {el.tag for el in root.iter()}
        for pattern in self.patterns:
            claimed: set[etree._Element] = set()
            for ctx in pattern.contexts:
                if ctx.pattern not in self._targets:
                    self._targets[ctx.pattern] = _target_tags(ctx.pattern, self.namespaces)
                targets = self._targets[ctx.pattern]
                if targets is not None and targets.isdisjoint(present):
                    continue
                for node in self._select(root, ctx.pattern):
                    if not isinstance(node, etree._Element) or node in claimed:
                        continue
                    claimed.add(node)
                    for rule in ctx.asserts:
                        result = rule.test(node)
                        if rule.report:
                            fired = result is True or isinstance(result, Fail)
                        else:
                            fired = result is False or isinstance(result, Fail)
                        if fired:
                            detail = result if isinstance(result, Fail) else Fail()
                            yield Fired(rule, detail.node if detail.node is not None else node, detail.value)


def node_path(node: etree._Element) -> str:
    """An XPath to the node with the document's own prefixes, e.g. ``/Invoice/cac:InvoiceLine[2]/cbc:ID``."""
    steps = []
    el: etree._Element | None = node
    while el is not None:
        parent = el.getparent()
        qname = etree.QName(el)
        prefix = el.prefix
        name = f"{prefix}:{qname.localname}" if prefix else qname.localname
        if parent is not None:
            same = [s for s in parent if s.tag == el.tag]
            if len(same) > 1:
                name += f"[{same.index(el) + 1}]"
        steps.append(name)
        el = parent
    return "/" + "/".join(reversed(steps))
