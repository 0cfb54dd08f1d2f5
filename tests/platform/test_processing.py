"""Processing against the real PostgreSQL and SeaweedFS: verdicts, duplicates, bank-account warnings,
failures that stay retryable, and exactly-once processing with concurrent and crashing workers."""

from __future__ import annotations

import hashlib
import io
import json
import multiprocessing
import os
import random
import signal
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from uuid import UUID

import psycopg
import pytest
from pypdf import PdfWriter

from pipeline.intake import submit
from pipeline.lifecycle import Status
from pipeline.processing import (
    NEW_IBAN,
    NotReprocessable,
    TransientError,
    claim_batch,
    process_document,
    process_pending,
    reprocess,
)
from pipeline.settings import Settings
from pipeline.store import close_pools, connect, documents, events, migrate, objects_for
from pipeline.store.documents import NewDocument

CORPUS = Path(__file__).resolve().parents[3] / "shared" / "corpus"


@pytest.fixture(scope="module")
def settings(platform_settings: Settings) -> Iterator[Settings]:
    with psycopg.connect(platform_settings.database_url or "") as conn:
        migrate(conn)
    yield platform_settings
    close_pools()


# -- small generated invoices ---------------------------------------------------------------------


@dataclass(frozen=True)
class Seller:
    vat_id: str
    name: str = "Lieferant GmbH"

    @classmethod
    def new(cls) -> Seller:
        return cls(f"DE{random.randrange(10**8, 10**9)}")


def invoice(seller: Seller, number: str, *, iban: str = "DE02120300000000202051", note: str = "") -> bytes:
    """A small XRechnung 3.0 UBL invoice (accepted by the validator) for one seller."""
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<ubl:Invoice xmlns:ubl="urn:oasis:names:specification:ubl:schema:xsd:Invoice-2"
    xmlns:cac="urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2"
    xmlns:cbc="urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2">
  <cbc:CustomizationID>urn:cen.eu:en16931:2017#compliant#urn:xeinkauf.de:kosit:xrechnung_3.0</cbc:CustomizationID>
  <cbc:ProfileID>urn:fdc:peppol.eu:2017:poacc:billing:01:1.0</cbc:ProfileID>
  <cbc:ID>{number}</cbc:ID>
  <cbc:IssueDate>2025-03-01</cbc:IssueDate>
  <cbc:DueDate>2025-03-31</cbc:DueDate>
  <cbc:InvoiceTypeCode>380</cbc:InvoiceTypeCode>{f"{chr(10)}  <cbc:Note>{note}</cbc:Note>" if note else ""}
  <cbc:DocumentCurrencyCode>EUR</cbc:DocumentCurrencyCode>
  <cbc:BuyerReference>04011000-12345-03</cbc:BuyerReference>
  <cac:InvoicePeriod><cbc:StartDate>2025-02-01</cbc:StartDate><cbc:EndDate>2025-02-28</cbc:EndDate></cac:InvoicePeriod>
  <cac:AccountingSupplierParty><cac:Party>
    <cbc:EndpointID schemeID="EM">billing@lieferant.example</cbc:EndpointID>
    <cac:PostalAddress><cbc:StreetName>Hauptstr. 1</cbc:StreetName><cbc:CityName>Berlin</cbc:CityName>
      <cbc:PostalZone>10115</cbc:PostalZone><cac:Country><cbc:IdentificationCode>DE</cbc:IdentificationCode></cac:Country>
    </cac:PostalAddress>
    <cac:PartyTaxScheme><cbc:CompanyID>{seller.vat_id}</cbc:CompanyID><cac:TaxScheme><cbc:ID>VAT</cbc:ID></cac:TaxScheme>
    </cac:PartyTaxScheme>
    <cac:PartyLegalEntity><cbc:RegistrationName>{seller.name}</cbc:RegistrationName></cac:PartyLegalEntity>
    <cac:Contact><cbc:Name>Erika Muster</cbc:Name><cbc:Telephone>+49 30 123456</cbc:Telephone>
      <cbc:ElectronicMail>erika@lieferant.example</cbc:ElectronicMail></cac:Contact>
  </cac:Party></cac:AccountingSupplierParty>
  <cac:AccountingCustomerParty><cac:Party>
    <cbc:EndpointID schemeID="EM">ap@kunde.example</cbc:EndpointID>
    <cac:PostalAddress><cbc:StreetName>Ring 2</cbc:StreetName><cbc:CityName>Hamburg</cbc:CityName>
      <cbc:PostalZone>20095</cbc:PostalZone><cac:Country><cbc:IdentificationCode>DE</cbc:IdentificationCode></cac:Country>
    </cac:PostalAddress>
    <cac:PartyLegalEntity><cbc:RegistrationName>Kunde AG</cbc:RegistrationName></cac:PartyLegalEntity>
  </cac:Party></cac:AccountingCustomerParty>
  <cac:PaymentMeans><cbc:PaymentMeansCode>58</cbc:PaymentMeansCode>
    <cac:PayeeFinancialAccount><cbc:ID>{iban}</cbc:ID></cac:PayeeFinancialAccount></cac:PaymentMeans>
  <cac:PaymentTerms><cbc:Note>Zahlbar innerhalb von 30 Tagen</cbc:Note></cac:PaymentTerms>
  <cac:TaxTotal><cbc:TaxAmount currencyID="EUR">19.00</cbc:TaxAmount>
    <cac:TaxSubtotal><cbc:TaxableAmount currencyID="EUR">100.00</cbc:TaxableAmount>
      <cbc:TaxAmount currencyID="EUR">19.00</cbc:TaxAmount>
      <cac:TaxCategory><cbc:ID>S</cbc:ID><cbc:Percent>19</cbc:Percent><cac:TaxScheme><cbc:ID>VAT</cbc:ID></cac:TaxScheme>
      </cac:TaxCategory></cac:TaxSubtotal>
  </cac:TaxTotal>
  <cac:LegalMonetaryTotal>
    <cbc:LineExtensionAmount currencyID="EUR">100.00</cbc:LineExtensionAmount>
    <cbc:TaxExclusiveAmount currencyID="EUR">100.00</cbc:TaxExclusiveAmount>
    <cbc:TaxInclusiveAmount currencyID="EUR">119.00</cbc:TaxInclusiveAmount>
    <cbc:PayableAmount currencyID="EUR">119.00</cbc:PayableAmount>
  </cac:LegalMonetaryTotal>
  <cac:InvoiceLine><cbc:ID>1</cbc:ID><cbc:InvoicedQuantity unitCode="HUR">2</cbc:InvoicedQuantity>
    <cbc:LineExtensionAmount currencyID="EUR">100.00</cbc:LineExtensionAmount>
    <cac:Item><cbc:Name>Beratung</cbc:Name><cac:ClassifiedTaxCategory><cbc:ID>S</cbc:ID><cbc:Percent>19</cbc:Percent>
      <cac:TaxScheme><cbc:ID>VAT</cbc:ID></cac:TaxScheme></cac:ClassifiedTaxCategory></cac:Item>
    <cac:Price><cbc:PriceAmount currencyID="EUR">50.00</cbc:PriceAmount></cac:Price></cac:InvoiceLine>
