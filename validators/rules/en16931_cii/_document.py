"""Facts about a whole CII document that many model rules ask for, read once per check and reused.

The rules of the VAT categories, the totals and the invoice look across the document through
absolute paths (``/rsm:CrossIndustryInvoice/rsm:SupplyChainTradeTransaction/...``) or anywhere
(``//ram:...``): the header allowances and charges, the line settlements, the currencies, the
party identifiers. Each such fact is computed once per check and kept in the run's session, so
the rules of one check share it and nothing outlives the check; outside a run it is computed
afresh on every call. Every fact keeps the selections of the official paths, repeated and
misplaced elements included.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from dataclasses import dataclass
from decimal import Decimal
from typing import Final, TypeVar

from lxml import etree

from validators.rules._session import ACTIVE, Session
from validators.rules.en16931_cii._values import (
    Children,
    as_boolean,
    as_decimal,
    below,
    cents,
    child_elements,
    children_reader,
    dadd,
    dsub,
    further,
    ram,
    rsm,
    sum_decimals,
    text,
    udt,
)

__all__ = [
    "ANY_RATE",
    "Header",
    "HeaderCharge",
    "Line",
    "Taxed",
    "anywhere",
    "document_fact",
    "expected_basis",
    "header",
    "header_charges",
    "header_settlements",
    "indicator_is",
    "invoice_currencies",
    "line_facts",
    "tax_currencies",
]

T = TypeVar("T")

_INVOICE: Final = rsm.CrossIndustryInvoice
_TRANSACTION: Final = rsm.SupplyChainTradeTransaction
_HEADER_SETTLEMENT: Final = ram.ApplicableHeaderTradeSettlement
_LINE: Final = ram.IncludedSupplyChainTradeLineItem
_LINE_SETTLEMENT: Final = ram.SpecifiedLineTradeSettlement
_ALLOWANCE_CHARGE: Final = ram.SpecifiedTradeAllowanceCharge
_TAX: Final = ram.ApplicableTradeTax
_CATEGORY_TAX: Final = ram.CategoryTradeTax
_CATEGORY_CODE: Final = ram.CategoryCode
_RATE: Final = ram.RateApplicablePercent
_ACTUAL_AMOUNT: Final = ram.ActualAmount
_LINE_SUMMATION: Final = ram.SpecifiedTradeSettlementLineMonetarySummation
_LINE_TOTAL: Final = ram.LineTotalAmount
_CHARGE_INDICATOR: Final = ram.ChargeIndicator
_INDICATOR: Final = udt.Indicator


def document_fact(node: etree._Element, compute: Callable[[etree._Element], T], key: Hashable = None) -> T:
    """``compute(root)`` for the document ``node`` belongs to: once per check (under ``key``, else
    ``compute`` itself), afresh outside a run."""
    session = ACTIVE.get()
    if session is None or not _in_run(session, node):
        return compute(node.getroottree().getroot())
    memo = session.memo
    key = compute if key is None else key
    value = memo.get(key, _UNKNOWN)
    if value is _UNKNOWN:
        value = memo[key] = compute(session.root)
    return value  # type: ignore[no-any-return]


_UNKNOWN: Final = object()


def anywhere(node: etree._Element, tag: str) -> list[etree._Element]:
    """``//tag``: the elements so named in the document of ``node``, in document order (must not be changed)."""
    session = ACTIVE.get()
    if session is None or not _in_run(session, node):
        return list(node.getroottree().getroot().iter(tag))
    return session.by_tag.get(tag, _NONE)


def _in_run(session: Session, node: etree._Element) -> bool:
    """``node`` belongs to the document of ``session``; the rules of the invoice ask with its root,
    which is told apart without making the element tree object ``getroottree`` returns."""
    root = session.root
    if node is root:
        return root.getparent() is None
    return node.getroottree().getroot() is root


_NONE: Final[list[etree._Element]] = []


