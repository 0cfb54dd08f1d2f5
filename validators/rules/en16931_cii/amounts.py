"""EN 16931 CII model: document totals, allowances and charges, the VAT breakdown, decimals.

Each calculation follows the official test's own arithmetic (see ``_values``): the sums of
BR-CO-10/11/12/14 add untyped amounts as xs:double, BR-CO-13/15/16/17 work in xs:decimal.
"""

from __future__ import annotations

from decimal import Decimal

from lxml import etree

from validators.rules._dynamic import opt
from validators.rules._engine import Fail, Flag
from validators.rules.en16931_cii._document import (
    anywhere,
    header_charges,
    header_settlements,
    invoice_currencies,
    line_facts,
    tax_currencies,
)
from validators.rules.en16931_cii._patterns import (
    DOC_ALLOWANCE,
    DOC_CHARGE,
    LINE,
    LINE_ALLOWANCE,
    LINE_CHARGE,
    TOTALS,
    VAT_BREAKDOWN,
    VAT_TOTAL,
)
from validators.rules.en16931_cii._values import (
    as_decimal,
    as_double,
    below,
    cents,
    child_elements,
    dadd,
    dmul,
    dsub,
    first_child,
    max_two_decimals,
    norm_space,
    ram,
    round_decimal,
    round_double,
    sum_doubles,
    text,
)

__all__: list[str] = []

FATAL = Flag.FATAL
_HUNDRED = Decimal(100)


def _single_text(node: etree._Element, tag: str) -> str | None:
    """The value of the child named ``tag`` (a Clark name), if any, where the official test takes at most one
    (``xs:decimal(ram:X)``, ``substring-after(ram:X, '.')``): several are a ``DynamicError``."""
    found = opt(child_elements(node, tag), "element")
    return None if found is None else text(found)


def _single_decimal(node: etree._Element, tag: str) -> Decimal | None:
    return as_decimal(_single_text(node, tag))


def _has(node: etree._Element, tag: str) -> bool:
    return bool(child_elements(node, tag))


def _any_equals_double(nodes: list[etree._Element], target: float | None) -> bool:
    """General comparison of untyped values with an xs:double."""
    if target is None:
        return False
    return any(as_double(text(n)) == target for n in nodes)


def _double_cents(total: float | None) -> float | None:
    """``round($total * 10 * 10) div 100`` in xs:double."""
    return None if total is None else round_double(total * 10 * 10) / 100


# --- document totals (BG-22) -----------------------------------------------------------------


def _present(rule_id: str, element: str, term: str, en: str, de: str) -> None:
    tag = getattr(ram, element)

    @TOTALS.check(rule_id, FATAL, terms=(term,), en=en, de=de)
    def _test(totals: etree._Element) -> bool:
        return _has(totals, tag)


_present(
    "BR-12",
    "LineTotalAmount",
    "BT-106",
    "The sum of invoice line net amounts is missing.",
    "Die Summe der Nettobeträge der Rechnungspositionen fehlt.",
)
_present(
    "BR-13",
    "TaxBasisTotalAmount",
    "BT-109",
    "The invoice total amount without VAT is missing.",
    "Der Gesamtbetrag ohne USt fehlt.",
)
_present(
    "BR-14",
    "GrandTotalAmount",
    "BT-112",
    "The invoice total amount with VAT is missing.",
    "Der Gesamtbetrag mit USt fehlt.",
)
_present(
    "BR-15", "DuePayableAmount", "BT-115", "The amount due for payment is missing.", "Der fällige Zahlungsbetrag fehlt."
)


@TOTALS.check(
    "BR-53",
    FATAL,
    terms=("BT-6", "BT-111"),
    en="With a VAT accounting currency, the total VAT amount in that currency must be given "
    "(and the currency must differ from the invoice currency).",
    de="Bei einer Steuerwährung muss der USt-Gesamtbetrag in dieser Währung angegeben sein "
    "(und sie muss von der Rechnungswährung abweichen).",
)
def _br53(totals: etree._Element) -> bool:
    tax = tax_currencies(totals)
    if not tax:
        return True
    given = any(t.get("currencyID") in tax for t in child_elements(totals, _TAX_TOTAL))
    return given and not set(tax).intersection(invoice_currencies(totals))