</ubl:Invoice>
""".encode()


def plain_pdf() -> bytes:
    writer = PdfWriter()
    writer.add_blank_page(width=595, height=842)
    writer.add_metadata({"/Title": f"scan {uuid.uuid4()}"})  # unique bytes per test
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def _submit(settings: Settings, data: bytes, filename: str = "invoice.xml") -> UUID:
    return submit(settings, data, filename=filename, source="submit", sender="test").document_ids[0]


def _row(settings: Settings, doc_id: UUID) -> documents.DocumentRow:
    with connect(settings) as conn:
        row = documents.get_document(conn, doc_id)
    assert row is not None
    return row


def _count(settings: Settings, query: str, *params: object) -> int:
    with connect(settings) as conn:
        row = conn.execute(query, params).fetchone()
    assert row is not None
    return int(next(iter(row.values())))


# -- verdicts -------------------------------------------------------------------------------------


def test_valid_invoice_is_accepted_and_everything_is_kept(settings: Settings) -> None:
    seller = Seller.new()
    doc_id = _submit(settings, invoice(seller, f"R-{uuid.uuid4().hex[:8]}"))
    done = process_document(settings, doc_id)
    assert done.status == Status.ACCEPTED, done.reason
    with connect(settings) as conn:
        inv = conn.execute("SELECT * FROM invoices WHERE document_id = %s", (doc_id,)).fetchone()
        lines = conn.execute("SELECT * FROM invoice_lines WHERE document_id = %s", (doc_id,)).fetchall()
        vat = conn.execute("SELECT * FROM vat_breakdown WHERE document_id = %s", (doc_id,)).fetchall()
        report = conn.execute("SELECT * FROM validation_reports WHERE document_id = %s", (doc_id,)).fetchone()
        supplier = conn.execute("SELECT * FROM suppliers WHERE vat_id = %s", (seller.vat_id,)).fetchone()
    assert inv is not None and report is not None and supplier is not None
    assert inv["seller_vat_id"] == seller.vat_id and inv["supplier_id"] == supplier["id"]
    assert str(inv["total_with_vat"]) == "119.00" and inv["buyer_reference"] == "04011000-12345-03"
    assert inv["model"]["totals"]["total_with_vat"] == "119.00"
    assert [(str(r["net_amount"]), r["item_name"]) for r in lines] == [("100.00", "Beratung")]
    assert [(r["category_code"], str(r["tax_amount"])) for r in vat] == [("S", "19.00")]
    assert report["accepted"] and report["scenario"] == "EN16931 XRechnung (UBL Invoice)"
    store = objects_for(settings)
    assert b"Beratung" in store.get(inv["html_object_key"])
    assert json.loads(store.get(report["object_key"]))["document_id"] == str(doc_id)


def test_plain_pdf_is_no_invoice(settings: Settings) -> None:
    doc_id = _submit(settings, plain_pdf(), "scan.pdf")
    done = process_document(settings, doc_id)
    assert done.status == Status.NO_INVOICE
    assert "no e-invoice inside" in (_row(settings, doc_id).status_reason or "")
    assert _count(settings, "SELECT count(*) FROM invoices WHERE document_id = %s", doc_id) == 0


BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>
<Invoice xmlns="urn:oasis:names:specification:ubl:schema:xsd:Invoice-2"><ID>&lol3;</ID><!-- %s --></Invoice>
"""


