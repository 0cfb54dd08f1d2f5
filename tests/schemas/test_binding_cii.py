"""The UN/CEFACT CII binding: small inline documents for each CII peculiarity, then the corpus."""

from __future__ import annotations

import base64
import json
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel

from schemas.binding import Group, Table, cii
from schemas.model import Identifier, Invoice, InvoiceLine
from schemas.reader import Outcome, ReadError, open_document, read_tree
from schemas.xml import XmlError, parse_xml

CORPUS = Path(__file__).resolve().parents[2].parent / "shared" / "corpus"

_NS = (
    'xmlns:rsm="urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100" '
    'xmlns:ram="urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:100" '
    'xmlns:udt="urn:un:unece:uncefact:data:standard:UnqualifiedDataType:100" '
    'xmlns:qdt="urn:un:unece:uncefact:data:standard:QualifiedDataType:100"'
)


def cii_invoice(
    *,
    document: str = "",
    lines: str = "",
    agreement: str = "",
    delivery: str = "",
    settlement: str = "",
    currency: str = "EUR",
) -> str:
    """A CII invoice skeleton with the given fragments in their aggregates."""
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<rsm:CrossIndustryInvoice {_NS}>
  <rsm:ExchangedDocumentContext>
    <ram:GuidelineSpecifiedDocumentContextParameter>
      <ram:ID>urn:cen.eu:en16931:2017</ram:ID>
    </ram:GuidelineSpecifiedDocumentContextParameter>
  </rsm:ExchangedDocumentContext>
  <rsm:ExchangedDocument>
    <ram:ID>R-1</ram:ID>
    <ram:TypeCode>380</ram:TypeCode>
    <ram:IssueDateTime><udt:DateTimeString format="102">20240229</udt:DateTimeString></ram:IssueDateTime>
    {document}
  </rsm:ExchangedDocument>
  <rsm:SupplyChainTradeTransaction>
    {lines}
    <ram:ApplicableHeaderTradeAgreement>{agreement}</ram:ApplicableHeaderTradeAgreement>
    <ram:ApplicableHeaderTradeDelivery>{delivery}</ram:ApplicableHeaderTradeDelivery>
    <ram:ApplicableHeaderTradeSettlement>
      <ram:InvoiceCurrencyCode>{currency}</ram:InvoiceCurrencyCode>
      {settlement}
    </ram:ApplicableHeaderTradeSettlement>
  </rsm:SupplyChainTradeTransaction>
