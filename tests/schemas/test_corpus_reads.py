"""Every public test invoice reads into the model; hybrid PDFs give the recorded facts."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest
from conftest import CORPUS

from schemas.binding import cii, ubl
from schemas.model import InvoiceLine
from schemas.reader import Outcome, ReadError, read_invoice
from schemas.xml import XmlError, parse_xml

WHOLE_DOCUMENT_FOLDERS = ("kosit-testsuite", "en16931-examples", "kosit-config-tests")
INVOICE_ROOTS = {**ubl.ROOTS, **cii.ROOTS}


def _documents() -> list[Path]:
    if not CORPUS.is_dir():
        return []
    return sorted(
        p
        for folder in WHOLE_DOCUMENT_FOLDERS
        for p in (CORPUS / folder).rglob("*")
        if p.is_file() and p.suffix.lower() == ".xml"
    )


def _is_well_formed_invoice(data: bytes) -> bool:
    try:
        return parse_xml(data).tag in INVOICE_ROOTS
    except XmlError:
        return False


@pytest.mark.parametrize("path", _documents(), ids=lambda p: str(p.relative_to(CORPUS)))
def test_every_well_formed_corpus_invoice_reads(path: Path) -> None:
    data = path.read_bytes()
    if not _is_well_formed_invoice(data):
        with pytest.raises(ReadError):
            read_invoice(data)
        return
    result = read_invoice(data)
    assert result.invoice.number, "every corpus invoice carries BT-1"
    assert result.invoice.lines, "every corpus invoice has at least one BG-25 line"


def _zugferd_pdfs() -> list[tuple[str, dict]]:
    expected = CORPUS / "zugferd" / "expected.json"
    if not expected.is_file():
        return []
    return [(k, v) for k, v in sorted(json.loads(expected.read_text()).items()) if v["kind"] == "pdf"]


def _count(lines: list[InvoiceLine]) -> int:
    return sum(1 + _count(line.sub_lines) for line in lines)


@pytest.mark.parametrize(("name", "entry"), _zugferd_pdfs(), ids=lambda v: v if isinstance(v, str) else "")
def test_hybrid_pdf_gives_the_recorded_facts(name: str, entry: dict) -> None:
    data = (CORPUS / "zugferd" / name).read_bytes()
    facts = entry.get("facts") or {}
    if not entry["pdf"].get("readable", True):
        with pytest.raises(ReadError) as caught:
            read_invoice(data)
        assert caught.value.outcome is Outcome.BROKEN_PDF
        return
    if entry.get("invoice_xml") is None:
        with pytest.raises(ReadError) as caught:
            read_invoice(data)
        assert caught.value.outcome is Outcome.NO_EINVOICE_INSIDE
        return
    if facts.get("syntax") == "zugferd1":
        with pytest.raises(ReadError) as caught:
            read_invoice(data)
        assert caught.value.outcome is Outcome.LEGACY_FORMAT
        return
    if facts.get("syntax") != "cii" or not facts.get("well_formed"):
        with pytest.raises(ReadError):
            read_invoice(data)
        return
    result = read_invoice(data)
    inv = result.invoice
    assert result.document.source.kind == "pdf"
    assert result.document.source.attachment == entry["invoice_xml"]["name"]
    assert result.profile.value == facts["profile"]
    assert inv.number == facts["invoice_number"]
    if facts.get("issue_date"):
        assert inv.issue_date is not None and inv.issue_date.isoformat() == facts["issue_date"]
    assert inv.currency_code == facts["currency"]
    assert inv.totals is not None
    assert inv.totals.total_with_vat == Decimal(facts["grand_total"])
    if facts.get("due_payable") is not None:
        assert inv.totals.amount_due == Decimal(facts["due_payable"])
    assert inv.seller is not None and (inv.seller.name or "").strip() == facts["seller_name"]
    assert _count(inv.lines) == facts["line_count"]