_TAX_TOTAL = ram.TaxTotalAmount
_LINE_TOTAL = ram.LineTotalAmount
_LINE_SUMMATION = ram.SpecifiedTradeSettlementLineMonetarySummation
_LINE = ram.IncludedSupplyChainTradeLineItem


@TOTALS.check(
    "BR-CO-10",
    FATAL,
    terms=("BT-106", "BT-131"),
    en="The sum of line net amounts must equal the sum of the invoice line net amounts.",
    de="Die Summe der Nettobeträge muss der Summe der Positions-Nettobeträge entsprechen.",
)
def _brco10(totals: etree._Element) -> bool | Fail:
    declared = _single_decimal(totals, _LINE_TOTAL)
    settlement = totals.getparent()
    transaction = settlement.getparent() if settlement is not None else None
    # ram:IncludedSupplyChainTradeLineItem/.../ram:LineTotalAmount from the transaction, line by line.
    lines = (
        []
        if transaction is None
        else [a for line in child_elements(transaction, _LINE) for a in line_facts(line).net_amounts]
    )
    total = sum_doubles(map(text, lines))
    if declared is None or total is None or total in (float("inf"), float("-inf")) or total != total:
        return False
    # The official test turns the xs:double sum into xs:decimal before rounding to cents.
    expected = cents(Decimal(total))
    return declared == expected or Fail(value=f"{declared} != {expected}")


def _document_sum_matches(totals: etree._Element, element: str, charge: bool) -> bool:
    """BR-CO-11/12: the declared total equals the rounded sum of the document allowances/charges."""
    items = [ac for ac in header_charges(totals) if (ac.charge if charge else ac.allowance)]
    declared = child_elements(totals, getattr(ram, element))
    if not items and not declared:
        return True
    amounts = [a for ac in items for a in ac.actual_amounts]
    return _any_equals_double(declared, _double_cents(sum_doubles(amounts)))


@TOTALS.check(
    "BR-CO-11",
    FATAL,
    terms=("BT-107", "BT-92"),
    en="The sum of document level allowances must equal the total of the allowance amounts.",
    de="Die Summe der Nachlässe auf Dokumentenebene muss der Summe der Nachlassbeträge entsprechen.",
)
def _brco11(totals: etree._Element) -> bool:
    return _document_sum_matches(totals, "AllowanceTotalAmount", charge=False)


@TOTALS.check(
    "BR-CO-12",
    FATAL,
    terms=("BT-108", "BT-99"),
    en="The sum of document level charges must equal the total of the charge amounts.",
    de="Die Summe der Zuschläge auf Dokumentenebene muss der Summe der Zuschlagsbeträge entsprechen.",
)
def _brco12(totals: etree._Element) -> bool:
    return _document_sum_matches(totals, "ChargeTotalAmount", charge=True)


@TOTALS.check(
    "BR-CO-13",
    FATAL,
    terms=("BT-109", "BT-106", "BT-107", "BT-108"),
    en="Total without VAT must equal line net sum minus allowances plus charges.",
    de="Gesamtbetrag ohne USt muss Summe der Positionen minus Nachlässe plus Zuschläge sein.",
)
def _brco13(totals: etree._Element) -> bool:
    basis = _single_decimal(totals, ram.TaxBasisTotalAmount)
    lines = _single_decimal(totals, _LINE_TOTAL)
    if basis is None or lines is None:
        return False
    has_allowances = _has(totals, ram.AllowanceTotalAmount)
    has_charges = _has(totals, ram.ChargeTotalAmount)
    allowances = _single_decimal(totals, ram.AllowanceTotalAmount)
    charges = _single_decimal(totals, ram.ChargeTotalAmount)
    candidates: list[Decimal] = []
    if allowances is not None and charges is not None:
        candidates.append(dadd(dsub(lines, allowances), charges))
    if allowances is not None and not has_charges:
        candidates.append(dsub(lines, allowances))
    if charges is not None and not has_allowances:
        candidates.append(dadd(lines, charges))
    if not has_allowances and not has_charges:
        candidates.append(lines)
    return any(basis == cents(c) for c in candidates)


