"""XRechnung Extension rules for UBL (pattern ``ubl-extension-pattern``), active only when BT-24 is the
Extension identifier; every context carries that condition, as in the official pattern."""

from __future__ import annotations

from decimal import Decimal

from lxml import etree

from validators.rules._engine import Fail, Flag
from validators.rules._session import active_session
from validators.rules.sets import XRECHNUNG_UBL
from validators.rules.xrechnung._patterns import UBL_EXTENSION, UBL_IS_EXTENSION, gated, ubl_nodes
from validators.rules.xrechnung._xpath2 import (
    CODES,
    add,
    clark,
    decimal_or_none,
    div,
    in_code_string,
    mul,
    nonblank,
    opt,
    round_half_up,
    string_value,
)

_q = clark(dict(XRECHNUNG_UBL.namespaces))
_F = Flag.FATAL
_SUB_LINE = _q("cac:SubInvoiceLine")
_MIME_CODES = frozenset(CODES["EXTENSION-MIME-CODES"])
# $ISO-6523-ICD-EXT-CODES and $CEF-EAS-EXT-CODES: the DIGA codes XR01–XR03 prepended to each list.
ICD_EXT = CODES["DIGA-CODES"] + CODES["ISO-6523-ICD-CODES"]
EAS_EXT = CODES["DIGA-CODES"] + CODES["CEF-EAS-CODES"]


_all = ubl_nodes


def _scheme_check(node: etree._Element, codes: str) -> bool | Fail:
    scheme = node.get("schemeID")
    return True if in_code_string(codes, scheme) else Fail(value=scheme)


_binary = UBL_EXTENSION.context(gated(UBL_IS_EXTENSION, "cbc:EmbeddedDocumentBinaryObject"))


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


_invoice = UBL_EXTENSION.context(gated(UBL_IS_EXTENSION, "/ubl:Invoice"))


def _sub_lines(node: etree._Element) -> list[etree._Element]:
    """``node.iter(cac:SubInvoiceLine)`` for the document element, from the run's tag index (not to be changed)."""
    session = active_session(node)
    if session is None or session.root is not node:
        return list(node.iter(_SUB_LINE))
    return session.by_tag.get(_SUB_LINE, [])


def _line_sum_ok(line: etree._Element) -> bool:
    """A line's net amount equals the sum of its direct sub-lines' net amounts."""
    own = decimal_or_none(_all(line, "cbc:LineExtensionAmount"))
    subs = [decimal_or_none(_all(sub, "cbc:LineExtensionAmount")) for sub in _all(line, "cac:SubInvoiceLine")]
    return own is not None and own == add(*(s for s in subs if s is not None))


@_invoice.check(
    "BR-DEX-02",
    Flag.WARNING,
    terms=("BT-131", "BG-DEX-01"),
    en="The net amount (BT-131) of a line or sub-line should equal the sum of its direct sub-lines' net amounts.",
    de="Der Nettobetrag (BT-131) einer (Sub-)Position soll der Summe ihrer direkten Subpositionen entsprechen.",
)
def br_dex_02(node: etree._Element) -> bool:
    lines = [line for line in _all(node, "cac:InvoiceLine") if _all(line, "cac:SubInvoiceLine")]
    if not all(_line_sum_ok(line) for line in lines):
        return False
    parents = [sub for sub in _sub_lines(node) if _all(sub, "cac:SubInvoiceLine")]
    return all(_line_sum_ok(sub) for sub in parents)


@_invoice.check(
    "BR-DEX-03",
    _F,
    terms=("BG-DEX-01", "BG-DEX-06"),
    en="Every sub invoice line (BG-DEX-01) must contain exactly one VAT information group (BG-DEX-06).",
    de="Eine Subposition (BG-DEX-01) muss genau eine Umsatzsteuerinformation (BG-DEX-06) enthalten.",
)
def br_dex_03(node: etree._Element) -> bool:
    return all(
        len(_all(item, "cac:ClassifiedTaxCategory")) == 1 for sub in _sub_lines(node) for item in _all(sub, "cac:Item")
    )


