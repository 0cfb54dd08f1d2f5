"""EN 16931 conditions and calculations BR-CO-03 … BR-CO-26 in the UBL binding.

Amounts are compared as the official rules do: exact xs:decimal values, sums rounded to two
decimals half towards positive infinity; a missing amount makes an equation false.
"""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Final

from lxml import etree

from validators.rules._engine import Flag
from validators.rules._session import child_elements, first_child
from validators.rules.en16931_ubl._document import document
from validators.rules.en16931_ubl._patterns import ctx
from validators.rules.en16931_ubl._values import (
    CAC,
    CBC,
    child_index,
    children,
    decimal_in,
    decimal_of,
    descendants,
    double_of,
    exact,
    has,
    is_vat_scheme,
    round_2,
    round_half_up,
    string_value,
)

FATAL = Flag.FATAL
_ZERO: Final = Decimal(0)

_LINE_EXTENSION_AMOUNT: Final = CBC + "LineExtensionAmount"
_TAX_EXCLUSIVE_AMOUNT: Final = CBC + "TaxExclusiveAmount"
_TAX_INCLUSIVE_AMOUNT: Final = CBC + "TaxInclusiveAmount"
_ALLOWANCE_TOTAL_AMOUNT: Final = CBC + "AllowanceTotalAmount"
_CHARGE_TOTAL_AMOUNT: Final = CBC + "ChargeTotalAmount"
_PREPAID_AMOUNT: Final = CBC + "PrepaidAmount"
_PAYABLE_ROUNDING_AMOUNT: Final = CBC + "PayableRoundingAmount"
_PAYABLE_AMOUNT: Final = CBC + "PayableAmount"
_TAX_AMOUNT: Final = CBC + "TaxAmount"
_TAXABLE_AMOUNT: Final = CBC + "TaxableAmount"
_TAX_TOTAL: Final = CAC + "TaxTotal"
_TAX_SUBTOTAL: Final = CAC + "TaxSubtotal"
_TAX_CATEGORY: Final = CAC + "TaxCategory"
_LEGAL_MONETARY_TOTAL: Final = CAC + "LegalMonetaryTotal"
_DOCUMENT_CURRENCY_CODE: Final = CBC + "DocumentCurrencyCode"

# ISO 3166-1 alpha-2 plus EL (Greece), 1A (Kosovo) and XI (Northern Ireland), as BR-CO-09 accepts them.
# The rule tests containment in the space-separated list, so a one-letter or empty prefix also passes.
_VAT_PREFIXES: Final = " " + " ".join(json.loads((Path(__file__).with_name("vat_prefixes.json")).read_text())) + " "


def _sum(values: list[Decimal]) -> Decimal:
    return sum(values, _ZERO)


@ctx.invoice.check(
    "BR-CO-03",
    FATAL,
    terms=("BT-7", "BT-8"),
    en="Value added tax point date and its code are mutually exclusive.",
    de="Steuerfälligkeitsdatum und Code für das Steuerfälligkeitsdatum schließen sich aus.",
)
def tax_point_exclusive(el: etree._Element) -> bool:
    return not (has(el, "cbc:TaxPointDate") and has(el, "cac:InvoicePeriod/cbc:DescriptionCode"))


@ctx.line.check(
    "BR-CO-04",
    FATAL,
    terms=("BT-151",),
    en="Each Invoice line needs an Invoiced item VAT category code.",
    de="Jede Rechnungsposition braucht einen Umsatzsteuerkategoriecode.",
)
def line_vat_category(el: etree._Element) -> bool:
    # cac:Item/cac:ClassifiedTaxCategory with a VAT scheme and an id
    return any(c.vat and c.ids for c in document(el).line_of[el].categories)


# BR-CO-05 … BR-CO-08 (reason code and reason text agree) cannot be checked by machine; the official
# rules are always true. They are registered so that the rule set lists every rule of the pattern.
def _always(el: etree._Element) -> bool:
    return True


ctx.document_allowance.check(
    "BR-CO-05",
    FATAL,
    terms=("BT-97", "BT-98"),
    en="Allowance reason code and reason must indicate the same allowance.",
    de="Grundcode und Grund des Nachlasses müssen denselben Nachlass bezeichnen.",
)(_always)
ctx.document_charge.check(
    "BR-CO-06",
    FATAL,
    terms=("BT-104", "BT-105"),
    en="Charge reason code and reason must indicate the same charge.",
    de="Grundcode und Grund des Zuschlags müssen denselben Zuschlag bezeichnen.",
)(_always)
ctx.line_allowance.check(
    "BR-CO-07",
    FATAL,
    terms=("BT-139", "BT-140"),
    en="Line allowance reason code and reason must indicate the same allowance.",
    de="Grundcode und Grund des Positionsnachlasses müssen denselben Nachlass bezeichnen.",
)(_always)
ctx.line_charge.check(
    "BR-CO-08",
    FATAL,
    terms=("BT-144", "BT-145"),
    en="Line charge reason code and reason must indicate the same charge.",
    de="Grundcode und Grund des Positionszuschlags müssen denselben Zuschlag bezeichnen.",
)(_always)