def _nonzero(value: Decimal | None) -> bool:
    """Effective boolean value of ``xs:decimal(x)``: absent and zero are both false."""
    return value is not None and value != 0


@TOTALS.check(
    "BR-CO-16",
    FATAL,
    terms=("BT-115", "BT-112", "BT-113", "BT-114"),
    en="Amount due must equal total with VAT minus paid amount plus rounding amount.",
    de="Fälliger Betrag muss Gesamtbetrag mit USt minus gezahlter Betrag plus Rundungsbetrag sein.",
)
def _brco16(totals: etree._Element) -> bool:
    due = _single_decimal(totals, ram.DuePayableAmount)
    grand = _single_decimal(totals, ram.GrandTotalAmount)
    if due is None or grand is None:
        return False
    paid = _single_decimal(totals, ram.TotalPrepaidAmount)
    rounding = _single_decimal(totals, ram.RoundingAmount)
    if paid is not None and rounding is not None and due == dadd(dsub(grand, paid), rounding):
        return True
    if rounding is not None and not _nonzero(paid) and due == dadd(grand, rounding):
        return True
    if paid is not None and not _nonzero(rounding) and due == dsub(grand, paid):
        return True
    return not _nonzero(paid) and not _nonzero(rounding) and due == grand


def _decimals(rule_id: str, element: str, term: str, en_name: str, de_name: str) -> None:
    tag = getattr(ram, element)

    @TOTALS.check(
        rule_id,
        FATAL,
        terms=(term,),
        en=f"The {en_name} has more than 2 decimals.",
        de=f"{de_name} hat mehr als 2 Nachkommastellen.",
    )
    def _test(totals: etree._Element) -> bool | Fail:
        value = _single_text(totals, tag)
        return max_two_decimals(value) or Fail(value=value)


_decimals(
    "BR-DEC-09", "LineTotalAmount", "BT-106", "sum of invoice line net amounts", "Die Summe der Positions-Nettobeträge"
)
_decimals("BR-DEC-10", "AllowanceTotalAmount", "BT-107", "sum of allowances", "Die Summe der Nachlässe")
_decimals("BR-DEC-11", "ChargeTotalAmount", "BT-108", "sum of charges", "Die Summe der Zuschläge")
_decimals("BR-DEC-12", "TaxBasisTotalAmount", "BT-109", "invoice total without VAT", "Der Gesamtbetrag ohne USt")
_decimals("BR-DEC-14", "GrandTotalAmount", "BT-112", "invoice total with VAT", "Der Gesamtbetrag mit USt")


def _cent_exact(value: str) -> bool:
    """``. = round(. * 100) div 100`` in xs:double."""
    amount = as_double(value)
    return amount is not None and round_double(amount * 100) / 100 == amount


@TOTALS.check(
    "BR-DEC-13",
    FATAL,
    terms=("BT-110",),
    en="The invoice total VAT amount has more than 2 decimals.",
    de="Der USt-Gesamtbetrag hat mehr als 2 Nachkommastellen.",
)
def _brdec13(totals: etree._Element) -> bool:
    vat_totals = child_elements(totals, _TAX_TOTAL)
    if not vat_totals:
        return True
    currencies = invoice_currencies(totals)
    return any(t.get("currencyID") not in currencies or _cent_exact(text(t)) for t in vat_totals)


@TOTALS.check(
    "BR-DEC-15",
    FATAL,
    terms=("BT-111",),
    en="The total VAT amount in accounting currency has more than 2 decimals.",
    de="Der USt-Gesamtbetrag in Steuerwährung hat mehr als 2 Nachkommastellen.",
)
def _brdec15(totals: etree._Element) -> bool:
    vat_totals = child_elements(totals, _TAX_TOTAL)
    if not vat_totals:
        return True
    currencies = tax_currencies(totals)
    # As officially written, a VAT total in another currency only passes when there is no tax currency.
    return any((t.get("currencyID") in currencies and _cent_exact(text(t))) or not currencies for t in vat_totals)


