"""Tests for schemas.pdf: the recorded facts of the shared ZUGFeRD corpus, plus PDFs built here."""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import importlib.util
import io
import json
import logging
import random
import re
from pathlib import Path
from typing import Any

import pytest
from pypdf import PdfWriter
from pypdf.generic import (
    ArrayObject,
    DecodedStreamObject,
    DictionaryObject,
    NameObject,
    NumberObject,
    TextStringObject,
)

from schemas.pdf import (
    EmbeddedFile,
    PdfError,
    PdfExtraction,
    XmpInfo,
    extract_invoice_xml,
    is_pdf,
)

# The corpus lives next to the repository (../shared/corpus), not inside it.
REPO_ROOT = Path(__file__).resolve().parents[2]
CORPUS = REPO_ROOT.parent / "shared" / "corpus" / "zugferd"
EXPECTED = CORPUS / "expected.json"

HAVE_AES = importlib.util.find_spec("cryptography") is not None

CII_NS = "urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100"
FX_NS = "urn:factur-x:pdfa:CrossIndustryDocument:invoice:1p0#"
ZF2_NS = "urn:zugferd:pdfa:CrossIndustryDocument:invoice:2p0#"


# --- corpus -----------------------------------------------------------------------------


def _corpus_params() -> list[Any]:
    if not EXPECTED.is_file():
        return [pytest.param(None, None, id="corpus-absent", marks=pytest.mark.skip(reason=f"no {CORPUS}"))]
    entries = json.loads(EXPECTED.read_text(encoding="utf-8"))
    return [
        pytest.param(key, entry, id=key, marks=pytest.mark.corpus)
        for key, entry in sorted(entries.items())
        if entry.get("kind") == "pdf"
    ]


def _needs_missing_aes(entry: dict[str, Any]) -> bool:
    return bool(entry["pdf"].get("encrypted")) and not HAVE_AES


@pytest.mark.parametrize(("key", "entry"), _corpus_params())
def test_corpus_pdf_matches_recorded_facts(key: str, entry: dict[str, Any]) -> None:
    data = (CORPUS / key).read_bytes()
    facts = entry["pdf"]

    if facts.get("readable") is False:
        with pytest.raises(PdfError) as info:
            extract_invoice_xml(data)
        assert "\n" not in str(info.value)
        return

    if _needs_missing_aes(entry):
        # pypdf decrypts AES only with the optional `cryptography` package; without it the
        # recorded facts cannot be reached, and the error must say what is missing.
        with pytest.raises(PdfError, match="cryptography"):
            extract_invoice_xml(data)
        return

    result = extract_invoice_xml(data)

    want_files = [
        {k: item.get(k) for k in ("name", "af_relationship", "subtype", "size", "where")}
        for item in facts["embedded_files"]
    ]
    got_files = [
        {
            "name": a.name,
            "af_relationship": a.af_relationship,
            "subtype": a.subtype,
            "size": a.size,
            "where": list(a.where),
        }
        for a in result.attachments
    ]
    assert got_files == want_files
    assert all(a.size == len(a.data) for a in result.attachments)

    xmp_fields = (
        "present",
        "fx_namespace",
        "conformance_level",
        "document_file_name",
        "document_type",
        "version",
        "pdfa_part",
        "pdfa_conformance",
    )
    want_xmp = {f: facts["xmp"].get(f) for f in xmp_fields}
    got_xmp = {f: getattr(result.xmp, f) for f in xmp_fields}
    assert got_xmp == want_xmp
    assert (result.xmp.parse_error is not None) == ("parse_error" in facts["xmp"])

    assert result.encrypted == facts["encrypted"]
    assert result.pages == facts["pages"]

    invoice = entry["invoice_xml"]
    if invoice is None:
        assert result.xml is None
        assert (result.attachment, result.found_by, result.af_relationship) == (None, None, None)
        return
    assert result.xml is not None
    got_invoice = {
        "name": result.attachment,
        "found_by": result.found_by,
        "af_relationship": result.af_relationship,
        "sha256": hashlib.sha256(result.xml).hexdigest(),
        "size": len(result.xml),
    }
    want_invoice = {k: invoice[k] for k in got_invoice}
    assert got_invoice == want_invoice


