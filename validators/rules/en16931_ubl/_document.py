"""Facts about a whole document that many rules ask for, gathered in one walk and reused.

Roughly sixty rules of the model pattern look across the document (``//cac:ClassifiedTaxCategory``,
the lines of one VAT category, the seller's VAT identifier, ...). Walking the tree once per
document instead of once per rule keeps a full run well under a millisecond per hundred rules.
The facts live in the run's session (``_engine.Session``), so they are shared by the rules of one
check and never outlive it: a later check, of this tree or another, gathers them afresh.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Final

from lxml import etree

from validators.rules._session import ACTIVE, child_elements, first_child
from validators.rules.en16931_ubl._values import (
    CAC,
    CBC,
    boolean_values,
    decimal_of,
    is_vat_scheme,
    normalized,
    string_value,
)

__all__ = ["Category", "Charge", "Document", "Line", "document"]

_TAX_CATEGORY: Final = CAC + "TaxCategory"
_CLASSIFIED: Final = CAC + "ClassifiedTaxCategory"
_ALLOWANCE_CHARGE: Final = CAC + "AllowanceCharge"
_INVOICE_LINE: Final = CAC + "InvoiceLine"
_CREDIT_NOTE_LINE: Final = CAC + "CreditNoteLine"
_SELLER: Final = CAC + "AccountingSupplierParty"
_BUYER: Final = CAC + "AccountingCustomerParty"
_REPRESENTATIVE: Final = CAC + "TaxRepresentativeParty"
_TAX_TOTAL: Final = CAC + "TaxTotal"
_TAX_SUBTOTAL: Final = CAC + "TaxSubtotal"


@dataclass(frozen=True, slots=True)
class Category:
    """A cac:TaxCategory or cac:ClassifiedTaxCategory."""

    el: etree._Element
    code: str  # normalize-space(cbc:ID) of the first id, '' when there is none
    codes: tuple[str, ...]  # every id, normalized (for ``cbc:ID[normalize-space(.) = 'X']``)
    ids: tuple[str, ...]  # every id as written (for ``cbc:ID = 'X'``)
    vat: bool  # its TaxScheme is VAT
    percents: tuple[Decimal | None, ...]  # xs:decimal of each cbc:Percent

    def rated(self, rate: Decimal) -> bool:
        return rate in self.percents


@dataclass(frozen=True, slots=True)
class Charge:
    """A cac:AllowanceCharge anywhere in the document."""

    el: etree._Element
    indicators: frozenset[bool]  # xs:boolean values of cbc:ChargeIndicator
    amounts: tuple[Decimal, ...]  # xs:decimal of each cbc:Amount
    categories: tuple[Category, ...]
    document_level: bool  # a child of the root (BG-20/BG-21)


@dataclass(frozen=True, slots=True)
class Line:
    """A cac:InvoiceLine or cac:CreditNoteLine."""

    el: etree._Element
    credit_note: bool
    net: tuple[Decimal, ...]  # xs:decimal of each cbc:LineExtensionAmount
    categories: tuple[Category, ...]  # cac:Item/cac:ClassifiedTaxCategory
    document_level: bool


def _category(el: etree._Element) -> Category:
    ids = [string_value(i) for i in child_elements(el, CBC + "ID")]
    return Category(
        el=el,
        code=normalized(ids[0]) if ids else "",
        codes=tuple(normalized(i) for i in ids),
        ids=tuple(ids),
        vat=is_vat_scheme(el),
        percents=tuple(decimal_of(string_value(p)) for p in child_elements(el, CBC + "Percent")),
    )


def _decimals(el: etree._Element, tag: str) -> tuple[Decimal, ...]:
    values = (decimal_of(string_value(c)) for c in el.iterchildren(tag))
    return tuple(v for v in values if v is not None)


class Document:
    """What the cross-document rules need to know, from one walk over the tree."""

    def __init__(self, root: etree._Element) -> None:
        self.root = root
        categories: dict[etree._Element, Category] = {}
        self.tax_categories: list[Category] = []
        self.classified: list[Category] = []
        charges: list[etree._Element] = []
        lines: list[etree._Element] = []
        sellers: list[etree._Element] = []
        buyers: list[etree._Element] = []
        representatives: list[etree._Element] = []
        wanted = (_TAX_CATEGORY, _CLASSIFIED, _ALLOWANCE_CHARGE, _INVOICE_LINE, _CREDIT_NOTE_LINE)
        for el in root.iter(*wanted, _SELLER, _BUYER, _REPRESENTATIVE):
            tag = el.tag
            if tag == _TAX_CATEGORY:
                categories[el] = category = _category(el)
                self.tax_categories.append(category)
            elif tag == _CLASSIFIED:
                categories[el] = category = _category(el)
                self.classified.append(category)
            elif tag == _ALLOWANCE_CHARGE:
                charges.append(el)
            elif tag in (_INVOICE_LINE, _CREDIT_NOTE_LINE):
                lines.append(el)
            elif tag == _SELLER:
                sellers.append(el)
            elif tag == _BUYER:
                buyers.append(el)
            else:
                representatives.append(el)
        self.charges = [
            Charge(
                el=el,
                indicators=frozenset(boolean_values(child_elements(el, CBC + "ChargeIndicator"))),
                amounts=_decimals(el, CBC + "Amount"),
                categories=tuple(categories[c] for c in child_elements(el, _TAX_CATEGORY)),
                document_level=el.getparent() is root,
            )
            for el in charges
        ]
        self.lines = [
            Line(
                el=el,
                credit_note=el.tag == _CREDIT_NOTE_LINE,
                net=_decimals(el, CBC + "LineExtensionAmount"),
                categories=tuple(
                    categories[c]
                    for item in child_elements(el, CAC + "Item")
                    for c in child_elements(item, _CLASSIFIED)
                ),
                document_level=el.getparent() is root,
            )
            for el in lines
        ]
        self.has_invoice_line = any(not line.credit_note for line in self.lines)
        self.has_credit_note_line = any(line.credit_note for line in self.lines)
        # VAT breakdown categories: /*/cac:TaxTotal/cac:TaxSubtotal/cac:TaxCategory
        self.breakdown = [
            categories[c]
            for total in child_elements(root, _TAX_TOTAL)
            for sub in child_elements(total, _TAX_SUBTOTAL)
            for c in child_elements(sub, _TAX_CATEGORY)
        ]
        seller_schemes = [s for p in sellers for party in child_elements(p, CAC + "Party") for s in _schemes(party)]
        buyer_parties = [party for p in buyers for party in child_elements(p, CAC + "Party")]
        # BT-31 as some rules read it: any PartyTaxScheme company id, whatever its scheme.
        self.seller_tax_id = any(_has_company_id(s) for s in seller_schemes)
        self.seller_vat_id = any(_has_company_id(s) and is_vat_scheme(s) for s in seller_schemes)
        self.representative_vat_id = any(
            _has_company_id(s) and is_vat_scheme(s) for p in representatives for s in _schemes(p)
        )
        self.buyer_vat_id = any(_has_company_id(s) and is_vat_scheme(s) for p in buyer_parties for s in _schemes(p))
        self.buyer_legal_id = any(
            first_child(e, CBC + "CompanyID") is not None
            for p in buyer_parties
            for e in child_elements(p, CAC + "PartyLegalEntity")
        )

    def document_charges(self, charge: bool) -> list[Charge]:
        """BG-21 (charge=True) or BG-20 (charge=False): root-level AllowanceCharge with that indicator."""
        return [c for c in self.charges if c.document_level and charge in c.indicators]

    def any_charges(self, charge: bool) -> list[Charge]:
        """``//cac:AllowanceCharge[cbc:ChargeIndicator = true()/false()]`` at any depth."""
        return [c for c in self.charges if charge in c.indicators]

    def top_lines(self, credit_note: bool) -> list[Line]:
        return [line for line in self.lines if line.document_level and line.credit_note == credit_note]


def _schemes(party: etree._Element) -> list[etree._Element]:
    return list(child_elements(party, CAC + "PartyTaxScheme"))


def _has_company_id(scheme: etree._Element) -> bool:
    return first_child(scheme, CBC + "CompanyID") is not None


def document(node: etree._Element) -> Document:
    """The facts of the document ``node`` belongs to: computed once per check, fresh outside a run."""
    root = node.getroottree().getroot()
    session = ACTIVE.get()
    if session is None or session.root is not root:
        return Document(root)
    facts = session.memo.get(Document)
    if facts is None:
        facts = session.memo[Document] = Document(root)
    return facts  # type: ignore[no-any-return]