def test_hostile_xml_is_rejected_with_its_reason_and_the_original_kept(settings: Settings) -> None:
    data = BILLION_LAUGHS.replace(b"%s", uuid.uuid4().hex.encode())
    doc_id = _submit(settings, data, "lol.xml")
    done = process_document(settings, doc_id)
    assert done.status in (Status.REJECTED, Status.FAILED)
    row = _row(settings, doc_id)
    assert row.status_reason and "DTD" in row.status_reason
    assert objects_for(settings).get_original(row.sha256) == data


def test_refused_zip_is_rejected_and_a_good_one_is_no_invoice_itself(settings: Settings) -> None:
    import zipfile

    def archive(members: dict[str, bytes]) -> bytes:
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w") as zf:
            for name, content in members.items():
                zf.writestr(name, content)
        return buf.getvalue()

    seller = Seller.new()
    good = submit(
        settings,
        archive({"a.xml": invoice(seller, "Z-1"), "b.xml": invoice(seller, "Z-2")}),
        filename="two.zip",
        source="submit",
        sender=None,
    )
    results = {d: process_document(settings, d) for d in good.document_ids}
    parent, *members = good.document_ids
    assert results[parent].status == Status.NO_INVOICE and "2 file(s)" in (results[parent].reason or "")
    assert [results[m].status for m in members] == [Status.ACCEPTED, Status.ACCEPTED]
    bad = _submit(settings, archive({"../x.xml": invoice(seller, "Z-3")}), "evil.zip")
    done = process_document(settings, bad)
    assert done.status == Status.REJECTED and "outside the archive" in (done.reason or "")


# -- duplicates -----------------------------------------------------------------------------------


def test_same_invoice_number_from_same_supplier_is_a_duplicate_of_the_first(settings: Settings) -> None:
    seller = Seller.new()
    number = f"R-{uuid.uuid4().hex[:8]}"
    first = _submit(settings, invoice(seller, number))
    second = _submit(settings, invoice(seller, number, note="Kopie"))  # other bytes, same invoice
    assert process_document(settings, first).status == Status.ACCEPTED
    done = process_document(settings, second)
    assert done.status == Status.DUPLICATE and done.duplicate_of == first
    row = _row(settings, second)
    assert row.duplicate_of == first and number in (row.status_reason or "")
    assert _count(settings, "SELECT count(*) FROM invoices WHERE document_id = %s", second) == 0
    # Same number and e-mail address, but another VAT id: another supplier, not a duplicate.
    other = _submit(settings, invoice(Seller.new(), number))
    assert process_document(settings, other).status == Status.ACCEPTED