@ctx.vat_identifier.check(
    "BR-CO-09",
    FATAL,
    terms=("BT-31", "BT-48", "BT-63"),
    en="A VAT identifier must start with an ISO 3166-1 alpha-2 country prefix (Greece: EL).",
    de="Eine Umsatzsteuer-Identifikationsnummer muss mit einem ISO-3166-1-Ländercode beginnen (Griechenland: EL).",
)
def vat_id_prefix(el: etree._Element) -> bool:
    company_id = first_child(el, CBC + "CompanyID")
    prefix = "" if company_id is None else string_value(company_id)[:2]
    return prefix in _VAT_PREFIXES


tot = ctx.totals


@tot.check(
    "BR-CO-10",
    FATAL,
    terms=("BT-106", "BT-131"),
    en="Sum of Invoice line net amount must equal the sum of the Invoice line net amounts.",
    de="Die Summe der Nettobeträge muss der Summe der Nettobeträge aller Rechnungspositionen entsprechen.",
)
@exact
def line_total(el: etree._Element) -> bool:
    stated = decimal_in(child_index(el), _LINE_EXTENSION_AMOUNT)
    lines = document(el).lines
    return stated is not None and stated == round_2(_sum([v for line in lines for v in line.net]))


@tot.check(
    "BR-CO-11",
    FATAL,
    terms=("BT-107", "BT-92"),
    en="Sum of allowances on document level must equal the sum of the Document level allowance amounts.",
    de="Die Summe der Nachlässe auf Dokumentenebene muss der Summe der einzelnen Nachlässe entsprechen.",
)
@exact
def allowance_total(el: etree._Element) -> bool:
    return _document_level_total(el, _ALLOWANCE_TOTAL_AMOUNT, charge=False)


@tot.check(
    "BR-CO-12",
    FATAL,
    terms=("BT-108", "BT-99"),
    en="Sum of charges on document level must equal the sum of the Document level charge amounts.",
    de="Die Summe der Zuschläge auf Dokumentenebene muss der Summe der einzelnen Zuschläge entsprechen.",
)
@exact
def charge_total(el: etree._Element) -> bool:
    return _document_level_total(el, _CHARGE_TOTAL_AMOUNT, charge=True)


def _document_level_total(totals: etree._Element, tag: str, *, charge: bool) -> bool:
    parent = totals.getparent()
    siblings = (
        [ac for ac in document(totals).charges if ac.el.getparent() is parent and charge in ac.indicators]
        if parent is not None
        else []
    )
    stated_at = child_index(totals).get(tag)
    if stated_at is None:
        return not siblings
    stated = decimal_of(string_value(stated_at[0]))
    return stated is not None and stated == round_2(_sum([v for ac in siblings for v in ac.amounts]))


@tot.check(
    "BR-CO-13",
    FATAL,
    terms=("BT-109", "BT-106", "BT-107", "BT-108"),
    en="Invoice total amount without VAT must equal line net total minus allowances plus charges.",
    de="Der Gesamtbetrag ohne Umsatzsteuer muss Nettosumme minus Nachlässe plus Zuschläge sein.",
)
@exact
def total_without_vat(el: etree._Element) -> bool:
    amounts = child_index(el)
    without_vat = decimal_in(amounts, _TAX_EXCLUSIVE_AMOUNT)
    lines = decimal_in(amounts, _LINE_EXTENSION_AMOUNT)
    if without_vat is None or lines is None:
        return False
    expected = lines
    charges_given = _CHARGE_TOTAL_AMOUNT in amounts
    if charges_given:
        charges = decimal_in(amounts, _CHARGE_TOTAL_AMOUNT)
        if charges is None:
            return False
        expected += charges
    allowances_given = _ALLOWANCE_TOTAL_AMOUNT in amounts
    if allowances_given:
        allowances = decimal_in(amounts, _ALLOWANCE_TOTAL_AMOUNT)
        if allowances is None:
            return False
        expected -= allowances
    if not charges_given and not allowances_given:
        return without_vat == lines  # compared as stated, without rounding
    return without_vat == round_2(expected)


