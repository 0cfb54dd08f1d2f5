"""Scenario selection: the document's syntax and BT-24 decide which checks it gets, exactly as the reference does."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from lxml import etree
from pydantic import ValidationError

from schemas.reader import ReadError, open_document
from validators.check import open_for_check
from validators.rules import RULE_SETS
from validators.scenario import ScenarioSet, default_scenarios, load_scenarios

CIUS = "urn:cen.eu:en16931:2017#compliant#urn:xeinkauf.de:kosit:xrechnung_3.0"
EXTENSION = CIUS + "#conformant#urn:xeinkauf.de:kosit:extension:xrechnung_3.0"
CVD = CIUS + "#compliant#urn:xeinkauf.de:kosit:xrechnung:cvd_0.9"
CEN = "urn:cen.eu:en16931:2017"


def ubl(spec_id: str | None, root: str = "Invoice") -> etree._Element:
    ns = "Invoice-2" if root == "Invoice" else "CreditNote-2"
    customization = f"<cbc:CustomizationID>{spec_id}</cbc:CustomizationID>" if spec_id is not None else ""
    return etree.fromstring(
        f'<{root} xmlns="urn:oasis:names:specification:ubl:schema:xsd:{ns}" '
        f'xmlns:cbc="urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2">{customization}</{root}>'
    )


def cii(spec_id_xml: str) -> etree._Element:
    return etree.fromstring(
        '<rsm:CrossIndustryInvoice xmlns:rsm="urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100" '
        'xmlns:ram="urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:100">'
        "<rsm:ExchangedDocumentContext><ram:GuidelineSpecifiedDocumentContextParameter>"
        f"<ram:ID>{spec_id_xml}</ram:ID>"
        "</ram:GuidelineSpecifiedDocumentContextParameter></rsm:ExchangedDocumentContext></rsm:CrossIndustryInvoice>"
    )


@pytest.fixture(scope="module")
def scenarios() -> ScenarioSet:
    return default_scenarios()


@pytest.mark.parametrize(
    ("root", "syntax", "spec_id", "expected"),
    [
        ("Invoice", "ubl-invoice", CIUS, "EN16931 XRechnung (UBL Invoice)"),
        ("Invoice", "ubl-invoice", EXTENSION, "EN16931 XRechnung Extension (UBL Invoice)"),
        ("Invoice", "ubl-invoice", CVD, "EN16931 XRechnung CVD (UBL Invoice)"),
        ("Invoice", "ubl-invoice", CEN, "EN16931 (UBL Invoice)"),
        ("CreditNote", "ubl-creditnote", CIUS, "EN16931 XRechnung (UBL CreditNote)"),
        ("CreditNote", "ubl-creditnote", CVD, "EN16931 XRechnung CVD (UBL CreditNote)"),
        ("CreditNote", "ubl-creditnote", CEN, "EN16931 (UBL CreditNote)"),
    ],
)
def test_ubl_documents_get_the_scenario_their_identifier_names(
    scenarios: ScenarioSet, root: str, syntax: str, spec_id: str, expected: str
) -> None:
    assert scenarios.select(ubl(spec_id, root), syntax).scenario.name == expected  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("spec_id", "expected"),
    [
        (CIUS, "EN16931 XRechnung (CII)"),
        (EXTENSION, "EN16931 XRechnung Extension (CII)"),
        (CVD, "EN16931 XRechnung CVD (CII)"),
        (CEN, "EN16931 (CII)"),
        ("urn:cen.eu:en16931:2017#conformant#urn:factur-x.eu:1p0:extended", "Factur-X EXTENDED"),
        ("urn:cen.eu:en16931:2017#compliant#urn:zugferd.de:2p0:basic", "Factur-X BASIC"),
        ("urn:factur-x.eu:1p0:basicwl", "Factur-X BASIC WL"),
        ("urn:factur-x.eu:1p0:minimum", "Factur-X MINIMUM"),
        # a non-canonical id as some tools write it: the profile is read from its last word
        ("urn:cen.eu:en16931:2017:compliant:factur-x.eu:1p0:en16931", "Factur-X EN16931"),
    ],
)
def test_cii_documents_get_the_scenario_their_identifier_names(
    scenarios: ScenarioSet, spec_id: str, expected: str
) -> None:
    assert scenarios.select(cii(spec_id), "cii").scenario.name == expected  # type: ignore[union-attr]


def order_x(spec_id: str) -> etree._Element:
    return etree.fromstring(
        '<rsm:SCRDMCCBDACIOMessageStructure xmlns:rsm="urn:un:unece:uncefact:data:SCRDMCCBDACIOMessageStructure:100"'
        ' xmlns:ram="urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:128">'
        "<rsm:ExchangedDocumentContext><ram:GuidelineSpecifiedDocumentContextParameter>"
        f"<ram:ID>{spec_id}</ram:ID>"
        "</ram:GuidelineSpecifiedDocumentContextParameter></rsm:ExchangedDocumentContext>"
        "</rsm:SCRDMCCBDACIOMessageStructure>"
    )


@pytest.mark.parametrize("container", ["xml", "pdf"])
@pytest.mark.parametrize(
    ("spec_id", "expected"),
    [
        ("urn:order-x.eu:1p0:basic", "Order-X BASIC"),
        ("urn:order-x.eu:1p0:comfort", "Order-X COMFORT"),
        ("urn:order-x.eu:1p0:extended", "Order-X EXTENDED"),
        (" urn:order-x.eu:1p0:comfort\n", "Order-X COMFORT"),  # compared trimmed, as the factur-x package does
    ],
)
def test_order_x_documents_get_the_order_x_scenario_of_their_guideline_id(
    scenarios: ScenarioSet, spec_id: str, expected: str, container: str
) -> None:
    selection = scenarios.select(order_x(spec_id), "order-x", container)  # type: ignore[arg-type]
    assert selection.scenario is not None and selection.scenario.name == expected
    assert selection.scenario.xsd.endswith("SCRDMCCBDACIOMessageStructure_100pD20B.xsd")
    assert selection.scenario.xslt == (selection.scenario.xsd.replace(".xsd", "-compiled.xsl"),)


def test_an_invoice_identifier_in_an_order_or_an_order_identifier_in_an_invoice_matches_nothing(
    scenarios: ScenarioSet,
) -> None:
    assert scenarios.select(order_x("urn:factur-x.eu:1p0:minimum"), "order-x").scenario is None
    assert scenarios.select(cii("urn:order-x.eu:1p0:basic"), "cii", "pdf").scenario is None


def test_only_minimum_and_basic_wl_are_marked_as_no_vat_invoice(scenarios: ScenarioSet) -> None:
    marked = {s.name for s in scenarios.scenarios if s.not_a_vat_invoice}
    assert marked == {"Factur-X MINIMUM", "Factur-X BASIC WL"}


def test_plain_en16931_cii_is_judged_by_kosit_standalone_and_by_factur_x_inside_a_pdf(scenarios: ScenarioSet) -> None:
    assert scenarios.select(cii(CEN), "cii", "xml").scenario.name == "EN16931 (CII)"  # type: ignore[union-attr]
    assert scenarios.select(cii(CEN), "cii", "pdf").scenario.name == "Factur-X EN16931"  # type: ignore[union-attr]
    # Factur-X has no XRechnung profile: an XRechnung inside a PDF still gets the KoSIT scenario.
    assert scenarios.select(cii(CIUS), "cii", "pdf").scenario.name == "EN16931 XRechnung (CII)"  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("spec_id", "words"),
    [
        ("urn:fdc:peppol.eu:2017:poacc:billing:01:1.0", ["urn:fdc:peppol.eu:2017:poacc:billing:01:1.0"]),
        (f"{CIUS} ", ["BT-24", repr(f"{CIUS} ")]),  # KoSIT compares exactly: no trimming
        ("urn:cen.eu:en16931:2017#compliant#urn:xoev-de:kosit:standard:xrechnung_2.3", ["XRechnung 1.2-2.3"]),
        ("urn:ferd:CrossIndustryDocument:invoice:1p0:comfort", ["ZUGFeRD 1.0"]),
        ("urn:cen.eu:en16931:2017#compliant#urn:fdc:peppol.eu:2017:poacc:billing:3.0", ["Peppol BIS"]),
    ],
)
def test_an_identifier_no_scenario_knows_gives_no_scenario_and_says_why(
    scenarios: ScenarioSet, spec_id: str, words: list[str]
) -> None:
    selection = scenarios.select(ubl(spec_id), "ubl-invoice")
    assert selection.scenario is None
    assert selection.reason is not None
    assert "Invoice" in selection.reason  # the root
    for word in words:
        assert word in selection.reason


def test_a_document_without_identifier_gets_no_scenario(scenarios: ScenarioSet) -> None:
    selection = scenarios.select(ubl(None), "ubl-invoice")
    assert selection.scenario is None
    assert "no specification identifier" in (selection.reason or "")


def test_cii_compares_the_text_node_as_kosit_does(scenarios: ScenarioSet) -> None:
    # The CII match is `…/ram:ID/text() = '…'`: an id split by a comment matches no scenario.
    split = f"{CIUS[:20]}<!-- x -->{CIUS[20:]}"
    assert scenarios.select(cii(split), "cii").scenario is None
    # The UBL Invoice match is `cbc:CustomizationID[. = '…']`, the string value: it still matches.
    split_ubl = f"{CIUS[:20]}<!-- x -->{CIUS[20:]}"
    assert scenarios.select(ubl(split_ubl), "ubl-invoice").scenario is not None


# The customLevel overrides of the configuration, as documented in ../shared/corpus/README.md.
OVERRIDES = {
    "EN16931 XRechnung (UBL Invoice)": {"BR-CL-23": "warning", "BR-CL-21": "warning", "UBL-CR-646": "error"},
    "EN16931 XRechnung (UBL CreditNote)": {"BR-CL-23": "warning", "BR-CL-21": "warning"},
    "EN16931 XRechnung (CII)": {
        "BR-CL-23": "warning",
        "BR-CL-21": "warning",
        "CII-SR-452": "error",
        "CII-SR-453": "error",
        "CII-SR-454": "error",
    },
    "EN16931 XRechnung Extension (UBL Invoice)": {
        "BR-CL-23": "warning",
        **dict.fromkeys(["BR-CL-10", "BR-CL-11", "BR-CL-21", "BR-CL-24", "BR-CL-25", "BR-CL-26"], "information"),
        "BR-CO-16": "information",
        "UBL-CR-470": "information",
        "UBL-CR-646": "information",
    },
    "EN16931 XRechnung Extension (CII)": {
        "BR-CL-23": "warning",
        **dict.fromkeys(["BR-CL-10", "BR-CL-11", "BR-CL-21", "BR-CL-24", "BR-CL-25", "BR-CL-26"], "information"),
        "CII-SR-452": "error",
        "CII-SR-453": "error",
        "CII-SR-454": "error",
    },
    "EN16931 XRechnung CVD (UBL Invoice)": {
        "BR-CL-23": "warning",
        "BR-CL-21": "warning",
        "BR-CL-13": "information",
        "UBL-CR-646": "error",
    },
    "EN16931 XRechnung CVD (UBL CreditNote)": {
        "BR-CL-23": "warning",
        "BR-CL-21": "warning",
        "BR-CL-13": "information",
        "UBL-CR-646": "error",
    },
    "EN16931 XRechnung CVD (CII)": {
        "BR-CL-23": "warning",
        "BR-CL-21": "warning",
        "BR-CL-13": "information",
        "CII-SR-452": "error",
        "CII-SR-453": "error",
        "CII-SR-454": "error",
    },
    "EN16931 (UBL Invoice)": {},
    "EN16931 (UBL CreditNote)": {},
    "EN16931 (CII)": {},
}


def test_every_kosit_scenario_has_the_configurations_overrides_and_says_why(scenarios: ScenarioSet) -> None:
    kosit = {s.name: s for s in scenarios.scenarios if s.family == "kosit"}
    assert set(kosit) == set(OVERRIDES)
    for name, levels in OVERRIDES.items():
        assert {rule: o.level for rule, o in kosit[name].levels.items()} == levels, name
        assert all(o.why.strip() for o in kosit[name].levels.values())


def test_an_override_changes_the_level_and_the_flag_maps_like_kosits_report(scenarios: ScenarioSet) -> None:
    cius = scenarios.by_name("EN16931 XRechnung (UBL Invoice)")
    assert cius.level_of("BR-CL-23", "fatal") == "warning"
    assert cius.level_of("UBL-CR-646", "warning") == "error"
    assert cius.level_of("BR-01", "fatal") == "error"
    assert cius.level_of("BR-DE-TMP-32", "information") == "information"
    assert cius.level_of("X", "warn") == "warning"
    assert cius.level_of("X", None) == "error"  # no flag counts as error
    assert cius.level_of("X", "surprising") == "error"


def test_every_rule_set_a_scenario_names_is_registered(scenarios: ScenarioSet) -> None:
    assert scenarios.rule_set_keys() <= set(RULE_SETS)


def test_every_override_names_a_rule_the_scenarios_rule_sets_define(scenarios: ScenarioSet) -> None:
    unknown = {}
    for s in scenarios.scenarios:
        defined = set().union(*(RULE_SETS[k].rule_ids() for k in s.rule_sets)) if s.rule_sets else set()
        missing = sorted(r for r in s.levels if r not in defined)
        if missing:
            unknown[s.name] = missing
    assert unknown == {}


def test_scenario_data_refuses_unknown_keys_and_duplicate_names() -> None:
    text = default_scenarios_text()
    with pytest.raises(ValidationError):
        load_scenarios(text.replace('family = "kosit"', 'family = "kosit"\ncolour = "red"', 1))
    with pytest.raises(ValidationError):
        load_scenarios(text.replace('name = "EN16931 (CII)"', 'name = "EN16931 (UBL Invoice)"'))
    with pytest.raises(ValidationError):
        load_scenarios(text.replace('level = "warning"', 'level = "severe"', 1))


def default_scenarios_text() -> str:
    return Path(__file__).resolve().parents[2].joinpath("validators", "scenarios.toml").read_text(encoding="utf-8")


# -- against the reference verdicts --------------------------------------------------------------


def test_every_corpus_document_gets_the_reference_scenario(corpus: Path, scenarios: ScenarioSet) -> None:
    expected = json.loads((corpus / "expected.json").read_text())
    wrong = []
    for key, entry in expected.items():
        try:
            doc = open_document((corpus / key).read_bytes())
        except ReadError:
            assert entry["scenario"] is None, key
            continue
        got = scenarios.select(doc.root, doc.syntax, doc.source.kind).scenario
        if (got.name if got else None) != entry["scenario"]:
            wrong.append((key, entry["scenario"], got.name if got else None))
    assert wrong == []


def test_zugferd_documents_get_the_scenario_whose_verdict_applies(corpus: Path, scenarios: ScenarioSet) -> None:
    """KoSIT where the reference gives a KoSIT verdict, else the Factur-X (or Order-X) profile's artefacts."""
    folder = corpus / "zugferd"
    expected = json.loads((folder / "expected.json").read_text())
    wrong = []
    orders = 0
    for key, entry in expected.items():
        try:
            doc = open_for_check((folder / key).read_bytes())
        except ReadError:
            continue
        got = scenarios.select(doc.root, doc.syntax, doc.source.kind).scenario  # type: ignore[arg-type]
        name = got.name if got else None
        if "kosit" in entry:
            want = entry["kosit"]["scenario"]
        elif entry["validation"].get("artefacts") and entry["facts"]["syntax"] == "cii":
            want = "Factur-X " + entry["facts"]["profile"]
        elif entry["validation"].get("artefacts") and entry["facts"]["syntax"] == "order-x":
            want = "Order-X " + entry["facts"]["profile"].removeprefix("ORDER-X ")
        else:
            want = None
        if name != want:
            wrong.append((key, want, name))
        orders += doc.syntax == "order-x"
    assert wrong == []
    assert orders == 3  # the Order-X PDFs of csharp-orderx/ and mustang/