def test_same_bytes_through_another_channel_is_a_duplicate(settings: Settings) -> None:
    data = invoice(Seller.new(), f"R-{uuid.uuid4().hex[:8]}")
    first = _submit(settings, data)
    again = submit(settings, data, filename="x.xml", source="imap", sender=None, source_key=f"imap:{uuid.uuid4()}")
    assert process_document(settings, first).status == Status.ACCEPTED
    done = process_document(settings, again.document_ids[0])
    assert done.status == Status.DUPLICATE and done.duplicate_of == first


# -- bank accounts --------------------------------------------------------------------------------


def test_an_iban_the_supplier_never_used_raises_a_warning_event(settings: Settings) -> None:
    seller = Seller.new()
    first = _submit(settings, invoice(seller, "B-1", iban="DE02120300000000202051"))
    second = _submit(settings, invoice(seller, "B-2", iban="DE02 1203 0000 0000 2020 51"))  # same account
    third = _submit(settings, invoice(seller, "B-3", iban="DE89370400440532013000"))
    for doc_id in (first, second, third):
        assert process_document(settings, doc_id).status == Status.ACCEPTED
    with connect(settings) as conn:
        found = {d: [e.data for e in events.events_for(conn, d) if e.kind == "finding"] for d in (first, second, third)}
    assert [f["level"] for f in found[first]] == ["information"]  # a new supplier's first account
    assert found[second] == []
    (warning,) = found[third]
    assert warning["rule"] == NEW_IBAN and warning["level"] == "warning"
    assert warning["value"] == "DE89370400440532013000" and warning["known_ibans"] == ["DE02120300000000202051"]


# -- idempotency, failures, retries ----------------------------------------------------------------


def test_processing_twice_keeps_one_invoice_and_one_report(settings: Settings) -> None:
    doc_id = _submit(settings, invoice(Seller.new(), f"R-{uuid.uuid4().hex[:8]}"))
    first = process_document(settings, doc_id)
    second = process_document(settings, doc_id)
    assert first.status == second.status == Status.ACCEPTED
    for table in ("invoices", "validation_reports"):
        assert _count(settings, f"SELECT count(*) FROM {table} WHERE document_id = %s", doc_id) == 1
    finals = "SELECT count(*) FROM events WHERE document_id = %s AND to_status = 'accepted'"
    assert _count(settings, finals, doc_id) == 1


def test_a_failed_document_keeps_its_reason_and_can_be_reprocessed(settings: Settings) -> None:
    data = invoice(Seller.new(), f"R-{uuid.uuid4().hex[:8]}")
    sha = hashlib.sha256(data).hexdigest()
    doc_id = uuid.uuid4()
    with connect(settings) as conn:  # a row whose original never reached the object store
        documents.insert_document(
            conn,
            NewDocument(
                doc_id,
                "test",
                f"test:{doc_id}",
                None,
                sha,
                len(data),
                "application/xml",
                "lost.xml",
                f"originals/{sha}",
            ),
        )
    done = process_document(settings, doc_id)
    assert done.status == Status.FAILED and "NoSuchKey" in (done.reason or "")
    assert _row(settings, doc_id).status_reason == done.reason

    objects_for(settings).put_original(data, sha)  # the cause is fixed
    assert reprocess(settings, doc_id, actor="test").status == Status.ACCEPTED
    with pytest.raises(NotReprocessable, match="is accepted: only failed documents"):
        reprocess(settings, doc_id, actor="test")


def test_an_unreachable_database_is_a_transient_error(settings: Settings, unused_port: int) -> None:
    down = settings.model_copy(update={"database_url": f"postgresql://postgres@127.0.0.1:{unused_port}/none"})
    doc_id = _submit(settings, invoice(Seller.new(), "T-1"))
    with pytest.raises(TransientError):
        process_document(down, doc_id)
    assert _row(settings, doc_id).status == Status.RECEIVED  # untouched, still to do


def test_an_unreachable_object_store_is_a_transient_error(settings: Settings, unused_port: int) -> None:
    down = settings.model_copy(update={"s3_endpoint": f"127.0.0.1:{unused_port}"})
    with pytest.raises(TransientError):
        submit(down, b"<x/>", filename="x.xml", source="submit", sender=None)


@pytest.fixture
def unused_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# -- concurrent and crashing workers --------------------------------------------------------------


def _final_events(settings: Settings, ids: list[UUID]) -> dict[UUID, int]:
    with connect(settings) as conn:
        rows = conn.execute(
            "SELECT document_id, count(*) AS n FROM events WHERE document_id = ANY(%s)"
            " AND to_status IN ('accepted', 'rejected', 'duplicate', 'no-invoice', 'failed') GROUP BY document_id",
            (ids,),
        ).fetchall()
    return {r["document_id"]: r["n"] for r in rows}


