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
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Final

from lxml import etree

from validators.rules._engine import Flag, Test
from validators.rules._session import child_elements
from validators.rules.en16931_ubl._document import Category, Charge, Document, Line, document
from validators.rules.en16931_ubl._patterns import VAT_CATEGORIES, ctx
from validators.rules.en16931_ubl._values import (
    CAC,
    CBC,
    child_index,
    decimal_in,
    decimal_of,
    descendants,
    double_of,
    exact,
    first_text,
    round_2,
    string_value,
    text_in,
)

FATAL = Flag.FATAL
_ZERO: Final = Decimal(0)
_ONE: Final = 1.0
_PERCENT: Final = CBC + "Percent"
_TAX_AMOUNT: Final = CBC + "TaxAmount"
_TAXABLE_AMOUNT: Final = CBC + "TaxableAmount"
_TAX_EXEMPTION_REASON: Final = CBC + "TaxExemptionReason"
_TAX_EXEMPTION_REASON_CODE: Final = CBC + "TaxExemptionReasonCode"


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


# The category tests of the invoice ask whether a code is among the ids of a selection of categories
# (``Document.codes``): "written" is normalize-space(cbc:ID) in any scheme, "VAT-coded" the same in the
# VAT scheme (``[normalize-space(cbc:ID) = code][VAT scheme]``), "VAT id" any normalized id in the VAT
# scheme (``[VAT scheme]/cbc:ID[normalize-space(.) = code]``).


# --- -01: a used category appears in the VAT breakdown ----------------------------------------------


def _in_breakdown_once(code: str) -> Test:
    def test(el: etree._Element) -> bool:
        d = document(el)
        used = code in d.codes["tax categories and lines"].vat_normalized
        return not used or d.breakdown_count(code) == 1

    return test


def _standard_in_breakdown(el: etree._Element) -> bool:
    d = document(el)
    return ("S" in d.codes["charges and lines"].coded) == ("S" in d.codes["breakdown"].coded)


def _listed_if_used(code: str) -> Test:
    """BR-AF-01 / BR-AG-01: used ⇒ listed, and unused ⇒ not listed (the two halves test slightly differently)."""

    def test(el: etree._Element) -> bool:
        d = document(el)
        breakdown = d.codes["breakdown"]
        if code in d.codes["charges and lines"].vat_coded:
            # IGIC compares the written code in any scheme, IPSI the written code in the VAT scheme.
            return code in (breakdown.ids if code == "L" else breakdown.vat_ids)
        return code not in breakdown.vat_coded

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


def _parties_for(code: str, where: str, used: str, guard: str | None = None) -> Test:
    """``(exists(used) and parties) or not(exists(guard))`` over the categories of ``where``; guard defaults to used.

    ``used`` and ``guard`` name the set of ``Codes`` the code must be in ("vat_coded", "coded", "vat_ids").
    """
    parties = _PARTIES[code]
    guard = guard or used

    def test(el: etree._Element) -> bool:
        d = document(el)
        codes = d.codes[where]
        if code not in getattr(codes, guard):
            return True
        return code in getattr(codes, used) and parties(d)

    return test


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
    for percent in child_elements(el, _PERCENT):
        rate = double_of(string_value(percent))
        if rate is not None and rate > 0:
            return True
    return False


def _rate_not_negative(el: etree._Element) -> bool:
    for percent in child_elements(el, _PERCENT):
        rate = double_of(string_value(percent))
        if rate is not None and rate >= 0:
            return True
    return False


def _rate_zero(el: etree._Element) -> bool:
    percents = child_elements(el, _PERCENT)
    rate = decimal_of(string_value(percents[0])) if percents else None
    return rate is not None and rate == 0


def _no_rate(el: etree._Element) -> bool:
    return not child_elements(el, _PERCENT)


_RATE_TESTS: Final[dict[str, tuple[Test, str, str]]] = {
    "S": (_rate_positive, "greater than zero", "größer als null"),
    "L": (_rate_not_negative, "zero or greater", "null oder größer"),
    "M": (_rate_not_negative, "zero or greater", "null oder größer"),
    "O": (_no_rate, "absent", "nicht angegeben"),
}
_ZERO_RATE: Final = (_rate_zero, "zero", "null")


# --- -08: the breakdown's taxable amount adds up --------------------------------------------------------


def _net_of(lines: list[Line], charges: list[Charge], credit_note: bool) -> Decimal:
    """Line net amounts plus charges minus allowances (document level), of the lines and charges of a category."""
    net = _ZERO
    for line in lines:
        if line.document_level and line.credit_note == credit_note:
            for value in line.net:
                net += value
    charged = allowed = _ZERO
    for ac in charges:
        if ac.document_level:
            if True in ac.indicators:
                for value in ac.amounts:
                    charged += value
            if False in ac.indicators:
                for value in ac.amounts:
                    allowed += value
    return net + charged - allowed


def _taxable_adds_up(code: str) -> Test:
    """Exact: taxable amount = Σ lines + Σ charges − Σ allowances of the category, whatever their rate."""

    @exact
    def test(el: etree._Element) -> bool:
        subtotal = el.getparent()
        taxable = decimal_in(child_index(subtotal), _TAXABLE_AMOUNT) if subtotal is not None else None
        if taxable is None:
            return False
        d = document(el)
        lines, charges = d.coded(code)
        return (d.has_invoice_line and taxable == _net_of(lines, charges, False)) or (
            d.has_credit_note_line and taxable == _net_of(lines, charges, True)
        )

    return test


