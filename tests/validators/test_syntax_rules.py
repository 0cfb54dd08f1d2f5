"""The syntax family: UBL-CR/SR/DT, CII-SR/DT and BR-CL, on small inline invoices, then against the corpus."""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path

import pytest
from lxml import etree

from schemas.xml import parse_xml
from validators.rules import Fail, Flag, RuleSet, Session
from validators.rules._session import activate
from validators.rules.sets import EN16931_CII, EN16931_UBL
from validators.rules.syntax import _cii_restrictions
from validators.rules.syntax._absence import AbsenceProbe, attribute_owners
from validators.rules.syntax._cardinality import Cardinality
from validators.rules.syntax._codelists import CODE_LISTS, in_list
from validators.rules.syntax._patterns import CII_CODES, CII_SYNTAX, UBL_CODES, UBL_SYNTAX
from validators.rules.syntax._ubl_restrictions import RESTRICTIONS

CORPUS = Path(__file__).resolve().parents[2].parent / "shared" / "corpus"
PREFIXES = ("UBL-CR-", "UBL-SR-", "UBL-DT-", "CII-SR-", "CII-DT-", "BR-CL-")

# Only this family's patterns, so a half-written rule elsewhere cannot disturb these tests.
UBL = RuleSet("syntax-ubl-test", "0", EN16931_UBL.namespaces, patterns=[UBL_SYNTAX, UBL_CODES])
CII = RuleSet("syntax-cii-test", "0", EN16931_CII.namespaces, patterns=[CII_SYNTAX, CII_CODES])

UBL_NS = (
    'xmlns="urn:oasis:names:specification:ubl:schema:xsd:Invoice-2" '
    'xmlns:cac="urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2" '
    'xmlns:cbc="urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2" '
    'xmlns:ext="urn:oasis:names:specification:ubl:schema:xsd:CommonExtensionComponents-2"'
)
CII_NS = (
    'xmlns:rsm="urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100" '
    'xmlns:ram="urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:100" '
    'xmlns:udt="urn:un:unece:uncefact:data:standard:UnqualifiedDataType:100"'
)

LINE = """<cac:InvoiceLine><cbc:ID>1</cbc:ID>
  <cbc:InvoicedQuantity unitCode="C62">1</cbc:InvoicedQuantity>
  <cbc:LineExtensionAmount currencyID="EUR">10.00</cbc:LineExtensionAmount>
  <cac:Item><cbc:Name>Pen</cbc:Name>
    <cac:ClassifiedTaxCategory><cbc:ID>S</cbc:ID><cbc:Percent>19</cbc:Percent>
      <cac:TaxScheme><cbc:ID>VAT</cbc:ID></cac:TaxScheme></cac:ClassifiedTaxCategory></cac:Item>
  <cac:Price><cbc:PriceAmount currencyID="EUR">10.00</cbc:PriceAmount></cac:Price>
</cac:InvoiceLine>"""


def ubl(body: str = "", *, root: str = "Invoice", lines: str = LINE) -> etree._Element:
    namespaces = UBL_NS.replace("Invoice-2", "CreditNote-2") if root == "CreditNote" else UBL_NS
    if root == "CreditNote":
        lines = lines.replace("InvoiceLine", "CreditNoteLine").replace("InvoicedQuantity", "CreditedQuantity")
    xml = f"""<{root} {namespaces}>
  <cbc:CustomizationID>urn:cen.eu:en16931:2017</cbc:CustomizationID>
  <cbc:ID>R-1</cbc:ID><cbc:IssueDate>2025-01-31</cbc:IssueDate>
  <cbc:{root}TypeCode>{"381" if root == "CreditNote" else "380"}</cbc:{root}TypeCode>
  <cbc:DocumentCurrencyCode>EUR</cbc:DocumentCurrencyCode>
  {body}
  <cac:LegalMonetaryTotal><cbc:PayableAmount currencyID="EUR">11.90</cbc:PayableAmount></cac:LegalMonetaryTotal>
  {lines}
</{root}>"""
    return parse_xml(xml.encode())


