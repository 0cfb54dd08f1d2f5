"""The shared facts and child-step helpers of the CII rules give what the XPath they replace selects.

The CEN CII model rules and the XRechnung CII rules read the document through ``en16931_cii._values``
(child steps through the session's child index) and ``en16931_cii._document`` (facts read once per
check). These tests hold them to lxml's XPath on the corpus, in a run's session and outside one, and
pin the arithmetic shortcut of PEPPOL-EN16931-R120.
"""

from __future__ import annotations

from contextlib import nullcontext
from decimal import Decimal
from pathlib import Path

import pytest
from lxml import etree

from validators.rules import Session
from validators.rules._session import activate
from validators.rules.en16931_cii._document import header, line_facts
from validators.rules.en16931_cii._values import NS, below, below_first, child_steps, ram
from validators.rules.xrechnung._xpath2 import add, div

CORPUS = Path(__file__).resolve().parents[2].parent / "shared" / "corpus"
_CII_FILES = sorted((CORPUS / "kosit-testsuite").rglob("*uncefact*.xml"))[:12]

_LINE_PATHS = {
    "line_ids": "ram:AssociatedDocumentLineDocument/ram:LineID",
    "names": "ram:SpecifiedTradeProduct/ram:Name",
    "global_ids": "ram:SpecifiedTradeProduct/ram:GlobalID",
    "net_prices": "ram:SpecifiedLineTradeAgreement/ram:NetPriceProductTradePrice/ram:ChargeAmount",
    "gross_prices": "ram:SpecifiedLineTradeAgreement/ram:GrossPriceProductTradePrice/ram:ChargeAmount",
    "quantities": "ram:SpecifiedLineTradeDelivery/ram:BilledQuantity",
    "taxes": "ram:SpecifiedLineTradeSettlement/ram:ApplicableTradeTax",
    "net_amounts": "ram:SpecifiedLineTradeSettlement/ram:SpecifiedTradeSettlementLineMonetarySummation"
    "/ram:LineTotalAmount",
}
_HEADER = "/rsm:CrossIndustryInvoice/rsm:SupplyChainTradeTransaction/"
_HEADER_PATHS = {
    "agreements": "ram:ApplicableHeaderTradeAgreement",
    "deliveries": "ram:ApplicableHeaderTradeDelivery",
    "settlements": "ram:ApplicableHeaderTradeSettlement",
    "sellers": "ram:ApplicableHeaderTradeAgreement/ram:SellerTradeParty",
    "buyers": "ram:ApplicableHeaderTradeAgreement/ram:BuyerTradeParty",
    "representatives": "ram:ApplicableHeaderTradeAgreement/ram:SellerTaxRepresentativeTradeParty",
}


def _xpath(node: etree._Element, path: str) -> list[etree._Element]:
    return etree.XPath(path, namespaces=NS)(node)  # type: ignore[no-any-return]


def _with_oddities(root: etree._Element) -> etree._Element:
    """The document with repeated groups, a comment and a misplaced line: the facts must keep them all."""
    root = etree.fromstring(etree.tostring(root))
    for line in _xpath(root, "//ram:IncludedSupplyChainTradeLineItem")[:1]:
        for child in list(line):
            line.append(etree.fromstring(etree.tostring(child)))
        line.insert(0, etree.Comment("a comment"))
        root.append(etree.fromstring(etree.tostring(line)))
    for agreement in _xpath(root, "//ram:ApplicableHeaderTradeAgreement")[:1]:
        agreement.getparent().append(etree.fromstring(etree.tostring(agreement)))
    return root


@pytest.fixture(params=_CII_FILES, ids=lambda p: p.name)
def document(request: pytest.FixtureRequest) -> etree._Element:
    return _with_oddities(etree.parse(str(request.param)).getroot())


@pytest.mark.parametrize("in_session", [False, True])
def test_line_and_header_facts_are_the_xpath_selections(document: etree._Element, in_session: bool) -> None:
    session = Session(document)
    with activate(session) if in_session else nullcontext():
        for line in document.iter(ram.IncludedSupplyChainTradeLineItem):
            facts = line_facts(line)
            for field, path in _LINE_PATHS.items():
                assert getattr(facts, field) == _xpath(line, path), field
                assert below(line, *child_steps(path) or ()) == _xpath(line, path), path
                found = _xpath(line, path)
                assert below_first(line, *child_steps(path) or ()) is (found[0] if found else None)
        facts_of_header = header(document)
        for field, path in _HEADER_PATHS.items():
            assert getattr(facts_of_header, field) == _xpath(document, _HEADER + path), field


@pytest.mark.parametrize(
    ("path", "plain"),
    [
        ("ram:ID", True),
        ("ram:SpecifiedLineTradeSettlement/ram:ApplicableTradeTax", True),
        ("udt:DateTimeString", True),
        ("/rsm:CrossIndustryInvoice", False),
        ("ram:ID[@schemeID='VA']", False),
        ("ram:*", False),
        ("../ram:ID", False),
        ("ram:ID/text()", False),
        ("ram:ID/@schemeID", False),
        ("ID", False),
        ("xyz:ID", False),
        ("ram:ID | ram:Name", False),
        ("", False),
    ],
)
def test_child_steps_accepts_plain_child_paths_only(path: str, plain: bool) -> None:
    assert (child_steps(path) is not None) is plain


@pytest.mark.parametrize(
    "price",
    ["0", "-0.00", "10.00", "660.00", "1.5", "-3.333", "0.000000001", "123456789012345678901234567890.12", "9" * 250,
     "1." + "3" * 240, "-" + "7" * 120 + "." + "1" * 120],
)  # fmt: skip
@pytest.mark.parametrize("one", ["1", "1.0", "1.000", "01"])
def test_r120_divides_by_one_as_the_price_itself(price: str, one: str) -> None:
    """PEPPOL-EN16931-R120 skips ``div`` for a base quantity of 1: only the value of the quotient goes on."""
    assert add(Decimal(price)) == div(Decimal(price), Decimal(one))
    assert add(Decimal(5), add(Decimal(price))) == add(Decimal(5), div(Decimal(price), Decimal(one)))
