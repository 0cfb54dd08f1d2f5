"""UBL 2.1 Invoice / CreditNote binding of EN 16931 (CEN/TS 16931-3-2), as a table.

Paths are XPath 1.0, relative to the group's element. Invoice and CreditNote share one
table: where they differ (type code, line and quantity element names) the path names both.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from lxml import etree

from schemas.binding._core import Bind, Group, Table
from schemas.binding._writer import Hint, Prepared, WriteHints
from schemas.model import Invoice, InvoiceLine, Note, Totals

__all__ = ["INVOICE", "NAMESPACES", "ROOTS", "WRITE_HINTS"]

NAMESPACES = {
    "cac": "urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2",
    "cbc": "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2",
    "ubl": "urn:oasis:names:specification:ubl:schema:xsd:Invoice-2",
    "cn": "urn:oasis:names:specification:ubl:schema:xsd:CreditNote-2",
}
ROOTS = {
    "{urn:oasis:names:specification:ubl:schema:xsd:Invoice-2}Invoice": "ubl-invoice",
    "{urn:oasis:names:specification:ubl:schema:xsd:CreditNote-2}CreditNote": "ubl-creditnote",
}

_ALLOWANCE = "cac:AllowanceCharge[normalize-space(cbc:ChargeIndicator)='false']"
_CHARGE = "cac:AllowanceCharge[normalize-space(cbc:ChargeIndicator)='true']"
_VAT_SCHEME = "cac:PartyTaxScheme[normalize-space(cac:TaxScheme/cbc:ID)='VAT']"
_SEPA = "[normalize-space(@schemeID)='SEPA']"


def _address(line_1: str, line_2: str, line_3: str, city: str, post: str, sub: str, country: str) -> Table:
    return (
        Bind(line_1, "cbc:StreetName"),
        Bind(line_2, "cbc:AdditionalStreetName"),
        Bind(line_3, "cac:AddressLine/cbc:Line"),
        Bind(city, "cbc:CityName"),
        Bind(post, "cbc:PostalZone"),
        Bind(sub, "cbc:CountrySubentity"),
        Bind(country, "cac:Country/cbc:IdentificationCode"),
    )


def _contact(point: str, phone: str, email: str) -> Table:
    return (Bind(point, "cbc:Name"), Bind(phone, "cbc:Telephone"), Bind(email, "cbc:ElectronicMail"))


_NOTE_SUBJECT_PREFIX = "#"


def _split_notes(produced: list[tuple[etree._Element, dict[str, Any]]]) -> list[dict[str, Any]]:
    """UBL has no element for BT-21: XRechnung and Peppol write it as ``#CODE#text``."""
    notes = []
    for _, values in produced:
        text = values.get("text") or ""
        parts = text.split(_NOTE_SUBJECT_PREFIX, 2)
        if text.startswith(_NOTE_SUBJECT_PREFIX) and len(parts) == 3 and parts[1]:
            values = {"subject_code": parts[1], "text": parts[2]}
        notes.append(values)
    return notes


SELLER: Table = (
    Bind("BT-27", "cac:PartyLegalEntity/cbc:RegistrationName"),
    Bind("BT-28", "cac:PartyName/cbc:Name"),
    # BT-90 (the SEPA creditor id) shares the element; the scheme tells them apart.
    Bind("BT-29", f"cac:PartyIdentification/cbc:ID[not({_SEPA[1:-1]})]"),
    Bind("BT-30", "cac:PartyLegalEntity/cbc:CompanyID"),
    Bind("BT-31", f"{_VAT_SCHEME}/cbc:CompanyID"),
    Bind("BT-32", "cac:PartyTaxScheme[not(normalize-space(cac:TaxScheme/cbc:ID)='VAT')]/cbc:CompanyID"),
    Bind("BT-33", "cac:PartyLegalEntity/cbc:CompanyLegalForm"),
    Bind("BT-34", "cbc:EndpointID"),
    Group("BG-5", "cac:PostalAddress", _address("BT-35", "BT-36", "BT-162", "BT-37", "BT-38", "BT-39", "BT-40")),
    Group("BG-6", "cac:Contact", _contact("BT-41", "BT-42", "BT-43")),
)