def cii(header: str = "", *, context: str = "", document: str = "", line: str = "") -> etree._Element:
    xml = f"""<rsm:CrossIndustryInvoice {CII_NS}>
  <rsm:ExchangedDocumentContext>{context}
    <ram:GuidelineSpecifiedDocumentContextParameter><ram:ID>urn:cen.eu:en16931:2017</ram:ID>
    </ram:GuidelineSpecifiedDocumentContextParameter>
  </rsm:ExchangedDocumentContext>
  <rsm:ExchangedDocument><ram:ID>R-1</ram:ID><ram:TypeCode>380</ram:TypeCode>
    <ram:IssueDateTime><udt:DateTimeString format="102">20250131</udt:DateTimeString></ram:IssueDateTime>
    {document}
  </rsm:ExchangedDocument>
  <rsm:SupplyChainTradeTransaction>
    <ram:IncludedSupplyChainTradeLineItem>
      <ram:AssociatedDocumentLineDocument><ram:LineID>1</ram:LineID></ram:AssociatedDocumentLineDocument>
      <ram:SpecifiedTradeProduct><ram:Name>Pen</ram:Name></ram:SpecifiedTradeProduct>
      <ram:SpecifiedLineTradeAgreement>
        <ram:NetPriceProductTradePrice><ram:ChargeAmount>10.00</ram:ChargeAmount></ram:NetPriceProductTradePrice>
      </ram:SpecifiedLineTradeAgreement>
      <ram:SpecifiedLineTradeDelivery><ram:BilledQuantity unitCode="C62">1</ram:BilledQuantity>
      </ram:SpecifiedLineTradeDelivery>
      <ram:SpecifiedLineTradeSettlement>{line}
        <ram:ApplicableTradeTax><ram:TypeCode>VAT</ram:TypeCode><ram:CategoryCode>S</ram:CategoryCode>
          <ram:RateApplicablePercent>19</ram:RateApplicablePercent></ram:ApplicableTradeTax>
        <ram:SpecifiedTradeSettlementLineMonetarySummation><ram:LineTotalAmount>10.00</ram:LineTotalAmount>
        </ram:SpecifiedTradeSettlementLineMonetarySummation>
      </ram:SpecifiedLineTradeSettlement>
    </ram:IncludedSupplyChainTradeLineItem>
    <ram:ApplicableHeaderTradeAgreement>
      <ram:SellerTradeParty><ram:Name>Seller</ram:Name></ram:SellerTradeParty>
      <ram:BuyerTradeParty><ram:Name>Buyer</ram:Name></ram:BuyerTradeParty>
    </ram:ApplicableHeaderTradeAgreement>
    <ram:ApplicableHeaderTradeDelivery/>
    <ram:ApplicableHeaderTradeSettlement><ram:InvoiceCurrencyCode>EUR</ram:InvoiceCurrencyCode>
      {header}
      <ram:SpecifiedTradeSettlementHeaderMonetarySummation>
        <ram:TaxTotalAmount currencyID="EUR">1.90</ram:TaxTotalAmount>
      </ram:SpecifiedTradeSettlementHeaderMonetarySummation>
    </ram:ApplicableHeaderTradeSettlement>
  </rsm:SupplyChainTradeTransaction>
</rsm:CrossIndustryInvoice>"""
    return parse_xml(xml.encode())


def fired(rule_set: RuleSet, root: etree._Element) -> dict[str, int]:
    """How often each rule fired."""
    counts: dict[str, int] = {}
    for finding in rule_set.run(root):
        counts[finding.rule.id] = counts.get(finding.rule.id, 0) + 1
    return counts


def test_minimal_invoices_raise_nothing_in_this_family() -> None:
    assert fired(UBL, ubl()) == {}
    assert fired(UBL, ubl(root="CreditNote")) == {}
    assert fired(CII, cii()) == {}


# --- UBL-CR -----------------------------------------------------------------------------------------------------


def test_ubl_extensions_are_reported_as_a_warning() -> None:
    root = ubl("<ext:UBLExtensions><ext:UBLExtension/></ext:UBLExtensions>")
    findings = [f for f in UBL.run(root) if f.rule.id == "UBL-CR-001"]
    assert len(findings) == 1
    assert findings[0].rule.flag is Flag.WARNING
    assert etree.QName(findings[0].node).localname == "UBLExtensions"


