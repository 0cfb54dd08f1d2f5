"""The CEN EN 16931 CII model pattern and its contexts, registered in the official order.

Within a pattern each node is handled only by the first context that selects it, and the
official order leaves some asserts unreachable (BR-CO-27 sits behind the general payment-means
context; a VAT breakdown of category L, M or O never reaches BR-45 … BR-48). Parity needs the
same shadowing. All contexts are therefore created here, in one place and in that order; the
rule modules only attach asserts to them.

The official match patterns are XPath 2.0; these are XPath 1.0 equivalents. Two constructs
need care: ``upper-case(ram:TypeCode) = 'VAT'`` (only ``v``, ``a`` and ``t`` can upper-case
to those letters) and ``udt:Indicator = true()/false()``, which casts the text to xs:boolean
(so ``1``/``0`` and surrounding whitespace count) rather than comparing strings.
"""

from __future__ import annotations

from typing import Literal

from validators.rules._engine import Context
from validators.rules.sets import EN16931_CII

__all__ = [
    "ADDITIONAL_DOCUMENT",
    "CARD",
    "CATEGORY",
    "CREDIT_TRANSFER_ACCOUNT",
    "DELIVERY",
    "DIRECT_DEBIT_MEANS",
    "DOC_ALLOWANCE",
    "DOC_CHARGE",
    "INVOICE",
    "INVOICE_PERIOD",
    "ITEM_ATTRIBUTE",
    "ITEM_CLASSIFICATION",
    "LINE",
    "LINE_ALLOWANCE",
    "LINE_CHARGE",
    "LINE_PERIOD",
    "MODEL",
    "PAYEE",
    "PAYMENT_MEANS",
    "PRECEDING_INVOICE",
    "SELLER",
    "TAX_REPRESENTATIVE",
    "TOTALS",
    "VAT_BREAKDOWN",
    "VAT_IDENTIFIER",
    "VAT_TOTAL",
    "Kind",
]

Kind = Literal["breakdown", "line", "allowance", "charge"]

_IS_VAT = "translate(ram:TypeCode,'vat','VAT')='VAT'"
_IS_VAT_FROM_CODE = "translate(../ram:TypeCode,'vat','VAT')='VAT'"
_INDICATOR_FALSE = "ram:ChargeIndicator/udt:Indicator[normalize-space()='false' or normalize-space()='0']"
_INDICATOR_TRUE = "ram:ChargeIndicator/udt:Indicator[normalize-space()='true' or normalize-space()='1']"
_TRANSACTION = "/rsm:CrossIndustryInvoice/rsm:SupplyChainTradeTransaction"
_ANY_TRANSACTION = "//rsm:SupplyChainTradeTransaction"

MODEL = EN16931_CII.pattern("model")

ITEM_CLASSIFICATION = MODEL.context("//ram:DesignatedProductClassification")
ADDITIONAL_DOCUMENT = MODEL.context("//ram:AdditionalReferencedDocument")
CARD = MODEL.context("//ram:ApplicableTradeSettlementFinancialCard")
CREDIT_TRANSFER_ACCOUNT = MODEL.context(
    "//ram:SpecifiedTradeSettlementPaymentMeans[ram:TypeCode='30' or ram:TypeCode='58']"
    "/ram:PayeePartyCreditorFinancialAccount"
)
DELIVERY = MODEL.context(f"{_TRANSACTION}/ram:ApplicableHeaderTradeDelivery")
# These two compare the indicator as a string, unlike the VAT category contexts below.
DOC_ALLOWANCE = MODEL.context(
    "//ram:ApplicableHeaderTradeSettlement/ram:SpecifiedTradeAllowanceCharge/ram:ChargeIndicator[udt:Indicator='false']"
)
DOC_CHARGE = MODEL.context(
    "//ram:ApplicableHeaderTradeSettlement/ram:SpecifiedTradeAllowanceCharge/ram:ChargeIndicator[udt:Indicator='true']"
)
TOTALS = MODEL.context("//ram:SpecifiedTradeSettlementHeaderMonetarySummation")
INVOICE = MODEL.context("/rsm:CrossIndustryInvoice")
LINE = MODEL.context("//ram:IncludedSupplyChainTradeLineItem")
LINE_ALLOWANCE = MODEL.context(
    "//ram:SpecifiedLineTradeSettlement/ram:SpecifiedTradeAllowanceCharge/ram:ChargeIndicator[udt:Indicator='false']"
)
LINE_CHARGE = MODEL.context(
    "//ram:SpecifiedLineTradeSettlement/ram:SpecifiedTradeAllowanceCharge/ram:ChargeIndicator[udt:Indicator='true']"
)
LINE_PERIOD = MODEL.context("//ram:SpecifiedLineTradeSettlement/ram:BillingSpecifiedPeriod")
INVOICE_PERIOD = MODEL.context("//ram:ApplicableHeaderTradeSettlement/ram:BillingSpecifiedPeriod")
ITEM_ATTRIBUTE = MODEL.context("//ram:ApplicableProductCharacteristic")
PAYEE = MODEL.context("//ram:PayeeTradeParty")
PAYMENT_MEANS = MODEL.context("//ram:SpecifiedTradeSettlementPaymentMeans")
# Shadowed by PAYMENT_MEANS, exactly as in the official pattern: BR-CO-27 can never fire.
DIRECT_DEBIT_MEANS = MODEL.context(
    "//ram:SpecifiedTradeSettlementPaymentMeans"
    "[normalize-space(ram:TypeCode)='49' or normalize-space(ram:TypeCode)='59']"
)
PRECEDING_INVOICE = MODEL.context(f"{_TRANSACTION}/ram:ApplicableHeaderTradeSettlement/ram:InvoiceReferencedDocument")
SELLER = MODEL.context("//ram:SellerTradeParty")
TAX_REPRESENTATIVE = MODEL.context("//ram:SellerTaxRepresentativeTradeParty")
VAT_TOTAL = MODEL.context(
    "//ram:SpecifiedTradeSettlementHeaderMonetarySummation/ram:TaxTotalAmount"
    f"[@currencyID={_TRANSACTION}/ram:ApplicableHeaderTradeSettlement/ram:InvoiceCurrencyCode]"
)
VAT_IDENTIFIER = MODEL.context("//ram:SpecifiedTaxRegistration/ram:ID[@schemeID='VA']")


