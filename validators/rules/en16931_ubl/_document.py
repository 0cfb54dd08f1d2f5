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
from functools import cached_property
from typing import Any, Final

from lxml import etree

from validators.rules._session import ACTIVE, Session
from validators.rules.en16931_ubl._values import (
    CAC,
    CBC,
    boolean_values,
    child_index,
    decimal_of,
    normalized,
    string_value,
)

__all__ = ["Category", "Charge", "Codes", "Document", "Kind", "Line", "document"]

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


class Kind:
    """What a category's facts are derived from, and the facts: shared by the categories of a document
    written alike (most of an invoice's), which are therefore derived once, and counted once by ``Codes``."""

    __slots__ = ("code", "codes", "ids", "percents", "vat")

    def __init__(self, written: _Written) -> None:
        ids, schemes, percents = written
        codes = tuple([normalized(i) for i in ids])
        self.code = codes[0] if codes else ""  # normalize-space(cbc:ID) of the first id, '' when there is none
        self.codes = codes  # every id, normalized (for ``cbc:ID[normalize-space(.) = 'X']``)
        self.ids = ids  # every id as written (for ``cbc:ID = 'X'``)
        # its TaxScheme is VAT (``is_vat_scheme``)
        self.vat = any(i is not None and normalized(i.upper()) == "VAT" for i in schemes)
        self.percents = tuple([decimal_of(p) for p in percents])  # xs:decimal of each cbc:Percent


# The texts of a category's ids, of the first id of each of its tax schemes (None for a scheme without
# one) and of its percents.
_Written = tuple[tuple[str, ...], tuple[str | None, ...], tuple[str, ...]]


class Category:
    """A cac:TaxCategory or cac:ClassifiedTaxCategory."""

    __slots__ = ("code", "codes", "el", "ids", "kind", "percents", "vat")

    def __init__(self, el: etree._Element, session: Session, kinds: dict[_Written, Kind]) -> None:
        """``kinds``: the document's kinds of category so far, by what they were read from."""
        children = session.children(el)
        written = (
            tuple(map(string_value, children.get(_ID, ()))),
            tuple([_first_id(s, session) for s in children.get(_TAX_SCHEME, ())]),
            tuple(map(string_value, children.get(_PERCENT, ()))),
        )
        kind = kinds.get(written)
        if kind is None:
            kind = kinds[written] = Kind(written)
        self.el = el
        self.kind = kind
        # The kind's facts, copied: rules read them of many categories.
        self.code = kind.code
        self.codes = kind.codes
        self.ids = kind.ids
        self.vat = kind.vat
        self.percents = kind.percents


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


def _first_id(scheme: etree._Element, session: Session) -> str | None:
    ids = session.children(scheme).get(_ID)
    return string_value(ids[0]) if ids else None


def _is_vat(children: dict[Any, list[etree._Element]]) -> bool:
    """``is_vat_scheme`` on an element whose children are ``children``."""
    for scheme in children.get(_TAX_SCHEME, ()):
        ids = child_index(scheme).get(_ID)
        if ids and normalized(string_value(ids[0]).upper()) == "VAT":
            return True
    return False


def _decimals(elements: list[etree._Element]) -> list[Decimal]:
    values = []
    for el in elements:
        value = decimal_of(string_value(el))
        if value is not None:
            values.append(value)
    return values


class Codes:
    """The ids of a selection of categories, gathered once for the rules that ask whether a code is among them."""

    __slots__ = ("coded", "ids", "vat_coded", "vat_ids", "vat_normalized")

    def __init__(self, kinds: Iterable[Kind]) -> None:
        """From the kinds of the selection's categories."""
        self.coded: set[str] = set()  # normalize-space(cbc:ID) (of the first id), any scheme
        self.ids: set[str] = set()  # every cbc:ID as written, any scheme
        self.vat_coded: set[str] = set()  # normalize-space(cbc:ID) (of the first id) of the VAT categories
        self.vat_ids: set[str] = set()  # every cbc:ID of the VAT categories as written
        self.vat_normalized: set[str] = set()  # every normalized cbc:ID of the VAT categories
        for kind in kinds:
            self.coded.add(kind.code)
            self.ids.update(kind.ids)
            if kind.vat:
                self.vat_coded.add(kind.code)
                self.vat_ids.update(kind.ids)
                self.vat_normalized.update(kind.codes)


