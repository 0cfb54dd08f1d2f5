"""The fast reader gives exactly what reading the binding tables entry by entry gives.

``schemas.binding._core`` walks each element once, dispatching children by tag, reads most
values in document order, and leaves Identifiers to ``model_validate`` (see its comments). The
reference here reads the same tables the plain way, as the reader did before it was made fast:
every entry in table order, its path evaluated on its own, each value converted into its model
type on the spot, the invoice then built by ``Invoice.model_validate``.

Over the whole corpus, and over documents made to hit the cases where document order and table
order part (a union's branches, two bad values, a term written twice), both must give the same
invoice — same values and types, amounts with their scale, the same fields set, all frozen — or
the same error.
"""

from __future__ import annotations

import base64
import binascii
import re
from datetime import date
from decimal import Decimal, InvalidOperation
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from lxml import etree
from pydantic import BaseModel, ValidationError

from schemas.binding import BindingError, Group, Table, cii, ubl
from schemas.binding._core import _ChildSteps, _compile, _Index, _Slot, _slots, _table, _Union
from schemas.model import AttachedBinary, Identifier, Invoice, ItemClassification
from schemas.reader import ReadError, open_document, read_tree

CORPUS = Path(__file__).resolve().parents[2].parent / "shared" / "corpus"
FOLDERS = ("kosit-testsuite", "en16931-examples", "en16931-unit", "kosit-config-tests", "zugferd")

# --- the reference: the tables read entry by entry -------------------------------------------------
# Its conversions are the reader's before it was made fast, copied so that the reference does not
# share them with the code it checks.


def _text(node: Any) -> str:
    if isinstance(node, str):
        return str(node)
    if len(node) == 0:
        return node.text or ""
    return str(node.xpath("string()"))


_DATE_FORMATS = {"102": re.compile(r"(\d{4})(\d{2})(\d{2})")}
_ISO_DATE = re.compile(r"(\d{4})-(\d{2})-(\d{2})(?:Z|[+-]\d{2}:\d{2})?")


def _date(node: Any, term: str) -> date:
    text = _text(node).strip()
    fmt = None if isinstance(node, str) else node.get("format")
    pattern = _DATE_FORMATS.get(fmt or "", _ISO_DATE)
    match = pattern.fullmatch(text)
    if match is None:
        raise BindingError(f"{term}: {text!r} is not a date" + (f" in format {fmt}" if fmt else ""))
    try:
        return date(int(match[1]), int(match[2]), int(match[3]))
    except ValueError:
        raise BindingError(f"{term}: {text!r} is not a calendar date") from None


def _decimal(node: Any, term: str) -> Decimal:
    text = _text(node).strip()
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise BindingError(f"{term}: {text!r} is not a decimal number") from None
    if not value.is_finite():
        raise BindingError(f"{term}: {text!r} is not a decimal number")
    return value


def _binary(node: Any, term: str) -> AttachedBinary:
    try:
        content = base64.b64decode(_text(node), validate=False)
    except (binascii.Error, ValueError):
        raise BindingError(f"{term}: attached document is not valid base64") from None
    return AttachedBinary(content=content, mime_code=node.get("mimeCode"), filename=node.get("filename"))


@cache
def _path(path: str, namespaces: tuple[tuple[str, str], ...]) -> _ChildSteps | _Union | etree.XPath:
    return _compile(path, dict(namespaces))


def _select(path: str, node: Any, namespaces: tuple[tuple[str, str], ...], index: _Index) -> list[Any]:
    compiled = _path(path, namespaces)
    if isinstance(compiled, etree.XPath):
        found = compiled(node)
        return found if isinstance(found, list) else [found]
    return compiled.select(node, index)


