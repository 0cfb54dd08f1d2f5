"""BR-CL-* for UBL: the code-list pattern of the CEN EN 16931 artefacts (1.3.15), contexts in official order."""

from __future__ import annotations

from collections.abc import Callable

from lxml import etree

from validators.rules._engine import Fail, Flag, Test
from validators.rules._text import string_value
from validators.rules.sets import EN16931_UBL
from validators.rules.syntax._codelists import CODE_LISTS, coded, in_list
from validators.rules.syntax._patterns import UBL_CODES

__all__: list[str] = []

_CAC = f"{{{EN16931_UBL.namespaces['cac']}}}"
_CBC = f"{{{EN16931_UBL.namespaces['cbc']}}}"
# ``cbc:ChargeIndicator = false()`` casts the text to xs:boolean (true/false/1/0, whitespace collapsed).
_ALLOWANCE = "cac:AllowanceCharge[cbc:ChargeIndicator[normalize-space(.) = 'false' or normalize-space(.) = '0']]"
_CHARGE = "cac:AllowanceCharge[cbc:ChargeIndicator[normalize-space(.) = 'true' or normalize-space(.) = '1']]"


def _rule(match: str, rule_id: str, terms: tuple[str, ...], en: str, de: str) -> Callable[[Test], Test]:
    return UBL_CODES.context(match).check(rule_id, Flag.FATAL, terms=terms, en=en, de=de)


@_rule(
    "cbc:InvoiceTypeCode | cbc:CreditNoteTypeCode",
    "BR-CL-01",
    ("BT-3",),
    en="The document type code is a UNTDID 1001 invoice or credit note code.",
    de="Der Rechnungstyp-Code ist ein Rechnungs- oder Gutschriftcode aus UNTDID 1001.",
)
def _document_type(node: etree._Element) -> bool | Fail:
    text = string_value(node)
    list_name = "UNTDID_1001_INVOICE" if node.tag == _CBC + "InvoiceTypeCode" else "UNTDID_1001_CREDIT_NOTE"
    return in_list(text, CODE_LISTS[list_name]) or Fail(value=text)


_AMOUNTS = " | ".join(
    f"cbc:{name}"
    for name in (
        "Amount",
        "BaseAmount",
        "PriceAmount",
        "TaxAmount",
        "TaxableAmount",
        "LineExtensionAmount",
        "TaxExclusiveAmount",
        "TaxInclusiveAmount",
        "AllowanceTotalAmount",
        "ChargeTotalAmount",
        "PrepaidAmount",
        "PayableRoundingAmount",
        "PayableAmount",
    )
)
_rule(
    _AMOUNTS,
    "BR-CL-03",
    (),
    en="The currency of an amount is an ISO 4217 alpha-3 code.",
    de="Die Währung eines Betrags ist ein Code aus ISO 4217 (alpha-3).",
)(coded("ISO_4217", "currencyID"))
_rule(
    "cbc:DocumentCurrencyCode",
    "BR-CL-04",
    ("BT-5",),
    en="The invoice currency code is an ISO 4217 alpha-3 code.",
    de="Der Code der Rechnungswährung ist ein Code aus ISO 4217 (alpha-3).",
)(coded("ISO_4217"))
_rule(
    "cbc:TaxCurrencyCode",
    "BR-CL-05",
    ("BT-6",),
    en="The VAT accounting currency code is an ISO 4217 alpha-3 code.",
    de="Der Code der Umsatzsteuer-Buchungswährung ist ein Code aus ISO 4217 (alpha-3).",
)(coded("ISO_4217"))
_rule(
    "cac:InvoicePeriod/cbc:DescriptionCode",
    "BR-CL-06",
    ("BT-8",),
    en="The VAT point date code is 3, 35 or 432 (UNTDID 2005 subset).",
    de="Der Code für das Datum der Steuerfälligkeit ist 3, 35 oder 432 (Teilmenge von UNTDID 2005).",
)(coded("UNTDID_2005_VAT_DATE"))
_rule(
    "cac:AdditionalDocumentReference[cbc:DocumentTypeCode = '130']/cbc:ID[@schemeID]"
    " | cac:DocumentReference[cbc:DocumentTypeCode = '130']/cbc:ID[@schemeID]",
    "BR-CL-07",
    ("BT-18-1", "BT-128-1"),
    en="The scheme of an invoiced object identifier is a UNTDID 1153 code.",
    de="Das Schema der Objektkennung ist ein Code aus UNTDID 1153.",
)(coded("UNTDID_1153", "schemeID"))


@_rule(
    "cac:PartyIdentification/cbc:ID[@schemeID]",
    "BR-CL-10",
    ("BT-29-1", "BT-46-1", "BT-60-1", "BT-90"),
    en="The scheme of a party identifier is an ISO 6523 ICD code (or SEPA for the seller or payee).",
    de="Das Schema einer Parteikennung ist ein ICD-Code nach ISO 6523 (oder SEPA beim Verkäufer oder "
    "Zahlungsempfänger).",
)
def _party_identifier_scheme(node: etree._Element) -> bool | Fail:
    scheme = node.get("schemeID")
    if in_list(scheme, CODE_LISTS["ISO_6523_ICD"]):
        return True
    if in_list(scheme, frozenset({"SEPA"})) and any(
        a.tag in (_CAC + "AccountingSupplierParty", _CAC + "PayeeParty") for a in node.iterancestors()
    ):
        return True
    return Fail(value=scheme)


