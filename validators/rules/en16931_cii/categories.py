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
from validators.rules.en16931_cii._document import anywhere, document_fact, expected_basis, header
from validators.rules.en16931_cii._patterns import CATEGORY, Kind
from validators.rules.en16931_cii._values import (
    as_decimal,
    as_double,
    below,
    below_first,
    child_elements,
    dadd,
    dec_to_double,
    dsub,
    first_child,
    ram,
    round_double,
    rsm,
    text,
    udt,
)

__all__: list[str] = []

FATAL = Flag.FATAL

_SELLER = ram.SellerTradeParty
_REPRESENTATIVE = ram.SellerTaxRepresentativeTradeParty
_BUYER = ram.BuyerTradeParty
_REGISTRATION_ID = (ram.SpecifiedTaxRegistration, ram.ID)
_VAT_OR_TAX_NO = ("VA", "FC")
_VAT = ("VA",)

# --- party identifiers, as the tests of the different categories address them -----------------


def _registered(parties: list[etree._Element], schemes: tuple[str, ...]) -> bool:
    """``parties/ram:SpecifiedTaxRegistration/ram:ID[@schemeID = one of schemes]`` is not empty."""
    return any(i.get("schemeID") in schemes for p in parties for i in below(p, *_REGISTRATION_ID))


# ``/rsm:CrossIndustryInvoice/rsm:SupplyChainTradeTransaction/ram:ApplicableHeaderTradeAgreement/...``
def _seller_vat_or_tax_no(root: etree._Element) -> bool:
    return _registered(header(root).sellers, _VAT_OR_TAX_NO)


def _seller_vat(root: etree._Element) -> bool:
    return _registered(header(root).sellers, _VAT)


def _representative_vat(root: etree._Element) -> bool:
    return _registered(header(root).representatives, _VAT)


def _any_seller_vat_or_tax_no(root: etree._Element) -> bool:
    return _registered(anywhere(root, _SELLER), _VAT_OR_TAX_NO)


def _any_seller_vat(root: etree._Element) -> bool:
    return _registered(anywhere(root, _SELLER), _VAT)


def _any_representative_vat(root: etree._Element) -> bool:
    return _registered(anywhere(root, _REPRESENTATIVE), _VAT)


def _any_buyer_vat(root: etree._Element) -> bool:
    return _registered(anywhere(root, _BUYER), _VAT)


def _any_buyer_legal_id(root: etree._Element) -> bool:
    return any(below(b, ram.SpecifiedLegalOrganization, ram.ID) for b in anywhere(root, _BUYER))


def _per_document(fact: Callable[[etree._Element], bool]) -> Callable[[etree._Element], bool]:
    """The test of a rule whose answer depends on the document only: ``fact(root)``, asked once per check."""

    def test(node: etree._Element) -> bool:
        return document_fact(node, fact)

    return test


@_per_document
def _seller_identified(root: etree._Element) -> bool:
    return _seller_vat_or_tax_no(root) or _representative_vat(root)


@_per_document
def _seller_and_buyer_identified(root: etree._Element) -> bool:
    seller = _any_seller_vat_or_tax_no(root) or _any_representative_vat(root)
    return seller and (_any_buyer_vat(root) or _any_buyer_legal_id(root))


@_per_document
def _seller_vat_identified(root: etree._Element) -> bool:
    return _any_seller_vat(root) or _any_representative_vat(root)


@_per_document
def _seller_and_buyer_vat_identified(root: etree._Element) -> bool:
    return (_any_seller_vat(root) or _any_representative_vat(root)) and _any_buyer_vat(root)


@_per_document
def _no_vat_identifiers(root: etree._Element) -> bool:
    return not (_seller_vat(root) or _representative_vat(root) or _any_buyer_vat(root))


# --- rates -----------------------------------------------------------------------------------

_RATE = ram.RateApplicablePercent


def _rate_zero(tax: etree._Element) -> bool:
    for r in child_elements(tax, _RATE):
        value = as_double(text(r))
        if value is not None and value == 0:
            return True
    return False