def _reference_convert(node: Any, slot: _Slot, term: str, scheme: str | None) -> Any:
    kind = slot.kind
    if kind is str:
        return _text(node)
    if kind is Identifier:
        if scheme is None and not isinstance(node, str):
            scheme = node.get("schemeID")
        return Identifier(id=_text(node), scheme=scheme)
    if kind is ItemClassification:
        return ItemClassification(id=_text(node), scheme=node.get("listID"), scheme_version=node.get("listVersionID"))
    if kind is AttachedBinary:
        return _binary(node, term)
    if kind is Decimal:
        return _decimal(node, term)
    assert kind is date, kind
    return _date(node, term)


def _reference_values(
    element: Any, model: type[BaseModel], table: Table, namespaces: tuple[tuple[str, str], ...], index: _Index
) -> dict[str, Any]:
    slots = _slots(model)
    values: dict[str, Any] = {}
    for entry in table:
        slot = slots[entry.term]
        nodes = _select(entry.path, element, namespaces, index)
        if not nodes:
            continue
        if isinstance(entry, Group):
            produced = [(n, _reference_values(n, slot.kind, _table(entry), namespaces, index)) for n in nodes]
            produced = [(n, v) for n, v in produced if v]
            if not produced:
                continue
            items = entry.post(produced) if entry.post else [v for _, v in produced]
            if slot.many:
                values.setdefault(slot.name, []).extend(items)
            elif slot.name not in values:
                values[slot.name] = items[0]
            continue
        converted = []
        for node in nodes if slot.many else nodes[:1]:
            scheme = None
            if entry.scheme is not None:
                texts = [" ".join(_text(f).split()) for f in _select(entry.scheme, node, namespaces, index)]
                scheme = next((t for t in texts if t), None)
            converted.append(_reference_convert(node, slot, entry.term, scheme))
        if slot.many:
            values.setdefault(slot.name, []).extend(converted)
        elif slot.name not in values:
            values[slot.name] = converted[0]
    return values


def _reference_read(root: Any, syntax: str) -> Invoice | str:
    binding = cii if syntax == "cii" else ubl
    namespaces = tuple(sorted(binding.NAMESPACES.items()))
    try:
        return Invoice.model_validate(_reference_values(root, Invoice, binding.INVOICE, namespaces, _Index()))
    except BindingError as exc:
        return str(exc)
    except ValidationError as exc:
        first = exc.errors()[0]
        return ".".join(str(p) for p in first["loc"]) + f": {first['msg']}"


def _read(root: Any, syntax: str) -> Invoice | str:
    try:
        return read_tree(root, syntax)
    except ReadError as exc:
        return exc.reason


# --- comparing ---------------------------------------------------------------------------------------


def _shape(value: Any) -> Any:
    """Everything a model instance is: its type, the fields set, each value with its exact type."""
    if isinstance(value, BaseModel):
        assert value.model_config.get("frozen"), f"{type(value).__name__} is not frozen"
        return (
            type(value).__name__,
            sorted(value.model_fields_set),
            {name: _shape(getattr(value, name)) for name in type(value).model_fields},
        )
    if isinstance(value, list):
        return [_shape(v) for v in value]
    return (type(value).__name__, repr(value))  # repr keeps a Decimal's scale: Decimal('1.50')


def _differences(data: bytes) -> str | None:
    """None when both readers agree on the document, else what differs; unreadable XML is skipped."""
    try:
        document = open_document(data)
    except ReadError:
        return None
    fast, reference = _read(document.root, document.syntax), _reference_read(document.root, document.syntax)
    if isinstance(fast, str) or isinstance(reference, str):
        return None if fast == reference else f"fast: {fast!r}, reference: {reference!r}"
    if (
        fast != reference  # pydantic's __eq__: type, field values, extra and private values
        or repr(fast) != repr(reference)  # the fields in the same order, amounts with their scale
        or fast.model_dump() != reference.model_dump()
        or _shape(fast) != _shape(reference)
    ):
        return f"fast: {fast!r}\nreference: {reference!r}"
    return None


def _corpus_files(folder: str) -> list[Path]:
    base = CORPUS / folder
    if not base.is_dir():
        return []
    return sorted(p for p in base.rglob("*") if p.is_file() and p.suffix.lower() in (".xml", ".pdf"))