def _taxable_adds_up_per_rate(code: str) -> Test:
    """Per rate, within one unit: taxable amount ≈ Σ lines + Σ charges − Σ allowances with that code and rate."""

    @exact
    def test(el: etree._Element) -> bool:
        percents = child_elements(el, _PERCENT)
        if not percents:
            return True
        rate = decimal_of(string_value(percents[0]))
        subtotal = el.getparent()
        taxable = double_of(text_in(child_index(subtotal), _TAXABLE_AMOUNT)) if subtotal is not None else None
        if rate is None or taxable is None or not math.isfinite(taxable):
            return False
        # The official test subtracts/adds 1 in double precision before converting back to decimal.
        low, high = taxable - _ONE, taxable + _ONE

        def rated(categories: list[Category]) -> bool:
            return any(rate in c.percents for c in categories)

        d = document(el)
        coded_lines, coded_charges = d.coded(code)
        lines = [line for line in coded_lines if rated(line.categories)]
        charges = [ac for ac in coded_charges if rated(ac.categories)]
        for credit_note in (False, True):
            if code == "S":
                present = any(line.credit_note == credit_note for line in lines) or bool(charges)
            else:
                present = d.has_credit_note_line if credit_note else d.has_invoice_line
            if present and _between(low, _net_of(lines, charges, credit_note), high):
                return True
        return False

    return test


def _between(low: float, value: Decimal, high: float) -> bool:
    """``xs:decimal(low) < value < xs:decimal(high)``, exactly.

    Converting a double to a decimal costs three times converting the decimal to the nearest double.
    Rounding to nearest keeps order and the bounds are doubles, so where the nearest double is strictly
    inside or outside the bounds, so is the value; only a tie needs the exact comparison.
    """
    nearest = float(value)
    if low < nearest < high:
        return True
    if nearest < low or nearest > high:
        return False
    return Decimal(low) < value < Decimal(high)


# --- -09: the breakdown's tax amount ---------------------------------------------------------------------


@exact
def _tax_is_rate_of_taxable(el: etree._Element) -> bool:
    subtotal = el.getparent()
    if subtotal is None:
        return False
    amounts = child_index(subtotal)
    tax, taxable = decimal_in(amounts, _TAX_AMOUNT), decimal_in(amounts, _TAXABLE_AMOUNT)
    percents = child_elements(el, _PERCENT)
    rate = decimal_of(string_value(percents[0])) if percents else None
    if tax is None or taxable is None or rate is None:
        return False
    expected = round_2(abs(taxable) * (rate / 100))
    return abs(tax) - 1 < expected < abs(tax) + 1


def _tax_is_zero(el: etree._Element) -> bool:
    subtotal = el.getparent()
    tax = decimal_in(child_index(subtotal), _TAX_AMOUNT) if subtotal is not None else None
    return tax is not None and tax == 0


# --- -10: exemption reason ---------------------------------------------------------------------------------


def _exemption_given(el: etree._Element) -> bool:
    category = child_index(el)
    return _TAX_EXEMPTION_REASON in category or _TAX_EXEMPTION_REASON_CODE in category


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

    if code == "S":
        # The line rule's "not used" half ignores the scheme: a non-VAT "S" line category needs the identifier too.
        line_test = _parties_for(code, "lines", "vat_coded", guard="coded")
    else:
        line_test = _parties_for(code, "lines", "vat_coded")
    if code == "G":
        allowance_test = _parties_for(code, "allowances", "coded", guard="vat_coded")
        charge_test = _parties_for(code, "charges", "coded", guard="vat_coded")
    elif code == "O":
        allowance_test = _parties_for(code, "document allowances", "vat_coded")
        charge_test = _parties_for(code, "document charges", "vat_coded")
    elif code == "L":
        allowance_test = _parties_for(code, "allowances", "vat_coded")
        charge_test = _parties_for(code, "charges", "vat_coded", guard="vat_ids")
    else:
        allowance_test = _parties_for(code, "allowances", "vat_coded")
        charge_test = _parties_for(code, "charges", "vat_coded")
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
    return "K" in d.codes["breakdown"].vat_normalized


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


def _only_not_subject(where: str) -> Test:
    def test(el: etree._Element) -> bool:
        d = document(el)
        if "O" not in d.codes["breakdown"].vat_normalized:
            return True
        return d.codes[where].vat_coded <= _NOT_SUBJECT

    return test


_NOT_SUBJECT: Final = frozenset({"O"})

for _rule, _what, _what_de, _where in (
    ("BR-O-11", "other VAT breakdowns", "andere Aufschlüsselungen", "breakdown"),
    ("BR-O-12", "lines of another VAT category", "Positionen anderer Kategorien", "lines"),
    ("BR-O-13", "document allowances of another VAT category", "Nachlässe anderer Kategorien", "allowances"),
    ("BR-O-14", "document charges of another VAT category", "Zuschläge anderer Kategorien", "charges"),
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
    if "B" not in document(el).codes["tax categories and lines"].ids:
        return True
    return all(string_value(code) == "IT" for code in descendants(el, CBC + "IdentificationCode"))


@ctx.invoice.check(
    "BR-B-02",
    FATAL,
    terms=("BT-151", "BT-95", "BT-102"),
    en='An Invoice with VAT category "Split payment" must not also use "Standard rated".',
    de="Eine Rechnung mit Split Payment darf nicht zugleich den Normalsatz verwenden.",
)
def split_payment_not_standard(el: etree._Element) -> bool:
    d = document(el)
    used = d.codes["top-level charges and lines"].ids
    split = "B" in d.codes["breakdown"].ids or "B" in used
    if not split:
        return True
    # As written, the standard-rate side reads an id directly under TaxSubtotal, which UBL does not have.
    standard_breakdown = any(
        string_value(i) == "S"
        for t in child_elements(el, CAC + "TaxTotal")
        for s in child_elements(t, CAC + "TaxSubtotal")
        for i in child_elements(s, CBC + "ID")
    )
    return not (standard_breakdown or "S" in used)
