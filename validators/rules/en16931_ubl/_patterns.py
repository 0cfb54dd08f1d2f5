"""The EN 16931 UBL "model" pattern and its contexts, in the order of the official abstract pattern.

Order matters: a node is checked only by the first context that matches it (an invoice line's
``cac:InvoicePeriod`` belongs to the line-period context, not to the document-period one). The rule
modules attach their asserts to the Context objects defined here, so import order never changes it.

Match patterns are XPath 1.0. Two XPath 2.0 idioms of the official patterns are spelled out:
``cbc:ChargeIndicator = false()`` casts the text to xs:boolean (``false``/``0``, whitespace
collapsed; anything else matches neither), and the VAT scheme test upper-cases the scheme id.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from validators.rules._engine import Context
from validators.rules.sets import EN16931_UBL

__all__ = ["MODEL", "VAT_CATEGORIES", "VatContexts", "ctx"]

MODEL: Final = EN16931_UBL.pattern("model")

# A TaxScheme whose id is VAT in any letter case (the rules compare upper-case(cbc:ID) with 'VAT').
VAT: Final = "[cac:TaxScheme[normalize-space(translate(cbc:ID, 'vat', 'VAT')) = 'VAT']]"
ALLOWANCE: Final = "[cbc:ChargeIndicator[normalize-space() = 'false' or normalize-space() = '0']]"
CHARGE: Final = "[cbc:ChargeIndicator[normalize-space() = 'true' or normalize-space() = '1']]"


class _Contexts:
    """Named contexts of the model pattern; created in the official order."""

    def __init__(self) -> None:
        c = MODEL.context
        self.additional_document = c("cac:AdditionalDocumentReference")
        self.amount_due = c("/ubl:Invoice/cac:LegalMonetaryTotal/cbc:PayableAmount")
        self.buyer_endpoint = c("cac:AccountingCustomerParty/cac:Party/cbc:EndpointID")
        self.buyer_address = c("cac:AccountingCustomerParty/cac:Party/cac:PostalAddress")
        self.card_number = c("cac:PaymentMeans/cac:CardAccount/cbc:PrimaryAccountNumberID")
        self.deliver_to_address = c("cac:Delivery/cac:DeliveryLocation/cac:Address")
        self.document_allowance = c(
            f"/ubl:Invoice/cac:AllowanceCharge{ALLOWANCE} | /cn:CreditNote/cac:AllowanceCharge{ALLOWANCE}"
        )
        self.document_charge = c(
            f"/ubl:Invoice/cac:AllowanceCharge{CHARGE} | /cn:CreditNote/cac:AllowanceCharge{CHARGE}"
        )
        self.totals = c("cac:LegalMonetaryTotal")
        self.invoice = c("/ubl:Invoice | /cn:CreditNote")
        self.line = c("cac:InvoiceLine | cac:CreditNoteLine")
        self.line_allowance = c(
            f"//cac:InvoiceLine/cac:AllowanceCharge{ALLOWANCE} | //cac:CreditNoteLine/cac:AllowanceCharge{ALLOWANCE}"
        )
        self.line_charge = c(
            f"//cac:InvoiceLine/cac:AllowanceCharge{CHARGE} | //cac:CreditNoteLine/cac:AllowanceCharge{CHARGE}"
        )
        self.line_period = c("cac:InvoiceLine/cac:InvoicePeriod | cac:CreditNoteLine/cac:InvoicePeriod")
        self.invoice_period = c("cac:InvoicePeriod")
        self.item_attribute = c("//cac:AdditionalItemProperty")
        self.item_classification = c(
            "cac:InvoiceLine/cac:Item/cac:CommodityClassification/cbc:ItemClassificationCode"
            " | cac:CreditNoteLine/cac:Item/cac:CommodityClassification/cbc:ItemClassificationCode"
        )
        self.item_standard_id = c(
            "cac:InvoiceLine/cac:Item/cac:StandardItemIdentification/cbc:ID"
            " | cac:CreditNoteLine/cac:Item/cac:StandardItemIdentification/cbc:ID"
        )
        self.note = c("/ubl:Invoice/cbc:Note | /cn:CreditNote/cbc:Note")
        self.payee = c("cac:PayeeParty")
        self.credit_transfer_account = c(
            "cac:PaymentMeans[cbc:PaymentMeansCode = '30' or cbc:PaymentMeansCode = '58']/cac:PayeeFinancialAccount"
        )
        self.payment_means = c("cac:PaymentMeans")
        self.preceding_invoice = c("cac:BillingReference")
        self.seller = c("cac:AccountingSupplierParty")
        self.seller_endpoint = c("cac:AccountingSupplierParty/cac:Party/cbc:EndpointID")
        self.seller_address = c("cac:AccountingSupplierParty/cac:Party/cac:PostalAddress")
        self.tax_representative = c("cac:TaxRepresentativeParty")
        self.tax_representative_address = c("cac:TaxRepresentativeParty/cac:PostalAddress")
        self.tax_total = c("/ubl:Invoice/cac:TaxTotal | /cn:CreditNote/cac:TaxTotal")
        self.vat_breakdown = c("cac:TaxTotal/cac:TaxSubtotal")
        self.vat_identifier = c(f"//cac:PartyTaxScheme{VAT}")


@dataclass(frozen=True)
class VatContexts:
    """The four contexts of one VAT category: breakdown, document allowance, document charge, line."""

    code: str
    breakdown: Context
    allowance: Context
    charge: Context
    line: Context


ctx: Final = _Contexts()


def _vat_contexts(code: str) -> VatContexts:
    category = f"[normalize-space(cbc:ID) = '{code}']{VAT}"
    c = MODEL.context
    return VatContexts(
        code,
        breakdown=c(f"/*/cac:TaxTotal/cac:TaxSubtotal/cac:TaxCategory{category}"),
        allowance=c(f"cac:AllowanceCharge{ALLOWANCE}/cac:TaxCategory{category}"),
        charge=c(f"cac:AllowanceCharge{CHARGE}/cac:TaxCategory{category}"),
        line=c(
            f"cac:InvoiceLine/cac:Item/cac:ClassifiedTaxCategory{category}"
            f" | cac:CreditNoteLine/cac:Item/cac:ClassifiedTaxCategory{category}"
        ),
    )


# Official order: reverse charge, exempt, export, intra-community, IGIC, IPSI, not subject, standard, zero.
VAT_CATEGORIES: Final = {code: _vat_contexts(code) for code in ("AE", "E", "G", "K", "L", "M", "O", "S", "Z")}