_decimals("BR-DEC-16", "TotalPrepaidAmount", "BT-113", "paid amount", "Der gezahlte Betrag")
_decimals("BR-DEC-17", "RoundingAmount", "BT-114", "rounding amount", "Der Rundungsbetrag")
_decimals("BR-DEC-18", "DuePayableAmount", "BT-115", "amount due for payment", "Der fällige Zahlungsbetrag")


# --- document level allowances and charges (context: their ChargeIndicator) ------------------


_TYPE_CODE = ram.TypeCode
_CATEGORY_CODE = ram.CategoryCode
_ACTUAL_AMOUNT = ram.ActualAmount
_BASIS_AMOUNT = ram.BasisAmount


def _sibling(indicator: etree._Element, tag: str) -> bool:
    parent = indicator.getparent()
    return parent is not None and first_child(parent, tag) is not None


def _sibling_decimals_ok(indicator: etree._Element, tag: str) -> bool | Fail:
    parent = indicator.getparent()
    value = None if parent is None else _single_text(parent, tag)
    return max_two_decimals(value) or Fail(value=value)


def is_vat_with_code(taxes: list[etree._Element]) -> bool:
    """``ram:X[upper-case(ram:TypeCode) = 'VAT']/ram:CategoryCode`` exists, for the taxes ``ram:X``."""
    for tax in taxes:
        type_code = first_child(tax, _TYPE_CODE)
        if type_code is not None and text(type_code).upper() == "VAT" and _has(tax, _CATEGORY_CODE):
            return True
    return False


def _has_vat_category(indicator: etree._Element) -> bool:
    parent = indicator.getparent()
    return parent is not None and is_vat_with_code(child_elements(parent, ram.CategoryTradeTax))


def _has_reason(indicator: etree._Element) -> bool:
    return _sibling(indicator, ram.Reason) or _sibling(indicator, ram.ReasonCode)


def _always(_node: etree._Element) -> bool:
    """The official test of this rule is ``true()``: it cannot be checked in the syntax."""
    return True


# (context, ids, group, terms) for amount, VAT category, reason, same-type, reason-or-code, 2 decimals x2.
for _ctx, _ids, _what_en, _what_de, _terms in (
    (
        DOC_ALLOWANCE,
        ("BR-31", "BR-32", "BR-33", "BR-CO-05", "BR-CO-21", "BR-DEC-01", "BR-DEC-02"),
        "document level allowance",
        "Nachlass auf Dokumentenebene",
        ("BT-92", "BT-95", "BT-97", "BT-98", "BT-93"),
    ),
    (
        DOC_CHARGE,
        ("BR-36", "BR-37", "BR-38", "BR-CO-06", "BR-CO-22", "BR-DEC-05", "BR-DEC-06"),
        "document level charge",
        "Zuschlag auf Dokumentenebene",
        ("BT-99", "BT-102", "BT-104", "BT-105", "BT-100"),
    ),
    (
        LINE_ALLOWANCE,
        ("BR-41", None, "BR-42", "BR-CO-07", "BR-CO-23", "BR-DEC-24", "BR-DEC-25"),
        "invoice line allowance",
        "Nachlass auf Positionsebene",
        ("BT-136", "", "BT-139", "BT-140", "BT-137"),
    ),
    (
        LINE_CHARGE,
        ("BR-43", None, "BR-44", "BR-CO-08", "BR-CO-24", "BR-DEC-27", "BR-DEC-28"),
        "invoice line charge",
        "Zuschlag auf Positionsebene",
        ("BT-141", "", "BT-144", "BT-145", "BT-142"),
    ),
):
    _amount_id, _category_id, _reason_id, _same_id, _either_id, _dec_amount_id, _dec_basis_id = _ids
    _t_amount, _t_category, _t_reason, _t_code, _t_basis = _terms
    _ctx.check(
        _amount_id,
        FATAL,
        terms=(_t_amount,),
        en=f"Each {_what_en} needs an amount.",
        de=f"Jeder {_what_de} braucht einen Betrag.",
    )(lambda ind: _sibling(ind, _ACTUAL_AMOUNT))
    if _category_id is not None:
        _ctx.check(
            _category_id,
            FATAL,
            terms=(_t_category,),
            en=f"Each {_what_en} needs a VAT category code.",
            de=f"Jeder {_what_de} braucht einen USt-Kategoriecode.",
        )(_has_vat_category)
    _ctx.check(
        _reason_id,
        FATAL,
        terms=(_t_reason, _t_code),
        en=f"Each {_what_en} needs a reason or a reason code.",
        de=f"Jeder {_what_de} braucht einen Grund oder einen Grundcode.",
    )(_has_reason)
    _ctx.check(
        _same_id,
        FATAL,
        terms=(_t_reason, _t_code),
        en=f"The reason and the reason code of a {_what_en} must mean the same.",
        de=f"Grund und Grundcode eines {_what_de}es müssen dasselbe bedeuten.",
    )(_always)
    _ctx.check(
        _either_id,
        FATAL,
        terms=(_t_reason, _t_code),
        en=f"Each {_what_en} must contain a reason, a reason code, or both.",
        de=f"Jeder {_what_de} muss einen Grund, einen Grundcode oder beides enthalten.",
    )(_has_reason)
    _ctx.check(
        _dec_amount_id,
        FATAL,
        terms=(_t_amount,),
        en=f"The {_what_en} amount has more than 2 decimals.",
        de=f"Der Betrag des {_what_de}es hat mehr als 2 Nachkommastellen.",
    )(lambda ind: _sibling_decimals_ok(ind, _ACTUAL_AMOUNT))
    _ctx.check(
        _dec_basis_id,
        FATAL,
        terms=(_t_basis,),
        en=f"The {_what_en} base amount has more than 2 decimals.",
        de=f"Der Grundbetrag des {_what_de}es hat mehr als 2 Nachkommastellen.",
    )(lambda ind: _sibling_decimals_ok(ind, _BASIS_AMOUNT))