class Document:
    """What the cross-document rules need to know, read from the session's tag index."""

    def __init__(self, root: etree._Element, session: Session) -> None:
        self.root = root
        by_tag = session.by_tag
        categories: dict[etree._Element, Category] = {}
        kinds: dict[_Written, Kind] = {}
        self.tax_categories = [Category(el, session, kinds) for el in by_tag.get(_TAX_CATEGORY, ())]
        self.classified = [Category(el, session, kinds) for el in by_tag.get(_CLASSIFIED, ())]
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
        self._sellers = by_tag.get(_SELLER, [])
        self._buyers = by_tag.get(_BUYER, [])
        self._representatives = by_tag.get(_REPRESENTATIVE, [])

        # The ids of each selection of ``_SELECTIONS``. Every check of an invoice asks for all of them, and
        # most documents have one or two kinds of category: selections of the same kinds share their sets.
        self.codes: dict[str, Codes] = {}
        by_kinds: dict[frozenset[Kind], Codes] = {}
        for selection, select in _SELECTIONS.items():
            kinds = frozenset([category.kind for category in select(self)])
            codes = by_kinds.get(kinds)
            if codes is None:
                codes = by_kinds[kinds] = Codes(kinds)
            self.codes[selection] = codes
        self._coded: dict[str, tuple[list[Line], list[Charge]]] = {}

    # The parties' identifiers are read only by the rules of a category the invoice uses, most of them never.
    # (Read through ``child_index``: the document facts keep no reference to the session that holds them.)

    @cached_property
    def _seller_schemes(self) -> list[etree._Element]:
        return [
            s
            for p in self._sellers
            for party in child_index(p).get(_PARTY, ())
            for s in child_index(party).get(_PARTY_TAX_SCHEME, ())
        ]

    @cached_property
    def _buyer_parties(self) -> list[etree._Element]:
        return [party for p in self._buyers for party in child_index(p).get(_PARTY, ())]

    @cached_property
    def seller_tax_id(self) -> bool:
        """BT-31 as some rules read it: any PartyTaxScheme company id, whatever its scheme."""
        return any(_COMPANY_ID in child_index(s) for s in self._seller_schemes)

    @cached_property
    def seller_vat_id(self) -> bool:
        return any(_vat_company_id(s) for s in self._seller_schemes)

    @cached_property
    def representative_vat_id(self) -> bool:
        return any(_vat_company_id(s) for p in self._representatives for s in child_index(p).get(_PARTY_TAX_SCHEME, ()))

    @cached_property
    def buyer_vat_id(self) -> bool:
        return any(_vat_company_id(s) for p in self._buyer_parties for s in child_index(p).get(_PARTY_TAX_SCHEME, ()))

    @cached_property
    def buyer_legal_id(self) -> bool:
        return any(
            _COMPANY_ID in child_index(e)
            for p in self._buyer_parties
            for e in child_index(p).get(_PARTY_LEGAL_ENTITY, ())
        )

    def coded(self, code: str) -> tuple[list[Line], list[Charge]]:
        """The lines and the allowances/charges with a category whose normalized first id is ``code``."""
        found = self._coded.get(code)
        if found is None:
            found = self._coded[code] = (
                [line for line in self.lines if any(c.code == code for c in line.categories)],
                [ac for ac in self.charges if any(c.code == code for c in ac.categories)],
            )
        return found

    def breakdown_count(self, code: str) -> int:
        """How many normalized ids of the VAT breakdown's VAT categories are ``code``."""
        return sum(category.codes.count(code) for category in self.breakdown if category.vat)

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
    "tax categories and lines": lambda d: d.category_of.values(),
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


def _vat_company_id(scheme: etree._Element) -> bool:
    children = child_index(scheme)
    return _COMPANY_ID in children and _is_vat(children)


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
