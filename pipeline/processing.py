"""Processing: take a received document to its verdict, exactly once.

``claim_batch`` hands out received documents (and processing ones whose claim went stale, because
the worker holding them died) with ``FOR UPDATE SKIP LOCKED``, so concurrent workers never claim
the same row. ``process_document`` then:

1. loads the original and checks it against its SHA-256;
2. reads it (``read_invoice``) and validates it (the validator chain with the installed rule pack);
3. writes the derived objects (extracted XML, rendered HTML, report JSON), which are keyed by the
   document and safe to overwrite;
4. in ONE transaction, under the document's row lock: checks for duplicates, saves the report,
   findings, invoice, lines, VAT breakdown, supplier and bank accounts, and advances the status.

Step 4 only happens while the document is still ``processing``; a second worker finishing the same
document finds it finished and writes nothing. A crash before step 4 leaves the document
``processing`` with a claim that ``claim_batch`` takes back after ``stale_after``.
"""

from __future__ import annotations

import json
import logging
import os
import socket
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from functools import cache
from pathlib import Path
from typing import Any
from uuid import UUID

from pipeline.intake import ZIP_MEDIA_TYPE, ZipRefused, unpack_zip
from pipeline.lifecycle import FINAL, PROCESSED, DocumentNotFound, Status, advance, record
from pipeline.render import render_invoice
from pipeline.settings import Settings
from pipeline.store import (
    Connection,
    ObjectStore,
    TransientError,
    connect,
    documents,
    invoices,
    objects_for,
    suppliers,
    transient_guard,
    xact_lock,
)
from pipeline.store.documents import DocumentRow
from pipeline.store.invoices import InvoiceRecord
from pipeline.store.suppliers import SupplierIdentity
from schemas.model import Invoice
from schemas.reader import Outcome, ReadError, ReadResult, read_invoice
from validators.check import Artefacts, Checker, Options
from validators.official import facturx_artefacts
from validators.report import Report
from validators.rulepack import verify

__all__ = [
    "DEFAULT_CLAIM_TIMEOUT",
    "MAX_ATTEMPTS",
    "NEW_IBAN",
    "NotReprocessable",
    "Processed",
    "TransientError",
    "claim_batch",
    "process_document",
    "process_pending",
    "reprocess",
    "worker_name",
]

log = logging.getLogger(__name__)

DEFAULT_CLAIM_TIMEOUT = timedelta(minutes=15)  # far above the time one document takes
MAX_ATTEMPTS = 5  # a document whose worker died this often is failed instead of taking down more workers
FINISH_LOCK = 0x46494E49  # "FINI": serialises duplicate checks and supplier creation across workers
NEW_IBAN = "EINGANG-NEW-IBAN"

# Read outcomes that mean "this file is not an e-invoice", as opposed to "a broken e-invoice".
_NO_INVOICE = frozenset({Outcome.NO_EINVOICE_INSIDE, Outcome.NOT_AN_INVOICE, Outcome.LEGACY_FORMAT})


@dataclass(frozen=True)
class Processed:
    document_id: UUID
    status: Status
    reason: str | None
    duplicate_of: UUID | None = None


class NotReprocessable(ValueError):
    pass


def worker_name() -> str:
    return f"worker:{socket.gethostname()}:{os.getpid()}"


# -- claiming ----------------------------------------------------------------------------------


def claim_batch(
    conn: Connection, limit: int, *, stale_after: timedelta = DEFAULT_CLAIM_TIMEOUT, worker: str | None = None
) -> list[UUID]:
    """Claim up to ``limit`` documents for this worker and move them to processing; return their ids."""
    actor = worker or worker_name()
    claimed: list[UUID] = []
    with conn.transaction():
        for row in documents.claimable(conn, limit, stale_after):
            if row.status == Status.RECEIVED:
                advance(conn, row.id, Status.PROCESSING, actor, "claimed for processing")
            elif row.attempts >= MAX_ATTEMPTS:
                advance(
                    conn,
                    row.id,
                    Status.FAILED,
                    actor,
                    f"gave up after {row.attempts} attempts: the worker stopped each time before finishing",
                )
                continue
            else:
                record(
                    conn,
                    row.id,
                    "reclaimed",
                    actor,
                    f"claim by {row.claimed_by} since {row.claimed_at} expired",
                    {"previous_worker": row.claimed_by, "attempts": row.attempts},
                )
            documents.mark_claimed(conn, row.id, actor)
            claimed.append(row.id)
    return claimed


