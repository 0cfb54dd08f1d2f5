"""The writer: model → UBL / CII, checked by reading the result back and by the official schemas.

Every written document is validated against ``../shared/schemas`` (the XSDs the KoSIT validator
uses) and read back. Same syntax, the model must come back exactly (amounts with their scale).
Across syntaxes (every corpus invoice, among them the 40 twin pairs of the XRechnung test suite,
each converted into its twin's syntax), what the target cannot carry is taken out first
(``CANNOT_CARRY``, and writing it anyway must raise), and what the target requires the writer to
derive is applied to the expectation (``DERIVED``); both lists must be exercised by the corpus,
so they cannot go stale.

``element_order.json`` is derived from the schemas; running this file as a script rewrites it,
and ``test_element_order_is_the_schemas_order`` checks it against the schemas.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from datetime import date
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from lxml import etree
from pydantic import BaseModel

from schemas.binding import cii, ubl
from schemas.binding._writer import ORDER_FILE, element_names
from schemas.model import (
    AdditionalDocument,
    AttachedBinary,
    Buyer,
    BuyerAddress,
    CreditTransfer,
    DocumentAllowance,
    Identifier,
    Invoice,
    InvoiceLine,
    Item,
    LineVat,
    Note,
    PaymentInstructions,
    PrecedingInvoice,
    PriceDetails,
    ProcessControl,
    Seller,
    SellerAddress,
    SellerContact,
    ThirdPartyPayment,
    Totals,
    VatBreakdown,
)
from schemas.reader import open_document, read_tree
from schemas.writer import SYNTAXES, WriteError, write_invoice
from schemas.xml import XmlError, parse_xml

SHARED = Path(__file__).resolve().parents[2].parent / "shared"
CORPUS = SHARED / "corpus"
SCHEMAS = SHARED / "schemas"
SUITE = CORPUS / "kosit-testsuite"
ROUND_TRIP_FOLDERS = ("kosit-testsuite", "en16931-examples")

XSD = {
    "ubl-invoice": "ubl-2.1/maindoc/UBL-Invoice-2.1.xsd",
    "ubl-creditnote": "ubl-2.1/maindoc/UBL-CreditNote-2.1.xsd",
    "cii": "cii-d16b/CrossIndustryInvoice_100pD16B.xsd",
}
NS = {**ubl.NAMESPACES, **cii.NAMESPACES}

needs_schemas = pytest.mark.skipif(not SCHEMAS.is_dir(), reason=f"official schemas not found at {SCHEMAS}")
needs_corpus = pytest.mark.skipif(not CORPUS.is_dir(), reason=f"test corpus not found at {CORPUS}")


@pytest.fixture(scope="session")
def xsd() -> dict[str, etree.XMLSchema]:
    """The three official schemas, compiled once per session."""
    if not SCHEMAS.is_dir():
        pytest.skip(f"official schemas not found at {SCHEMAS}")
    return {syntax: etree.XMLSchema(etree.parse(str(SCHEMAS / path))) for syntax, path in XSD.items()}


def _valid(xsd: dict[str, etree.XMLSchema], syntax: str, data: bytes) -> etree._Element:
    root = parse_xml(data)
    schema = xsd[syntax]
    if not schema.validate(root):
        errors = "\n  ".join(f"line {e.line}: {e.message}" for e in list(schema.error_log)[:5])
        pytest.fail(f"written {syntax} is not schema-valid:\n  {errors}")
    return root


def _write_and_read(xsd: dict[str, etree.XMLSchema], invoice: Invoice, syntax: str) -> tuple[etree._Element, Invoice]:
    root = _valid(xsd, syntax, write_invoice(invoice, syntax))
    return root, read_tree(root, syntax)


def _flat(value: Any, path: str = "") -> dict[str, str]:
    """{field path: repr} for every value the model holds; repr keeps a Decimal's scale."""
    if isinstance(value, BaseModel):
        out: dict[str, str] = {}
        for name in type(value).model_fields:
            out.update(_flat(getattr(value, name), f"{path}.{name}" if path else name))
        return out
    if isinstance(value, list):
        return {k: v for i, item in enumerate(value) for k, v in _flat(item, f"{path}[{i}]").items()}
    if value is None:
        return {}
    if isinstance(value, bytes):
        return {path: f"<{len(value)} bytes sha256 {hashlib.sha256(value).hexdigest()[:16]}>"}
    return {path: repr(value)}