_totals = UBL_EXTENSION.context(gated(UBL_IS_EXTENSION, "cac:LegalMonetaryTotal"))


def _decimal_or_zero(node: etree._Element, path: str) -> Decimal:
    """``if (exists(path)) then xs:decimal(path) else 0``."""
    value = decimal_or_none(_all(node, path))
    return Decimal(0) if value is None else value


def _to_cents(value: Decimal) -> Decimal:
    return div(round_half_up(mul(value, 10, 10)), Decimal(100))


@_totals.check(
    "BR-DEX-09",
    _F,
    terms=("BT-115", "BT-112", "BT-113", "BT-114", "BT-DEX-002"),
    en="Amount due (BT-115) must be total with VAT (BT-112) − paid (BT-113) + rounding (BT-114) + third-party payment.",
    de="Fälliger Betrag (BT-115) = Betrag mit USt (BT-112) − Vorauszahlung (BT-113) + Rundung (BT-114) + Drittzahlung.",
)
def br_dex_09(node: etree._Element) -> bool:
    prepaid = _decimal_or_zero(node, "cbc:PrepaidAmount")
    rounding = _decimal_or_zero(node, "cbc:PayableRoundingAmount")
    third_party = Decimal(0)
    parent = node.getparent()
    payments = _all(parent, "cac:PrepaidPayment") if parent is not None else []
    if nonblank([a for p in payments for a in _all(p, "cbc:PaidAmount")]):
        third_party = add(*(v for p in payments if (v := decimal_or_none(_all(p, "cbc:PaidAmount"))) is not None))
    payable = decimal_or_none(_all(node, "cbc:PayableAmount"))
    inclusive = decimal_or_none(_all(node, "cbc:TaxInclusiveAmount"))
    if payable is None or inclusive is None:
        return False  # an empty operand makes both sides empty and the comparison false
    return _to_cents(add(payable, -rounding)) == _to_cents(add(inclusive, -prepaid, third_party))


_party_id = UBL_EXTENSION.context(gated(UBL_IS_EXTENSION, "cac:PartyIdentification/cbc:ID[@schemeID]"))


@_party_id.check(
    "BR-DEX-04",
    _F,
    terms=("BT-29", "BT-46", "BT-60", "BT-90"),
    en="A party identifier scheme must be an ISO 6523 ICD code (or XR01–XR03; SEPA for seller and payee).",
    de=(
        "Das Schema einer Parteikennung muss ein ISO-6523-ICD-Code sein"
        " (oder XR01–XR03; SEPA bei Verkäufer und Zahlungsempfänger)."
    ),
)
def br_dex_04(node: etree._Element) -> bool | Fail:
    scheme = node.get("schemeID")
    if in_code_string(ICD_EXT, scheme):
        return True
    sepa = in_code_string(" SEPA ", scheme)
    if sepa and any(a.tag in (_q("cac:AccountingSupplierParty"), _q("cac:PayeeParty")) for a in node.iterancestors()):
        return True
    return Fail(value=scheme)


_legal_id = UBL_EXTENSION.context(gated(UBL_IS_EXTENSION, "cac:PartyLegalEntity/cbc:CompanyID[@schemeID]"))


@_legal_id.check(
    "BR-DEX-05",
    _F,
    terms=("BT-30", "BT-47", "BT-61"),
    en="A legal registration identifier scheme must be an ISO 6523 ICD code (or XR01–XR03).",
    de="Das Schema einer Registernummer muss ein ISO-6523-ICD-Code sein (oder XR01–XR03).",
)
def br_dex_05(node: etree._Element) -> bool | Fail:
    return _scheme_check(node, ICD_EXT)


_item_id = UBL_EXTENSION.context(gated(UBL_IS_EXTENSION, "cac:StandardItemIdentification/cbc:ID[@schemeID]"))


@_item_id.check(
    "BR-DEX-06",
    _F,
    terms=("BT-157",),
    en="An item standard identifier scheme must be an ISO 6523 ICD code (or XR01–XR03).",
    de="Das Schema einer Artikelkennung muss ein ISO-6523-ICD-Code sein (oder XR01–XR03).",
)
def br_dex_06(node: etree._Element) -> bool | Fail:
    return _scheme_check(node, ICD_EXT)