BUYER: Table = (
    Bind("BT-44", "cac:PartyLegalEntity/cbc:RegistrationName"),
    Bind("BT-45", "cac:PartyName/cbc:Name"),
    Bind("BT-46", "cac:PartyIdentification/cbc:ID"),
    Bind("BT-47", "cac:PartyLegalEntity/cbc:CompanyID"),
    Bind("BT-48", f"{_VAT_SCHEME}/cbc:CompanyID"),
    Bind("BT-49", "cbc:EndpointID"),
    Group("BG-8", "cac:PostalAddress", _address("BT-50", "BT-51", "BT-163", "BT-52", "BT-53", "BT-54", "BT-55")),
    Group("BG-9", "cac:Contact", _contact("BT-56", "BT-57", "BT-58")),
)

PAYEE: Table = (
    Bind("BT-59", "cac:PartyName/cbc:Name"),
    Bind("BT-60", f"cac:PartyIdentification/cbc:ID[not({_SEPA[1:-1]})]"),
    Bind("BT-61", "cac:PartyLegalEntity/cbc:CompanyID"),
)

TAX_REPRESENTATIVE: Table = (
    Bind("BT-62", "cac:PartyName/cbc:Name"),
    Bind("BT-63", "cac:PartyTaxScheme/cbc:CompanyID"),
    Group("BG-12", "cac:PostalAddress", _address("BT-64", "BT-65", "BT-164", "BT-66", "BT-67", "BT-68", "BT-69")),
)

DELIVERY: Table = (
    Bind("BT-70", "cac:DeliveryParty/cac:PartyName/cbc:Name"),
    Bind("BT-71", "cac:DeliveryLocation/cbc:ID"),
    Bind("BT-72", "cbc:ActualDeliveryDate"),
    Group(
        "BG-15",
        "cac:DeliveryLocation/cac:Address",
        _address("BT-75", "BT-76", "BT-165", "BT-77", "BT-78", "BT-79", "BT-80"),
    ),
)

PAYMENT_INSTRUCTIONS: Table = (
    Bind("BT-81", "cbc:PaymentMeansCode"),
    Bind("BT-82", "cbc:PaymentMeansCode/@name"),
    Bind("BT-83", "cbc:PaymentID"),
    # One BG-17 per cac:PaymentMeans in UBL; BG-16 itself is read from the first.
    Group(
        "BG-17",
        "../cac:PaymentMeans/cac:PayeeFinancialAccount",
        (Bind("BT-84", "cbc:ID"), Bind("BT-85", "cbc:Name"), Bind("BT-86", "cac:FinancialInstitutionBranch/cbc:ID")),
    ),
    Group("BG-18", "cac:CardAccount", (Bind("BT-87", "cbc:PrimaryAccountNumberID"), Bind("BT-88", "cbc:HolderName"))),
    Group(
        "BG-19",
        "cac:PaymentMandate",
        (
            Bind("BT-89", "cbc:ID"),
            Bind(
                "BT-90",
                f"/*/cac:AccountingSupplierParty/cac:Party/cac:PartyIdentification/cbc:ID{_SEPA}"
                f" | /*/cac:PayeeParty/cac:PartyIdentification/cbc:ID{_SEPA}",
            ),
            Bind("BT-91", "cac:PayerFinancialAccount/cbc:ID"),
        ),
    ),
)


def _allowance_charge(amount: str, base: str, pct: str, reason: str, code: str) -> Table:
    return (
        Bind(amount, "cbc:Amount"),
        Bind(base, "cbc:BaseAmount"),
        Bind(pct, "cbc:MultiplierFactorNumeric"),
        Bind(reason, "cbc:AllowanceChargeReason"),
        Bind(code, "cbc:AllowanceChargeReasonCode"),
    )


def _document_allowance_charge(
    amount: str, base: str, pct: str, category: str, rate: str, reason: str, code: str
) -> Table:
    return (
        *_allowance_charge(amount, base, pct, reason, code),
        Bind(category, "cac:TaxCategory/cbc:ID"),
        Bind(rate, "cac:TaxCategory/cbc:Percent"),
    )


