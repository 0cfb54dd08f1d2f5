"""PEPPOL-EN16931-R* rules that XRechnung 2.5.0 merges into its UBL Schematron (Peppol BIS Billing 3.0.x).

Two patterns, as the merge produces them: one for empty elements, one with the other whitelisted
rules in Peppol's context order (the allowance/charge contexts shadow each other on purpose).
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

from lxml import etree

from validators.rules._engine import Flag
from validators.rules._session import Children, child_elements, children_reader, per_check
from validators.rules.sets import XRECHNUNG_UBL
from validators.rules.xrechnung._patterns import (
    UBL_PEPPOL,
    UBL_PEPPOL_EMPTY,
    one_ubl_payment_code,
    ubl_nodes,
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
    xs_date_key,
    xs_decimal,
)

_q = clark(dict(XRECHNUNG_UBL.namespaces))
_INVOICE = _q("ubl:Invoice")
_LINE_EXTENSION_AMOUNT = _q("cbc:LineExtensionAmount")
_INVOICED_QUANTITY = _q("cbc:InvoicedQuantity")
_CREDITED_QUANTITY = _q("cbc:CreditedQuantity")
_PRICE = _q("cac:Price")
_PRICE_AMOUNT = _q("cbc:PriceAmount")
_BASE_QUANTITY = _q("cbc:BaseQuantity")
_ALLOWANCE_CHARGE = _q("cac:AllowanceCharge")
_CHARGE_INDICATOR = _q("cbc:ChargeIndicator")
_AMOUNT = _q("cbc:Amount")
_BASE_AMOUNT = _q("cbc:BaseAmount")
_MULTIPLIER = _q("cbc:MultiplierFactorNumeric")
_ZERO = Decimal(0)
_ONE = Decimal(1)
_NO_ELEMENTS: list[etree._Element] = []
_F = Flag.FATAL
_SLACK = ("xrechnung-ubl", "$slackValue")


_all = ubl_nodes


def _has(node: etree._Element, path: str) -> bool:
    return bool(ubl_nodes(node, path))


def _is_invoice(node: etree._Element) -> bool:
    """``/ubl-invoice:Invoice`` exists: the document element is an Invoice (not a CreditNote)."""
    return node.getroottree().getroot().tag == _INVOICE


def _slack(node: etree._Element) -> Decimal:
    """$slackValue: half a unit for forints, two cents otherwise.

    A global variable of the stylesheet, so it is read once per check (R040, R120 ask for it per node).
    """
    return per_check(node, _SLACK, _read_slack)


def _read_slack(node: etree._Element) -> Decimal:
    root = node.getroottree().getroot()
    huf = any(string_value(c) == "HUF" for c in _all(root, "cbc:DocumentCurrencyCode"))
    return Decimal("0.5") if huf else Decimal("0.02")


def _single_text(node: etree._Element) -> str:
    """normalize-space(text()) of the node itself."""
    return normalize_space(opt(text_children(node), "text node") or "")


# --- peppol-ubl-pattern-1 ------------------------------------------------------------------------

# The official context is ``//*[not(*) and not(normalize-space())]`` with an always-failing assert.
# libxml2 selects those leaves in about the time it takes to list every leaf, and the test (which
# says the same) then runs on the blank ones only, not on every leaf of the document.
_leaf = UBL_PEPPOL_EMPTY.context("//*[not(*) and not(normalize-space())]")


@_leaf.check(
    "PEPPOL-EN16931-R008",
    _F,
    en="The document must not contain empty elements.",
    de="Das Dokument darf keine leeren Elemente enthalten.",
)
def r008(node: etree._Element) -> bool:
    return not blank_leaf(node)


# --- peppol-ubl-pattern-2 ------------------------------------------------------------------------

_root = UBL_PEPPOL.context("cn:CreditNote | ubl:Invoice")


@_root.check(
    "PEPPOL-EN16931-R001",
    _F,
    terms=("BT-23",),
    en="A business process (BT-23) must be provided.",
    de="Der Geschäftsprozess (BT-23) muss angegeben werden.",
)
def r001(node: etree._Element) -> bool:
    return _has(node, "cbc:ProfileID")


@_root.check(
    "PEPPOL-EN16931-R053",
    _F,
    terms=("BT-110",),
    en="Exactly one tax total with tax subtotals must be provided.",
    de="Es muss genau eine Steuersumme mit Steueraufschlüsselung angegeben werden.",
)
def r053(node: etree._Element) -> bool:
    return sum(1 for t in _all(node, "cac:TaxTotal") if _has(t, "cac:TaxSubtotal")) == 1


@_root.check(
    "PEPPOL-EN16931-R054",
    _F,
    terms=("BT-111", "BT-6"),
    en="Exactly one tax total without subtotals must be provided when a VAT accounting currency is given, else none.",
    de="Mit Steuerwährung (BT-6) ist genau eine Steuersumme ohne Aufschlüsselung anzugeben, sonst keine.",
)
def r054(node: etree._Element) -> bool:
    without = sum(1 for t in _all(node, "cac:TaxTotal") if not _has(t, "cac:TaxSubtotal"))
    return without == (1 if _has(node, "cbc:TaxCurrencyCode") else 0)


def _tax_amounts_in(node: etree._Element, currency_path: str) -> list[etree._Element]:
    """TaxTotal/TaxAmount whose currencyID equals the document's normalised ``currency_path`` code.

    The rule reaches the code via ``../..`` from each amount, which is always this document element;
    it is only evaluated when there is an amount, as in the official predicate.
    """
    amounts = _all(node, "cac:TaxTotal/cbc:TaxAmount")
    if not amounts:
        return []
    code = opt(_all(node, currency_path), "currency code")
    wanted = normalize_space("" if code is None else string_value(code))
    return [amount for amount in amounts if amount.get("currencyID") == wanted]


@_root.check(
    "PEPPOL-EN16931-R055",
    _F,
    terms=("BT-110", "BT-111"),
    en="The VAT total and the VAT total in accounting currency must have the same sign.",
    de="Steuergesamtbetrag und Steuergesamtbetrag in Buchungswährung müssen dasselbe Vorzeichen haben.",
)
def r055(node: etree._Element) -> bool:
    if not _has(node, "cbc:TaxCurrencyCode"):
        return True
    in_tax = _tax_amounts_in(node, "cbc:TaxCurrencyCode")
    in_doc = _tax_amounts_in(node, "cbc:DocumentCurrencyCode")
    if any_number(in_tax, lambda v: v <= 0) and any_number(in_doc, lambda v: v <= 0):
        return True
    return any_number(in_tax, lambda v: v >= 0) and any_number(in_doc, lambda v: v >= 0)


_tax_currency = UBL_PEPPOL.context("cbc:TaxCurrencyCode")


@_tax_currency.check(
    "PEPPOL-EN16931-R005",
    _F,
    terms=("BT-6", "BT-5"),
    en="The VAT accounting currency code must differ from the invoice currency code.",
    de="Der Code der Steuerwährung (BT-6) muss sich vom Rechnungswährungscode (BT-5) unterscheiden.",
)
def r005(node: etree._Element) -> bool:
    parent = node.getparent()
    texts = (
        [t for c in _all(parent, "cbc:DocumentCurrencyCode") for t in text_children(c)] if parent is not None else []
    )
    return _single_text(node) != normalize_space(opt(texts, "text node") or "")


_buyer = UBL_PEPPOL.context("cac:AccountingCustomerParty/cac:Party")


@_buyer.check(
    "PEPPOL-EN16931-R010",
    _F,
    terms=("BT-49",),
    en="The buyer electronic address (BT-49) must be provided.",
    de="Die elektronische Adresse des Erwerbers (BT-49) muss angegeben werden.",
)
def r010(node: etree._Element) -> bool:
    return _has(node, "cbc:EndpointID")


_seller = UBL_PEPPOL.context("cac:AccountingSupplierParty/cac:Party")


@_seller.check(
    "PEPPOL-EN16931-R020",
    _F,
    terms=("BT-34",),
    en="The seller electronic address (BT-34) must be provided.",
    de="Die elektronische Adresse des Verkäufers (BT-34) muss angegeben werden.",
)
def r020(node: etree._Element) -> bool:
    return _has(node, "cbc:EndpointID")


def _allowance_charges(predicate: str) -> str:
    """Document- and line-level allowances/charges of Invoice and CreditNote, filtered by ``predicate``."""
    return " | ".join(
        f"{path}/cac:AllowanceCharge{predicate}"
        for path in ("ubl:Invoice", "ubl:Invoice/cac:InvoiceLine", "cn:CreditNote", "cn:CreditNote/cac:CreditNoteLine")
    )


_percent_without_base = UBL_PEPPOL.context(_allowance_charges("[cbc:MultiplierFactorNumeric and not(cbc:BaseAmount)]"))


@_percent_without_base.check(
    "PEPPOL-EN16931-R041",
    _F,
    terms=("BT-93", "BT-94", "BT-100", "BT-101", "BT-137", "BT-138", "BT-142", "BT-143"),
    en="An allowance/charge base amount must be provided when a percentage is provided.",
    de="Ist ein Prozentsatz für Abschlag/Zuschlag angegeben, muss auch der Grundbetrag angegeben werden.",
)
def r041(node: etree._Element) -> bool:
    return False


_base_without_percent = UBL_PEPPOL.context(_allowance_charges("[not(cbc:MultiplierFactorNumeric) and cbc:BaseAmount]"))


@_base_without_percent.check(
    "PEPPOL-EN16931-R042",
    _F,
    terms=("BT-93", "BT-94", "BT-100", "BT-101", "BT-137", "BT-138", "BT-142", "BT-143"),
    en="An allowance/charge percentage must be provided when a base amount is provided.",
    de="Ist ein Grundbetrag für Abschlag/Zuschlag angegeben, muss auch der Prozentsatz angegeben werden.",
)
def r042(node: etree._Element) -> bool:
    return False


_allowance_charge = UBL_PEPPOL.context(_allowance_charges(""))


@_allowance_charge.check(
    "PEPPOL-EN16931-R040",
    _F,
    terms=("BT-92", "BT-93", "BT-94", "BT-99", "BT-100", "BT-101"),
    en="An allowance/charge amount must equal base amount × percentage / 100 when both are given.",
    de="Der Betrag eines Abschlags/Zuschlags muss Grundbetrag × Prozentsatz / 100 entsprechen, sind beide angegeben.",
)
def r040(node: etree._Element) -> bool:
    factors, bases = child_elements(node, _MULTIPLIER), child_elements(node, _BASE_AMOUNT)
    if not (factors and bases):
        return True
    amounts = child_elements(node, _AMOUNT)
    actual = xs_decimal(string_value(opt(amounts, "amount"))) if amounts else _ZERO
    base = decimal_or(bases, None)
    percent = decimal_or(factors, None)
    assert base is not None and percent is not None  # both exist, checked above
    return within_slack(actual, div(mul(base, percent), Decimal(100)), _slack(node))


@_allowance_charge.check(
    "PEPPOL-EN16931-R043",
    _F,
    terms=("BG-20", "BG-21"),
    en="The allowance/charge indicator must be 'true' or 'false'.",
    de="Der Abschlags-/Zuschlagsindikator muss 'true' oder 'false' sein.",
)
def r043(node: etree._Element) -> bool:
    texts = [t for c in _all(node, "cbc:ChargeIndicator") for t in text_children(c)]
    return normalize_space(opt(texts, "text node") or "") in ("true", "false")


_direct_debit = UBL_PEPPOL.context(
    "cac:PaymentMeans[normalize-space(cbc:PaymentMeansCode) = '49' or normalize-space(cbc:PaymentMeansCode) = '59']"
)


@_direct_debit.check(
    "PEPPOL-EN16931-R061",
    _F,
    terms=("BT-89",),
    en="A mandate reference (BT-89) must be provided for direct debit.",
    de="Für Lastschriften muss die Mandatsreferenz (BT-89) angegeben werden.",
)
@one_ubl_payment_code
def r061(node: etree._Element) -> bool:
    return _has(node, "cac:PaymentMandate/cbc:ID")


def _line_period_date(which: str) -> str:
    return (
        f"ubl:Invoice[cac:InvoicePeriod/cbc:{which}]/cac:InvoiceLine/cac:InvoicePeriod/cbc:{which}"
        f" | cn:CreditNote[cac:InvoicePeriod/cbc:{which}]/cac:CreditNoteLine/cac:InvoicePeriod/cbc:{which}"
    )


def _line_date_vs_header(node: etree._Element, which: str) -> tuple[int, int] | None:
    """``xs:date(text())`` of the line date and ``xs:date`` of the header date; None if the line has no text."""
    line_text = opt(text_children(node), "text node")
    document = node.getparent().getparent().getparent()
    # The same for every line: read once per check (a failed cast raises again for each line, as it did).
    header_key = per_check(node, ("header period date", which, document), lambda _: _header_date_key(document, which))
    return None if line_text is None else (xs_date_key(line_text), header_key)


def _header_date_key(document: etree._Element, which: str) -> int:
    """``xs:date(cac:InvoicePeriod/cbc:<which>)`` of the document."""
    header = opt(_all(document, f"cac:InvoicePeriod/cbc:{which}"), "date")
    return xs_date_key(string_value(header))


_line_start = UBL_PEPPOL.context(_line_period_date("StartDate"))


@_line_start.check(
    "PEPPOL-EN16931-R110",
    _F,
    terms=("BT-134", "BT-73"),
    en="The start date of a line period must lie within the invoice period.",
    de="Das Anfangsdatum des Positionszeitraums muss im Rechnungszeitraum liegen.",
)
def r110(node: etree._Element) -> bool:
    dates = _line_date_vs_header(node, "StartDate")
    return dates is not None and dates[0] >= dates[1]


_line_end = UBL_PEPPOL.context(_line_period_date("EndDate"))


@_line_end.check(
    "PEPPOL-EN16931-R111",
    _F,
    terms=("BT-135", "BT-74"),
    en="The end date of a line period must lie within the invoice period.",
    de="Das Enddatum des Positionszeitraums muss im Rechnungszeitraum liegen.",
)
def r111(node: etree._Element) -> bool:
    dates = _line_date_vs_header(node, "EndDate")
    return dates is not None and dates[0] <= dates[1]


_line = UBL_PEPPOL.context("cac:InvoiceLine | cac:CreditNoteLine")


def _charge_totals(
    children: Callable[[etree._Element], Children], allowances_charges: list[etree._Element]
) -> tuple[Decimal, Decimal]:
    """Line charges (indicator ``true``) and allowances (``false``), each summed and rounded to cents."""
    amounts: dict[str, list[Decimal] | None] = {"true": None, "false": None}
    for ac in allowances_charges:
        group = children(ac)
        flag = opt(group.get(_CHARGE_INDICATOR, _NO_ELEMENTS), "charge indicator")
        indicator = normalize_space("" if flag is None else string_value(flag))
        if indicator in amounts:
            selected = amounts[indicator] if amounts[indicator] is not None else []
            selected.extend(xs_decimal(string_value(a)) for a in group.get(_AMOUNT, _NO_ELEMENTS))
            amounts[indicator] = selected
    return _to_cents(amounts["true"]), _to_cents(amounts["false"])


def _to_cents(amounts: list[Decimal] | None) -> Decimal:
    """``if (selection) then round(sum(...) * 10 * 10) div 100 else 0``."""
    if amounts is None:
        return _ZERO
    return div(round_half_up(mul(add(*amounts), 10, 10)), Decimal(100))


def _price_children(
    children: Callable[[etree._Element], Children], prices: list[etree._Element], tag: str
) -> list[etree._Element]:
    """``cac:Price/tag`` from the line's price groups (the list must not be changed)."""
    if len(prices) == 1:  # the common case, without building a list
        return children(prices[0]).get(tag, _NO_ELEMENTS)
    return [child for price in prices for child in children(price).get(tag, _NO_ELEMENTS)]