@pytest.mark.parametrize("folder", FOLDERS)
def test_the_whole_corpus_reads_as_entry_by_entry(folder: str) -> None:
    files = _corpus_files(folder)
    if not files:
        pytest.skip(f"corpus folder not found: {CORPUS / folder}")
    differ = {str(p.relative_to(CORPUS)): d for p in files if (d := _differences(p.read_bytes()))}
    assert not differ, "\n".join(f"{name}: {diff}" for name, diff in list(differ.items())[:5])


# --- documents where document order and table order part ---------------------------------------------

_UBL = (
    '<Invoice xmlns="urn:oasis:names:specification:ubl:schema:xsd:Invoice-2"'
    ' xmlns:cbc="urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2"'
    ' xmlns:cac="urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2">{}</Invoice>'
)
_CII = (
    '<rsm:CrossIndustryInvoice xmlns:rsm="urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100"'
    ' xmlns:ram="urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:100"'
    ' xmlns:udt="urn:un:unece:uncefact:data:standard:UnqualifiedDataType:100">{}</rsm:CrossIndustryInvoice>'
)
_LINE = "<cac:InvoiceLine><cbc:ID>{}</cbc:ID>{}</cac:InvoiceLine>"

MADE_UP = {
    # A union's branches are read in branch order, whatever the document order.
    "union branches reversed": _UBL.format(
        "<cbc:ID>1</cbc:ID><cbc:CreditNoteTypeCode>381</cbc:CreditNoteTypeCode>"
        "<cbc:InvoiceTypeCode>380</cbc:InvoiceTypeCode>"
    ),
    "due date from payment means first": _UBL.format(
        "<cac:PaymentMeans><cbc:PaymentMeansCode>58</cbc:PaymentMeansCode>"
        "<cbc:PaymentDueDate>2024-02-01</cbc:PaymentDueDate></cac:PaymentMeans><cbc:DueDate>2024-03-01</cbc:DueDate>"
    ),
    # Two bad values: the error is the one the table order meets first, not the document order.
    "two bad amounts, table order reversed": _UBL.format(
        "<cac:LegalMonetaryTotal><cbc:PayableAmount>x</cbc:PayableAmount>"
        "<cbc:LineExtensionAmount>y</cbc:LineExtensionAmount></cac:LegalMonetaryTotal>"
    ),
    "bad date after bad amount in a later group": _UBL.format(
        "<cac:LegalMonetaryTotal><cbc:PayableAmount>1,00</cbc:PayableAmount></cac:LegalMonetaryTotal>"
        "<cbc:IssueDate>01.02.2024</cbc:IssueDate>"
    ),
    "bad values in two lines": _UBL.format(
        _LINE.format("1", "<cbc:LineExtensionAmount>a</cbc:LineExtensionAmount>")
        + _LINE.format("2", "<cac:InvoicePeriod><cbc:StartDate>b</cbc:StartDate></cac:InvoicePeriod>")
    ),
    # A second bad value where only the first is read is no error; a bad second line item is.
    "singular term written twice, second bad": _UBL.format(
        "<cbc:IssueDate>2024-01-02</cbc:IssueDate><cbc:IssueDate>never</cbc:IssueDate>"
    ),
    "singular group written twice, second bad": _UBL.format(
        "<cac:LegalMonetaryTotal><cbc:PayableAmount>1</cbc:PayableAmount></cac:LegalMonetaryTotal>"
        "<cac:LegalMonetaryTotal><cbc:PayableAmount>z</cbc:PayableAmount></cac:LegalMonetaryTotal>"
    ),
    "singular group written twice, first empty": _UBL.format(
        "<cac:Delivery><cbc:Note>no term</cbc:Note></cac:Delivery>"
        "<cac:Delivery><cbc:ActualDeliveryDate>2024-05-06</cbc:ActualDeliveryDate></cac:Delivery>"
    ),
    # Comments, processing instructions and stray children where values are.
    "comments and stray children": _UBL.format(
        "<!-- head --><cbc:ID>A<!-- c -->B</cbc:ID><?pi x?><cbc:Note>one<cbc:Sub>two</cbc:Sub>three</cbc:Note>"
        "<cac:AccountingSupplierParty><cac:Party><!-- p --><cbc:EndpointID schemeID='EM'>a@b.c</cbc:EndpointID>"
        "<cac:PartyIdentification><cbc:ID schemeID='SEPA'>DE98ZZZ</cbc:ID></cac:PartyIdentification>"
        "<cac:PartyIdentification><cbc:ID>42</cbc:ID></cac:PartyIdentification>"
        "</cac:Party></cac:AccountingSupplierParty>"
    ),
    "allowances and charges interleaved": _UBL.format(
        "".join(
            f"<cac:AllowanceCharge><cbc:ChargeIndicator> {flag} </cbc:ChargeIndicator>"
            f"<cbc:Amount>{n}.50</cbc:Amount></cac:AllowanceCharge>"
            for n, flag in enumerate(["true", "false", "true", "false"])
        )
    ),
    "cii sub lines and twice-written notes": _CII.format(
        "<rsm:ExchangedDocument><ram:ID>9</ram:ID>"
        "<ram:IncludedNote><ram:Content>a</ram:Content></ram:IncludedNote>"
        "<ram:IncludedNote><ram:Content>b</ram:Content><ram:SubjectCode>AAI</ram:SubjectCode></ram:IncludedNote>"
        "</rsm:ExchangedDocument><rsm:SupplyChainTradeTransaction>"
        + "".join(
            "<ram:IncludedSupplyChainTradeLineItem><ram:AssociatedDocumentLineDocument>"
            f"<ram:LineID>{line}</ram:LineID>{parent}</ram:AssociatedDocumentLineDocument>"
            "</ram:IncludedSupplyChainTradeLineItem>"
            for line, parent in [("2", "<ram:ParentLineID>1</ram:ParentLineID>"), ("1", ""), ("3", "")]
        )
        + "</rsm:SupplyChainTradeTransaction>"
    ),
    "cii gross price base quantity only": _CII.format(
        "<rsm:SupplyChainTradeTransaction><ram:IncludedSupplyChainTradeLineItem>"
        "<ram:SpecifiedLineTradeAgreement><ram:GrossPriceProductTradePrice><ram:ChargeAmount>2</ram:ChargeAmount>"
        "<ram:BasisQuantity unitCode='H87'>10</ram:BasisQuantity></ram:GrossPriceProductTradePrice>"
        "<ram:NetPriceProductTradePrice><ram:ChargeAmount>1.9</ram:ChargeAmount></ram:NetPriceProductTradePrice>"
        "</ram:SpecifiedLineTradeAgreement></ram:IncludedSupplyChainTradeLineItem></rsm:SupplyChainTradeTransaction>"
    ),
}

ERRORS = {
    "two bad amounts, table order reversed": "BT-106",
    "bad date after bad amount in a later group": "BT-2",
    "bad values in two lines": "BT-131",
    "singular group written twice, second bad": "BT-115",
}


@pytest.mark.parametrize("name", MADE_UP)
def test_made_up_documents_read_as_entry_by_entry(name: str) -> None:
    data = MADE_UP[name].encode()
    assert _differences(data) is None
    document = open_document(data)
    result = _read(document.root, document.syntax)
    if name in ERRORS:
        assert isinstance(result, str) and result.startswith(ERRORS[name]), result
    else:
        assert isinstance(result, Invoice), result


def test_union_branch_order_wins_over_document_order() -> None:
    document = open_document(MADE_UP["union branches reversed"].encode())
    invoice = _read(document.root, document.syntax)
    assert isinstance(invoice, Invoice) and invoice.type_code == "380"