# The facts are not frozen dataclasses: a frozen __init__ sets each field through object.__setattr__,
# a cost paid for every line and allowance/charge of every check. They are never changed once read.
@dataclass(slots=True)
class Header:
    """The groups under ``/rsm:CrossIndustryInvoice/rsm:SupplyChainTradeTransaction``, in document order."""

    agreements: list[etree._Element]  # ram:ApplicableHeaderTradeAgreement
    deliveries: list[etree._Element]  # ram:ApplicableHeaderTradeDelivery
    settlements: list[etree._Element]  # ram:ApplicableHeaderTradeSettlement
    sellers: list[etree._Element]  # ram:ApplicableHeaderTradeAgreement/ram:SellerTradeParty
    buyers: list[etree._Element]  # ram:ApplicableHeaderTradeAgreement/ram:BuyerTradeParty
    representatives: list[etree._Element]  # ram:ApplicableHeaderTradeAgreement/ram:SellerTaxRepresentativeTradeParty


def _read_header(root: etree._Element) -> Header:
    children = children_reader()
    transactions = children(root).get(_TRANSACTION, _NONE) if root.tag == _INVOICE else _NONE
    groups = [children(t) for t in transactions]
    agreements = [a for g in groups for a in g.get(ram.ApplicableHeaderTradeAgreement, _NONE)]
    parties = [children(a) for a in agreements]
    return Header(
        agreements=agreements,
        deliveries=[d for g in groups for d in g.get(ram.ApplicableHeaderTradeDelivery, _NONE)],
        settlements=[s for g in groups for s in g.get(_HEADER_SETTLEMENT, _NONE)],
        sellers=[p for g in parties for p in g.get(ram.SellerTradeParty, _NONE)],
        buyers=[p for g in parties for p in g.get(ram.BuyerTradeParty, _NONE)],
        representatives=[p for g in parties for p in g.get(ram.SellerTaxRepresentativeTradeParty, _NONE)],
    )


def header(node: etree._Element) -> Header:
    """The header groups of the document ``node`` belongs to."""
    return document_fact(node, _read_header)


def _header_settlements(root: etree._Element) -> list[etree._Element]:
    return document_fact(root, _read_header).settlements


def header_settlements(node: etree._Element) -> list[etree._Element]:
    """``/rsm:CrossIndustryInvoice/rsm:SupplyChainTradeTransaction/ram:ApplicableHeaderTradeSettlement``."""
    return document_fact(node, _read_header).settlements


def _codes_of(root: etree._Element, tag: str) -> list[str]:
    return [text(c) for s in _header_settlements(root) for c in child_elements(s, tag)]


def _invoice_currencies(root: etree._Element) -> list[str]:
    return _codes_of(root, ram.InvoiceCurrencyCode)


def _tax_currencies(root: etree._Element) -> list[str]:
    return _codes_of(root, ram.TaxCurrencyCode)


def invoice_currencies(node: etree._Element) -> list[str]:
    """The values of ``/rsm:CrossIndustryInvoice/.../ram:ApplicableHeaderTradeSettlement/ram:InvoiceCurrencyCode``."""
    return document_fact(node, _invoice_currencies)


def tax_currencies(node: etree._Element) -> list[str]:
    """The values of ``/rsm:CrossIndustryInvoice/.../ram:ApplicableHeaderTradeSettlement/ram:TaxCurrencyCode``."""
    return document_fact(node, _tax_currencies)


def indicator_is(allowance_charge: etree._Element, charge: bool) -> bool:
    """``ram:ChargeIndicator/udt:Indicator = true()/false()``: some indicator casts to that boolean."""
    for ci in child_elements(allowance_charge, _CHARGE_INDICATOR):
        for i in child_elements(ci, _INDICATOR):
            if as_boolean(text(i)) is charge:
                return True
    return False