</rsm:CrossIndustryInvoice>"""


def line(line_id: str, *, parent: str | None = None, body: str = "") -> str:
    parent_xml = f"<ram:ParentLineID>{parent}</ram:ParentLineID>" if parent else ""
    return f"""<ram:IncludedSupplyChainTradeLineItem>
      <ram:AssociatedDocumentLineDocument>
        <ram:LineID>{line_id}</ram:LineID>{parent_xml}
      </ram:AssociatedDocumentLineDocument>
      {body}
    </ram:IncludedSupplyChainTradeLineItem>"""


def read(xml: str | bytes) -> Invoice:
    document = open_document(xml.encode("utf-8") if isinstance(xml, str) else xml)
    assert document.syntax == "cii"
    return read_tree(document.root, document.syntax)


def _indicator(value: str) -> str:
    return f"<ram:ChargeIndicator><udt:Indicator>{value}</udt:Indicator></ram:ChargeIndicator>"


# --- the table as a whole --------------------------------------------------------------------


def _model_terms(model: type[BaseModel], seen: set[type[BaseModel]] | None = None) -> set[str]:
    seen = set() if seen is None else seen
    seen.add(model)
    terms: set[str] = set()
    for info in model.model_fields.values():
        extra = info.json_schema_extra
        if not isinstance(extra, dict) or "term" not in extra:
            continue
        terms.add(str(extra["term"]))
        annotation = info.annotation
        for candidate in (annotation, *getattr(annotation, "__args__", ())):
            inner = getattr(candidate, "__args__", (candidate,))
            for kind in (candidate, *inner):
                if isinstance(kind, type) and issubclass(kind, BaseModel) and kind not in seen:
                    terms |= _model_terms(kind, seen)
    return terms


def _table_terms(table: Table) -> set[str]:
    terms: set[str] = set()
    for entry in table:
        terms.add(entry.term)
        if isinstance(entry, Group):
            inner = entry.table() if callable(entry.table) else entry.table
            terms |= _table_terms(inner)
    return terms


def test_every_model_term_has_a_cii_path() -> None:
    missing = _model_terms(Invoice) - _table_terms(cii.INVOICE)
    # Sub lines are nested by ParentLineID (a post hook, not a path); third party payments
    # (XRechnung Extension, UBL cac:PrepaidPayment) have no CII binding.
    assert missing == {"BG-DEX-01", "BG-DEX-09", "BT-DEX-001", "BT-DEX-002", "BT-DEX-003"}


# --- header, dates, notes --------------------------------------------------------------------


def test_header_terms_and_format_102_dates() -> None:
    invoice = read(
        cii_invoice(
            document="""<ram:IncludedNote><ram:Content>Bitte zahlen</ram:Content>
              <ram:SubjectCode>AAB</ram:SubjectCode></ram:IncludedNote>
              <ram:IncludedNote><ram:Content>Nur Text</ram:Content></ram:IncludedNote>""",
            delivery="""<ram:ActualDeliverySupplyChainEvent><ram:OccurrenceDateTime>
              <udt:DateTimeString format="102">20240115</udt:DateTimeString>
              </ram:OccurrenceDateTime></ram:ActualDeliverySupplyChainEvent>""",
            settlement="""
              <ram:ApplicableTradeTax><ram:CalculatedAmount>19</ram:CalculatedAmount>
                <ram:TypeCode>VAT</ram:TypeCode><ram:BasisAmount>100</ram:BasisAmount>
                <ram:CategoryCode>S</ram:CategoryCode>
                <ram:TaxPointDate><udt:DateString format="102">20240131</udt:DateString></ram:TaxPointDate>
                <ram:RateApplicablePercent>19</ram:RateApplicablePercent></ram:ApplicableTradeTax>
              <ram:BillingSpecifiedPeriod>
                <ram:StartDateTime><udt:DateTimeString format="102">20240101</udt:DateTimeString>
                </ram:StartDateTime>
                <ram:EndDateTime><udt:DateTimeString format="102">20240131</udt:DateTimeString>
                </ram:EndDateTime>
              </ram:BillingSpecifiedPeriod>
              <ram:SpecifiedTradePaymentTerms><ram:Description>30 Tage netto</ram:Description>
                <ram:DueDateDateTime><udt:DateTimeString format="102">20240330</udt:DateTimeString>
                </ram:DueDateDateTime>
              </ram:SpecifiedTradePaymentTerms>
              <ram:InvoiceReferencedDocument><ram:IssuerAssignedID>R-0</ram:IssuerAssignedID>
                <ram:FormattedIssueDateTime><qdt:DateTimeString format="102">20231201</qdt:DateTimeString>
                </ram:FormattedIssueDateTime></ram:InvoiceReferencedDocument>""",
        )
    )
    assert (invoice.number, invoice.type_code, invoice.currency_code) == ("R-1", "380", "EUR")
    assert invoice.issue_date == date(2024, 2, 29)
    assert invoice.process_control is not None
    assert invoice.process_control.specification_identifier == "urn:cen.eu:en16931:2017"
    assert [(n.subject_code, n.text) for n in invoice.notes] == [("AAB", "Bitte zahlen"), (None, "Nur Text")]
    assert invoice.delivery is not None and invoice.delivery.actual_delivery_date == date(2024, 1, 15)
    assert invoice.value_added_tax_point_date == date(2024, 1, 31)
    assert invoice.invoicing_period is not None
    assert (invoice.invoicing_period.start_date, invoice.invoicing_period.end_date) == (
        date(2024, 1, 1),
        date(2024, 1, 31),
    )
    assert (invoice.due_date, invoice.payment_terms) == (date(2024, 3, 30), "30 Tage netto")
    assert [(p.reference, p.issue_date) for p in invoice.preceding_invoices] == [("R-0", date(2023, 12, 1))]


def test_tax_point_date_code_is_kept_as_written() -> None:
    invoice = read(
        cii_invoice(
            settlement="""<ram:ApplicableTradeTax><ram:CalculatedAmount>0</ram:CalculatedAmount>
              <ram:TypeCode>VAT</ram:TypeCode><ram:BasisAmount>0</ram:BasisAmount>
              <ram:CategoryCode>S</ram:CategoryCode><ram:DueDateTypeCode>29</ram:DueDateTypeCode>
              <ram:RateApplicablePercent>19</ram:RateApplicablePercent></ram:ApplicableTradeTax>"""
        )
    )
    assert invoice.value_added_tax_point_date_code == "29"
    assert invoice.value_added_tax_point_date is None


@pytest.mark.parametrize("text", ["20240230", "2024-02-01", "24-02-01"])
def test_a_format_102_date_that_is_no_date_is_a_bad_value(text: str) -> None:
    xml = cii_invoice().replace("20240229", text)
    with pytest.raises(ReadError) as raised:
        read(xml)
    assert raised.value.outcome is Outcome.BAD_VALUE
    assert "BT-2" in raised.value.reason


# --- parties ---------------------------------------------------------------------------------


def test_seller_identifiers_and_vat_versus_fc_tax_registration() -> None:
    invoice = read(
        cii_invoice(
            agreement="""<ram:BuyerReference>04011000-12345-03</ram:BuyerReference>
            <ram:SellerTradeParty>
              <ram:ID>LIEF-7</ram:ID>
              <ram:GlobalID schemeID="0088">4000001000005</ram:GlobalID>
              <ram:Name>Lieferant GmbH</ram:Name>
              <ram:Description>Amtsgericht Bonn HRB 1</ram:Description>
              <ram:SpecifiedLegalOrganization><ram:ID schemeID="0002">HRB 1</ram:ID>
                <ram:TradingBusinessName>Lieferant</ram:TradingBusinessName></ram:SpecifiedLegalOrganization>
              <ram:DefinedTradeContact><ram:DepartmentName>Buchhaltung</ram:DepartmentName>
                <ram:TelephoneUniversalCommunication><ram:CompleteNumber>0228 1</ram:CompleteNumber>
                </ram:TelephoneUniversalCommunication>
                <ram:EmailURIUniversalCommunication><ram:URIID>rw@example.org</ram:URIID>
                </ram:EmailURIUniversalCommunication></ram:DefinedTradeContact>
              <ram:PostalTradeAddress><ram:PostcodeCode>53111</ram:PostcodeCode>
                <ram:LineOne>Markt 1</ram:LineOne><ram:CityName>Bonn</ram:CityName>
                <ram:CountryID>DE</ram:CountryID></ram:PostalTradeAddress>
              <ram:URIUniversalCommunication><ram:URIID schemeID="EM">in@example.org</ram:URIID>
              </ram:URIUniversalCommunication>
              <ram:SpecifiedTaxRegistration><ram:ID schemeID="FC">201/113/40209</ram:ID>
              </ram:SpecifiedTaxRegistration>
              <ram:SpecifiedTaxRegistration><ram:ID schemeID="VA">DE123456789</ram:ID>
              </ram:SpecifiedTaxRegistration>
            </ram:SellerTradeParty>
            <ram:BuyerTradeParty>
              <ram:GlobalID schemeID="0088">4000001000012</ram:GlobalID>
              <ram:Name>Kunde AG</ram:Name>
              <ram:SpecifiedTaxRegistration><ram:ID schemeID="FC">99/999/99999</ram:ID>
              </ram:SpecifiedTaxRegistration>
            </ram:BuyerTradeParty>
            <ram:SellerTaxRepresentativeTradeParty><ram:Name>Vertreter</ram:Name>
              <ram:PostalTradeAddress><ram:CountryID>AT</ram:CountryID></ram:PostalTradeAddress>
              <ram:SpecifiedTaxRegistration><ram:ID schemeID="VA">ATU1234567</ram:ID>
              </ram:SpecifiedTaxRegistration></ram:SellerTaxRepresentativeTradeParty>"""
        )
    )
    seller, buyer = invoice.seller, invoice.buyer
    assert seller is not None and buyer is not None
    assert seller.identifiers == [Identifier(id="LIEF-7"), Identifier(id="4000001000005", scheme="0088")]
    assert (seller.name, seller.trading_name, seller.additional_legal_information) == (
        "Lieferant GmbH",
        "Lieferant",
        "Amtsgericht Bonn HRB 1",
    )
    assert seller.legal_registration_identifier == Identifier(id="HRB 1", scheme="0002")
    assert (seller.vat_identifier, seller.tax_registration_identifier) == ("DE123456789", "201/113/40209")
    assert seller.electronic_address == Identifier(id="in@example.org", scheme="EM")
    assert seller.contact is not None
    assert (seller.contact.point, seller.contact.telephone, seller.contact.email) == (
        "Buchhaltung",
        "0228 1",
        "rw@example.org",
    )
    assert seller.address is not None
    assert (seller.address.line_1, seller.address.post_code, seller.address.city) == (
        "Markt 1",
        "53111",
        "Bonn",
    )
    assert buyer.identifier == Identifier(id="4000001000012", scheme="0088")
    assert buyer.vat_identifier is None  # an FC registration is not a VAT identifier
    assert invoice.buyer_reference == "04011000-12345-03"
    representative = invoice.tax_representative
    assert representative is not None and representative.vat_identifier == "ATU1234567"
    assert representative.address is not None and representative.address.country_code == "AT"


def test_delivery_and_payee() -> None:
    invoice = read(
        cii_invoice(
            delivery="""<ram:ShipToTradeParty><ram:GlobalID schemeID="0088">4000001000029</ram:GlobalID>
                <ram:Name>Lager Nord</ram:Name>
                <ram:PostalTradeAddress><ram:CityName>Kiel</ram:CityName><ram:CountryID>DE</ram:CountryID>
                </ram:PostalTradeAddress></ram:ShipToTradeParty>
              <ram:DespatchAdviceReferencedDocument><ram:IssuerAssignedID>LS-1</ram:IssuerAssignedID>
              </ram:DespatchAdviceReferencedDocument>
              <ram:ReceivingAdviceReferencedDocument><ram:IssuerAssignedID>WE-1</ram:IssuerAssignedID>
              </ram:ReceivingAdviceReferencedDocument>""",
            settlement="""<ram:PayeeTradeParty><ram:ID>P-1</ram:ID><ram:Name>Factoring AG</ram:Name>
              <ram:SpecifiedLegalOrganization><ram:ID schemeID="0002">HRB 2</ram:ID>
              </ram:SpecifiedLegalOrganization></ram:PayeeTradeParty>""",
        )
    )
    delivery = invoice.delivery
    assert delivery is not None
    assert delivery.deliver_to_name == "Lager Nord"
    assert delivery.location_identifier == Identifier(id="4000001000029", scheme="0088")
    assert delivery.address is not None and delivery.address.city == "Kiel"
    assert (invoice.despatch_advice_reference, invoice.receiving_advice_reference) == ("LS-1", "WE-1")
    payee = invoice.payee
    assert payee is not None
    assert (payee.name, payee.identifier) == ("Factoring AG", Identifier(id="P-1"))
    assert payee.legal_registration_identifier == Identifier(id="HRB 2", scheme="0002")


# --- allowances and charges ------------------------------------------------------------------


def _allowance_charge(indicator: str, amount: str, reason: str, category: bool = True) -> str:
    tax = (
        "<ram:CategoryTradeTax><ram:TypeCode>VAT</ram:TypeCode><ram:CategoryCode>S</ram:CategoryCode>"
        "<ram:RateApplicablePercent>19</ram:RateApplicablePercent></ram:CategoryTradeTax>"
        if category
        else ""
    )
    return f"""<ram:SpecifiedTradeAllowanceCharge>{_indicator(indicator)}
        <ram:CalculationPercent>10</ram:CalculationPercent><ram:BasisAmount>100.00</ram:BasisAmount>
        <ram:ActualAmount>{amount}</ram:ActualAmount><ram:ReasonCode>95</ram:ReasonCode>
        <ram:Reason>{reason}</ram:Reason>{tax}</ram:SpecifiedTradeAllowanceCharge>"""


def test_document_allowances_and_charges_are_told_apart_by_the_indicator() -> None:
    invoice = read(
        cii_invoice(
            settlement=_allowance_charge("false", "10.00", "Rabatt")
            + _allowance_charge("true", "5.00", "Fracht")
            + _allowance_charge(" 0 ", "1.00", "Bonus")
            + _allowance_charge("1", "2.00", "Verpackung")
        )
    )
    assert [(a.amount, a.reason) for a in invoice.allowances] == [
        (Decimal("10.00"), "Rabatt"),
        (Decimal("1.00"), "Bonus"),
    ]
    assert [(c.amount, c.reason) for c in invoice.charges] == [
        (Decimal("5.00"), "Fracht"),
        (Decimal("2.00"), "Verpackung"),
    ]
    allowance = invoice.allowances[0]
    assert (allowance.base_amount, allowance.percentage, allowance.reason_code) == (
        Decimal("100.00"),
        Decimal("10"),
        "95",
    )
    assert (allowance.vat_category_code, allowance.vat_rate) == ("S", Decimal("19"))


def test_line_allowances_charges_and_price_discount() -> None:
    body = f"""<ram:SpecifiedTradeProduct><ram:Name>Schraube</ram:Name></ram:SpecifiedTradeProduct>
      <ram:SpecifiedLineTradeAgreement>
        <ram:GrossPriceProductTradePrice><ram:ChargeAmount>12.00</ram:ChargeAmount>
          <ram:BasisQuantity unitCode="H87">10</ram:BasisQuantity>
          <ram:AppliedTradeAllowanceCharge>{_indicator("true")}<ram:ActualAmount>9.99</ram:ActualAmount>
          </ram:AppliedTradeAllowanceCharge>
          <ram:AppliedTradeAllowanceCharge>{_indicator("false")}<ram:ActualAmount>2.00</ram:ActualAmount>
          </ram:AppliedTradeAllowanceCharge>
        </ram:GrossPriceProductTradePrice>
        <ram:NetPriceProductTradePrice><ram:ChargeAmount>10.00</ram:ChargeAmount>
          <ram:BasisQuantity unitCode="C62">1</ram:BasisQuantity></ram:NetPriceProductTradePrice>
      </ram:SpecifiedLineTradeAgreement>
      <ram:SpecifiedLineTradeDelivery><ram:BilledQuantity unitCode="C62">3</ram:BilledQuantity>
      </ram:SpecifiedLineTradeDelivery>
      <ram:SpecifiedLineTradeSettlement>
        {_allowance_charge("false", "3.00", "Mengenrabatt", category=False)}
        {_allowance_charge("true", "1.00", "Zuschlag", category=False)}
        <ram:SpecifiedTradeSettlementLineMonetarySummation><ram:LineTotalAmount>28.00</ram:LineTotalAmount>
        </ram:SpecifiedTradeSettlementLineMonetarySummation>
      </ram:SpecifiedLineTradeSettlement>"""
    (item,) = read(cii_invoice(lines=line("1", body=body))).lines
    assert [(a.amount, a.reason) for a in item.allowances] == [(Decimal("3.00"), "Mengenrabatt")]
    assert [(c.amount, c.reason) for c in item.charges] == [(Decimal("1.00"), "Zuschlag")]
    price = item.price
    assert price is not None
    assert (price.net_price, price.gross_price, price.discount) == (
        Decimal("10.00"),
        Decimal("12.00"),
        Decimal("2.00"),  # the charge on the gross price is not a price discount
    )
    # The base quantity on the net price wins over the one on the gross price.
    assert (price.base_quantity, price.base_quantity_unit_code) == (Decimal("1"), "C62")
    assert (item.quantity, item.quantity_unit_code, item.net_amount) == (
        Decimal("3"),
        "C62",
        Decimal("28.00"),
    )


def test_base_quantity_from_the_gross_price_when_the_net_price_has_none() -> None:
    body = """<ram:SpecifiedLineTradeAgreement>
        <ram:GrossPriceProductTradePrice><ram:ChargeAmount>12.00</ram:ChargeAmount>
          <ram:BasisQuantity unitCode="H87">10</ram:BasisQuantity></ram:GrossPriceProductTradePrice>
        <ram:NetPriceProductTradePrice><ram:ChargeAmount>12.00</ram:ChargeAmount>
        </ram:NetPriceProductTradePrice></ram:SpecifiedLineTradeAgreement>"""
    (item,) = read(cii_invoice(lines=line("1", body=body))).lines
    assert item.price is not None
    assert (item.price.base_quantity, item.price.base_quantity_unit_code) == (Decimal("10"), "H87")


def test_line_terms() -> None:
    body = """<ram:SpecifiedTradeProduct>
        <ram:GlobalID schemeID="0160">4012345000009</ram:GlobalID>
        <ram:SellerAssignedID>S-1</ram:SellerAssignedID><ram:BuyerAssignedID>B-1</ram:BuyerAssignedID>
        <ram:Name>Papier</ram:Name><ram:Description>A4, 80 g</ram:Description>
        <ram:ApplicableProductCharacteristic><ram:Description>Farbe</ram:Description>
          <ram:Value>weiss</ram:Value></ram:ApplicableProductCharacteristic>
        <ram:DesignatedProductClassification>
          <ram:ClassCode listID="STI" listVersionID="2">30197600</ram:ClassCode>
        </ram:DesignatedProductClassification>
        <ram:OriginTradeCountry><ram:ID>FI</ram:ID></ram:OriginTradeCountry>
      </ram:SpecifiedTradeProduct>
      <ram:SpecifiedLineTradeAgreement>
        <ram:BuyerOrderReferencedDocument><ram:LineID>7</ram:LineID></ram:BuyerOrderReferencedDocument>
        <ram:NetPriceProductTradePrice><ram:ChargeAmount>4.50</ram:ChargeAmount>
        </ram:NetPriceProductTradePrice>
      </ram:SpecifiedLineTradeAgreement>
      <ram:SpecifiedLineTradeSettlement>
        <ram:ApplicableTradeTax><ram:TypeCode>VAT</ram:TypeCode><ram:CategoryCode>S</ram:CategoryCode>
          <ram:RateApplicablePercent>7</ram:RateApplicablePercent></ram:ApplicableTradeTax>
        <ram:BillingSpecifiedPeriod>
          <ram:StartDateTime><udt:DateTimeString format="102">20240201</udt:DateTimeString>
          </ram:StartDateTime>
        </ram:BillingSpecifiedPeriod>
        <ram:AdditionalReferencedDocument><ram:IssuerAssignedID>Z-9</ram:IssuerAssignedID>
          <ram:TypeCode>130</ram:TypeCode><ram:ReferenceTypeCode>ABZ</ram:ReferenceTypeCode>
        </ram:AdditionalReferencedDocument>
        <ram:ReceivableSpecifiedTradeAccountingAccount><ram:ID>4711</ram:ID>
        </ram:ReceivableSpecifiedTradeAccountingAccount>
      </ram:SpecifiedLineTradeSettlement>"""
    text = line("1", body=body).replace(
        "</ram:LineID>",
        "</ram:LineID><ram:IncludedNote><ram:Content>Hinweis</ram:Content></ram:IncludedNote>",
    )
    (item,) = read(cii_invoice(lines=text)).lines
    assert (item.identifier, item.note, item.order_line_reference, item.buyer_accounting_reference) == (
        "1",
        "Hinweis",
        "7",
        "4711",
    )
    assert item.object_identifier == Identifier(id="Z-9", scheme="ABZ")
    assert item.vat is not None and (item.vat.category_code, item.vat.rate) == ("S", Decimal("7"))
    assert item.period is not None and item.period.start_date == date(2024, 2, 1)
    product = item.item
    assert product is not None
    assert (product.name, product.description, product.sellers_identifier, product.buyers_identifier) == (
        "Papier",
        "A4, 80 g",
        "S-1",
        "B-1",
    )
    assert product.standard_identifier == Identifier(id="4012345000009", scheme="0160")
    assert [(c.id, c.scheme, c.scheme_version) for c in product.classifications] == [("30197600", "STI", "2")]
    assert product.country_of_origin == "FI"
    assert [(a.name, a.value) for a in product.attributes] == [("Farbe", "weiss")]


# --- sub invoice lines -----------------------------------------------------------------------


def _tree(lines: list[InvoiceLine]) -> list[Any]:
    return [(item.identifier, _tree(item.sub_lines)) if item.sub_lines else item.identifier for item in lines]


def test_sub_lines_nest_under_their_parent_line_recursively() -> None:
    lines = "".join(
        [
            line("1.1", parent="1"),  # a child written before its parent
            line("1"),
            line("1.2", parent="1"),
            line("1.2.1", parent="1.2"),
            line("2"),
            line("2.1", parent="2"),
            line("3"),
        ]
    )
    invoice = read(cii_invoice(lines=lines))
    assert _tree(invoice.lines) == [("1", ["1.1", ("1.2", ["1.2.1"])]), ("2", ["2.1"]), "3"]


def test_broken_parent_references_stay_at_the_top_level() -> None:
    lines = "".join(
        [
            line("1"),
            line("9.1", parent="9"),  # no line 9
            line("4", parent="4"),  # its own parent
            line("5", parent="6"),  # 5 and 6 name each other
            line("6", parent="5"),
            line("7", parent="1"),
        ]
    )
    invoice = read(cii_invoice(lines=lines))
    assert _tree(invoice.lines) == [("1", ["7"]), "9.1", "4", ("5", ["6"])]


def test_lines_with_a_shared_id_nest_under_the_first() -> None:
    invoice = read(cii_invoice(lines=line("1") + line("1") + line("1.1", parent="1")))
    assert _tree(invoice.lines) == [("1", ["1.1"]), "1"]


# --- VAT totals and breakdown ----------------------------------------------------------------

_SUMMATION = """<ram:SpecifiedTradeSettlementHeaderMonetarySummation>
  <ram:LineTotalAmount>100.00</ram:LineTotalAmount><ram:ChargeTotalAmount>0.00</ram:ChargeTotalAmount>
  <ram:AllowanceTotalAmount>0.00</ram:AllowanceTotalAmount>
  <ram:TaxBasisTotalAmount>100.00</ram:TaxBasisTotalAmount>{taxes}
  <ram:RoundingAmount>0.01</ram:RoundingAmount><ram:GrandTotalAmount>119.00</ram:GrandTotalAmount>
  <ram:TotalPrepaidAmount>19.00</ram:TotalPrepaidAmount><ram:DuePayableAmount>100.01</ram:DuePayableAmount>