def test_an_element_on_many_lines_is_reported_once_per_invoice() -> None:
    line = LINE.replace("<cbc:ID>1</cbc:ID>", "<cbc:ID>1</cbc:ID><cbc:UUID>x</cbc:UUID>")
    assert fired(UBL, ubl(lines=line * 3))["UBL-CR-515"] == 1


def test_ubl_version_2_1_is_accepted_and_another_is_not() -> None:
    assert "UBL-CR-002" not in fired(UBL, ubl("<cbc:UBLVersionID>2.1</cbc:UBLVersionID>"))
    assert fired(UBL, ubl("<cbc:UBLVersionID>2.0</cbc:UBLVersionID>"))["UBL-CR-002"] == 1


def test_a_payment_due_date_in_payment_means_is_tolerated_only_in_a_credit_note() -> None:
    means = (
        "<cac:PaymentMeans><cbc:PaymentMeansCode>58</cbc:PaymentMeansCode>"
        "<cbc:PaymentDueDate>2025-02-28</cbc:PaymentDueDate></cac:PaymentMeans>"
    )
    assert "UBL-CR-412" in fired(UBL, ubl(means))
    assert "UBL-CR-412" not in fired(UBL, ubl(means, root="CreditNote"))


def test_an_invoiced_object_with_an_attachment_is_fatal() -> None:
    reference = """<cac:AdditionalDocumentReference><cbc:ID>X</cbc:ID><cbc:DocumentTypeCode>130</cbc:DocumentTypeCode>
      <cac:Attachment><cbc:EmbeddedDocumentBinaryObject mimeCode="application/pdf" filename="a.pdf">QQ==
      </cbc:EmbeddedDocumentBinaryObject></cac:Attachment>
    </cac:AdditionalDocumentReference>"""
    findings = {f.rule.id: f.rule.flag for f in UBL.run(ubl(reference))}
    assert findings.get("UBL-CR-666") is Flag.FATAL


def test_the_restriction_table_has_the_official_numbers() -> None:
    numbers = [int(rule_id.rsplit("-", 1)[1]) for rule_id, _, _ in RESTRICTIONS]
    assert numbers == sorted(numbers)
    # 1.3.15 has no UBL-CR-631 (it repeated UBL-CR-628 and was withdrawn).
    assert set(range(1, 683)) - set(numbers) == {120, 423, 536, 631}
    assert {rule_id for rule_id, flag, _ in RESTRICTIONS if flag is Flag.FATAL} == {"UBL-CR-666", "UBL-CR-673"}


# --- UBL-SR and UBL-DT ------------------------------------------------------------------------------------------


def test_two_invoice_periods_break_ubl_sr_08() -> None:
    period = "<cac:InvoicePeriod><cbc:StartDate>2025-01-01</cbc:StartDate></cac:InvoicePeriod>"
    assert "UBL-SR-08" not in fired(UBL, ubl(period))
    assert fired(UBL, ubl(period * 2))["UBL-SR-08"] == 1


def test_a_payee_without_a_name_fails_the_payee_rules_as_xpath_2_compares() -> None:
    # "name != seller name" is false when there is no name at all, so all three rules fire.
    payee = "<cac:PayeeParty><cac:PartyIdentification><cbc:ID>P</cbc:ID></cac:PartyIdentification></cac:PayeeParty>"
    assert {"UBL-SR-19", "UBL-SR-20", "UBL-SR-21"} <= fired(UBL, ubl(payee)).keys()
    seller = """<cac:AccountingSupplierParty><cac:Party><cac:PartyLegalEntity>
      <cbc:RegistrationName>Seller</cbc:RegistrationName></cac:PartyLegalEntity></cac:Party></cac:AccountingSupplierParty>"""
    named = "<cac:PayeeParty><cac:PartyName><cbc:Name>Payee</cbc:Name></cac:PartyName></cac:PayeeParty>"
    assert not {"UBL-SR-19", "UBL-SR-20", "UBL-SR-21"} & fired(UBL, ubl(seller + named)).keys()


def test_a_price_unit_factor_is_reported_by_ubl_cr_628_alone() -> None:
    line = LINE.replace("</cac:Price>", "<cbc:OrderableUnitFactorRate>1</cbc:OrderableUnitFactorRate></cac:Price>")
    got = fired(UBL, ubl(lines=line))
    assert got.get("UBL-CR-628") == 1 and "UBL-CR-631" not in got


