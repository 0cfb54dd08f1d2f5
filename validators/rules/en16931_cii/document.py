"""EN 16931 CII model: presence and consistency rules of the document, its parties and lines.

BR-01 … BR-65 (except the amount rules in ``amounts.py``), BR-CO-04/09/15/18 … 27 and the
document-wide VAT category rules (BR-S-01, BR-Z-01, …, BR-B-01/02).
"""

from __future__ import annotations

import json
from pathlib import Path

from lxml import etree

from validators.rules._dynamic import opt
from validators.rules._engine import Fail, Flag
from validators.rules.en16931_cii._document import anywhere, document_fact, header, line_facts
from validators.rules.en16931_cii._patterns import (
    ADDITIONAL_DOCUMENT,
    CARD,
    CREDIT_TRANSFER_ACCOUNT,
    DELIVERY,
    DIRECT_DEBIT_MEANS,
    INVOICE,
    INVOICE_PERIOD,
    ITEM_ATTRIBUTE,
    ITEM_CLASSIFICATION,
    LINE,
    LINE_PERIOD,
    PAYEE,
    PAYMENT_MEANS,
    PRECEDING_INVOICE,
    SELLER,
    TAX_REPRESENTATIVE,
    VAT_IDENTIFIER,
)
from validators.rules.en16931_cii._values import (
    as_decimal,
    as_double,
    below,
    below_first,
    cents,
    child_elements,
    children_reader,
    dadd,
    first_child,
    further,
    ram,
    rsm,
    text,
    udt,
)
from validators.rules.en16931_cii.amounts import is_vat_with_code

__all__: list[str] = []

FATAL = Flag.FATAL

# Two-letter prefixes BR-CO-09 accepts (ISO 3166-1 alpha-2, plus EL, XI and 1A).
_VAT_PREFIXES: frozenset[str] = frozenset(
    json.loads((Path(__file__).with_name("vat_prefixes.json")).read_text(encoding="utf-8"))["prefixes"]
)

_TRANSACTION = rsm.SupplyChainTradeTransaction
_SELLER = ram.SellerTradeParty
_ADDRESS = ram.PostalTradeAddress
_COUNTRY_ID = ram.CountryID
_ID = ram.ID
_XML_SPACE = " \t\r\n"


def _nonblank(el: etree._Element) -> bool:
    """``normalize-space(el) != ''``: the value holds something besides the four XML whitespace characters."""
    return text(el).strip(_XML_SPACE) != ""


def _filled_in(found: list[etree._Element], what: str = "element") -> bool:
    """``normalize-space(path) != ''`` on the nodes ``found`` at a path: one, with some non-blank text; several
    are a ``DynamicError`` (normalize-space takes at most one item)."""
    node = opt(found, what)
    return node is not None and _nonblank(node)


def _filled(node: etree._Element, *tags: str) -> bool:
    """``_filled_in`` for the nodes the child steps ``tags`` select."""
    return _filled_in(below(node, *tags))


def _has(node: etree._Element, *tags: str) -> bool:
    if len(tags) == 1:
        return bool(child_elements(node, tags[0]))
    return below_first(node, *tags) is not None


def _first_below(parents: list[etree._Element], *tags: str) -> etree._Element | None:
    """The first node in document order that the child steps ``tags`` select from any of ``parents``."""
    for parent in parents:
        found = below(parent, *tags)
        if found:
            return found[0]
    return None


def _filled_below(parents: list[etree._Element], *tags: str) -> bool:
    """``_filled_in`` for the nodes ``parents/tags`` selects."""
    return _filled_in(further(children_reader(), parents, tags))


# --- the invoice as a whole ------------------------------------------------------------------


@INVOICE.check(
    "BR-01",
    FATAL,
    terms=("BT-24",),
    en="The specification identifier is missing.",
    de="Die Spezifikationskennung fehlt.",
)
def _br01(inv: etree._Element) -> bool:
    return _filled(inv, rsm.ExchangedDocumentContext, ram.GuidelineSpecifiedDocumentContextParameter, _ID)