@LINE.check(
    "BR-DEC-23",
    FATAL,
    terms=("BT-131",),
    en="The invoice line net amount has more than 2 decimals.",
    de="Der Nettobetrag der Rechnungsposition hat mehr als 2 Nachkommastellen.",
)
def _brdec23(line: etree._Element) -> bool | Fail:
    amount = opt(line_facts(line).net_amounts, "line net amount")
    value = None if amount is None else text(amount)
    return max_two_decimals(value) or Fail(value=value)


# --- VAT totals and breakdown ----------------------------------------------------------------

_TAX = ram.ApplicableTradeTax
_CALCULATED_AMOUNT = ram.CalculatedAmount
_RATE = ram.RateApplicablePercent


@VAT_TOTAL.check(
    "BR-CO-14",
    FATAL,
    terms=("BT-110", "BT-117"),
    en="The invoice total VAT amount must equal the sum of the VAT category tax amounts.",
    de="Der USt-Gesamtbetrag muss der Summe der USt-Beträge je Kategorie entsprechen.",
)
def _brco14(vat_total: etree._Element) -> bool | Fail:
    # /rsm:CrossIndustryInvoice/.../ram:ApplicableHeaderTradeSettlement/ram:ApplicableTradeTax/ram:CalculatedAmount
    amounts = [a for s in header_settlements(vat_total) for a in below(s, _TAX, _CALCULATED_AMOUNT)]
    expected = _double_cents(sum_doubles(map(text, amounts)))
    value = text(vat_total)
    return (expected is not None and as_double(value) == expected) or Fail(value=value)


@VAT_BREAKDOWN.check(
    "BR-45",
    FATAL,
    terms=("BT-116",),
    en="The VAT breakdown has no taxable amount.",
    de="Die USt-Aufschlüsselung hat keinen Steuerbemessungsbetrag.",
)
def _br45(tax: etree._Element) -> bool:
    return _has(tax, _BASIS_AMOUNT)


@VAT_BREAKDOWN.check(
    "BR-46",
    FATAL,
    terms=("BT-117",),
    en="The VAT breakdown has no tax amount.",
    de="Die USt-Aufschlüsselung hat keinen Steuerbetrag.",
)
def _br46(tax: etree._Element) -> bool:
    return _has(tax, _CALCULATED_AMOUNT)


