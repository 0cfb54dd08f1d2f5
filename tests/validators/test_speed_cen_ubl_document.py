"""The EN 16931 UBL document facts, gathered once per kind of category and lazily per party, are the
facts read category by category and element by element."""

from __future__ import annotations

from pathlib import Path

import pytest
from lxml import etree

from validators.rules._session import Session, activate
from validators.rules.en16931_ubl._document import _SELECTIONS, Document, document
from validators.rules.en16931_ubl._values import CAC, CBC, is_vat_scheme, normalized, string_value

CORPUS = Path(__file__).resolve().parents[2].parent / "shared" / "corpus"
_UBL_ROOTS = {
    "{urn:oasis:names:specification:ubl:schema:xsd:Invoice-2}Invoice",
    "{urn:oasis:names:specification:ubl:schema:xsd:CreditNote-2}CreditNote",
}

_ODD = b"""<Invoice xmlns="urn:oasis:names:specification:ubl:schema:xsd:Invoice-2"
 xmlns:cac="urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2"
 xmlns:cbc="urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2">
 <cac:AccountingSupplierParty><cac:Party><cac:PartyTaxScheme><cbc:CompanyID>DE1</cbc:CompanyID>
  <cac:TaxScheme><cbc:ID> vat </cbc:ID></cac:TaxScheme></cac:PartyTaxScheme></cac:Party></cac:AccountingSupplierParty>
 <cac:AccountingCustomerParty><cac:Party><cac:PartyLegalEntity><cbc:CompanyID>X</cbc:CompanyID></cac:PartyLegalEntity>
  </cac:Party></cac:AccountingCustomerParty>
 <cac:AllowanceCharge><cbc:ChargeIndicator>true</cbc:ChargeIndicator><cbc:Amount>1</cbc:Amount>
  <cac:TaxCategory><cbc:ID> S</cbc:ID><cbc:ID>Z</cbc:ID><cbc:Percent>19</cbc:Percent>
   <cac:TaxScheme><cbc:ID>VAT</cbc:ID></cac:TaxScheme></cac:TaxCategory></cac:AllowanceCharge>
 <cac:TaxTotal><cac:TaxSubtotal><cac:TaxCategory><cbc:ID>S</cbc:ID><cbc:Percent>19.0</cbc:Percent>
   <cac:TaxScheme><cbc:ID>vat</cbc:ID></cac:TaxScheme><cac:TaxScheme><cbc:ID>GST</cbc:ID></cac:TaxScheme>
  </cac:TaxCategory></cac:TaxSubtotal>
  <cac:TaxSubtotal><cac:TaxCategory><cbc:ID>S</cbc:ID><cbc:Percent>19.0</cbc:Percent>
   <cac:TaxScheme><cbc:ID>VAT</cbc:ID></cac:TaxScheme></cac:TaxCategory></cac:TaxSubtotal>
  <cac:TaxSubtotal><cac:TaxCategory><cbc:ID>E</cbc:ID><cac:TaxScheme/></cac:TaxCategory></cac:TaxSubtotal>
 </cac:TaxTotal>
 <cac:InvoiceLine><cbc:LineExtensionAmount>5</cbc:LineExtensionAmount><cac:Item><cac:ClassifiedTaxCategory>
  <cbc:ID>S</cbc:ID><cbc:Percent>19</cbc:Percent><cac:TaxScheme><cbc:ID>VAT</cbc:ID></cac:TaxScheme>
 </cac:ClassifiedTaxCategory></cac:Item></cac:InvoiceLine>
 <cac:InvoiceLine><cac:Item><cac:ClassifiedTaxCategory><cbc:ID>S</cbc:ID><cbc:Percent>x</cbc:Percent>
  <cac:TaxScheme><cbc:ID>VAT</cbc:ID></cac:TaxScheme></cac:ClassifiedTaxCategory></cac:Item></cac:InvoiceLine>
</Invoice>"""


def _documents() -> list[etree._Element]:
    roots = [etree.fromstring(_ODD)]
    for folder in ("kosit-testsuite", "en16931-examples"):
        for path in sorted((CORPUS / folder).rglob("*.xml")):
            try:
                root = etree.parse(str(path)).getroot()
            except etree.XMLSyntaxError:
                continue
            if root.tag in _UBL_ROOTS:
                roots.append(root)
    return roots


def _codes_one_by_one(categories: list) -> dict[str, object]:
    """The code sets as they were gathered before: every category read on its own."""
    coded, ids, vat_coded, vat_ids, vat_normalized = set(), set(), set(), set(), set()
    for category in categories:
        el = category.el
        written = [string_value(i) for i in el.iterchildren(CBC + "ID")]
        codes = [normalized(i) for i in written]
        code = codes[0] if codes else ""
        coded.add(code)
        ids.update(written)
        if is_vat_scheme(el):
            vat_coded.add(code)
            vat_ids.update(written)
            vat_normalized.update(codes)
    return {"coded": coded, "ids": ids, "vat_coded": vat_coded, "vat_ids": vat_ids, "vat_normalized": vat_normalized}


def _has_vat_company_id(scheme: etree._Element) -> bool:
    return scheme.find(CBC + "CompanyID") is not None and is_vat_scheme(scheme)


@pytest.mark.corpus
def test_code_sets_and_party_facts_match_a_category_by_category_reading() -> None:
    roots = _documents()
    if len(roots) < 2:
        pytest.skip("../shared/corpus is not present on this machine")
    for root in roots:
        session = Session(root)
        with activate(session):
            d = document(root)
            assert d is session.memo[Document]
            for selection, select in _SELECTIONS.items():
                codes = d.codes[selection]
                expected = _codes_one_by_one(list(select(d)))
                got = {name: getattr(codes, name) for name in expected}
                assert got == expected, (selection, root.base)
            for category in d.category_of.values():
                el = category.el
                assert category.vat == is_vat_scheme(el)
                assert list(category.ids) == [string_value(i) for i in el.iterchildren(CBC + "ID")]
            for code in ("S", "E", "Z", "AE", "K"):
                count = sum(c.codes.count(code) for c in d.breakdown if c.vat)
                assert d.breakdown_count(code) == count
                lines, charges = d.coded(code)
                assert lines == [line for line in d.lines if any(c.code == code for c in line.categories)]
                assert charges == [ac for ac in d.charges if any(c.code == code for c in ac.categories)]
            sellers = root.findall(f"{CAC}AccountingSupplierParty/{CAC}Party/{CAC}PartyTaxScheme")
            buyers = root.findall(f"{CAC}AccountingCustomerParty/{CAC}Party")
            representatives = root.findall(f"{CAC}TaxRepresentativeParty/{CAC}PartyTaxScheme")
            assert d.seller_tax_id == any(s.find(CBC + "CompanyID") is not None for s in sellers)
            assert d.seller_vat_id == any(_has_vat_company_id(s) for s in sellers)
            assert d.representative_vat_id == any(_has_vat_company_id(s) for s in representatives)
            assert d.buyer_vat_id == any(
                _has_vat_company_id(s) for b in buyers for s in b.iterchildren(CAC + "PartyTaxScheme")
            )
            assert d.buyer_legal_id == any(
                e.find(CBC + "CompanyID") is not None for b in buyers for e in b.iterchildren(CAC + "PartyLegalEntity")
            )