@INVOICE.check("BR-02", FATAL, terms=("BT-1",), en="The invoice number is missing.", de="Die Rechnungsnummer fehlt.")
def _br02(inv: etree._Element) -> bool:
    return _filled(inv, rsm.ExchangedDocument, _ID)


_ISSUE_DATE = (rsm.ExchangedDocument, ram.IssueDateTime, udt.DateTimeString)


@INVOICE.check(
    "BR-03",
    FATAL,
    terms=("BT-2",),
    en="The invoice issue date (format 102) is missing.",
    de="Das Rechnungsdatum (Format 102) fehlt.",
)
def _br03(inv: etree._Element) -> bool:
    # rsm:ExchangedDocument/ram:IssueDateTime/udt:DateTimeString[@format='102']: the first one counts.
    found = next((d for d in below(inv, *_ISSUE_DATE) if d.get("format") == "102"), None)
    return found is not None and _nonblank(found)


@INVOICE.check(
    "BR-04", FATAL, terms=("BT-3",), en="The invoice type code is missing.", de="Der Code für den Rechnungstyp fehlt."
)
def _br04(inv: etree._Element) -> bool:
    return _filled(inv, rsm.ExchangedDocument, ram.TypeCode)


@INVOICE.check(
    "BR-05",
    FATAL,
    terms=("BT-5",),
    en="The invoice currency code is missing.",
    de="Der Code für die Rechnungswährung fehlt.",
)
def _br05(inv: etree._Element) -> bool:
    return _filled_below(header(inv).settlements, ram.InvoiceCurrencyCode)


@INVOICE.check("BR-06", FATAL, terms=("BT-27",), en="The seller name is missing.", de="Der Name des Verkäufers fehlt.")
def _br06(inv: etree._Element) -> bool:
    return _filled_below(header(inv).sellers, ram.Name)


@INVOICE.check("BR-07", FATAL, terms=("BT-44",), en="The buyer name is missing.", de="Der Name des Käufers fehlt.")
def _br07(inv: etree._Element) -> bool:
    return _filled_below(header(inv).buyers, ram.Name)


@INVOICE.check(
    "BR-08",
    FATAL,
    terms=("BG-5",),
    en="The seller postal address is missing.",
    de="Die Postanschrift des Verkäufers fehlt.",
)
def _br08(inv: etree._Element) -> bool:
    return _first_below(header(inv).sellers, _ADDRESS) is not None


@INVOICE.check(
    "BR-09",
    FATAL,
    terms=("BT-40",),
    en="The seller postal address has no country code.",
    de="Die Postanschrift des Verkäufers enthält keinen Ländercode.",
)
def _br09(inv: etree._Element) -> bool:
    return _filled_below(header(inv).sellers, _ADDRESS, _COUNTRY_ID)


@INVOICE.check(
    "BR-10",
    FATAL,
    terms=("BG-8",),
    en="The buyer postal address is missing.",
    de="Die Postanschrift des Käufers fehlt.",
)
def _br10(inv: etree._Element) -> bool:
    return _first_below(header(inv).buyers, _ADDRESS) is not None


@INVOICE.check(
    "BR-11",
    FATAL,
    terms=("BT-55",),
    en="The buyer postal address has no country code.",
    de="Die Postanschrift des Käufers enthält keinen Ländercode.",
)
def _br11(inv: etree._Element) -> bool:
    return _filled_below(header(inv).buyers, _ADDRESS, _COUNTRY_ID)


_LINE = ram.IncludedSupplyChainTradeLineItem


@INVOICE.check(
    "BR-16",
    FATAL,
    terms=("BG-25",),
    en="The invoice has no invoice line.",
    de="Die Rechnung enthält keine Rechnungsposition.",
)
def _br16(inv: etree._Element) -> bool:
    return bool(anywhere(inv, _LINE))


def _first_address_has_scheme(parties: list[etree._Element]) -> bool:
    """The first electronic address of the first party carries a scheme, or the party has none."""
    if not parties:
        return True
    address = first_child(parties[0], ram.URIUniversalCommunication)
    if address is None:
        return True
    uri = first_child(address, ram.URIID)
    return uri is not None and uri.get("schemeID", "").strip(_XML_SPACE) != ""