TOTALS: Table = (
    Bind("BT-106", "cbc:LineExtensionAmount"),
    Bind("BT-107", "cbc:AllowanceTotalAmount"),
    Bind("BT-108", "cbc:ChargeTotalAmount"),
    Bind("BT-109", "cbc:TaxExclusiveAmount"),
    Bind("BT-110", "../cac:TaxTotal/cbc:TaxAmount[@currencyID=/*/cbc:DocumentCurrencyCode or not(@currencyID)]"),
    Bind(
        "BT-111",
        "../cac:TaxTotal/cbc:TaxAmount[@currencyID=/*/cbc:TaxCurrencyCode"
        " and not(@currencyID=/*/cbc:DocumentCurrencyCode)]",
    ),
    Bind("BT-112", "cbc:TaxInclusiveAmount"),
    Bind("BT-113", "cbc:PrepaidAmount"),
    Bind("BT-114", "cbc:PayableRoundingAmount"),
    Bind("BT-115", "cbc:PayableAmount"),
)

VAT_BREAKDOWN: Table = (
    Bind("BT-116", "cbc:TaxableAmount"),
    Bind("BT-117", "cbc:TaxAmount"),
    Bind("BT-118", "cac:TaxCategory/cbc:ID"),
    Bind("BT-119", "cac:TaxCategory/cbc:Percent"),
    Bind("BT-120", "cac:TaxCategory/cbc:TaxExemptionReason"),
    Bind("BT-121", "cac:TaxCategory/cbc:TaxExemptionReasonCode"),
)

ADDITIONAL_DOCUMENT: Table = (
    Bind("BT-122", "cbc:ID"),
    Bind("BT-123", "cbc:DocumentDescription"),
    Bind("BT-124", "cac:Attachment/cac:ExternalReference/cbc:URI"),
    Bind("BT-125", "cac:Attachment/cbc:EmbeddedDocumentBinaryObject"),
)

ITEM: Table = (
    Bind("BT-153", "cbc:Name"),
    Bind("BT-154", "cbc:Description"),
    Bind("BT-155", "cac:SellersItemIdentification/cbc:ID"),
    Bind("BT-156", "cac:BuyersItemIdentification/cbc:ID"),
    Bind("BT-157", "cac:StandardItemIdentification/cbc:ID"),
    Bind("BT-158", "cac:CommodityClassification/cbc:ItemClassificationCode"),
    Bind("BT-159", "cac:OriginCountry/cbc:IdentificationCode"),
    Group("BG-32", "cac:AdditionalItemProperty", (Bind("BT-160", "cbc:Name"), Bind("BT-161", "cbc:Value"))),
)

_QUANTITY = "cbc:InvoicedQuantity | cbc:CreditedQuantity"


def _line() -> Table:
    return LINE


LINE: Table = (
    Bind("BT-126", "cbc:ID"),
    Bind("BT-127", "cbc:Note"),
    Bind("BT-128", "cac:DocumentReference[normalize-space(cbc:DocumentTypeCode)='130']/cbc:ID"),
    Bind("BT-129", _QUANTITY),
    Bind("BT-130", "cbc:InvoicedQuantity/@unitCode | cbc:CreditedQuantity/@unitCode"),
    Bind("BT-131", "cbc:LineExtensionAmount"),
    Bind("BT-132", "cac:OrderLineReference/cbc:LineID"),
    Bind("BT-133", "cbc:AccountingCost"),
    Group("BG-26", "cac:InvoicePeriod", (Bind("BT-134", "cbc:StartDate"), Bind("BT-135", "cbc:EndDate"))),
    Group("BG-27", _ALLOWANCE, _allowance_charge("BT-136", "BT-137", "BT-138", "BT-139", "BT-140")),
    Group("BG-28", _CHARGE, _allowance_charge("BT-141", "BT-142", "BT-143", "BT-144", "BT-145")),
    Group(
        "BG-29",
        "cac:Price",
        (
            Bind("BT-146", "cbc:PriceAmount"),
            Bind("BT-147", f"{_ALLOWANCE}/cbc:Amount"),
            Bind("BT-148", f"{_ALLOWANCE}/cbc:BaseAmount"),
            Bind("BT-149", "cbc:BaseQuantity"),
            Bind("BT-150", "cbc:BaseQuantity/@unitCode"),
        ),
    ),
    Group("BG-30", "cac:Item/cac:ClassifiedTaxCategory", (Bind("BT-151", "cbc:ID"), Bind("BT-152", "cbc:Percent"))),
    Group("BG-31", "cac:Item", ITEM),
    Group("BG-DEX-01", "cac:SubInvoiceLine", _line),
)

