"""UN/CEFACT CII D16B binding of EN 16931 (CEN/TS 16931-3-3), as a table.

Paths are XPath 1.0, relative to the group's element, in the order of the D16B schema
where the model allows it. CII spreads some business groups over several aggregates
(BG-13 delivery, BG-16 payment instructions, BG-19 direct debit): those groups are read
from the common parent and their terms name the aggregate they live in.

What CII expresses differently from UBL:

* Sub invoice lines (BG-DEX-01, ZUGFeRD/Factur-X EXTENDED) are flat
  ``ram:IncludedSupplyChainTradeLineItem`` siblings that name their parent line in
  ``ram:AssociatedDocumentLineDocument/ram:ParentLineID``; ``_nest_sub_lines`` nests them.
* The schemes of BT-18 and BT-128 are a sibling element (``ram:ReferenceTypeCode``), not a
  ``@schemeID``; their ``Bind`` names that element as the scheme path.
* BT-8 is ``ram:DueDateTypeCode`` (UNTDID 2475: 5, 29, 72) where UBL carries UNTDID 2005
  (3, 35, 432); the code is kept as written, like every code.
* The XRechnung Extension's third party payment (BG-DEX-09, UBL ``cac:PrepaidPayment``) has no
  CII binding: the Extension defines it for UBL only (its CII Schematron has no rule for it).
  ``ram:SpecifiedAdvancePayment`` is the buyer's own advance payment and has neither a type
  (BT-DEX-001) nor a description (BT-DEX-003), so BG-DEX-09 is not read from CII.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from lxml import etree

from schemas.binding._core import Bind, Group, Table
from schemas.binding._writer import Hint, Prepared, WriteError, WriteHints
from schemas.model import Identifier, Invoice, InvoiceLine, term_of

__all__ = ["INVOICE", "NAMESPACES", "ROOTS", "WRITE_HINTS"]

_RSM = "urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100"
_RAM = "urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:100"

NAMESPACES = {
    "rsm": _RSM,
    "ram": _RAM,
    "udt": "urn:un:unece:uncefact:data:standard:UnqualifiedDataType:100",
    "qdt": "urn:un:unece:uncefact:data:standard:QualifiedDataType:100",
}
ROOTS = {f"{{{_RSM}}}CrossIndustryInvoice": "cii"}


_SETTLEMENT = "rsm:SupplyChainTradeTransaction/ram:ApplicableHeaderTradeSettlement"
_AGREEMENT = "rsm:SupplyChainTradeTransaction/ram:ApplicableHeaderTradeAgreement"
_DELIVERY = "rsm:SupplyChainTradeTransaction/ram:ApplicableHeaderTradeDelivery"

# udt:Indicator is an xs:boolean, so '0' and '1' are as valid as 'false' and 'true'.
_INDICATOR = "normalize-space(ram:ChargeIndicator/udt:Indicator)"
_ALLOWANCE = f"ram:SpecifiedTradeAllowanceCharge[{_INDICATOR}='false' or {_INDICATOR}='0']"
_CHARGE = f"ram:SpecifiedTradeAllowanceCharge[{_INDICATOR}='true' or {_INDICATOR}='1']"
_PRICE_ALLOWANCE = f"ram:AppliedTradeAllowanceCharge[{_INDICATOR}='false' or {_INDICATOR}='0']"


def _typed(code: str) -> str:
    return f"[normalize-space(ram:TypeCode)='{code}']"


def _tax_id(scheme: str) -> str:
    return f"ram:SpecifiedTaxRegistration/ram:ID[normalize-space(@schemeID)='{scheme}']"


def _address(line_1: str, line_2: str, line_3: str, city: str, post: str, sub: str, country: str) -> Table:
    return (
        Bind(post, "ram:PostcodeCode"),
        Bind(line_1, "ram:LineOne"),
        Bind(line_2, "ram:LineTwo"),
        Bind(line_3, "ram:LineThree"),
        Bind(city, "ram:CityName"),
        Bind(country, "ram:CountryID"),
        Bind(sub, "ram:CountrySubDivisionName"),
    )


def _contact(point: str, phone: str, email: str) -> Table:
    return (
        # Either may hold the contact point (XRechnung BR-DE-5 accepts both); PersonName
        # comes first in the schema, so it wins when both are written.
        Bind(point, "ram:PersonName | ram:DepartmentName"),
        Bind(phone, "ram:TelephoneUniversalCommunication/ram:CompleteNumber"),
        Bind(email, "ram:EmailURIUniversalCommunication/ram:URIID"),
    )


SELLER: Table = (
    Bind("BT-29", "ram:ID | ram:GlobalID"),
    Bind("BT-27", "ram:Name"),
    Bind("BT-33", "ram:Description"),
    Bind("BT-30", "ram:SpecifiedLegalOrganization/ram:ID"),
    Bind("BT-28", "ram:SpecifiedLegalOrganization/ram:TradingBusinessName"),
    Group("BG-6", "ram:DefinedTradeContact", _contact("BT-41", "BT-42", "BT-43")),
    Group(
        "BG-5",
        "ram:PostalTradeAddress",
        _address("BT-35", "BT-36", "BT-162", "BT-37", "BT-38", "BT-39", "BT-40"),
    ),
    Bind("BT-34", "ram:URIUniversalCommunication/ram:URIID"),
    Bind("BT-31", _tax_id("VA")),
    Bind("BT-32", _tax_id("FC")),
)

BUYER: Table = (
    Bind("BT-46", "ram:ID | ram:GlobalID"),
    Bind("BT-44", "ram:Name"),
    Bind("BT-47", "ram:SpecifiedLegalOrganization/ram:ID"),
    Bind("BT-45", "ram:SpecifiedLegalOrganization/ram:TradingBusinessName"),
    Group("BG-9", "ram:DefinedTradeContact", _contact("BT-56", "BT-57", "BT-58")),
    Group(
        "BG-8",
        "ram:PostalTradeAddress",
        _address("BT-50", "BT-51", "BT-163", "BT-52", "BT-53", "BT-54", "BT-55"),
    ),
    Bind("BT-49", "ram:URIUniversalCommunication/ram:URIID"),
    Bind("BT-48", _tax_id("VA")),
)

TAX_REPRESENTATIVE: Table = (
    Bind("BT-62", "ram:Name"),
    Group(
        "BG-12",
        "ram:PostalTradeAddress",
        _address("BT-64", "BT-65", "BT-164", "BT-66", "BT-67", "BT-68", "BT-69"),
    ),
    Bind("BT-63", _tax_id("VA")),
)

# Read from ram:ApplicableHeaderTradeDelivery: the deliver-to party and the delivery event.
DELIVERY: Table = (
    Bind("BT-71", "ram:ShipToTradeParty/ram:ID | ram:ShipToTradeParty/ram:GlobalID"),
    Bind("BT-70", "ram:ShipToTradeParty/ram:Name"),
    Group(
        "BG-15",
        "ram:ShipToTradeParty/ram:PostalTradeAddress",
        _address("BT-75", "BT-76", "BT-165", "BT-77", "BT-78", "BT-79", "BT-80"),
    ),
    Bind("BT-72", "ram:ActualDeliverySupplyChainEvent/ram:OccurrenceDateTime/udt:DateTimeString"),
)

PAYEE: Table = (
    Bind("BT-60", "ram:ID | ram:GlobalID"),
    Bind("BT-59", "ram:Name"),
    Bind("BT-61", "ram:SpecifiedLegalOrganization/ram:ID"),
)

_MEANS = "ram:SpecifiedTradeSettlementPaymentMeans"

# Read from ram:ApplicableHeaderTradeSettlement: BG-16 has no aggregate of its own in CII.
# BT-81/BT-82 come from the first payment means; every payment means with a payee account
# gives one BG-17; BG-19 gathers the mandate (payment terms), the creditor id (settlement)
# and the debited account (payment means).
PAYMENT_INSTRUCTIONS: Table = (
    Bind("BT-83", "ram:PaymentReference"),
    Bind("BT-81", f"{_MEANS}/ram:TypeCode"),
    Bind("BT-82", f"{_MEANS}/ram:Information"),
    Group(
        "BG-18",
        f"{_MEANS}/ram:ApplicableTradeSettlementFinancialCard",
        (Bind("BT-87", "ram:ID"), Bind("BT-88", "ram:CardholderName")),
    ),
    Group(
        "BG-17",
        _MEANS,
        (
            Bind(
                "BT-84",
                "ram:PayeePartyCreditorFinancialAccount/ram:IBANID"
                " | ram:PayeePartyCreditorFinancialAccount/ram:ProprietaryID",
            ),
            Bind("BT-85", "ram:PayeePartyCreditorFinancialAccount/ram:AccountName"),
            Bind("BT-86", "ram:PayeeSpecifiedCreditorFinancialInstitution/ram:BICID"),
        ),
    ),
    Group(
        "BG-19",
        ".",
        (
            Bind("BT-89", "ram:SpecifiedTradePaymentTerms/ram:DirectDebitMandateID"),
            Bind("BT-90", "ram:CreditorReferenceID"),
            Bind("BT-91", f"{_MEANS}/ram:PayerPartyDebtorFinancialAccount/ram:IBANID"),
        ),
    ),
)


def _allowance_charge(amount: str, base: str, pct: str, reason: str, code: str) -> Table:
    return (
        Bind(pct, "ram:CalculationPercent"),
        Bind(base, "ram:BasisAmount"),
        Bind(amount, "ram:ActualAmount"),
        Bind(code, "ram:ReasonCode"),
        Bind(reason, "ram:Reason"),
    )


def _document_allowance_charge(
    amount: str, base: str, pct: str, category: str, rate: str, reason: str, code: str
) -> Table:
    return (
        *_allowance_charge(amount, base, pct, reason, code),
        Bind(category, "ram:CategoryTradeTax/ram:CategoryCode"),
        Bind(rate, "ram:CategoryTradeTax/ram:RateApplicablePercent"),
    )


VAT_BREAKDOWN: Table = (
    Bind("BT-117", "ram:CalculatedAmount"),
    Bind("BT-120", "ram:ExemptionReason"),
    Bind("BT-116", "ram:BasisAmount"),
    Bind("BT-118", "ram:CategoryCode"),
    Bind("BT-121", "ram:ExemptionReasonCode"),
    Bind("BT-119", "ram:RateApplicablePercent"),
)

# From ram:SpecifiedTradeSettlementHeaderMonetarySummation. The VAT total is written once per
# currency: in the invoice currency it is BT-110, in a distinct VAT accounting currency BT-111.
_DOCUMENT_CURRENCY = "normalize-space(../../ram:InvoiceCurrencyCode)"
_TAX_CURRENCY = "normalize-space(../../ram:TaxCurrencyCode)"
TOTALS: Table = (
    Bind("BT-106", "ram:LineTotalAmount"),
    Bind("BT-108", "ram:ChargeTotalAmount"),
    Bind("BT-107", "ram:AllowanceTotalAmount"),
    Bind("BT-109", "ram:TaxBasisTotalAmount"),
    Bind(
        "BT-110",
        f"ram:TaxTotalAmount[not(@currencyID) or normalize-space(@currencyID)={_DOCUMENT_CURRENCY}"
        f" or not(../../ram:TaxCurrencyCode) or normalize-space(@currencyID)!={_TAX_CURRENCY}]",
    ),
    Bind(
        "BT-111",
        f"ram:TaxTotalAmount[@currencyID and normalize-space(@currencyID)={_TAX_CURRENCY}"
        f" and normalize-space(@currencyID)!={_DOCUMENT_CURRENCY}]",
    ),
    Bind("BT-114", "ram:RoundingAmount"),
    Bind("BT-112", "ram:GrandTotalAmount"),
    Bind("BT-113", "ram:TotalPrepaidAmount"),
    Bind("BT-115", "ram:DuePayableAmount"),
)

ADDITIONAL_DOCUMENT: Table = (
    Bind("BT-122", "ram:IssuerAssignedID"),
    Bind("BT-124", "ram:URIID"),
    Bind("BT-123", "ram:Name"),
    Bind("BT-125", "ram:AttachmentBinaryObject"),
)

ITEM: Table = (
    Bind("BT-157", "ram:GlobalID"),
    Bind("BT-155", "ram:SellerAssignedID"),
    Bind("BT-156", "ram:BuyerAssignedID"),
    Bind("BT-153", "ram:Name"),
    Bind("BT-154", "ram:Description"),
    Group(
        "BG-32",
        "ram:ApplicableProductCharacteristic",
        (Bind("BT-160", "ram:Description"), Bind("BT-161", "ram:Value")),
    ),
    Bind("BT-158", "ram:DesignatedProductClassification/ram:ClassCode"),
    Bind("BT-159", "ram:OriginTradeCountry/ram:ID"),
)

_GROSS = "ram:GrossPriceProductTradePrice"
_NET = "ram:NetPriceProductTradePrice"
# The base quantity may be written on the net price, the gross price or both: net wins.
_GROSS_ONLY = f"{_GROSS}/ram:BasisQuantity[not(../../{_NET}/ram:BasisQuantity)]"
_BASE_QUANTITY = f"{_NET}/ram:BasisQuantity | {_GROSS_ONLY}"
_BASE_UNIT = f"{_NET}/ram:BasisQuantity/@unitCode | {_GROSS_ONLY}/@unitCode"

# From ram:SpecifiedLineTradeAgreement.
PRICE: Table = (
    Bind("BT-148", f"{_GROSS}/ram:ChargeAmount"),
    Bind("BT-147", f"{_GROSS}/{_PRICE_ALLOWANCE}/ram:ActualAmount"),
    Bind("BT-146", f"{_NET}/ram:ChargeAmount"),
    Bind("BT-149", _BASE_QUANTITY),
    Bind("BT-150", _BASE_UNIT),
)

_LINE_SETTLEMENT = "ram:SpecifiedLineTradeSettlement"

LINE: Table = (
    Bind("BT-126", "ram:AssociatedDocumentLineDocument/ram:LineID"),
    Bind("BT-127", "ram:AssociatedDocumentLineDocument/ram:IncludedNote/ram:Content"),
    Group("BG-31", "ram:SpecifiedTradeProduct", ITEM),
    Bind("BT-132", "ram:SpecifiedLineTradeAgreement/ram:BuyerOrderReferencedDocument/ram:LineID"),
    Group("BG-29", "ram:SpecifiedLineTradeAgreement", PRICE),
    Bind("BT-129", "ram:SpecifiedLineTradeDelivery/ram:BilledQuantity"),
    Bind("BT-130", "ram:SpecifiedLineTradeDelivery/ram:BilledQuantity/@unitCode"),
    Group(
        "BG-30",
        f"{_LINE_SETTLEMENT}/ram:ApplicableTradeTax",
        (Bind("BT-151", "ram:CategoryCode"), Bind("BT-152", "ram:RateApplicablePercent")),
    ),
    Group(
        "BG-26",
        f"{_LINE_SETTLEMENT}/ram:BillingSpecifiedPeriod",
        (
            Bind("BT-134", "ram:StartDateTime/udt:DateTimeString"),
            Bind("BT-135", "ram:EndDateTime/udt:DateTimeString"),
        ),
    ),
    Group(
        "BG-27",
        f"{_LINE_SETTLEMENT}/{_ALLOWANCE}",
        _allowance_charge("BT-136", "BT-137", "BT-138", "BT-139", "BT-140"),
    ),
    Group(
        "BG-28",
        f"{_LINE_SETTLEMENT}/{_CHARGE}",
        _allowance_charge("BT-141", "BT-142", "BT-143", "BT-144", "BT-145"),
    ),
    Bind(
        "BT-131",
        f"{_LINE_SETTLEMENT}/ram:SpecifiedTradeSettlementLineMonetarySummation/ram:LineTotalAmount",
    ),
    Bind(
        "BT-128",
        f"{_LINE_SETTLEMENT}/ram:AdditionalReferencedDocument{_typed('130')}/ram:IssuerAssignedID",
        scheme="../ram:ReferenceTypeCode",
    ),
    Bind("BT-133", f"{_LINE_SETTLEMENT}/ram:ReceivableSpecifiedTradeAccountingAccount/ram:ID"),
)

_SUB_LINES = next(name for name in InvoiceLine.model_fields if term_of(InvoiceLine, name) == "BG-DEX-01")
_LINE_ID = etree.XPath("normalize-space(ram:AssociatedDocumentLineDocument/ram:LineID)", namespaces=NAMESPACES)
_PARENT_LINE_ID = etree.XPath(
    "normalize-space(ram:AssociatedDocumentLineDocument/ram:ParentLineID)", namespaces=NAMESPACES
)


def _nest_sub_lines(produced: list[tuple[etree._Element, dict[str, Any]]]) -> list[dict[str, Any]]:
    """Hang each line that names a ParentLineID under that line's sub lines, recursively.

    Lines keep document order at every level. A line whose parent is missing, is itself, or
    would close a cycle stays at the top level (the validators report the broken hierarchy).
    When two lines share an id, the first one is the parent.
    """
    lines = [dict(values) for _, values in produced]
    index_of: dict[str, int] = {}
    for index, (element, _) in enumerate(produced):
        index_of.setdefault(str(_LINE_ID(element)), index)
    parent_of: list[int | None] = []
    for index, (element, _) in enumerate(produced):
        parent_id = str(_PARENT_LINE_ID(element))
        parent = index_of.get(parent_id) if parent_id else None
        parent_of.append(None if parent == index else parent)
    for index in range(len(lines)):
        seen = {index}
        ancestor = parent_of[index]
        while ancestor is not None:
            if ancestor in seen:
                parent_of[index] = None
                break
            seen.add(ancestor)
            ancestor = parent_of[ancestor]
    top = []
    for index, line in enumerate(lines):
        parent = parent_of[index]
        if parent is None:
            top.append(line)
        else:
            lines[parent].setdefault(_SUB_LINES, []).append(line)
    return top


INVOICE: Table = (
    Group(
        "BG-2",
        "rsm:ExchangedDocumentContext",
        (
            Bind("BT-23", "ram:BusinessProcessSpecifiedDocumentContextParameter/ram:ID"),
            Bind("BT-24", "ram:GuidelineSpecifiedDocumentContextParameter/ram:ID"),
        ),
    ),
    Bind("BT-1", "rsm:ExchangedDocument/ram:ID"),
    Bind("BT-3", "rsm:ExchangedDocument/ram:TypeCode"),
    Bind("BT-2", "rsm:ExchangedDocument/ram:IssueDateTime/udt:DateTimeString"),
    Group(
        "BG-1",
        "rsm:ExchangedDocument/ram:IncludedNote",
        (Bind("BT-22", "ram:Content"), Bind("BT-21", "ram:SubjectCode")),
    ),
    Group(
        "BG-25",
        "rsm:SupplyChainTradeTransaction/ram:IncludedSupplyChainTradeLineItem",
        LINE,
        post=_nest_sub_lines,
    ),
    # ram:ApplicableHeaderTradeAgreement
    Bind("BT-10", f"{_AGREEMENT}/ram:BuyerReference"),
    Group("BG-4", f"{_AGREEMENT}/ram:SellerTradeParty", SELLER),
    Group("BG-7", f"{_AGREEMENT}/ram:BuyerTradeParty", BUYER),
    Group("BG-11", f"{_AGREEMENT}/ram:SellerTaxRepresentativeTradeParty", TAX_REPRESENTATIVE),
    Bind("BT-14", f"{_AGREEMENT}/ram:SellerOrderReferencedDocument/ram:IssuerAssignedID"),
    Bind("BT-13", f"{_AGREEMENT}/ram:BuyerOrderReferencedDocument/ram:IssuerAssignedID"),
    Bind("BT-12", f"{_AGREEMENT}/ram:ContractReferencedDocument/ram:IssuerAssignedID"),
    # ram:AdditionalReferencedDocument is BT-17 (type 50), BT-18 (type 130) or else BG-24 (916).
    Group(
        "BG-24",
        f"{_AGREEMENT}/ram:AdditionalReferencedDocument"
        "[not(normalize-space(ram:TypeCode)='130') and not(normalize-space(ram:TypeCode)='50')]",
        ADDITIONAL_DOCUMENT,
    ),
    Bind("BT-17", f"{_AGREEMENT}/ram:AdditionalReferencedDocument{_typed('50')}/ram:IssuerAssignedID"),
    Bind(
        "BT-18",
        f"{_AGREEMENT}/ram:AdditionalReferencedDocument{_typed('130')}/ram:IssuerAssignedID",
        scheme="../ram:ReferenceTypeCode",
    ),
    Bind("BT-11", f"{_AGREEMENT}/ram:SpecifiedProcuringProject/ram:ID"),
    # ram:ApplicableHeaderTradeDelivery
    Group("BG-13", _DELIVERY, DELIVERY),
    Bind("BT-16", f"{_DELIVERY}/ram:DespatchAdviceReferencedDocument/ram:IssuerAssignedID"),
    Bind("BT-15", f"{_DELIVERY}/ram:ReceivingAdviceReferencedDocument/ram:IssuerAssignedID"),
    # ram:ApplicableHeaderTradeSettlement
    Bind("BT-6", f"{_SETTLEMENT}/ram:TaxCurrencyCode"),
    Bind("BT-5", f"{_SETTLEMENT}/ram:InvoiceCurrencyCode"),
    Group("BG-10", f"{_SETTLEMENT}/ram:PayeeTradeParty", PAYEE),
    Group("BG-16", _SETTLEMENT, PAYMENT_INSTRUCTIONS),
    Group("BG-23", f"{_SETTLEMENT}/ram:ApplicableTradeTax", VAT_BREAKDOWN),
    Bind("BT-7", f"{_SETTLEMENT}/ram:ApplicableTradeTax/ram:TaxPointDate/udt:DateString"),
    Bind("BT-8", f"{_SETTLEMENT}/ram:ApplicableTradeTax/ram:DueDateTypeCode"),
    Group(
        "BG-14",
        f"{_SETTLEMENT}/ram:BillingSpecifiedPeriod",
        (
            Bind("BT-73", "ram:StartDateTime/udt:DateTimeString"),
            Bind("BT-74", "ram:EndDateTime/udt:DateTimeString"),
        ),
    ),
    Group(
        "BG-20",
        f"{_SETTLEMENT}/{_ALLOWANCE}",
        _document_allowance_charge("BT-92", "BT-93", "BT-94", "BT-95", "BT-96", "BT-97", "BT-98"),
    ),
    Group(
        "BG-21",
        f"{_SETTLEMENT}/{_CHARGE}",
        _document_allowance_charge("BT-99", "BT-100", "BT-101", "BT-102", "BT-103", "BT-104", "BT-105"),
    ),
    Bind("BT-20", f"{_SETTLEMENT}/ram:SpecifiedTradePaymentTerms/ram:Description"),
    Bind("BT-9", f"{_SETTLEMENT}/ram:SpecifiedTradePaymentTerms/ram:DueDateDateTime/udt:DateTimeString"),
    Group("BG-22", f"{_SETTLEMENT}/ram:SpecifiedTradeSettlementHeaderMonetarySummation", TOTALS),
    Group(
        "BG-3",
        f"{_SETTLEMENT}/ram:InvoiceReferencedDocument",
        (
            Bind("BT-25", "ram:IssuerAssignedID"),
            # qdt per the D16B schema; some producers write udt.
            Bind(
                "BT-26",
                "ram:FormattedIssueDateTime/qdt:DateTimeString | ram:FormattedIssueDateTime/udt:DateTimeString",
            ),
        ),
    ),
    Bind("BT-19", f"{_SETTLEMENT}/ram:ReceivableSpecifiedTradeAccountingAccount/ram:ID"),
)


# --- writing --------------------------------------------------------------------------------------

_PARENT_LINE = "ram:AssociatedDocumentLineDocument/ram:ParentLineID"


def _flatten_sub_lines(lines: Sequence[InvoiceLine], parent: str | None = None) -> Prepared:
    """The inverse of ``_nest_sub_lines``: each sub line follows its parent, naming it in ParentLineID."""
    flat: Prepared = []
    for line in lines:
        flat.append((line.model_copy(update={_SUB_LINES: []}), ((_PARENT_LINE, parent),) if parent else ()))
        sub_lines = getattr(line, _SUB_LINES)
        if sub_lines:
            if not line.identifier:
                raise WriteError("BT-126: a line with sub lines needs an identifier for their ParentLineID")
            flat.extend(_flatten_sub_lines(sub_lines, line.identifier))
    return flat


def _global_when_scheme(identifiers: Sequence[Identifier]) -> list[int]:
    """ram:ID (branch 0) for identifiers without a scheme, ram:GlobalID (1) for those with one.

    The reader lists every ram:ID before every ram:GlobalID, so an identifier with a scheme
    that precedes one without stays a ram:ID (with @schemeID): the model's order survives.
    """
    last_plain = max((i for i, x in enumerate(identifiers) if x.scheme is None), default=-1)
    return [1 if x.scheme is not None and i > last_plain else 0 for i, x in enumerate(identifiers)]


_IBAN = re.compile(r"[A-Z]{2}[0-9]{2}[A-Z0-9]{11,30}")


def _iban_or_proprietary(accounts: Sequence[str]) -> list[int]:
    """ram:IBANID for an IBAN, ram:ProprietaryID for any other account identifier."""
    return [0 if _IBAN.fullmatch(a.replace(" ", "")) else 1 for a in accounts]


def _with_gross_price(line: InvoiceLine) -> InvoiceLine:
    """ram:GrossPriceProductTradePrice, which carries BT-147, requires its ram:ChargeAmount (BT-148).

    UBL may state the discount alone; the gross price is then net plus discount (PEPPOL-EN16931-R046).
    """
    price = line.price
    sub_lines = [_with_gross_price(sub) for sub in getattr(line, _SUB_LINES)]
    if price and price.discount is not None and price.gross_price is None and price.net_price is not None:
        price = price.model_copy(update={"gross_price": price.net_price + price.discount})
    return line.model_copy(update={"price": price, _SUB_LINES: sub_lines})


def _complete(invoice: Invoice) -> Invoice:
    """What CII's schema requires where the model may be silent, derived by the EN 16931 rules."""
    return invoice.model_copy(update={"lines": [_with_gross_price(line) for line in invoice.lines]})