@INVOICE.check(
    "BR-62",
    FATAL,
    terms=("BT-34",),
    en="The seller electronic address has no scheme identifier.",
    de="Die elektronische Adresse des Verkäufers hat keine Schemakennung.",
)
def _br62(inv: etree._Element) -> bool:
    return _first_address_has_scheme(header(inv).sellers)


@INVOICE.check(
    "BR-63",
    FATAL,
    terms=("BT-49",),
    en="The buyer electronic address has no scheme identifier.",
    de="Die elektronische Adresse des Käufers hat keine Schemakennung.",
)
def _br63(inv: etree._Element) -> bool:
    return _first_address_has_scheme(header(inv).buyers)


_SUMMATION = ram.SpecifiedTradeSettlementHeaderMonetarySummation
_TAX_TOTAL = ram.TaxTotalAmount


def _decimals_of(summaries: list[etree._Element], tag: str, currency: str | None = None) -> list[object]:
    """``//summation/xs:decimal(tag)``: one value per summation that has the element (None: not castable)."""
    out: list[object] = []
    for summary in summaries:
        found = child_elements(summary, tag)
        if currency is not None:
            found = [el for el in found if el.get("currencyID") == currency]
        if found:
            out.append(as_decimal(text(found[0])))
    return out


@INVOICE.check(
    "BR-CO-15",
    FATAL,
    terms=("BT-112", "BT-109", "BT-110"),
    en="Invoice total with VAT must equal the total without VAT plus the total VAT amount.",
    de="Gesamtbetrag mit USt muss Gesamtbetrag ohne USt plus USt-Gesamtbetrag sein.",
)
def _brco15(inv: etree._Element) -> bool | Fail:
    summaries = anywhere(inv, _SUMMATION)
    grand = _decimals_of(summaries, ram.GrandTotalAmount)
    basis = _decimals_of(summaries, ram.TaxBasisTotalAmount)
    # The alternative outside the per-currency condition: total with VAT equals total without VAT.
    for g in grand:
        if g is not None and g in basis:
            return True  # then no currency can fail
    settlements = header(inv).settlements
    own_totals = [t for s in settlements for t in below(s, _SUMMATION, _TAX_TOTAL)]
    for currency_el in [c for s in settlements for c in child_elements(s, ram.InvoiceCurrencyCode)]:
        currency = text(currency_el)
        in_currency = [el for el in own_totals if el.get("currencyID") == currency]
        vat = _decimals_of(summaries, _TAX_TOTAL, currency)
        ok = False
        if len(in_currency) == 1 and len(basis) == 1 and len(vat) == 1 and basis[0] is not None and vat[0] is not None:
            expected = cents(dadd(basis[0], vat[0]))  # type: ignore[arg-type]
            ok = any(g is not None and g == expected for g in grand)
        if not ok:
            return Fail(value=currency)
    return True


_PAYMENT_TERMS = ram.SpecifiedTradePaymentTerms


def _payment_terms_given(node: etree._Element) -> bool:
    """A payment due date or payment terms text, i.e. ``boolean(//ram:SpecifiedTradePaymentTerms/ram:DueDateDateTime
    | //ram:SpecifiedTradePaymentTerms/ram:Description)``, from the tag index (libxml2 would walk the whole tree)."""
    for tag in (ram.DueDateDateTime, ram.Description):
        for el in anywhere(node, tag):
            parent = el.getparent()
            if parent is not None and parent.tag == _PAYMENT_TERMS:
                return True
    return False


@INVOICE.check(
    "BR-CO-25",
    FATAL,
    terms=("BT-115", "BT-9", "BT-20"),
    en="A positive amount due requires a payment due date or payment terms.",
    de="Ein positiver fälliger Betrag erfordert ein Fälligkeitsdatum oder Zahlungsbedingungen.",
)
def _brco25(inv: etree._Element) -> bool:
    found = anywhere(inv, ram.DuePayableAmount)
    # number(): NaN (never positive) where absent or not a number.
    due = as_double(text(found[0])) if found else None
    return not (due is not None and due > 0) or _payment_terms_given(inv)


