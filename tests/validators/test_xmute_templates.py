"""KoSIT's own mutation tests: the ``<?xmute …?>`` instructions in the configuration's test documents.

The corpus keeps these documents as templates (its verdicts describe the unmutated documents); each
instruction is a rule-level test of the official configuration: after this change, this rule fires,
or does not. The native rules must meet every one in ``cen-unit-test/`` and ``instances/``. The
configuration keeps the tests the official artefacts do not pass yet in ``unexpected/`` (it moves them
to ``cen-unit-test/`` once the CEN has fixed the rule); the native rules answer those as the official
artefacts do (for UBL, ``test_cen_ubl_against_official`` holds them to the CEN's artefact), so they
are not held to these expectations.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from lxml import etree

from tests.validators.xmute import Expectation, Mutation, mutations
from validators.check import open_for_check
from validators.rules import RULE_SETS, Session

CORPUS = Path(__file__).resolve().parents[3] / "shared" / "corpus" / "kosit-config-tests"
RULE_SETS_OF = {
    ("ubl", "cen"): "en16931-ubl@1.3.15",
    ("ubl", "xrechnung"): "xrechnung-ubl@2.5.0",
    ("cii", "cen"): "en16931-cii@1.3.15",
    ("cii", "xrechnung"): "xrechnung-cii@2.5.0",
}


def _templates() -> list[Path]:
    if not CORPUS.is_dir():
        return []
    return sorted(p for p in CORPUS.rglob("*.xml") if b"<?xmute" in p.read_bytes() and "unexpected" not in p.parts)


def _cases() -> list[tuple[str, Mutation]]:
    return [(str(path.relative_to(CORPUS)), m) for path in _templates() for m in mutations(path.read_bytes())]


CASES = _cases()


def fired_rules(document: bytes, schematron: str) -> set[str]:
    root = open_for_check(document).root
    syntax = "cii" if etree.QName(root).localname == "CrossIndustryInvoice" else "ubl"
    return {hit.rule.id for hit in RULE_SETS[RULE_SETS_OF[syntax, schematron]].run(root, Session(root))}


@pytest.mark.corpus
@pytest.mark.skipif(not CASES, reason="../shared/corpus/kosit-config-tests is not here")
@pytest.mark.parametrize(("template", "mutation"), CASES, ids=[f"{t}: {m.name}" for t, m in CASES])
def test_the_rules_meet_the_configurations_mutation_test(template: str, mutation: Mutation) -> None:
    assert mutation.expectations, "an instruction without an expectation tests nothing"
    fired = {schematron: fired_rules(mutation.document, schematron) for schematron in ("cen", "xrechnung")}
    wrong = [e for e in mutation.expectations if (e.rule in fired[e.schematron]) != e.fires]
    assert not wrong, [f"{e.rule} should {'' if e.fires else 'not '}fire" for e in wrong]


def test_an_instruction_is_applied_to_the_element_after_it_and_alone() -> None:
    template = b"""<r><?xmute mutator="code" values="A,B" schematron-invalid="cenubl:BR-1"?><a>x</a>
        <?xmute mutator="remove" schematron-valid="xrubl:BR-DE-2 cenubl:BR-3" id="gone"?><b>y</b><c/></r>"""
    found = [(m.name, etree.fromstring(m.document), m.expectations) for m in mutations(template)]
    assert [name for name, _, _ in found] == ["code #1 (code A)", "code #1 (code B)", "gone (remove)"]
    assert [root.findtext("a") for _, root, _ in found] == ["A", "B", "x"]
    assert [root.find("b") is None for _, root, _ in found] == [False, False, True]
    assert not any(root.xpath("//processing-instruction()") for _, root, _ in found)
    assert found[2][2] == (Expectation("xrechnung", "BR-DE-2", False), Expectation("cen", "BR-3", False))
    assert found[0][2] == (Expectation("cen", "BR-1", True),)
