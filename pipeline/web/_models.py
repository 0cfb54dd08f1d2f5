"""The values the web app shows and the JSON API returns: one set of models for both.

Amounts are ``Decimal`` (JSON carries them as strings, scale kept as written), times are aware
datetimes, ids are UUIDs. The models are built from the rows ``pipeline.store`` returns.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

__all__ = [
    "DocumentDetail",
    "DocumentInfo",
    "DocumentSummary",
    "EventInfo",
    "FindingInfo",
    "InvoiceInfo",
    "ReportInfo",
]

Verdict = Literal["accepted", "rejected"]


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True)


class DocumentSummary(_Frozen):
    """One row of the document list."""

    id: UUID
    source: str
    filename: str | None
    received_at: datetime
    status: str
    reason: str | None = Field(description="why the document has its status")
    supplier: str | None
    invoice_number: str | None = Field(description="BT-1")
    issue_date: date | None = Field(description="BT-2")
    currency: str | None = Field(description="BT-5")
    gross_total: Decimal | None = Field(description="BT-112, invoice total with VAT")
    verdict: Verdict | None = Field(description="the validation report's verdict; null before validation")
    duplicate_of: UUID | None
    parent_id: UUID | None = Field(description="the ZIP archive this document came in")


class DocumentInfo(_Frozen):
    id: UUID
    source: str
    source_key: str
    sender: str | None
    received_at: datetime
    sha256: str
    size: int
    media_type: str
    filename: str | None
    status: str
    reason: str | None
    duplicate_of: UUID | None
    parent_id: UUID | None
    attempts: int
    updated_at: datetime


class InvoiceInfo(_Frozen):
    """The invoice header read from the document (the full model stays in the database)."""

    supplier: str | None
    seller_name: str | None = Field(description="BT-27")
    seller_vat_id: str | None = Field(description="BT-31")
    invoice_number: str | None = Field(description="BT-1")
    type_code: str | None = Field(description="BT-3")
    issue_date: date | None = Field(description="BT-2")
    due_date: date | None = Field(description="BT-9")
    currency: str | None = Field(description="BT-5")
    total_without_vat: Decimal | None = Field(description="BT-109")
    total_vat: Decimal | None = Field(description="BT-110")
    total_with_vat: Decimal | None = Field(description="BT-112")
    amount_due: Decimal | None = Field(description="BT-115")
    buyer_reference: str | None = Field(description="BT-10")
    purchase_order_reference: str | None = Field(description="BT-13")
    profile: str | None
    syntax: str
    source_kind: str = Field(description="xml, or pdf for a hybrid invoice")
    has_view: bool = Field(description="a rendered reading copy is stored")


class FindingInfo(_Frozen):
    rule: str = Field(description="the rule id as the standard writes it, e.g. BR-CO-15")
    level: str = Field(description="effective level: error, warning or information")
    message: dict[str, str] = Field(description="the message by language (de, en)")
    terms: list[str] = Field(description="the business terms the rule reads, e.g. BT-112")
    location: str | None = None
    value: str | None = None
    source: Literal["report", "processing"] = Field(
        "report", description="report: the validation report; processing: a check made while filing (new IBAN)"
    )


class ReportInfo(_Frozen):
    verdict: Verdict
    scenario: str | None
    syntax: str
    xsd: str
    rule_sets: list[str]
    notes: list[str]
    eingang_version: str
    created_at: datetime


class EventInfo(_Frozen):
    """One entry of the document's hash-chained event log, in chain order."""

    id: int
    at: datetime
    actor: str
    kind: str
    from_status: str | None
    to_status: str | None
    reason: str | None
    data: dict[str, Any]
    hash: str


class DocumentDetail(_Frozen):
    document: DocumentInfo
    invoice: InvoiceInfo | None
    report: ReportInfo | None
    findings: list[FindingInfo]
    events: list[EventInfo]
    members: list[UUID] = Field(description="for a ZIP archive: the documents unpacked from it")
