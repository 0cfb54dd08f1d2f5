"""XRechnung CIUS rules for UN/CEFACT CII (pattern ``cii-pattern`` of XRechnung 2.5.0)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Final

from lxml import etree

from validators.rules._engine import Flag
from validators.rules._session import ACTIVE, Children, child_elements, child_path, children_reader, further
from validators.rules.sets import XRECHNUNG_CII
from validators.rules.xrechnung._patterns import (
    CII_CIUS,
    XR_CIUS_ID,
    XR_CVD_ID,
    XR_EXTENSION_ID,
    cii_nodes,
    cii_steps,
    one_cii_payment_code,
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

_q = clark(dict(XRECHNUNG_CII.namespaces))
_F = Flag.FATAL
_W = Flag.WARNING
_VAT_CATEGORIES = frozenset(CODES["SUPPORTED-VAT-CATEGORIES"])
_TYPE_CODES = frozenset(CODES["SUPPORTED-TYPE-CODES"])
_XR_IDS = frozenset((XR_CIUS_ID, XR_EXTENSION_ID, XR_CVD_ID))

_ROOT = "/rsm:CrossIndustryInvoice"
_TRANSACTION = f"{_ROOT}/rsm:SupplyChainTradeTransaction"
_AGREEMENT = f"{_TRANSACTION}/ram:ApplicableHeaderTradeAgreement"
_SETTLEMENT = f"{_TRANSACTION}/ram:ApplicableHeaderTradeSettlement"
# The same paths relative to the document element, for find/findall.
_REL_TRANSACTION = "rsm:SupplyChainTradeTransaction"
_REL_AGREEMENT = f"{_REL_TRANSACTION}/ram:ApplicableHeaderTradeAgreement"
_REL_SETTLEMENT = f"{_REL_TRANSACTION}/ram:ApplicableHeaderTradeSettlement"
_LINE_TAX = (
    f"{_REL_TRANSACTION}/ram:IncludedSupplyChainTradeLineItem/ram:SpecifiedLineTradeSettlement/ram:ApplicableTradeTax"
)


_NONE: Final[list[etree._Element]] = []
_all = cii_nodes


def _has(node: etree._Element, path: str) -> bool:
    return bool(cii_nodes(node, path))


def _norm(node: etree._Element, path: str) -> str:
    """normalize-space(path) with an at-most-one argument."""
    found = opt(_all(node, path), path)
    return "" if found is None else normalize_space(string_value(found))


def _document(node: etree._Element) -> etree._Element | None:
    root = node.getroottree().getroot()
    return root if root.tag == _DOCUMENT else None


def _direct_debit_given(means: etree._Element) -> bool:
    """Any part of BG-19: BT-89 or BT-90 in the document header, or BT-91 in this payment means."""
    document = _document(means)
    if document is not None:
        bt89, bt90, _ = _bg19(document)
        if bt89 or bt90:
            return True
    return bool(child_path(means, _DEBTOR_IBAN))


# --- the document ---------------------------------------------------------------------------------

_doc = CII_CIUS.context(_ROOT)

_DOCUMENT = _q("rsm:CrossIndustryInvoice")
_SETTLEMENTS = cii_steps(_REL_SETTLEMENT)
_AGREEMENTS = cii_steps(_REL_AGREEMENT)
_MANDATE = cii_steps("ram:SpecifiedTradePaymentTerms/ram:DirectDebitMandateID")
_CREDITOR_ID = _q("ram:CreditorReferenceID")
_PAYMENT_MEANS = _q("ram:SpecifiedTradeSettlementPaymentMeans")
_DEBTOR_IBAN = cii_steps("ram:PayerPartyDebtorFinancialAccount/ram:IBANID")
_BG19 = "xrechnung-cii BT-89, BT-90, BT-91"


def _bg19(node: etree._Element) -> tuple[bool, bool, bool]:
    """Presence of BT-89, BT-90 and BT-91 (the direct debit group BG-19), read once per check of the document."""
    session = ACTIVE.get()
    if session is None:
        return _read_bg19(node)
    key = (_BG19, node)
    found: tuple[bool, bool, bool] | None = session.memo.get(key)
    if found is None:
        found = session.memo[key] = _read_bg19(node)
    return found


def _read_bg19(node: etree._Element) -> tuple[bool, bool, bool]:
    children = children_reader()
    settlements = child_path(node, _SETTLEMENTS)
    if len(settlements) == 1:  # the common case: the settlement's children read once
        settlement = children(settlements[0])
        return (
            bool(further(children, settlement.get(_MANDATE[0], _NONE), _MANDATE[1:])),
            _CREDITOR_ID in settlement,
            bool(further(children, settlement.get(_PAYMENT_MEANS, _NONE), _DEBTOR_IBAN)),
        )
    return (
        bool(further(children, settlements, _MANDATE)),
        bool(further(children, settlements, (_CREDITOR_ID,))),
        bool(further(children, settlements, (_PAYMENT_MEANS, *_DEBTOR_IBAN))),
    )


@_doc.check(
    "BR-DE-30",
    _F,
    terms=("BG-19", "BT-90"),
    en="With direct debit (BG-19) the bank assigned creditor identifier (BT-90) must be provided.",
    de="Bei Lastschrift (BG-19) muss die Gläubiger-Identifikationsnummer (BT-90) übermittelt werden.",
)
def br_de_30(node: etree._Element) -> bool:
    bt89, bt90, bt91 = _bg19(node)
    return ((bt89 or bt91) and bt90) or not (bt89 or bt90 or bt91)


@_doc.check(
    "BR-DE-31",
    _F,
    terms=("BG-19", "BT-91"),
    en="With direct debit (BG-19) the debited account identifier (BT-91) must be provided.",
    de="Bei Lastschrift (BG-19) muss die Kennung des zu belastenden Kontos (BT-91) übermittelt werden.",
)
def br_de_31(node: etree._Element) -> bool:
    bt89, bt90, bt91 = _bg19(node)
    return ((bt89 or bt90) and bt91) or not (bt89 or bt90 or bt91)


_PAYMENT_MEANS_PATH = (*_SETTLEMENTS, _PAYMENT_MEANS)


@_doc.check(
    "BR-DE-1",
    _F,
    terms=("BG-16",),
    en="An invoice must contain payment instructions (BG-16).",
    de="Eine Rechnung muss Zahlungsanweisungen (BG-16) enthalten.",
)
def br_de_1(node: etree._Element) -> bool:
    return bool(child_path(node, _PAYMENT_MEANS_PATH))


_BUYER_REFERENCE = cii_steps(f"{_REL_AGREEMENT}/ram:BuyerReference")


@_doc.check(
    "BR-DE-15",
    _F,
    terms=("BT-10",),
    en="The buyer reference (BT-10) must be provided.",
    de="Die Käuferreferenz (BT-10) muss übermittelt werden.",
)
def br_de_15(node: etree._Element) -> bool:
    return nonblank(child_path(node, _BUYER_REFERENCE))


_LINE_TAXES = cii_steps(_LINE_TAX)
_TYPE_CODE = _q("ram:TypeCode")
_CATEGORY_CODE = _q("ram:CategoryCode")
_HEADER_TAXES = cii_steps("ram:SpecifiedTradeAllowanceCharge/ram:CategoryTradeTax")
_SELLER_REGISTRATIONS = cii_steps("ram:SellerTradeParty/ram:SpecifiedTaxRegistration/ram:ID")
_TAX_REPRESENTATIVE = _q("ram:SellerTaxRepresentativeTradeParty")


def _lines_use(children: Callable[[etree._Element], Children], node: etree._Element) -> bool:
    """Some line tax (``_LINE_TAX``) has type code VAT and some, perhaps another, a listed category.

    The taxes are read in document order until both are found.
    """
    vat = listed = False
    for tax in _line_taxes(children, node):
        codes = children(tax)
        vat = vat or any(string_value(t) == "VAT" for t in codes.get(_TYPE_CODE, _NONE))
        listed = listed or any(string_value(c) in _VAT_CATEGORIES for c in codes.get(_CATEGORY_CODE, _NONE))
        if vat and listed:
            return True
    return False


def _line_taxes(children: Callable[[etree._Element], Children], node: etree._Element) -> Iterator[etree._Element]:
    transaction_tag, line_tag, settlement_tag, tax_tag = _LINE_TAXES
    for transaction in children(node).get(transaction_tag, _NONE):
        for line in children(transaction).get(line_tag, _NONE):
            for settlement in children(line).get(settlement_tag, _NONE):
                yield from children(settlement).get(tax_tag, _NONE)


@_doc.check(
    "BR-DE-16",
    _F,
    terms=("BT-31", "BT-32", "BG-11", "BT-95", "BT-102", "BT-151"),
    en="If VAT category S, Z, E, AE, K, G, L or M is used, BT-31, BT-32 or BG-11 must be provided.",
    de="Bei den Steuerkategorien S, Z, E, AE, K, G, L oder M muss BT-31, BT-32 oder BG-11 übermittelt werden.",
)
def br_de_16(node: etree._Element) -> bool:
    children = children_reader()
    if not _lines_use(children, node):
        # The document-level test compares the whole CategoryTradeTax text with 'VAT', as written.
        header_tax = further(children, child_path(node, _SETTLEMENTS), _HEADER_TAXES)
        header_uses = any(string_value(t) == "VAT" for t in header_tax) and any(
            string_value(c) in _VAT_CATEGORIES for tax in header_tax for c in children(tax).get(_CATEGORY_CODE, _NONE)
        )
        if not header_uses:
            return True
    agreements = child_path(node, _AGREEMENTS)
    registrations = [
        i
        for i in further(children, agreements, _SELLER_REGISTRATIONS)
        if normalize_space(i.get("schemeID") or "") in ("VA", "FC")
    ]
    return nonblank(registrations) or bool(further(children, agreements, (_TAX_REPRESENTATIVE,)))


_DOCUMENT_TYPE_CODE = cii_steps("rsm:ExchangedDocument/ram:TypeCode")


def _document_type(node: etree._Element) -> str:
    """normalize-space(rsm:ExchangedDocument/ram:TypeCode) with an at-most-one argument."""
    found = opt(child_path(node, _DOCUMENT_TYPE_CODE), "rsm:ExchangedDocument/ram:TypeCode")
    return "" if found is None else normalize_space(string_value(found))


@_doc.check(
    "BR-DE-17",
    _W,
    terms=("BT-3",),
    en="The invoice type code (BT-3) should be one of 326, 380, 384, 389, 381, 875, 876, 877.",
    de="Der Rechnungstyp (BT-3) soll einer der Codes 326, 380, 384, 389, 381, 875, 876, 877 sein.",
)
def br_de_17(node: etree._Element) -> bool:
    return _document_type(node) in _TYPE_CODES


_PAYMENT_TERMS = (*_SETTLEMENTS, _q("ram:SpecifiedTradePaymentTerms"))
_DESCRIPTION = _q("ram:Description")


@_doc.check(
    "BR-DE-18",
    _F,
    terms=("BT-20",),
    en="Cash discount lines in the payment terms (BT-20) must follow the #SKONTO#TAGE=n#PROZENT=n.nn# format.",
    de="Skonto-Zeilen in den Zahlungsbedingungen (BT-20) müssen dem Format #SKONTO#TAGE=n#PROZENT=n.nn# folgen.",
)
def br_de_18(node: etree._Element) -> bool:
    children = children_reader()
    return skonto_ok([d for t in child_path(node, _PAYMENT_TERMS) for d in children(t).get(_DESCRIPTION, _NONE)[:1]])


_REFERENCED_DOCUMENT = _q("ram:AdditionalReferencedDocument")
_ATTACHMENT = _q("ram:AttachmentBinaryObject")


def _referenced_documents(node: etree._Element) -> list[etree._Element]:
    """``node.iter(ram:AdditionalReferencedDocument)`` for the document element, from the run's tag index."""
    session = ACTIVE.get()
    if session is None or session.root is not node:
        return list(node.iter(_REFERENCED_DOCUMENT))
    return session.by_tag.get(_REFERENCED_DOCUMENT, _NONE)


