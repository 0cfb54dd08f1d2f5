"""Sample invoices Eingang writes itself, to show the pipeline at work on a fresh machine.

Every sample is built from the EN 16931 model and written through the bindings, so the set
covers what a receiving department sees: valid XRechnung in UBL and CII, a Factur-X hybrid
PDF, an invoice whose totals do not add up, the same invoice sent twice, a ZIP holding two
invoices, and a plain PDF letter that is no e-invoice. Everything is fictitious and the
output is the same on every run (fixed dates and numbers).
"""

from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

from pypdf import PdfWriter
from pypdf.generic import ArrayObject, DecodedStreamObject, NameObject

from schemas.model import (
    Buyer,
    BuyerAddress,
    CreditTransfer,
    Identifier,
    Invoice,
    InvoiceLine,
    Item,
    LineVat,
    PaymentInstructions,
    PriceDetails,
    ProcessControl,
    Seller,
    SellerAddress,
    SellerContact,
    Totals,
    VatBreakdown,
)
from schemas.writer import write_invoice

__all__ = ["Sample", "build_samples", "write_samples"]

_XRECHNUNG = "urn:cen.eu:en16931:2017#compliant#urn:xeinkauf.de:kosit:xrechnung_3.0"
_PEPPOL_PROCESS = "urn:fdc:peppol.eu:2017:poacc:billing:01:1.0"
_CENT = Decimal("0.01")


@dataclass(frozen=True)
class _Supplier:
    name: str
    street: str
    city: str
    post_code: str
    vat_id: str
    email: str
    phone: str
    iban: str


_SUPPLIERS = (
    _Supplier(
        "Büromöbel Lindner GmbH",
        "Industriestraße 12",
        "Kassel",
        "34117",
        "DE811907980",
        "rechnung@lindner-moebel.example",
        "+49 561 12345-0",
        "DE02120300000000202051",
    ),
    _Supplier(
        "Druckerei Sommer KG",
        "Am Hafen 3",
        "Bremen",
        "28217",
        "DE136695976",
        "buchhaltung@druckerei-sommer.example",
        "+49 421 5550-10",
        "DE02500105170137075030",
    ),
    _Supplier(
        "IT-Service Brandt e.K.",
        "Lindenallee 40",
        "Leipzig",
        "04109",
        "DE129273398",
        "invoices@brandt-it.example",
        "+49 341 998877",
        "DE02370502990000684712",
    ),
)
_ITEMS = (
    ("Bürostuhl ergonomisch", Decimal("289.00"), Decimal("19")),
    ("Schreibtisch 160x80", Decimal("415.50"), Decimal("19")),
    ("Broschüren A5, 500 Stück", Decimal("184.20"), Decimal("7")),
    ("Wartungsvertrag Server, monatlich", Decimal("350.00"), Decimal("19")),
    ("Fachbuch Umsatzsteuerrecht", Decimal("49.90"), Decimal("7")),
)


@dataclass(frozen=True)
class Sample:
    name: str
    data: bytes
    what: str  # what a receiver should see happen to it


def _money(value: Decimal) -> Decimal:
    return value.quantize(_CENT, rounding=ROUND_HALF_UP)


def _invoice(number: str, supplier: _Supplier, issued: date, picks: list[tuple[int, int]]) -> Invoice:
    lines, by_rate = [], {}
    for position, (item_index, quantity) in enumerate(picks, start=1):
        name, price, rate = _ITEMS[item_index]
        net = _money(price * quantity)
        by_rate[rate] = by_rate.get(rate, Decimal("0")) + net
        lines.append(
            InvoiceLine(
                identifier=str(position),
                quantity=Decimal(quantity),
                quantity_unit_code="C62",
                net_amount=net,
                price=PriceDetails(net_price=price),
                vat=LineVat(category_code="S", rate=rate),
                item=Item(name=name),
            )
        )
    breakdown = [
        VatBreakdown(taxable_amount=_money(base), tax_amount=_money(base * rate / 100), category_code="S", rate=rate)
        for rate, base in sorted(by_rate.items(), reverse=True)
    ]
    net_total = _money(sum((line.net_amount or Decimal("0") for line in lines), Decimal("0")))
    vat_total = _money(sum((b.tax_amount or Decimal("0") for b in breakdown), Decimal("0")))
    return Invoice(
        number=number,
        issue_date=issued,
        type_code="380",
        currency_code="EUR",
        due_date=issued + timedelta(days=30),
        buyer_reference="04011000-12345-34",
        payment_terms="#SKONTO#TAGE=14#PROZENT=2.00#\nZahlbar innerhalb von 30 Tagen netto.",
        process_control=ProcessControl(business_process_type=_PEPPOL_PROCESS, specification_identifier=_XRECHNUNG),
        seller=Seller(
            name=supplier.name,
            vat_identifier=supplier.vat_id,
            electronic_address=Identifier(id=supplier.email, scheme="EM"),
            address=SellerAddress(
                line_1=supplier.street, city=supplier.city, post_code=supplier.post_code, country_code="DE"
            ),
            contact=SellerContact(point="Buchhaltung", telephone=supplier.phone, email=supplier.email),
        ),
        buyer=Buyer(
            name="Stadtverwaltung Musterstadt",
            electronic_address=Identifier(id="rechnungseingang@musterstadt.example", scheme="EM"),
            address=BuyerAddress(line_1="Rathausplatz 1", city="Musterstadt", post_code="12345", country_code="DE"),
        ),
        payment_instructions=PaymentInstructions(
            means_type_code="58", credit_transfers=[CreditTransfer(account_identifier=supplier.iban)]
        ),
        totals=Totals(
            sum_of_line_net_amounts=net_total,
            total_without_vat=net_total,
            total_vat=vat_total,
            total_with_vat=net_total + vat_total,
            amount_due=net_total + vat_total,
        ),
        vat_breakdown=breakdown,
        lines=lines,
    )