def _read(path: Path) -> tuple[str, Invoice]:
    document = open_document(path.read_bytes())
    return document.syntax, read_tree(document.root, document.syntax)


# --- element order ------------------------------------------------------------------------------------

_ROOT_XSD = {"Invoice": XSD["ubl-invoice"], "CreditNote": XSD["ubl-creditnote"], "CrossIndustryInvoice": XSD["cii"]}


def derive_element_order(schemas: Path) -> dict[str, Any]:
    """For every element the writer may create that has element children: their sequence order,
    and which of them may repeat. Walks the schemas from the three document elements."""
    import xmlschema  # only needed here, and slow to import

    prefix_of = {uri: prefix for prefix, uri in NS.items()}

    def name(qname: str) -> str:
        q = etree.QName(qname)
        return f"{prefix_of.get(q.namespace or '', '?')}:{q.localname}"

    needed: set[str] = set()
    for binding in (ubl, cii):
        roots = [name(tag) for tag in binding.ROOTS]
        needed |= element_names(binding.INVOICE, binding.WRITE_HINTS, roots, binding.NAMESPACES)
    order: dict[str, list[str]] = {}
    repeatable: dict[str, list[str]] = {}
    for root, xsd_path in _ROOT_XSD.items():
        schema = xmlschema.XMLSchema(str(schemas / xsd_path))
        stack = [schema.elements[root]]
        while stack:
            declaration = stack.pop()
            parent = name(declaration.name)
            if parent not in needed or not declaration.type.has_complex_content():
                continue
            children = [c for c in declaration.type.content.iter_elements() if name(c.name) in needed]
            names = [name(c.name) for c in children]
            repeats = sorted(name(c.name) for c in children if c.max_occurs is None or c.max_occurs > 1)
            if parent in order:
                # Keyed by element name: the same name must mean the same content model everywhere.
                assert (order[parent], repeatable[parent]) == (names, repeats), f"{parent} differs by context"
                continue
            order[parent], repeatable[parent] = names, repeats
            stack.extend(children)
    missing = needed - set(order) - {child for children in order.values() for child in children}
    assert not missing, f"names the writer may create that the schemas do not reach: {sorted(missing)}"
    return {
        "source": "UBL 2.1 and CII D16B XML Schemas; regenerate: python tests/schemas/test_writer.py",
        "order": dict(sorted(order.items())),
        "repeatable": {parent: r for parent, r in sorted(repeatable.items()) if r},
    }


def render_element_order(data: dict[str, Any]) -> str:
    """One parent per line, so a change to the order reads as a one-line diff."""
    parts = []
    for key, value in data.items():
        if isinstance(value, dict):
            rows = ",\n".join(f"    {json.dumps(p)}: {json.dumps(c)}" for p, c in value.items())
            parts.append(f"  {json.dumps(key)}: {{\n{rows}\n  }}")
        else:
            parts.append(f"  {json.dumps(key)}: {json.dumps(value)}")
    return "{\n" + ",\n".join(parts) + "\n}\n"


@needs_schemas
def test_element_order_is_the_schemas_order() -> None:
    assert json.loads(ORDER_FILE.read_text(encoding="utf-8")) == derive_element_order(SCHEMAS), (
        "element_order.json is stale: run python tests/schemas/test_writer.py"
    )


# --- same syntax: the corpus round-trips --------------------------------------------------------------


def _documents() -> list[Path]:
    if not CORPUS.is_dir():
        return []
    found = []
    for folder in ROUND_TRIP_FOLDERS:
        for path in sorted((CORPUS / folder).rglob("*")):
            if not path.is_file() or path.suffix.lower() != ".xml":
                continue
            try:
                if parse_xml(path.read_bytes()).tag in {**ubl.ROOTS, **cii.ROOTS}:
                    found.append(path)
            except XmlError:
                continue
    return found