def test_one_payment_card_and_one_mandate_are_syntax_rules_ubl_sr_54_and_55() -> None:
    # CEN 1.3.15 checks these as UBL-SR-54 / UBL-SR-55 in the syntax pattern, not as BR-66 / BR-67.
    card = "<cac:PaymentMeans><cbc:PaymentMeansCode>48</cbc:PaymentMeansCode><cac:CardAccount/></cac:PaymentMeans>"
    mandate = (
        "<cac:PaymentMeans><cbc:PaymentMeansCode>59</cbc:PaymentMeansCode><cac:PaymentMandate/></cac:PaymentMeans>"
    )
    assert not {"UBL-SR-54", "UBL-SR-55"} & fired(UBL, ubl(card + mandate)).keys()
    got = fired(UBL, ubl(card * 2 + mandate * 2))
    assert got["UBL-SR-54"] == 1 and got["UBL-SR-55"] == 1


def test_a_line_needs_exactly_one_classified_tax_category() -> None:
    line = LINE.replace("<cac:ClassifiedTaxCategory>", "<!-- none --><cac:X>").replace(
        "</cac:ClassifiedTaxCategory>", "</cac:X>"
    )
    assert fired(UBL, ubl(lines=line))["UBL-SR-48"] == 1


def test_amounts_have_at_most_two_decimals_but_prices_may_have_more() -> None:
    assert "UBL-DT-01" not in fired(
        UBL, ubl(lines=LINE.replace(">10.00</cbc:PriceAmount", ">10.1234</cbc:PriceAmount"))
    )
    findings = [
        f for f in UBL.run(ubl(lines=LINE.replace(">10.00</cbc:Line", ">10.001</cbc:Line"))) if f.rule.id == "UBL-DT-01"
    ]
    assert [f.value for f in findings] == ["10.001"]


def test_attributes_outside_the_model_are_warned_about() -> None:
    root = ubl('<cbc:BuyerReference schemeName="x">B</cbc:BuyerReference>')
    assert fired(UBL, root)["UBL-DT-08"] == 1
    means = '<cac:PaymentMeans><cbc:PaymentMeansCode name="Transfer">58</cbc:PaymentMeansCode></cac:PaymentMeans>'
    assert "UBL-DT-18" not in fired(UBL, ubl(means))


# --- CII-SR and CII-DT ------------------------------------------------------------------------------------------


def test_cii_elements_outside_the_model_are_warned_about() -> None:
    findings = {
        f.rule.id: f.rule.flag
        for f in CII.run(cii(context="<ram:TestIndicator><udt:Indicator>true</udt:Indicator></ram:TestIndicator>"))
    }
    assert findings == {"CII-SR-002": Flag.WARNING}


def test_the_document_context_parameter_rules_keep_their_two_digit_ids() -> None:
    parameter = (
        "<ram:BusinessProcessSpecifiedDocumentContextParameter><ram:ID>p</ram:ID><ram:Value>v</ram:Value>"
        "</ram:BusinessProcessSpecifiedDocumentContextParameter>"
    )
    assert fired(CII, cii(context=parameter)) == {"CII-SR-04": 1}


def test_a_line_with_two_vat_entries_breaks_cii_sr_454() -> None:
    tax = (
        "<ram:ApplicableTradeTax><ram:TypeCode>VAT</ram:TypeCode><ram:CategoryCode>S</ram:CategoryCode>"
        "</ram:ApplicableTradeTax>"
    )
    assert fired(CII, cii(line=tax)) == {"CII-SR-454": 1}


def test_a_malformed_102_date_is_fatal() -> None:
    root = cii()
    date = root.find(".//{*}DateTimeString")
    assert date is not None
    date.text = "20251301"
    assert {f.rule.id: f.rule.flag for f in CII.run(root)} == {"CII-DT-097": Flag.FATAL}


def test_only_the_vat_total_may_name_a_currency() -> None:
    root = cii()
    line_total = root.find(".//{*}LineTotalAmount")
    assert line_total is not None
    line_total.set("currencyID", "EUR")
    assert fired(CII, root) == {"CII-DT-031": 1}


