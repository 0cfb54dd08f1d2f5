"""The sample invoices Eingang writes for a first run are what they claim to be."""

from __future__ import annotations

import io
import zipfile

import pytest
from conftest import SCHEMAS

from pipeline.samples import build_samples
from schemas.reader import Outcome, ReadError, read_invoice
from validators import Artefacts, Checker, Options


@pytest.fixture(scope="module")
def checker() -> Checker:
    if not SCHEMAS.is_dir():
        pytest.skip("../shared/schemas is not present on this machine")
    with Checker(artefacts=Artefacts(schemas=SCHEMAS), options=Options()) as checker:
        yield checker


def test_valid_samples_are_accepted_and_the_faulty_one_names_its_rule(checker: Checker) -> None:
    for sample in build_samples(4):
        if sample.name.endswith(".zip"):
            with zipfile.ZipFile(io.BytesIO(sample.data)) as archive:
                members = [archive.read(name) for name in archive.namelist()]
            assert len(members) == 2
            assert all(checker.check(m, sample.name).accepted for m in members)
            continue
        report = checker.check(sample.data, sample.name)
        if sample.what.startswith("accepted") or sample.what.startswith("duplicate"):
            assert report.accepted, (sample.name, [f.rule for f in report.errors])
        elif sample.what.startswith("rejected"):
            assert not report.accepted
            assert "BR-CO-15" in {f.rule for f in report.errors}
        else:
            assert not report.accepted


def test_the_hybrid_pdf_carries_its_xml_as_factur_x() -> None:
    sample = next(s for s in build_samples(1) if s.name.endswith("facturx.pdf"))
    result = read_invoice(sample.data)
    assert result.document.source.attachment == "factur-x.xml"
    assert result.document.source.af_relationship == "Alternative"
    assert result.document.source.conformance_level == "XRECHNUNG"
    assert result.invoice.number == "RE-2026-2001"


def test_the_letter_is_no_e_invoice_and_the_duplicate_repeats_an_invoice() -> None:
    samples = {s.name: s for s in build_samples(2)}
    with pytest.raises(ReadError) as caught:
        read_invoice(samples["anschreiben.pdf"].data)
    assert caught.value.outcome is Outcome.NO_EINVOICE_INSIDE
    first = read_invoice(samples["RE-2026-1000.xml"].data).invoice
    again = read_invoice(samples["Wiederholung-RE-2026-1000.xml"].data).invoice
    assert first == again
    assert samples["RE-2026-1000.xml"].data != samples["Wiederholung-RE-2026-1000.xml"].data


def test_samples_are_the_same_on_every_run() -> None:
    assert [s.data for s in build_samples(3)] == [s.data for s in build_samples(3)]