_CATEGORY_CODE = ram.CategoryCode
_TAX = ram.ApplicableTradeTax
_LINE_SETTLEMENT = ram.SpecifiedLineTradeSettlement
_HEADER_SETTLEMENT = ram.ApplicableHeaderTradeSettlement
_CATEGORY_TAX = ram.CategoryTradeTax


def _category_codes(root: etree._Element) -> dict[str, list[etree._Element]]:
    """Every ``ram:CategoryCode`` of the document by its string value, in document order."""
    found: dict[str, list[etree._Element]] = {}
    for code_el in anywhere(root, _CATEGORY_CODE):
        found.setdefault(text(code_el), []).append(code_el)
    return found


def _count_categories(root: etree._Element) -> dict[str, tuple[int, int, int]]:
    """Per VAT category code: how many line taxes, breakdowns and allowance/charge taxes carry it.

    The official tests count ``//…/ram:ApplicableTradeTax[ram:CategoryCode='X']`` elements, so an
    element with the same code twice counts once. Eleven rules of the invoice ask this of the same
    document: within a check it is counted once.
    """
    counts = {}
    for code, code_elements in document_fact(root, _category_codes).items():
        lines = breakdowns = allowances = 0
        for holder in {code_el.getparent() for code_el in code_elements}:
            if holder is None:
                continue
            if holder.tag == _CATEGORY_TAX:
                allowances += 1
            elif holder.tag == _TAX:
                grand = holder.getparent()
                if grand is not None and grand.tag == _LINE_SETTLEMENT:
                    lines += 1
                elif grand is not None and grand.tag == _HEADER_SETTLEMENT:
                    breakdowns += 1
        counts[code] = (lines, breakdowns, allowances)
    return counts


def _category_counts(inv: etree._Element, code: str) -> tuple[int, int, int]:
    """How many line taxes, breakdowns and allowance/charge taxes carry the VAT category code."""
    return document_fact(inv, _count_categories).get(code, (0, 0, 0))


def _at_least_one_breakdown(inv: etree._Element, code: str) -> bool:
    """The S/L/M form: lines and allowances/charges of the category each need, counted together
    with the breakdowns of that category, at least two elements (as the official test counts)."""
    lines, header, allowances = _category_counts(inv, code)
    return (lines + header >= 2 or not lines) and (allowances + header >= 2 or not allowances)


def _exactly_one_breakdown(inv: etree._Element, code: str) -> bool:
    """The Z/E/AE/K/G form: the category is absent everywhere, or used and broken down exactly once."""
    lines, header, allowances = _category_counts(inv, code)
    if not header and not lines and not allowances:
        return True
    return header == 1 and bool(lines or allowances)


def _breakdown_once_if_present(inv: etree._Element, code: str) -> bool:
    """The O form: a breakdown of the category, if any, is the only one and is used by something."""
    lines, header, allowances = _category_counts(inv, code)
    return not header or (header == 1 and bool(lines or allowances))


def _register_presence(rule_id: str, code: str, name_en: str, name_de: str, form: str) -> None:
    tests = {"at_least": _at_least_one_breakdown, "exactly": _exactly_one_breakdown, "once": _breakdown_once_if_present}
    test = tests[form]
    quantity_en = "at least one" if form == "at_least" else "exactly one"
    quantity_de = "mindestens eine" if form == "at_least" else "genau eine"

    @INVOICE.check(
        rule_id,
        FATAL,
        terms=("BT-151", "BT-95", "BT-102", "BT-118"),
        en=f"Items with VAT category {code} ({name_en}) require {quantity_en} VAT breakdown of that category.",
        de=f"Beträge der USt-Kategorie {code} ({name_de}) erfordern {quantity_de} Aufschlüsselung dieser Kategorie.",
    )
    def _presence(inv: etree._Element) -> bool:
        return test(inv, code)