def test_the_exchanged_document_type_code_is_left_to_the_general_type_code_context() -> None:
    # As officially ordered, //ram:TypeCode claims the node first, so CII-DT-010 never fires.
    root = cii()
    type_code = root.find("{*}ExchangedDocument/{*}TypeCode")
    assert type_code is not None
    type_code.set("listID", "UNCL1001")
    assert "CII-DT-010" not in fired(CII, root)


def test_the_cii_restriction_tables_name_each_rule_once() -> None:
    rows = [
        number
        for name in _cii_restrictions.__all__
        if name not in ("BILLING_PERIOD", "POSTAL_ADDRESS", "PARAMETER")
        for number, _ in getattr(_cii_restrictions, name)
    ]
    assert len(rows) == len(set(rows))


# --- BR-CL ------------------------------------------------------------------------------------------------------


def test_code_lists_load_as_non_empty_sets() -> None:
    assert all(CODE_LISTS.values())
    assert "EUR" in CODE_LISTS["ISO_4217"]
    assert in_list(" EUR\n", CODE_LISTS["ISO_4217"])
    assert not in_list("EUR EUR", CODE_LISTS["ISO_4217"])
    assert not in_list(None, CODE_LISTS["ISO_4217"])


def test_an_unknown_currency_breaks_br_cl_04() -> None:
    root = ubl()
    currency = root.find(".//{*}DocumentCurrencyCode")
    assert currency is not None
    currency.text = "EURO"
    assert fired(UBL, root) == {"BR-CL-04": 1}


def test_sepa_is_a_valid_scheme_only_for_seller_and_payee_identifiers() -> None:
    def party(role: str) -> str:
        identifier = '<cbc:ID schemeID="SEPA">DE98ZZZ09999999999</cbc:ID>'
        party = f"<cac:Party><cac:PartyIdentification>{identifier}</cac:PartyIdentification></cac:Party>"
        return f"<cac:{role}>{party}</cac:{role}>"

    assert "BR-CL-10" not in fired(UBL, ubl(party("AccountingSupplierParty")))
    assert fired(UBL, ubl(party("AccountingCustomerParty")))["BR-CL-10"] == 1


def test_vatex_codes_are_compared_in_upper_case() -> None:
    def exemption(code: str) -> str:
        category = f"<cbc:ID>E</cbc:ID><cbc:TaxExemptionReasonCode>{code}</cbc:TaxExemptionReasonCode>"
        subtotal = f"<cac:TaxSubtotal><cac:TaxCategory>{category}</cac:TaxCategory></cac:TaxSubtotal>"
        return f"<cac:TaxTotal>{subtotal}</cac:TaxTotal>"

    assert "BR-CL-22" not in fired(UBL, ubl(exemption("vatex-eu-132")))
    assert "BR-CL-22" in fired(UBL, ubl(exemption("VATEX-EU-999")))


def test_cii_country_and_unit_codes_are_checked() -> None:
    root = cii(
        header="<ram:PayeeTradeParty><ram:PostalTradeAddress><ram:CountryID>XX</ram:CountryID></ram:PostalTradeAddress></ram:PayeeTradeParty>"
    )
    assert fired(CII, root).get("BR-CL-14") == 1
    quantity = root.find(".//{*}BilledQuantity")
    assert quantity is not None
    quantity.set("unitCode", "PIECE")
    assert fired(CII, root).get("BR-CL-23") == 1


def test_country_lists_differ_between_the_bindings() -> None:
    # CEN 1.3.15: the CII list of BR-CL-14 still holds AN and lacks SS; the UBL list is the other way round.
    def cii_country(code: str) -> etree._Element:
        address = f"<ram:PostalTradeAddress><ram:CountryID>{code}</ram:CountryID></ram:PostalTradeAddress>"
        return cii(header=f"<ram:PayeeTradeParty>{address}</ram:PayeeTradeParty>")

    def ubl_country(code: str) -> etree._Element:
        country = f"<cac:Country><cbc:IdentificationCode>{code}</cbc:IdentificationCode></cac:Country>"
        return ubl(f"<cac:PayeeParty><cac:PostalAddress>{country}</cac:PostalAddress></cac:PayeeParty>")

    assert "BR-CL-14" not in fired(CII, cii_country("AN"))
    assert fired(CII, cii_country("SS")).get("BR-CL-14") == 1
    assert "BR-CL-14" not in fired(UBL, ubl_country("SS"))
    assert fired(UBL, ubl_country("AN")).get("BR-CL-14") == 1


