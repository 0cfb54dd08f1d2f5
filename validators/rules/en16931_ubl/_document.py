"""Facts about a whole document that many rules ask for, gathered in one walk and reused.

Roughly sixty rules of the model pattern look across the document (``//cac:ClassifiedTaxCategory``,
the lines of one VAT category, the seller's VAT identifier, ...). Reading the session's tag and
child indexes once per document instead of walking the tree once per rule keeps a full run well
under a millisecond per hundred rules.
The facts live in the run's session (``_engine.Session``), so they are shared by the rules of one
check and never outlive it: a later check, of this tree or another, gathers them afresh.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from decimal import Decimal
from typing import Any, Final

from lxml import etree

from validators.rules._session import ACTIVE, Session
from validators.rules.en16931_ubl._values import CAC, CBC, boolean_values, decimal_of, normalized, string_value

__all__ = ["Category", "Charge", "Codes", "Document", "Line", "document"]

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
_TAX_SCHEME: Final = CAC + "TaxScheme"
_ITEM: Final = CAC + "Item"
_PARTY: Final = CAC + "Party"
_PARTY_TAX_SCHEME: Final = CAC + "PartyTaxScheme"
_PARTY_LEGAL_ENTITY: Final = CAC + "PartyLegalEntity"
_ID: Final = CBC + "ID"
_PERCENT: Final = CBC + "Percent"
_CHARGE_INDICATOR: Final = CBC + "ChargeIndicator"
_AMOUNT: Final = CBC + "Amount"
_LINE_EXTENSION_AMOUNT: Final = CBC + "LineExtensionAmount"
_COMPANY_ID: Final = CBC + "CompanyID"


class Category:
    """A cac:TaxCategory or cac:ClassifiedTaxCategory."""

    __slots__ = ("code", "codes", "el", "ids", "percents", "vat")

    def __init__(self, el: etree._Element, session: Session) -> None:
        children = session.children(el)
        ids = [string_value(i) for i in children.get(_ID, ())]
        codes = [normalized(i) for i in ids]
        self.el = el
        self.code = codes[0] if codes else ""  # normalize-space(cbc:ID) of the first id, '' when there is none
        self.codes = codes  # every id, normalized (for ``cbc:ID[normalize-space(.) = 'X']``)
        self.ids = ids  # every id as written (for ``cbc:ID = 'X'``)
        self.vat = _is_vat(children, session)  # its TaxScheme is VAT
        # xs:decimal of each cbc:Percent
        self.percents = [decimal_of(string_value(p)) for p in children.get(_PERCENT, ())]

    def rated(self, rate: Decimal) -> bool:
        return rate in self.percents


class Charge:
    """A cac:AllowanceCharge anywhere in the document."""

    __slots__ = ("amounts", "categories", "document_level", "el", "indicators")

    def __init__(self, el: etree._Element, session: Session, categories: dict[etree._Element, Category]) -> None:
        children = session.children(el)
        self.el = el
        # xs:boolean values of cbc:ChargeIndicator
        self.indicators = frozenset(boolean_values(children.get(_CHARGE_INDICATOR, ())))
        self.amounts = _decimals(children.get(_AMOUNT, ()))  # xs:decimal of each cbc:Amount
        self.categories = [categories[c] for c in children.get(_TAX_CATEGORY, ())]
        self.document_level = el.getparent() is session.root  # a child of the root (BG-20/BG-21)


class Line:
    """A cac:InvoiceLine or cac:CreditNoteLine."""

    __slots__ = ("categories", "credit_note", "document_level", "el", "net")

    def __init__(self, el: etree._Element, session: Session, categories: dict[etree._Element, Category]) -> None:
        children = session.children(el)
        self.el = el
        self.credit_note = el.tag == _CREDIT_NOTE_LINE
        self.net = _decimals(children.get(_LINE_EXTENSION_AMOUNT, ()))  # xs:decimal of each cbc:LineExtensionAmount
        # cac:Item/cac:ClassifiedTaxCategory
        self.categories = [
            categories[c] for item in children.get(_ITEM, ()) for c in session.children(item).get(_CLASSIFIED, ())
        ]
        self.document_level = el.getparent() is session.root


def _is_vat(children: dict[Any, list[etree._Element]], session: Session) -> bool:
    """``is_vat_scheme`` on an element whose children are ``children``."""
    for scheme in children.get(_TAX_SCHEME, ()):
        ids = session.children(scheme).get(_ID)
        if ids and normalized(string_value(ids[0]).upper()) == "VAT":
            return True
    return False


def _decimals(elements: list[etree._Element]) -> list[Decimal]:
    values = (decimal_of(string_value(c)) for c in elements)
    return [v for v in values if v is not None]


class Codes:
    """The ids of a selection of categories, gathered once for the rules that ask whether a code is among them."""

    __slots__ = ("coded", "ids", "vat_coded", "vat_ids", "vat_normalized")

    def __init__(self, categories: Iterable[Category]) -> None:
        self.coded: set[str] = set()  # normalize-space(cbc:ID) (of the first id), any scheme
        self.ids: set[str] = set()  # every cbc:ID as written, any scheme
        self.vat_coded: set[str] = set()  # normalize-space(cbc:ID) (of the first id) of the VAT categories
        self.vat_ids: set[str] = set()  # every cbc:ID of the VAT categories as written
        self.vat_normalized: dict[str, int] = {}  # every normalized cbc:ID of the VAT categories: how often
        for category in categories:
            self.coded.add(category.code)
            self.ids.update(category.ids)
            if category.vat:
                self.vat_coded.add(category.code)
                self.vat_ids.update(category.ids)
                for code in category.codes:
                    self.vat_normalized[code] = self.vat_normalized.get(code, 0) + 1


class Document:
    """What the cross-document rules need to know, read from the session's tag index."""

    def __init__(self, root: etree._Element, session: Session) -> None:
        self.root = root
        by_tag = session.by_tag
        categories: dict[etree._Element, Category] = {}
        self.tax_categories = [Category(el, session) for el in by_tag.get(_TAX_CATEGORY, ())]
        self.classified = [Category(el, session) for el in by_tag.get(_CLASSIFIED, ())]
        for category in self.tax_categories:
            categories[category.el] = category
        for category in self.classified:
            categories[category.el] = category
        self.charges = [Charge(el, session, categories) for el in by_tag.get(_ALLOWANCE_CHARGE, ())]
        invoice_lines, credit_note_lines = by_tag.get(_INVOICE_LINE, []), by_tag.get(_CREDIT_NOTE_LINE, [])
        lines = (
            session.in_document_order([*invoice_lines, *credit_note_lines])
            if invoice_lines and credit_note_lines
            else invoice_lines or credit_note_lines
        )
        self.lines = [Line(el, session, categories) for el in lines]
        self.category_of = categories  # every TaxCategory and ClassifiedTaxCategory by its element
        self.line_of = {line.el: line for line in self.lines}
        self.has_invoice_line = bool(invoice_lines)
        self.has_credit_note_line = bool(credit_note_lines)
        # VAT breakdown categories: /*/cac:TaxTotal/cac:TaxSubtotal/cac:TaxCategory
        children = session.children
        self.breakdown = [
            categories[c]
            for total in children(root).get(_TAX_TOTAL, ())
            for sub in children(total).get(_TAX_SUBTOTAL, ())
            for c in children(sub).get(_TAX_CATEGORY, ())
        ]
        seller_schemes = [
            s
            for p in by_tag.get(_SELLER, ())
            for party in children(p).get(_PARTY, ())
            for s in children(party).get(_PARTY_TAX_SCHEME, ())
        ]
        buyer_parties = [party for p in by_tag.get(_BUYER, ()) for party in children(p).get(_PARTY, ())]
        # BT-31 as some rules read it: any PartyTaxScheme company id, whatever its scheme.
        self.seller_tax_id = any(_COMPANY_ID in children(s) for s in seller_schemes)
        self.seller_vat_id = any(_vat_company_id(s, session) for s in seller_schemes)
        self.representative_vat_id = any(
            _vat_company_id(s, session)
            for p in by_tag.get(_REPRESENTATIVE, ())
            for s in children(p).get(_PARTY_TAX_SCHEME, ())
        )
        self.buyer_vat_id = any(
            _vat_company_id(s, session) for p in buyer_parties for s in children(p).get(_PARTY_TAX_SCHEME, ())
        )
        self.buyer_legal_id = any(
            _COMPANY_ID in children(e) for p in buyer_parties for e in children(p).get(_PARTY_LEGAL_ENTITY, ())
        )

        self._codes: dict[str, Codes] = {}

    def codes(self, selection: str) -> Codes:
        """The ids of one of the selections of ``_SELECTIONS``, gathered on first use."""
        found = self._codes.get(selection)
        if found is None:
            found = self._codes[selection] = Codes(_SELECTIONS[selection](self))
        return found

    def document_charges(self, charge: bool) -> list[Charge]:
        """BG-21 (charge=True) or BG-20 (charge=False): root-level AllowanceCharge with that indicator."""
        return [c for c in self.charges if c.document_level and charge in c.indicators]

    def any_charges(self, charge: bool) -> list[Charge]:
        """``//cac:AllowanceCharge[cbc:ChargeIndicator = true()/false()]`` at any depth."""
        return [c for c in self.charges if charge in c.indicators]