@ctx.tax_total.check(
    "BR-CO-14",
    FATAL,
    terms=("BT-110", "BT-117"),
    en="Invoice total VAT amount must equal the sum of the VAT category tax amounts.",
    de="Der Umsatzsteuergesamtbetrag muss der Summe der Steuerbeträge je Kategorie entsprechen.",
)
@exact
def total_vat(el: etree._Element) -> bool:
    total = child_index(el)
    subtotals = total.get(_TAX_SUBTOTAL)
    if not subtotals:
        return True
    stated = decimal_in(total, _TAX_AMOUNT)
    amounts = [
        v for s in subtotals for a in child_elements(s, _TAX_AMOUNT) if (v := decimal_of(string_value(a))) is not None
    ]
    return stated is not None and stated == round_2(_sum(amounts))


@ctx.invoice.check(
    "BR-CO-15",
    FATAL,
    terms=("BT-112", "BT-109", "BT-110"),
    en="Invoice total amount with VAT must equal the total without VAT plus the total VAT amount.",
    de="Der Gesamtbetrag mit Umsatzsteuer muss Gesamtbetrag ohne Umsatzsteuer plus Steuerbetrag sein.",
)
@exact
def total_with_vat(el: etree._Element) -> bool:
    invoice = child_index(el)
    totals = invoice.get(_LEGAL_MONETARY_TOTAL, ())
    for currency in invoice.get(_DOCUMENT_CURRENCY_CODE, ()):
        code = string_value(currency)
        vat = [
            decimal_of(string_value(a))
            for t in invoice.get(_TAX_TOTAL, ())
            for a in child_elements(t, _TAX_AMOUNT)
            if a.get("currencyID") == code
        ]
        if len(vat) != 1 or vat[0] is None or len(totals) != 1:
            return False
        amounts = child_index(totals[0])
        with_vat = decimal_in(amounts, _TAX_INCLUSIVE_AMOUNT)
        without_vat = decimal_in(amounts, _TAX_EXCLUSIVE_AMOUNT)
        if with_vat is None or without_vat is None or with_vat != round_2(without_vat + vat[0]):
            return False
    return True


@tot.check(
    "BR-CO-16",
    FATAL,
    terms=("BT-115", "BT-112", "BT-113", "BT-114"),
    en="Amount due for payment must equal total with VAT minus paid amount plus rounding amount.",
    de="Der fällige Betrag muss Gesamtbetrag mit Umsatzsteuer minus gezahlter Betrag plus Rundung sein.",
)
@exact
def amount_due(el: etree._Element) -> bool:
    amounts = child_index(el)
    due = decimal_in(amounts, _PAYABLE_AMOUNT)
    with_vat = decimal_in(amounts, _TAX_INCLUSIVE_AMOUNT)
    if due is None or with_vat is None:
        return False
    paid_given, rounding_given = _PREPAID_AMOUNT in amounts, _PAYABLE_ROUNDING_AMOUNT in amounts
    paid = decimal_in(amounts, _PREPAID_AMOUNT) if paid_given else _ZERO
    rounding = decimal_in(amounts, _PAYABLE_ROUNDING_AMOUNT) if rounding_given else _ZERO
    if paid is None or rounding is None:
        return False
    # Without a rounding amount the due amount is compared as stated; with one, both sides are rounded.
    left = round_2(due - rounding) if rounding_given else due
    right = round_2(with_vat - paid) if paid_given else with_vat
    return left == right


@ctx.vat_breakdown.check(
    "BR-CO-17",
    FATAL,
    terms=("BT-117", "BT-116", "BT-119"),
    en="VAT category tax amount must equal taxable amount times rate, rounded to two decimals.",
    de="Der Steuerbetrag muss Steuerbasis mal Steuersatz sein, auf zwei Nachkommastellen gerundet.",
)
@exact
def category_tax_amount(el: etree._Element) -> bool:
    category_of = document(el).category_of
    subtotal = child_index(el)
    percents = [p for c in subtotal.get(_TAX_CATEGORY, ()) if (k := category_of[c]).vat for p in k.percents]
    tax = decimal_in(subtotal, _TAX_AMOUNT)
    if tax is None:
        return False
    if not percents:
        return round_half_up(tax) == 0
    rate = percents[0]
    if rate is None:
        return False
    if round_half_up(rate) == 0:
        return round_half_up(tax) == 0
    taxable = decimal_in(subtotal, _TAXABLE_AMOUNT)
    if taxable is None:
        return False
    # The official rule tolerates one unit either way (it compares absolute values).
    expected = round_2(abs(taxable) * (rate / 100))
    return abs(tax) - 1 < expected < abs(tax) + 1