# -- the work ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Examination:
    """Everything learned from the bytes, before anything is written to the database."""

    report: Report | None = None
    read: ReadResult | None = None
    read_error: ReadError | None = None
    zip_refused: str | None = None


@cache
def _checker(rules_dir: Path, require_xsd: bool) -> Checker:
    # Compiling schemas and loading rule sets is expensive: one checker per process and rule pack.
    problems = verify(rules_dir)
    pack = None if problems else rules_dir
    missing = None
    if pack is None:
        missing = f"rule pack at {rules_dir}: {problems[0]}; install it with `eingang rules install SOURCE`"
    artefacts = Artefacts(schemas=pack, rule_pack=pack, facturx=facturx_artefacts(), schemas_missing=missing)
    return Checker(artefacts=artefacts, options=Options(require_xsd=require_xsd))


def _examine(settings: Settings, doc: DocumentRow, data: bytes) -> _Examination:
    if doc.media_type == ZIP_MEDIA_TYPE:
        try:
            unpack_zip(data, max_members=settings.max_zip_members, max_total_bytes=settings.max_unzipped_bytes)
        except ZipRefused as exc:
            return _Examination(zip_refused=str(exc))
        return _Examination()
    report = _checker(settings.resolved_rules_dir, settings.require_xsd).check(data, doc.filename or str(doc.id))
    try:
        return _Examination(report=report, read=read_invoice(data))
    except ReadError as exc:
        return _Examination(report=report, read_error=exc)


@dataclass(frozen=True)
class _Keys:
    xml: str | None = None
    html: str | None = None
    report: str | None = None


def _store_derived(store: ObjectStore, doc: DocumentRow, exam: _Examination) -> _Keys:
    xml_key = html_key = report_key = None
    if exam.read is not None:
        if exam.read.document.source.kind == "pdf":
            xml_key = store.put(f"xml/{doc.sha256}.xml", exam.read.document.xml, "application/xml")
        html = render_invoice(exam.read, lang="de")
        html_key = store.put(f"html/{doc.id}.html", html.encode("utf-8"), "text/html; charset=utf-8")
    if exam.report is not None:
        body = {"document_id": str(doc.id), **exam.report.model_dump(mode="json")}
        report_key = store.put(
            f"reports/{doc.id}.json", json.dumps(body, ensure_ascii=False, indent=1).encode("utf-8"), "application/json"
        )
    return _Keys(xml_key, html_key, report_key)


def _verdict(exam: _Examination, children: int) -> tuple[Status, str]:
    if exam.zip_refused is not None:
        return Status.REJECTED, exam.zip_refused
    if exam.report is None:
        return Status.NO_INVOICE, f"ZIP archive with {children} file(s), each taken in as a document of its own"
    if exam.read_error is not None:
        status = Status.NO_INVOICE if exam.read_error.outcome in _NO_INVOICE else Status.REJECTED
        return status, f"{exam.read_error.outcome}: {exam.read_error.reason}"
    if exam.read is not None and exam.report.accepted:
        return Status.ACCEPTED, f"accepted ({exam.report.scenario})"
    errors = exam.report.errors
    if errors:
        rules = ", ".join(dict.fromkeys(f.rule for f in errors))
        return Status.REJECTED, f"{len(errors)} error(s): {rules}"[:500]
    return Status.REJECTED, "; ".join(exam.report.notes) or "rejected"


def _identity(invoice: Invoice) -> SupplierIdentity | None:
    seller = invoice.seller
    if seller is None:
        return None
    address = seller.electronic_address
    who = SupplierIdentity.of(
        seller.name,
        seller.vat_identifier,
        seller.tax_registration_identifier,
        f"{address.scheme}:{address.id}" if address and address.scheme else address.id if address else None,
    )
    return who if who.has_identifier or who.name_key else None


def _ibans(invoice: Invoice) -> list[str]:
    pay = invoice.payment_instructions
    found = [t.account_identifier for t in pay.credit_transfers if t.account_identifier] if pay else []
    return list(dict.fromkeys(suppliers.normalize_iban(i) for i in found))


