"""BR-CL-* for CII: the code-list pattern of the CEN EN 16931 artefacts (1.3.15), contexts in official order."""

from __future__ import annotations

from collections.abc import Callable

from lxml import etree

from validators.rules._engine import Fail, Flag, Test
from validators.rules.syntax._codelists import CODE_LISTS, coded
from validators.rules.syntax._patterns import CII_CODES

__all__: list[str] = []

# ``udt:Indicator = false()`` casts the text to xs:boolean (true/false/1/0, whitespace collapsed).
_INDICATOR = "ram:ChargeIndicator/udt:Indicator[normalize-space(.) = '{0}' or normalize-space(.) = '{1}']"


def _rule(match: str, rule_id: str, terms: tuple[str, ...], en: str, de: str) -> Callable[[Test], Test]:
    return CII_CODES.context(match).check(rule_id, Flag.FATAL, terms=terms, en=en, de=de)


_rule(
    "rsm:ExchangedDocument/ram:TypeCode",
    "BR-CL-01",
    ("BT-3",),
    en="The document type code is a UNTDID 1001 invoice or credit note code.",
    de="Der Rechnungstyp-Code ist ein Rechnungs- oder Gutschriftcode aus UNTDID 1001.",
)(coded("UNTDID_1001_CII"))
# Only the VAT total carries a currency in CII; other amounts are in the invoice currency.
_rule(
    "ram:TaxTotalAmount[@currencyID]",
    "BR-CL-03",
    ("BT-110", "BT-111"),
    en="The currency of the VAT total is an ISO 4217 alpha-3 code.",
    de="Die Währung des Umsatzsteuer-Gesamtbetrags ist ein Code aus ISO 4217 (alpha-3).",
)(coded("ISO_4217", "currencyID"))
_rule(
    "ram:InvoiceCurrencyCode",
    "BR-CL-04",
    ("BT-5",),
    en="The invoice currency code is an ISO 4217 alpha-3 code.",
    de="Der Code der Rechnungswährung ist ein Code aus ISO 4217 (alpha-3).",
)(coded("ISO_4217"))
_rule(
    "ram:TaxCurrencyCode",
    "BR-CL-05",
    ("BT-6",),
    en="The VAT accounting currency code is an ISO 4217 alpha-3 code.",
    de="Der Code der Umsatzsteuer-Buchungswährung ist ein Code aus ISO 4217 (alpha-3).",
)(coded("ISO_4217"))
_rule(
    "ram:DueDateTypeCode",
    "BR-CL-06",
    ("BT-8",),
    en="The VAT point date code is 5, 29 or 72 (UNTDID 2475 subset).",
    de="Der Code für das Datum der Steuerfälligkeit ist 5, 29 oder 72 (Teilmenge von UNTDID 2475).",
)(coded("UNTDID_2475_VAT_DATE"))
_rule(
    "ram:ReferenceTypeCode",
    "BR-CL-07",
    ("BT-18-1",),
    en="The scheme of an invoiced object identifier is a UNTDID 1153 code.",
    de="Das Schema der Objektkennung ist ein Code aus UNTDID 1153.",
)(coded("UNTDID_1153"))
_rule(
    "ram:SubjectCode",
    "BR-CL-08",
    ("BT-21",),
    en="An invoice note subject code is a UNTDID 4451 code.",
    de="Der Betreff-Code einer Bemerkung ist ein Code aus UNTDID 4451.",
)(coded("UNTDID_4451"))
_rule(
    "//ram:GlobalID[@schemeID][not(ancestor::ram:SpecifiedTradeProduct) and not(ancestor::ram:ShipToTradeParty)]",
    "BR-CL-10",
    ("BT-29-1", "BT-46-1", "BT-60-1"),
    en="The scheme of a party global identifier is an ISO 6523 ICD code.",
    de="Das Schema einer globalen Parteikennung ist ein ICD-Code nach ISO 6523.",
)(coded("ISO_6523_ICD", "schemeID"))
_rule(
    "ram:ID[@schemeID][not(ancestor::ram:SpecifiedTaxRegistration)]",
    "BR-CL-11",
    ("BT-30-1", "BT-47-1", "BT-61-1"),
    en="The scheme of an identifier is an ISO 6523 ICD code.",
    de="Das Schema einer Kennung ist ein ICD-Code nach ISO 6523.",
)(coded("ISO_6523_ICD", "schemeID"))
_rule(
    "ram:ClassCode[@listID]",
    "BR-CL-13",
    ("BT-158-1",),
    en="The scheme of an item classification is a UNTDID 7143 code.",
    de="Das Schema einer Artikelklassifizierung ist ein Code aus UNTDID 7143.",
)(coded("UNTDID_7143", "listID"))
_rule(
    "ram:CountryID",
    "BR-CL-14",
    ("BT-40", "BT-55", "BT-69", "BT-80"),
    en="A country code is an ISO 3166-1 alpha-2 code.",
    de="Ein Ländercode ist ein Code aus ISO 3166-1 (alpha-2).",
)(coded("ISO_3166_CII"))
_rule(
    "ram:OriginTradeCountry/ram:ID",
    "BR-CL-15",
    ("BT-159",),
    en="The item country of origin is an ISO 3166-1 alpha-2 code.",
    de="Das Ursprungsland des Artikels ist ein Code aus ISO 3166-1 (alpha-2).",
)(coded("ISO_3166_CII"))
_rule(
    "ram:SpecifiedTradeSettlementPaymentMeans/ram:TypeCode",
    "BR-CL-16",
    ("BT-81",),
    en="The payment means code is a UNCL 4461 code.",
    de="Der Zahlungsart-Code ist ein Code aus UNCL 4461.",
)(coded("UNCL_4461"))
_rule(
    "ram:CategoryTradeTax/ram:CategoryCode",
    "BR-CL-17",
    ("BT-95", "BT-102"),
    en="A VAT category code is a UNCL 5305 code.",
    de="Ein Umsatzsteuerkategorie-Code ist ein Code aus UNCL 5305.",
)(coded("UNCL_5305"))
_rule(
    "ram:ApplicableTradeTax/ram:CategoryCode",
    "BR-CL-18",
    ("BT-118", "BT-151"),
    en="A VAT category code is a UNCL 5305 code.",
    de="Ein Umsatzsteuerkategorie-Code ist ein Code aus UNCL 5305.",
)(coded("UNCL_5305"))
_rule(
    f"ram:SpecifiedTradeAllowanceCharge[{_INDICATOR.format('false', '0')}]/ram:ReasonCode",
    "BR-CL-19",
    ("BT-98", "BT-140"),
    en="An allowance reason code is a UNCL 5189 code.",
    de="Ein Nachlass-Grund-Code ist ein Code aus UNCL 5189.",
)(coded("UNCL_5189"))
_rule(
    f"ram:SpecifiedTradeAllowanceCharge[{_INDICATOR.format('true', '1')}]/ram:ReasonCode",
    "BR-CL-20",
    ("BT-105", "BT-145"),
    en="A charge reason code is a UNCL 7161 code.",
    de="Ein Zuschlag-Grund-Code ist ein Code aus UNCL 7161.",
)(coded("UNCL_7161"))
_rule(
    "ram:SpecifiedTradeProduct/ram:GlobalID[@schemeID]",
    "BR-CL-21",
    ("BT-157-1",),
    en="The scheme of an item standard identifier is an ISO 6523 ICD code.",
    de="Das Schema einer Artikelkennung ist ein ICD-Code nach ISO 6523.",
)(coded("ISO_6523_ICD", "schemeID"))
_rule(
    "ram:ExemptionReasonCode",
    "BR-CL-22",
    ("BT-121",),
    en="A VAT exemption reason code is a VATEX code (in any letter case).",
    de="Ein Code für den Befreiungsgrund ist ein VATEX-Code (Groß- und Kleinschreibung gleichgültig).",
)(coded("VATEX", transform=str.upper))
_rule(
    "ram:BasisQuantity[@unitCode] | ram:BilledQuantity[@unitCode]",
    "BR-CL-23",
    ("BT-130", "BT-150"),
    en="A unit code is a UN/ECE Recommendation 20 or 21 code.",
    de="Ein Einheiten-Code ist ein Code aus UN/ECE-Empfehlung 20 oder 21.",
)(coded("UNECE_REC_20_21", "unitCode"))