@ctx.invoice.check(
    "BR-CO-18",
    FATAL,
    terms=("BG-23",),
    en="An Invoice needs at least one VAT breakdown.",
    de="Eine Rechnung braucht mindestens eine Umsatzsteueraufschlüsselung.",
)
def has_vat_breakdown(el: etree._Element) -> bool:
    return has(el, "cac:TaxTotal/cac:TaxSubtotal")


@ctx.invoice_period.check(
    "BR-CO-19",
    FATAL,
    terms=("BG-14", "BT-73", "BT-74"),
    en="An Invoicing period needs a start date, an end date, or both.",
    de="Ein Rechnungszeitraum braucht ein Anfangs- oder Enddatum oder beides.",
)
def invoice_period_dates(el: etree._Element) -> bool:
    return has(el, "cbc:StartDate") or has(el, "cbc:EndDate") or has(el, "cbc:DescriptionCode")


@ctx.line_period.check(
    "BR-CO-20",
    FATAL,
    terms=("BG-26", "BT-134", "BT-135"),
    en="An Invoice line period needs a start date, an end date, or both.",
    de="Ein Abrechnungszeitraum der Position braucht ein Anfangs- oder Enddatum oder beides.",
)
def line_period_dates(el: etree._Element) -> bool:
    return has(el, "cbc:StartDate") or has(el, "cbc:EndDate")


def _reason_given(el: etree._Element) -> bool:
    return has(el, "cbc:AllowanceChargeReason") or has(el, "cbc:AllowanceChargeReasonCode")


ctx.document_allowance.check(
    "BR-CO-21",
    FATAL,
    terms=("BT-97", "BT-98"),
    en="A Document level allowance needs a reason, a reason code, or both.",
    de="Ein Nachlass auf Dokumentenebene braucht Grund, Grundcode oder beides.",
)(_reason_given)
ctx.document_charge.check(
    "BR-CO-22",
    FATAL,
    terms=("BT-104", "BT-105"),
    en="A Document level charge needs a reason, a reason code, or both.",
    de="Ein Zuschlag auf Dokumentenebene braucht Grund, Grundcode oder beides.",
)(_reason_given)
ctx.line_allowance.check(
    "BR-CO-23",
    FATAL,
    terms=("BT-139", "BT-140"),
    en="An Invoice line allowance needs a reason, a reason code, or both.",
    de="Ein Nachlass auf Positionsebene braucht Grund, Grundcode oder beides.",
)(_reason_given)
ctx.line_charge.check(
    "BR-CO-24",
    FATAL,
    terms=("BT-144", "BT-145"),
    en="An Invoice line charge needs a reason, a reason code, or both.",
    de="Ein Zuschlag auf Positionsebene braucht Grund, Grundcode oder beides.",
)(_reason_given)


@ctx.amount_due.check(
    "BR-CO-25",
    FATAL,
    terms=("BT-115", "BT-9", "BT-20"),
    en="A positive Amount due for payment needs a Payment due date or Payment terms.",
    de="Ein positiver fälliger Betrag braucht ein Fälligkeitsdatum oder Zahlungsbedingungen.",
)
def due_date_or_terms(el: etree._Element) -> bool:
    value = double_of(string_value(el))
    if value is None:
        return False
    if value <= 0:
        return True
    root = el.getroottree().getroot()
    return bool(descendants(root, CBC + "DueDate")) or any(
        first_child(t, CBC + "Note") is not None for t in descendants(root, CAC + "PaymentTerms")
    )


@ctx.seller.check(
    "BR-CO-26",
    FATAL,
    terms=("BT-29", "BT-30", "BT-31"),
    en="The Seller needs an identifier, a legal registration identifier or a VAT identifier.",
    de="Der Verkäufer braucht eine Kennung, eine Registernummer oder eine Umsatzsteuer-ID.",
)
def seller_identified(el: etree._Element) -> bool:
    parties = children(el, "cac:Party")
    return any(
        any(
            is_vat_scheme(s) and first_child(s, CBC + "CompanyID") is not None
            for s in child_elements(p, CAC + "PartyTaxScheme")
        )
        or has(p, "cac:PartyIdentification/cbc:ID")
        or has(p, "cac:PartyLegalEntity/cbc:CompanyID")
        for p in parties
    )