for _rule, _code, _en, _de, _form in (
    ("BR-S-01", "S", "standard rated", "Normalsatz", "at_least"),
    ("BR-Z-01", "Z", "zero rated", "Nullsatz", "exactly"),
    ("BR-E-01", "E", "exempt", "steuerbefreit", "exactly"),
    ("BR-AE-01", "AE", "reverse charge", "Umkehrung der Steuerschuld", "exactly"),
    ("BR-IC-01", "K", "intra-community supply", "innergemeinschaftliche Lieferung", "exactly"),
    ("BR-G-01", "G", "export outside the EU", "Ausfuhr außerhalb der EU", "exactly"),
    ("BR-O-01", "O", "not subject to VAT", "nicht steuerbar", "once"),
    ("BR-AF-01", "L", "IGIC", "IGIC", "at_least"),
    ("BR-AG-01", "M", "IPSI", "IPSI", "at_least"),
):
    _register_presence(_rule, _code, _en, _de, _form)


@INVOICE.check(
    "BR-B-01",
    FATAL,
    terms=("BT-151", "BT-95", "BT-102"),
    en="Split payment (VAT category B) is only allowed in domestic Italian invoices.",
    de="Split Payment (USt-Kategorie B) ist nur in inländischen italienischen Rechnungen zulässig.",
)
def _brb01(inv: etree._Element) -> bool:
    if "B" not in document_fact(inv, _category_codes):
        return True
    return all(text(country) == "IT" for country in inv.iter(_COUNTRY_ID))


@INVOICE.check(
    "BR-B-02",
    FATAL,
    terms=("BT-151", "BT-95", "BT-102"),
    en="An invoice with split payment (B) must not also use the standard rate (S).",
    de="Eine Rechnung mit Split Payment (B) darf nicht zugleich den Normalsatz (S) verwenden.",
)
def _brb02(inv: etree._Element) -> bool:
    codes = document_fact(inv, _category_codes)
    return not ("B" in codes and "S" in codes)


# --- invoice lines ---------------------------------------------------------------------------


@LINE.check(
    "BR-21",
    FATAL,
    terms=("BT-126",),
    en="The invoice line has no line identifier.",
    de="Die Rechnungsposition hat keine Positionskennung.",
)
def _br21(line: etree._Element) -> bool:
    return _filled_in(line_facts(line).line_ids, "line identifier")


@LINE.check(
    "BR-22",
    FATAL,
    terms=("BT-129",),
    en="The invoice line has no invoiced quantity.",
    de="Die Rechnungsposition hat keine Menge.",
)
def _br22(line: etree._Element) -> bool:
    return bool(line_facts(line).quantities)


@LINE.check(
    "BR-23",
    FATAL,
    terms=("BT-130",),
    en="The invoiced quantity has no unit of measure code.",
    de="Die Menge der Rechnungsposition hat keine Maßeinheit.",
)
def _br23(line: etree._Element) -> bool:
    return any(q.get("unitCode") is not None for q in line_facts(line).quantities)


@LINE.check(
    "BR-24",
    FATAL,
    terms=("BT-131",),
    en="The invoice line has no net amount.",
    de="Die Rechnungsposition hat keinen Nettobetrag.",
)
def _br24(line: etree._Element) -> bool:
    return bool(line_facts(line).net_amounts)


@LINE.check(
    "BR-25",
    FATAL,
    terms=("BT-153",),
    en="The invoice line has no item name.",
    de="Die Rechnungsposition hat keinen Artikelnamen.",
)
def _br25(line: etree._Element) -> bool:
    return _filled_in(line_facts(line).names, "item name")


@LINE.check(
    "BR-26",
    FATAL,
    terms=("BT-146",),
    en="The invoice line has no item net price.",
    de="Die Rechnungsposition hat keinen Nettopreis.",
)
def _br26(line: etree._Element) -> bool:
    return bool(line_facts(line).net_prices)


def _any_not_negative(found: list[etree._Element]) -> bool:
    """``path >= 0`` as a general comparison: some value, cast to xs:double, is not negative."""
    for el in found:
        value = as_double(text(el))
        if value is not None and value >= 0:
            return True
    return False


@LINE.check(
    "BR-27",
    FATAL,
    terms=("BT-146",),
    en="The item net price must not be negative.",
    de="Der Nettopreis darf nicht negativ sein.",
)
def _br27(line: etree._Element) -> bool:
    return _any_not_negative(line_facts(line).net_prices)