DOCUMENTS = _documents()


@pytest.mark.corpus
@needs_corpus
def test_the_corpus_has_invoices_to_round_trip() -> None:
    assert len(DOCUMENTS) >= 100, len(DOCUMENTS)


@pytest.mark.corpus
@needs_corpus
@pytest.mark.parametrize("path", DOCUMENTS, ids=lambda p: str(p.relative_to(CORPUS)))
def test_corpus_invoice_round_trips_in_its_syntax(path: Path, xsd: dict[str, etree.XMLSchema]) -> None:
    syntax, invoice = _read(path)
    _, back = _write_and_read(xsd, invoice, syntax)
    assert _flat(back) == _flat(invoice)


# --- across syntaxes: the twin pairs ----------------------------------------------------------------------

Change = Callable[[Invoice], Invoice]


def _map_lines(invoice: Invoice, change: Callable[[InvoiceLine], InvoiceLine]) -> Invoice:
    def walk(line: InvoiceLine) -> InvoiceLine:
        return change(line).model_copy(update={"sub_lines": [walk(sub) for sub in line.sub_lines]})

    return invoice.model_copy(update={"lines": [walk(line) for line in invoice.lines]})


def _code(mapping: dict[str, str]) -> Change:
    def change(invoice: Invoice) -> Invoice:
        code = invoice.value_added_tax_point_date_code
        return invoice.model_copy(update={"value_added_tax_point_date_code": mapping.get(code or "", code)})

    return change


def _price(change: Callable[[PriceDetails], PriceDetails]) -> Change:
    return lambda invoice: _map_lines(
        invoice, lambda line: line.model_copy(update={"price": change(line.price)}) if line.price else line
    )


def _gross_from_discount(price: PriceDetails) -> PriceDetails:
    if price.discount is None or price.gross_price is not None or price.net_price is None:
        return price
    return price.model_copy(update={"gross_price": price.net_price + price.discount})


def _discount_from_gross(price: PriceDetails) -> PriceDetails:
    if price.gross_price is None or price.discount is not None or price.net_price is None:
        return price
    return price.model_copy(update={"discount": price.gross_price - price.net_price})


def _purchase_order_na(invoice: Invoice) -> Invoice:
    if invoice.sales_order_reference is None or invoice.purchase_order_reference is not None:
        return invoice
    return invoice.model_copy(update={"purchase_order_reference": "NA"})


def _total_vat_from_breakdown(invoice: Invoice) -> Invoice:
    totals = invoice.totals or Totals()
    amounts = [vat.tax_amount for vat in invoice.vat_breakdown]
    if not amounts or None in amounts or totals.total_vat is not None:
        return invoice
    total = sum((a for a in amounts if a is not None), start=Decimal(0))
    return invoice.model_copy(update={"totals": totals.model_copy(update={"total_vat": total})})


# Target syntax → term → (why the target cannot carry it, the model without it).
CANNOT_CARRY: dict[str, dict[str, tuple[str, Change]]] = {
    "cii": {
        "BG-DEX-09": (
            "the XRechnung Extension binds third party payments in UBL only",
            lambda inv: inv.model_copy(update={"third_party_payments": []}),
        ),
        "BG-3": (
            "CII D16B has one ram:InvoiceReferencedDocument in the header settlement",
            lambda inv: inv.model_copy(update={"preceding_invoices": inv.preceding_invoices[:1]}),
        ),
    },
    "ubl": {},
}

# Target syntax → term → (what the writer derives or translates, the same change on the model).
DERIVED: dict[str, dict[str, tuple[str, Change]]] = {
    "cii": {
        "BT-8": ("UNTDID 2005 codes become their UNTDID 2475 equivalents", _code({"3": "5", "35": "29", "432": "72"})),
        "BT-148": ("the gross price element needs its amount: net price plus discount", _price(_gross_from_discount)),
    },
    "ubl": {
        "BT-8": ("UNTDID 2475 codes become their UNTDID 2005 equivalents", _code({"5": "3", "29": "35", "72": "432"})),
        "BT-13": ("cac:OrderReference needs cbc:ID: NA when only BT-14 is given", _purchase_order_na),
        "BT-110": ("cac:TaxTotal needs cbc:TaxAmount: the sum of BT-117", _total_vat_from_breakdown),
        "BT-147": ("the price allowance needs its amount: gross minus net price", _price(_discount_from_gross)),
    },
}


