"""EN 16931 CII model: the rules of each VAT category (BR-S, -Z, -E, -AE, -IC, -G, -O, -AF, -AG).

Every category has the same skeleton: -02/-03/-04 ask for the right party identifiers when a
line, allowance or charge uses the category, -05/-06/-07 constrain its rate, and -08 … -10
check the category's VAT breakdown (taxable amount, tax amount, exemption reason). The
official tests differ in detail from category to category, and those details are kept: the
tolerance of the taxable-amount check, absolute versus anywhere (``//``) party paths, and
which node ``..`` refers to.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

from lxml import etree

from validators.rules._engine import Fail, Flag
from validators.rules.en16931_cii._patterns import CATEGORY, Kind
from validators.rules.en16931_cii._values import (
    XPath,
    as_decimal,
    as_double,
    cents,
    dadd,
    dec_to_double,
    dsub,
    first,
    round_double,
    select,
    sum_decimals,
    text,
)
from validators.rules.en16931_cii.amounts import indicator_is

__all__: list[str] = []

FATAL = Flag.FATAL

_TRANSACTION = "/rsm:CrossIndustryInvoice/rsm:SupplyChainTradeTransaction"
_LINE_SETTLEMENTS = XPath(f"{_TRANSACTION}/ram:IncludedSupplyChainTradeLineItem/ram:SpecifiedLineTradeSettlement")
_HEADER_ALLOWANCES_CHARGES = XPath(
    f"{_TRANSACTION}/ram:ApplicableHeaderTradeSettlement/ram:SpecifiedTradeAllowanceCharge"
)

# Party identifiers, as the tests of the different categories address them.
_SELLER_VAT_OR_TAX_NO = XPath(
    f"boolean({_TRANSACTION}/ram:ApplicableHeaderTradeAgreement/ram:SellerTradeParty"
    "/ram:SpecifiedTaxRegistration/ram:ID[@schemeID='VA' or @schemeID='FC'])"
)
_SELLER_VAT = XPath(
    f"boolean({_TRANSACTION}/ram:ApplicableHeaderTradeAgreement/ram:SellerTradeParty"
    "/ram:SpecifiedTaxRegistration/ram:ID[@schemeID='VA'])"
)
_REPRESENTATIVE_VAT = XPath(
    f"boolean({_TRANSACTION}/ram:ApplicableHeaderTradeAgreement/ram:SellerTaxRepresentativeTradeParty"
    "/ram:SpecifiedTaxRegistration/ram:ID[@schemeID='VA'])"
)
_ANY_SELLER_VAT_OR_TAX_NO = XPath(
    "boolean(//ram:SellerTradeParty/ram:SpecifiedTaxRegistration/ram:ID[@schemeID='VA' or @schemeID='FC'])"
)
_ANY_SELLER_VAT = XPath("boolean(//ram:SellerTradeParty/ram:SpecifiedTaxRegistration/ram:ID[@schemeID='VA'])")
_ANY_REPRESENTATIVE_VAT = XPath(
    "boolean(//ram:SellerTaxRepresentativeTradeParty/ram:SpecifiedTaxRegistration/ram:ID[@schemeID='VA'])"
)
_ANY_BUYER_VAT = XPath("boolean(//ram:BuyerTradeParty/ram:SpecifiedTaxRegistration/ram:ID[@schemeID='VA'])")
_ANY_BUYER_LEGAL_ID = XPath("boolean(//ram:BuyerTradeParty/ram:SpecifiedLegalOrganization/ram:ID)")


def _seller_identified(node: etree._Element) -> bool:
    return bool(_SELLER_VAT_OR_TAX_NO(node) or _REPRESENTATIVE_VAT(node))


def _seller_and_buyer_identified(node: etree._Element) -> bool:
    seller = _ANY_SELLER_VAT_OR_TAX_NO(node) or _ANY_REPRESENTATIVE_VAT(node)
    return bool(seller and (_ANY_BUYER_VAT(node) or _ANY_BUYER_LEGAL_ID(node)))


def _seller_vat_identified(node: etree._Element) -> bool:
    return bool(_ANY_SELLER_VAT(node) or _ANY_REPRESENTATIVE_VAT(node))


def _seller_and_buyer_vat_identified(node: etree._Element) -> bool:
    return _seller_vat_identified(node) and bool(_ANY_BUYER_VAT(node))


def _no_vat_identifiers(node: etree._Element) -> bool:
    return not (_SELLER_VAT(node) or _REPRESENTATIVE_VAT(node) or _ANY_BUYER_VAT(node))


# --- rates -----------------------------------------------------------------------------------


def _rates(tax: etree._Element) -> list[float | None]:
    return [as_double(text(r)) for r in select(tax, "ram:RateApplicablePercent")]


def _rate_zero(tax: etree._Element) -> bool:
    return any(r is not None and r == 0 for r in _rates(tax))


def _rate_positive(tax: etree._Element) -> bool:
    return any(r is not None and r > 0 for r in _rates(tax))


def _rate_not_negative(tax: etree._Element) -> bool:
    return any(r is not None and r >= 0 for r in _rates(tax))


def _rate_absent(tax: etree._Element) -> bool:
    return first(tax, "ram:RateApplicablePercent") is None


# --- the taxable amount a category should have -----------------------------------------------

_ANY_RATE = object()


def _matches(taxes: list[etree._Element], code: str, rate: object) -> bool | None:
    """Some tax element has the code and (unless any rate will do) some has the rate; None: a rate is not a decimal."""
    if not any(text(c) == code for t in taxes for c in select(t, "ram:CategoryCode")):
        return False
    if rate is _ANY_RATE:
        return True
    rates = [as_decimal(text(r)) for t in taxes for r in select(t, "ram:RateApplicablePercent")]
    if any(r is None for r in rates):
        return None
    return rate in rates


def _first_decimals(parents: list[etree._Element], element: str) -> list[Decimal | None]:
    """``parents/xs:decimal(element)``: one value per parent that has the element."""
    out: list[Decimal | None] = []
    for parent in parents:
        found = first(parent, f"ram:{element}")
        if found is not None:
            out.append(as_decimal(text(found)))
    return out


def _expected_basis(node: etree._Element, code: str, rate: object = _ANY_RATE) -> Decimal | None:
    """Rounded line net sum + rounded charges - rounded allowances of the category (and rate)."""
    line_amounts: list[Decimal | None] = []
    for settlement in _LINE_SETTLEMENTS(node):
        matched = _matches(select(settlement, "ram:ApplicableTradeTax"), code, rate)
        if matched is None:
            return None
        if matched:
            summaries = select(settlement, "ram:SpecifiedTradeSettlementLineMonetarySummation")
            line_amounts.extend(_first_decimals(summaries, "LineTotalAmount"))
    charges: list[etree._Element] = []
    allowances: list[etree._Element] = []
    for item in _HEADER_ALLOWANCES_CHARGES(node):
        for charge, bucket in ((True, charges), (False, allowances)):
            if indicator_is(item, charge):
                matched = _matches(select(item, "ram:CategoryTradeTax"), code, rate)
                if matched is None:
                    return None
                if matched:
                    bucket.append(item)
    lines_sum = sum_decimals(line_amounts)
    charges_sum = sum_decimals(_first_decimals(charges, "ActualAmount"))
    allowances_sum = sum_decimals(_first_decimals(allowances, "ActualAmount"))
    if lines_sum is None or charges_sum is None or allowances_sum is None:
        return None
    return dsub(dadd(cents(lines_sum), cents(charges_sum)), cents(allowances_sum))


def _single_double(tax: etree._Element, element: str) -> float | None:
    """An untyped value used in arithmetic: exactly one, cast to xs:double."""
    found = select(tax, f"ram:{element}")
    return as_double(text(found[0])) if len(found) == 1 else None


def _basis_within_one(tax: etree._Element, code: str) -> bool | Fail:
    """Taxable amount within ±1 (exclusive) of the expected amount (AE, E, G, K, Z)."""
    expected = _expected_basis(tax, code)
    basis = _single_double(tax, "BasisAmount")
    if expected is None or basis is None:
        return False
    target = dec_to_double(expected)
    return (basis - 1 < target < basis + 1) or Fail(value=f"{basis} vs {expected}")


def _basis_equal(tax: etree._Element, code: str) -> bool | Fail:
    """Taxable amount equal to the expected amount (O)."""
    expected = _expected_basis(tax, code)
    if expected is None:
        return False
    target = dec_to_double(expected)
    return any(as_double(text(b)) == target for b in select(tax, "ram:BasisAmount")) or Fail(value=str(expected))


def _basis_per_rate(holder: etree._Element, code: str) -> bool | Fail:
    """For every rate of the holder, its taxable amount equals the expected amount at that rate (S, L, M).

    The holder is the context's parent: the breakdown for S, but for L and M (whose context
    is the breakdown itself) the settlement, which has no rate, so those checks hold trivially.
    """
    for raw in select(holder, "ram:RateApplicablePercent"):
        rate = as_decimal(text(raw))
        expected = None if rate is None else _expected_basis(holder, code, rate)
        if expected is None:
            return False
        target = dec_to_double(expected)
        if not any(as_double(text(b)) == target for b in select(holder, "ram:BasisAmount")):
            return Fail(value=f"rate {rate}: {expected}")
    return True


def _standard_tax_amount(tax: etree._Element) -> bool | Fail:
    """BR-S-09: |tax| within ±1 (exclusive) of round(|basis| x rate) / 100, computed in xs:double."""
    amount = as_decimal(_only_text(tax, "CalculatedAmount"))
    basis = as_decimal(_only_text(tax, "BasisAmount"))
    rate = _single_double(tax, "RateApplicablePercent")
    if amount is None or basis is None or rate is None:
        return False
    target = round_double(dec_to_double(abs(basis)) * rate) / 100
    low = dec_to_double(dsub(abs(amount), Decimal(1)))
    high = dec_to_double(dadd(abs(amount), Decimal(1)))
    return (low < target < high) or Fail(value=f"{amount} vs {target}")


def _only_text(tax: etree._Element, element: str) -> str | None:
    found = select(tax, f"ram:{element}")
    return text(found[0]) if len(found) == 1 else None


def _tax_zero(tax: etree._Element) -> bool:
    return any(as_double(text(a)) == 0 for a in select(tax, "ram:CalculatedAmount"))


def _has_exemption(tax: etree._Element) -> bool:
    return first(tax, "ram:ExemptionReason") is not None or first(tax, "ram:ExemptionReasonCode") is not None


# --- the table -------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Category:
    code: str
    prefix: str
    en: str
    de: str
    identified: Callable[[etree._Element], bool]
    identified_en: str
    identified_de: str
    rate: Callable[[etree._Element], bool]
    rate_en: str
    rate_de: str
    # Taxable amount check of the breakdown: "within_one", "equal" or "per_rate".
    basis: str
    # Tax amount check: "zero", "standard" or "none" (the official test is true()).
    tax_amount: str
    exemption_required: bool


_SELLER_EN = (
    "the seller VAT identifier, the seller tax registration identifier or the tax representative VAT identifier"
)
_SELLER_DE = "die USt-IdNr. oder Steuernummer des Verkäufers oder die USt-IdNr. des Steuervertreters"

_CATEGORIES = (
    _Category(
        "S",
        "BR-S",
        "standard rated",
        "Normalsatz",
        _seller_identified,
        _SELLER_EN,
        _SELLER_DE,
        _rate_positive,
        "greater than zero",
        "größer als null",
        "per_rate",
        "standard",
        False,
    ),
    _Category(
        "Z",
        "BR-Z",
        "zero rated",
        "Nullsatz",
        _seller_identified,
        _SELLER_EN,
        _SELLER_DE,
        _rate_zero,
        "0",
        "0",
        "within_one",
        "zero",
        False,
    ),
    _Category(
        "E",
        "BR-E",
        "exempt from VAT",
        "steuerbefreit",
        _seller_identified,
        _SELLER_EN,
        _SELLER_DE,
        _rate_zero,
        "0",
        "0",
        "within_one",
        "zero",
        True,
    ),
    _Category(
        "AE",
        "BR-AE",
        "reverse charge",
        "Umkehrung der Steuerschuld",
        _seller_and_buyer_identified,
        f"{_SELLER_EN}, and the buyer VAT identifier or legal registration identifier",
        f"{_SELLER_DE} sowie die USt-IdNr. oder Registernummer des Käufers",
        _rate_zero,
        "0",
        "0",
        "within_one",
        "zero",
        True,
    ),
    _Category(
        "K",
        "BR-IC",
        "intra-community supply",
        "innergemeinschaftliche Lieferung",
        _seller_and_buyer_vat_identified,
        "the seller or tax representative VAT identifier and the buyer VAT identifier",
        "die USt-IdNr. des Verkäufers oder Steuervertreters und die USt-IdNr. des Käufers",
        _rate_zero,
        "0",
        "0",
        "within_one",
        "zero",
        True,
    ),
    _Category(
        "G",
        "BR-G",
        "export outside the EU",
        "Ausfuhr außerhalb der EU",
        _seller_vat_identified,
        "the seller or tax representative VAT identifier",
        "die USt-IdNr. des Verkäufers oder Steuervertreters",
        _rate_zero,
        "0",
        "0",
        "within_one",
        "zero",
        True,
    ),
    _Category(
        "O",
        "BR-O",
        "not subject to VAT",
        "nicht steuerbar",
        _no_vat_identifiers,
        "no seller, tax representative or buyer VAT identifier",
        "keine USt-IdNr. von Verkäufer, Steuervertreter oder Käufer",
        _rate_absent,
        "absent",
        "nicht angegeben",
        "equal",
        "zero",
        True,
    ),
    _Category(
        "L",
        "BR-AF",
        "IGIC",
        "IGIC",
        _seller_identified,
        _SELLER_EN,
        _SELLER_DE,
        _rate_positive,
        "greater than zero",
        "größer als null",
        "per_rate",
        "none",
        False,
    ),
    _Category(
        "M",
        "BR-AG",
        "IPSI",
        "IPSI",
        _seller_identified,
        _SELLER_EN,
        _SELLER_DE,
        _rate_not_negative,
        "0 or greater",
        "0 oder größer",
        "per_rate",
        "none",
        False,
    ),
)

_USES: dict[Kind, tuple[int, int, str, str, str]] = {
    # kind: (identifier rule number, rate rule number, what, what (de), BT of the rate)
    "line": (2, 5, "an invoice line", "eine Rechnungsposition", "BT-152"),
    "allowance": (3, 6, "a document level allowance", "ein Nachlass auf Dokumentenebene", "BT-96"),
    "charge": (4, 7, "a document level charge", "ein Zuschlag auf Dokumentenebene", "BT-103"),
}


def _tax_of(context: etree._Element, code: str) -> etree._Element:
    """The breakdown (ApplicableTradeTax): the context itself for L, M, O, else its parent."""
    if code in ("L", "M", "O"):
        return context
    parent = context.getparent()
    return context if parent is None else parent


def _register(cat: _Category) -> None:
    code = cat.code
    for kind, (id_no, rate_no, what_en, what_de, rate_term) in _USES.items():
        ctx = CATEGORY[(code, kind)]
        ctx.check(
            f"{cat.prefix}-{id_no:02d}",
            FATAL,
            terms=("BT-31", "BT-32", "BT-63", "BT-48"),
            en=f"{what_en.capitalize()} with VAT category {code} ({cat.en}) requires {cat.identified_en}.",
            de=f"Wenn {what_de} die USt-Kategorie {code} ({cat.de}) hat, ist {cat.identified_de} nötig.",
        )(cat.identified)
        ctx.check(
            f"{cat.prefix}-{rate_no:02d}",
            FATAL,
            terms=(rate_term,),
            en=f"The VAT rate of {what_en} with VAT category {code} must be {cat.rate_en}.",
            de=f"Der Steuersatz, wenn {what_de} die USt-Kategorie {code} hat, muss {cat.rate_de} sein.",
        )(cat.rate)

    breakdown = CATEGORY[(code, "breakdown")]
    basis_en = (
        f"The taxable amount of the VAT breakdown for category {code} must match its lines, allowances and charges."
    )
    basis_de = (
        f"Der Bemessungsbetrag der Aufschlüsselung für Kategorie {code} muss zu Positionen, Nachlässen "
        "und Zuschlägen passen."
    )
    if cat.basis == "within_one":

        def basis_test(node: etree._Element) -> bool | Fail:
            return _basis_within_one(_tax_of(node, code), code)
    elif cat.basis == "equal":

        def basis_test(node: etree._Element) -> bool | Fail:
            return _basis_equal(_tax_of(node, code), code)
    else:

        def basis_test(node: etree._Element) -> bool | Fail:
            parent = node.getparent()
            return True if parent is None else _basis_per_rate(parent, code)

    breakdown.check(f"{cat.prefix}-08", FATAL, terms=("BT-116",), en=basis_en, de=basis_de)(basis_test)

    if cat.tax_amount == "zero":

        def tax_test(node: etree._Element) -> bool | Fail:
            return _tax_zero(_tax_of(node, code))

        tax_en, tax_de = (
            f"The VAT amount for category {code} must be 0.",
            f"Der USt-Betrag für Kategorie {code} muss 0 sein.",
        )
    elif cat.tax_amount == "standard":

        def tax_test(node: etree._Element) -> bool | Fail:
            return _standard_tax_amount(_tax_of(node, code))

        tax_en = f"The VAT amount for category {code} must equal taxable amount x rate."
        tax_de = f"Der USt-Betrag für Kategorie {code} muss Bemessungsbetrag x Steuersatz sein."
    else:

        def tax_test(node: etree._Element) -> bool | Fail:
            return True  # the official test is true(): not checked in CII

        tax_en = f"The VAT amount for category {code} must equal taxable amount x rate."
        tax_de = f"Der USt-Betrag für Kategorie {code} muss Bemessungsbetrag x Steuersatz sein."
    breakdown.check(f"{cat.prefix}-09", FATAL, terms=("BT-117",), en=tax_en, de=tax_de)(tax_test)

    if cat.exemption_required:

        def exemption_test(node: etree._Element) -> bool:
            return _has_exemption(_tax_of(node, code))

        ex_en = f"The VAT breakdown for category {code} needs an exemption reason or reason code."
        ex_de = f"Die Aufschlüsselung für Kategorie {code} braucht einen Befreiungsgrund oder dessen Code."
    else:

        def exemption_test(node: etree._Element) -> bool:
            return not _has_exemption(_tax_of(node, code))

        ex_en = f"The VAT breakdown for category {code} must not have an exemption reason or reason code."
        ex_de = f"Die Aufschlüsselung für Kategorie {code} darf keinen Befreiungsgrund und keinen Code dafür haben."
    breakdown.check(f"{cat.prefix}-10", FATAL, terms=("BT-120", "BT-121"), en=ex_en, de=ex_de)(exemption_test)


for _cat in _CATEGORIES:
    _register(_cat)


# --- extra breakdown rules of K (intra-community supply) and O (not subject to VAT) ------------

_K_BREAKDOWN = CATEGORY[("K", "breakdown")]
_O_BREAKDOWN = CATEGORY[("O", "breakdown")]
_ACTUAL_DELIVERY_DATE = XPath(
    f"boolean({_TRANSACTION}/ram:ApplicableHeaderTradeDelivery/ram:ActualDeliverySupplyChainEvent"
    "/ram:OccurrenceDateTime/udt:DateTimeString)"
)
_DELIVER_TO_COUNTRY = XPath(
    f"boolean({_TRANSACTION}/ram:ApplicableHeaderTradeDelivery/ram:ShipToTradeParty/ram:PostalTradeAddress/ram:CountryID)"
)


@_K_BREAKDOWN.check(
    "BR-IC-11",
    FATAL,
    terms=("BT-72", "BG-14"),
    en="An intra-community supply needs the actual delivery date or an invoicing period.",
    de="Eine innergemeinschaftliche Lieferung braucht das Lieferdatum oder einen Abrechnungszeitraum.",
)
def _bric11(code: etree._Element) -> bool:
    if _ACTUAL_DELIVERY_DATE(code):
        return True
    tax = code.getparent()
    settlement = tax.getparent() if tax is not None else None
    return settlement is not None and (
        first(settlement, "ram:BillingSpecifiedPeriod/ram:StartDateTime") is not None
        or first(settlement, "ram:BillingSpecifiedPeriod/ram:EndDateTime") is not None
    )


@_K_BREAKDOWN.check(
    "BR-IC-12",
    FATAL,
    terms=("BT-80",),
    en="An intra-community supply needs the deliver-to country code.",
    de="Eine innergemeinschaftliche Lieferung braucht den Ländercode der Lieferanschrift.",
)
def _bric12(code: etree._Element) -> bool:
    return bool(_DELIVER_TO_COUNTRY(code))


_OTHER_TAX_CATEGORY = XPath("boolean(//ram:ApplicableTradeTax/ram:CategoryCode[. != 'O'])")
_OTHER_ALLOWANCE_CATEGORY = XPath("boolean(//ram:CategoryTradeTax/ram:CategoryCode[. != 'O'])")


@_O_BREAKDOWN.check(
    "BR-O-11",
    FATAL,
    terms=("BG-23",),
    en="An invoice with a 'not subject to VAT' breakdown must not have other VAT breakdowns.",
    de="Eine Rechnung mit Aufschlüsselung 'nicht steuerbar' darf keine anderen Aufschlüsselungen haben.",
)
def _bro11(tax: etree._Element) -> bool:
    return not _OTHER_TAX_CATEGORY(tax)


@_O_BREAKDOWN.check(
    "BR-O-12",
    FATAL,
    terms=("BT-151",),
    en="An invoice with a 'not subject to VAT' breakdown must not have lines of another VAT category.",
    de="Eine Rechnung mit Aufschlüsselung 'nicht steuerbar' darf keine Positionen anderer Kategorie haben.",
)
def _bro12(tax: etree._Element) -> bool:
    return not _OTHER_TAX_CATEGORY(tax)


@_O_BREAKDOWN.check(
    "BR-O-13",
    FATAL,
    terms=("BT-95",),
    en="An invoice with a 'not subject to VAT' breakdown must not have allowances of another VAT category.",
    de="Eine Rechnung mit Aufschlüsselung 'nicht steuerbar' darf keine Nachlässe anderer Kategorie haben.",
)
def _bro13(tax: etree._Element) -> bool:
    return not _OTHER_ALLOWANCE_CATEGORY(tax)


@_O_BREAKDOWN.check(
    "BR-O-14",
    FATAL,
    terms=("BT-102",),
    en="An invoice with a 'not subject to VAT' breakdown must not have charges of another VAT category.",
    de="Eine Rechnung mit Aufschlüsselung 'nicht steuerbar' darf keine Zuschläge anderer Kategorie haben.",
)
def _bro14(tax: etree._Element) -> bool:
    return not _OTHER_ALLOWANCE_CATEGORY(tax)