def test_cii_mime_code_is_compared_without_normalization() -> None:
    # BR-CL-24 compares @mimeCode with '=' (no normalize-space), unlike the token lists.
    def attachment(mime: str) -> etree._Element:
        binary = f'<ram:AttachmentBinaryObject mimeCode="{mime}" filename="a.pdf">QQ==</ram:AttachmentBinaryObject>'
        document = f"<ram:IssuerAssignedID>A</ram:IssuerAssignedID><ram:TypeCode>916</ram:TypeCode>{binary}"
        return cii(header=f"<ram:AdditionalReferencedDocument>{document}</ram:AdditionalReferencedDocument>")

    assert "BR-CL-24" not in fired(CII, attachment("application/pdf"))
    assert fired(CII, attachment(" application/pdf")).get("BR-CL-24") == 1


def test_icd_0244_is_not_accepted_because_the_official_list_misses_a_separator() -> None:
    assert "0243" in CODE_LISTS["ISO_6523_ICD"]
    assert "0244" not in CODE_LISTS["ISO_6523_ICD"]
    assert "0244" in CODE_LISTS["EAS"]


# --- the one-pass absence probe ---------------------------------------------------------------------------------


def _probe_agrees_with_xpath(
    paths: dict[str, str], namespaces: dict[str, str], nodes: Iterable[etree._Element]
) -> None:
    probe = AbsenceProbe(paths, namespaces)
    compiled = {key: etree.XPath(f"boolean({path})", namespaces=namespaces) for key, path in paths.items()}
    relative = {key: etree.XPath(path, namespaces=namespaces) for key, path in paths.items() if path[0] != "/"}
    for node in nodes:
        expected = {key for key, xpath in compiled.items() if xpath(node)}
        found = probe(node)
        assert set(found) == expected, etree.QName(node).localname
        # Each key names the first element in document order its path selects (an attribute's owner) ...
        for key, xpath in relative.items():
            if key in found:
                first = xpath(node)[0]
                assert found[key] is (first.getparent() if isinstance(first, str) else first), key
        # ... and a walk in a session finds the very same elements, children taken one by one ...
        session = Session(node.getroottree().getroot())
        with activate(session):
            assert probe(node) == found, etree.QName(node).localname
        # ... or tag by tag, where other rules have built the session's child index.
        session = Session(node.getroottree().getroot())
        for element in session.elements:
            session.children(element)
        with activate(session):
            assert probe(node) == found, etree.QName(node).localname


def test_the_probe_finds_what_xpath_finds_on_inline_invoices() -> None:
    body = """<ext:UBLExtensions/><cbc:UBLVersionID>2.0</cbc:UBLVersionID>
      <cac:AdditionalDocumentReference><cbc:ID schemeID="AAA">1</cbc:ID></cac:AdditionalDocumentReference>
      <cac:PaymentMeans><cbc:PaymentDueDate>2025-01-01</cbc:PaymentDueDate>
        <cbc:PaymentMeansCode listID="x">1</cbc:PaymentMeansCode></cac:PaymentMeans>
      <cac:Delivery><cbc:Quantity unitCodeListID="x">1</cbc:Quantity></cac:Delivery>"""
    paths = {rule_id: path for rule_id, _, path in RESTRICTIONS}
    namespaces = dict(EN16931_UBL.namespaces)
    _probe_agrees_with_xpath(paths, namespaces, [ubl(body), ubl(body, root="CreditNote"), ubl()])


def test_a_key_two_alternatives_can_find_names_the_first_in_document_order() -> None:
    # (cac:InvoiceLine|cac:CreditNoteLine)/cbc:UUID: the credit note line comes first here.
    credit_line = LINE.replace("InvoiceLine", "CreditNoteLine").replace("<cbc:ID>1</cbc:ID>", "<cbc:UUID>c</cbc:UUID>")
    invoice_line = LINE.replace("<cbc:ID>1</cbc:ID>", "<cbc:UUID>i</cbc:UUID>")
    root = ubl(lines=credit_line + invoice_line)
    probe = AbsenceProbe({"uuid": "(cac:InvoiceLine|cac:CreditNoteLine)/cbc:UUID"}, dict(EN16931_UBL.namespaces))
    session = Session(root)
    for element in session.elements:
        session.children(element)
    with activate(session):
        assert probe(root)["uuid"].text == "c"
    assert probe(root)["uuid"].text == "c"