def _pairs() -> list[str]:
    if not SUITE.is_dir():
        return []
    return sorted(
        str(path.relative_to(SUITE))[: -len("_ubl.xml")]
        for path in SUITE.rglob("*_ubl.xml")
        if path.with_name(path.name.replace("_ubl.xml", "_uncefact.xml")).is_file()
    )


PAIRS = _pairs()


def _other_syntax(syntax: str, invoice: Invoice) -> str:
    if syntax != "cii":
        return "cii"
    return "ubl-creditnote" if invoice.type_code == "381" else "ubl-invoice"


@cache
def _convert(path: Path) -> tuple[dict[str, str], dict[str, str], frozenset[tuple[str, str]], str, bytes]:
    """(expected, read back, (target, term) of CANNOT_CARRY/DERIVED entries that applied, target, written)."""
    syntax, invoice = _read(path)
    target = _other_syntax(syntax, invoice)
    family = "cii" if target == "cii" else "ubl"
    used: set[tuple[str, str]] = set()
    carried = invoice
    for term, (_, change) in CANNOT_CARRY[family].items():
        changed = change(carried)
        if changed != carried:
            used.add((family, term))
            with pytest.raises(WriteError, match=term):
                write_invoice(carried, target)
        carried = changed
    expected = carried
    for term, (_, change) in DERIVED[family].items():
        changed = change(expected)
        if _flat(changed) != _flat(expected):
            used.add((family, term))
        expected = changed
    written = write_invoice(carried, target)
    back = read_tree(parse_xml(written), target)
    return _flat(expected), _flat(back), frozenset(used), target, written


@pytest.mark.corpus
@pytest.mark.skipif(not SUITE.is_dir(), reason=f"test suite not found at {SUITE}")
def test_the_forty_twin_pairs_convert_into_their_twins_syntax() -> None:
    assert len(PAIRS) == 40, PAIRS
    for pair in PAIRS:
        for source, twin in (("ubl", "uncefact"), ("uncefact", "ubl")):
            twin_syntax, _ = _read(SUITE / f"{pair}_{twin}.xml")
            assert _convert(SUITE / f"{pair}_{source}.xml")[3] == twin_syntax, pair


@pytest.mark.corpus
@needs_corpus
@pytest.mark.parametrize("path", DOCUMENTS, ids=lambda p: str(p.relative_to(CORPUS)))
def test_corpus_invoice_converts_to_the_other_syntax(path: Path, xsd: dict[str, etree.XMLSchema]) -> None:
    expected, back, _, target, written = _convert(path)
    _valid(xsd, target, written)
    assert back == expected


@pytest.mark.corpus
@needs_corpus
def test_conversion_lists_are_as_short_as_the_data_allows() -> None:
    used = set().union(*(_convert(path)[2] for path in DOCUMENTS))
    listed = {(family, term) for lists in (CANNOT_CARRY, DERIVED) for family, table in lists.items() for term in table}
    assert used == listed, f"listed but never needed: {sorted(listed - used)}"


# --- a hand-built invoice -------------------------------------------------------------------------------

SKONTO = "#SKONTO#TAGE=14#PROZENT=2.00#\n"
ATTACHMENT = b"%PDF-1.4\n% timesheet\n"