def _rate_positive(tax: etree._Element) -> bool:
    for r in child_elements(tax, _RATE):
        value = as_double(text(r))
        if value is not None and value > 0:
            return True
    return False


def _rate_not_negative(tax: etree._Element) -> bool:
    for r in child_elements(tax, _RATE):
        value = as_double(text(r))
        if value is not None and value >= 0:
            return True
    return False


def _rate_absent(tax: etree._Element) -> bool:
    return first_child(tax, _RATE) is None


# --- the taxable amount a category should have -----------------------------------------------

_BASIS_AMOUNT = ram.BasisAmount


def _single_double(tax: etree._Element, tag: str) -> float | None:
    """An untyped value used in arithmetic: exactly one, cast to xs:double."""
    found = child_elements(tax, tag)
    return as_double(text(found[0])) if len(found) == 1 else None


def _basis_within_one(tax: etree._Element, code: str) -> bool | Fail:
    """Taxable amount within ±1 (exclusive) of the expected amount (AE, E, G, K, Z)."""
    expected = expected_basis(tax, code)
    basis = _single_double(tax, _BASIS_AMOUNT)
    if expected is None or basis is None:
        return False
    target = dec_to_double(expected)
    return (basis - 1 < target < basis + 1) or Fail(value=f"{basis} vs {expected}")


def _basis_equal(tax: etree._Element, code: str) -> bool | Fail:
    """Taxable amount equal to the expected amount (O)."""
    expected = expected_basis(tax, code)
    if expected is None:
        return False
    target = dec_to_double(expected)
    return any(as_double(text(b)) == target for b in child_elements(tax, _BASIS_AMOUNT)) or Fail(value=str(expected))


def _basis_per_rate(holder: etree._Element, code: str) -> bool | Fail:
    """For every rate of the holder, its taxable amount equals the expected amount at that rate (S, L, M).

    The holder is the context's parent: the breakdown for S, but for L and M (whose context
    is the breakdown itself) the settlement, which has no rate, so those checks hold trivially.
    """
    for raw in child_elements(holder, _RATE):
        rate = as_decimal(text(raw))
        expected = None if rate is None else expected_basis(holder, code, rate)
        if expected is None:
            return False
        target = dec_to_double(expected)
        if not any(as_double(text(b)) == target for b in child_elements(holder, _BASIS_AMOUNT)):
            return Fail(value=f"rate {rate}: {expected}")
    return True


_ONE = Decimal(1)


def _standard_tax_amount(tax: etree._Element) -> bool | Fail:
    """BR-S-09: |tax| within ±1 (exclusive) of round(|basis| x rate) / 100, computed in xs:double."""
    amount = as_decimal(_only_text(tax, _CALCULATED_AMOUNT))
    basis = as_decimal(_only_text(tax, _BASIS_AMOUNT))
    rate = _single_double(tax, _RATE)
    if amount is None or basis is None or rate is None:
        return False
    target = round_double(dec_to_double(abs(basis)) * rate) / 100
    low = dec_to_double(dsub(abs(amount), _ONE))
    high = dec_to_double(dadd(abs(amount), _ONE))
    return (low < target < high) or Fail(value=f"{amount} vs {target}")


_CALCULATED_AMOUNT = ram.CalculatedAmount
_EXEMPTION_REASON = ram.ExemptionReason
_EXEMPTION_REASON_CODE = ram.ExemptionReasonCode


def _only_text(tax: etree._Element, tag: str) -> str | None:
    found = child_elements(tax, tag)
    return text(found[0]) if len(found) == 1 else None


def _tax_zero(tax: etree._Element) -> bool:
    return any(as_double(text(a)) == 0 for a in child_elements(tax, _CALCULATED_AMOUNT))


def _has_exemption(tax: etree._Element) -> bool:
    return first_child(tax, _EXEMPTION_REASON) is not None or first_child(tax, _EXEMPTION_REASON_CODE) is not None


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
_DELIVERY = (rsm.SupplyChainTradeTransaction, ram.ApplicableHeaderTradeDelivery)


