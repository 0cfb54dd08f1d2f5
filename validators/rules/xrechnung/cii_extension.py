"""XRechnung Extension rules for CII (pattern ``cii-extension-pattern``), active only when BT-24 is the
Extension identifier; every context carries that condition, as in the official pattern."""

from __future__ import annotations

from lxml import etree

from validators.rules._engine import Fail, Flag
from validators.rules.sets import XRECHNUNG_CII
from validators.rules.xrechnung._patterns import CII_EXTENSION, CII_IS_EXTENSION, gated
from validators.rules.xrechnung._xpath2 import CODES, clark, in_code_string

_q = clark(dict(XRECHNUNG_CII.namespaces))
_F = Flag.FATAL
_MIME_CODES = frozenset(CODES["EXTENSION-MIME-CODES"])
# $ISO-6523-ICD-EXT-CODES and $CEF-EAS-EXT-CODES: the DIGA codes XR01–XR03 prepended to each list.
ICD_EXT = CODES["DIGA-CODES"] + CODES["ISO-6523-ICD-CODES"]
EAS_EXT = CODES["DIGA-CODES"] + CODES["CEF-EAS-CODES"]
_TRANSACTION = "/rsm:CrossIndustryInvoice/rsm:SupplyChainTradeTransaction"


def _scheme_check(node: etree._Element, codes: str) -> bool | Fail:
    scheme = node.get("schemeID")
    return True if in_code_string(codes, scheme) else Fail(value=scheme)


_line_document = CII_EXTENSION.context(
    gated(CII_IS_EXTENSION, f"{_TRANSACTION}/ram:IncludedSupplyChainTradeLineItem/ram:AssociatedDocumentLineDocument")
)


@_line_document.check(
    "BR-DEX-15",
    Flag.WARNING,
    terms=("BG-DEX-01",),
    en="The document uses parent line identifiers (sub invoice lines), which XRechnung CII does not support.",
    de="Das Dokument nutzt übergeordnete Positionskennungen (Subpositionen), die XRechnung in CII nicht unterstützt.",
)
def br_dex_15(node: etree._Element) -> bool:
    return next(node.getroottree().getroot().iter(_q("ram:ParentLineID")), None) is None


_party_global_id = CII_EXTENSION.context(
    gated(
        CII_IS_EXTENSION,
        "ram:GlobalID[@schemeID][not(ancestor::ram:SpecifiedTradeProduct) and not(ancestor::ram:ShipToTradeParty)]",
    )
)


@_party_global_id.check(
    "BR-DEX-04",
    _F,
    terms=("BT-29", "BT-46", "BT-60"),
    en="A party identifier scheme must be an ISO 6523 ICD code (or XR01–XR03).",
    de="Das Schema einer Parteikennung muss ein ISO-6523-ICD-Code sein (oder XR01–XR03).",
)
def br_dex_04(node: etree._Element) -> bool | Fail:
    return _scheme_check(node, ICD_EXT)


_scheme_id = CII_EXTENSION.context(
    gated(CII_IS_EXTENSION, "ram:ID[@schemeID][not(ancestor::ram:SpecifiedTaxRegistration)]")
)


@_scheme_id.check(
    "BR-DEX-05",
    _F,
    terms=("BT-29", "BT-30", "BT-46", "BT-47", "BT-60", "BT-61"),
    en="An identifier scheme must be an ISO 6523 ICD code (or XR01–XR03).",
    de="Das Schema einer Kennung muss ein ISO-6523-ICD-Code sein (oder XR01–XR03).",
)
def br_dex_05(node: etree._Element) -> bool | Fail:
    return _scheme_check(node, ICD_EXT)


_item_id = CII_EXTENSION.context(gated(CII_IS_EXTENSION, "ram:SpecifiedTradeProduct/ram:GlobalID[@schemeID]"))


@_item_id.check(
    "BR-DEX-06",
    _F,
    terms=("BT-157",),
    en="An item standard identifier scheme must be an ISO 6523 ICD code (or XR01–XR03).",
    de="Das Schema einer Artikelkennung muss ein ISO-6523-ICD-Code sein (oder XR01–XR03).",
)
def br_dex_06(node: etree._Element) -> bool | Fail:
    return _scheme_check(node, ICD_EXT)


_endpoint = CII_EXTENSION.context(gated(CII_IS_EXTENSION, "ram:URIUniversalCommunication/ram:URIID[@schemeID]"))


@_endpoint.check(
    "BR-DEX-07",
    _F,
    terms=("BT-34", "BT-49"),
    en="An electronic address scheme must be a CEF EAS code (or XR01–XR03).",
    de="Das Schema einer elektronischen Adresse muss ein CEF-EAS-Code sein (oder XR01–XR03).",
)
def br_dex_07(node: etree._Element) -> bool | Fail:
    return _scheme_check(node, EAS_EXT)


_location_id = CII_EXTENSION.context(
    gated(CII_IS_EXTENSION, "ram:ApplicableHeaderTradeDelivery/ram:ShipToTradeParty/ram:GlobalID[@schemeID]")
)


@_location_id.check(
    "BR-DEX-08",
    _F,
    terms=("BT-71",),
    en="A deliver-to location identifier scheme must be an ISO 6523 ICD code (or XR01–XR03).",
    de="Das Schema einer Lieferortkennung muss ein ISO-6523-ICD-Code sein (oder XR01–XR03).",
)
def br_dex_08(node: etree._Element) -> bool | Fail:
    return _scheme_check(node, ICD_EXT)


_binary = CII_EXTENSION.context(gated(CII_IS_EXTENSION, "ram:AttachmentBinaryObject"))


@_binary.check(
    "BR-DEX-01",
    _F,
    terms=("BT-125",),
    en="An attached document (BT-125) uses a MIME code not allowed for the Extension (which adds application/xml).",
    de="Ein Anhang (BT-125) hat einen unzulässigen MIME-Code (die Extension erlaubt zusätzlich application/xml).",
)
def br_dex_01(node: etree._Element) -> bool | Fail:
    mime = node.get("mimeCode")
    return True if mime in _MIME_CODES else Fail(value=mime)
