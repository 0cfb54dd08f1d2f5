"""Find the invoice XML inside a hybrid PDF (ZUGFeRD, Factur-X, XRechnung-in-PDF, Order-X).

A pure function: bytes in, a frozen `PdfExtraction` out. The PDF comes from a stranger, so
pypdf runs in non-strict mode, every pypdf failure is turned into a one-line `PdfError` at
this boundary, decoded streams are bounded, and pypdf's log chatter is kept off the console.

Which attachment is the invoice follows the order the Factur-X / ZUGFeRD specifications
imply: the XMP `DocumentFileName` is authoritative; without it, the standard file names;
without those, an XML attachment whose root element is an invoice (or order) root.
"""

from __future__ import annotations

import io
import logging
import pkgutil
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

import pypdf
from lxml import etree
from pypdf import PasswordType, PdfReader, apply_configuration, get_configuration
from pypdf.errors import DependencyError, LimitReachedError
from pypdf.generic import (
    ArrayObject,
    ByteStringObject,
    DictionaryObject,
    IndirectObject,
    StreamObject,
    TextStringObject,
)

from schemas.xml import ParseLimits, XmlError, parse_xml

__all__ = [
    "EmbeddedFile",
    "PdfError",
    "PdfExtraction",
    "XmpInfo",
    "extract_invoice_xml",
    "is_pdf",
]


class PdfError(ValueError):
    """The PDF cannot be read, or it is not clear which embedded XML is the invoice."""


@dataclass(frozen=True)
class EmbeddedFile:
    name: str
    af_relationship: str | None
    subtype: str | None
    size: int
    where: tuple[str, ...]
    data: bytes = field(repr=False)


@dataclass(frozen=True)
class XmpInfo:
    present: bool
    fx_namespace: str | None = None
    conformance_level: str | None = None
    document_file_name: str | None = None
    document_type: str | None = None
    version: str | None = None
    pdfa_part: str | None = None
    pdfa_conformance: str | None = None
    parse_error: str | None = None


@dataclass(frozen=True)
class PdfExtraction:
    xml: bytes | None = field(repr=False)
    attachment: str | None
    af_relationship: str | None
    found_by: str | None
    note: str | None
    xmp: XmpInfo
    encrypted: bool
    pages: int
    attachments: tuple[EmbeddedFile, ...]


FOUND_BY_XMP = "XMP DocumentFileName"
FOUND_BY_STANDARD_NAME = "standard name"
FOUND_BY_ROOT = "non-standard name, invoice root element"

# Priority order matters: a PDF that carries both a ZUGFeRD 1.0 and a Factur-X file
# (Mustang's migration test files do) means the newer one.
_STANDARD_NAMES = ("factur-x.xml", "zugferd-invoice.xml", "xrechnung.xml", "order-x.xml")

_INVOICE_ROOTS = frozenset(
    {
        "{urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100}CrossIndustryInvoice",
        "{urn:oasis:names:specification:ubl:schema:xsd:Invoice-2}Invoice",
        "{urn:oasis:names:specification:ubl:schema:xsd:CreditNote-2}CreditNote",
        "{urn:ferd:CrossIndustryDocument:invoice:1p0}CrossIndustryDocument",
        "{urn:un:unece:uncefact:data:SCRDMCCBDACIOMessageStructure:100}SCRDMCCBDACIOMessageStructure",
    }
)

_FX_NAMESPACES = (
    "urn:factur-x:pdfa:CrossIndustryDocument:invoice:1p0#",
    "urn:zugferd:pdfa:CrossIndustryDocument:invoice:2p0#",
    "urn:ferd:pdfa:CrossIndustryDocument:invoice:1p0#",
    "urn:factur-x:pdfa:CrossIndustryDocument:1p0#",
)
_FX_PROPERTIES = ("ConformanceLevel", "DocumentFileName", "DocumentType", "Version")
_RDF_DESCRIPTION = "{http://www.w3.org/1999/02/22-rdf-syntax-ns#}Description"
_PDFAID_NS = "http://www.aiim.org/pdfa/ns/id/"

_HEADER_WINDOW = 1024
# A name tree deeper or wider than this, or that many annotations, is a trap, not a document.
_MAX_TREE_DEPTH = 64
_MAX_TREE_NODES = 100_000
_MAX_ANNOTATIONS = 100_000
_XMP_LIMITS = ParseLimits(max_bytes=8 * 1024 * 1024)