@LINE.check(
    "BR-28",
    FATAL,
    terms=("BT-148",),
    en="The item gross price must not be negative.",
    de="Der Bruttopreis darf nicht negativ sein.",
)
def _br28(line: etree._Element) -> bool:
    gross = line_facts(line).gross_prices
    return not gross or _any_not_negative(gross)


@LINE.check(
    "BR-64",
    FATAL,
    terms=("BT-157",),
    en="The item standard identifier has no scheme identifier.",
    de="Die Artikelkennung nach Schema hat keine Schemakennung.",
)
def _br64(line: etree._Element) -> bool:
    global_ids = line_facts(line).global_ids
    return not global_ids or global_ids[0].get("schemeID", "").strip(_XML_SPACE) != ""


@LINE.check(
    "BR-CO-04",
    FATAL,
    terms=("BT-151",),
    en="The invoice line has no VAT category code.",
    de="Die Rechnungsposition hat keinen USt-Kategoriecode.",
)
def _brco04(line: etree._Element) -> bool:
    return is_vat_with_code(line_facts(line).taxes)


def _any_breakdown(root: etree._Element) -> bool:
    """``boolean(//rsm:SupplyChainTradeTransaction/ram:ApplicableHeaderTradeSettlement/ram:ApplicableTradeTax)``."""
    for tax in anywhere(root, _TAX):
        settlement = tax.getparent()
        if settlement is not None and settlement.tag == _HEADER_SETTLEMENT:
            transaction = settlement.getparent()
            if transaction is not None and transaction.tag == _TRANSACTION:
                return True
    return False


@LINE.check(
    "BR-CO-18",
    FATAL,
    terms=("BG-23",),
    en="The invoice has no VAT breakdown.",
    de="Die Rechnung enthält keine USt-Aufschlüsselung.",
)
def _brco18(line: etree._Element) -> bool:
    return document_fact(line, _any_breakdown)


# --- item details, parties, payment ----------------------------------------------------------


@ITEM_CLASSIFICATION.check(
    "BR-65",
    FATAL,
    terms=("BT-158",),
    en="The item classification identifier has no scheme identifier.",
    de="Die Artikelklassifizierung hat keine Schemakennung.",
)
def _br65(classification: etree._Element) -> bool:
    code = first_child(classification, ram.ClassCode)
    return code is None or code.get("listID", "").strip(_XML_SPACE) != ""


@ADDITIONAL_DOCUMENT.check(
    "BR-52",
    FATAL,
    terms=("BT-122",),
    en="The additional supporting document has no reference.",
    de="Das rechnungsbegründende Dokument hat keine Kennung.",
)
def _br52(document: etree._Element) -> bool:
    return _filled(document, ram.IssuerAssignedID)


@CARD.check(
    "BR-51",
    FATAL,
    terms=("BT-87",),
    en="At most the first 6 and last 4 digits of the card number may be given (10 characters).",
    de="Von der Kartennummer dürfen höchstens die ersten 6 und letzten 4 Stellen angegeben werden.",
)
def _br51(card: etree._Element) -> bool:
    number = first_child(card, _ID)
    return number is None or len(text(number)) <= 10


def _account_identified(account: etree._Element) -> bool:
    return _has(account, ram.IBANID) or _has(account, ram.ProprietaryID)


@CREDIT_TRANSFER_ACCOUNT.check(
    "BR-50",
    FATAL,
    terms=("BT-84",),
    en="Credit transfer information requires a payment account identifier.",
    de="Angaben zur Überweisung erfordern eine Kontokennung.",
)
def _br50(account: etree._Element) -> bool:
    return _account_identified(account)


@CREDIT_TRANSFER_ACCOUNT.check(
    "BR-61",
    FATAL,
    terms=("BT-81", "BT-84"),
    en="A credit transfer (codes 30, 58) requires a payment account identifier.",
    de="Eine Überweisung (Codes 30, 58) erfordert eine Kontokennung.",
)
def _br61(account: etree._Element) -> bool:
    return _account_identified(account)