def test_attribute_owners_are_what_xpath_lists() -> None:
    root = ubl('<cbc:Note xmlns:x="urn:x" x:a="1" b="2">n</cbc:Note><cbc:Note b="3"/>')
    listed: dict[str, list[etree._Element]] = {}
    for attribute in root.xpath("//@*"):
        listed.setdefault(attribute.attrname, []).append(attribute.getparent())
    assert attribute_owners(Session(root)) == listed
    assert len(listed["b"]) == 2 and "{urn:x}a" in listed


@pytest.mark.parametrize(
    ("text", "expected"), [("EUR", True), (" EUR\n", True), ("E UR", False), ("", False), (None, False), ("eur", False)]
)
def test_a_code_is_looked_up_as_normalized(text: str | None, expected: bool) -> None:
    assert in_list(text, CODE_LISTS["ISO_4217"]) is expected


def _cardinality_agrees_with_xpath(
    paths: dict[str, str], nodes: Iterable[etree._Element], namespaces: dict[str, str]
) -> None:
    counts = Cardinality(namespaces)
    tests = {}
    for key, path in paths.items():
        tests[key + " <= 1"] = counts.at_most(key + " <= 1", path, 1)
        tests[key + " = 1"] = counts.exactly(key + " = 1", path, 1)
    for node in nodes:
        for session in (None, Session(node.getroottree().getroot())):
            failed = counts.evaluate(node) if session is None else _in(session, counts, node)
            for key, path in paths.items():
                found = node.xpath(path, namespaces=namespaces)
                over = failed.get(key + " <= 1", True)
                if len(found) <= 1:
                    assert over is True, key
                elif isinstance(found[1], etree._Element):
                    assert over == Fail(node=found[1]), key
                else:
                    assert over is False, key
                assert (failed.get(key + " = 1", True) is True) == (len(found) == 1), key


def _in(session: Session, counts: Cardinality, node: etree._Element) -> dict[str, bool | Fail]:
    with activate(session):
        return counts(node)


def test_cardinalities_count_what_xpath_counts() -> None:
    body = """<cac:PaymentMeans><cbc:PaymentMeansCode name="a">1</cbc:PaymentMeansCode></cac:PaymentMeans>
      <cac:PaymentMeans><cbc:PaymentMeansCode name="b">1</cbc:PaymentMeansCode><cbc:PaymentMeansCode/>
        <cac:PaymentMandate><cbc:ID>1</cbc:ID><cbc:ID>2</cbc:ID></cac:PaymentMandate></cac:PaymentMeans>
      <cac:InvoicePeriod/><!-- a comment -->
      <cac:InvoicePeriod><cbc:DescriptionCode>3</cbc:DescriptionCode></cac:InvoicePeriod>"""
    paths = {
        "means": "cac:PaymentMeans",
        "codes": "cac:PaymentMeans/cbc:PaymentMeansCode",
        "names": "cac:PaymentMeans/cbc:PaymentMeansCode/@name",
        "mandates": "cac:PaymentMeans/cac:PaymentMandate/cbc:ID",
        "periods": "cac:InvoicePeriod",
        "period codes": "cac:InvoicePeriod/cbc:DescriptionCode",
        "missing": "cac:Delivery/cac:DeliveryLocation/cbc:ID",
        "line items": "cac:InvoiceLine/cac:Item/cac:ClassifiedTaxCategory",
    }
    namespaces = dict(EN16931_UBL.namespaces)
    root = ubl(body, lines=LINE + LINE)
    _cardinality_agrees_with_xpath(paths, [root, ubl()], namespaces)
    _cardinality_agrees_with_xpath(
        {"items": "cac:Item/cac:ClassifiedTaxCategory"},
        root.iterchildren(f"{{{namespaces['cac']}}}InvoiceLine"),
        namespaces,
    )


# --- the corpus -------------------------------------------------------------------------------------------------