@_doc.check(
    "BR-DE-22",
    _F,
    terms=("BT-125",),
    en="The filename attributes of all attached documents must be unique.",
    de="Das filename-Attribut aller eingebetteten Dokumente muss eindeutig sein.",
)
def br_de_22(node: etree._Element) -> bool:
    children = children_reader()
    for ref in _referenced_documents(node):
        names = {n for obj in children(ref).get(_ATTACHMENT, _NONE) if (n := obj.get("filename")) is not None}
        if not names:
            continue
        for sibling in ref.itersiblings(_REFERENCED_DOCUMENT, preceding=True):
            if any(obj.get("filename") in names for obj in children(sibling).get(_ATTACHMENT, _NONE)):
                return False
    return True


_PRECEDING_INVOICE = (*_SETTLEMENTS, _q("ram:InvoiceReferencedDocument"))


@_doc.check(
    "BR-DE-26",
    _W,
    terms=("BT-3", "BG-3"),
    en="A corrected invoice (type code 384) should reference at least one preceding invoice (BG-3).",
    de="Eine korrigierte Rechnung (Typcode 384) soll mindestens eine vorausgegangene Rechnung (BG-3) nennen.",
)
def br_de_26(node: etree._Element) -> bool:
    return _document_type(node) != "384" or bool(child_path(node, _PRECEDING_INVOICE))