def _start(conn: Connection, doc_id: UUID, actor: str) -> DocumentRow:
    """Lock the document and make sure it is processing; a finished one comes back unchanged."""
    with conn.transaction():
        row = documents.lock_document(conn, doc_id)
        if row is None:
            raise DocumentNotFound(f"no document {doc_id}")
        if row.status == Status.RECEIVED:
            advance(conn, doc_id, Status.PROCESSING, actor, "claimed for processing")
            documents.mark_claimed(conn, doc_id, actor)
            row = documents.get_document(conn, doc_id)
            assert row is not None
        return row


def _processed(row: DocumentRow) -> Processed:
    return Processed(row.id, Status(row.status), row.status_reason, row.duplicate_of)


def _duplicate_of(conn: Connection, doc: DocumentRow, exam: _Examination | None) -> tuple[UUID, str] | None:
    """The first document this one repeats, and how: the same bytes, or the same supplier's invoice."""
    first = documents.first_processed_with_sha256(conn, doc.sha256, doc.id, PROCESSED)
    if first is not None:
        return first, f"the same file is already in as document {first}"
    if exam is None or exam.read is None:
        return None
    invoice = exam.read.invoice
    who = _identity(invoice)
    known = suppliers.find_supplier(conn, who) if who else None
    if known is None or not invoice.number:
        return None
    first = invoices.business_duplicate(conn, known, invoice.number, invoice.issue_date, doc.id)
    if first is None:
        return None
    when = invoice.issue_date.isoformat() if invoice.issue_date else "no date"
    return first, f"invoice {invoice.number} of {when} from this supplier is already in as document {first}"


def _save(conn: Connection, doc: DocumentRow, exam: _Examination, keys: _Keys, actor: str) -> UUID | None:
    """Report, findings, invoice, supplier and bank accounts; returns the report's id."""
    report_id = invoices.save_report(conn, doc.id, exam.report, keys.report) if exam.report is not None else None
    if exam.read is None:
        return report_id
    invoice = exam.read.invoice
    who = _identity(invoice)
    supplier_id, supplier_created = suppliers.match_or_create(conn, who) if who else (None, False)
    invoices.save_invoice(
        conn,
        InvoiceRecord(
            document_id=doc.id,
            supplier_id=supplier_id,
            invoice=invoice,
            profile=str(exam.read.profile),
            syntax=exam.read.document.syntax,
            source_kind=exam.read.document.source.kind,
            xml_object_key=keys.xml,
            html_object_key=keys.html,
        ),
    )
    if supplier_id is not None:
        _check_bank_accounts(conn, doc.id, supplier_id, _ibans(invoice), supplier_created, actor)
    return report_id


def _finish(conn: Connection, doc: DocumentRow, exam: _Examination | None, keys: _Keys, actor: str) -> Processed:
    with conn.transaction():
        row = documents.lock_document(conn, doc.id)
        assert row is not None  # documents are never deleted
        if row.status != Status.PROCESSING:
            # Another worker finished it while we worked (our claim had been taken back): keep theirs.
            return _processed(row)
        # Duplicate checks and supplier creation read, then write: one worker at a time.
        xact_lock(conn, FINISH_LOCK)
        duplicate = _duplicate_of(conn, doc, exam)
        if duplicate is not None:
            first, reason = duplicate
            advance(conn, doc.id, Status.DUPLICATE, actor, reason, duplicate_of=first)
            return Processed(doc.id, Status.DUPLICATE, reason, first)
        if exam is None:
            raise RuntimeError("document looked like a duplicate but its first copy is gone")
        report_id = _save(conn, doc, exam, keys, actor)
        status, reason = _verdict(exam, len(documents.children(conn, doc.id)))
        data: dict[str, Any] = {}
        if exam.report is not None:
            data = {
                "report_id": report_id,
                "accepted": exam.report.accepted,
                "scenario": exam.report.scenario,
                "errors": len(exam.report.errors),
            }
        advance(conn, doc.id, status, actor, reason, data)
        return Processed(doc.id, status, reason)


def _check_bank_accounts(
    conn: Connection, doc_id: UUID, supplier_id: UUID, ibans: list[str], supplier_created: bool, actor: str
) -> None:
    """A supplier's bank account that was never seen before is the classic invoice fraud: say so."""
    before = suppliers.known_ibans(conn, supplier_id)
    for iban in ibans:
        if not suppliers.record_iban(conn, supplier_id, iban, doc_id):
            continue
        # A supplier's very first account is information; a new one next to known ones is a warning.
        level = "information" if supplier_created or not before else "warning"
        record(
            conn,
            doc_id,
            "finding",
            actor,
            f"bank account {iban} not used by this supplier before",
            _iban_finding(iban, level, supplier_id, before),
        )