def _corpus_files() -> dict[str, dict[str, object]]:
    expected = CORPUS / "expected.json"
    return json.loads(expected.read_text()) if expected.is_file() else {}


@pytest.mark.corpus
@pytest.mark.skipif(not (CORPUS / "expected.json").is_file(), reason=f"corpus not found at {CORPUS}")
def test_the_probe_finds_what_xpath_finds_on_the_corpus() -> None:
    line = "//ram:IncludedSupplyChainTradeLineItem"
    cii_tables = {
        "//rsm:ExchangedDocumentContext": _cii_restrictions.DOCUMENT_CONTEXT,
        "//rsm:ExchangedDocument": _cii_restrictions.EXCHANGED_DOCUMENT,
        line: _cii_restrictions.LINE,
        f"{line}/ram:SpecifiedTradeProduct": _cii_restrictions.PRODUCT,
        f"{line}/ram:SpecifiedLineTradeAgreement": _cii_restrictions.LINE_AGREEMENT,
        f"{line}/ram:SpecifiedLineTradeDelivery": _cii_restrictions.LINE_DELIVERY,
        f"{line}/ram:SpecifiedLineTradeSettlement": _cii_restrictions.LINE_SETTLEMENT,
        "//ram:ApplicableHeaderTradeAgreement": _cii_restrictions.HEADER_AGREEMENT,
        "//ram:ApplicableHeaderTradeDelivery": _cii_restrictions.HEADER_DELIVERY,
        "//ram:ApplicableHeaderTradeSettlement": _cii_restrictions.HEADER_SETTLEMENT,
        "//ram:SpecifiedTradeSettlementHeaderMonetarySummation": _cii_restrictions.HEADER_SUMMATION,
        "//ram:BillingSpecifiedPeriod": _cii_restrictions.BILLING_PERIOD,
        "//ram:PostalTradeAddress": _cii_restrictions.POSTAL_ADDRESS,
    }
    ubl_paths = {rule_id: path for rule_id, _, path in RESTRICTIONS}
    ubl_ns, cii_ns = dict(EN16931_UBL.namespaces), dict(EN16931_CII.namespaces)
    # Whole documents only: the unit-test fragments are many small variations the parity test covers.
    for key in (k for k in _corpus_files() if not k.startswith("en16931-unit/")):
        try:
            root = parse_xml((CORPUS / key).read_bytes())
        except Exception:  # not well-formed on purpose; nothing to compare
            continue
        if root.tag.endswith("}CrossIndustryInvoice"):
            for match, rows in cii_tables.items():
                nodes = root.xpath(match, namespaces=cii_ns)
                _probe_agrees_with_xpath({str(n): p for n, p in rows}, cii_ns, nodes)
        elif "ubl:schema" in root.tag:
            _probe_agrees_with_xpath(ubl_paths, ubl_ns, [root])


@pytest.mark.corpus
@pytest.mark.skipif(not (CORPUS / "expected.json").is_file(), reason=f"corpus not found at {CORPUS}")
def test_the_family_agrees_with_the_reference_on_the_whole_corpus() -> None:
    disagreements = []
    checked = 0
    for key, entry in _corpus_files().items():
        reference = entry.get("fired") or (entry.get("ungated") or {}).get("cen") or []
        expected = {(f["id"], f["flag"]) for f in reference if f["id"].startswith(PREFIXES)}
        try:
            root = parse_xml((CORPUS / key).read_bytes())
        except Exception:  # not well-formed on purpose: the reference has no findings either
            assert not expected, key
            continue
        rule_set = CII if root.tag.endswith("}CrossIndustryInvoice") else UBL if "ubl:schema" in root.tag else None
        got = set() if rule_set is None else {(f.rule.id, str(f.rule.flag)) for f in rule_set.run(root)}
        checked += 1
        if got != expected:
            disagreements.append((key, sorted(got - expected), sorted(expected - got)))
    assert checked > 1000
    assert disagreements == []


def test_a_document_changed_between_two_runs_is_probed_afresh() -> None:
    root = ubl()
    assert fired(UBL, root) == {}
    root.insert(0, etree.Element("{urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2}UUID"))
    assert fired(UBL, root) == {"UBL-CR-005": 1}
    root.remove(root[0])
    assert fired(UBL, root) == {}
