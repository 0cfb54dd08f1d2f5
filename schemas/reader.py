"""Bytes in, EN 16931 model out: detect the container and syntax, then walk the binding.

``open_document`` is the shared first step (validators use it too): it unwraps a hybrid
PDF, parses the XML hardened, and names the syntax. ``read_invoice`` then maps the tree
into the model. Every way a file can fail to be an invoice is a ``ReadError`` whose
``outcome`` a caller can branch on, with a one-line reason a user can act on.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from lxml import etree
from pydantic import BaseModel, ConfigDict, ValidationError

from schemas import pdf
from schemas.binding import BindingError, cii, read_group, ubl
from schemas.model import Invoice
from schemas.profile import Profile, profile_of
from schemas.xml import DEFAULT_LIMITS, ParseLimits, XmlError, parse_xml

__all__ = [
    "Document",
    "Outcome",
    "ReadError",
    "ReadResult",
    "Source",
    "open_document",
    "read_invoice",
    "read_tree",
    "source_from_pdf",
]

ZUGFERD_1_ROOT = "{urn:ferd:CrossIndustryDocument:invoice:1p0}CrossIndustryDocument"
_SYNTAXES = {**ubl.ROOTS, **cii.ROOTS}


class Outcome(StrEnum):
    """Why a file is not an invoice Eingang can read."""

    NOT_WELL_FORMED = "not-well-formed"
    NOT_AN_INVOICE = "not-an-invoice"
    LEGACY_FORMAT = "legacy-format"
    NO_EINVOICE_INSIDE = "no-e-invoice-inside"
    BROKEN_PDF = "broken-pdf"
    BAD_VALUE = "bad-value"


class ReadError(ValueError):
    def __init__(self, outcome: Outcome, reason: str) -> None:
        super().__init__(reason)
        self.outcome = outcome
        self.reason = reason


class Source(BaseModel):
    """Where the XML came from: the file itself, or an attachment of a hybrid PDF."""

    model_config = ConfigDict(frozen=True)

    kind: str  # "xml" or "pdf"
    attachment: str | None = None
    af_relationship: str | None = None
    found_by: str | None = None
    note: str | None = None
    conformance_level: str | None = None
    document_file_name: str | None = None
    xmp_namespace: str | None = None
    pdfa: str | None = None
    encrypted: bool | None = None


@dataclass(frozen=True)
class Document:
    """A parsed XML document with its syntax, ready for reading or validation."""

    xml: bytes
    root: etree._Element
    syntax: str  # "ubl-invoice", "ubl-creditnote", "cii"
    source: Source
    pdf_attachments: tuple[pdf.EmbeddedFile, ...] = field(default=())


@dataclass(frozen=True)
class ReadResult:
    document: Document
    invoice: Invoice
    profile: Profile


def source_from_pdf(found: pdf.PdfExtraction) -> Source:
    """What a report says about the PDF an XML came from."""
    xmp = found.xmp
    return Source(
        kind="pdf",
        attachment=found.attachment,
        af_relationship=found.af_relationship,
        found_by=found.found_by,
        note=found.note,
        conformance_level=xmp.conformance_level,
        document_file_name=xmp.document_file_name,
        xmp_namespace=xmp.fx_namespace,
        pdfa=f"{xmp.pdfa_part or ''}{xmp.pdfa_conformance or ''}" or None,
        encrypted=found.encrypted,
    )


_PLAIN_XML = Source(kind="xml")  # frozen, so one instance serves every plain XML file


def open_document(data: bytes, limits: ParseLimits = DEFAULT_LIMITS) -> Document:
    """Unwrap, parse and classify; raise ReadError when the bytes hold no readable invoice XML."""
    source = _PLAIN_XML
    attachments: tuple[pdf.EmbeddedFile, ...] = ()
    if pdf.is_pdf(data):
        try:
            found = pdf.extract_invoice_xml(data, max_bytes=limits.max_bytes)
        except pdf.PdfError as exc:
            raise ReadError(Outcome.BROKEN_PDF, f"PDF cannot be read: {exc}") from None
        attachments = found.attachments
        if found.xml is None:
            raise ReadError(
                Outcome.NO_EINVOICE_INSIDE,
                "no e-invoice inside: the PDF carries no invoice XML"
                " (since 2025 a plain PDF is not an e-invoice under German VAT law)",
            )
        source = source_from_pdf(found)
        data = found.xml
    try:
        root = parse_xml(data, limits)
    except XmlError as exc:
        prefix = f"embedded {source.attachment}: " if source.kind == "pdf" else ""
        raise ReadError(Outcome.NOT_WELL_FORMED, prefix + str(exc)) from None
    tag = root.tag if isinstance(root.tag, str) else ""
    if tag == ZUGFERD_1_ROOT:
        raise ReadError(
            Outcome.LEGACY_FORMAT,
            "ZUGFeRD 1.0 invoice (legacy format, not EN 16931): ask the supplier for ZUGFeRD 2.x or XRechnung",
        )
    syntax = _SYNTAXES.get(tag)
    if syntax is None:
        name = etree.QName(tag).localname if tag else "?"
        raise ReadError(Outcome.NOT_AN_INVOICE, f"not an invoice: unknown root element <{name}> ({tag})")
    return Document(xml=data, root=root, syntax=syntax, source=source, pdf_attachments=attachments)


def read_tree(root: etree._Element, syntax: str) -> Invoice:
    """Map a parsed UBL or CII tree into the model; raise ReadError on an unreadable value."""
    binding = cii if syntax == "cii" else ubl
    try:
        values = read_group(root, Invoice, binding.INVOICE, binding.NAMESPACES)
        return Invoice.model_validate(values)
    except BindingError as exc:
        raise ReadError(Outcome.BAD_VALUE, str(exc)) from None
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise ReadError(Outcome.BAD_VALUE, f"{where}: {first['msg']}") from None


def read_invoice(data: bytes, limits: ParseLimits = DEFAULT_LIMITS) -> ReadResult:
    document = open_document(data, limits)
    invoice = read_tree(document.root, document.syntax)
    spec = invoice.process_control.specification_identifier if invoice.process_control else None
    return ReadResult(document=document, invoice=invoice, profile=profile_of(spec))
