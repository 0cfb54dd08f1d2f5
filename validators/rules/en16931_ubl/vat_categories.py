"""EN 16931 VAT category rules in the UBL binding: BR-S, BR-Z, BR-E, BR-AE, BR-IC, BR-G, BR-O,
BR-AF (IGIC, code L), BR-AG (IPSI, code M) and BR-B (split payment).

Each category has the same ten-rule shape (-01 … -10): used categories appear in the VAT breakdown,
the seller (and sometimes the buyer) is identified, rates fit the category, the breakdown's taxable
and tax amounts add up, and exemption reasons are present or absent. The differences between the
official tests of the categories are kept deliberately, including their quirks (which ones filter
on the VAT scheme, which compare trimmed or written codes), because the official results follow them.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Final

from lxml import etree

from validators.rules._engine import Flag, Test
from validators.rules._session import child_elements, first_child
from validators.rules.en16931_ubl._document import Category, Charge, Document, document
from validators.rules.en16931_ubl._patterns import VAT_CATEGORIES, ctx
from validators.rules.en16931_ubl._values import (
    CAC,
    CBC,
    decimal_of,
    double_of,
    exact,
    first_decimal,
    first_text,
    has,
    round_2,
    string_value,
)

FATAL = Flag.FATAL
_ZERO: Final = Decimal(0)
_ONE: Final = 1.0


@dataclass(frozen=True)
class _Kind:
    prefix: str  # rule id prefix, e.g. "BR-AE"
    code: str  # UNCL5305 category code
    en: str
    de: str


_KINDS: Final = {
    k.code: k
    for k in (
        _Kind("BR-AE", "AE", "Reverse charge", "Umkehrung der Steuerschuldnerschaft"),
        _Kind("BR-E", "E", "Exempt from VAT", "steuerbefreit"),
        _Kind("BR-G", "G", "Export outside the EU", "Ausfuhr außerhalb der EU"),
        _Kind("BR-IC", "K", "Intra-community supply", "innergemeinschaftliche Lieferung"),
        _Kind("BR-AF", "L", "IGIC", "IGIC"),
        _Kind("BR-AG", "M", "IPSI", "IPSI"),
        _Kind("BR-O", "O", "Not subject to VAT", "nicht steuerbar"),
        _Kind("BR-S", "S", "Standard rated", "Normalsatz"),
        _Kind("BR-Z", "Z", "Zero rated", "Nullsatz"),
    )
}
# Categories whose rate may be positive: their breakdown is checked per rate and tax is computed.
_RATED: Final = ("S", "L", "M")


def _vat_with_id(category: Category, code: str) -> bool:
    """``[VAT scheme]/cbc:ID[normalize-space(.) = code]``: any of its ids."""
    return category.vat and code in category.codes


def _vat_coded(category: Category, code: str) -> bool:
    """``[normalize-space(cbc:ID) = code][VAT scheme]``: the (first) id."""
    return category.vat and category.code == code


def _charge_categories(charges: Iterable[Charge]) -> list[Category]:
    return [c for ac in charges for c in ac.categories]


# --- -01: a used category appears in the VAT breakdown ----------------------------------------------


def _in_breakdown_once(code: str) -> Test:
    def test(el: etree._Element) -> bool:
        d = document(el)
        used = any(_vat_with_id(c, code) for c in d.tax_categories) or any(_vat_with_id(c, code) for c in d.classified)
        return not used or sum(c.codes.count(code) for c in d.breakdown if c.vat) == 1

    return test


def _standard_in_breakdown(el: etree._Element) -> bool:
    d = document(el)
    used = sum(c.code == "S" for c in _charge_categories(d.charges)) + sum(c.code == "S" for c in d.classified)
    listed = sum(c.code == "S" for c in d.breakdown)
    return (used > 0) == (listed > 0)


def _listed_if_used(code: str) -> Test:
    """BR-AF-01 / BR-AG-01: used ⇒ listed, and unused ⇒ not listed (the two halves test slightly differently)."""

    def test(el: etree._Element) -> bool:
        d = document(el)
        used = sum(_vat_coded(c, code) for c in _charge_categories(d.charges)) + sum(
            _vat_coded(c, code) for c in d.classified
        )
        if used:
            # IGIC compares the written code in any scheme, IPSI the written code in the VAT scheme.
            return any(code in c.ids and (c.vat or code == "L") for c in d.breakdown)
        return not any(_vat_coded(c, code) for c in d.breakdown)

    return test


# --- -02/-03/-04: parties identified for lines, allowances, charges of the category --------------------


def _seller_or_representative(d: Document) -> bool:
    return d.seller_tax_id or d.representative_vat_id


_PARTIES: Final[dict[str, Callable[[Document], bool]]] = {
    "S": _seller_or_representative,
    "Z": _seller_or_representative,
    "E": _seller_or_representative,
    "L": _seller_or_representative,
    "M": _seller_or_representative,
    "AE": lambda d: _seller_or_representative(d) and (d.buyer_vat_id or d.buyer_legal_id),
    "K": lambda d: (d.seller_vat_id or d.representative_vat_id) and d.buyer_vat_id,
    "G": lambda d: d.seller_vat_id or d.representative_vat_id,
    # Not subject to VAT: no VAT identifier at all.
    "O": lambda d: not (d.seller_vat_id or d.representative_vat_id or d.buyer_vat_id),
}


def _parties_for(
    code: str,
    where: Callable[[Document], list[Category]],
    used: Callable[[Category], bool],
    guard: Callable[[Category], bool] | None = None,
) -> Test:
    """``(exists(used) and parties) or not(exists(guard))``; guard defaults to used."""
    parties = _PARTIES[code]
    guard = guard or used

    def test(el: etree._Element) -> bool:
        d = document(el)
        categories = where(d)
        if not any(guard(c) for c in categories):
            return True
        return any(used(c) for c in categories) and parties(d)

    return test


def _classified(d: Document) -> list[Category]:
    return d.classified


def _allowance_categories(d: Document) -> list[Category]:
    return _charge_categories(d.any_charges(False))


def _charge_categories_any(d: Document) -> list[Category]:
    return _charge_categories(d.any_charges(True))


_PARTIES_TEXT: Final = {
    "S": (
        "must contain the Seller VAT or tax identifier or the tax representative VAT identifier",
        "muss die Umsatzsteuer- oder Steuernummer des Verkäufers oder seines Steuervertreters enthalten",
    ),
    "AE": (
        "must identify the Seller (or tax representative) and the Buyer",
        "muss Verkäufer (oder Steuervertreter) und Käufer identifizieren",
    ),
    "K": (
        "must contain the Seller (or tax representative) and the Buyer VAT identifiers",
        "muss die Umsatzsteuer-IDs von Verkäufer (oder Steuervertreter) und Käufer enthalten",
    ),
    "G": (
        "must contain the Seller or tax representative VAT identifier",
        "muss die Umsatzsteuer-ID des Verkäufers oder seines Steuervertreters enthalten",
    ),
    "O": (
        "must not contain a VAT identifier of the Seller, tax representative or Buyer",
        "darf keine Umsatzsteuer-ID von Verkäufer, Steuervertreter oder Käufer enthalten",
    ),
}


# --- -05/-06/-07: the rate of a line, allowance or charge of the category -----------------------------


def _rate_positive(el: etree._Element) -> bool:
    return any((v := double_of(string_value(p))) is not None and v > 0 for p in child_elements(el, CBC + "Percent"))


def _rate_not_negative(el: etree._Element) -> bool:
    return any((v := double_of(string_value(p))) is not None and v >= 0 for p in child_elements(el, CBC + "Percent"))


def _rate_zero(el: etree._Element) -> bool:
    rate = first_decimal(el, "cbc:Percent")
    return rate is not None and rate == 0


def _no_rate(el: etree._Element) -> bool:
    return first_child(el, CBC + "Percent") is None


_RATE_TESTS: Final[dict[str, tuple[Test, str, str]]] = {
    "S": (_rate_positive, "greater than zero", "größer als null"),
    "L": (_rate_not_negative, "zero or greater", "null oder größer"),
    "M": (_rate_not_negative, "zero or greater", "null oder größer"),
    "O": (_no_rate, "absent", "nicht angegeben"),
}
_ZERO_RATE: Final = (_rate_zero, "zero", "null")


# --- -08: the breakdown's taxable amount adds up --------------------------------------------------------


def _net_of(d: Document, credit_note: bool, matches: Callable[[tuple[Category, ...]], bool]) -> Decimal:
    """Line net amounts plus charges minus allowances (document level) of the category."""

    def amounts(charge: bool) -> Decimal:
        return sum((v for ac in d.document_charges(charge) if matches(ac.categories) for v in ac.amounts), _ZERO)

    lines = sum((v for line in d.top_lines(credit_note) if matches(line.categories) for v in line.net), _ZERO)
    return lines + amounts(True) - amounts(False)


def _taxable_adds_up(code: str) -> Test:
    """Exact: taxable amount = Σ lines + Σ charges − Σ allowances of the category, whatever their rate."""

    def matches(categories: tuple[Category, ...]) -> bool:
        return any(c.code == code for c in categories)

    @exact
    def test(el: etree._Element) -> bool:
        subtotal = el.getparent()
        taxable = first_decimal(subtotal, "cbc:TaxableAmount") if subtotal is not None else None
        if taxable is None:
            return False
        d = document(el)
        return (d.has_invoice_line and taxable == _net_of(d, False, matches)) or (
            d.has_credit_note_line and taxable == _net_of(d, True, matches)
        )

    return test


def _taxable_adds_up_per_rate(code: str) -> Test:
    """Per rate, within one unit: taxable amount ≈ Σ lines + Σ charges − Σ allowances with that code and rate."""

    @exact
    def test(el: etree._Element) -> bool:
        percents = list(child_elements(el, CBC + "Percent"))
        if not percents:
            return True
        rate = decimal_of(string_value(percents[0]))
        subtotal = el.getparent()
        taxable = double_of(first_text(subtotal, "cbc:TaxableAmount")) if subtotal is not None else None
        if rate is None or taxable is None or not math.isfinite(taxable):
            return False
        # The official test subtracts/adds 1 in double precision before converting back to decimal.
        low, high = Decimal(taxable - _ONE), Decimal(taxable + _ONE)

        def matches(categories: tuple[Category, ...]) -> bool:
            return any(c.code == code for c in categories) and any(c.rated(rate) for c in categories)

        d = document(el)
        for credit_note in (False, True):
            if code == "S":
                present = any(line.credit_note == credit_note and matches(line.categories) for line in d.lines) or any(
                    matches(ac.categories) for ac in d.charges
                )
            else:
                present = d.has_credit_note_line if credit_note else d.has_invoice_line
            if present and low < _net_of(d, credit_note, matches) < high:
                return True
        return False

    return test


# --- -09: the breakdown's tax amount ---------------------------------------------------------------------


@exact
def _tax_is_rate_of_taxable(el: etree._Element) -> bool:
    subtotal = el.getparent()
    if subtotal is None:
        return False
    tax, taxable = first_decimal(subtotal, "cbc:TaxAmount"), first_decimal(subtotal, "cbc:TaxableAmount")
    rate = first_decimal(el, "cbc:Percent")
    if tax is None or taxable is None or rate is None:
        return False
    expected = round_2(abs(taxable) * (rate / 100))
    return abs(tax) - 1 < expected < abs(tax) + 1


def _tax_is_zero(el: etree._Element) -> bool:
    subtotal = el.getparent()
    tax = first_decimal(subtotal, "cbc:TaxAmount") if subtotal is not None else None
    return tax is not None and tax == 0


# --- -10: exemption reason ---------------------------------------------------------------------------------


def _exemption_given(el: etree._Element) -> bool:
    return has(el, "cbc:TaxExemptionReason") or has(el, "cbc:TaxExemptionReasonCode")


def _no_exemption(el: etree._Element) -> bool:
    return not _exemption_given(el)


# --- registration -------------------------------------------------------------------------------------------


def _register(kind: _Kind) -> None:
    code, p, name, name_de = kind.code, kind.prefix, kind.en, kind.de
    contexts = VAT_CATEGORIES[code]
    inv = ctx.invoice
    quoted, quoted_de = f'"{name}"', f"„{name_de}“"

    # -01
    if code == "S":
        first: Test = _standard_in_breakdown
    elif code in ("L", "M"):
        first = _listed_if_used(code)
    else:
        first = _in_breakdown_once(code)
    how_many = "at least one" if code in _RATED else "exactly one"
    how_many_de = "mindestens eine" if code in _RATED else "genau eine"
    inv.check(
        f"{p}-01",
        FATAL,
        terms=("BG-23", "BT-118"),
        en=f"An Invoice using VAT category {quoted} needs {how_many} VAT breakdown with that category.",
        de=f"Eine Rechnung mit Umsatzsteuerkategorie {quoted_de} braucht {how_many_de} Aufschlüsselung "
        "dieser Kategorie.",
    )(first)

    # -02/-03/-04
    need, need_de = _PARTIES_TEXT.get(code, _PARTIES_TEXT["S"])

    def vat_coded(c: Category) -> bool:
        return _vat_coded(c, code)

    if code == "S":
        # The line rule's "not used" half ignores the scheme: a non-VAT "S" line category needs the identifier too.
        line_test = _parties_for(code, _classified, vat_coded, guard=lambda c: c.code == "S")
    else:
        line_test = _parties_for(code, _classified, vat_coded)
    if code == "G":
        allowance_test = _parties_for(code, _allowance_categories, lambda c: c.code == "G", guard=vat_coded)
        charge_test = _parties_for(code, _charge_categories_any, lambda c: c.code == "G", guard=vat_coded)
    elif code == "O":
        allowance_test = _parties_for(code, lambda d: _charge_categories(d.document_charges(False)), vat_coded)
        charge_test = _parties_for(code, lambda d: _charge_categories(d.document_charges(True)), vat_coded)
    elif code == "L":
        allowance_test = _parties_for(code, _allowance_categories, vat_coded)
        charge_test = _parties_for(code, _charge_categories_any, vat_coded, guard=lambda c: c.vat and "L" in c.ids)
    else:
        allowance_test = _parties_for(code, _allowance_categories, vat_coded)
        charge_test = _parties_for(code, _charge_categories_any, vat_coded)
    for suffix, what, what_de, test, term in (
        ("02", "an Invoice line", "eine Rechnungsposition", line_test, "BT-151"),
        ("03", "a Document level allowance", "einen Nachlass auf Dokumentenebene", allowance_test, "BT-95"),
        ("04", "a Document level charge", "einen Zuschlag auf Dokumentenebene", charge_test, "BT-102"),
    ):
        inv.check(
            f"{p}-{suffix}",
            FATAL,
            terms=(term, "BT-31", "BT-63"),
            en=f"An Invoice with {what} in VAT category {quoted} {need}.",
            de=f"Eine Rechnung mit Umsatzsteuerkategorie {quoted_de} für {what_de} {need_de}.",
        )(test)

    # -05/-06/-07
    rate_test, rate_en, rate_de = _RATE_TESTS.get(code, _ZERO_RATE)
    for suffix, context, what, what_de, term in (
        ("05", contexts.line, "Invoiced item VAT rate", "Umsatzsteuersatz der Position", "BT-152"),
        ("06", contexts.allowance, "Document level allowance VAT rate", "Steuersatz des Nachlasses", "BT-96"),
        ("07", contexts.charge, "Document level charge VAT rate", "Steuersatz des Zuschlags", "BT-103"),
    ):
        context.check(
            f"{p}-{suffix}",
            FATAL,
            terms=(term,),
            en=f"In VAT category {quoted} the {what} must be {rate_en}.",
            de=f"In Umsatzsteuerkategorie {quoted_de} muss der {what_de} {rate_de} sein.",
        )(rate_test)

    # -08/-09/-10
    rated = code in _RATED
    contexts.breakdown.check(
        f"{p}-08",
        FATAL,
        terms=("BT-116", "BT-131", "BT-92", "BT-99"),
        en=f"The taxable amount of VAT category {quoted} must equal its line net amounts plus charges minus "
        "allowances" + (" (per rate)." if rated else "."),
        de=f"Die Steuerbasis der Kategorie {quoted_de} muss der Summe ihrer Positionen plus Zuschläge minus "
        "Nachlässe entsprechen" + (" (je Steuersatz)." if rated else "."),
    )(_taxable_adds_up_per_rate(code) if rated else _taxable_adds_up(code))
    contexts.breakdown.check(
        f"{p}-09",
        FATAL,
        terms=("BT-117",),
        en=f"The tax amount of VAT category {quoted} must "
        + ("equal taxable amount times rate." if rated else "be zero."),
        de=f"Der Steuerbetrag der Kategorie {quoted_de} muss "
        + ("Steuerbasis mal Steuersatz sein." if rated else "null sein."),
    )(_tax_is_rate_of_taxable if rated else _tax_is_zero)
    exempt = code not in (*_RATED, "Z")
    contexts.breakdown.check(
        f"{p}-10",
        FATAL,
        terms=("BT-120", "BT-121"),
        en=f"A VAT breakdown in category {quoted} must "
        + ("have a VAT exemption reason or reason code." if exempt else "not have a VAT exemption reason."),
        de=f"Eine Aufschlüsselung der Kategorie {quoted_de} "
        + ("braucht einen Befreiungsgrund oder -code." if exempt else "darf keinen Befreiungsgrund haben."),
    )(_exemption_given if exempt else _no_exemption)


# Registration order follows the official list of the invoice context: AE, E, G, IC, AF, AG, O, S, Z.
for _code in ("AE", "E", "G", "K", "L", "M", "O", "S", "Z"):
    _register(_KINDS[_code])


# --- intra-community supply: delivery facts -----------------------------------------------------------------


def _has_intra_community_breakdown(d: Document) -> bool:
    return any(_vat_with_id(c, "K") for c in d.breakdown)


@ctx.invoice.check(
    "BR-IC-11",
    FATAL,
    terms=("BT-72", "BG-14"),
    en='With an "Intra-community supply" breakdown, the Actual delivery date or the Invoicing period must be given.',
    de="Bei innergemeinschaftlicher Lieferung muss das Lieferdatum oder der Rechnungszeitraum angegeben sein.",
)
def intra_community_delivery_date(el: etree._Element) -> bool:
    if not _has_intra_community_breakdown(document(el)):
        return True
    delivered = first_text(el, "cac:Delivery/cbc:ActualDeliveryDate")
    return (delivered is not None and len(delivered) > 1) or any(
        isinstance(c.tag, str) for p in child_elements(el, CAC + "InvoicePeriod") for c in p
    )


@ctx.invoice.check(
    "BR-IC-12",
    FATAL,
    terms=("BT-80",),
    en='With an "Intra-community supply" breakdown, the Deliver to country code must be given.',
    de="Bei innergemeinschaftlicher Lieferung muss der Ländercode der Lieferanschrift angegeben sein.",
)
def intra_community_delivery_country(el: etree._Element) -> bool:
    if not _has_intra_community_breakdown(document(el)):
        return True
    country = first_text(el, "cac:Delivery/cac:DeliveryLocation/cac:Address/cac:Country/cbc:IdentificationCode")
    return country is not None and len(country) > 1


# --- not subject to VAT: nothing else on the invoice ---------------------------------------------------------


def _only_not_subject(where: Callable[[Document], list[Category]]) -> Test:
    def test(el: etree._Element) -> bool:
        d = document(el)
        if not any(_vat_with_id(c, "O") for c in d.breakdown):
            return True
        return not any(c.vat and c.code != "O" for c in where(d))

    return test


for _rule, _what, _what_de, _where in (
    ("BR-O-11", "other VAT breakdowns", "andere Aufschlüsselungen", lambda d: d.breakdown),
    ("BR-O-12", "lines of another VAT category", "Positionen anderer Kategorien", _classified),
    ("BR-O-13", "document allowances of another VAT category", "Nachlässe anderer Kategorien", _allowance_categories),
    ("BR-O-14", "document charges of another VAT category", "Zuschläge anderer Kategorien", _charge_categories_any),
):
    ctx.invoice.check(
        _rule,
        FATAL,
        terms=("BT-118",),
        en=f'An Invoice with a "Not subject to VAT" breakdown must not contain {_what}.',
        de=f"Eine Rechnung mit nicht steuerbarer Aufschlüsselung darf keine {_what_de} enthalten.",
    )(_only_not_subject(_where))


# --- split payment (category B) -----------------------------------------------------------------------------


@ctx.invoice.check(
    "BR-B-01",
    FATAL,
    terms=("BT-151", "BT-95", "BT-102"),
    en='An Invoice with VAT category "Split payment" must be a domestic Italian invoice.',
    de="Eine Rechnung mit Split Payment muss eine italienische Inlandsrechnung sein.",
)
def split_payment_domestic(el: etree._Element) -> bool:
    d = document(el)
    if not any("B" in c.ids for c in (*d.tax_categories, *d.classified)):
        return True
    return all(string_value(code) == "IT" for code in el.iter(CBC + "IdentificationCode"))


@ctx.invoice.check(
    "BR-B-02",
    FATAL,
    terms=("BT-151", "BT-95", "BT-102"),
    en='An Invoice with VAT category "Split payment" must not also use "Standard rated".',
    de="Eine Rechnung mit Split Payment darf nicht zugleich den Normalsatz verwenden.",
)
def split_payment_not_standard(el: etree._Element) -> bool:
    d = document(el)
    top_level = _charge_categories(ac for ac in d.charges if ac.document_level)

    def uses(code: str, breakdown: bool) -> bool:
        return breakdown or any(code in c.ids for c in top_level) or any(code in c.ids for c in d.classified)

    split = uses("B", any("B" in c.ids for c in d.breakdown))
    # As written, the standard-rate side reads an id directly under TaxSubtotal, which UBL does not have.
    standard_breakdown = any(
        string_value(i) == "S"
        for t in child_elements(el, CAC + "TaxTotal")
        for s in child_elements(t, CAC + "TaxSubtotal")
        for i in child_elements(s, CBC + "ID")
    )
    return not split or not uses("S", standard_breakdown)
