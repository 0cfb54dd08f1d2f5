"""Rule sets with Schematron semantics, run natively on an lxml tree.

A rule set holds patterns; a pattern holds contexts in order; a context holds asserts.
As in Schematron, within one pattern a node is handled by the *first* context that
matches it, so a specific context written before a general one shadows it. Each assert
is a small Python function of the context node that returns True when the node is fine
(or, for a ``report``, True when the condition the rule reports holds).

Contexts are XSLT match patterns written in XPath 1.0 (``cac:InvoiceLine``,
``/ubl:Invoice``, ``cac:AllowanceCharge[cbc:ChargeIndicator='false']``); a relative
pattern matches such an element anywhere, as in XSLT.

A run works on a ``Session``: one document under check, with an index of its elements by tag
(from which every context picks its candidates, see ``_match``) and a memo of facts the rules
compute about the document. A check shares one session between its rule sets; the session is
active only while a run of that check executes, so nothing learned about one document can be
used for another.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Final

from lxml import etree

from validators.rules._match import Selector, compile_pattern
from validators.rules._session import Session, activate, active_session

__all__ = [
    "Assert",
    "Context",
    "Fail",
    "Fired",
    "Flag",
    "Guarded",
    "Pattern",
    "RuleSet",
    "Session",
    "Test",
    "active_session",
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
class Guarded:
    """A test that can fire only where ``probe(node)`` holds ``key``.

    Hundreds of "should not be present" rules share one probe per context (one walk finds every
    such element). Marking their tests this way lets the engine run the probe once per node and
    call only the tests whose key it found, instead of calling every test to learn it passes.
    Called directly, it answers exactly as ``test`` does.
    """

    probe: Callable[[etree._Element], Mapping[str, object]]
    key: str
    test: Test

    def __call__(self, node: etree._Element) -> bool | Fail:
        return self.test(node) if self.key in self.probe(node) else True


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


# Every registration bumps this, so a rule set recompiles its plan when rules were added after a run.
_generation = 0


def _changed() -> None:
    global _generation
    _generation += 1


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
            _changed()
            return test

        return register


@dataclass
class Pattern:
    name: str
    contexts: list[Context] = field(default_factory=list)

    def context(self, match: str) -> Context:
        ctx = Context(match)
        self.contexts.append(ctx)
        _changed()
        return ctx


# --- compiled rule sets --------------------------------------------------------------------------------------

# One assert as the run loop uses it: (test, fires when True, the assert).
_Entry = tuple[Test, bool, Assert]


@dataclass(frozen=True)
class _Probed:
    """The guarded asserts of one probe in a context, by the key that lets each fire."""

    probe: Callable[[etree._Element], Mapping[str, object]]
    first: int  # position of the probe's first assert: where a failing probe is reported
    by_key: dict[str, list[tuple[int, _Entry]]]


@dataclass(frozen=True)
class _ContextPlan:
    selector: Selector
    entries: tuple[_Entry, ...]  # every assert in order, when none is guarded
    always: tuple[tuple[int, _Entry], ...]  # the unguarded ones with their positions, when some are
    probes: tuple[_Probed, ...]
    # First-match bookkeeping, needed only where contexts of the pattern can select the same
    # element: whether an earlier context may have claimed one of its nodes, and whether a later
    # context may select one of its nodes (so they must be claimed).
    shadowed: bool = True
    shadows: bool = True


def _overlap(a: frozenset[str] | None, b: frozenset[str] | None) -> bool:
    """Whether two contexts may select an element of the same name (unknown names: they may)."""
    return a is None or b is None or not a.isdisjoint(b)


def _plan_pattern(pattern: Pattern, namespaces: Mapping[str, str]) -> tuple[_ContextPlan, ...]:
    plans = [_plan_context(c, namespaces) for c in pattern.contexts]
    return tuple(
        replace(
            plan,
            shadowed=any(_overlap(plan.selector.tags, other.selector.tags) for other in plans[:i]),
            shadows=any(_overlap(plan.selector.tags, other.selector.tags) for other in plans[i + 1 :]),
        )
        for i, plan in enumerate(plans)
    )


def _plan_context(ctx: Context, namespaces: Mapping[str, str]) -> _ContextPlan:
    selector = compile_pattern(ctx.pattern, namespaces)
    entries = tuple((a.test, a.report, a) for a in ctx.asserts)
    always: list[tuple[int, _Entry]] = []
    probes: dict[int, _Probed] = {}
    for position, entry in enumerate(entries):
        test = entry[0]
        if isinstance(test, Guarded) and not entry[1]:  # a report fires on True: it is never skipped
            probed = probes.get(id(test.probe))
            if probed is None:
                probed = probes[id(test.probe)] = _Probed(test.probe, position, {})
            probed.by_key.setdefault(test.key, []).append((position, entry))
        else:
            always.append((position, entry))
    if not probes:
        return _ContextPlan(selector, entries, (), ())
    return _ContextPlan(selector, (), tuple(always), tuple(probes.values()))


_UNCLAIMED: Final[set[etree._Element]] = set()  # never changed: passed where no node can be claimed yet


def _emit(entry: _Entry, node: etree._Element, out: list[Fired]) -> None:
    """Run one assert on a node; what fires goes to ``out``."""
    test, report, rule = entry
    result = test(node)
    if result is True:
        if report:
            out.append(Fired(rule, node, None))
    elif result is False:
        if not report:
            out.append(Fired(rule, node, None))
    elif isinstance(result, Fail):
        out.append(Fired(rule, result.node if result.node is not None else node, result.value))


def _emit_guarded(plan: _ContextPlan, node: etree._Element, out: list[Fired]) -> None:
    """Run a context's asserts on a node, calling guarded ones only where their probe found the key.

    The order of what fires, and what has fired when a test raises, is that of running every
    assert in order: a failing probe counts as failing at its first assert.
    """
    hits: list[tuple[int, _Entry]] = []
    failure: tuple[int, Exception] | None = None
    for probed in plan.probes:
        try:
            found = probed.probe(node)
        except Exception as exc:
            if failure is None or probed.first < failure[0]:
                failure = (probed.first, exc)
            continue
        for key in found:
            hits.extend(probed.by_key.get(key, ()))
    if not hits and failure is None:
        for _, entry in plan.always:
            _emit(entry, node, out)
        return
    steps = sorted([*plan.always, *hits], key=lambda step: step[0])
    for position, entry in steps:
        if failure is not None and position >= failure[0]:
            break
        _emit(entry, node, out)
    if failure is not None:
        raise failure[1]


@dataclass
class RuleSet:
    """A versioned set of rules for one syntax, e.g. ``en16931-ubl@1.3.15``."""

    name: str
    version: str
    namespaces: Mapping[str, str]
    patterns: list[Pattern] = field(default_factory=list)
    _plan: tuple[tuple[_ContextPlan, ...], ...] | None = field(default=None, repr=False)
    _plan_generation: int = field(default=-1, repr=False)

    @property
    def key(self) -> str:
        return f"{self.name}@{self.version}"

    def pattern(self, name: str) -> Pattern:
        p = Pattern(name)
        self.patterns.append(p)
        _changed()
        return p

    def rule_ids(self) -> set[str]:
        return {a.id for p in self.patterns for c in p.contexts for a in c.asserts}

    def compile(self) -> None:
        """Compile every context's match pattern now (otherwise done by the first run)."""
        self._compiled()

    def _compiled(self) -> tuple[tuple[_ContextPlan, ...], ...]:
        if self._plan is None or self._plan_generation != _generation:
            generation = _generation
            self._plan = tuple(_plan_pattern(p, self.namespaces) for p in self.patterns)
            self._plan_generation = generation
        return self._plan

    def run(self, root: etree._Element, session: Session | None = None) -> Iterator[Fired]:
        """Every assert that fires on the document, pattern by pattern, in context order.

        ``session`` shares the element index and facts of one check between its rule sets; it
        must have been made for ``root``. Exceptions propagate, after what fired before them:
        the caller turns them into an error finding, never into silence.
        """
        fired: list[Fired] = []
        try:
            self._run(root, session, fired)
        except Exception:
            yield from fired
            raise
        yield from fired

    def _run(self, root: etree._Element, session: Session | None, out: list[Fired]) -> None:
        plan = self._compiled()
        if session is None or session.root is not root:
            session = Session(root)
        by_tag = session.by_tag
        present = by_tag.keys()
        shapes = session.memo
        with activate(session):
            for contexts in plan:
                claimed: set[etree._Element] = set()
                for ctx in contexts:
                    selector = ctx.selector
                    # The commonest patterns are selected here without a call; see Selector.
                    if selector.tag is not None:
                        found = by_tag.get(selector.tag)
                        if not found:
                            continue
                        nodes = [n for n in found if n not in claimed] if claimed and ctx.shadowed else found
                    elif (selector.tags is not None and present.isdisjoint(selector.tags)) or not (
                        present >= selector.requires
                    ):
                        continue
                    elif selector.shape is not None:
                        found = shapes.get(selector.shape)
                        if found is None:
                            found = shapes[selector.shape] = selector.shaped(session)
                        nodes = [n for n in found if n not in claimed] if claimed and ctx.shadowed else found
                    else:
                        nodes = selector.select(session, claimed if ctx.shadowed else _UNCLAIMED)
                    if not nodes:
                        continue
                    if ctx.shadows:
                        claimed.update(nodes)
                    entries = ctx.entries
                    if entries:
                        try:
                            for node in nodes:
                                for test, report, rule in entries:  # _emit, inlined: the run's innermost loop
                                    result = test(node)
                                    if result is True:
                                        if report:
                                            out.append(Fired(rule, node, None))
                                    elif result is False:
                                        if not report:
                                            out.append(Fired(rule, node, None))
                                    elif isinstance(result, Fail):
                                        out.append(
                                            Fired(rule, node if result.node is None else result.node, result.value)
                                        )
                        except Exception as exc:
                            # Which rule stopped the run, and where: the check's finding names both.
                            exc.add_note(f"{rule.id} ({node_path(node)})")
                            raise
                    elif ctx.probes:
                        for node in nodes:
                            try:
                                _emit_guarded(ctx, node, out)
                            except Exception as exc:
                                exc.add_note(f"{ctx.selector.pattern} ({node_path(node)})")
                                raise


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