@pytest.mark.corpus
@pytest.mark.skipif(not EXPECTED.is_file(), reason=f"no {CORPUS}")
@pytest.mark.parametrize(
    "key",
    ["mustang/validV2PDF.pdf", "mustang/invalidXMP.pdf", "mustang/corruptedV2PDF.pdf"],
)
def test_corpus_two_invoice_xmls_resolved_by_xmp_leave_a_note(key: str) -> None:
    result = extract_invoice_xml((CORPUS / key).read_bytes())
    assert result.attachment == "factur-x.xml"
    assert result.note is not None
    assert "2 invoice XMLs embedded" in result.note
    assert "XMP DocumentFileName" in result.note


@pytest.mark.corpus
@pytest.mark.skipif(not EXPECTED.is_file(), reason=f"no {CORPUS}")
def test_corpus_broken_xref_reaches_xml_only_through_af() -> None:
    result = extract_invoice_xml((CORPUS / "mustang/corruptedV2PDF.pdf").read_bytes())
    chosen = next(a for a in result.attachments if a.name == result.attachment)
    assert chosen.where == ("AF",)


# --- building PDFs ----------------------------------------------------------------------


def cii(marker: str = "1") -> bytes:
    return (
        f'<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<rsm:CrossIndustryInvoice xmlns:rsm="{CII_NS}"><!-- {marker} --></rsm:CrossIndustryInvoice>\n'
    ).encode()


def ubl() -> bytes:
    return b'<Invoice xmlns="urn:oasis:names:specification:ubl:schema:xsd:Invoice-2"><ID>U-1</ID></Invoice>'


def xmp_elements(file_name: str, level: str = "EN 16931") -> bytes:
    return f"""<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>
<x:xmpmeta xmlns:x="adobe:ns:meta/">
 <rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">
  <rdf:Description rdf:about="" xmlns:pdfaid="http://www.aiim.org/pdfa/ns/id/">
   <pdfaid:part>3</pdfaid:part>
   <pdfaid:conformance>B</pdfaid:conformance>
  </rdf:Description>
  <rdf:Description rdf:about="" xmlns:fx="{FX_NS}">
   <fx:DocumentType>INVOICE</fx:DocumentType>
   <fx:DocumentFileName>{file_name}</fx:DocumentFileName>
   <fx:Version>1.0</fx:Version>
   <fx:ConformanceLevel>{level}</fx:ConformanceLevel>
  </rdf:Description>
 </rdf:RDF>
</x:xmpmeta>
<?xpacket end="w"?>""".encode()


def xmp_attributes(file_name: str) -> bytes:
    return f"""<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>
<x:xmpmeta xmlns:x="adobe:ns:meta/">
 <rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">
  <rdf:Description rdf:about="" xmlns:pdfaid="http://www.aiim.org/pdfa/ns/id/"
     pdfaid:part="3" pdfaid:conformance="U"/>
  <rdf:Description rdf:about="" xmlns:zf="{ZF2_NS}"
     zf:DocumentType="INVOICE" zf:DocumentFileName="{file_name}" zf:Version="1.0"
     zf:ConformanceLevel="BASIC"/>
 </rdf:RDF>
</x:xmpmeta>
<?xpacket end="w"?>""".encode()