_rule(
    "cac:PartyLegalEntity/cbc:CompanyID[@schemeID]",
    "BR-CL-11",
    ("BT-30-1", "BT-47-1", "BT-61-1"),
    en="The scheme of a legal registration identifier is an ISO 6523 ICD code.",
    de="Das Schema einer Registernummer ist ein ICD-Code nach ISO 6523.",
)(coded("ISO_6523_ICD", "schemeID"))
_rule(
    "cac:CommodityClassification/cbc:ItemClassificationCode[@listID]",
    "BR-CL-13",
    ("BT-158-1",),
    en="The scheme of an item classification is a UNTDID 7143 code.",
    de="Das Schema einer Artikelklassifizierung ist ein Code aus UNTDID 7143.",
)(coded("UNTDID_7143", "listID"))
_rule(
    "cac:Country/cbc:IdentificationCode",
    "BR-CL-14",
    ("BT-40", "BT-55", "BT-69", "BT-80"),
    en="A country code is an ISO 3166-1 alpha-2 code.",
    de="Ein Ländercode ist ein Code aus ISO 3166-1 (alpha-2).",
)(coded("ISO_3166_UBL"))
_rule(
    "cac:OriginCountry/cbc:IdentificationCode",
    "BR-CL-15",
    ("BT-159",),
    en="The item country of origin is an ISO 3166-1 alpha-2 code.",
    de="Das Ursprungsland des Artikels ist ein Code aus ISO 3166-1 (alpha-2).",
)(coded("ISO_3166_UBL"))
_rule(
    "cac:PaymentMeans/cbc:PaymentMeansCode",
    "BR-CL-16",
    ("BT-81",),
    en="The payment means code is a UNCL 4461 code.",
    de="Der Zahlungsart-Code ist ein Code aus UNCL 4461.",
)(coded("UNCL_4461"))
_rule(
    "cac:TaxCategory/cbc:ID",
    "BR-CL-17",
    ("BT-95", "BT-102", "BT-118"),
    en="A VAT category code is a UNCL 5305 code.",
    de="Ein Umsatzsteuerkategorie-Code ist ein Code aus UNCL 5305.",
)(coded("UNCL_5305"))
_rule(
    "cac:ClassifiedTaxCategory/cbc:ID",
    "BR-CL-18",
    ("BT-151",),
    en="An invoiced item VAT category code is a UNCL 5305 code.",
    de="Der Umsatzsteuerkategorie-Code eines Artikels ist ein Code aus UNCL 5305.",
)(coded("UNCL_5305"))
_rule(
    _ALLOWANCE + "/cbc:AllowanceChargeReasonCode",
    "BR-CL-19",
    ("BT-98", "BT-140"),
    en="An allowance reason code is a UNCL 5189 code.",
    de="Ein Nachlass-Grund-Code ist ein Code aus UNCL 5189.",
)(coded("UNCL_5189"))
_rule(
    _CHARGE + "/cbc:AllowanceChargeReasonCode",
    "BR-CL-20",
    ("BT-105", "BT-145"),
    en="A charge reason code is a UNCL 7161 code.",
    de="Ein Zuschlag-Grund-Code ist ein Code aus UNCL 7161.",
)(coded("UNCL_7161"))
_rule(
    "cac:StandardItemIdentification/cbc:ID[@schemeID]",
    "BR-CL-21",
    ("BT-157-1",),
    en="The scheme of an item standard identifier is an ISO 6523 ICD code.",
    de="Das Schema einer Artikelkennung ist ein ICD-Code nach ISO 6523.",
)(coded("ISO_6523_ICD", "schemeID"))
_rule(
    "cbc:TaxExemptionReasonCode",
    "BR-CL-22",
    ("BT-121",),
    en="A VAT exemption reason code is a VATEX code (in any letter case).",
    de="Ein Code für den Befreiungsgrund ist ein VATEX-Code (Groß- und Kleinschreibung gleichgültig).",
)(coded("VATEX", transform=str.upper))
_rule(
    "cbc:InvoicedQuantity[@unitCode] | cbc:BaseQuantity[@unitCode] | cbc:CreditedQuantity[@unitCode]",
    "BR-CL-23",
    ("BT-130", "BT-150"),
    en="A unit code is a UN/ECE Recommendation 20 or 21 code.",
    de="Ein Einheiten-Code ist ein Code aus UN/ECE-Empfehlung 20 oder 21.",
)(coded("UNECE_REC_20_21", "unitCode"))


@_rule(
    "cbc:EmbeddedDocumentBinaryObject[@mimeCode]",
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
    "cbc:EndpointID[@schemeID]",
    "BR-CL-25",
    ("BT-34-1", "BT-49-1"),
    en="The scheme of an electronic address is a CEF EAS code.",
    de="Das Schema einer elektronischen Adresse ist ein Code aus CEF EAS.",
)(coded("EAS", "schemeID"))
_rule(
    "cac:DeliveryLocation/cbc:ID[@schemeID]",
    "BR-CL-26",
    ("BT-71-1",),
    en="The scheme of a deliver-to location identifier is an ISO 6523 ICD code.",
    de="Das Schema der Kennung des Lieferorts ist ein ICD-Code nach ISO 6523.",
)(coded("ISO_6523_ICD", "schemeID"))