@DELIVERY.check(
    "BR-57",
    FATAL,
    terms=("BT-80",),
    en="The deliver-to address has no country code.",
    de="Die Lieferanschrift hat keinen Ländercode.",
)
def _br57(delivery: etree._Element) -> bool:
    ship_to = ram.ShipToTradeParty
    return not _has(delivery, ship_to, _ADDRESS) or _filled(delivery, ship_to, _ADDRESS, _COUNTRY_ID)


_START = ram.StartDateTime
_END = ram.EndDateTime
_DATE_TIME = udt.DateTimeString


def _period_in_order(period: etree._Element) -> bool:
    """End >= start, compared as strings (format 102 only), unless one of them is missing."""
    start_groups = child_elements(period, _START)
    end_groups = child_elements(period, _END)
    if not start_groups or not end_groups:
        return True
    starts = [text(d) for g in start_groups for d in child_elements(g, _DATE_TIME) if d.get("format") == "102"]
    for g in end_groups:
        for d in child_elements(g, _DATE_TIME):
            if d.get("format") == "102":
                end = text(d)
                for start in starts:
                    if end >= start:
                        return True
    return False


def _period_has_a_date(period: etree._Element) -> bool:
    return bool(child_elements(period, _START)) or bool(child_elements(period, _END))


@LINE_PERIOD.check(
    "BR-30",
    FATAL,
    terms=("BT-134", "BT-135"),
    en="The line period end date must not be before its start date.",
    de="Das Ende des Positionszeitraums darf nicht vor dessen Beginn liegen.",
)
def _br30(period: etree._Element) -> bool:
    return _period_in_order(period)


@LINE_PERIOD.check(
    "BR-CO-20",
    FATAL,
    terms=("BG-26",),
    en="A line period needs a start date or an end date.",
    de="Ein Positionszeitraum braucht ein Anfangs- oder Enddatum.",
)
def _brco20(period: etree._Element) -> bool:
    return _period_has_a_date(period)


@INVOICE_PERIOD.check(
    "BR-29",
    FATAL,
    terms=("BT-73", "BT-74"),
    en="The invoicing period end date must not be before its start date.",
    de="Das Ende des Abrechnungszeitraums darf nicht vor dessen Beginn liegen.",
)
def _br29(period: etree._Element) -> bool:
    return _period_in_order(period)


@INVOICE_PERIOD.check(
    "BR-CO-19",
    FATAL,
    terms=("BG-14",),
    en="An invoicing period needs a start date or an end date.",
    de="Ein Abrechnungszeitraum braucht ein Anfangs- oder Enddatum.",
)
def _brco19(period: etree._Element) -> bool:
    return _period_has_a_date(period)


@ITEM_ATTRIBUTE.check(
    "BR-54",
    FATAL,
    terms=("BT-160", "BT-161"),
    en="An item attribute needs a name and a value.",
    de="Ein Artikelattribut braucht einen Namen und einen Wert.",
)
def _br54(attribute: etree._Element) -> bool:
    return _has(attribute, ram.Description) and _has(attribute, ram.Value)


def _shares_value(left: list[etree._Element], right: list[etree._Element]) -> bool:
    """General comparison of two node sequences: some pair has equal string values."""
    values = {text(el) for el in right}
    return any(text(el) in values for el in left)


@PAYEE.check(
    "BR-17",
    FATAL,
    terms=("BT-59",),
    en="A payee different from the seller needs a name (and must not repeat the seller's name or ids).",
    de="Ein vom Verkäufer abweichender Zahlungsempfänger braucht einen eigenen Namen.",
)
def _br17(payee: etree._Element) -> bool:
    name = ram.Name
    if not _has(payee, name):
        return False
    transaction = payee.getparent()
    transaction = transaction.getparent() if transaction is not None else None
    if transaction is None:
        return True
    sellers = below(transaction, ram.ApplicableHeaderTradeAgreement, _SELLER)
    legal_id = (ram.SpecifiedLegalOrganization, _ID)

    def seller_values(*tags: str) -> list[etree._Element]:
        return [el for seller in sellers for el in below(seller, *tags)]

    return not (
        _shares_value(below(payee, name), seller_values(name))
        or _shares_value(below(payee, _ID), seller_values(_ID))
        or _shares_value(below(payee, *legal_id), seller_values(*legal_id))
    )