</ram:SpecifiedTradeSettlementHeaderMonetarySummation>"""


def _totals(taxes: str, tax_currency: str | None = None, currency: str = "EUR") -> Any:
    settlement = _SUMMATION.format(taxes=taxes)
    xml = cii_invoice(settlement=settlement, currency=currency)
    if tax_currency:
        xml = xml.replace(
            "<ram:InvoiceCurrencyCode>",
            f"<ram:TaxCurrencyCode>{tax_currency}</ram:TaxCurrencyCode><ram:InvoiceCurrencyCode>",
        )
    invoice = read(xml)
    assert invoice.vat_accounting_currency_code == tax_currency
    return invoice.totals


def test_vat_total_in_the_accounting_currency_is_bt_111() -> None:
    totals = _totals(
        '<ram:TaxTotalAmount currencyID="SEK">221.10</ram:TaxTotalAmount>'
        '<ram:TaxTotalAmount currencyID="EUR">19.00</ram:TaxTotalAmount>',
        tax_currency="SEK",
    )
    assert (totals.total_vat, totals.total_vat_in_accounting_currency) == (
        Decimal("19.00"),
        Decimal("221.10"),
    )
    assert (totals.sum_of_line_net_amounts, totals.sum_of_allowances, totals.sum_of_charges) == (
        Decimal("100.00"),
        Decimal("0.00"),
        Decimal("0.00"),
    )
    assert (totals.total_without_vat, totals.total_with_vat, totals.paid_amount) == (
        Decimal("100.00"),
        Decimal("119.00"),
        Decimal("19.00"),
    )
    assert (totals.rounding_amount, totals.amount_due) == (Decimal("0.01"), Decimal("100.01"))


@pytest.mark.parametrize(
    ("taxes", "tax_currency"),
    [
        ('<ram:TaxTotalAmount currencyID="EUR">19.00</ram:TaxTotalAmount>', None),
        ("<ram:TaxTotalAmount>19.00</ram:TaxTotalAmount>", None),
        # Without a VAT accounting currency the one total is BT-110, whatever its currencyID.
        ('<ram:TaxTotalAmount currencyID="USD">19.00</ram:TaxTotalAmount>', None),
        # A VAT accounting currency equal to the invoice currency gives no BT-111.
        ('<ram:TaxTotalAmount currencyID="EUR">19.00</ram:TaxTotalAmount>', "EUR"),
    ],
)
def test_vat_total_in_the_invoice_currency_is_bt_110(taxes: str, tax_currency: str | None) -> None:
    totals = _totals(taxes, tax_currency=tax_currency)
    assert (totals.total_vat, totals.total_vat_in_accounting_currency) == (Decimal("19.00"), None)


def test_vat_breakdown() -> None:
    invoice = read(
        cii_invoice(
            settlement="""<ram:ApplicableTradeTax><ram:CalculatedAmount>0.00</ram:CalculatedAmount>
              <ram:TypeCode>VAT</ram:TypeCode><ram:ExemptionReason>Steuerfrei</ram:ExemptionReason>
              <ram:BasisAmount>50.00</ram:BasisAmount><ram:CategoryCode>E</ram:CategoryCode>
              <ram:ExemptionReasonCode>VATEX-EU-132</ram:ExemptionReasonCode>
              <ram:RateApplicablePercent>0</ram:RateApplicablePercent></ram:ApplicableTradeTax>"""
        )
    )
    (vat,) = invoice.vat_breakdown
    assert (vat.taxable_amount, vat.tax_amount, vat.category_code, vat.rate) == (
        Decimal("50.00"),
        Decimal("0.00"),
        "E",
        Decimal("0"),
    )
    assert (vat.exemption_reason, vat.exemption_reason_code) == ("Steuerfrei", "VATEX-EU-132")


# --- references and attachments --------------------------------------------------------------


def test_referenced_documents_split_by_type_code_and_attachments_are_decoded() -> None:
    content = b"%PDF-1.7 Stundenzettel"
    invoice = read(
        cii_invoice(
            agreement=f"""<ram:SellerOrderReferencedDocument><ram:IssuerAssignedID>AB-1</ram:IssuerAssignedID>
              </ram:SellerOrderReferencedDocument>
              <ram:BuyerOrderReferencedDocument><ram:IssuerAssignedID>PO-1</ram:IssuerAssignedID>
              </ram:BuyerOrderReferencedDocument>
              <ram:ContractReferencedDocument><ram:IssuerAssignedID>V-1</ram:IssuerAssignedID>
              </ram:ContractReferencedDocument>
              <ram:AdditionalReferencedDocument><ram:IssuerAssignedID>Anlage-1</ram:IssuerAssignedID>
                <ram:URIID>https://example.org/anlage</ram:URIID><ram:TypeCode>916</ram:TypeCode>
                <ram:Name>Stundenzettel</ram:Name>
                <ram:AttachmentBinaryObject mimeCode="application/pdf" filename="stunden.pdf"
                  >{base64.b64encode(content).decode()}</ram:AttachmentBinaryObject>
              </ram:AdditionalReferencedDocument>
              <ram:AdditionalReferencedDocument><ram:IssuerAssignedID>LOS-3</ram:IssuerAssignedID>
                <ram:TypeCode>50</ram:TypeCode></ram:AdditionalReferencedDocument>
              <ram:AdditionalReferencedDocument><ram:IssuerAssignedID>ZAEHLER-8</ram:IssuerAssignedID>
                <ram:TypeCode>130</ram:TypeCode><ram:ReferenceTypeCode>AUU</ram:ReferenceTypeCode>
              </ram:AdditionalReferencedDocument>
              <ram:SpecifiedProcuringProject><ram:ID>PR-1</ram:ID><ram:Name>Projekt</ram:Name>
              </ram:SpecifiedProcuringProject>""",
            settlement="""<ram:ReceivableSpecifiedTradeAccountingAccount><ram:ID>KST-1</ram:ID>
              </ram:ReceivableSpecifiedTradeAccountingAccount>""",
        )
    )
    assert (invoice.sales_order_reference, invoice.purchase_order_reference, invoice.contract_reference) == (
        "AB-1",
        "PO-1",
        "V-1",
    )
    assert (invoice.project_reference, invoice.buyer_accounting_reference) == ("PR-1", "KST-1")
    assert invoice.tender_or_lot_reference == "LOS-3"
    assert invoice.invoiced_object_identifier == Identifier(id="ZAEHLER-8", scheme="AUU")
    (attached,) = invoice.additional_documents
    assert (attached.reference, attached.description, attached.external_location) == (
        "Anlage-1",
        "Stundenzettel",
        "https://example.org/anlage",
    )
    assert attached.attachment is not None
    assert attached.attachment.content == content
    assert (attached.attachment.mime_code, attached.attachment.filename) == ("application/pdf", "stunden.pdf")


def test_an_object_identifier_without_scheme() -> None:
    invoice = read(
        cii_invoice(
            agreement="""<ram:AdditionalReferencedDocument><ram:IssuerAssignedID>Z-1</ram:IssuerAssignedID>
              <ram:TypeCode>130</ram:TypeCode></ram:AdditionalReferencedDocument>"""
        )
    )
    assert invoice.invoiced_object_identifier == Identifier(id="Z-1")
    assert invoice.additional_documents == []


# --- payment instructions --------------------------------------------------------------------


def test_credit_transfers_one_per_payment_means() -> None:
    invoice = read(
        cii_invoice(
            settlement="""<ram:PaymentReference>R-1 / K-7</ram:PaymentReference>
              <ram:SpecifiedTradeSettlementPaymentMeans><ram:TypeCode>58</ram:TypeCode>
                <ram:Information>SEPA</ram:Information>
                <ram:PayeePartyCreditorFinancialAccount><ram:IBANID>DE02120300000000202051</ram:IBANID>
                  <ram:AccountName>Lieferant GmbH</ram:AccountName></ram:PayeePartyCreditorFinancialAccount>
                <ram:PayeeSpecifiedCreditorFinancialInstitution><ram:BICID>BYLADEM1001</ram:BICID>
                </ram:PayeeSpecifiedCreditorFinancialInstitution>
              </ram:SpecifiedTradeSettlementPaymentMeans>
              <ram:SpecifiedTradeSettlementPaymentMeans><ram:TypeCode>30</ram:TypeCode>
                <ram:PayeePartyCreditorFinancialAccount><ram:ProprietaryID>123456</ram:ProprietaryID>
                </ram:PayeePartyCreditorFinancialAccount>
              </ram:SpecifiedTradeSettlementPaymentMeans>"""
        )
    )
    payment = invoice.payment_instructions
    assert payment is not None
    assert (payment.means_type_code, payment.means_text, payment.remittance_information) == (
        "58",
        "SEPA",
        "R-1 / K-7",
    )
    assert [
        (t.account_identifier, t.account_name, t.service_provider_identifier) for t in payment.credit_transfers
    ] == [
        ("DE02120300000000202051", "Lieferant GmbH", "BYLADEM1001"),
        ("123456", None, None),
    ]
    assert (payment.card, payment.direct_debit) == (None, None)


def test_direct_debit_gathers_terms_settlement_and_payment_means() -> None:
    invoice = read(
        cii_invoice(
            settlement="""<ram:CreditorReferenceID>DE98ZZZ09999999999</ram:CreditorReferenceID>
              <ram:SpecifiedTradeSettlementPaymentMeans><ram:TypeCode>59</ram:TypeCode>
                <ram:PayerPartyDebtorFinancialAccount><ram:IBANID>DE75512108001245126199</ram:IBANID>
                </ram:PayerPartyDebtorFinancialAccount>
              </ram:SpecifiedTradeSettlementPaymentMeans>
              <ram:SpecifiedTradePaymentTerms><ram:DirectDebitMandateID>MANDAT-1</ram:DirectDebitMandateID>
              </ram:SpecifiedTradePaymentTerms>"""
        )
    )
    payment = invoice.payment_instructions
    assert payment is not None and payment.means_type_code == "59"
    assert payment.credit_transfers == []
    debit = payment.direct_debit
    assert debit is not None
    assert (debit.mandate_reference, debit.creditor_identifier, debit.debited_account_identifier) == (
        "MANDAT-1",
        "DE98ZZZ09999999999",
        "DE75512108001245126199",
    )


def test_payment_card() -> None:
    invoice = read(
        cii_invoice(
            settlement="""<ram:SpecifiedTradeSettlementPaymentMeans><ram:TypeCode>54</ram:TypeCode>
                <ram:ApplicableTradeSettlementFinancialCard><ram:ID>1234</ram:ID>
                  <ram:CardholderName>E. Muster</ram:CardholderName>
                </ram:ApplicableTradeSettlementFinancialCard>
              </ram:SpecifiedTradeSettlementPaymentMeans>"""
        )
    )
    payment = invoice.payment_instructions
    assert payment is not None and payment.card is not None
    assert (payment.card.primary_account_number, payment.card.holder_name) == ("1234", "E. Muster")
    assert payment.direct_debit is None


def test_no_payment_data_means_no_payment_instructions() -> None:
    assert read(cii_invoice()).payment_instructions is None


# --- the corpus ------------------------------------------------------------------------------


def _zugferd_cases() -> list[tuple[str, dict[str, Any]]]:
    expected = CORPUS / "zugferd" / "expected.json"
    if not expected.is_file():
        return []
    entries = json.loads(expected.read_text(encoding="utf-8"))
    return sorted(
        (name, entry["facts"])
        for name, entry in entries.items()
        if entry["kind"] == "xml"
        and (entry.get("facts") or {}).get("well_formed")
        and entry["facts"].get("syntax") == "cii"
    )


ZUGFERD = _zugferd_cases()


def _all_lines(lines: list[InvoiceLine]) -> int:
    return sum(1 + _all_lines(item.sub_lines) for item in lines)


@pytest.mark.corpus
@pytest.mark.skipif(not ZUGFERD, reason=f"ZUGFeRD corpus not found under {CORPUS}")
@pytest.mark.parametrize(("name", "facts"), ZUGFERD, ids=[name for name, _ in ZUGFERD])
def test_zugferd_cii_matches_the_reference_facts(name: str, facts: dict[str, Any]) -> None:
    invoice = read((CORPUS / "zugferd" / name).read_bytes())
    assert invoice.number == facts["invoice_number"]
    if facts.get("issue_date_format") == "102":
        assert invoice.issue_date == date.fromisoformat(facts["issue_date"])
    assert invoice.currency_code == facts["currency"]
    totals = invoice.totals
    assert totals is not None
    assert totals.total_with_vat == Decimal(facts["grand_total"])
    due = facts.get("due_payable")
    assert totals.amount_due == (Decimal(due) if due is not None else None)
    seller = invoice.seller.name if invoice.seller else None
    assert (seller.strip() if seller is not None else None) == facts["seller_name"]
    assert _all_lines(invoice.lines) == facts["line_count"]


@pytest.mark.corpus
@pytest.mark.skipif(not ZUGFERD, reason=f"ZUGFeRD corpus not found under {CORPUS}")
def test_the_zugferd_corpus_has_its_sub_line_cases() -> None:
    nested = [
        name
        for name, _ in ZUGFERD
        if any(item.sub_lines for item in read((CORPUS / "zugferd" / name).read_bytes()).lines)
    ]
    assert len(nested) >= 5, nested


def _cii_files() -> list[str]:
    found = []
    for folder in ("kosit-testsuite", "en16931-examples/cii", "kosit-config-tests"):
        for path in sorted((CORPUS / folder).rglob("*.xml")):
            try:
                root = parse_xml(path.read_bytes())
            except XmlError:
                continue  # not well-formed on purpose
            if root.tag in cii.ROOTS:
                found.append(str(path.relative_to(CORPUS)))
    return found


CII_FILES = _cii_files() if CORPUS.is_dir() else []


@pytest.mark.corpus
@pytest.mark.skipif(not CII_FILES, reason=f"test corpus not found at {CORPUS}")
@pytest.mark.parametrize("name", CII_FILES)
def test_every_well_formed_cii_file_reads(name: str) -> None:
    assert isinstance(read((CORPUS / name).read_bytes()), Invoice)