def _type_is_vat(tax: etree._Element, *, normalize: bool = False) -> bool:
    type_code = _single_text(tax, _TYPE_CODE)
    if type_code is None:
        return False
    upper = type_code.upper()
    return upper == "VAT" or (normalize and norm_space(upper) == "VAT")


@VAT_BREAKDOWN.check(
    "BR-47",
    FATAL,
    terms=("BT-118",),
    en="The VAT breakdown has no VAT category code.",
    de="Die USt-Aufschlüsselung hat keinen USt-Kategoriecode.",
)
def _br47(tax: etree._Element) -> bool:
    return _type_is_vat(tax) and _has(tax, _CATEGORY_CODE)


@VAT_BREAKDOWN.check(
    "BR-48",
    FATAL,
    terms=("BT-119",),
    en="The VAT breakdown has no VAT rate (required unless not subject to VAT).",
    de="Die USt-Aufschlüsselung hat keinen Steuersatz (außer bei nicht steuerbaren Umsätzen).",
)
def _br48(tax: etree._Element) -> bool:
    if not _type_is_vat(tax):
        return False
    return _has(tax, _RATE) or any(text(c) == "O" for c in child_elements(tax, _CATEGORY_CODE))


@VAT_BREAKDOWN.check(
    "BR-CO-03",
    FATAL,
    terms=("BT-7", "BT-8"),
    en="The VAT point date and the VAT point date code must not both be given.",
    de="Steuerdatum und Code für das Steuerdatum dürfen nicht beide angegeben sein.",
)
def _brco03(tax: etree._Element) -> bool:
    return not (anywhere(tax, ram.TaxPointDate) and anywhere(tax, ram.DueDateTypeCode))


_HALF = Decimal("0.5")


@VAT_BREAKDOWN.check(
    "BR-CO-17",
    FATAL,
    terms=("BT-117", "BT-116", "BT-119"),
    en="The VAT category tax amount must equal taxable amount x rate / 100, rounded to 2 decimals (tolerance 1).",
    de="Der USt-Betrag je Kategorie muss Bemessungsbetrag x Satz / 100 sein, auf 2 Stellen gerundet (Toleranz 1).",
)
def _brco17(tax: etree._Element) -> bool | Fail:
    rate_text = _single_text(tax, _RATE) if _type_is_vat(tax, normalize=True) else None
    rate = as_decimal(rate_text)
    tax_amount = _single_decimal(tax, _CALCULATED_AMOUNT)
    if tax_amount is None:
        return False
    tax_rounds_to_zero = round_decimal(tax_amount) == 0
    if rate_text is None:
        return tax_rounds_to_zero
    if rate is None:
        return False
    if round_decimal(rate) == 0:
        return tax_rounds_to_zero
    basis = _single_decimal(tax, _BASIS_AMOUNT)
    if basis is None:
        return False
    # round(abs(basis) * (rate div 100) * 10 * 10) div 100, exact in xs:decimal.
    expected = cents(dmul(abs(basis), rate) / _HUNDRED)
    ok = dsub(abs(tax_amount), Decimal(1)) <= expected <= dadd(abs(tax_amount), Decimal(1))
    return ok or Fail(value=f"{tax_amount} vs {expected}")


@VAT_BREAKDOWN.check(
    "BR-DEC-19",
    FATAL,
    terms=("BT-116",),
    en="The VAT category taxable amount has more than 2 decimals.",
    de="Der Steuerbemessungsbetrag hat mehr als 2 Nachkommastellen.",
)
def _brdec19(tax: etree._Element) -> bool | Fail:
    value = _single_text(tax, _BASIS_AMOUNT)
    return max_two_decimals(value) or Fail(value=value)


@VAT_BREAKDOWN.check(
    "BR-DEC-20",
    FATAL,
    terms=("BT-117",),
    en="The VAT category tax amount has more than 2 decimals.",
    de="Der USt-Betrag je Kategorie hat mehr als 2 Nachkommastellen.",
)
def _brdec20(tax: etree._Element) -> bool | Fail:
    value = _single_text(tax, _CALCULATED_AMOUNT)
    return max_two_decimals(value) or Fail(value=value)