_endpoint = UBL_EXTENSION.context(gated(UBL_IS_EXTENSION, "cbc:EndpointID[@schemeID]"))


@_endpoint.check(
    "BR-DEX-07",
    _F,
    terms=("BT-34", "BT-49"),
    en="An electronic address scheme must be a CEF EAS code (or XR01–XR03).",
    de="Das Schema einer elektronischen Adresse muss ein CEF-EAS-Code sein (oder XR01–XR03).",
)
def br_dex_07(node: etree._Element) -> bool | Fail:
    return _scheme_check(node, EAS_EXT)


_location_id = UBL_EXTENSION.context(gated(UBL_IS_EXTENSION, "cac:DeliveryLocation/cbc:ID[@schemeID]"))


@_location_id.check(
    "BR-DEX-08",
    _F,
    terms=("BT-71",),
    en="A deliver-to location identifier scheme must be an ISO 6523 ICD code (or XR01–XR03).",
    de="Das Schema einer Lieferortkennung muss ein ISO-6523-ICD-Code sein (oder XR01–XR03).",
)
def br_dex_08(node: etree._Element) -> bool | Fail:
    return _scheme_check(node, ICD_EXT)


_third_party = UBL_EXTENSION.context(gated(UBL_IS_EXTENSION, "/ubl:Invoice/cac:PrepaidPayment"))


@_third_party.check(
    "BR-DEX-10",
    _F,
    terms=("BT-DEX-001", "BG-DEX-09"),
    en="A third party payment (BG-DEX-09) must state its type (BT-DEX-001).",
    de="Eine Drittzahlung (BG-DEX-09) muss ihre Art (BT-DEX-001) angeben.",
)
def br_dex_10(node: etree._Element) -> bool:
    return nonblank(_all(node, "cbc:ID"))


@_third_party.check(
    "BR-DEX-11",
    _F,
    terms=("BT-DEX-002", "BG-DEX-09"),
    en="A third party payment (BG-DEX-09) must state its amount (BT-DEX-002).",
    de="Eine Drittzahlung (BG-DEX-09) muss ihren Betrag (BT-DEX-002) angeben.",
)
def br_dex_11(node: etree._Element) -> bool:
    return nonblank(_all(node, "cbc:PaidAmount"))


@_third_party.check(
    "BR-DEX-12",
    _F,
    terms=("BT-DEX-003", "BG-DEX-09"),
    en="A third party payment (BG-DEX-09) must state its description (BT-DEX-003).",
    de="Eine Drittzahlung (BG-DEX-09) muss ihre Beschreibung (BT-DEX-003) angeben.",
)
def br_dex_12(node: etree._Element) -> bool:
    return nonblank(_all(node, "cbc:InstructionID"))


@_third_party.check(
    "BR-DEX-13",
    _F,
    terms=("BT-DEX-002",),
    en="The third party payment amount (BT-DEX-002) may have at most two decimals.",
    de="Der Betrag einer Drittzahlung (BT-DEX-002) darf höchstens zwei Nachkommastellen haben.",
)
def br_dex_13(node: etree._Element) -> bool:
    amount = opt(_all(node, "cbc:PaidAmount"), "amount")
    text = "" if amount is None else string_value(amount)
    return len(text.partition(".")[2]) <= 2


@_third_party.check(
    "BR-DEX-14",
    _F,
    terms=("BT-DEX-002", "BT-5"),
    en="The currency of the third party payment amount (BT-DEX-002) must be the invoice currency (BT-5).",
    de="Die Währung einer Drittzahlung (BT-DEX-002) muss der Rechnungswährung (BT-5) entsprechen.",
)
def br_dex_14(node: etree._Element) -> bool:
    parent = node.getparent()
    currencies = {string_value(c) for c in _all(parent, "cbc:DocumentCurrencyCode")} if parent is not None else set()
    return any(a.get("currencyID") in currencies for a in _all(node, "cbc:PaidAmount"))