_context = CII_CIUS.context(f"{_ROOT}/rsm:ExchangedDocumentContext")


@_context.check(
    "BR-DE-21",
    _W,
    terms=("BT-24",),
    en="The specification identifier (BT-24) should be an XRechnung identifier.",
    de="Die Spezifikationskennung (BT-24) soll der Kennung des Standards XRechnung entsprechen.",
)
def br_de_21(node: etree._Element) -> bool:
    return any(string_value(i) in _XR_IDS for i in _all(node, "ram:GuidelineSpecifiedDocumentContextParameter/ram:ID"))


# --- parties, addresses, attachments --------------------------------------------------------------

_seller = CII_CIUS.context(f"{_AGREEMENT}/ram:SellerTradeParty")


@_seller.check(
    "BR-DE-2",
    _F,
    terms=("BG-6",),
    en="The seller contact (BG-6) must be provided.",
    de="Die Gruppe SELLER CONTACT (BG-6) muss übermittelt werden.",
)
def br_de_2(node: etree._Element) -> bool:
    return _has(node, "ram:DefinedTradeContact")


_seller_address = CII_CIUS.context(f"{_AGREEMENT}/ram:SellerTradeParty/ram:PostalTradeAddress")


@_seller_address.check(
    "BR-DE-3",
    _F,
    terms=("BT-37",),
    en="The seller city (BT-37) must be provided.",
    de="Der Ort des Verkäufers (BT-37) muss übermittelt werden.",
)
def br_de_3(node: etree._Element) -> bool:
    return nonblank(_all(node, "ram:CityName"))