INVOICE: Table = (
    Bind("BT-1", "cbc:ID"),
    Bind("BT-2", "cbc:IssueDate"),
    Bind("BT-3", "cbc:InvoiceTypeCode | cbc:CreditNoteTypeCode"),
    Bind("BT-5", "cbc:DocumentCurrencyCode"),
    Bind("BT-6", "cbc:TaxCurrencyCode"),
    Bind("BT-7", "cbc:TaxPointDate"),
    Bind("BT-8", "cac:InvoicePeriod/cbc:DescriptionCode"),
    Bind("BT-9", "cbc:DueDate | cac:PaymentMeans/cbc:PaymentDueDate"),
    Bind("BT-10", "cbc:BuyerReference"),
    # A CreditNote has no ProjectReference: the binding uses a document reference typed 50.
    Bind(
        "BT-11",
        "cac:ProjectReference/cbc:ID"
        " | cac:AdditionalDocumentReference[normalize-space(cbc:DocumentTypeCode)='50']/cbc:ID",
    ),
    Bind("BT-12", "cac:ContractDocumentReference/cbc:ID"),
    Bind("BT-13", "cac:OrderReference/cbc:ID"),
    Bind("BT-14", "cac:OrderReference/cbc:SalesOrderID"),
    Bind("BT-15", "cac:ReceiptDocumentReference/cbc:ID"),
    Bind("BT-16", "cac:DespatchDocumentReference/cbc:ID"),
    Bind("BT-17", "cac:OriginatorDocumentReference/cbc:ID"),
    Bind("BT-18", "cac:AdditionalDocumentReference[normalize-space(cbc:DocumentTypeCode)='130']/cbc:ID"),
    Bind("BT-19", "cbc:AccountingCost"),
    Bind("BT-20", "cac:PaymentTerms/cbc:Note"),
    Group("BG-1", "cbc:Note", (Bind("BT-22", "."),), post=_split_notes),
    Group("BG-2", ".", (Bind("BT-23", "cbc:ProfileID"), Bind("BT-24", "cbc:CustomizationID"))),
    Group(
        "BG-3",
        "cac:BillingReference/cac:InvoiceDocumentReference",
        (Bind("BT-25", "cbc:ID"), Bind("BT-26", "cbc:IssueDate")),
    ),
    Group("BG-4", "cac:AccountingSupplierParty/cac:Party", SELLER),
    Group("BG-7", "cac:AccountingCustomerParty/cac:Party", BUYER),
    Group("BG-10", "cac:PayeeParty", PAYEE),
    Group("BG-11", "cac:TaxRepresentativeParty", TAX_REPRESENTATIVE),
    Group("BG-13", "cac:Delivery", DELIVERY),
    Group("BG-14", "cac:InvoicePeriod", (Bind("BT-73", "cbc:StartDate"), Bind("BT-74", "cbc:EndDate"))),
    Group("BG-16", "cac:PaymentMeans[1]", PAYMENT_INSTRUCTIONS),
    Group(
        "BG-20",
        _ALLOWANCE,
        _document_allowance_charge("BT-92", "BT-93", "BT-94", "BT-95", "BT-96", "BT-97", "BT-98"),
    ),
    Group(
        "BG-21",
        _CHARGE,
        _document_allowance_charge("BT-99", "BT-100", "BT-101", "BT-102", "BT-103", "BT-104", "BT-105"),
    ),
    Group("BG-22", "cac:LegalMonetaryTotal", TOTALS),
    Group("BG-23", "cac:TaxTotal/cac:TaxSubtotal", VAT_BREAKDOWN),
    Group(
        "BG-24",
        "cac:AdditionalDocumentReference[not(normalize-space(cbc:DocumentTypeCode)='130')"
        " and not(normalize-space(cbc:DocumentTypeCode)='50')]",
        ADDITIONAL_DOCUMENT,
    ),
    Group("BG-25", "cac:InvoiceLine | cac:CreditNoteLine", LINE),
    Group(
        "BG-DEX-09",
        "cac:PrepaidPayment",
        (Bind("BT-DEX-001", "cbc:ID"), Bind("BT-DEX-002", "cbc:PaidAmount"), Bind("BT-DEX-003", "cbc:InstructionID")),
    ),
)