@_line.check(
    "PEPPOL-EN16931-R120",
    Flag.WARNING,
    terms=("BT-131", "BT-129", "BT-146", "BT-149", "BT-136", "BT-141"),
    en="The line net amount must equal quantity × (net price / base quantity) + line charges − line allowances.",
    de="Der Nettobetrag der Position muss Menge × (Nettopreis / Basismenge) + Zuschläge − Abschläge entsprechen.",
)
def r120(node: etree._Element) -> bool:
    children = children_reader()  # the line's children are read once, by tag
    line = children(node)
    line_amount = decimal_or(line.get(_LINE_EXTENSION_AMOUNT, _NO_ELEMENTS), _ZERO)
    quantity = decimal_or(line.get(_INVOICED_QUANTITY if _is_invoice(node) else _CREDITED_QUANTITY, _NO_ELEMENTS), _ONE)
    prices = line.get(_PRICE, _NO_ELEMENTS)
    price = decimal_or(_price_children(children, prices, _PRICE_AMOUNT), _ZERO)
    base_quantity = decimal_or(_price_children(children, prices, _BASE_QUANTITY), None)
    allowances_charges = line.get(_ALLOWANCE_CHARGE)
    totals = _charge_totals(children, allowances_charges) if allowances_charges else None
    # Divided by 1 (also a missing or zero base quantity) the quotient is the price itself, rounded as
    # ``div`` rounds it (to the arithmetic's precision): only the value goes on, into ``mul``, ``add``
    # and the comparison.
    if base_quantity is None or base_quantity == 0 or base_quantity == 1:
        unit_price = add(price)
    else:
        unit_price = div(price, base_quantity)
    expected = mul(quantity, unit_price)
    if totals is not None:  # adding the zeros of no charges and allowances would leave the value as it is
        charges, allowances = totals
        expected = add(expected, charges, -allowances)
    return within_slack(line_amount, expected, _slack(node))