@_seller_address.check(
    "BR-DE-4",
    _F,
    terms=("BT-38",),
    en="The seller post code (BT-38) must be provided.",
    de="Die Postleitzahl des Verkäufers (BT-38) muss übermittelt werden.",
)
def br_de_4(node: etree._Element) -> bool:
    return nonblank(_all(node, "ram:PostcodeCode"))


_seller_contact = CII_CIUS.context(f"{_AGREEMENT}/ram:SellerTradeParty/ram:DefinedTradeContact")


@_seller_contact.check(
    "BR-DE-5",
    _F,
    terms=("BT-41",),
    en="The seller contact point (BT-41) must be provided.",
    de="Der Kontakt des Verkäufers (BT-41) muss übermittelt werden.",
)
def br_de_5(node: etree._Element) -> bool:
    return nonblank([*_all(node, "ram:PersonName"), *_all(node, "ram:DepartmentName")])


@_seller_contact.check(
    "BR-DE-6",
    _F,
    terms=("BT-42",),
    en="The seller contact telephone number (BT-42) must be provided.",
    de="Die Telefonnummer des Verkäuferkontakts (BT-42) muss übermittelt werden.",
)
def br_de_6(node: etree._Element) -> bool:
    return nonblank(_all(node, "ram:TelephoneUniversalCommunication/ram:CompleteNumber"))


