"""``eingang inspect`` as a user runs it: summaries, JSON, term views, extraction, exit codes."""

from __future__ import annotations

import json
from pathlib import Path

STANDARD = "kosit-testsuite/business-cases/standard"


def test_text_summary_shows_what_ap_staff_look_for(cli, corpus: Path) -> None:
    done = cli("inspect", corpus / STANDARD / "01.01a-INVOICE_ubl.xml")
    assert done.returncode == 0, done.stderr
    out = done.stdout
    for expected in ("123456XX", "2016-04-04", "04011000-12345-03", "336.9", "22.04", "Zahlbar sofort", "lines:"):
        assert expected in out


def test_terms_view_is_keyed_by_business_term(cli, corpus: Path) -> None:
    done = cli(
        "inspect",
        "--format",
        "terms",
        corpus / STANDARD / "01.01a-INVOICE_ubl.xml",
        corpus / STANDARD / "01.01a-INVOICE_uncefact.xml",
    )
    assert done.returncode == 0, done.stderr
    ubl, cii = (json.loads(line) for line in done.stdout.splitlines())
    assert ubl["BT-1"] == "123456XX" and ubl["BT-2"] == "2016-04-04" and ubl["BT-5"] == "EUR"
    assert ubl["BG-22"]["BT-112"] == "336.90" or ubl["BG-22"]["BT-112"] == "336.9"
    assert ubl["BG-4"]["BT-27"]
    assert [line["BT-126"] for line in ubl["BG-25"]] == [line["BT-126"] for line in cii["BG-25"]]
    assert ubl["source"] == {"kind": "xml"}
    assert {k: v for k, v in ubl.items() if k != "file"} == {k: v for k, v in cii.items() if k != "file"}


def test_json_is_the_whole_model(cli, corpus: Path) -> None:
    done = cli("inspect", "--format", "json", corpus / STANDARD / "01.01a-INVOICE_ubl.xml")
    record = json.loads(done.stdout)
    assert record["invoice"]["number"] == "123456XX"
    assert record["invoice"]["totals"]["total_with_vat"] in ("336.9", "336.90")
    assert record["profile"] == "XRECHNUNG"


def test_pdf_reports_its_attachment_and_extracts_the_xml(cli, corpus: Path, tmp_path: Path) -> None:
    pdf = corpus / "zugferd/csharp-zf24/EN16931_Einfach_fx.pdf"
    done = cli("inspect", "--format", "terms", "--extract-attachments", tmp_path, pdf)
    assert done.returncode == 0, done.stderr
    record = json.loads(done.stdout)
    assert record["source"]["kind"] == "pdf"
    assert record["source"]["attachment"] == "factur-x.xml"
    assert record["source"]["af_relationship"] == "Alternative"
    assert record["source"]["conformance_level"] == "EN 16931"
    assert record["BT-1"] == "471102"
    assert (tmp_path / "factur-x.xml").read_bytes().startswith(b"<?xml")


def test_bg24_attachments_are_written_decoded(cli, corpus: Path, tmp_path: Path) -> None:
    with_attachment = next(
        p
        for p in sorted((corpus / "kosit-testsuite").rglob("*_ubl.xml"))
        if b"EmbeddedDocumentBinaryObject" in p.read_bytes()
    )
    done = cli("inspect", "--extract-attachments", tmp_path, with_attachment)
    assert done.returncode == 0, done.stderr
    written = [p for p in tmp_path.iterdir() if p.is_file()]
    assert written and all(p.stat().st_size > 0 for p in written)


def test_unreadable_files_give_one_line_and_exit_1(cli, tmp_path: Path) -> None:
    bad = tmp_path / "bad.xml"
    bad.write_bytes(b"<Invoice><broken>")
    plain_pdf = tmp_path / "letter.pdf"
    from pypdf import PdfWriter

    writer = PdfWriter()
    writer.add_blank_page(width=200, height=200)
    with plain_pdf.open("wb") as fh:
        writer.write(fh)
    done = cli("inspect", bad, plain_pdf)
    assert done.returncode == 1
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 2
    assert str(bad) in lines[0] and "not well-formed" in lines[0]
    assert str(plain_pdf) in lines[1] and "no e-invoice inside" in lines[1]
    assert "Traceback" not in done.stderr


def test_usage_errors_exit_2_without_traceback(cli, tmp_path: Path) -> None:
    assert cli("inspect").returncode == 2
    assert cli("inspect", "--format", "yaml", "x.xml").returncode == 2
    missing = cli("inspect", tmp_path / "nope.xml")
    assert missing.returncode == 2 and "Traceback" not in missing.stderr and "cannot read" in missing.stderr
