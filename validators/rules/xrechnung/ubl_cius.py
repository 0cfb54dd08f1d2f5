"""XRechnung CIUS rules for UBL Invoice and CreditNote (pattern ``ubl-pattern`` of XRechnung 2.5.0)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Final

from lxml import etree

from validators.rules._engine import Flag
from validators.rules._session import Children, children_reader
from validators.rules.sets import XRECHNUNG_UBL
from validators.rules.xrechnung._patterns import (
    UBL_CIUS,
    XR_CIUS_ID,
    XR_CVD_ID,
    XR_EXTENSION_ID,
    one_ubl_payment_code,
    ubl_nodes,
)
from validators.rules.xrechnung._xpath2 import (
    CODES,
    clark,
    email_ok,
    iban_checksum_ok,
    nonblank,
    normalize_space,
    opt,
    skonto_ok,
    string_value,
    telephone_ok,
    url_ok,
)

_q = clark(dict(XRECHNUNG_UBL.namespaces))
_F = Flag.FATAL
_W = Flag.WARNING
_VAT_CATEGORIES = frozenset(CODES["SUPPORTED-VAT-CATEGORIES"])
_TYPE_CODES = frozenset(CODES["SUPPORTED-TYPE-CODES"])
_XR_IDS = frozenset((XR_CIUS_ID, XR_EXTENSION_ID, XR_CVD_ID))
_ALLOWANCE_CHARGE = _q("cac:AllowanceCharge")
_CHARGE_INDICATOR = _q("cbc:ChargeIndicator")
_TAX_CATEGORY = _q("cac:TaxCategory")
_ID = _q("cbc:ID")
_INVOICE_LINE = _q("cac:InvoiceLine")
_CREDIT_NOTE_LINE = _q("cac:CreditNoteLine")
_ITEM = _q("cac:Item")
_CLASSIFIED_TAX_CATEGORY = _q("cac:ClassifiedTaxCategory")
_NONE: Final[list[etree._Element]] = []


_all = ubl_nodes


def _has(node: etree._Element, path: str) -> bool:
    return bool(ubl_nodes(node, path))


def _norm(node: etree._Element, path: str) -> str:
    """normalize-space(path) with an at-most-one argument."""
    found = opt(_all(node, path), path)
    return "" if found is None else normalize_space(string_value(found))


def _both(path: str) -> str:
    """The same absolute path below an Invoice and below a CreditNote."""
    return f"/ubl:Invoice/{path} | /cn:CreditNote/{path}"


# --- the document ---------------------------------------------------------------------------------

_doc = UBL_CIUS.context("/ubl:Invoice | /cn:CreditNote")


@_doc.check(
    "BR-DE-1",
    _F,
    terms=("BG-16",),
    en="An invoice must contain payment instructions (BG-16).",
    de="Eine Rechnung muss Zahlungsanweisungen (BG-16) enthalten.",
)
def br_de_1(node: etree._Element) -> bool:
    return _has(node, "cac:PaymentMeans")


@_doc.check(
    "BR-DE-15",
    _F,
    terms=("BT-10",),
    en="The buyer reference (BT-10) must be provided.",
    de="Die Käuferreferenz (BT-10) muss übermittelt werden.",
)
def br_de_15(node: etree._Element) -> bool:
    return nonblank(_all(node, "cbc:BuyerReference"))


def _uses_listed_category(children: Callable[[etree._Element], Children], node: etree._Element) -> bool:
    """A VAT category code of a listed category, in the order the rule reads them: document-level allowances
    (``false``, BT-95), charges (``true``, BT-102), then ``<line>/cac:Item/cac:ClassifiedTaxCategory/cbc:ID``
    (BT-151) of invoice and credit note lines."""
    document = children(node)
    for charge in ("false", "true"):
        for ac in document.get(_ALLOWANCE_CHARGE, _NONE):
            group = children(ac)
            if any(string_value(i) == charge for i in group.get(_CHARGE_INDICATOR, _NONE)):
                for category in group.get(_TAX_CATEGORY, _NONE):
                    if _listed(children(category).get(_ID, _NONE)):
                        return True
    for line_tag in (_INVOICE_LINE, _CREDIT_NOTE_LINE):
        for line in document.get(line_tag, _NONE):
            for item in children(line).get(_ITEM, _NONE):
                for category in children(item).get(_CLASSIFIED_TAX_CATEGORY, _NONE):
                    if _listed(children(category).get(_ID, _NONE)):
                        return True
    return False


def _listed(codes: list[etree._Element]) -> bool:
    return any(string_value(c) in _VAT_CATEGORIES for c in codes)


@_doc.check(
    "BR-DE-16",
    _F,
    terms=("BT-31", "BT-32", "BG-11", "BT-95", "BT-102", "BT-151"),
    en="If VAT category S, Z, E, AE, K, G, L or M is used, BT-31, BT-32 or BG-11 must be provided.",
    de="Bei den Steuerkategorien S, Z, E, AE, K, G, L oder M muss BT-31, BT-32 oder BG-11 übermittelt werden.",
)
def br_de_16(node: etree._Element) -> bool:
    # The Invoice variant of BT-95 additionally requires TaxScheme 'VAT'; it is a subset of the
    # CreditNote variant the rule ORs it with, so the wider one alone decides. Reading the codes
    # cannot fail, so the search stops at the first code of a listed category.
    if not _uses_listed_category(children_reader(), node):
        return True
    return _has(node, "cac:TaxRepresentativeParty") or nonblank(
        _all(node, "cac:AccountingSupplierParty/cac:Party/cac:PartyTaxScheme/cbc:CompanyID")
    )


@_doc.check(
    "BR-DE-17",
    _W,
    terms=("BT-3",),
    en="The invoice type code (BT-3) should be one of 326, 380, 384, 389, 381, 875, 876, 877.",
    de="Der Rechnungstyp (BT-3) soll einer der Codes 326, 380, 384, 389, 381, 875, 876, 877 sein.",
)
def br_de_17(node: etree._Element) -> bool:
    return _norm(node, "cbc:InvoiceTypeCode") in _TYPE_CODES or _norm(node, "cbc:CreditNoteTypeCode") in _TYPE_CODES


@_doc.check(
    "BR-DE-18",
    _F,
    terms=("BT-20",),
    en="Cash discount lines in the payment terms (BT-20) must follow the #SKONTO#TAGE=n#PROZENT=n.nn# format.",
    de="Skonto-Zeilen in den Zahlungsbedingungen (BT-20) müssen dem Format #SKONTO#TAGE=n#PROZENT=n.nn# folgen.",
)
def br_de_18(node: etree._Element) -> bool:
    return skonto_ok([n for terms in _all(node, "cac:PaymentTerms") for n in _all(terms, "cbc:Note")[:1]])


@_doc.check(
    "BR-DE-21",
    _W,
    terms=("BT-24",),
    en="The specification identifier (BT-24) should be an XRechnung identifier.",
    de="Die Spezifikationskennung (BT-24) soll der Kennung des Standards XRechnung entsprechen.",
)
def br_de_21(node: etree._Element) -> bool:
    return any(string_value(c) in _XR_IDS for c in _all(node, "cbc:CustomizationID"))


@_doc.check(
    "BR-DE-22",
    _F,
    terms=("BT-125",),
    en="The filename attributes of all attached documents must be unique.",
    de="Das filename-Attribut aller eingebetteten Dokumente muss eindeutig sein.",
)
def br_de_22(node: etree._Element) -> bool:
    seen: set[str] = set()
    for ref in _all(node, "cac:AdditionalDocumentReference"):
        names = {
            name
            for obj in _all(ref, "cac:Attachment/cbc:EmbeddedDocumentBinaryObject")
            if (name := obj.get("filename")) is not None
        }
        if names & seen:
            return False
        seen |= names
    return True


@_doc.check(
    "BR-DE-26",
    _W,
    terms=("BT-3", "BG-3"),
    en="A corrected invoice (type code 384) should reference at least one preceding invoice (BG-3).",
    de="Eine korrigierte Rechnung (Typcode 384) soll mindestens eine vorausgegangene Rechnung (BG-3) nennen.",
)
def br_de_26(node: etree._Element) -> bool:
    corrected = _norm(node, "cbc:InvoiceTypeCode") == "384" or _norm(node, "cbc:CreditNoteTypeCode") == "384"
    return not corrected or _has(node, "cac:BillingReference/cac:InvoiceDocumentReference")


def _sepa_ids(node: etree._Element, path: str) -> bool:
    return any(i.get("schemeID") == "SEPA" for i in _all(node, path))


@_doc.check(
    "BR-DE-30",
    _F,
    terms=("BG-19", "BT-90"),
    en="With direct debit (BG-19) the bank assigned creditor identifier (BT-90) must be provided.",
    de="Bei Lastschrift (BG-19) muss die Gläubiger-Identifikationsnummer (BT-90) übermittelt werden.",
)
def br_de_30(node: etree._Element) -> bool:
    if not _has(node, "cac:PaymentMeans/cac:PaymentMandate"):
        return True
    return _sepa_ids(node, "cac:AccountingSupplierParty/cac:Party/cac:PartyIdentification/cbc:ID") or _sepa_ids(
        node, "cac:PayeeParty/cac:PartyIdentification/cbc:ID"
    )


@_doc.check(
    "BR-DE-31",
    _F,
    terms=("BG-19", "BT-91"),
    en="With direct debit (BG-19) the debited account identifier (BT-91) must be provided.",
    de="Bei Lastschrift (BG-19) muss die Kennung des zu belastenden Kontos (BT-91) übermittelt werden.",
)
def br_de_31(node: etree._Element) -> bool:
    return not _has(node, "cac:PaymentMeans/cac:PaymentMandate") or _has(
        node, "cac:PaymentMeans/cac:PaymentMandate/cac:PayerFinancialAccount/cbc:ID"
    )


@_doc.check(
    "BR-DE-TMP-32",
    Flag.INFORMATION,
    terms=("BT-72", "BG-14", "BG-26"),
    en="An invoice should give the delivery date (BT-72), an invoicing period (BG-14) or a period per line (BG-26).",
    de="Eine Rechnung sollte BT-72, BG-14 oder in jeder Position BG-26 zur Angabe des Leistungsdatums enthalten.",
)
def br_de_tmp_32(node: etree._Element) -> bool:
    if _has(node, "cac:Delivery/cbc:ActualDeliveryDate") or _has(node, "cac:InvoicePeriod"):
        return True
    lines = [*_all(node, "cac:InvoiceLine"), *_all(node, "cac:CreditNoteLine")]
    return all(_has(line, "cac:InvoicePeriod") for line in lines)


# --- attachments, parties, addresses --------------------------------------------------------------

_external = UBL_CIUS.context(_both("cac:AdditionalDocumentReference/cac:Attachment/cac:ExternalReference"))


@_external.check(
    "BR-TMP-2",
    _W,
    terms=("BT-124",),
    en="The external document location (BT-124) must be an absolute URL with a valid scheme.",
    de="BT-124 (External document location) muss eine absolute URL mit gültigem Schema enthalten.",
)
def br_tmp_2(node: etree._Element) -> bool:
    uri = opt(_all(node, "cbc:URI"), "URI")
    return url_ok("" if uri is None else string_value(uri))


_supplier = UBL_CIUS.context(_both("cac:AccountingSupplierParty"))


@_supplier.check(
    "BR-DE-2",
    _F,
    terms=("BG-6",),
    en="The seller contact (BG-6) must be provided.",
    de="Die Gruppe SELLER CONTACT (BG-6) muss übermittelt werden.",
)
def br_de_2(node: etree._Element) -> bool:
    return _has(node, "cac:Party/cac:Contact")


_supplier_address = UBL_CIUS.context(_both("cac:AccountingSupplierParty/cac:Party/cac:PostalAddress"))


@_supplier_address.check(
    "BR-DE-3",
    _F,
    terms=("BT-37",),
    en="The seller city (BT-37) must be provided.",
    de="Der Ort des Verkäufers (BT-37) muss übermittelt werden.",
)
def br_de_3(node: etree._Element) -> bool:
    return nonblank(_all(node, "cbc:CityName"))


@_supplier_address.check(
    "BR-DE-4",
    _F,
    terms=("BT-38",),
    en="The seller post code (BT-38) must be provided.",
    de="Die Postleitzahl des Verkäufers (BT-38) muss übermittelt werden.",
)
def br_de_4(node: etree._Element) -> bool:
    return nonblank(_all(node, "cbc:PostalZone"))


_supplier_contact = UBL_CIUS.context(_both("cac:AccountingSupplierParty/cac:Party/cac:Contact"))


@_supplier_contact.check(
    "BR-DE-5",
    _F,
    terms=("BT-41",),
    en="The seller contact point (BT-41) must be provided.",
    de="Der Kontakt des Verkäufers (BT-41) muss übermittelt werden.",
)
def br_de_5(node: etree._Element) -> bool:
    return nonblank(_all(node, "cbc:Name"))


@_supplier_contact.check(
    "BR-DE-6",
    _F,
    terms=("BT-42",),
    en="The seller contact telephone number (BT-42) must be provided.",
    de="Die Telefonnummer des Verkäuferkontakts (BT-42) muss übermittelt werden.",
)
def br_de_6(node: etree._Element) -> bool:
    return nonblank(_all(node, "cbc:Telephone"))


@_supplier_contact.check(
    "BR-DE-7",
    _F,
    terms=("BT-43",),
    en="The seller contact email address (BT-43) must be provided.",
    de="Die E-Mail-Adresse des Verkäuferkontakts (BT-43) muss übermittelt werden.",
)
def br_de_7(node: etree._Element) -> bool:
    return nonblank(_all(node, "cbc:ElectronicMail"))


@_supplier_contact.check(
    "BR-DE-27",
    _W,
    terms=("BT-42",),
    en="The seller contact telephone number (BT-42) should contain at least three digits.",
    de="BT-42 soll mindestens drei Ziffern enthalten.",
)
def br_de_27(node: etree._Element) -> bool:
    return telephone_ok(_norm(node, "cbc:Telephone"))


@_supplier_contact.check(
    "BR-DE-28",
    _W,
    terms=("BT-43",),
    en="The seller contact email address (BT-43) should be a plausible address with exactly one @.",
    de="BT-43 soll eine plausible E-Mail-Adresse mit genau einem @ sein.",
)
def br_de_28(node: etree._Element) -> bool:
    return email_ok(_norm(node, "cbc:ElectronicMail"))


_customer_address = UBL_CIUS.context(_both("cac:AccountingCustomerParty/cac:Party/cac:PostalAddress"))


@_customer_address.check(
    "BR-DE-8",
    _F,
    terms=("BT-52",),
    en="The buyer city (BT-52) must be provided.",
    de="Der Ort des Erwerbers (BT-52) muss übermittelt werden.",
)
def br_de_8(node: etree._Element) -> bool:
    return nonblank(_all(node, "cbc:CityName"))


@_customer_address.check(
    "BR-DE-9",
    _F,
    terms=("BT-53",),
    en="The buyer post code (BT-53) must be provided.",
    de="Die Postleitzahl des Erwerbers (BT-53) muss übermittelt werden.",
)
def br_de_9(node: etree._Element) -> bool:
    return nonblank(_all(node, "cbc:PostalZone"))


_delivery_address = UBL_CIUS.context(_both("cac:Delivery/cac:DeliveryLocation/cac:Address"))


@_delivery_address.check(
    "BR-DE-10",
    _F,
    terms=("BT-77", "BG-15"),
    en="The deliver-to city (BT-77) must be provided when a delivery address (BG-15) is given.",
    de="Der Lieferort (BT-77) muss übermittelt werden, wenn eine Lieferanschrift (BG-15) angegeben ist.",
)
def br_de_10(node: etree._Element) -> bool:
    return nonblank(_all(node, "cbc:CityName"))


@_delivery_address.check(
    "BR-DE-11",
    _F,
    terms=("BT-78", "BG-15"),
    en="The deliver-to post code (BT-78) must be provided when a delivery address (BG-15) is given.",
    de="Die Postleitzahl des Lieferorts (BT-78) muss übermittelt werden, wenn BG-15 angegeben ist.",
)
def br_de_11(node: etree._Element) -> bool:
    return nonblank(_all(node, "cbc:PostalZone"))


# --- payment means --------------------------------------------------------------------------------


def _payment_means(*codes: str) -> str:
    test = " or ".join(f"normalize-space(cbc:PaymentMeansCode) = '{c}'" for c in codes)
    return _both(f"cac:PaymentMeans[{test}]")


def _iban(node: etree._Element, path: str) -> bool:
    return iban_checksum_ok(opt(_all(node, path), "account identifier"))


_transfer = UBL_CIUS.context(_payment_means("30", "58"))


@_transfer.check(
    "BR-DE-19",
    _W,
    terms=("BT-84", "BT-81"),
    en="With SEPA credit transfer (code 58) the payment account identifier (BT-84) should be a valid IBAN.",
    de="Bei SEPA-Überweisung (Code 58) soll die Kontokennung (BT-84) eine korrekte IBAN sein.",
)
@one_ubl_payment_code
def br_de_19(node: etree._Element) -> bool:
    return _norm(node, "cbc:PaymentMeansCode") != "58" or _iban(node, "cac:PayeeFinancialAccount/cbc:ID")


@_transfer.check(
    "BR-DE-23-a",
    _F,
    terms=("BT-81", "BG-17"),
    en="With a credit transfer code (30, 58) the credit transfer group (BG-17) must be provided.",
    de="Bei Überweisung (30, 58) muss die Gruppe CREDIT TRANSFER (BG-17) übermittelt werden.",
)
@one_ubl_payment_code
def br_de_23_a(node: etree._Element) -> bool:
    return _has(node, "cac:PayeeFinancialAccount")


@_transfer.check(
    "BR-DE-23-b",
    _F,
    terms=("BT-81", "BG-18", "BG-19"),
    en="With a credit transfer code (30, 58) neither card (BG-18) nor direct debit (BG-19) may be provided.",
    de="Bei Überweisung (30, 58) dürfen BG-18 und BG-19 nicht übermittelt werden.",
)
@one_ubl_payment_code
def br_de_23_b(node: etree._Element) -> bool:
    return not _has(node, "cac:CardAccount") and not _has(node, "cac:PaymentMandate")


_card = UBL_CIUS.context(_payment_means("48", "54", "55"))


@_card.check(
    "BR-DE-24-a",
    _F,
    terms=("BT-81", "BG-18"),
    en="With a card payment code (48, 54, 55) the payment card group (BG-18) must be provided.",
    de="Bei Kartenzahlung (48, 54, 55) muss die Gruppe PAYMENT CARD INFORMATION (BG-18) übermittelt werden.",
)
@one_ubl_payment_code
def br_de_24_a(node: etree._Element) -> bool:
    return _has(node, "cac:CardAccount")


@_card.check(
    "BR-DE-24-b",
    _F,
    terms=("BT-81", "BG-17", "BG-19"),
    en="With a card payment code (48, 54, 55) neither credit transfer (BG-17) nor direct debit (BG-19) may be given.",
    de="Bei Kartenzahlung (48, 54, 55) dürfen BG-17 und BG-19 nicht übermittelt werden.",
)
@one_ubl_payment_code
def br_de_24_b(node: etree._Element) -> bool:
    return not _has(node, "cac:PayeeFinancialAccount") and not _has(node, "cac:PaymentMandate")


_debit = UBL_CIUS.context(_payment_means("59"))


@_debit.check(
    "BR-DE-20",
    _W,
    terms=("BT-91", "BT-81"),
    en="With SEPA direct debit (code 59) the debited account identifier (BT-91) should be a valid IBAN.",
    de="Bei SEPA-Lastschrift (Code 59) soll die Kennung des zu belastenden Kontos (BT-91) eine korrekte IBAN sein.",
)
@one_ubl_payment_code
def br_de_20(node: etree._Element) -> bool:
    return _norm(node, "cbc:PaymentMeansCode") != "59" or _iban(
        node, "cac:PaymentMandate/cac:PayerFinancialAccount/cbc:ID"
    )


@_debit.check(
    "BR-DE-25-a",
    _F,
    terms=("BT-81", "BG-19"),
    en="With a direct debit code (59) the direct debit group (BG-19) must be provided.",
    de="Bei Lastschrift (59) muss die Gruppe DIRECT DEBIT (BG-19) übermittelt werden.",
)
@one_ubl_payment_code
def br_de_25_a(node: etree._Element) -> bool:
    return _has(node, "cac:PaymentMandate")


@_debit.check(
    "BR-DE-25-b",
    _F,
    terms=("BT-81", "BG-17", "BG-18"),
    en="With a direct debit code (59) neither credit transfer (BG-17) nor card (BG-18) may be provided.",
    de="Bei Lastschrift (59) dürfen BG-17 und BG-18 nicht übermittelt werden.",
)
@one_ubl_payment_code
def br_de_25_b(node: etree._Element) -> bool:
    return not _has(node, "cac:PayeeFinancialAccount") and not _has(node, "cac:CardAccount")


# --- VAT breakdown --------------------------------------------------------------------------------

_subtotal = UBL_CIUS.context(_both("cac:TaxTotal/cac:TaxSubtotal"))


@_subtotal.check(
    "BR-DE-14",
    _F,
    terms=("BT-119",),
    en="The VAT category rate (BT-119) must be provided.",
    de="Der Steuersatz der Umsatzsteuerkategorie (BT-119) muss übermittelt werden.",
)
def br_de_14(node: etree._Element) -> bool:
    return nonblank(_all(node, "cac:TaxCategory/cbc:Percent"))