@PAYMENT_MEANS.check(
    "BR-49",
    FATAL,
    terms=("BT-81",),
    en="The payment instruction has no payment means type code.",
    de="Die Zahlungsanweisung hat keinen Code für die Zahlungsart.",
)
def _br49(means: etree._Element) -> bool:
    return _has(means, ram.TypeCode)


@DIRECT_DEBIT_MEANS.check(
    "BR-CO-27",
    FATAL,
    terms=("BT-84",),
    en="Either the IBAN or a proprietary account identifier must be given, not both.",
    de="Entweder IBAN oder proprietäre Kontokennung ist anzugeben, nicht beides.",
)
def _brco27(means: etree._Element) -> bool:
    account = ram.PayeePartyCreditorFinancialAccount
    iban = _has(means, account, ram.IBANID)
    proprietary = _has(means, account, ram.ProprietaryID)
    return iban != proprietary


@PRECEDING_INVOICE.check(
    "BR-55",
    FATAL,
    terms=("BT-25",),
    en="The preceding invoice reference is empty.",
    de="Der Verweis auf die vorausgegangene Rechnung ist leer.",
)
def _br55(reference: etree._Element) -> bool:
    return _filled(reference, ram.IssuerAssignedID)


def _vat_ids(party: etree._Element) -> list[etree._Element]:
    """``ram:SpecifiedTaxRegistration/ram:ID[@schemeID='VA']``."""
    return [i for i in below(party, ram.SpecifiedTaxRegistration, _ID) if i.get("schemeID") == "VA"]


@SELLER.check(
    "BR-CO-26",
    FATAL,
    terms=("BT-29", "BT-30", "BT-31"),
    en="The seller needs an identifier, a legal registration identifier or a VAT identifier.",
    de="Der Verkäufer braucht eine Kennung, eine Registernummer oder eine USt-IdNr.",
)
def _brco26(seller: etree._Element) -> bool:
    return (
        _has(seller, _ID)
        or _has(seller, ram.GlobalID)
        or _has(seller, ram.SpecifiedLegalOrganization, _ID)
        or bool(_vat_ids(seller))
    )


@TAX_REPRESENTATIVE.check(
    "BR-18",
    FATAL,
    terms=("BT-62",),
    en="The seller tax representative has no name.",
    de="Der Steuervertreter des Verkäufers hat keinen Namen.",
)
def _br18(party: etree._Element) -> bool:
    return _has(party, ram.Name)


@TAX_REPRESENTATIVE.check(
    "BR-19",
    FATAL,
    terms=("BG-12",),
    en="The seller tax representative has no postal address.",
    de="Der Steuervertreter des Verkäufers hat keine Postanschrift.",
)
def _br19(party: etree._Element) -> bool:
    return _has(party, _ADDRESS)


@TAX_REPRESENTATIVE.check(
    "BR-20",
    FATAL,
    terms=("BT-69",),
    en="The seller tax representative postal address has no country code.",
    de="Die Postanschrift des Steuervertreters hat keinen Ländercode.",
)
def _br20(party: etree._Element) -> bool:
    return _has(party, _ADDRESS, _COUNTRY_ID)


@TAX_REPRESENTATIVE.check(
    "BR-56",
    FATAL,
    terms=("BT-63",),
    en="The seller tax representative has no VAT identifier.",
    de="Der Steuervertreter des Verkäufers hat keine USt-IdNr.",
)
def _br56(party: etree._Element) -> bool:
    return _filled_in(_vat_ids(party), "VAT identifier")


@VAT_IDENTIFIER.check(
    "BR-CO-09",
    FATAL,
    terms=("BT-31", "BT-63", "BT-48"),
    en="A VAT identifier must start with a country prefix (ISO 3166-1 alpha-2; EL for Greece).",
    de="Eine USt-IdNr. muss mit einem Länderpräfix beginnen (ISO 3166-1 Alpha-2; EL für Griechenland).",
)
def _brco09(identifier: etree._Element) -> bool | Fail:
    value = text(identifier)
    return value[:2] in _VAT_PREFIXES or Fail(value=value)