@_seller_contact.check(
    "BR-DE-7",
    _F,
    terms=("BT-43",),
    en="The seller contact email address (BT-43) must be provided.",
    de="Die E-Mail-Adresse des Verkäuferkontakts (BT-43) muss übermittelt werden.",
)
def br_de_7(node: etree._Element) -> bool:
    return nonblank(_all(node, "ram:EmailURIUniversalCommunication/ram:URIID"))


@_seller_contact.check(
    "BR-DE-27",
    _W,
    terms=("BT-42",),
    en="The seller contact telephone number (BT-42) should contain at least three digits.",
    de="BT-42 soll mindestens drei Ziffern enthalten.",
)
def br_de_27(node: etree._Element) -> bool:
    return telephone_ok(_norm(node, "ram:TelephoneUniversalCommunication/ram:CompleteNumber"))


@_seller_contact.check(
    "BR-DE-28",
    _W,
    terms=("BT-43",),
    en="The seller contact email address (BT-43) should be a plausible address with exactly one @.",
    de="BT-43 soll eine plausible E-Mail-Adresse mit genau einem @ sein.",
)
def br_de_28(node: etree._Element) -> bool:
    return email_ok(_norm(node, "ram:EmailURIUniversalCommunication/ram:URIID"))


_buyer_address = CII_CIUS.context(f"{_AGREEMENT}/ram:BuyerTradeParty/ram:PostalTradeAddress")


@_buyer_address.check(
    "BR-DE-8",
    _F,
    terms=("BT-52",),
    en="The buyer city (BT-52) must be provided.",
    de="Der Ort des Erwerbers (BT-52) muss übermittelt werden.",
)
def br_de_8(node: etree._Element) -> bool:
    return nonblank(_all(node, "ram:CityName"))


@_buyer_address.check(
    "BR-DE-9",
    _F,
    terms=("BT-53",),
    en="The buyer post code (BT-53) must be provided.",
    de="Die Postleitzahl des Erwerbers (BT-53) muss übermittelt werden.",
)
def br_de_9(node: etree._Element) -> bool:
    return nonblank(_all(node, "ram:PostcodeCode"))


_external = CII_CIUS.context(f"{_AGREEMENT}/ram:AdditionalReferencedDocument[ram:TypeCode = '916']")


@_external.check(
    "BR-TMP-2",
    _W,
    terms=("BT-124",),
    en="The external document location (BT-124) must be an absolute URL with a valid scheme.",
    de="BT-124 (External document location) muss eine absolute URL mit gültigem Schema enthalten.",
)
def br_tmp_2(node: etree._Element) -> bool:
    uris = _all(node, "ram:URIID")
    return not uris or url_ok(string_value(opt(uris, "URI")))


_ship_to_address = CII_CIUS.context(
    f"{_TRANSACTION}/ram:ApplicableHeaderTradeDelivery/ram:ShipToTradeParty/ram:PostalTradeAddress"
)


@_ship_to_address.check(
    "BR-DE-10",
    _F,
    terms=("BT-77", "BG-15"),
    en="The deliver-to city (BT-77) must be provided when a delivery address (BG-15) is given.",
    de="Der Lieferort (BT-77) muss übermittelt werden, wenn eine Lieferanschrift (BG-15) angegeben ist.",
)
def br_de_10(node: etree._Element) -> bool:
    return nonblank(_all(node, "ram:CityName"))


@_ship_to_address.check(
    "BR-DE-11",
    _F,
    terms=("BT-78", "BG-15"),
    en="The deliver-to post code (BT-78) must be provided when a delivery address (BG-15) is given.",
    de="Die Postleitzahl des Lieferorts (BT-78) muss übermittelt werden, wenn BG-15 angegeben ist.",
)
def br_de_11(node: etree._Element) -> bool:
    return nonblank(_all(node, "ram:PostcodeCode"))


# --- payment means --------------------------------------------------------------------------------


def _payment_means(*codes: str) -> str:
    test = " or ".join(f"normalize-space(ram:TypeCode) = '{c}'" for c in codes)
    return f"{_SETTLEMENT}/ram:SpecifiedTradeSettlementPaymentMeans[{test}]"


def _iban(node: etree._Element, path: str) -> bool:
    return iban_checksum_ok(opt(_all(node, path), "account identifier"))