def hand_built(type_code: str = "380") -> Invoice:
    """Two lines, a Skonto payment term, a document allowance, one VAT rate: 150.00 - 10.00 + 19 %."""
    return Invoice(
        number="RE-2024-0815",
        issue_date=date(2024, 3, 15),
        type_code=type_code,
        currency_code="EUR",
        due_date=date(2024, 4, 14),
        buyer_reference="04011000-12345-34",
        purchase_order_reference="PO-4711",
        payment_terms=SKONTO,
        notes=[Note(subject_code="AAI", text="Lieferung gemäß Rahmenvertrag"), Note(text="Danke!")],
        process_control=ProcessControl(
            business_process_type="urn:fdc:peppol.eu:2017:poacc:billing:01:1.0",
            specification_identifier="urn:cen.eu:en16931:2017#compliant#urn:xeinkauf.de:kosit:xrechnung_3.0",
        ),
        seller=Seller(
            name="Muster GmbH",
            identifiers=[Identifier(id="S-1"), Identifier(id="4000001000005", scheme="0088")],
            vat_identifier="DE123456789",
            tax_registration_identifier="201/113/40209",
            electronic_address=Identifier(id="rechnung@muster.example", scheme="EM"),
            address=SellerAddress(line_1="Hauptstraße 1", city="Berlin", post_code="10115", country_code="DE"),
            contact=SellerContact(point="Erika Muster", telephone="+49 30 123456", email="erika@muster.example"),
        ),
        buyer=Buyer(
            name="Amt für Beispiele",
            electronic_address=Identifier(id="04011000-12345-34", scheme="0204"),
            address=BuyerAddress(city="Bonn", post_code="53113", country_code="DE"),
        ),
        payment_instructions=PaymentInstructions(
            means_type_code="58",
            remittance_information="RE-2024-0815",
            credit_transfers=[CreditTransfer(account_identifier="DE02120300000000202051", account_name="Muster GmbH")],
        ),
        allowances=[
            DocumentAllowance(
                amount=Decimal("10.00"),
                base_amount=Decimal("150.00"),
                percentage=Decimal("6.6667"),
                vat_category_code="S",
                vat_rate=Decimal("19.00"),
                reason="Treuerabatt",
                reason_code="95",
            )
        ],
        totals=Totals(
            sum_of_line_net_amounts=Decimal("150.00"),
            sum_of_allowances=Decimal("10.00"),
            total_without_vat=Decimal("140.00"),
            total_vat=Decimal("26.60"),
            total_with_vat=Decimal("166.60"),
            amount_due=Decimal("166.60"),
        ),
        vat_breakdown=[
            VatBreakdown(
                taxable_amount=Decimal("140.00"), tax_amount=Decimal("26.60"), category_code="S", rate=Decimal("19.00")
            )
        ],
        additional_documents=[
            AdditionalDocument(
                reference="TS-03",
                description="Stundenzettel März",
                attachment=AttachedBinary(content=ATTACHMENT, mime_code="application/pdf", filename="stunden.pdf"),
            )
        ],
        lines=[
            InvoiceLine(
                identifier="1",
                quantity=Decimal("2"),
                quantity_unit_code="HUR",
                net_amount=Decimal("100.00"),
                price=PriceDetails(net_price=Decimal("50.00")),
                vat=LineVat(category_code="S", rate=Decimal("19.00")),
                item=Item(name="Beratung", sellers_identifier="B-01"),
            ),
            InvoiceLine(
                identifier="2",
                quantity=Decimal("0.500"),
                quantity_unit_code="KGM",
                net_amount=Decimal("50.00"),
                price=PriceDetails(
                    net_price=Decimal("100.00"), discount=Decimal("20.00"), gross_price=Decimal("120.00")
                ),
                vat=LineVat(category_code="S", rate=Decimal("19.00")),
                item=Item(name="Kaffee", standard_identifier=Identifier(id="4012345000016", scheme="0160")),
            ),
        ],
    )


def _texts(root: etree._Element, path: str) -> list[str]:
    return [n if isinstance(n, str) else (n.text or "") for n in root.xpath(path, namespaces=NS)]


@pytest.mark.parametrize("syntax", SYNTAXES)
def test_hand_built_invoice_writes_valid_xml_that_reads_back(syntax: str, xsd: dict[str, etree.XMLSchema]) -> None:
    invoice = hand_built("381" if syntax == "ubl-creditnote" else "380")
    _, back = _write_and_read(xsd, invoice, syntax)
    assert _flat(back) == _flat(invoice)