def _assert_each_processed_once(settings: Settings, ids: list[UUID]) -> None:
    assert _final_events(settings, ids) == dict.fromkeys(ids, 1)
    for doc_id in ids:
        assert _row(settings, doc_id).status == Status.ACCEPTED
        assert _count(settings, "SELECT count(*) FROM invoices WHERE document_id = %s", doc_id) == 1
        assert _count(settings, "SELECT count(*) FROM validation_reports WHERE document_id = %s", doc_id) == 1


def _process_listed(settings: Settings, ids: list[UUID]) -> None:
    for doc_id in ids:
        process_document(settings, doc_id)
    close_pools()


def test_two_processes_on_the_same_documents_process_each_exactly_once(settings: Settings) -> None:
    process_pending(settings)  # what other tests left in the queue, so the workers see only ours
    seller = Seller.new()
    ids = [_submit(settings, invoice(seller, f"C-{n}", note=uuid.uuid4().hex)) for n in range(6)]
    spawn = multiprocessing.get_context("spawn")
    # One pair races on claims, the other is handed the very same ids (a task delivered twice).
    workers = [spawn.Process(target=process_pending, args=(settings,), kwargs={"limit": 2}) for _ in range(2)]
    workers += [spawn.Process(target=_process_listed, args=(settings, ids)) for _ in range(2)]
    for w in workers:
        w.start()
    for w in workers:
        w.join(timeout=240)
    assert [w.exitcode for w in workers] == [0, 0, 0, 0]
    _assert_each_processed_once(settings, ids)


def _slow_worker(settings: Settings, pause: float) -> None:
    """Claim everything at once, then work through it slowly: a kill lands in the middle of the batch."""
    with connect(settings) as conn:
        batch = claim_batch(conn, 100, worker="doomed")
    for doc_id in batch:
        process_document(settings, doc_id, worker="doomed")
        time.sleep(pause)


def test_a_worker_killed_mid_batch_leaves_nothing_lost_or_doubled(settings: Settings) -> None:
    process_pending(settings)  # what other tests left in the queue, so the doomed worker claims only ours
    seller = Seller.new()
    ids = [_submit(settings, invoice(seller, f"K-{n}", note=uuid.uuid4().hex)) for n in range(5)]
    worker = multiprocessing.get_context("spawn").Process(target=_slow_worker, args=(settings, 2.0))
    worker.start()
    deadline = time.monotonic() + 120
    while not _final_events(settings, ids) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert worker.pid is not None
    os.kill(worker.pid, signal.SIGKILL)
    worker.join()
    finished = _final_events(settings, ids)
    assert 1 <= len(finished) < len(ids), "the kill must land mid-batch"
    stranded = [d for d in ids if _row(settings, d).status == Status.PROCESSING]
    assert stranded and all(_row(settings, d).claimed_by == "doomed" for d in stranded)

    # Restarted: a claim younger than the timeout is left alone, an expired one is taken back.
    assert set(stranded).isdisjoint(r.document_id for r in process_pending(settings, worker="fresh"))
    process_pending(settings, stale_after=timedelta(0), worker="restarted")
    _assert_each_processed_once(settings, ids)
    with connect(settings) as conn:
        reclaimed = [e for d in stranded for e in events.events_for(conn, d) if e.kind == "reclaimed"]
    assert {e.document_id for e in reclaimed} == set(stranded)


@pytest.mark.corpus
def test_hybrid_pdf_from_the_corpus_is_accepted_with_its_xml_extracted(settings: Settings) -> None:
    pdf = CORPUS / "zugferd/csharp-zf24/EN16931_Einfach_fx.pdf"
    if not pdf.is_file():
        pytest.skip("../shared/corpus is not present on this machine")
    data = pdf.read_bytes()
    # A key of its own, so this test does not depend on what else this session took in.
    result = submit(settings, data, filename=pdf.name, source="test", sender=None, source_key=f"test:{uuid.uuid4()}")
    done = process_document(settings, result.document_ids[0])
    if done.status == Status.DUPLICATE:
        return  # another test of this session took the same file in first
    assert done.status == Status.ACCEPTED, done.reason
    sha = hashlib.sha256(data).hexdigest()
    assert objects_for(settings).get(f"xml/{sha}.xml").startswith(b"<?xml")