def _header_delivery_has(root: etree._Element, *tags: str) -> bool:
    """``boolean(/rsm:CrossIndustryInvoice/rsm:SupplyChainTradeTransaction/ram:ApplicableHeaderTradeDelivery/tags)``."""
    return root.tag == rsm.CrossIndustryInvoice and bool(below(root, *_DELIVERY, *tags))


def _actual_delivery_date(root: etree._Element) -> bool:
    return _header_delivery_has(root, ram.ActualDeliverySupplyChainEvent, ram.OccurrenceDateTime, udt.DateTimeString)


def _deliver_to_country(root: etree._Element) -> bool:
    return _header_delivery_has(root, ram.ShipToTradeParty, ram.PostalTradeAddress, ram.CountryID)


@_K_BREAKDOWN.check(
    "BR-IC-11",
    FATAL,
    terms=("BT-72", "BG-14"),
    en="An intra-community supply needs the actual delivery date or an invoicing period.",
    de="Eine innergemeinschaftliche Lieferung braucht das Lieferdatum oder einen Abrechnungszeitraum.",
)
def _bric11(code: etree._Element) -> bool:
    if document_fact(code, _actual_delivery_date):
        return True
    tax = code.getparent()
    settlement = tax.getparent() if tax is not None else None
    return settlement is not None and (
        below_first(settlement, ram.BillingSpecifiedPeriod, ram.StartDateTime) is not None
        or below_first(settlement, ram.BillingSpecifiedPeriod, ram.EndDateTime) is not None
    )


@_K_BREAKDOWN.check(
    "BR-IC-12",
    FATAL,
    terms=("BT-80",),
    en="An intra-community supply needs the deliver-to country code.",
    de="Eine innergemeinschaftliche Lieferung braucht den Ländercode der Lieferanschrift.",
)
def _bric12(code: etree._Element) -> bool:
    return document_fact(code, _deliver_to_country)


def _other_category(node: etree._Element, holder: str) -> bool:
    """``boolean(//holder/ram:CategoryCode[. != 'O'])``."""
    for code in anywhere(node, ram.CategoryCode):
        parent = code.getparent()
        if parent is not None and parent.tag == holder and text(code) != "O":
            return True
    return False


def _other_tax_category(node: etree._Element) -> bool:
    return _other_category(node, ram.ApplicableTradeTax)


def _other_allowance_category(node: etree._Element) -> bool:
    return _other_category(node, ram.CategoryTradeTax)


@_O_BREAKDOWN.check(
    "BR-O-11",
    FATAL,
    terms=("BG-23",),
    en="An invoice with a 'not subject to VAT' breakdown must not have other VAT breakdowns.",
    de="Eine Rechnung mit Aufschlüsselung 'nicht steuerbar' darf keine anderen Aufschlüsselungen haben.",
)
def _bro11(tax: etree._Element) -> bool:
    return not _other_tax_category(tax)


@_O_BREAKDOWN.check(
    "BR-O-12",
    FATAL,
    terms=("BT-151",),
    en="An invoice with a 'not subject to VAT' breakdown must not have lines of another VAT category.",
    de="Eine Rechnung mit Aufschlüsselung 'nicht steuerbar' darf keine Positionen anderer Kategorie haben.",
)
def _bro12(tax: etree._Element) -> bool:
    return not _other_tax_category(tax)


@_O_BREAKDOWN.check(
    "BR-O-13",
    FATAL,
    terms=("BT-95",),
    en="An invoice with a 'not subject to VAT' breakdown must not have allowances of another VAT category.",
    de="Eine Rechnung mit Aufschlüsselung 'nicht steuerbar' darf keine Nachlässe anderer Kategorie haben.",
)
def _bro13(tax: etree._Element) -> bool:
    return not _other_allowance_category(tax)


@_O_BREAKDOWN.check(
    "BR-O-14",
    FATAL,
    terms=("BT-102",),
    en="An invoice with a 'not subject to VAT' breakdown must not have charges of another VAT category.",
    de="Eine Rechnung mit Aufschlüsselung 'nicht steuerbar' darf keine Zuschläge anderer Kategorie haben.",
)
def _bro14(tax: etree._Element) -> bool:
    return not _other_allowance_category(tax)