@_line.check(
    "PEPPOL-EN16931-R121",
    _F,
    terms=("BT-149",),
    en="The item price base quantity (BT-149) must be greater than zero.",
    de="Die Basismenge zum Artikelpreis (BT-149) muss größer als null sein.",
)
def r121(node: etree._Element) -> bool:
    quantities = _all(node, "cac:Price/cbc:BaseQuantity")
    if not quantities:
        return True
    value = decimal_or(quantities, None)
    return value is not None and value > 0


@_line.check(
    "PEPPOL-EN16931-R101",
    _F,
    terms=("BT-128",),
    en="A line document reference may only be an invoiced object identifier (type code 130).",
    de="Ein Dokumentverweis auf Positionsebene ist nur als Objektkennung (Typcode 130) zulässig.",
)
def r101(node: etree._Element) -> bool:
    refs = _all(node, "cac:DocumentReference")
    return not refs or any(string_value(c) == "130" for r in refs for c in _all(r, "cbc:DocumentTypeCode"))


_price_allowance = UBL_PEPPOL.context("cac:Price/cac:AllowanceCharge")


@_price_allowance.check(
    "PEPPOL-EN16931-R044",
    _F,
    terms=("BT-147",),
    en="Charges are not allowed on price level; the indicator must be 'false'.",
    de="Zuschläge auf Preisebene sind nicht zulässig; der Indikator muss 'false' sein.",
)
def r044(node: etree._Element) -> bool:
    flag = opt(_all(node, "cbc:ChargeIndicator"), "charge indicator")
    return normalize_space("" if flag is None else string_value(flag)) == "false"