# --- pypdf log silencing ----------------------------------------------------------------
#
# pypdf reports every robustness fix it applies (broken xref, missing EOF, ...) through the
# `logging` module, which would print to stderr for every odd PDF a supplier sends. A filter
# on pypdf's module loggers drops those records while `extract_invoice_xml` runs (a
# ContextVar, so concurrent calls in threads or tasks stay separate); pypdf used anywhere
# else in the process logs exactly as before. Logger filters only see records created on
# that very logger, hence one per pypdf module rather than one on "pypdf".

_silenced: ContextVar[bool] = ContextVar("eingang_pdf_silenced", default=False)


class _PypdfLogGate(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return not _silenced.get()


_GATE = _PypdfLogGate()


def _install_log_gate() -> None:
    names = {"pypdf"}
    names.update(m.name for m in pkgutil.walk_packages(pypdf.__path__, "pypdf.", onerror=lambda _name: None))
    for name in names:
        logger = logging.getLogger(name)
        if _GATE not in logger.filters:
            logger.addFilter(_GATE)


_install_log_gate()


@contextmanager
def _quiet_pypdf() -> Iterator[None]:
    token = _silenced.set(True)
    try:
        yield
    finally:
        _silenced.reset(token)


@contextmanager
def _decode_limits(max_bytes: int) -> Iterator[None]:
    # pypdf's own output limits bound memory while a stream is inflated; they may only be
    # raised (to let max_bytes above pypdf's default through), never lowered, because object
    # streams of an ordinary PDF must still decode when a caller picks a small max_bytes.
    current = get_configuration()
    wanted = max_bytes + 1
    names = (
        "zlib_maximum_output_length",
        "lzw_maximum_output_length",
        "run_length_maximum_output_length",
        "brotli_maximum_output_length",
        "array_based_stream_maximum_output_length",
    )
    overrides = {n: wanted for n in names if getattr(current, n, wanted) < wanted}
    with apply_configuration(**overrides):
        yield


# --- public functions -------------------------------------------------------------------


def is_pdf(data: bytes) -> bool:
    """True if a `%PDF-` header starts within the first 1024 bytes (the window readers accept)."""
    return b"%PDF-" in data[: _HEADER_WINDOW + len(b"%PDF-") - 1]


def extract_invoice_xml(data: bytes, *, max_bytes: int = 50 * 1024 * 1024) -> PdfExtraction:
    """Read a hybrid PDF and return the embedded invoice XML (or `xml=None` if there is none).

    Raises PdfError with a one-line reason for input that is not a readable PDF, for an
    encrypted PDF that needs a password, for an embedded file larger than `max_bytes`, and
    when several invoice XMLs are embedded and nothing says which one counts.
    """
    if not is_pdf(data):
        raise PdfError("not a PDF (no %PDF- header in the first 1024 bytes)")
    with _quiet_pypdf(), _decode_limits(max_bytes):
        try:
            return _extract(data, max_bytes)
        except PdfError:
            raise
        except RecursionError:
            raise PdfError("unreadable PDF: objects nested too deeply") from None
        except MemoryError:
            raise PdfError("unreadable PDF: decoding needs too much memory") from None
        except DependencyError as exc:
            raise PdfError(_dependency_reason(exc)) from None
        except Exception as exc:  # pypdf raises many types on hostile input; this is the boundary
            raise PdfError(f"unreadable PDF: {type(exc).__name__}: {_one_line(str(exc))}") from None


def _dependency_reason(exc: DependencyError) -> str:
    # pypdf needs the optional `cryptography` package for AES (it may already fail while
    # opening, when it tries the empty password); say so, or the operator would chase a
    # password that does not exist.
    if "AES" in str(exc) or "cryptography" in str(exc):
        return "encrypted PDF (AES) cannot be decrypted: the 'cryptography' package is not installed"
    return f"unreadable PDF: {_one_line(str(exc))}"


# --- reading ----------------------------------------------------------------------------


@dataclass
class _Found:
    """An embedded file while it is being collected; `where` grows as more paths reach it."""

    name: str
    aliases: tuple[str, ...]
    af_relationship: str | None
    subtype: str | None
    data: bytes
    where: list[str]
    invoice_root: bool | None = None  # parsed at most once, and only when the choice needs it

    def freeze(self) -> EmbeddedFile:
        return EmbeddedFile(
            name=self.name,
            af_relationship=self.af_relationship,
            subtype=self.subtype,
            size=len(self.data),
            where=tuple(self.where),
            data=self.data,
        )


def _extract(data: bytes, max_bytes: int) -> PdfExtraction:
    reader = PdfReader(io.BytesIO(data), strict=False)
    encrypted = bool(reader.is_encrypted)
    if encrypted:
        try:
            outcome = reader.decrypt("")
        except DependencyError as exc:
            raise PdfError(_dependency_reason(exc)) from None
        except NotImplementedError as exc:
            raise PdfError(f"encrypted PDF with an unsupported security handler: {_one_line(str(exc))}") from None
        if outcome == PasswordType.NOT_DECRYPTED:
            raise PdfError("encrypted PDF that does not open without a password")

    catalog = reader.trailer.get("/Root")
    catalog = catalog.get_object() if catalog is not None else None
    if not isinstance(catalog, DictionaryObject):
        raise PdfError("unreadable PDF: no document catalog")
    pages = len(reader.pages)

    found = _collect_embedded_files(reader, catalog, max_bytes)
    xmp = _read_xmp(catalog)
    attachments = tuple(f.freeze() for f in found)
    choice = _choose(found, xmp)
    return PdfExtraction(
        xml=choice.file.data if choice.file else None,
        attachment=choice.file.name if choice.file else None,
        af_relationship=choice.file.af_relationship if choice.file else None,
        found_by=choice.found_by,
        note=choice.note,
        xmp=xmp,
        encrypted=encrypted,
        pages=pages,
        attachments=attachments,
    )


def _collect_embedded_files(reader: PdfReader, catalog: DictionaryObject, max_bytes: int) -> list[_Found]:
    by_identity: dict[Any, _Found] = {}
    order: list[_Found] = []

    def reach(raw: Any, where: str, key: str | None) -> None:
        spec = _resolve(raw)
        if not isinstance(spec, DictionaryObject):
            return  # a plain-string file specification names an external file, nothing embedded
        identity = _identity(raw, spec)
        if identity in by_identity:
            by_identity[identity].where.append(where)
            return
        item = _read_filespec(spec, key, max_bytes)
        if item is None:
            return
        item.where.append(where)
        by_identity[identity] = item
        order.append(item)

    names = _resolve(catalog.get("/Names"))
    if isinstance(names, DictionaryObject):
        for key, raw in _walk_name_tree(names.raw_get("/EmbeddedFiles") if "/EmbeddedFiles" in names else None):
            reach(raw, "EmbeddedFiles", key)

    af = _resolve(catalog.get("/AF"))
    if isinstance(af, ArrayObject):
        for raw in list(af)[:_MAX_TREE_NODES]:
            reach(raw, "AF", None)

    seen_annotations = 0
    for page_number, page in enumerate(reader.pages, start=1):
        annots = _resolve(page.get("/Annots"))
        if not isinstance(annots, ArrayObject):
            continue
        for raw_annot in annots:
            seen_annotations += 1
            if seen_annotations > _MAX_ANNOTATIONS:
                raise PdfError(f"unreadable PDF: more than {_MAX_ANNOTATIONS} annotations")
            annot = _resolve(raw_annot)
            if not isinstance(annot, DictionaryObject) or _resolve(annot.get("/Subtype")) != "/FileAttachment":
                continue
            if "/FS" in annot:
                reach(annot.raw_get("/FS"), f"annotation(page {page_number})", None)
    return order


def _walk_name_tree(raw_root: Any) -> Iterator[tuple[str, Any]]:
    """Yield (key, raw value) pairs of a name tree in document order, cycle- and depth-safe."""
    visited: set[Any] = set()
    nodes = 0
    stack: list[tuple[Any, int]] = [(raw_root, 0)]
    while stack:
        raw, depth = stack.pop()
        node = _resolve(raw)
        if not isinstance(node, DictionaryObject):
            continue
        identity = _identity(raw, node)
        if identity in visited or depth > _MAX_TREE_DEPTH:
            continue
        visited.add(identity)
        nodes += 1
        if nodes > _MAX_TREE_NODES:
            raise PdfError(f"unreadable PDF: embedded-files name tree has more than {_MAX_TREE_NODES} nodes")
        pairs = _resolve(node.get("/Names"))
        if isinstance(pairs, ArrayObject):
            items = list(pairs)
            for i in range(0, len(items) - 1, 2):
                yield _text(_resolve(items[i])) or "", items[i + 1]
        kids = _resolve(node.get("/Kids"))
        if isinstance(kids, ArrayObject):
            # Reversed onto the stack so the kids are visited left to right.
            stack.extend((kid, depth + 1) for kid in reversed(list(kids)))


def _read_filespec(spec: DictionaryObject, key: str | None, max_bytes: int) -> _Found | None:
    ef = _resolve(spec.get("/EF"))
    if not isinstance(ef, DictionaryObject):
        return None
    stream = None
    for ef_key in ("/F", "/UF", *ef.keys()):
        candidate = _resolve(ef.get(ef_key))
        if isinstance(candidate, StreamObject):
            stream = candidate
            break
    if stream is None:
        return None

    uf = _text(_resolve(spec.get("/UF")))
    f = _text(_resolve(spec.get("/F")))
    name = uf or f or key or ""
    aliases = tuple(dict.fromkeys(a for a in (name, uf, f, key) if a))

    params = _resolve(stream.get("/Params"))
    declared = _resolve(params.get("/Size")) if isinstance(params, DictionaryObject) else None
    if isinstance(declared, int) and declared > max_bytes:
        raise PdfError(f"embedded file '{name}' is too large ({declared} bytes declared, limit {max_bytes})")
    try:
        content = stream.get_data()
    except LimitReachedError:
        raise PdfError(f"embedded file '{name}' decodes to more than {max_bytes} bytes") from None
    except Exception as exc:
        raise PdfError(
            f"embedded file '{name}' cannot be decoded: {type(exc).__name__}: {_one_line(str(exc))}"
        ) from None
    if isinstance(content, str):  # pypdf hands back text for some odd filter combinations
        content = content.encode("latin-1", errors="replace")
    if len(content) > max_bytes:
        raise PdfError(f"embedded file '{name}' is too large ({len(content)} bytes, limit {max_bytes})")

    return _Found(
        name=name,
        aliases=aliases,
        af_relationship=_name_value(_resolve(spec.get("/AFRelationship"))),
        subtype=_name_value(_resolve(stream.get("/Subtype"))),
        data=bytes(content),
        where=[],
    )


# --- XMP --------------------------------------------------------------------------------


def _read_xmp(catalog: DictionaryObject) -> XmpInfo:
    metadata = _resolve(catalog.get("/Metadata"))
    if not isinstance(metadata, StreamObject):
        return XmpInfo(present=False)
    try:
        packet = metadata.get_data()
    except Exception as exc:  # a broken XMP stream degrades the report, it does not sink the PDF
        return XmpInfo(present=True, parse_error=f"XMP stream cannot be decoded: {_one_line(str(exc))}")
    if isinstance(packet, str):
        packet = packet.encode("utf-8")
    try:
        root = parse_xml(bytes(packet), _XMP_LIMITS)
    except XmlError as exc:
        return XmpInfo(present=True, parse_error=_one_line(str(exc)))

    descriptions = [el for el in root.iter(_RDF_DESCRIPTION) if isinstance(el.tag, str)]
    fx_namespace: str | None = None
    fx: dict[str, str | None] = dict.fromkeys(_FX_PROPERTIES)
    for ns in _FX_NAMESPACES:
        values = {prop: _rdf_property(descriptions, ns, prop) for prop in _FX_PROPERTIES}
        if any(v is not None for v in values.values()):
            fx_namespace, fx = ns, values
            break
    return XmpInfo(
        present=True,
        fx_namespace=fx_namespace,
        conformance_level=fx["ConformanceLevel"],
        document_file_name=fx["DocumentFileName"],
        document_type=fx["DocumentType"],
        version=fx["Version"],
        pdfa_part=_rdf_property(descriptions, _PDFAID_NS, "part"),
        pdfa_conformance=_rdf_property(descriptions, _PDFAID_NS, "conformance"),
    )


def _rdf_property(descriptions: list[etree._Element], ns: str, local: str) -> str | None:
    """An XMP simple property, written either as a child element or as an attribute (RDF allows both)."""
    clark = f"{{{ns}}}{local}"
    for desc in descriptions:
        attr = desc.get(clark)
        if attr is not None:
            return attr
        child = desc.find(clark)
        if child is not None:
            return child.text or ""
    return None


# --- choosing the invoice ---------------------------------------------------------------


@dataclass(frozen=True)
class _Choice:
    file: _Found | None
    found_by: str | None
    note: str | None


def _choose(found: list[_Found], xmp: XmpInfo) -> _Choice:
    invoice_like = _distinct([f for f in found if _has_standard_name(f) or _has_invoice_root(f)])
    notes: list[str] = []

    wanted = (xmp.document_file_name or "").strip()
    if wanted:
        named = _distinct([f for f in found if wanted in f.aliases])
        if not named:
            folded = wanted.casefold()
            named = _distinct([f for f in found if any(a.casefold() == folded for a in f.aliases)])
        if len(named) > 1:
            raise PdfError(
                f"ambiguous: {len(named)} embedded files named '{wanted}' (the XMP DocumentFileName)"
                " with different content"
            )
        if named:
            chosen = named[0]
            note = None
            if len(invoice_like) > 1:
                note = (
                    f"{len(invoice_like)} invoice XMLs embedded; took '{chosen.name}'"
                    " as named by the XMP DocumentFileName"
                )
            return _Choice(chosen, FOUND_BY_XMP, note)
        notes.append(f"XMP DocumentFileName '{wanted}' names no embedded file")

    for standard in _STANDARD_NAMES:
        matches = _distinct([f for f in found if f.name.casefold() == standard])
        if len(matches) > 1:
            raise _ambiguous(matches)
        if matches:
            chosen = matches[0]
            if len(invoice_like) > 1:
                notes.append(
                    f"{len(invoice_like)} invoice XMLs embedded; took '{chosen.name}'"
                    " by the standard-name order (factur-x.xml first)"
                )
            return _Choice(chosen, FOUND_BY_STANDARD_NAME, "; ".join(notes) or None)

    by_root = _distinct([f for f in found if _has_invoice_root(f)])
    if len(by_root) > 1:
        raise _ambiguous(by_root)
    if by_root:
        return _Choice(by_root[0], FOUND_BY_ROOT, "; ".join(notes) or None)
    return _Choice(None, None, "; ".join(notes) or None)


def _ambiguous(candidates: list[_Found]) -> PdfError:
    names = ", ".join(f.name for f in candidates)
    return PdfError(
        f"ambiguous: {len(candidates)} invoice XMLs embedded ({names}) and no XMP DocumentFileName names one"
    )


def _distinct(files: list[_Found]) -> list[_Found]:
    """Drop byte-identical copies: the same XML attached twice is one invoice, not an ambiguity."""
    seen: set[bytes] = set()
    kept: list[_Found] = []
    for f in files:
        if f.data not in seen:
            seen.add(f.data)
            kept.append(f)
    return kept


def _has_standard_name(f: _Found) -> bool:
    return f.name.casefold() in _STANDARD_NAMES


def _has_invoice_root(f: _Found) -> bool:
    if f.invoice_root is None:
        f.invoice_root = _is_invoice_xml(f.data)
    return f.invoice_root


def _is_invoice_xml(data: bytes) -> bool:
    head = data[:512].lstrip(b"\xef\xbb\xbf \t\r\n")
    # Cheap sniff before a parse: PDFs, images and spreadsheets attached alongside never start with '<'.
    if not (head.startswith(b"<") or head.startswith((b"\xff\xfe", b"\xfe\xff"))):
        return False
    try:
        root = parse_xml(data)
    except XmlError:
        return False
    return root.tag in _INVOICE_ROOTS


# --- small helpers ----------------------------------------------------------------------


def _resolve(obj: Any) -> Any:
    seen = 0
    while isinstance(obj, IndirectObject):
        seen += 1
        if seen > 32:
            return None
        obj = obj.get_object()
    return obj


def _identity(raw: Any, resolved: Any) -> Any:
    if isinstance(raw, IndirectObject):
        return ("ref", raw.idnum, raw.generation)
    indirect = getattr(resolved, "indirect_reference", None)
    if isinstance(indirect, IndirectObject):
        return ("ref", indirect.idnum, indirect.generation)
    return ("direct", id(resolved))


def _text(obj: Any) -> str | None:
    if isinstance(obj, TextStringObject):
        return str(obj)
    if isinstance(obj, ByteStringObject):
        return bytes(obj).decode("latin-1")
    if isinstance(obj, str):
        return str(obj)
    return None


def _name_value(obj: Any) -> str | None:
    # Some writers store the name as a string; either way the caller wants it without the slash.
    if isinstance(obj, str):
        return str(obj).removeprefix("/") or None
    return None


def _one_line(text: str) -> str:
    line = " ".join(text.split())
    return line or "no detail"
