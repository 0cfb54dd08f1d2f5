"""XRechnung CVD rules (Clean Vehicles Directive) for CII (pattern ``cii-cvd-pattern``), active only
when BT-24 is the CVD identifier; every context carries that condition, as in the official pattern."""

from __future__ import annotations

from lxml import etree

from validators.rules._engine import Fail, Flag
from validators.rules.sets import XRECHNUNG_CII
from validators.rules.xrechnung._patterns import CII_CVD, CII_IS_CVD, cii_nodes, gated
from validators.rules.xrechnung._xpath2 import (
    CODES,
    clark,
    in_code_string,
    nonblank,
    normalize_space,
    opt,
    string_value,
)

_q = clark(dict(XRECHNUNG_CII.namespaces))
_F = Flag.FATAL
# $UNTDID-7143-CVD-CODES: 'CVD' prepended to the UNTDID 7143 item type identification codes.
CLASSIFICATION_SCHEMES = CODES["CVD-CODE"] + CODES["UNTDID-7143-CODES"]
_VEHICLE_CATEGORIES = frozenset(CODES["CVD-VEHICLE-CATEGORY"])
_CVA_CODES = frozenset(CODES["CVA-CODES"])
# The official contexts put $isCVD on the document element (``/rsm:CrossIndustryInvoice[$isCVD]/...``); it
# reads the document only, so gating the document node instead selects the same nodes, with one
# evaluation of the gate per check (see ``gated``).
_TRANSACTION = "/rsm:CrossIndustryInvoice/rsm:SupplyChainTradeTransaction"
_PRODUCT = f"{_TRANSACTION}/ram:IncludedSupplyChainTradeLineItem/ram:SpecifiedTradeProduct"


_all = cii_nodes


def _cvd_classes(product: etree._Element) -> list[etree._Element]:
    return [c for c in _all(product, "ram:DesignatedProductClassification/ram:ClassCode") if c.get("listID") == "CVD"]


def _cva_characteristics(product: etree._Element) -> list[etree._Element]:
    return [
        c
        for c in _all(product, "ram:ApplicableProductCharacteristic")
        if any(string_value(d) == "cva" for d in _all(c, "ram:Description"))
    ]


_transaction = CII_CVD.context(gated(CII_IS_CVD, _TRANSACTION))


@_transaction.check(
    "BR-DE-CVD-03",
    _F,
    terms=("BT-158", "BT-160"),
    en="A CVD invoice must have a line classified with scheme 'CVD' and an item attribute named 'cva'.",
    de="Eine CVD-Rechnung muss eine Position mit Klassifizierung 'CVD' und einem Artikelattribut 'cva' enthalten.",
)
def br_de_cvd_03(node: etree._Element) -> bool:
    products = _all(node, "ram:IncludedSupplyChainTradeLineItem/ram:SpecifiedTradeProduct")
    return any(_cvd_classes(p) and _cva_characteristics(p) for p in products)


_product = CII_CVD.context(gated(CII_IS_CVD, _PRODUCT))


@_product.check(
    "BR-DE-CVD-06-b",
    _F,
    terms=("BT-158", "BT-160"),
    en="A line with an item attribute named 'cva' must have exactly one classification with scheme 'CVD'.",
    de="Eine Position mit Artikelattribut 'cva' muss genau eine Klassifizierung mit Schema 'CVD' enthalten.",
)
def br_de_cvd_06_b(node: etree._Element) -> bool:
    return not _cva_characteristics(node) or len(_cvd_classes(node)) == 1


@_product.check(
    "BR-DE-CVD-06-a",
    _F,
    terms=("BT-158", "BT-160"),
    en="A line classified with scheme 'CVD' must have exactly one item attribute named 'cva'.",
    de="Eine Position mit Klassifizierung 'CVD' muss genau ein Artikelattribut 'cva' enthalten.",
)
def br_de_cvd_06_a(node: etree._Element) -> bool:
    return not _cvd_classes(node) or len(_cva_characteristics(node)) == 1


_class_code = CII_CVD.context(gated(CII_IS_CVD, f"{_PRODUCT}/ram:DesignatedProductClassification/ram:ClassCode"))


@_class_code.check(
    "BR-TMP-CVD-01",
    _F,
    terms=("BT-158",),
    en="The item classification scheme (BT-158) must come from UNTDID 7143 (or be 'CVD').",
    de="Das Schema der Artikelklassifizierung (BT-158) ist aus UNTDID 7143 zu wählen (oder 'CVD').",
)
def br_tmp_cvd_01(node: etree._Element) -> bool | Fail:
    scheme = node.get("listID")
    return True if in_code_string(CLASSIFICATION_SCHEMES, scheme) else Fail(value=scheme)


@_class_code.check(
    "BR-DE-CVD-04",
    _F,
    terms=("BT-158",),
    en="A classification with scheme 'CVD' must be an allowed vehicle category (M1–M3, N1–N3).",
    de="Eine Klassifizierung mit Schema 'CVD' muss eine zulässige Fahrzeugklasse (M1–M3, N1–N3) sein.",
)
def br_de_cvd_04(node: etree._Element) -> bool | Fail:
    if normalize_space(node.get("listID") or "") != "CVD":
        return True
    value = normalize_space(string_value(node))
    return True if value in _VEHICLE_CATEGORIES else Fail(value=value)


_cva = CII_CVD.context(gated(CII_IS_CVD, f"{_PRODUCT}/ram:ApplicableProductCharacteristic[ram:Description = 'cva']"))


@_cva.check(
    "BR-DE-CVD-05",
    _F,
    terms=("BT-161",),
    en="The value of the item attribute 'cva' (BT-161) must be clean, zero-emission or other.",
    de="Der Wert des Artikelattributs 'cva' (BT-161) muss clean, zero-emission oder other sein.",
)
def br_de_cvd_05(node: etree._Element) -> bool | Fail:
    value = opt(_all(node, "ram:Value"), "value")
    text = "" if value is None else normalize_space(string_value(value))
    return True if text in _CVA_CODES else Fail(value=text)


_agreement = CII_CVD.context(gated(CII_IS_CVD, f"{_TRANSACTION}/ram:ApplicableHeaderTradeAgreement"))


@_agreement.check(
    "BR-DE-CVD-01",
    _F,
    terms=("BT-12",),
    en="A CVD invoice must state the contract reference (BT-12).",
    de="Eine CVD-Rechnung muss die Vertragsreferenz (BT-12) enthalten.",
)
def br_de_cvd_01(node: etree._Element) -> bool:
    return nonblank(_all(node, "ram:ContractReferencedDocument/ram:IssuerAssignedID"))


@_agreement.check(
    "BR-DE-CVD-02",
    _F,
    terms=("BT-17",),
    en="A CVD invoice must state the tender or lot reference (BT-17).",
    de="Eine CVD-Rechnung muss die Vergabe- oder Losreferenz (BT-17) enthalten.",
)
def br_de_cvd_02(node: etree._Element) -> bool:
    for ref in _all(node, "ram:AdditionalReferencedDocument"):
        type_code = opt(_all(ref, "ram:TypeCode"), "type code")
        if type_code is None or normalize_space(string_value(type_code)) != "50":
            continue
        issuer_id = opt(_all(ref, "ram:IssuerAssignedID"), "identifier")
        if issuer_id is not None and normalize_space(string_value(issuer_id)):
            return True
    return False