_transfer = CII_CIUS.context(_payment_means("30", "58"))


@_transfer.check(
    "BR-DE-19",
    _W,
    terms=("BT-84", "BT-81"),
    en="With SEPA credit transfer (code 58) the payment account identifier (BT-84) should be a valid IBAN.",
    de="Bei SEPA-Überweisung (Code 58) soll die Kontokennung (BT-84) eine korrekte IBAN sein.",
)
@one_cii_payment_code
def br_de_19(node: etree._Element) -> bool:
    return _norm(node, "ram:TypeCode") != "58" or _iban(node, "ram:PayeePartyCreditorFinancialAccount/ram:IBANID")


@_transfer.check(
    "BR-DE-23-a",
    _F,
    terms=("BT-81", "BG-17"),
    en="With a credit transfer code (30, 58) the credit transfer group (BG-17) must be provided.",
    de="Bei Überweisung (30, 58) muss die Gruppe CREDIT TRANSFER (BG-17) übermittelt werden.",
)
@one_cii_payment_code
def br_de_23_a(node: etree._Element) -> bool:
    return _has(node, "ram:PayeePartyCreditorFinancialAccount")


@_transfer.check(
    "BR-DE-23-b",
    _F,
    terms=("BT-81", "BG-18", "BG-19"),
    en="With a credit transfer code (30, 58) neither card (BG-18) nor direct debit (BG-19) may be provided.",
    de="Bei Überweisung (30, 58) dürfen BG-18 und BG-19 nicht übermittelt werden.",
)
@one_cii_payment_code
def br_de_23_b(node: etree._Element) -> bool:
    return not _has(node, "ram:ApplicableTradeSettlementFinancialCard") and not _direct_debit_given(node)


_card = CII_CIUS.context(_payment_means("48", "54", "55"))


@_card.check(
    "BR-DE-24-a",
    _F,
    terms=("BT-81", "BG-18"),
    en="With a card payment code (48, 54, 55) the payment card group (BG-18) must be provided.",
    de="Bei Kartenzahlung (48, 54, 55) muss die Gruppe PAYMENT CARD INFORMATION (BG-18) übermittelt werden.",
)
@one_cii_payment_code
def br_de_24_a(node: etree._Element) -> bool:
    return _has(node, "ram:ApplicableTradeSettlementFinancialCard")


@_card.check(
    "BR-DE-24-b",
    _F,
    terms=("BT-81", "BG-17", "BG-19"),
    en="With a card payment code (48, 54, 55) neither credit transfer (BG-17) nor direct debit (BG-19) may be given.",
    de="Bei Kartenzahlung (48, 54, 55) dürfen BG-17 und BG-19 nicht übermittelt werden.",
)
@one_cii_payment_code
def br_de_24_b(node: etree._Element) -> bool:
    return not _has(node, "ram:PayeePartyCreditorFinancialAccount") and not _direct_debit_given(node)


_debit = CII_CIUS.context(_payment_means("59"))


@_debit.check(
    "BR-DE-20",
    _W,
    terms=("BT-91", "BT-81"),
    en="With SEPA direct debit (code 59) the debited account identifier (BT-91) should be a valid IBAN.",
    de="Bei SEPA-Lastschrift (Code 59) soll die Kennung des zu belastenden Kontos (BT-91) eine korrekte IBAN sein.",
)
@one_cii_payment_code
def br_de_20(node: etree._Element) -> bool:
    return _norm(node, "ram:TypeCode") != "59" or _iban(node, "ram:PayerPartyDebtorFinancialAccount/ram:IBANID")


@_debit.check(
    "BR-DE-25-a",
    _F,
    terms=("BT-81", "BG-19"),
    en="With a direct debit code (59) the direct debit group (BG-19) must be provided.",
    de="Bei Lastschrift (59) muss die Gruppe DIRECT DEBIT (BG-19) übermittelt werden.",
)
@one_cii_payment_code
def br_de_25_a(node: etree._Element) -> bool:
    return _direct_debit_given(node)


