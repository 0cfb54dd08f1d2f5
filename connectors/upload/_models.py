"""What the supplier API answers: the shapes behind the JSON and the OpenAPI document at ``/docs``."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

__all__ = [
    "DocumentList",
    "DocumentOut",
    "DocumentSummary",
    "ErrorDetail",
    "ErrorOut",
    "FindingOut",
    "InvoiceFacts",
    "PublicStatus",
    "TermOut",
]

# The intake verdict as a supplier sees it. Approval and export states (in-approval, approved, …)
# are the buyer's internal workflow: to the supplier such an invoice simply stays "accepted". A ZIP
# archive whose invoices were taken in one by one is "unpacked"; each invoice has its own verdict.
PublicStatus = Literal[
    "received", "processing", "accepted", "rejected", "duplicate", "no-invoice", "failed", "unpacked"
]


class _Out(BaseModel):
    model_config = ConfigDict(frozen=True)


class TermOut(_Out):
    id: str = Field(examples=["BT-112"])
    name: str = Field(examples=["Gesamtbetrag der Rechnung einschließlich Umsatzsteuer"])


class FindingOut(_Out):
    rule: str = Field(examples=["BR-CO-15"], description="the official rule id (EN 16931, XRechnung) or XSD")
    level: Literal["error", "warning", "information"] = Field(description="errors are why an invoice is rejected")
    message: str
    terms: list[TermOut] = Field(description="the business terms the rule reads, with their names")
    location: str | None = Field(None, description="an XPath to the element in the file")
    value: str | None = None


class InvoiceFacts(_Out):
    number: str | None = Field(None, description="BT-1")
    issue_date: date | None = Field(None, description="BT-2")
    currency: str | None = Field(None, description="BT-5")
    total_with_vat: Decimal | None = Field(None, description="BT-112, as written in the invoice")
    seller_name: str | None = Field(None, description="BT-27")


class DocumentSummary(_Out):
    id: UUID
    filename: str | None
    received_at: datetime
    status: PublicStatus
    accepted: bool | None = Field(description="null while being checked, and for an unpacked ZIP archive")
    invoice_number: str | None = None
    issue_date: date | None = None
    parent_id: UUID | None = Field(None, description="the ZIP archive this invoice came in")


class DocumentOut(_Out):
    id: UUID
    filename: str | None
    received_at: datetime
    status: PublicStatus
    accepted: bool | None = Field(
        description="true when accepted; for a ZIP archive, when every invoice in it was; null while checking"
    )
    reason: str | None = Field(None, description="why the status is what it is, when it is not accepted")
    scenario: str | None = Field(None, description="the validation scenario the invoice was checked against")
    invoice: InvoiceFacts | None = None
    findings: list[FindingOut] = Field(default_factory=list)
    parent_id: UUID | None = None
    documents: list[DocumentOut] = Field(
        default_factory=list, description="for a ZIP archive: each invoice in it, checked on its own"
    )


class DocumentList(_Out):
    documents: list[DocumentSummary]
    limit: int
    offset: int


class ErrorDetail(_Out):
    code: str = Field(examples=["too_large"], description="stable, for programs")
    message: str = Field(description="for people")


class ErrorOut(_Out):
    error: ErrorDetail
