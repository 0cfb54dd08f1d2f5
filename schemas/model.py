"""The EN 16931-1 semantic model of an invoice.

Every field carries its business term id (BT-…/BG-…) in its metadata, so tools can
address the model by term. Every field is optional: the model holds what a document
says; whether it says enough is the validators' business (BR-01 …), not the reader's.
Amounts are ``Decimal`` as written (scale kept), dates are ``date``, codes are kept
exactly as written.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

__all__ = [
    "AdditionalDocument",
    "Address",
    "AllowanceCharge",
    "AttachedBinary",
    "Buyer",
    "BuyerAddress",
    "BuyerContact",
    "CardPayment",
    "Contact",
    "CreditTransfer",
    "DeliverToAddress",
    "Delivery",
    "DirectDebit",
    "DocumentAllowance",
    "DocumentCharge",
    "Identifier",
    "Invoice",
    "InvoiceLine",
    "Item",
    "ItemAttribute",
    "ItemClassification",
    "LineAllowance",
    "LineCharge",
    "LinePeriod",
    "LineVat",
    "Note",
    "Payee",
    "PaymentInstructions",
    "Period",
    "PrecedingInvoice",
    "PriceDetails",
    "ProcessControl",
    "Seller",
    "SellerAddress",
    "SellerContact",
    "TaxRepresentative",
    "TaxRepresentativeAddress",
    "ThirdPartyPayment",
    "Totals",
    "VatBreakdown",
    "term",
    "term_of",
]


def term(term_id: str, *, many: bool = False) -> Any:
    """A model field for one business term: optional, or an empty list when repeatable."""
    extra = {"term": term_id}
    if many:
        return Field(default_factory=list, json_schema_extra=extra)
    return Field(default=None, json_schema_extra=extra)


def term_of(model: type[BaseModel], field_name: str) -> str:
    """The business term id a field of the model carries."""
    extra = model.model_fields[field_name].json_schema_extra
    assert isinstance(extra, dict)
    return str(extra["term"])


class _Group(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Identifier(_Group):
    """An identifier with its optional scheme (the BT-n-1 of a BT-n)."""

    id: str
    scheme: str | None = None


class AttachedBinary(_Group):
    """BT-125 with BT-125-1 (MIME code) and BT-125-2 (file name); content is decoded."""

    content: bytes
    mime_code: str | None = None
    filename: str | None = None


class Note(_Group):  # BG-1
    subject_code: str | None = term("BT-21")
    text: str | None = term("BT-22")


class ProcessControl(_Group):  # BG-2
    business_process_type: str | None = term("BT-23")
    specification_identifier: str | None = term("BT-24")


class PrecedingInvoice(_Group):  # BG-3
    reference: str | None = term("BT-25")
    issue_date: date | None = term("BT-26")


class Address(_Group):
    """Common shape of the four postal addresses; each subclass carries its own term ids."""

    line_1: str | None = None
    line_2: str | None = None
    line_3: str | None = None
    city: str | None = None
    post_code: str | None = None
    country_subdivision: str | None = None
    country_code: str | None = None


class SellerAddress(Address):  # BG-5
    line_1: str | None = term("BT-35")
    line_2: str | None = term("BT-36")
    line_3: str | None = term("BT-162")
    city: str | None = term("BT-37")
    post_code: str | None = term("BT-38")
    country_subdivision: str | None = term("BT-39")
    country_code: str | None = term("BT-40")


class BuyerAddress(Address):  # BG-8
    line_1: str | None = term("BT-50")
    line_2: str | None = term("BT-51")
    line_3: str | None = term("BT-163")
    city: str | None = term("BT-52")
    post_code: str | None = term("BT-53")
    country_subdivision: str | None = term("BT-54")
    country_code: str | None = term("BT-55")


class TaxRepresentativeAddress(Address):  # BG-12
    line_1: str | None = term("BT-64")
    line_2: str | None = term("BT-65")
    line_3: str | None = term("BT-164")
    city: str | None = term("BT-66")
    post_code: str | None = term("BT-67")
    country_subdivision: str | None = term("BT-68")
    country_code: str | None = term("BT-69")


class DeliverToAddress(Address):  # BG-15
    line_1: str | None = term("BT-75")
    line_2: str | None = term("BT-76")
    line_3: str | None = term("BT-165")
    city: str | None = term("BT-77")
    post_code: str | None = term("BT-78")
    country_subdivision: str | None = term("BT-79")
    country_code: str | None = term("BT-80")


class Contact(_Group):
    point: str | None = None
    telephone: str | None = None
    email: str | None = None


class SellerContact(Contact):  # BG-6
    point: str | None = term("BT-41")
    telephone: str | None = term("BT-42")
    email: str | None = term("BT-43")


class BuyerContact(Contact):  # BG-9
    point: str | None = term("BT-56")
    telephone: str | None = term("BT-57")
    email: str | None = term("BT-58")


class Seller(_Group):  # BG-4
    name: str | None = term("BT-27")
    trading_name: str | None = term("BT-28")
    identifiers: list[Identifier] = term("BT-29", many=True)
    legal_registration_identifier: Identifier | None = term("BT-30")
    vat_identifier: str | None = term("BT-31")
    tax_registration_identifier: str | None = term("BT-32")
    additional_legal_information: str | None = term("BT-33")
    electronic_address: Identifier | None = term("BT-34")
    address: SellerAddress | None = term("BG-5")
    contact: SellerContact | None = term("BG-6")


class Buyer(_Group):  # BG-7
    name: str | None = term("BT-44")
    trading_name: str | None = term("BT-45")
    identifier: Identifier | None = term("BT-46")
    legal_registration_identifier: Identifier | None = term("BT-47")
    vat_identifier: str | None = term("BT-48")
    electronic_address: Identifier | None = term("BT-49")
    address: BuyerAddress | None = term("BG-8")
    contact: BuyerContact | None = term("BG-9")


class Payee(_Group):  # BG-10
    name: str | None = term("BT-59")
    identifier: Identifier | None = term("BT-60")
    legal_registration_identifier: Identifier | None = term("BT-61")


class TaxRepresentative(_Group):  # BG-11
    name: str | None = term("BT-62")
    vat_identifier: str | None = term("BT-63")
    address: TaxRepresentativeAddress | None = term("BG-12")


class Period(_Group):  # BG-14
    start_date: date | None = term("BT-73")
    end_date: date | None = term("BT-74")


class Delivery(_Group):  # BG-13
    deliver_to_name: str | None = term("BT-70")
    location_identifier: Identifier | None = term("BT-71")
    actual_delivery_date: date | None = term("BT-72")
    address: DeliverToAddress | None = term("BG-15")


class CreditTransfer(_Group):  # BG-17
    account_identifier: str | None = term("BT-84")
    account_name: str | None = term("BT-85")
    service_provider_identifier: str | None = term("BT-86")


class CardPayment(_Group):  # BG-18
    primary_account_number: str | None = term("BT-87")
    holder_name: str | None = term("BT-88")


class DirectDebit(_Group):  # BG-19
    mandate_reference: str | None = term("BT-89")
    creditor_identifier: str | None = term("BT-90")
    debited_account_identifier: str | None = term("BT-91")


class PaymentInstructions(_Group):  # BG-16
    means_type_code: str | None = term("BT-81")
    means_text: str | None = term("BT-82")
    remittance_information: str | None = term("BT-83")
    credit_transfers: list[CreditTransfer] = term("BG-17", many=True)
    card: CardPayment | None = term("BG-18")
    direct_debit: DirectDebit | None = term("BG-19")


class AllowanceCharge(_Group):
    """Common shape of allowances and charges; each subclass carries its own term ids."""

    amount: Decimal | None = None
    base_amount: Decimal | None = None
    percentage: Decimal | None = None
    reason: str | None = None
    reason_code: str | None = None


class DocumentAllowance(AllowanceCharge):  # BG-20
    amount: Decimal | None = term("BT-92")
    base_amount: Decimal | None = term("BT-93")
    percentage: Decimal | None = term("BT-94")
    vat_category_code: str | None = term("BT-95")
    vat_rate: Decimal | None = term("BT-96")
    reason: str | None = term("BT-97")
    reason_code: str | None = term("BT-98")


class DocumentCharge(AllowanceCharge):  # BG-21
    amount: Decimal | None = term("BT-99")
    base_amount: Decimal | None = term("BT-100")
    percentage: Decimal | None = term("BT-101")
    vat_category_code: str | None = term("BT-102")
    vat_rate: Decimal | None = term("BT-103")
    reason: str | None = term("BT-104")
    reason_code: str | None = term("BT-105")


class Totals(_Group):  # BG-22
    sum_of_line_net_amounts: Decimal | None = term("BT-106")
    sum_of_allowances: Decimal | None = term("BT-107")
    sum_of_charges: Decimal | None = term("BT-108")
    total_without_vat: Decimal | None = term("BT-109")
    total_vat: Decimal | None = term("BT-110")
    total_vat_in_accounting_currency: Decimal | None = term("BT-111")
    total_with_vat: Decimal | None = term("BT-112")
    paid_amount: Decimal | None = term("BT-113")
    rounding_amount: Decimal | None = term("BT-114")
    amount_due: Decimal | None = term("BT-115")


class VatBreakdown(_Group):  # BG-23
    taxable_amount: Decimal | None = term("BT-116")
    tax_amount: Decimal | None = term("BT-117")
    category_code: str | None = term("BT-118")
    rate: Decimal | None = term("BT-119")
    exemption_reason: str | None = term("BT-120")
    exemption_reason_code: str | None = term("BT-121")


class AdditionalDocument(_Group):  # BG-24
    reference: str | None = term("BT-122")
    description: str | None = term("BT-123")
    external_location: str | None = term("BT-124")
    attachment: AttachedBinary | None = term("BT-125")


class LinePeriod(_Group):  # BG-26
    start_date: date | None = term("BT-134")
    end_date: date | None = term("BT-135")


class LineAllowance(AllowanceCharge):  # BG-27
    amount: Decimal | None = term("BT-136")
    base_amount: Decimal | None = term("BT-137")
    percentage: Decimal | None = term("BT-138")
    reason: str | None = term("BT-139")
    reason_code: str | None = term("BT-140")


class LineCharge(AllowanceCharge):  # BG-28
    amount: Decimal | None = term("BT-141")
    base_amount: Decimal | None = term("BT-142")
    percentage: Decimal | None = term("BT-143")
    reason: str | None = term("BT-144")
    reason_code: str | None = term("BT-145")


class PriceDetails(_Group):  # BG-29
    net_price: Decimal | None = term("BT-146")
    discount: Decimal | None = term("BT-147")
    gross_price: Decimal | None = term("BT-148")
    base_quantity: Decimal | None = term("BT-149")
    base_quantity_unit_code: str | None = term("BT-150")


class LineVat(_Group):  # BG-30
    category_code: str | None = term("BT-151")
    rate: Decimal | None = term("BT-152")


class ItemClassification(_Group):
    """BT-158 with BT-158-1 (scheme) and BT-158-2 (scheme version)."""

    id: str
    scheme: str | None = None
    scheme_version: str | None = None


class ItemAttribute(_Group):  # BG-32
    name: str | None = term("BT-160")
    value: str | None = term("BT-161")


class Item(_Group):  # BG-31
    name: str | None = term("BT-153")
    description: str | None = term("BT-154")
    sellers_identifier: str | None = term("BT-155")
    buyers_identifier: str | None = term("BT-156")
    standard_identifier: Identifier | None = term("BT-157")
    classifications: list[ItemClassification] = term("BT-158", many=True)
    country_of_origin: str | None = term("BT-159")
    attributes: list[ItemAttribute] = term("BG-32", many=True)


class InvoiceLine(_Group):  # BG-25 (and BG-DEX-01, the XRechnung Extension's sub invoice line)
    identifier: str | None = term("BT-126")
    note: str | None = term("BT-127")
    object_identifier: Identifier | None = term("BT-128")
    quantity: Decimal | None = term("BT-129")
    quantity_unit_code: str | None = term("BT-130")
    net_amount: Decimal | None = term("BT-131")
    order_line_reference: str | None = term("BT-132")
    buyer_accounting_reference: str | None = term("BT-133")
    period: LinePeriod | None = term("BG-26")
    allowances: list[LineAllowance] = term("BG-27", many=True)
    charges: list[LineCharge] = term("BG-28", many=True)
    price: PriceDetails | None = term("BG-29")
    vat: LineVat | None = term("BG-30")
    item: Item | None = term("BG-31")
    sub_lines: list[InvoiceLine] = term("BG-DEX-01", many=True)


class ThirdPartyPayment(_Group):  # BG-DEX-09 (XRechnung Extension)
    type_code: str | None = term("BT-DEX-001")
    amount: Decimal | None = term("BT-DEX-002")
    description: str | None = term("BT-DEX-003")


class Invoice(_Group):
    """An EN 16931 invoice or credit note (BT-3 tells which)."""

    number: str | None = term("BT-1")
    issue_date: date | None = term("BT-2")
    type_code: str | None = term("BT-3")
    currency_code: str | None = term("BT-5")
    vat_accounting_currency_code: str | None = term("BT-6")
    value_added_tax_point_date: date | None = term("BT-7")
    value_added_tax_point_date_code: str | None = term("BT-8")
    due_date: date | None = term("BT-9")
    buyer_reference: str | None = term("BT-10")
    project_reference: str | None = term("BT-11")
    contract_reference: str | None = term("BT-12")
    purchase_order_reference: str | None = term("BT-13")
    sales_order_reference: str | None = term("BT-14")
    receiving_advice_reference: str | None = term("BT-15")
    despatch_advice_reference: str | None = term("BT-16")
    tender_or_lot_reference: str | None = term("BT-17")
    invoiced_object_identifier: Identifier | None = term("BT-18")
    buyer_accounting_reference: str | None = term("BT-19")
    payment_terms: str | None = term("BT-20")
    notes: list[Note] = term("BG-1", many=True)
    process_control: ProcessControl | None = term("BG-2")
    preceding_invoices: list[PrecedingInvoice] = term("BG-3", many=True)
    seller: Seller | None = term("BG-4")
    buyer: Buyer | None = term("BG-7")
    payee: Payee | None = term("BG-10")
    tax_representative: TaxRepresentative | None = term("BG-11")
    delivery: Delivery | None = term("BG-13")
    # EN 16931-1 draws BG-14 inside BG-13; both syntaxes carry it apart from the delivery
    # data and AP staff read it as the invoice's period, so it sits at invoice level here.
    invoicing_period: Period | None = term("BG-14")
    payment_instructions: PaymentInstructions | None = term("BG-16")
    allowances: list[DocumentAllowance] = term("BG-20", many=True)
    charges: list[DocumentCharge] = term("BG-21", many=True)
    totals: Totals | None = term("BG-22")
    vat_breakdown: list[VatBreakdown] = term("BG-23", many=True)
    additional_documents: list[AdditionalDocument] = term("BG-24", many=True)
    lines: list[InvoiceLine] = term("BG-25", many=True)
    third_party_payments: list[ThirdPartyPayment] = term("BG-DEX-09", many=True)
