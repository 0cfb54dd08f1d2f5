"""The rule engine's run: first-match shadowing, guarded asserts, failures, and per-check sessions."""

from __future__ import annotations

from collections.abc import Mapping

import pytest
from lxml import etree

from validators.rules import Fail, Flag, RuleSet, Session
from validators.rules._engine import Guarded
from validators.rules._session import active_session
from validators.rules.en16931_ubl._document import document
from validators.rules.sets import EN16931_UBL

NS = dict(EN16931_UBL.namespaces)
CAC = "{" + NS["cac"] + "}"


def _invoice(lines: int = 2) -> etree._Element:
    body = "".join(f"<cac:InvoiceLine><cbc:ID>{i}</cbc:ID></cac:InvoiceLine>" for i in range(1, lines + 1))
    return etree.fromstring(
        f'<Invoice xmlns="{NS["ubl"]}" xmlns:cac="{NS["cac"]}" xmlns:cbc="{NS["cbc"]}">{body}</Invoice>'.encode()
    )


class _Probe:
    """A probe answering from a fixed table, counting how often it is asked."""

    def __init__(self, found: Mapping[str, object]) -> None:
        self.found = dict(found)
        self.calls = 0

    def __call__(self, node: etree._Element) -> Mapping[str, object]:
        self.calls += 1
        return self.found


def test_a_node_is_handled_by_the_first_context_that_matches_it() -> None:
    rules = RuleSet("t", "1", NS)
    pattern = rules.pattern("p")
    pattern.context("cac:InvoiceLine[cbc:ID = '1']").check("FIRST", Flag.FATAL, en="first")(lambda n: False)
    pattern.context("cac:InvoiceLine").check("SECOND", Flag.FATAL, en="second")(lambda n: False)
    rules.pattern("other").context("cac:InvoiceLine").check("OTHER", Flag.FATAL, en="other")(lambda n: False)
    fired = [(f.rule.id, f.node.findtext("{*}ID")) for f in rules.run(_invoice(2))]
    assert fired == [("FIRST", "1"), ("SECOND", "2"), ("OTHER", "1"), ("OTHER", "2")]


def test_guarded_asserts_fire_in_registration_order_among_the_others() -> None:
    probe = _Probe({"B": 1, "D": 1})
    rules = RuleSet("t", "1", NS)
    ctx = rules.pattern("p").context("/ubl:Invoice")
    ctx.check("A", Flag.FATAL, en="a")(lambda n: False)
    for key in ("B", "C", "D"):
        ctx.check(key, Flag.WARNING, en=key)(Guarded(probe, key, lambda n: Fail(value="x")))
    ctx.check("E", Flag.FATAL, en="e")(lambda n: False)
    assert [f.rule.id for f in rules.run(_invoice())] == ["A", "B", "D", "E"]
    assert probe.calls == 1 + 2  # once by the engine, once by each test that fires


def test_a_failing_rule_keeps_what_fired_before_it_and_raises() -> None:
    def boom(node: etree._Element) -> bool:
        raise ValueError("asked to fail")

    probe = _Probe({"G": 1})
    rules = RuleSet("t", "1", NS)
    ctx = rules.pattern("p").context("/ubl:Invoice")
    ctx.check("BEFORE", Flag.FATAL, en="before")(lambda n: False)
    ctx.check("G", Flag.FATAL, en="g")(Guarded(probe, "G", lambda n: False))
    ctx.check("BOOM", Flag.FATAL, en="boom")(boom)
    ctx.check("AFTER", Flag.FATAL, en="after")(lambda n: False)
    got: list[str] = []
    with pytest.raises(ValueError, match="asked to fail"):
        for fired in rules.run(_invoice()):
            got.append(fired.rule.id)
    assert got == ["BEFORE", "G"]


def test_a_failing_probe_fails_where_its_first_assert_stands() -> None:
    def broken(node: etree._Element) -> Mapping[str, object]:
        raise RuntimeError("probe broke")

    rules = RuleSet("t", "1", NS)
    ctx = rules.pattern("p").context("/ubl:Invoice")
    ctx.check("BEFORE", Flag.FATAL, en="before")(lambda n: False)
    ctx.check("G", Flag.FATAL, en="g")(Guarded(broken, "G", lambda n: False))
    ctx.check("AFTER", Flag.FATAL, en="after")(lambda n: False)
    got: list[str] = []
    with pytest.raises(RuntimeError, match="probe broke"):
        for fired in rules.run(_invoice()):
            got.append(fired.rule.id)
    assert got == ["BEFORE"]


def test_rules_registered_after_a_run_take_part_in_the_next() -> None:
    rules = RuleSet("t", "1", NS)
    ctx = rules.pattern("p").context("cac:InvoiceLine")
    ctx.check("ONE", Flag.FATAL, en="one")(lambda n: False)
    root = _invoice(1)
    assert [f.rule.id for f in rules.run(root)] == ["ONE"]
    ctx.check("TWO", Flag.FATAL, en="two")(lambda n: False)
    rules.pattern("q").context("/ubl:Invoice").check("THREE", Flag.FATAL, en="three")(lambda n: False)
    assert [f.rule.id for f in rules.run(root)] == ["ONE", "TWO", "THREE"]


def test_a_session_is_active_only_during_its_run_and_for_its_own_document() -> None:
    seen: list[Session | None] = []
    rules = RuleSet("t", "1", NS)
    rules.pattern("p").context("/ubl:Invoice").check("S", Flag.FATAL, en="s")(
        lambda n: seen.append(active_session(n)) or True
    )
    root, other = _invoice(), _invoice()
    session = Session(root)
    list(rules.run(root, session))
    assert seen == [session]
    assert active_session(root) is None  # after the run
    list(rules.run(other, session))  # a session made for another tree is not used for this one
    assert seen[-1] is not None and seen[-1] is not session and seen[-1].root is other


def test_document_facts_are_gathered_afresh_for_every_check() -> None:
    lines: list[int] = []
    rules = RuleSet("t", "1", NS)
    rules.pattern("p").context("/ubl:Invoice").check("F", Flag.FATAL, en="f")(
        lambda n: lines.append(len(document(n).lines)) or True
    )
    root = _invoice(2)
    list(rules.run(root))
    root.append(etree.fromstring(f'<cac:InvoiceLine xmlns:cac="{NS["cac"]}"/>'))
    list(rules.run(root))
    assert lines == [2, 3]