def make_pdf(
    attachments: list[tuple[str, bytes, str | None]] = (),  # type: ignore[assignment]
    *,
    xmp: bytes | None = None,
    in_af: bool = True,
    user_password: str | None = None,
    owner_password: str = "owner-secret",
) -> bytes:
    """A one-page PDF with (name, data, AFRelationship) attachments, listed in /AF like Factur-X does."""
    writer = PdfWriter()
    writer.add_blank_page(width=595, height=842)
    af = ArrayObject()
    for name, data, relationship in attachments:
        attachment = writer.add_attachment(name, data)
        attachment.subtype = NameObject("/text/xml")
        if relationship is not None:
            attachment.associated_file_relationship = NameObject(f"/{relationship}")
        af.append(attachment.pdf_object.indirect_reference)
    if in_af and len(af):
        writer.root_object[NameObject("/AF")] = af
    if xmp is not None:
        writer.xmp_metadata = xmp
    if user_password is not None:
        # RC4 because pypdf's built-in fallback handles it; AES needs the optional `cryptography`.
        writer.encrypt(user_password=user_password, owner_password=owner_password, algorithm="RC4-128")
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def make_pdf_with_annotation_attachment(name: str, data: bytes) -> bytes:
    writer = PdfWriter()
    writer.add_blank_page(width=595, height=842)
    stream = DecodedStreamObject()
    stream.set_data(data)
    stream[NameObject("/Type")] = NameObject("/EmbeddedFile")
    stream[NameObject("/Subtype")] = NameObject("/text/xml")
    # Streams must be indirect objects; pypdf has no public call for that short of add_attachment.
    stream_ref = writer._add_object(stream)
    filespec = DictionaryObject(
        {
            NameObject("/Type"): NameObject("/Filespec"),
            NameObject("/F"): TextStringObject(name),
            NameObject("/UF"): TextStringObject(name),
            NameObject("/EF"): DictionaryObject({NameObject("/F"): stream_ref}),
        }
    )
    annotation = DictionaryObject(
        {
            NameObject("/Type"): NameObject("/Annot"),
            NameObject("/Subtype"): NameObject("/FileAttachment"),
            NameObject("/Rect"): ArrayObject([NumberObject(10), NumberObject(10), NumberObject(30), NumberObject(30)]),
            NameObject("/FS"): writer._add_object(filespec),
        }
    )
    writer.add_annotation(0, annotation)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


# --- choosing the invoice XML -----------------------------------------------------------


def test_single_factur_x_attachment_by_standard_name() -> None:
    data = make_pdf([("factur-x.xml", cii(), "Alternative")])
    result = extract_invoice_xml(data)
    assert result.xml == cii()
    assert result.attachment == "factur-x.xml"
    assert result.found_by == "standard name"
    assert result.af_relationship == "Alternative"
    assert result.note is None
    assert result.xmp == XmpInfo(present=False)
    assert (result.encrypted, result.pages) == (False, 1)


def test_two_invoice_xmls_xmp_names_one_and_wins_over_name_priority() -> None:
    data = make_pdf(
        [("factur-x.xml", cii("fx"), "Alternative"), ("zugferd-invoice.xml", cii("zf"), "Alternative")],
        xmp=xmp_elements("zugferd-invoice.xml"),
    )
    result = extract_invoice_xml(data)
    assert result.attachment == "zugferd-invoice.xml"
    assert result.xml == cii("zf")
    assert result.found_by == "XMP DocumentFileName"
    assert result.note == ("2 invoice XMLs embedded; took 'zugferd-invoice.xml' as named by the XMP DocumentFileName")
    assert result.xmp.document_file_name == "zugferd-invoice.xml"
    assert result.xmp.conformance_level == "EN 16931"
    assert result.xmp.fx_namespace == FX_NS
    assert (result.xmp.pdfa_part, result.xmp.pdfa_conformance) == ("3", "B")


def test_two_invoice_xmls_without_xmp_is_ambiguous() -> None:
    data = make_pdf([("invoice-a.xml", cii("a"), "Data"), ("invoice-b.xml", cii("b"), "Data")])
    with pytest.raises(PdfError, match=r"ambiguous: 2 invoice XMLs embedded \(invoice-a.xml, invoice-b.xml\)"):
        extract_invoice_xml(data)


def test_same_standard_name_twice_with_different_content_is_ambiguous() -> None:
    data = make_pdf([("factur-x.xml", cii("1"), "Alternative"), ("FACTUR-X.xml", cii("2"), "Alternative")])
    with pytest.raises(PdfError, match="ambiguous"):
        extract_invoice_xml(data)