def _breakdown_code(code: str, *, strict: bool) -> str:
    """Context on the breakdown's CategoryCode element; S and Z use the looser official form."""
    if strict:
        return (
            f"{_ANY_TRANSACTION}/ram:ApplicableHeaderTradeSettlement/ram:ApplicableTradeTax"
            f"/ram:CategoryCode[.='{code}'][{_IS_VAT_FROM_CODE}]"
        )
    return f"//ram:ApplicableHeaderTradeSettlement/ram:ApplicableTradeTax/ram:CategoryCode[.='{code}']"


def _breakdown_tax(code: str) -> str:
    """Context on the breakdown (ApplicableTradeTax) itself, as for L, M and O."""
    return (
        f"{_ANY_TRANSACTION}/ram:ApplicableHeaderTradeSettlement"
        f"/ram:ApplicableTradeTax[ram:CategoryCode='{code}'][{_IS_VAT}]"
    )


def _line(code: str) -> str:
    return (
        f"{_ANY_TRANSACTION}/ram:IncludedSupplyChainTradeLineItem/ram:SpecifiedLineTradeSettlement"
        f"/ram:ApplicableTradeTax[ram:CategoryCode='{code}'][{_IS_VAT}]"
    )


def _with_code(code: str) -> str:
    return f"[ram:CategoryCode='{code}'][{_IS_VAT}]"


def _allowance(code: str) -> str:
    return f"//ram:SpecifiedTradeAllowanceCharge[{_INDICATOR_FALSE}]/ram:CategoryTradeTax{_with_code(code)}"


def _charge(code: str) -> str:
    return f"//ram:SpecifiedTradeAllowanceCharge[{_INDICATOR_TRUE}]/ram:CategoryTradeTax{_with_code(code)}"


# (VAT category code, its contexts in official order). "breakdown" is the CategoryCode element
# for AE, E, G, K, S, Z and the ApplicableTradeTax element for L, M, O.
_CATEGORY_ORDER: tuple[tuple[str, tuple[tuple[Kind, str], ...]], ...] = (
    ("AE", (("breakdown", _breakdown_code("AE", strict=True)), ("allowance", _allowance("AE")),
            ("charge", _charge("AE")), ("line", _line("AE")))),
    ("L", (("breakdown", _breakdown_tax("L")), ("line", _line("L")), ("allowance", _allowance("L")),
           ("charge", _charge("L")))),
    ("M", (("breakdown", _breakdown_tax("M")), ("line", _line("M")), ("allowance", _allowance("M")),
           ("charge", _charge("M")))),
    ("E", (("breakdown", _breakdown_code("E", strict=True)), ("allowance", _allowance("E")),
           ("charge", _charge("E")), ("line", _line("E")))),
    ("G", (("breakdown", _breakdown_code("G", strict=True)), ("allowance", _allowance("G")),
           ("charge", _charge("G")), ("line", _line("G")))),
    ("K", (("breakdown", _breakdown_code("K", strict=True)), ("allowance", _allowance("K")),
           ("charge", _charge("K")), ("line", _line("K")))),
    ("O", (("breakdown", _breakdown_tax("O")), ("allowance", _allowance("O")), ("charge", _charge("O")),
           ("line", _line("O")))),
    ("S", (("breakdown", _breakdown_code("S", strict=False)), ("line", _line("S")),
           ("allowance", _allowance("S")), ("charge", _charge("S")))),
    ("Z", (("breakdown", _breakdown_code("Z", strict=False)), ("allowance", _allowance("Z")),
           ("charge", _charge("Z")), ("line", _line("Z")))),
)  # fmt: skip

CATEGORY: dict[tuple[str, Kind], Context] = {
    (code, kind): MODEL.context(match) for code, contexts in _CATEGORY_ORDER for kind, match in contexts
}

# Last: every breakdown not already claimed above (in practice: categories other than L, M, O).
VAT_BREAKDOWN = MODEL.context("//ram:ApplicableHeaderTradeSettlement/ram:ApplicableTradeTax")