def _iban_finding(iban: str, level: str, supplier_id: UUID, before: list[str]) -> Mapping[str, Any]:
    return {
        "rule": NEW_IBAN,
        "level": level,
        "terms": ["BT-84"],
        "value": iban,
        "supplier_id": str(supplier_id),
        "known_ibans": before,
        "message": {
            "en": f"the invoice names bank account {iban}, which this supplier never used before; confirm it"
            " with the supplier through a known channel before paying",
            "de": f"Die Rechnung nennt das Konto {iban}, das dieser Lieferant bisher nie verwendet hat; vor der"
            " Zahlung über einen bekannten Kanal beim Lieferanten bestätigen",
        },
    }


def _process(settings: Settings, doc_id: UUID, actor: str) -> Processed:
    with connect(settings) as conn:
        doc = _start(conn, doc_id, actor)
        if doc.status != Status.PROCESSING:
            return _processed(doc)
        # The same bytes already judged: no need to read, validate and render them again.
        if documents.first_processed_with_sha256(conn, doc.sha256, doc.id, PROCESSED) is not None:
            return _finish(conn, doc, None, _Keys(), actor)
    store = objects_for(settings)
    data = store.get_original(doc.sha256)
    exam = _examine(settings, doc, data)
    keys = _store_derived(store, doc, exam)
    with connect(settings) as conn:
        return _finish(conn, doc, exam, keys, actor)


def _fail(settings: Settings, doc_id: UUID, actor: str, reason: str) -> Processed:
    with connect(settings) as conn, conn.transaction():
        row = documents.lock_document(conn, doc_id)
        if row is None:
            raise DocumentNotFound(f"no document {doc_id}")
        if row.status != Status.PROCESSING:
            return _processed(row)
        advance(conn, doc_id, Status.FAILED, actor, reason[:1000])
        return Processed(doc_id, Status.FAILED, reason)


def process_document(settings: Settings, doc_id: UUID, *, worker: str | None = None) -> Processed:
    """Take one document to its verdict; a finished document is returned as it is, untouched.

    Raises ``TransientError`` when the database or object store is unreachable (the document
    stays processing; call again later). Any other exception fails the document with its reason.
    """
    actor = worker or worker_name()
    try:
        with transient_guard(f"processing {doc_id}"):
            return _process(settings, doc_id, actor)
    except (TransientError, DocumentNotFound):
        raise
    except Exception as exc:
        # Unexpected: a bug, or a file that breaks a library. The document fails with the reason
        # kept, and `eingang reprocess` can retry it once the cause is fixed.
        log.exception("processing %s failed", doc_id)
        with transient_guard(f"recording the failure of {doc_id}"):
            return _fail(settings, doc_id, actor, f"{type(exc).__name__}: {exc}")


def process_pending(
    settings: Settings,
    *,
    limit: int | None = None,
    stale_after: timedelta = DEFAULT_CLAIM_TIMEOUT,
    worker: str | None = None,
) -> list[Processed]:
    """Claim and process batches until nothing is left to claim (a worker's loop)."""
    actor = worker or worker_name()
    done: list[Processed] = []
    while True:
        with transient_guard("claiming"), connect(settings) as conn:
            batch = claim_batch(conn, limit or settings.batch_size, stale_after=stale_after, worker=actor)
        if not batch:
            return done
        for doc_id in batch:
            done.append(process_document(settings, doc_id, worker=actor))


def reprocess(settings: Settings, doc_id: UUID, *, actor: str) -> Processed:
    """Send a failed document through processing again; any other status is refused."""
    with transient_guard("reprocess"), connect(settings) as conn, conn.transaction():
        row = documents.lock_document(conn, doc_id)
        if row is None:
            raise DocumentNotFound(f"no document {doc_id}")
        if row.status != Status.FAILED:
            raise NotReprocessable(
                f"document {doc_id} is {row.status}: only failed documents can be reprocessed"
                + ("" if row.status in FINAL else " (it is still on its way)")
            )
        advance(conn, doc_id, Status.PROCESSING, actor, "reprocess requested")
        documents.mark_claimed(conn, doc_id, actor)
    return process_document(settings, doc_id, worker=actor)