def test_hand_built_ubl_invoice_spells_out_what_ubl_needs(xsd: dict[str, etree.XMLSchema]) -> None:
    root, _ = _write_and_read(xsd, hand_built(), "ubl-invoice")
    assert _texts(root, "cac:PaymentTerms/cbc:Note") == [SKONTO]
    assert _texts(root, "cbc:Note") == ["#AAI#Lieferung gemäß Rahmenvertrag", "Danke!"]
    # Predicates are written as the elements they test.
    assert _texts(root, "cac:AllowanceCharge/cbc:ChargeIndicator") == ["false"]
    party = root.find("cac:AccountingSupplierParty/cac:Party", NS)
    assert party is not None
    schemes = {
        scheme.findtext("cac:TaxScheme/cbc:ID", namespaces=NS): scheme.findtext("cbc:CompanyID", namespaces=NS)
        for scheme in party.iterfind("cac:PartyTaxScheme", NS)
    }
    assert schemes == {"VAT": "DE123456789", "FC": "201/113/40209"}
    # One cac:PartyIdentification per identifier: it holds a single cbc:ID.
    assert _texts(party, "cac:PartyIdentification/cbc:ID") == ["S-1", "4000001000005"]
    # Amounts carry the document currency and keep their scale.
    assert _texts(root, "cac:TaxTotal/cbc:TaxAmount/@currencyID") == ["EUR"]
    assert _texts(root, "cac:InvoiceLine/cbc:InvoicedQuantity") == ["2", "0.500"]
    assert _texts(root, "cac:AllowanceCharge/cbc:MultiplierFactorNumeric") == ["6.6667"]
    assert _texts(root, "cac:InvoiceLine/cac:Item/cac:ClassifiedTaxCategory/cac:TaxScheme/cbc:ID") == ["VAT", "VAT"]
    binary = root.find("cac:AdditionalDocumentReference/cac:Attachment/cbc:EmbeddedDocumentBinaryObject", NS)
    assert binary is not None
    assert (binary.get("mimeCode"), binary.get("filename")) == ("application/pdf", "stunden.pdf")
    assert binary.text == "JVBERi0xLjQKJSB0aW1lc2hlZXQK"
    assert _texts(root, "cbc:IssueDate") == ["2024-03-15"]


def test_hand_built_credit_note_takes_the_credit_note_branches(xsd: dict[str, etree.XMLSchema]) -> None:
    root, _ = _write_and_read(xsd, hand_built("381"), "ubl-creditnote")
    assert _texts(root, "cbc:CreditNoteTypeCode") == ["381"]
    assert _texts(root, "cac:CreditNoteLine/cbc:CreditedQuantity/@unitCode") == ["HUR", "KGM"]
    # A UBL 2.1 CreditNote has no cbc:DueDate: BT-9 goes to the payment means.
    assert _texts(root, "cac:PaymentMeans/cbc:PaymentDueDate") == ["2024-04-14"]
    assert not root.xpath("cac:InvoiceLine | cbc:InvoiceTypeCode | cbc:DueDate", namespaces=NS)


def test_hand_built_cii_invoice_spells_out_what_cii_needs(xsd: dict[str, etree.XMLSchema]) -> None:
    root, _ = _write_and_read(xsd, hand_built(), "cii")
    settlement = "rsm:SupplyChainTradeTransaction/ram:ApplicableHeaderTradeSettlement"
    assert _texts(root, f"{settlement}/ram:SpecifiedTradePaymentTerms/ram:Description") == [SKONTO]
    assert _texts(root, "rsm:ExchangedDocument/ram:IssueDateTime/udt:DateTimeString") == ["20240315"]
    assert _texts(root, "rsm:ExchangedDocument/ram:IssueDateTime/udt:DateTimeString/@format") == ["102"]
    assert _texts(root, "rsm:ExchangedDocument/ram:IncludedNote/ram:SubjectCode") == ["AAI"]
    indicator = f"{settlement}/ram:SpecifiedTradeAllowanceCharge/ram:ChargeIndicator/udt:Indicator"
    assert _texts(root, indicator) == ["false"]
    assert _texts(root, f"{settlement}/ram:ApplicableTradeTax/ram:TypeCode") == ["VAT"]
    seller = root.find("rsm:SupplyChainTradeTransaction/ram:ApplicableHeaderTradeAgreement/ram:SellerTradeParty", NS)
    assert seller is not None
    assert _texts(seller, "ram:ID") == ["S-1"]
    assert _texts(seller, "ram:GlobalID/@schemeID") == ["0088"]
    assert _texts(seller, "ram:SpecifiedTaxRegistration/ram:ID/@schemeID") == ["VA", "FC"]
    assert _texts(root, f"{settlement}/ram:SpecifiedTradeSettlementPaymentMeans/*/ram:IBANID") == [
        "DE02120300000000202051"
    ]
    binary = root.find(".//ram:AttachmentBinaryObject", NS)
    assert binary is not None
    assert (binary.get("mimeCode"), binary.get("filename")) == ("application/pdf", "stunden.pdf")