@dataclass(slots=True)
class Taxed:
    """A line settlement or a header allowance/charge as the category rules see it."""

    codes: frozenset[str]  # the values of its taxes' ram:CategoryCode
    rates: tuple[Decimal | None, ...]  # xs:decimal of its taxes' ram:RateApplicablePercent (None: not castable)
    amounts: tuple[Decimal | None, ...]  # its net amounts: xs:decimal of the first of each holder that has one

    def matches(self, code: str, rate: object) -> bool | None:
        """Some tax has the code and (unless any rate will do) some has the rate; None: a rate is not a decimal."""
        if code not in self.codes:
            return False
        if rate is ANY_RATE:
            return True
        if None in self.rates:
            return None
        return rate in self.rates


@dataclass(slots=True)
class HeaderCharge:
    """A document level allowance or charge (``ram:SpecifiedTradeAllowanceCharge`` of the header settlement)."""

    el: etree._Element
    charge: bool  # an indicator casts to true
    allowance: bool  # an indicator casts to false
    actual_amounts: tuple[str, ...]  # the values of its ram:ActualAmount
    taxed: Taxed  # by its ram:CategoryTradeTax


def _taxed(
    children: Callable[[etree._Element], Children], taxes: list[etree._Element], amounts: tuple[Decimal | None, ...]
) -> Taxed:
    codes = []
    rates = []
    for tax in taxes:
        kids = children(tax)
        for code in kids.get(_CATEGORY_CODE, _NONE):
            codes.append(text(code))
        for rate in kids.get(_RATE, _NONE):
            rates.append(as_decimal(text(rate)))
    return Taxed(frozenset(codes), tuple(rates), amounts)


def _header_charges(root: etree._Element) -> list[HeaderCharge]:
    children = children_reader()
    out = []
    for s in _header_settlements(root):
        for ac in children(s).get(_ALLOWANCE_CHARGE, _NONE):
            kids = children(ac)
            actual = tuple(text(a) for a in kids.get(_ACTUAL_AMOUNT, _NONE))
            out.append(
                HeaderCharge(
                    ac,
                    indicator_is(ac, True),
                    indicator_is(ac, False),
                    actual,
                    _taxed(children, kids.get(_CATEGORY_TAX, _NONE), (as_decimal(actual[0]),) if actual else ()),
                )
            )
    return out


def header_charges(node: etree._Element) -> list[HeaderCharge]:
    """The document level allowances and charges, in document order."""
    return document_fact(node, _header_charges)


def _line_settlements(root: etree._Element) -> list[Taxed]:
    children = children_reader()
    out = []
    for settlement in below(root, _TRANSACTION, _LINE, _LINE_SETTLEMENT) if root.tag == _INVOICE else _NONE:
        kids = children(settlement)
        amounts = []
        for summation in kids.get(_LINE_SUMMATION, _NONE):
            found = children(summation).get(_LINE_TOTAL)
            if found:
                amounts.append(as_decimal(text(found[0])))
        out.append(_taxed(children, kids.get(_TAX, _NONE), tuple(amounts)))
    return out


# Any rate will do: the taxable amount of a category without a rate in its test.
ANY_RATE: Final = object()


def _expected_basis(root: etree._Element, code: str, rate: object) -> Decimal | None:
    line_amounts: list[Decimal | None] = []
    for settlement in document_fact(root, _line_settlements):
        matched = settlement.matches(code, rate)
        if matched is None:
            return None
        if matched:
            line_amounts.extend(settlement.amounts)
    charges: list[Decimal | None] = []
    allowances: list[Decimal | None] = []
    for item in document_fact(root, _header_charges):
        if item.charge or item.allowance:
            matched = item.taxed.matches(code, rate)
            if matched is None:
                return None
            if matched:
                if item.charge:
                    charges.extend(item.taxed.amounts)
                if item.allowance:
                    allowances.extend(item.taxed.amounts)
    lines_sum = sum_decimals(line_amounts)
    charges_sum = sum_decimals(charges)
    allowances_sum = sum_decimals(allowances)
    if lines_sum is None or charges_sum is None or allowances_sum is None:
        return None
    return dsub(dadd(cents(lines_sum), cents(charges_sum)), cents(allowances_sum))