@_debit.check(
    "BR-DE-25-b",
    _F,
    terms=("BT-81", "BG-17", "BG-18"),
    en="With a direct debit code (59) neither credit transfer (BG-17) nor card (BG-18) may be provided.",
    de="Bei Lastschrift (59) dürfen BG-17 und BG-18 nicht übermittelt werden.",
)
@one_cii_payment_code
def br_de_25_b(node: etree._Element) -> bool:
    return not any(
        _has(node, path)
        for path in (
            "ram:PayeePartyCreditorFinancialAccount",
            "ram:PayeeSpecifiedCreditorFinancialInstitution",
            "ram:PayerSpecifiedDebtorFinancialInstitution",
            "ram:ApplicableTradeSettlementFinancialCard",
        )
    )


# --- VAT breakdown, delivery date, line prices ----------------------------------------------------

_vat_breakdown = CII_CIUS.context(f"{_SETTLEMENT}/ram:ApplicableTradeTax")


@_vat_breakdown.check(
    "BR-DE-14",
    _F,
    terms=("BT-119",),
    en="The VAT category rate (BT-119) must be provided.",
    de="Der Steuersatz der Umsatzsteuerkategorie (BT-119) muss übermittelt werden.",
)
def br_de_14(node: etree._Element) -> bool:
    return nonblank(_all(node, "ram:RateApplicablePercent"))


_transaction = CII_CIUS.context(_TRANSACTION)


_DELIVERY_DATE = cii_steps(
    "ram:ApplicableHeaderTradeDelivery/ram:ActualDeliverySupplyChainEvent/ram:OccurrenceDateTime"
)
_INVOICE_PERIOD = cii_steps("ram:ApplicableHeaderTradeSettlement/ram:BillingSpecifiedPeriod")
_LINE_ITEM = _q("ram:IncludedSupplyChainTradeLineItem")
_LINE_PERIOD = cii_steps("ram:SpecifiedLineTradeSettlement/ram:BillingSpecifiedPeriod")


@_transaction.check(
    "BR-DE-TMP-32",
    Flag.INFORMATION,
    terms=("BT-72", "BG-14", "BG-26"),
    en="An invoice should give the delivery date (BT-72), an invoicing period (BG-14) or a period per line (BG-26).",
    de="Eine Rechnung sollte BT-72, BG-14 oder in jeder Position BG-26 zur Angabe des Leistungsdatums enthalten.",
)
def br_de_tmp_32(node: etree._Element) -> bool:
    if child_path(node, _DELIVERY_DATE) or child_path(node, _INVOICE_PERIOD):
        return True
    return all(child_path(line, _LINE_PERIOD) for line in child_elements(node, _LINE_ITEM))


_line = CII_CIUS.context(f"{_TRANSACTION}/ram:IncludedSupplyChainTradeLineItem")


_LINE_AGREEMENT = _q("ram:SpecifiedLineTradeAgreement")
_GROSS_BASE_QUANTITY = cii_steps("ram:GrossPriceProductTradePrice/ram:BasisQuantity")
_NET_BASE_QUANTITY = cii_steps("ram:NetPriceProductTradePrice/ram:BasisQuantity")


@_line.check(
    "BR-TMP-3",
    _F,
    terms=("BT-149", "BT-150"),
    en="If gross and net price both carry a base quantity (BT-149), values and units (BT-150) must be identical.",
    de="Haben Brutto- und Nettopreis eine Basismenge (BT-149), müssen Werte und Einheiten (BT-150) übereinstimmen.",
)
def br_tmp_3(node: etree._Element) -> bool:
    children = children_reader()
    agreements = children(node).get(_LINE_AGREEMENT, _NONE)  # read once for both prices
    gross = further(children, agreements, _GROSS_BASE_QUANTITY)
    if not gross:
        return True
    net = further(children, agreements, _NET_BASE_QUANTITY)
    if not net:
        return True
    # Untyped on both sides: the quantities compare as strings, so "1" and "1.0" differ.
    if not any(string_value(g) == string_value(n) for g in gross for n in net):
        return False
    gross_units = [u for g in gross if (u := g.get("unitCode")) is not None]
    net_units = [u for n in net if (u := n.get("unitCode")) is not None]
    return not (net_units and gross_units) or any(g == n for g in gross_units for n in net_units)