# --- structure the tables express by reference or not at all ---------------------------------------------


def test_sub_lines_nest_in_ubl_and_name_their_parent_in_cii(xsd: dict[str, etree.XMLSchema]) -> None:
    sub = InvoiceLine(identifier="1.1", net_amount=Decimal("5.00"), item=Item(name="Teil"))
    invoice = hand_built().model_copy(
        update={"lines": [hand_built().lines[0].model_copy(update={"sub_lines": [sub]}), hand_built().lines[1]]}
    )
    ubl_root, from_ubl = _write_and_read(xsd, invoice, "ubl-invoice")
    assert _texts(ubl_root, "cac:InvoiceLine/cac:SubInvoiceLine/cbc:ID") == ["1.1"]
    cii_root, from_cii = _write_and_read(xsd, invoice, "cii")
    line_ids = "rsm:SupplyChainTradeTransaction/ram:IncludedSupplyChainTradeLineItem/ram:AssociatedDocumentLineDocument"
    assert _texts(cii_root, f"{line_ids}/ram:LineID") == ["1", "1.1", "2"]
    assert _texts(cii_root, f"{line_ids}/ram:ParentLineID") == ["1"]
    assert _flat(from_ubl) == _flat(from_cii) == _flat(invoice)


def test_a_second_account_gets_its_own_payment_means(xsd: dict[str, etree.XMLSchema]) -> None:
    invoice = hand_built()
    assert invoice.payment_instructions is not None
    second = CreditTransfer(account_identifier="DE89370400440532013000")
    accounts = [*invoice.payment_instructions.credit_transfers, second]
    invoice = invoice.model_copy(
        update={"payment_instructions": invoice.payment_instructions.model_copy(update={"credit_transfers": accounts})}
    )
    for syntax, means, code in (
        ("ubl-invoice", "cac:PaymentMeans", "cbc:PaymentMeansCode"),
        ("cii", "//ram:SpecifiedTradeSettlementPaymentMeans", "ram:TypeCode"),
    ):
        root, back = _write_and_read(xsd, invoice, syntax)
        assert _texts(root, f"{means}/{code}") == ["58", "58"], syntax
        assert _flat(back) == _flat(invoice), syntax


@pytest.mark.parametrize(
    ("syntax", "change", "term"),
    [
        ("cii", {"third_party_payments": [ThirdPartyPayment(type_code="X", amount=Decimal("1.00"))]}, "BG-DEX-09"),
        ("cii", {"preceding_invoices": [PrecedingInvoice(reference="A"), PrecedingInvoice(reference="B")]}, "BG-3"),
        ("ubl-creditnote", {"lines": [InvoiceLine(sub_lines=[InvoiceLine()])]}, "BG-DEX-01"),
    ],
)
def test_what_a_syntax_cannot_carry_is_refused_not_dropped(syntax: str, change: dict[str, Any], term: str) -> None:
    with pytest.raises(WriteError, match=term):
        write_invoice(hand_built().model_copy(update=change), syntax)


def test_an_unknown_syntax_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown syntax"):
        write_invoice(hand_built(), "xrechnung")


if __name__ == "__main__":
    ORDER_FILE.write_text(render_element_order(derive_element_order(SCHEMAS)), encoding="utf-8")
    print(f"wrote {ORDER_FILE}")