def expected_basis(node: etree._Element, code: str, rate: object = ANY_RATE) -> Decimal | None:
    """Rounded line net sum + rounded charges - rounded allowances of the category (and rate).

    None where a value is not a decimal. The answer depends on the rate's value only (the tests
    compare rates as numbers), so one is kept per category and rate value.
    """
    return document_fact(node, lambda root: _expected_basis(root, code, rate), ("expected basis", code, rate))


# --- invoice lines -------------------------------------------------------------------------------

_PRODUCT: Final = ram.SpecifiedTradeProduct
_LINE_AGREEMENT: Final = ram.SpecifiedLineTradeAgreement
_CHARGE_AMOUNT: Final = ram.ChargeAmount


@dataclass(slots=True)
class Line:
    """What the rules of an invoice line (``ram:IncludedSupplyChainTradeLineItem``) read of it.

    Each list is the selection of its path from the line, in document order (not to be changed).
    """

    line_ids: list[etree._Element]  # ram:AssociatedDocumentLineDocument/ram:LineID
    names: list[etree._Element]  # ram:SpecifiedTradeProduct/ram:Name
    global_ids: list[etree._Element]  # ram:SpecifiedTradeProduct/ram:GlobalID
    net_prices: list[etree._Element]  # ram:SpecifiedLineTradeAgreement/ram:NetPriceProductTradePrice/ram:ChargeAmount
    gross_prices: list[etree._Element]  # .../ram:GrossPriceProductTradePrice/ram:ChargeAmount
    quantities: list[etree._Element]  # ram:SpecifiedLineTradeDelivery/ram:BilledQuantity
    taxes: list[etree._Element]  # ram:SpecifiedLineTradeSettlement/ram:ApplicableTradeTax
    net_amounts: list[etree._Element]  # ram:SpecifiedLineTradeSettlement/.../ram:LineTotalAmount


_LINE_IDS: Final = (ram.LineID,)
_NAMES: Final = (ram.Name,)
_GLOBAL_IDS: Final = (ram.GlobalID,)
_NET_PRICES: Final = (ram.NetPriceProductTradePrice, _CHARGE_AMOUNT)
_GROSS_PRICES: Final = (ram.GrossPriceProductTradePrice, _CHARGE_AMOUNT)
_QUANTITIES: Final = (ram.BilledQuantity,)
_TAXES: Final = (_TAX,)
_NET_AMOUNTS: Final = (_LINE_SUMMATION, _LINE_TOTAL)


def _read_line(line: etree._Element) -> Line:
    children = children_reader()
    kids = children(line)
    products = kids.get(_PRODUCT, _NONE)
    agreements = kids.get(_LINE_AGREEMENT, _NONE)
    settlements = kids.get(_LINE_SETTLEMENT, _NONE)
    return Line(
        further(children, kids.get(ram.AssociatedDocumentLineDocument, _NONE), _LINE_IDS),
        further(children, products, _NAMES),
        further(children, products, _GLOBAL_IDS),
        further(children, agreements, _NET_PRICES),
        further(children, agreements, _GROSS_PRICES),
        further(children, kids.get(ram.SpecifiedLineTradeDelivery, _NONE), _QUANTITIES),
        further(children, settlements, _TAXES),
        further(children, settlements, _NET_AMOUNTS),
    )


_LINES: Final = "en16931-cii lines"


def line_facts(line: etree._Element) -> Line:
    """The facts of one invoice line: read once per check, afresh outside a run."""
    session = ACTIVE.get()
    if session is None:
        return _read_line(line)
    lines = session.memo.get(_LINES)
    if lines is None:
        lines = session.memo[_LINES] = {}
    found = lines.get(line)
    if found is None:
        found = lines[line] = _read_line(line)
    return found  # type: ignore[no-any-return]
