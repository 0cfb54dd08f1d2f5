"""PEPPOL-EN16931-R* rules that XRechnung 2.5.0 merges into its CII Schematron (Peppol BIS Billing 3.0.x).

Three patterns, as the merge produces them: the main one in Peppol's context order, then empty
elements, then the gross-price checks.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

from lxml import etree

from validators.rules._engine import Flag
from validators.rules._session import Children, children_reader, further, per_check
from validators.rules.en16931_cii._values import Names
from validators.rules.sets import XRECHNUNG_CII
from validators.rules.xrechnung._patterns import (
    CII_PEPPOL,
    CII_PEPPOL_EMPTY,
    CII_PEPPOL_GROSS_PRICE,
    cii_nodes,
    one_cii_payment_code,
)
from validators.rules.xrechnung._xpath2 import (
    add,
    any_number,
    blank_leaf,
    clark,
    decimal_or,
    decimal_or_none,
    div,
    mul,
    normalize_space,
    opt,
    round_half_up,
    string_value,
    text_children,
    within_slack,
    xs_decimal,
)

_q = clark(dict(XRECHNUNG_CII.namespaces))
_F = Flag.FATAL
_SLACK = ("xrechnung-cii", "$slackValue")
_SETTLEMENT = "rsm:SupplyChainTradeTransaction/ram:ApplicableHeaderTradeSettlement"
_RAM = Names(XRECHNUNG_CII.namespaces["ram"])
_UDT = Names(XRECHNUNG_CII.namespaces["udt"])
_NO_ELEMENTS: list[etree._Element] = []
_ZERO = Decimal(0)
_ONE = Decimal(1)
_HUNDRED = Decimal(100)


_all = cii_nodes


def _has(node: etree._Element, path: str) -> bool:
    return bool(cii_nodes(node, path))


_DOCUMENT_CURRENCY = ("xrechnung-cii", "InvoiceCurrencyCode")
_TAX_CURRENCY = ("xrechnung-cii", "TaxCurrencyCode")


def _invoice_currencies(node: etree._Element) -> set[str]:
    """$documentCurrencyCode: the header invoice currency code elements' values.

    A global variable of the stylesheet, so it is read once per check (the set must not be changed).
    """
    return per_check(node, _DOCUMENT_CURRENCY, _read_document_currency)


def _tax_currencies(node: etree._Element) -> set[str]:
    """$taxCurrencyCode, as ``_invoice_currencies``."""
    return per_check(node, _TAX_CURRENCY, _read_tax_currency)


def _read_document_currency(node: etree._Element) -> set[str]:
    return _read_document_codes(node, "InvoiceCurrencyCode")


def _read_tax_currency(node: etree._Element) -> set[str]:
    return _read_document_codes(node, "TaxCurrencyCode")


def _read_document_codes(node: etree._Element, which: str) -> set[str]:
    root = node.getroottree().getroot()
    if root.tag != _q("rsm:CrossIndustryInvoice"):
        return set()
    return {string_value(c) for c in _all(root, f"{_SETTLEMENT}/ram:{which}")}


def _slack(node: etree._Element) -> Decimal:
    """$slackValue: half a unit for forints, two cents otherwise.

    A global variable of the stylesheet, so it is read once per check (R040, R120 ask for it per node).
    """
    return per_check(node, _SLACK, _read_slack)


def _read_slack(node: etree._Element) -> Decimal:
    return Decimal("0.5") if "HUF" in _invoice_currencies(node) else Decimal("0.02")


def _text_of(node: etree._Element, path: str) -> str:
    """normalize-space(path/text()) with an at-most-one text node."""
    texts = [t for found in _all(node, path) for t in text_children(found)]
    return normalize_space(opt(texts, "text node") or "")


# --- peppol-cii-pattern-1 ------------------------------------------------------------------------

_context = CII_PEPPOL.context("rsm:ExchangedDocumentContext")


@_context.check(
    "PEPPOL-EN16931-R001",
    _F,
    terms=("BT-23",),
    en="A business process (BT-23) must be provided.",
    de="Der Geschäftsprozess (BT-23) muss angegeben werden.",
)
def r001(node: etree._Element) -> bool:
    return _has(node, "ram:BusinessProcessSpecifiedDocumentContextParameter/ram:ID")


_settlement = CII_PEPPOL.context("ram:ApplicableHeaderTradeSettlement")
_TAX_TOTALS = "ram:SpecifiedTradeSettlementHeaderMonetarySummation/ram:TaxTotalAmount"


@_settlement.check(
    "PEPPOL-EN16931-R005",
    _F,
    terms=("BT-6", "BT-5"),
    en="The VAT accounting currency code must differ from the invoice currency code.",
    de="Der Code der Steuerwährung (BT-6) muss sich vom Rechnungswährungscode (BT-5) unterscheiden.",
)
def r005(node: etree._Element) -> bool:
    if not _has(node, "ram:TaxCurrencyCode"):
        return True
    return _text_of(node, "ram:TaxCurrencyCode") != _text_of(node, "ram:InvoiceCurrencyCode")


@_settlement.check(
    "PEPPOL-EN16931-R053",
    _F,
    terms=("BT-110",),
    en="At most one tax total amount may be in the invoice currency.",
    de="Höchstens ein Steuergesamtbetrag darf in der Rechnungswährung angegeben werden.",
)
def r053(node: etree._Element) -> bool:
    document = _invoice_currencies(node)
    return sum(1 for t in _all(node, _TAX_TOTALS) if t.get("currencyID") in document) <= 1


@_settlement.check(
    "PEPPOL-EN16931-R054",
    _F,
    terms=("BT-111", "BT-6"),
    en="Exactly one tax total amount in another currency is required when a VAT accounting currency is given.",
    de="Mit Steuerwährung (BT-6) ist genau ein Steuergesamtbetrag in anderer Währung anzugeben, sonst keiner.",
)
def r054(node: etree._Element) -> bool:
    document = _invoice_currencies(node)
    # ``@currencyID != $documentCurrencyCode``: true if the attribute differs from any code at all.
    others = sum(
        1
        for t in _all(node, _TAX_TOTALS)
        if (currency := t.get("currencyID")) is not None and any(currency != d for d in document)
    )
    return others == (1 if _has(node, "ram:TaxCurrencyCode") else 0)


@_settlement.check(
    "PEPPOL-EN16931-R055",
    _F,
    terms=("BT-110", "BT-111"),
    en="The VAT total and the VAT total in accounting currency must have the same sign.",
    de="Steuergesamtbetrag und Steuergesamtbetrag in Buchungswährung müssen dasselbe Vorzeichen haben.",
)
def r055(node: etree._Element) -> bool:
    document = _invoice_currencies(node)
    tax = _tax_currencies(node)
    totals = _all(node, _TAX_TOTALS)
    in_doc = [t for t in totals if t.get("currencyID") in document]
    if not (tax and in_doc):
        return True
    in_tax = [t for t in totals if t.get("currencyID") in tax]
    if any_number(in_tax, lambda v: v < 0) and any_number(in_doc, lambda v: v < 0):
        return True
    return any_number(in_tax, lambda v: v >= 0) and any_number(in_doc, lambda v: v >= 0)


_buyer = CII_PEPPOL.context("ram:BuyerTradeParty")


@_buyer.check(
    "PEPPOL-EN16931-R010",
    _F,
    terms=("BT-49",),
    en="The buyer electronic address (BT-49) must be provided.",
    de="Die elektronische Adresse des Erwerbers (BT-49) muss angegeben werden.",
)
def r010(node: etree._Element) -> bool:
    return _has(node, "ram:URIUniversalCommunication/ram:URIID")


_seller = CII_PEPPOL.context("ram:SellerTradeParty")


@_seller.check(
    "PEPPOL-EN16931-R020",
    _F,
    terms=("BT-34",),
    en="The seller electronic address (BT-34) must be provided.",
    de="Die elektronische Adresse des Verkäufers (BT-34) muss angegeben werden.",
)
def r020(node: etree._Element) -> bool:
    return _has(node, "ram:URIUniversalCommunication/ram:URIID")


_percent_without_base = CII_PEPPOL.context(
    "ram:SpecifiedTradeAllowanceCharge[ram:CalculationPercent and not(ram:BasisAmount)]"
)


@_percent_without_base.check(
    "PEPPOL-EN16931-R041",
    _F,
    terms=("BT-93", "BT-94", "BT-100", "BT-101", "BT-137", "BT-138", "BT-142", "BT-143"),
    en="An allowance/charge base amount must be provided when a percentage is provided.",
    de="Ist ein Prozentsatz für Abschlag/Zuschlag angegeben, muss auch der Grundbetrag angegeben werden.",
)
def r041(node: etree._Element) -> bool:
    return False


_base_without_percent = CII_PEPPOL.context(
    "ram:SpecifiedTradeAllowanceCharge[not(ram:CalculationPercent) and ram:BasisAmount]"
)


@_base_without_percent.check(
    "PEPPOL-EN16931-R042",
    _F,
    terms=("BT-93", "BT-94", "BT-100", "BT-101", "BT-137", "BT-138", "BT-142", "BT-143"),
    en="An allowance/charge percentage must be provided when a base amount is provided.",
    de="Ist ein Grundbetrag für Abschlag/Zuschlag angegeben, muss auch der Prozentsatz angegeben werden.",
)
def r042(node: etree._Element) -> bool:
    return False


def _indicator_ok(node: etree._Element) -> bool:
    return _text_of(node, "ram:ChargeIndicator/udt:Indicator") in ("true", "false")


_allowance_charge = CII_PEPPOL.context("ram:SpecifiedTradeAllowanceCharge")


@_allowance_charge.check(
    "PEPPOL-EN16931-R040",
    _F,
    terms=("BT-92", "BT-93", "BT-94", "BT-99", "BT-100", "BT-101"),
    en="An allowance/charge amount must equal base amount × percentage / 100 when both are given.",
    de="Der Betrag eines Abschlags/Zuschlags muss Grundbetrag × Prozentsatz / 100 entsprechen, sind beide angegeben.",
)
def r040(node: etree._Element) -> bool:
    group = children_reader()(node)  # the allowance/charge's children, read once
    percents = group.get(_RAM.CalculationPercent, _NO_ELEMENTS)
    bases = group.get(_RAM.BasisAmount, _NO_ELEMENTS)
    if not (percents and bases):
        return True
    amounts = group.get(_RAM.ActualAmount, _NO_ELEMENTS)
    actual = xs_decimal(string_value(opt(amounts, "amount"))) if amounts else _ZERO
    base = decimal_or(bases, None)
    percent = decimal_or(percents, None)
    assert base is not None and percent is not None  # both exist, checked above
    return within_slack(actual, div(mul(base, percent), _HUNDRED), _slack(node))


@_allowance_charge.check(
    "PEPPOL-EN16931-R043-1",
    _F,
    terms=("BG-20", "BG-21", "BG-27", "BG-28"),
    en="The allowance/charge indicator must be 'true' or 'false'.",
    de="Der Abschlags-/Zuschlagsindikator muss 'true' oder 'false' sein.",
)
def r043_1(node: etree._Element) -> bool:
    return _indicator_ok(node)


_price_allowance_charge = CII_PEPPOL.context("ram:AppliedTradeAllowanceCharge")


@_price_allowance_charge.check(
    "PEPPOL-EN16931-R043-2",
    _F,
    terms=("BT-147",),
    en="The allowance/charge indicator must be 'true' or 'false'.",
    de="Der Abschlags-/Zuschlagsindikator muss 'true' oder 'false' sein.",
)
def r043_2(node: etree._Element) -> bool:
    return _indicator_ok(node)


_direct_debit = CII_PEPPOL.context(
    "ram:SpecifiedTradeSettlementPaymentMeans[normalize-space(ram:TypeCode) = '49'"
    " or normalize-space(ram:TypeCode) = '59']"
)


@_direct_debit.check(
    "PEPPOL-EN16931-R061",
    _F,
    terms=("BT-89",),
    en="A mandate reference (BT-89) must be provided for direct debit.",
    de="Für Lastschriften muss die Mandatsreferenz (BT-89) angegeben werden.",
)
@one_cii_payment_code
def r061(node: etree._Element) -> bool:
    parent = node.getparent()
    return parent is not None and _has(parent, "ram:SpecifiedTradePaymentTerms/ram:DirectDebitMandateID")


def _line_period(which: str) -> str:
    period = f"ram:BillingSpecifiedPeriod/ram:{which}"
    return (
        f"rsm:SupplyChainTradeTransaction[ram:ApplicableHeaderTradeSettlement/{period}]"
        f"/ram:IncludedSupplyChainTradeLineItem/ram:SpecifiedLineTradeSettlement/{period}"
    )


def _line_and_header_dates(node: etree._Element, which: str) -> tuple[list[str], list[str]]:
    """Line and header ``udt:DateTimeString`` values; compared as strings (both are untyped)."""
    transaction = node.getparent().getparent().getparent().getparent()
    header = _all(transaction, f"ram:ApplicableHeaderTradeSettlement/ram:BillingSpecifiedPeriod/ram:{which}")
    line = [string_value(s) for s in _all(node, "udt:DateTimeString")]
    return line, [string_value(s) for h in header for s in _all(h, "udt:DateTimeString")]


_line_start = CII_PEPPOL.context(_line_period("StartDateTime"))


@_line_start.check(
    "PEPPOL-EN16931-R110",
    _F,
    terms=("BT-134", "BT-73"),
    en="The start date of a line period must lie within the invoice period.",
    de="Das Anfangsdatum des Positionszeitraums muss im Rechnungszeitraum liegen.",
)
def r110(node: etree._Element) -> bool:
    line, header = _line_and_header_dates(node, "StartDateTime")
    return any(a >= b for a in line for b in header)


_line_end = CII_PEPPOL.context(_line_period("EndDateTime"))


@_line_end.check(
    "PEPPOL-EN16931-R111",
    _F,
    terms=("BT-135", "BT-74"),
    en="The end date of a line period must lie within the invoice period.",
    de="Das Enddatum des Positionszeitraums muss im Rechnungszeitraum liegen.",
)
def r111(node: etree._Element) -> bool:
    line, header = _line_and_header_dates(node, "EndDateTime")
    return any(a <= b for a in line for b in header)


_line = CII_PEPPOL.context("ram:IncludedSupplyChainTradeLineItem")


_LINE_SETTLEMENT = _RAM.SpecifiedLineTradeSettlement
_LINE_AGREEMENT = _RAM.SpecifiedLineTradeAgreement
_LINE_DELIVERY = _RAM.SpecifiedLineTradeDelivery
_ALLOWANCE_CHARGE = _RAM.SpecifiedTradeAllowanceCharge
_CHARGE_INDICATOR = _RAM.ChargeIndicator
_INDICATOR = (_UDT.Indicator,)
_ACTUAL_AMOUNT = _RAM.ActualAmount
# The operand paths below the line's settlement, agreement and delivery groups.
_LINE_AMOUNT = (_RAM.SpecifiedTradeSettlementLineMonetarySummation, _RAM.LineTotalAmount)
_BILLED_QUANTITY = (_RAM.BilledQuantity,)
_NET_PRICE = (_RAM.NetPriceProductTradePrice, _RAM.ChargeAmount)
_BASE_QUANTITIES = (
    (_RAM.NetPriceProductTradePrice, _RAM.BasisQuantity),
    (_RAM.GrossPriceProductTradePrice, _RAM.BasisQuantity),
)


def _charge_totals(
    children: Callable[[etree._Element], Children], allowances_charges: list[etree._Element]
) -> tuple[Decimal, Decimal]:
    """Line charges (indicator ``true``) and allowances (``false``), each summed and rounded to cents."""
    amounts: dict[str, list[Decimal] | None] = {"true": None, "false": None}
    for ac in allowances_charges:
        group = children(ac)
        flag = opt(further(children, group.get(_CHARGE_INDICATOR, _NO_ELEMENTS), _INDICATOR), "charge indicator")
        indicator = normalize_space("" if flag is None else string_value(flag))
        if indicator in amounts:
            selected = amounts[indicator] if amounts[indicator] is not None else []
            selected.extend(xs_decimal(string_value(a)) for a in group.get(_ACTUAL_AMOUNT, _NO_ELEMENTS))
            amounts[indicator] = selected
    return _to_cents(amounts["true"]), _to_cents(amounts["false"])


def _to_cents(amounts: list[Decimal] | None) -> Decimal:
    """``if (selection) then round(sum(...) * 10 * 10) div 100 else 0``."""
    if amounts is None:
        return _ZERO
    return div(round_half_up(mul(add(*amounts), 10, 10)), Decimal(100))


def _base_quantity(children: Callable[[etree._Element], Children], agreements: list[etree._Element]) -> Decimal:
    """Net price base quantity, else gross price base quantity, where present and non-zero; else 1."""
    for path in _BASE_QUANTITIES:
        value = decimal_or(further(children, agreements, path), None)
        if value is not None and value != 0:
            return value
    return _ONE


@_line.check(
    "PEPPOL-EN16931-R120",
    Flag.WARNING,
    terms=("BT-131", "BT-129", "BT-146", "BT-149", "BT-136", "BT-141"),
    en="The line net amount must equal quantity × (net price / base quantity) + line charges − line allowances.",
    de="Der Nettobetrag der Position muss Menge × (Nettopreis / Basismenge) + Zuschläge − Abschläge entsprechen.",
)
def r120(node: etree._Element) -> bool:
    children = children_reader()
    line = children(node)
    settlements = line.get(_LINE_SETTLEMENT, _NO_ELEMENTS)
    agreements = line.get(_LINE_AGREEMENT, _NO_ELEMENTS)
    line_amount = decimal_or(further(children, settlements, _LINE_AMOUNT), _ZERO)
    quantity = decimal_or(further(children, line.get(_LINE_DELIVERY, _NO_ELEMENTS), _BILLED_QUANTITY), _ONE)
    price = decimal_or(further(children, agreements, _NET_PRICE), _ZERO)
    base_quantity = _base_quantity(children, agreements)
    allowances_charges = further(children, settlements, (_ALLOWANCE_CHARGE,))
    totals = _charge_totals(children, allowances_charges) if allowances_charges else None
    # Divided by exactly 1 the quotient is the price itself, rounded as ``div`` rounds it (to the
    # arithmetic's precision): only the value goes on, into ``mul``, ``add`` and the comparison.
    unit_price = add(price) if base_quantity == 1 else div(price, base_quantity)
    expected = mul(quantity, unit_price)
    if totals is not None:  # adding the zeros of no charges and allowances would leave the value as it is
        charges, allowances = totals
        expected = add(expected, charges, -allowances)
    return within_slack(line_amount, expected, _slack(node))


@_line.check(
    "PEPPOL-EN16931-R101",
    _F,
    terms=("BT-128",),
    en="A line referenced document may only be an invoiced object identifier (type code 130).",
    de="Ein Dokumentverweis auf Positionsebene ist nur als Objektkennung (Typcode 130) zulässig.",
)
def r101(node: etree._Element) -> bool:
    refs = _all(node, "ram:SpecifiedLineTradeSettlement/ram:AdditionalReferencedDocument")
    return not refs or any(string_value(c) == "130" for r in refs for c in _all(r, "ram:TypeCode"))


_price = CII_PEPPOL.context("ram:NetPriceProductTradePrice | ram:GrossPriceProductTradePrice")


@_price.check(
    "PEPPOL-EN16931-R121",
    _F,
    terms=("BT-149",),
    en="The item price base quantity (BT-149) must be greater than zero.",
    de="Die Basismenge zum Artikelpreis (BT-149) muss größer als null sein.",
)
def r121(node: etree._Element) -> bool:
    quantities = _all(node, "ram:BasisQuantity")
    if not quantities:
        return True
    value = decimal_or(quantities, None)
    return value is not None and value > 0


_base_quantity_unit = CII_PEPPOL.context(
    "ram:NetPriceProductTradePrice/ram:BasisQuantity[@unitCode]"
    " | ram:GrossPriceProductTradePrice/ram:BasisQuantity[@unitCode]"
)


@_base_quantity_unit.check(
    "PEPPOL-EN16931-R130",
    _F,
    terms=("BT-150", "BT-130"),
    en="The unit of the price base quantity must be the unit of the invoiced quantity.",
    de="Die Einheit der Basismenge muss der Einheit der abgerechneten Menge entsprechen.",
)
def r130(node: etree._Element) -> bool:
    agreement = node.getparent().getparent()
    line = agreement.getparent() if agreement is not None else None
    if line is None:
        return False
    billed = _all(line, "ram:SpecifiedLineTradeDelivery/ram:BilledQuantity")
    return any(b.get("unitCode") == node.get("unitCode") for b in billed)


# --- peppol-cii-pattern-0-a ----------------------------------------------------------------------

# The official context is ``//*[not(name() = 'ram:ApplicableHeaderTradeDelivery') and not(*) and
# not(normalize-space())]`` with an always-failing assert. It is the pattern's only context: the
# blank leaves are selected here (by libxml2, about as fast as listing every leaf) and the test
# checks the exemption, so it runs on the blank leaves only. The exemption compares the prefixed
# name as written in the document (name()), so a header delivery group under another prefix is not exempt.
_leaf = CII_PEPPOL_EMPTY.context("//*[not(*) and not(normalize-space())]")


@_leaf.check(
    "PEPPOL-EN16931-R008",
    _F,
    en="The document must not contain empty elements.",
    de="Das Dokument darf keine leeren Elemente enthalten.",
)
def r008(node: etree._Element) -> bool:
    local = etree.QName(node).localname
    name = f"{node.prefix}:{local}" if node.prefix else local
    return name == "ram:ApplicableHeaderTradeDelivery" or not blank_leaf(node)


# --- peppol-cii-pattern-0-b ----------------------------------------------------------------------

_gross = CII_PEPPOL_GROSS_PRICE.context(
    "rsm:SupplyChainTradeTransaction/ram:IncludedSupplyChainTradeLineItem"
    "/ram:SpecifiedLineTradeAgreement/ram:GrossPriceProductTradePrice"
)


@_gross.check(
    "PEPPOL-EN16931-R044",
    _F,
    terms=("BT-147",),
    en="Charges are not allowed on price level; the indicator must be 'false'.",
    de="Zuschläge auf Preisebene sind nicht zulässig; der Indikator muss 'false' sein.",
)
def r044(node: etree._Element) -> bool:
    if not _has(node, "ram:AppliedTradeAllowanceCharge/ram:ActualAmount"):
        return True
    return any(
        string_value(i) == "false"
        for i in _all(node, "ram:AppliedTradeAllowanceCharge/ram:ChargeIndicator/udt:Indicator")
    )


@_gross.check(
    "PEPPOL-EN16931-R046",
    _F,
    terms=("BT-146", "BT-147", "BT-148"),
    en="The item net price must equal gross price minus price discount when a gross price is given.",
    de="Der Nettopreis muss dem Bruttopreis abzüglich Preisnachlass entsprechen, wenn ein Bruttopreis angegeben ist.",
)
def r046(node: etree._Element) -> bool:
    if not _has(node, "ram:ChargeAmount"):
        return True
    agreement = node.getparent()
    net = decimal_or_none(_all(agreement, "ram:NetPriceProductTradePrice/ram:ChargeAmount"))
    gross = decimal_or_none(_all(node, "ram:ChargeAmount"))
    # u:decimalOrZero over the first amount of each price allowance.
    firsts = [a for ac in _all(node, "ram:AppliedTradeAllowanceCharge") for a in _all(ac, "ram:ActualAmount")[:1]]
    discount = decimal_or_none(firsts) if firsts else Decimal(0)
    if net is None or gross is None or discount is None:
        return False
    return net == add(gross, -discount)