# --- writing --------------------------------------------------------------------------------------


def _join_notes(notes: Sequence[Note]) -> Prepared:
    """The inverse of ``_split_notes``: BT-21 goes into the note text as ``#CODE#text``."""
    joined: Prepared = []
    for note in notes:
        if note.subject_code:
            text = f"{_NOTE_SUBJECT_PREFIX}{note.subject_code}{_NOTE_SUBJECT_PREFIX}{note.text or ''}"
            note = note.model_copy(update={"subject_code": None, "text": text})
        joined.append((note, ()))
    return joined


def _with_price_discount(line: InvoiceLine) -> InvoiceLine:
    """A gross price needs cac:Price/cac:AllowanceCharge, whose cbc:Amount (BT-147) is mandatory.

    CII may state the gross price alone; the discount is then gross minus net (PEPPOL-EN16931-R046).
    """
    price = line.price
    sub_lines = [_with_price_discount(sub) for sub in line.sub_lines]
    if price and price.gross_price is not None and price.discount is None and price.net_price is not None:
        price = price.model_copy(update={"discount": price.gross_price - price.net_price})
    return line.model_copy(update={"price": price, "sub_lines": sub_lines})


def _complete(invoice: Invoice) -> Invoice:
    """What UBL's schema requires where the model may be silent, derived by the EN 16931 rules."""
    update: dict[str, Any] = {"lines": [_with_price_discount(line) for line in invoice.lines]}
    # cac:TaxTotal, which carries the VAT breakdown, requires cbc:TaxAmount, and CII may omit
    # BT-110: it is then the sum of BT-117 (BR-CO-14).
    amounts = [vat.tax_amount for vat in invoice.vat_breakdown]
    totals = invoice.totals or Totals()
    if amounts and totals.total_vat is None and None not in amounts:
        total = sum((a for a in amounts if a is not None), start=Decimal(0))
        update["totals"] = totals.model_copy(update={"total_vat": total})
    return invoice.model_copy(update=update)


_VAT = (("cac:TaxScheme/cbc:ID", "VAT"),)

WRITE_HINTS = WriteHints(
    terms={
        "BG-1": Hint(prepare=_join_notes),
        # Read from the first cac:PaymentMeans ([1] is positional, so XPath); written into the first.
        "BG-16": Hint(path="cac:PaymentMeans"),
        # The reader takes any tax scheme but VAT; cac:TaxScheme is mandatory, and XRechnung
        # writes FC (Steuernummer) for the seller's tax registration.
        "BT-32": Hint(path="cac:PartyTaxScheme[normalize-space(cac:TaxScheme/cbc:ID)='FC']/cbc:CompanyID"),
        # One cac:TaxTotal per currency: BT-110 in the invoice currency (the default for amounts),
        # BT-111 in a second cac:TaxTotal (cbc:TaxAmount occurs once per TaxTotal) in BT-6.
        "BT-110": Hint(path="../cac:TaxTotal/cbc:TaxAmount"),
        "BT-111": Hint(path="../cac:TaxTotal/cbc:TaxAmount", currency="BT-6"),
        # A CII BT-8 (UNTDID 2475) in its UBL code (UNTDID 2005).
        "BT-8": Hint(codes={"5": "3", "29": "35", "72": "432"}),
    },
    amount_currency="BT-5",
    required={
        "cac:TaxCategory": _VAT,
        "cac:ClassifiedTaxCategory": _VAT,
        "cac:PartyTaxScheme": _VAT,  # BT-63 (BT-31 and BT-32 name their scheme in the path)
        # Peppol BIS: a sales order reference (BT-14) without a purchase order writes NA as cbc:ID.
        "cac:OrderReference": (("cbc:ID", "NA"),),
        # The card network is mandatory in UBL and not an EN 16931 term.
        "cac:CardAccount": (("cbc:NetworkID", "NA"),),
    },
    # A further BG-17 account needs its own cac:PaymentMeans, whose means code is mandatory.
    repeat={"cac:PaymentMeans": ("cbc:PaymentMeansCode",)},
    complete=_complete,
)