def test_byte_identical_copies_are_not_ambiguous() -> None:
    data = make_pdf([("invoice-a.xml", cii(), "Data"), ("invoice-b.xml", cii(), "Data")])
    result = extract_invoice_xml(data)
    assert result.xml == cii()
    assert result.found_by == "non-standard name, invoice root element"


def test_standard_name_priority_without_xmp_prefers_factur_x() -> None:
    # Mirrors Mustang's migration files: a ZUGFeRD 1.0 file next to a Factur-X one, no usable XMP.
    data = make_pdf([("ZUGFeRD-invoice.xml", cii("zf"), "Alternative"), ("factur-x.xml", cii("fx"), "Alternative")])
    result = extract_invoice_xml(data)
    assert result.attachment == "factur-x.xml"
    assert result.found_by == "standard name"
    assert result.note is not None and "2 invoice XMLs embedded" in result.note


def test_standard_name_is_case_insensitive() -> None:
    result = extract_invoice_xml(make_pdf([("ZUGFeRD-invoice.xml", cii(), "Alternative")]))
    assert result.attachment == "ZUGFeRD-invoice.xml"
    assert result.found_by == "standard name"


def test_non_standard_name_with_cii_root() -> None:
    data = make_pdf([("rechnung_4711.xml", cii(), "Data"), ("notes.xml", b"<notes/>", "Supplement")])
    result = extract_invoice_xml(data)
    assert result.attachment == "rechnung_4711.xml"
    assert result.found_by == "non-standard name, invoice root element"
    assert result.af_relationship == "Data"


def test_non_standard_name_with_ubl_root() -> None:
    result = extract_invoice_xml(make_pdf([("invoice.xml", ubl(), "Alternative")]))
    assert result.xml == ubl()
    assert result.found_by == "non-standard name, invoice root element"


def test_xmp_names_missing_file_falls_back_and_says_so() -> None:
    data = make_pdf([("factur-x.xml", cii(), "Alternative")], xmp=xmp_elements("gone.xml"))
    result = extract_invoice_xml(data)
    assert result.attachment == "factur-x.xml"
    assert result.found_by == "standard name"
    assert result.note is not None and "gone.xml" in result.note


def test_xmp_properties_as_attributes() -> None:
    data = make_pdf([("zugferd-invoice.xml", cii(), "Alternative")], xmp=xmp_attributes("zugferd-invoice.xml"))
    result = extract_invoice_xml(data)
    assert result.found_by == "XMP DocumentFileName"
    assert result.xmp == XmpInfo(
        present=True,
        fx_namespace=ZF2_NS,
        conformance_level="BASIC",
        document_file_name="zugferd-invoice.xml",
        document_type="INVOICE",
        version="1.0",
        pdfa_part="3",
        pdfa_conformance="U",
    )


def test_broken_xmp_is_not_fatal() -> None:
    data = make_pdf([("factur-x.xml", cii(), "Alternative")], xmp=b"<x:xmpmeta><broken & </x:xmpmeta>")
    result = extract_invoice_xml(data)
    assert result.xmp.present is True
    assert result.xmp.parse_error
    assert result.xmp.document_file_name is None
    assert result.found_by == "standard name"


# --- no invoice inside ------------------------------------------------------------------


def test_no_attachment_gives_no_xml() -> None:
    result = extract_invoice_xml(make_pdf())
    assert result.xml is None
    assert result.attachment is None
    assert result.found_by is None
    assert result.attachments == ()


def test_only_non_invoice_attachments_gives_no_xml() -> None:
    data = make_pdf([("data.xml", b"<?xml version='1.0'?><data/>", "Supplement"), ("photo.png", b"\x89PNG", None)])
    result = extract_invoice_xml(data)
    assert result.xml is None
    assert [a.name for a in result.attachments] == ["data.xml", "photo.png"]


# --- where embedded files are found ----------------------------------------------------


def test_filespec_in_name_tree_and_af_appears_once() -> None:
    result = extract_invoice_xml(make_pdf([("factur-x.xml", cii(), "Alternative")]))
    assert result.attachments == (
        EmbeddedFile(
            name="factur-x.xml",
            af_relationship="Alternative",
            subtype="text/xml",
            size=len(cii()),
            where=("EmbeddedFiles", "AF"),
            data=cii(),
        ),
    )


