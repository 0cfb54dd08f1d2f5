"""EN 16931 decimal rules BR-DEC-*: amounts carry at most two decimals.

The official test counts the characters after the first '.' of the written value, so trailing
spaces count too; an absent amount passes.
"""

from __future__ import annotations

from lxml import etree

from validators.rules._engine import Context, Flag, Test
from validators.rules._session import child_elements
from validators.rules.en16931_ubl._patterns import ctx
from validators.rules.en16931_ubl._values import CAC, CBC, child_index, clark, descendants, string_value

FATAL = Flag.FATAL

# (context, rule, element, business term, English name, German name)
_AMOUNTS: tuple[tuple[Context, str, str, str, str, str], ...] = (
    (
        ctx.document_allowance,
        "BR-DEC-01",
        "cbc:Amount",
        "BT-92",
        "Document level allowance amount",
        "Betrag des Nachlasses auf Dokumentenebene",
    ),
    (
        ctx.document_allowance,
        "BR-DEC-02",
        "cbc:BaseAmount",
        "BT-93",
        "Document level allowance base amount",
        "Grundbetrag des Nachlasses auf Dokumentenebene",
    ),
    (
        ctx.document_charge,
        "BR-DEC-05",
        "cbc:Amount",
        "BT-99",
        "Document level charge amount",
        "Betrag des Zuschlags auf Dokumentenebene",
    ),
    (
        ctx.document_charge,
        "BR-DEC-06",
        "cbc:BaseAmount",
        "BT-100",
        "Document level charge base amount",
        "Grundbetrag des Zuschlags auf Dokumentenebene",
    ),
    (
        ctx.totals,
        "BR-DEC-09",
        "cbc:LineExtensionAmount",
        "BT-106",
        "Sum of Invoice line net amount",
        "Summe der Nettobeträge der Rechnungspositionen",
    ),
    (
        ctx.totals,
        "BR-DEC-10",
        "cbc:AllowanceTotalAmount",
        "BT-107",
        "Sum of allowances on document level",
        "Summe der Nachlässe auf Dokumentenebene",
    ),
    (
        ctx.totals,
        "BR-DEC-11",
        "cbc:ChargeTotalAmount",
        "BT-108",
        "Sum of charges on document level",
        "Summe der Zuschläge auf Dokumentenebene",
    ),
    (
        ctx.totals,
        "BR-DEC-12",
        "cbc:TaxExclusiveAmount",
        "BT-109",
        "Invoice total amount without VAT",
        "Rechnungsgesamtbetrag ohne Umsatzsteuer",
    ),
    (
        ctx.totals,
        "BR-DEC-14",
        "cbc:TaxInclusiveAmount",
        "BT-112",
        "Invoice total amount with VAT",
        "Rechnungsgesamtbetrag einschließlich Umsatzsteuer",
    ),
    (ctx.totals, "BR-DEC-16", "cbc:PrepaidAmount", "BT-113", "Paid amount", "gezahlter Betrag"),
    (ctx.totals, "BR-DEC-17", "cbc:PayableRoundingAmount", "BT-114", "Rounding amount", "Rundungsbetrag"),
    (ctx.totals, "BR-DEC-18", "cbc:PayableAmount", "BT-115", "Amount due for payment", "fälliger Zahlungsbetrag"),
    (
        ctx.vat_breakdown,
        "BR-DEC-19",
        "cbc:TaxableAmount",
        "BT-116",
        "VAT category taxable amount",
        "Steuerbasisbetrag der Kategorie",
    ),
    (
        ctx.vat_breakdown,
        "BR-DEC-20",
        "cbc:TaxAmount",
        "BT-117",
        "VAT category tax amount",
        "Steuerbetrag der Kategorie",
    ),
    (
        ctx.line,
        "BR-DEC-23",
        "cbc:LineExtensionAmount",
        "BT-131",
        "Invoice line net amount",
        "Nettobetrag der Rechnungsposition",
    ),
    (
        ctx.line_allowance,
        "BR-DEC-24",
        "cbc:Amount",
        "BT-136",
        "Invoice line allowance amount",
        "Betrag des Nachlasses auf Positionsebene",
    ),
    (
        ctx.line_allowance,
        "BR-DEC-25",
        "cbc:BaseAmount",
        "BT-137",
        "Invoice line allowance base amount",
        "Grundbetrag des Nachlasses auf Positionsebene",
    ),
    (
        ctx.line_charge,
        "BR-DEC-27",
        "cbc:Amount",
        "BT-141",
        "Invoice line charge amount",
        "Betrag des Zuschlags auf Positionsebene",
    ),
    (
        ctx.line_charge,
        "BR-DEC-28",
        "cbc:BaseAmount",
        "BT-142",
        "Invoice line charge base amount",
        "Grundbetrag des Zuschlags auf Positionsebene",
    ),
)


def _at_most_two(path: str) -> Test:
    tag = clark(path)  # every path of the list is one child step

    def test(el: etree._Element) -> bool:
        found = child_index(el).get(tag)
        return found is None or len(string_value(found[0]).partition(".")[2]) <= 2

    return test


for _context, _rule, _path, _term, _en, _de in _AMOUNTS:
    _context.check(
        _rule,
        FATAL,
        terms=(_term,),
        en=f"The {_en} may have at most two decimals.",
        de=f"{_de[0].upper()}{_de[1:]}: höchstens zwei Nachkommastellen.",
    )(_at_most_two(_path))


def _decimals_of_first_own_currency_tax_amount(root: etree._Element, currency_child: str) -> int:
    """Decimals of the first ``//cac:TaxTotal/cbc:TaxAmount[@currencyID = <child>]``, the child read relative
    to the amount (0 when there is none).

    As written, the official BR-DEC-13/15 compare each amount's currency with a child element of the
    amount itself, which a UBL amount never has; the rules therefore hold for every schema-valid invoice.
    """
    for total in descendants(root, CAC + "TaxTotal"):
        for amount in child_elements(total, CBC + "TaxAmount"):
            currency = amount.get("currencyID")
            if currency is not None and any(
                string_value(c) == currency for c in child_elements(amount, currency_child)
            ):
                return len(string_value(amount).partition(".")[2])
    return 0


@ctx.invoice.check(
    "BR-DEC-13",
    FATAL,
    terms=("BT-110",),
    en="The Invoice total VAT amount may have at most two decimals.",
    de="Umsatzsteuergesamtbetrag: höchstens zwei Nachkommastellen.",
)
def total_vat_decimals(el: etree._Element) -> bool:
    return _decimals_of_first_own_currency_tax_amount(el, CBC + "DocumentCurrencyCode") <= 2


@ctx.invoice.check(
    "BR-DEC-15",
    FATAL,
    terms=("BT-111",),
    en="The Invoice total VAT amount in accounting currency may have at most two decimals.",
    de="Umsatzsteuergesamtbetrag in Steuerwährung: höchstens zwei Nachkommastellen.",
)
def accounting_vat_decimals(el: etree._Element) -> bool:
    return _decimals_of_first_own_currency_tax_amount(el, CBC + "TaxCurrencyCode") <= 2