@_rule(
    "ram:AttachmentBinaryObject[@mimeCode]",
    "BR-CL-24",
    ("BT-125-1",),
    en="The MIME code of an attachment is one of the allowed media types.",
    de="Der MIME-Code eines Anhangs ist einer der zulässigen Medientypen.",
)
def _mime_code(node: etree._Element) -> bool | Fail:
    # Compared as written, without whitespace normalization.
    mime = node.get("mimeCode")
    return mime in CODE_LISTS["MIME"] or Fail(value=mime)


_rule(
    "ram:URIUniversalCommunication/ram:URIID[@schemeID]",
    "BR-CL-25",
    ("BT-34-1", "BT-49-1"),
    en="The scheme of an electronic address is a CEF EAS code.",
    de="Das Schema einer elektronischen Adresse ist ein Code aus CEF EAS.",
)(coded("EAS", "schemeID"))
_rule(
    "ram:ApplicableHeaderTradeDelivery/ram:ShipToTradeParty/ram:GlobalID[@schemeID]",
    "BR-CL-26",
    ("BT-71-1",),
    en="The scheme of a deliver-to location identifier is an ISO 6523 ICD code.",
    de="Das Schema der Kennung des Lieferorts ist ein ICD-Code nach ISO 6523.",
)(coded("ISO_6523_ICD", "schemeID"))