def test_attachment_without_af_relationship() -> None:
    result = extract_invoice_xml(make_pdf([("factur-x.xml", cii(), None)], in_af=False))
    assert result.af_relationship is None
    assert result.attachments[0].where == ("EmbeddedFiles",)


def test_file_attachment_annotation_is_found() -> None:
    result = extract_invoice_xml(make_pdf_with_annotation_attachment("factur-x.xml", cii()))
    assert result.xml == cii()
    assert result.attachments[0].where == ("annotation(page 1)",)


# --- encryption -------------------------------------------------------------------------


def test_encrypted_with_empty_user_password_is_read() -> None:
    data = make_pdf([("factur-x.xml", cii(), "Alternative")], user_password="")
    result = extract_invoice_xml(data)
    assert result.encrypted is True
    assert result.xml == cii()


def test_encrypted_with_real_password_is_refused() -> None:
    data = make_pdf([("factur-x.xml", cii(), "Alternative")], user_password="s3cret")
    with pytest.raises(PdfError, match=r"^encrypted PDF that does not open without a password$"):
        extract_invoice_xml(data)


# --- hostile and broken input -----------------------------------------------------------


def test_truncated_pdf_fails_cleanly_or_reads() -> None:
    whole = make_pdf([("factur-x.xml", cii(), "Alternative")])
    try:
        result = extract_invoice_xml(whole[: len(whole) // 2])
    except PdfError as exc:
        assert "\n" not in str(exc)
    else:
        assert isinstance(result, PdfExtraction)


@pytest.mark.parametrize("cut", [10, 100, 300, 600, 900])
def test_pdf_cut_anywhere_never_raises_anything_but_pdf_error(cut: int) -> None:
    whole = make_pdf([("factur-x.xml", cii(), "Alternative")], xmp=xmp_elements("factur-x.xml"))
    with contextlib.suppress(PdfError):
        extract_invoice_xml(whole[: min(cut, len(whole) - 1)])


def test_random_bytes_are_refused() -> None:
    noise = random.Random(20240601).randbytes(4096)
    with pytest.raises(PdfError, match="not a PDF"):
        extract_invoice_xml(noise)


def test_random_bytes_behind_a_pdf_header_are_refused() -> None:
    noise = b"%PDF-1.7\n" + random.Random(7).randbytes(4096)
    with pytest.raises(PdfError):
        extract_invoice_xml(noise)


def test_empty_input_is_refused() -> None:
    with pytest.raises(PdfError):
        extract_invoice_xml(b"")


def test_broken_startxref_is_recovered_quietly(caplog: pytest.LogCaptureFixture) -> None:
    whole = make_pdf([("factur-x.xml", cii(), "Alternative")])
    broken = re.sub(rb"startxref\s+\d+", b"startxref\n12", whole)
    assert broken != whole
    caplog.set_level(logging.DEBUG)
    result = extract_invoice_xml(broken)
    assert result.xml == cii()
    assert not [r for r in caplog.records if r.name.startswith("pypdf")]


def test_embedded_file_larger_than_max_bytes_is_refused() -> None:
    data = make_pdf([("factur-x.xml", cii() + b" " * 5000, "Alternative")])
    with pytest.raises(PdfError, match="too large"):
        extract_invoice_xml(data, max_bytes=1000)


def test_result_is_frozen() -> None:
    result = extract_invoice_xml(make_pdf([("factur-x.xml", cii(), "Alternative")]))
    with pytest.raises(dataclasses.FrozenInstanceError):
        result.xml = b""  # type: ignore[misc]


# --- is_pdf -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b"%PDF-1.7\n", True),
        (b"\x00" * 1000 + b"%PDF-1.4", True),
        (b"\x00" * 1024 + b"%PDF-1.4", False),
        (b"<?xml version='1.0'?><x/>", False),
        (b"", False),
    ],
)
def test_is_pdf(data: bytes, expected: bool) -> None:
    assert is_pdf(data) is expected