def _hybrid_pdf(xml: bytes) -> bytes:
    """A one-page PDF carrying the CII XML as factur-x.xml, the way Factur-X embeds it."""
    writer = PdfWriter()
    writer.add_blank_page(width=595, height=842)
    writer.add_attachment("factur-x.xml", xml)
    names = writer._root_object["/Names"]["/EmbeddedFiles"]["/Names"]  # type: ignore[index]
    filespec = names[1].get_object()
    filespec[NameObject("/AFRelationship")] = NameObject("/Alternative")
    writer._root_object[NameObject("/AF")] = ArrayObject([names[1]])
    xmp = DecodedStreamObject()
    xmp.set_data(_XMP.encode())
    xmp.update({NameObject("/Type"): NameObject("/Metadata"), NameObject("/Subtype"): NameObject("/XML")})
    writer._root_object[NameObject("/Metadata")] = writer._add_object(xmp)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


_XMP = """<?xpacket begin="" id="W5M0MpCehiHzreSzNTczkc9d"?>
<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">
<rdf:Description rdf:about="" xmlns:pdfaid="http://www.aiim.org/pdfa/ns/id/"><pdfaid:part>3</pdfaid:part>
<pdfaid:conformance>B</pdfaid:conformance></rdf:Description>
<rdf:Description rdf:about="" xmlns:fx="urn:factur-x:pdfa:CrossIndustryDocument:invoice:1p0#">
<fx:DocumentType>INVOICE</fx:DocumentType><fx:DocumentFileName>factur-x.xml</fx:DocumentFileName>
<fx:Version>1.0</fx:Version><fx:ConformanceLevel>XRECHNUNG</fx:ConformanceLevel></rdf:Description>
</rdf:RDF></x:xmpmeta><?xpacket end="w"?>"""


def _plain_pdf() -> bytes:
    writer = PdfWriter()
    writer.add_blank_page(width=595, height=842)
    writer.add_metadata({"/Title": "Anschreiben zur Rechnung"})
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def _zip(members: dict[str, bytes], stamped: date) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            # A fixed time stamp: writestr with a bare name stamps the clock, and the samples must not change.
            stamp = zipfile.ZipInfo(name, (stamped.year, stamped.month, stamped.day, 0, 0, 0))
            archive.writestr(stamp, data, compress_type=zipfile.ZIP_DEFLATED)
    return out.getvalue()


def build_samples(count: int = 6) -> list[Sample]:
    """The sample set: ``count`` valid invoices spread over the suppliers, then the special cases."""
    start = date(2026, 11, 2)
    valid = [
        _invoice(
            f"RE-2026-{1000 + i}",
            _SUPPLIERS[i % len(_SUPPLIERS)],
            start + timedelta(days=i),
            [(i % len(_ITEMS), 1 + i % 3), ((i + 2) % len(_ITEMS), 2)],
        )
        for i in range(count)
    ]
    samples = [
        Sample(
            f"{inv.number}.{'xml' if i % 2 == 0 else 'cii.xml'}",
            write_invoice(inv, "ubl-invoice" if i % 2 == 0 else "cii"),
            "accepted (XRechnung 3.0)",
        )
        for i, inv in enumerate(valid)
    ]
    hybrid = _invoice("RE-2026-2001", _SUPPLIERS[0], start, [(0, 4), (1, 1)])
    samples.append(
        Sample(
            "RE-2026-2001-facturx.pdf",
            _hybrid_pdf(write_invoice(hybrid, "cii")),
            "accepted (hybrid PDF, XML read from factur-x.xml)",
        )
    )
    wrong = _invoice("RE-2026-3001", _SUPPLIERS[1], start, [(2, 3)])
    assert wrong.totals is not None
    wrong = wrong.model_copy(
        update={
            "totals": wrong.totals.model_copy(
                update={"total_with_vat": (wrong.totals.total_with_vat or Decimal("0")) + Decimal("10.00")}
            )
        }
    )
    samples.append(
        Sample(
            "RE-2026-3001-wrong-total.xml",
            write_invoice(wrong, "ubl-invoice"),
            "rejected (BR-CO-15: total with VAT is not net plus VAT)",
        )
    )
    samples.append(
        Sample(
            "Wiederholung-RE-2026-1000.xml",
            write_invoice(valid[0], "ubl-invoice") + b"\n",
            "duplicate (same supplier and invoice number as RE-2026-1000)",
        )
    )
    pair = [_invoice(f"RE-2026-40{n}", _SUPPLIERS[2], start, [(3, 1)]) for n in (1, 2)]
    samples.append(
        Sample(
            "sammelsendung.zip",
            _zip({f"{inv.number}.xml": write_invoice(inv, "ubl-invoice") for inv in pair}, start),
            "two invoices, each processed on its own",
        )
    )
    samples.append(Sample("anschreiben.pdf", _plain_pdf(), "no e-invoice inside (plain PDF)"))
    return samples


def write_samples(target: Path, count: int = 6) -> list[tuple[Path, Sample]]:
    target.mkdir(parents=True, exist_ok=True)
    written = []
    for sample in build_samples(count):
        path = target / sample.name
        path.write_bytes(sample.data)
        written.append((path, sample))
    return written