@_price_allowance.check(
    "PEPPOL-EN16931-R046",
    _F,
    terms=("BT-146", "BT-147", "BT-148"),
    en="The item net price must equal gross price minus price discount when a gross price is given.",
    de="Der Nettopreis muss dem Bruttopreis abzüglich Preisnachlass entsprechen, wenn ein Bruttopreis angegeben ist.",
)
def r046(node: etree._Element) -> bool:
    if not _has(node, "cbc:BaseAmount"):
        return True
    parent = node.getparent()
    net = decimal_or_none(_all(parent, "cbc:PriceAmount")) if parent is not None else None
    gross = decimal_or_none(_all(node, "cbc:BaseAmount"))
    discount = decimal_or_none(_all(node, "cbc:Amount"))
    if net is None or gross is None or discount is None:
        return False  # arithmetic with an empty sequence is empty, and comparing with it is false
    return net == add(gross, -discount)


_base_quantity_unit = UBL_PEPPOL.context("cac:Price/cbc:BaseQuantity[@unitCode]")


@_base_quantity_unit.check(
    "PEPPOL-EN16931-R130",
    _F,
    terms=("BT-150", "BT-130"),
    en="The unit of the price base quantity must be the unit of the invoiced quantity.",
    de="Die Einheit der Basismenge muss der Einheit der abgerechneten Menge entsprechen.",
)
def r130(node: etree._Element) -> bool:
    line = node.getparent().getparent()
    if line is None:
        return True
    kids = children_reader()(line)  # the line's children, read once
    invoiced, credited = kids.get(_INVOICED_QUANTITY), kids.get(_CREDITED_QUANTITY)
    if not (invoiced or credited):
        return True
    quantities = (invoiced if _is_invoice(node) else credited) or _NO_ELEMENTS
    return any(q.get("unitCode") == node.get("unitCode") for q in quantities)