_VAT = (("ram:TypeCode", "VAT"),)

WRITE_HINTS = WriteHints(
    terms={
        "BG-25": Hint(prepare=_flatten_sub_lines, extras=(_PARENT_LINE,)),
        # The reader takes any type but 130 (BT-18) and 50 (BT-17); EN 16931 types BG-24 as 916.
        "BG-24": Hint(path=f"{_AGREEMENT}/ram:AdditionalReferencedDocument{_typed('916')}"),
        # The reader tells the two VAT totals apart by comparing currencies (XPath); the writer
        # states each total's currency.
        "BT-110": Hint(path="ram:TaxTotalAmount", currency="BT-5"),
        "BT-111": Hint(path="ram:TaxTotalAmount", currency="BT-6"),
        "BT-29": Hint(branch=_global_when_scheme),
        "BT-46": Hint(branch=_global_when_scheme),
        "BT-60": Hint(branch=_global_when_scheme),
        "BT-71": Hint(branch=_global_when_scheme),
        "BT-84": Hint(branch=_iban_or_proprietary),
        # A UBL BT-8 (UNTDID 2005) in its CII code (UNTDID 2475).
        "BT-8": Hint(codes={"3": "5", "35": "29", "432": "72"}),
    },
    date_format="102",
    required={
        "rsm:CrossIndustryInvoice": (
            ("rsm:ExchangedDocumentContext", None),
            ("rsm:ExchangedDocument", None),
            (f"{_AGREEMENT}", None),
            (f"{_DELIVERY}", None),
            (f"{_SETTLEMENT}", None),
        ),
        "ram:IncludedSupplyChainTradeLineItem": (
            ("ram:AssociatedDocumentLineDocument", None),
            (_LINE_SETTLEMENT, None),
        ),
        # ram:Name is mandatory and no EN 16931 term; the CII binding's examples write this text.
        "ram:SpecifiedProcuringProject": (("ram:Name", "Project reference"),),
        # The EN 16931 CII binding types every VAT aggregate as VAT (the reader does not check it).
        "ram:ApplicableTradeTax": _VAT,
        "ram:CategoryTradeTax": _VAT,
    },
    # Every payment means carries its type code (mandatory in EN 16931), also a second one
    # written for a further BG-17 account.
    repeat={"ram:SpecifiedTradeSettlementPaymentMeans": ("ram:TypeCode",)},
    complete=_complete,
)