# The selections of categories the VAT category rules ask about.
_SELECTIONS: Final[dict[str, Callable[[Document], Iterable[Category]]]] = {
    "breakdown": lambda d: d.breakdown,  # /*/cac:TaxTotal/cac:TaxSubtotal/cac:TaxCategory
    "lines": lambda d: d.classified,  # //cac:ClassifiedTaxCategory
    "tax categories and lines": lambda d: (*d.tax_categories, *d.classified),
    "charges and lines": lambda d: (*(c for ac in d.charges for c in ac.categories), *d.classified),
    "top-level charges and lines": lambda d: (
        *(c for ac in d.charges if ac.document_level for c in ac.categories),
        *d.classified,
    ),
    "allowances": lambda d: (c for ac in d.any_charges(False) for c in ac.categories),
    "charges": lambda d: (c for ac in d.any_charges(True) for c in ac.categories),
    "document allowances": lambda d: (c for ac in d.document_charges(False) for c in ac.categories),
    "document charges": lambda d: (c for ac in d.document_charges(True) for c in ac.categories),
}


def _vat_company_id(scheme: etree._Element, session: Session) -> bool:
    children = session.children(scheme)
    return _COMPANY_ID in children and _is_vat(children, session)


def document(node: etree._Element) -> Document:
    """The facts of the document ``node`` belongs to: computed once per check, fresh outside a run."""
    session = ACTIVE.get()
    if session is not None:
        root = session.root
        # Most callers are rules of the root's context: the identity test spares the walk up.
        if node is root or node.getroottree().getroot() is root:
            facts = session.memo.get(Document)
            if facts is None:
                facts = session.memo[Document] = Document(root, session)
            return facts  # type: ignore[no-any-return]
    root = node.getroottree().getroot()
    return Document(root, Session(root))
