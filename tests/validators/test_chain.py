"""The validation chain as a user meets it: `eingang validate` verdicts, findings, reports and exit codes.

Rule sets are replaced by small stand-ins where a test needs a rule to fire (or to crash), so these
tests check the chain (gating, levels, verdict, output), not the rule modules being written.
"""

from __future__ import annotations

import io
import json
import sys
import time
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pypdf
import pytest
from lxml import etree

from pipeline import cli
from schemas.reader import Outcome, ReadError, read_invoice
from schemas.terms import term_name
from validators.check import ORDER_X_ROOT, Artefacts, Checker, Options, check, open_for_check
from validators.report import report_record
from validators.rulepack import MANIFEST_PATH, RulePackError, install, verify
from validators.rules import RULE_SETS, Flag, RuleSet
from validators.rules.sets import EN16931_CII, EN16931_UBL

REPO = Path(__file__).resolve().parents[2]
SCHEMAS = REPO.parent / "shared" / "schemas"
CIUS = "urn:cen.eu:en16931:2017#compliant#urn:xeinkauf.de:kosit:xrechnung_3.0"
VALID_CIUS = "kosit-testsuite/business-cases/standard/01.01a-INVOICE_ubl.xml"  # accepted by the reference
SCHEMA_INVALID = "kosit-config-tests/instances/ubl005.xml"  # DueDate misplaced: XSD-invalid
NS_CII = {"ram": "urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:100"}


@pytest.fixture(scope="module")
def schemas() -> Path:
    if not SCHEMAS.is_dir():
        pytest.skip("../shared/schemas is not present on this machine")
    return SCHEMAS


def stand_in(
    key: str, *rules: tuple[str, str, Callable[[etree._Element], Any]], terms: tuple[str, ...] = ()
) -> RuleSet:
    """A rule set named like a real one whose rules look at the document root only."""
    name, version = key.split("@")
    namespaces = EN16931_CII.namespaces if "cii" in name else EN16931_UBL.namespaces
    rule_set = RuleSet(name, version, namespaces)
    context = rule_set.pattern("stand-in").context(
        "/ubl:Invoice | /cn:CreditNote" if "ubl" in name else "/rsm:CrossIndustryInvoice"
    )
    for rule_id, flag, test in rules:
        context.check(rule_id, Flag(flag), terms=terms, en=f"{rule_id} fired", de=f"{rule_id} hat angeschlagen")(test)
    return rule_set


def empty_sets(replace: dict[str, RuleSet] | None = None) -> dict[str, RuleSet]:
    """Every registered key mapped to an empty stand-in, except those given."""
    return {key: stand_in(key) for key in RULE_SETS} | (replace or {})


def always(rule_id: str, flag: str = "fatal") -> tuple[str, str, Callable[[etree._Element], Any]]:
    return (rule_id, flag, lambda node: False)


@pytest.fixture
def quiet_rules(monkeypatch: pytest.MonkeyPatch) -> dict[str, RuleSet]:
    """Replace every registered rule set by an empty one, so only the chain decides the verdict."""
    for key in list(RULE_SETS):
        monkeypatch.setitem(RULE_SETS, key, stand_in(key))
    return RULE_SETS


def run_cli(capsys: pytest.CaptureFixture[str], *args: str | Path) -> tuple[int, str, str]:
    code = cli.main([str(a) for a in args])
    out, err = capsys.readouterr()
    return code, out, err


def records(out: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in out.splitlines() if line.strip()]


def ubl_with(spec_id: str, body: str = "") -> bytes:
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<Invoice xmlns="urn:oasis:names:specification:ubl:schema:xsd:Invoice-2" '
        'xmlns:cbc="urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2">'
        f"<cbc:CustomizationID>{spec_id}</cbc:CustomizationID>{body}</Invoice>"
    ).encode()


# -- gating ------------------------------------------------------------------------------------


def test_schema_invalid_file_is_rejected_with_xsd_findings_and_no_rule_findings(corpus: Path, schemas: Path) -> None:
    sets = empty_sets({"en16931-ubl@1.3.15": stand_in("en16931-ubl@1.3.15", always("ALWAYS-01"))})
    with Checker(artefacts=Artefacts(schemas=schemas), rule_sets=sets) as checker:
        invalid = checker.check((corpus / SCHEMA_INVALID).read_bytes(), SCHEMA_INVALID)
        valid = checker.check((corpus / VALID_CIUS).read_bytes(), VALID_CIUS)
    assert invalid.accepted is False
    assert invalid.xsd == "invalid"
    assert invalid.scenario == "EN16931 XRechnung (UBL Invoice)"
    assert invalid.findings and {f.rule for f in invalid.findings} == {"XSD"}
    first = invalid.findings[0]
    assert (first.flag, first.level) == ("fatal", "error")
    assert first.text("en").startswith("line 15: Element ")
    # the same rule set fires on a schema-valid document: the XSD failure is what held the rules back
    assert valid.xsd == "valid"
    assert "ALWAYS-01" in {f.rule for f in valid.findings}


def test_unknown_specification_identifier_is_rejected_and_the_reason_names_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "peppol.xml"
    path.write_bytes(ubl_with("urn:example:not-a-cius"))
    code, out, _ = run_cli(capsys, "validate", "--format", "json", "--lang", "en", path)
    (rec,) = records(out)
    assert code == 1
    assert rec["accepted"] is False
    assert rec["scenario"] is None
    assert rec["findings"] == []
    assert rec["xsd"] == "not-checked"
    (note,) = rec["notes"]
    assert "urn:example:not-a-cius" in note
    assert "{urn:oasis:names:specification:ubl:schema:xsd:Invoice-2}Invoice" in note


def test_missing_rule_pack_means_xsd_not_checked_with_a_warning(
    corpus: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], quiet_rules: Any
) -> None:
    nowhere = tmp_path / "no-rules-here"
    monkeypatch.setenv("EINGANG_RULES_DIR", str(nowhere))
    code, out, _ = run_cli(capsys, "validate", "--format", "json", "--lang", "en", corpus / VALID_CIUS)
    (rec,) = records(out)
    assert rec["xsd"] == "not-checked"
    (warning,) = [f for f in rec["findings"] if f["rule"] == "EINGANG-NO-RULEPACK"]
    assert warning["level"] == "warning"
    assert str(nowhere) in warning["message"]
    assert rec["accepted"] is True and code == 0  # a warning does not reject …

    code, out, _ = run_cli(capsys, "validate", "--format", "json", "--require-xsd", corpus / VALID_CIUS)
    (rec,) = records(out)
    assert code == 1 and rec["accepted"] is False  # … unless the schema check is required
    assert [f["level"] for f in rec["findings"] if f["rule"] == "EINGANG-NO-RULEPACK"] == ["error"]


def test_internal_rule_error_rejects_with_eingang_internal(
    corpus: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], quiet_rules: Any
) -> None:
    def broken(node: etree._Element) -> bool:
        raise ZeroDivisionError("rule arithmetic went wrong")

    monkeypatch.setitem(RULE_SETS, "xrechnung-ubl@2.5.0", stand_in("xrechnung-ubl@2.5.0", ("BR-DE-X", "fatal", broken)))
    code, out, _ = run_cli(
        capsys, "validate", "--format", "json", "--lang", "en", "--schemas", SCHEMAS, corpus / VALID_CIUS
    )
    (rec,) = records(out)
    assert code == 1
    assert rec["accepted"] is False
    (internal,) = [f for f in rec["findings"] if f["rule"] == "EINGANG-INTERNAL"]
    assert internal["level"] == "error"
    assert "xrechnung-ubl@2.5.0" in internal["message"]
    assert "ZeroDivisionError" in internal["message"]


VALID_CII = "kosit-testsuite/business-cases/standard/01.01a-INVOICE_uncefact.xml"  # accepted by the reference


def test_a_document_the_official_rules_cannot_evaluate_is_not_accepted(corpus: Path, schemas: Path) -> None:
    # CII lets the header summation repeat its amounts; the official BR-CO-10 casts "the" line total with
    # xs:decimal(), which is an XPath error on two of them: Saxon stops, the reference gives no verdict.
    root = etree.fromstring((corpus / VALID_CII).read_bytes())
    (total,) = root.iterfind(".//ram:SpecifiedTradeSettlementHeaderMonetarySummation/ram:LineTotalAmount", NS_CII)
    total.addnext(etree.fromstring(etree.tostring(total)))
    with Checker(artefacts=Artefacts(schemas=schemas)) as checker:
        report = checker.check(etree.tostring(root), "repeated-total.xml")
    assert (report.accepted, report.xsd, report.scenario) == (False, "valid", "EN16931 XRechnung (CII)")
    (stopped,) = [f for f in report.findings if f.rule == "EINGANG-INTERNAL"]
    assert stopped.level == "error"
    en, de = stopped.text("en"), stopped.text("de")
    assert "the official rules cannot evaluate this document" in en and "BR-CO-10" in en
    assert "SpecifiedTradeSettlementHeaderMonetarySummation" in en and "a sequence of 2 items" in en
    assert "Die offiziellen Regeln können dieses Dokument nicht auswerten" in de


def test_a_crashing_schema_stage_rejects_too(corpus: Path, tmp_path: Path) -> None:
    broken = tmp_path / "pack"
    (broken / "ubl-2.1" / "maindoc").mkdir(parents=True)
    (broken / "ubl-2.1" / "maindoc" / "UBL-Invoice-2.1.xsd").write_text("<xs:schema xmlns:xs='nope'/>")
    with Checker(artefacts=Artefacts(schemas=broken), rule_sets=empty_sets()) as checker:
        report = checker.check((corpus / VALID_CIUS).read_bytes(), "x")
    assert report.accepted is False
    assert [f.rule for f in report.findings] == ["EINGANG-INTERNAL"]
    assert "xsd" in report.findings[0].text("en")


def test_a_rule_registry_that_fails_to_load_rejects_every_document(
    corpus: Path, schemas: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # as if a rule module had a syntax error: importing validators.rules raises
    monkeypatch.setitem(sys.modules, "validators.rules", None)
    with Checker(artefacts=Artefacts(schemas=schemas)) as checker:
        report = checker.check((corpus / VALID_CIUS).read_bytes(), "a.xml")
    assert report.accepted is False
    assert {f.rule for f in report.findings} == {"EINGANG-INTERNAL"}


# -- hostile and broken input ------------------------------------------------------------------

BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<Invoice xmlns="urn:oasis:names:specification:ubl:schema:xsd:Invoice-2">&lol9;</Invoice>
"""
XXE = b"""<?xml version="1.0"?>
<!DOCTYPE Invoice [<!ENTITY secret SYSTEM "file:///etc/passwd">]>
<Invoice xmlns="urn:oasis:names:specification:ubl:schema:xsd:Invoice-2">&secret;</Invoice>
"""


@pytest.mark.parametrize(
    ("name", "data", "says"),
    [
        ("billion-laughs.xml", BILLION_LAUGHS, "not accepted as XML: document declares a DTD"),
        ("xxe.xml", XXE, "not accepted as XML: document declares a DTD"),
        ("truncated.xml", ubl_with(CIUS)[:-20], "not well-formed: "),
        ("binary.xml", bytes(range(256)) * 4, "not well-formed: "),
        ("empty.xml", b"", "not well-formed: empty document"),
    ],
)
def test_hostile_or_broken_xml_is_refused_quickly_by_the_schema_step(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], name: str, data: bytes, says: str
) -> None:
    path = tmp_path / name
    path.write_bytes(data)
    started = time.monotonic()
    code, out, err = run_cli(capsys, "validate", "--format", "json", "--lang", "en", path)
    assert time.monotonic() - started < 10
    (rec,) = records(out)
    assert code == 1
    assert (rec["accepted"], rec["syntax"], rec["scenario"], rec["xsd"]) == (False, "unknown", None, "invalid")
    # As in KoSIT, XML that cannot be parsed fails the schema step: one XSD finding, fatal.
    assert [(f["rule"], f["flag"], f["level"]) for f in rec["findings"]] == [("XSD", "fatal", "error")]
    assert rec["findings"][0]["message"].startswith(says)
    assert "root:" not in out  # nothing of /etc/passwd leaks into a report
    assert "Traceback" not in err


def test_not_well_formed_xml_names_line_and_column_in_both_languages(corpus: Path) -> None:
    report = check((corpus / "kosit-config-tests/instances/ubl007.xml").read_bytes(), "ubl007.xml")
    (finding,) = report.findings
    assert (report.accepted, report.xsd, finding.rule) == (False, "invalid", "XSD")
    assert finding.text("en") == "not well-formed: Premature end of data in tag Invoice line 2, line 536, column 1"
    assert finding.text("de") == "nicht wohlgeformt (Zeile 536, Spalte 1): Premature end of data in tag Invoice line 2"


def test_not_well_formed_xml_inside_a_pdf_fails_the_schema_step_too() -> None:
    writer = pypdf.PdfWriter()
    writer.add_blank_page(width=595, height=842)
    writer.add_attachment("factur-x.xml", b'<rsm:CrossIndustryInvoice xmlns:rsm="urn:x">\n<rsm:Exchanged')
    buffer = io.BytesIO()
    writer.write(buffer)
    report = check(buffer.getvalue(), "hybrid.pdf")
    (finding,) = report.findings
    assert (report.accepted, report.syntax, report.xsd, finding.rule, finding.level) == (
        False,
        "unknown",
        "invalid",
        "XSD",
        "error",
    )
    assert finding.text("en").startswith("not well-formed: embedded factur-x.xml: ")
    assert "Zeile 2" in finding.text("de")


def test_an_order_x_pdf_opens_for_validation_but_is_never_read_as_an_invoice(corpus: Path) -> None:
    data = (corpus / "zugferd/csharp-orderx/ORDER-X_EX01_ORDER_FULL_DATA-BASIC.pdf").read_bytes()
    doc = open_for_check(data)
    assert (doc.syntax, doc.source.kind, doc.source.attachment) == ("order-x", "pdf", "order-x.xml")
    assert doc.root.tag == ORDER_X_ROOT
    with pytest.raises(ReadError) as refused:
        read_invoice(data)
    assert refused.value.outcome is Outcome.NOT_AN_INVOICE
    # without the factur-x artefacts nothing is checked, so it is rejected, but it is still named an order
    report = check(data, "order.pdf", artefacts=Artefacts())
    assert (report.syntax, report.scenario, report.accepted) == ("order-x", "Order-X BASIC", False)
    assert [(f.rule, f.level, f.value) for f in report.findings if f.rule.endswith("AN-INVOICE")] == [
        ("EINGANG-NOT-AN-INVOICE", "warning", "220")
    ]


def test_en16931_mode_has_no_rules_for_an_order(corpus: Path) -> None:
    data = (corpus / "zugferd/csharp-orderx/ORDER-X_EX04_RESPONSE-COMFORT.pdf").read_bytes()
    report = check(data, "order.pdf", options=Options(rules="en16931", xsd=False))
    assert (report.syntax, report.scenario, report.accepted) == ("order-x", None, False)
    assert [f.rule for f in report.findings] == ["EINGANG-NOT-AN-INVOICE"]
    assert "order response" in report.findings[0].text("en") and "Bestellantwort" in report.findings[0].text("de")
    assert report.notes == ("--rules en16931: EN 16931 has no rules for order-x documents; nothing was checked",)


def test_an_unreadable_pdf_is_rejected_with_a_note_and_no_finding(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "broken.pdf"
    path.write_bytes(b"%PDF-1.7\n1 0 obj <<>> garbage")
    code, out, err = run_cli(capsys, "validate", "--format", "json", "--lang", "en", path)
    (rec,) = records(out)
    assert code == 1
    assert (rec["accepted"], rec["syntax"], rec["scenario"], rec["xsd"]) == (False, "unknown", None, "not-checked")
    # A PDF is not XML: nothing reached the schema step, and the note says why it is rejected.
    assert rec["findings"] == []
    assert rec["notes"] and rec["notes"][0].startswith("PDF cannot be read")
    assert "Traceback" not in err


# -- output and exit codes -------------------------------------------------------------------

FINDING_KEYS = {"rule", "flag", "level", "message", "terms", "location", "value"}
RECORD_KEYS = {
    "file",
    "accepted",
    "syntax",
    "scenario",
    "xsd",
    "findings",
    "rule_sets",
    "notes",
    "eingang_version",
    "input_sha256",
}


def test_json_output_is_one_object_per_file_with_the_documented_shape(
    corpus: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, quiet_rules: Any
) -> None:
    monkeypatch.setitem(
        RULE_SETS, "en16931-ubl@1.3.15", stand_in("en16931-ubl@1.3.15", always("BR-X", "warning"), terms=("BT-1",))
    )
    broken = tmp_path / "broken.xml"
    broken.write_bytes(b"<Invoice")
    given = [str(corpus / VALID_CIUS), str(broken)]
    code, out, _ = run_cli(capsys, "validate", "--format", "json", "--lang", "de", "--schemas", SCHEMAS, *given)
    recs = records(out)
    assert code == 1
    assert [r["file"] for r in recs] == given  # exactly as given, in order
    for rec in recs:
        assert set(rec) == RECORD_KEYS
        assert isinstance(rec["accepted"], bool)
        assert rec["syntax"] in ("ubl-invoice", "ubl-creditnote", "cii", "unknown")
        assert rec["xsd"] in ("valid", "invalid", "not-checked")
        assert len(rec["input_sha256"]) == 64
        for finding in rec["findings"]:
            assert set(finding) == FINDING_KEYS
            assert finding["level"] in ("error", "warning", "information")
    good, bad = recs
    assert (good["accepted"], good["syntax"], good["scenario"], good["xsd"]) == (
        True,
        "ubl-invoice",
        "EN16931 XRechnung (UBL Invoice)",
        "valid",
    )
    assert good["rule_sets"] == ["en16931-ubl@1.3.15", "xrechnung-ubl@2.5.0"]
    (warning,) = good["findings"]
    assert warning["terms"] == [{"id": "BT-1", "name": term_name("BT-1", "de")}]
    assert warning["message"] == "BR-X hat angeschlagen"
    assert warning["location"] == "/ubl:Invoice"
    assert bad["accepted"] is False


def test_exit_status_says_whether_everything_was_accepted(
    corpus: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], quiet_rules: Any
) -> None:
    valid = corpus / VALID_CIUS
    assert run_cli(capsys, "validate", "--schemas", SCHEMAS, valid)[0] == 0
    assert run_cli(capsys, "validate", "--schemas", SCHEMAS, valid, corpus / SCHEMA_INVALID)[0] == 1
    code, _, err = run_cli(capsys, "validate", "--schemas", SCHEMAS, valid, tmp_path / "missing.xml")
    assert code == 2 and "missing.xml" in err
    assert run_cli(capsys, "validate", "--no-xsd", "--require-xsd", valid)[0] == 2
    assert run_cli(capsys, "validate", "--schemas", tmp_path / "nope", valid)[0] == 2
    assert run_cli(capsys, "validate", "--rules", "en16931", "--engine", "both", valid)[0] == 2


def test_folders_are_searched_recursively_for_xml_and_pdf(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "in" / "sub").mkdir(parents=True)
    for name in ("in/a.xml", "in/sub/b.XML", "in/c.pdf"):
        (tmp_path / name).write_bytes(ubl_with("urn:example:x"))
    (tmp_path / "in" / "notes.txt").write_text("not an invoice")
    _, out, _ = run_cli(capsys, "validate", "--format", "json", tmp_path / "in")
    found = [Path(r["file"]) for r in records(out)]
    assert sorted(found) == sorted([tmp_path / "in/a.xml", tmp_path / "in/sub/b.XML", tmp_path / "in/c.pdf"])


def test_fragments_are_checked_against_en16931_only_whatever_bt24_says(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, quiet_rules: Any
) -> None:
    monkeypatch.setitem(RULE_SETS, "en16931-cii@1.3.15", stand_in("en16931-cii@1.3.15", always("BR-CII")))
    monkeypatch.setitem(RULE_SETS, "xrechnung-cii@2.5.0", stand_in("xrechnung-cii@2.5.0", always("BR-DE-CII")))
    fragment = tmp_path / "fragment.xml"
    fragment.write_bytes(
        b'<rsm:CrossIndustryInvoice xmlns:rsm="urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100"/>'
    )
    code, out, _ = run_cli(capsys, "validate", "--format", "json", "--rules", "en16931", "--no-xsd", fragment)
    (rec,) = records(out)
    assert code == 1
    assert (rec["syntax"], rec["scenario"], rec["accepted"], rec["xsd"]) == ("cii", None, False, "not-checked")
    assert [(f["rule"], f["flag"], f["level"]) for f in rec["findings"]] == [("BR-CII", "fatal", "error")]
    assert rec["rule_sets"] == ["en16931-cii@1.3.15"]


def test_a_scenario_override_decides_whether_a_fatal_rule_rejects(corpus: Path, schemas: Path) -> None:
    sets = empty_sets({"en16931-ubl@1.3.15": stand_in("en16931-ubl@1.3.15", always("BR-CL-23"))})
    cius = (corpus / VALID_CIUS).read_bytes()
    cen_only = cius.replace(CIUS.encode(), b"urn:cen.eu:en16931:2017")
    with Checker(artefacts=Artefacts(schemas=schemas), rule_sets=sets) as checker:
        in_xrechnung = checker.check(cius, "cius.xml")
        in_cen = checker.check(cen_only, "cen.xml")
    assert in_xrechnung.scenario == "EN16931 XRechnung (UBL Invoice)"
    assert [(f.rule, f.flag, f.level) for f in in_xrechnung.findings] == [("BR-CL-23", "fatal", "warning")]
    assert in_xrechnung.accepted is True
    assert in_cen.scenario == "EN16931 (UBL Invoice)"
    assert [(f.rule, f.flag, f.level) for f in in_cen.findings] == [("BR-CL-23", "fatal", "error")]
    assert in_cen.accepted is False


def test_text_report_names_verdict_scenario_and_findings(
    corpus: Path, capsys: pytest.CaptureFixture[str], quiet_rules: Any
) -> None:
    code, out, _ = run_cli(
        capsys, "validate", "--schemas", SCHEMAS, "--lang", "de", corpus / VALID_CIUS, corpus / SCHEMA_INVALID
    )
    assert code == 1
    first, second = out.split("\n" + str(corpus / SCHEMA_INVALID))
    assert "ANGENOMMEN" in first and "EN16931 XRechnung (UBL Invoice)" in first
    assert "ABGELEHNT" in second and "XSD" in second and "Zeile 15" in second


def test_html_report_is_self_contained_with_verdict_recommendation_and_term_names(
    corpus: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, quiet_rules: Any
) -> None:
    monkeypatch.setitem(
        RULE_SETS, "en16931-ubl@1.3.15", stand_in("en16931-ubl@1.3.15", always("BR-X"), terms=("BT-1",))
    )
    out_file = tmp_path / "report.html"
    code, out, _ = run_cli(
        capsys,
        "validate",
        "--format",
        "html",
        "--lang",
        "de",
        "--schemas",
        SCHEMAS,
        "-o",
        out_file,
        corpus / VALID_CIUS,
    )
    assert code == 1 and out == ""
    page = out_file.read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>") and '<html lang="de">' in page
    assert "Abgelehnt" in page and "Empfehlung: Rechnung zurückweisen" in page
    assert "BR-X" in page and term_name("BT-1", "de") in page
    assert "<script" not in page and "src=" not in page and "<link" not in page


def test_hybrid_pdf_is_judged_by_the_scenario_of_its_embedded_xml(corpus: Path, schemas: Path) -> None:
    zugferd = corpus / "zugferd"
    with Checker(artefacts=Artefacts(schemas=schemas), rule_sets=empty_sets()) as checker:
        xrechnung = checker.check((zugferd / "csharp-zf24/XRECHNUNG_Einfach_fx.pdf").read_bytes(), "x.pdf")
        plain = checker.check((zugferd / "csharp-tests/dummy.pdf").read_bytes(), "plain.pdf")
        legacy = checker.check((zugferd / "csharp-zf10/ZUGFeRD_1p0_BASIC_Einfach.pdf").read_bytes(), "zf1.pdf")
    assert (xrechnung.scenario, xrechnung.syntax, xrechnung.xsd, xrechnung.accepted) == (
        "EN16931 XRechnung (CII)",
        "cii",
        "valid",
        True,
    )
    assert plain.accepted is False and "no e-invoice inside" in plain.notes[0]
    assert legacy.accepted is False and "ZUGFeRD 1.0" in legacy.notes[0]


def test_report_records_the_versions_needed_to_reproduce_it(corpus: Path, schemas: Path) -> None:
    with Checker(artefacts=Artefacts(schemas=schemas), rule_sets=empty_sets()) as checker:
        report = checker.check((corpus / VALID_CIUS).read_bytes(), "a.xml")
    rec = report_record(report, "en")
    assert rec["eingang_version"]
    assert rec["rule_sets"] == ["en16931-ubl@1.3.15", "xrechnung-ubl@2.5.0"]
    assert rec["input_sha256"] == __import__("hashlib").sha256((corpus / VALID_CIUS).read_bytes()).hexdigest()


def test_options_without_xsd_check_nothing_and_warn_nothing(corpus: Path) -> None:
    with Checker(options=Options(xsd=False), rule_sets=empty_sets()) as checker:
        report = checker.check((corpus / VALID_CIUS).read_bytes(), "a.xml")
    assert (report.xsd, report.findings, report.accepted) == ("not-checked", (), True)


# -- rule packs ----------------------------------------------------------------------------------


def _zip_of(folder: Path, target: Path, prefix: str = "") -> Path:
    with zipfile.ZipFile(target, "w") as archive:
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                archive.write(path, prefix + path.relative_to(folder).as_posix())
    return target


@pytest.fixture
def pinned() -> Iterator[dict[str, str]]:
    yield json.loads(MANIFEST_PATH.read_text())["files"]


def test_rule_pack_installs_from_a_folder_or_a_zip_in_any_layout(
    schemas: Path, tmp_path: Path, pinned: dict[str, str]
) -> None:
    from_folder = install(schemas, tmp_path / "a")
    assert set(from_folder.installed) == set(pinned)
    assert verify(tmp_path / "a") == []
    # a release archive with another layout: files are found by their pinned bytes, not their paths
    archive = _zip_of(schemas, tmp_path / "release.zip", prefix="resources/some/other/layout/")
    install(archive, tmp_path / "b")
    assert verify(tmp_path / "b") == []
    assert (tmp_path / "b" / "ubl-2.1" / "maindoc" / "UBL-Invoice-2.1.xsd").is_file()


def test_rule_pack_refuses_changed_or_missing_files_and_keeps_the_old_pack(schemas: Path, tmp_path: Path) -> None:
    install(schemas, tmp_path / "pack")
    tampered = tmp_path / "tampered"
    _copy_tree(schemas, tampered)
    xsd = tampered / "cii-d16b" / "CrossIndustryInvoice_100pD16B.xsd"
    xsd.write_bytes(xsd.read_bytes().replace(b"</xsd:schema>", b"<!-- changed --></xsd:schema>"))
    with pytest.raises(RulePackError, match=r"CrossIndustryInvoice_100pD16B\.xsd"):
        install(tampered, tmp_path / "pack")
    assert verify(tmp_path / "pack") == []  # the installed pack is untouched

    installed = tmp_path / "pack" / "ubl-2.1" / "common" / "UBL-CommonBasicComponents-2.1.xsd"
    installed.write_bytes(installed.read_bytes() + b"\n")
    assert any("UBL-CommonBasicComponents-2.1.xsd" in p for p in verify(tmp_path / "pack"))


def test_rules_command_installs_into_the_configured_dir(
    schemas: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("EINGANG_RULES_DIR", str(tmp_path / "env-dir"))
    assert run_cli(capsys, "rules", "where")[1].strip() == str(tmp_path / "env-dir")
    code, out, _ = run_cli(capsys, "rules", "install", schemas)
    assert code == 0 and "20 verified files" in out
    assert run_cli(capsys, "rules", "verify")[0] == 0
    code, _, err = run_cli(capsys, "rules", "install", tmp_path / "does-not-exist")
    assert code == 2 and "does-not-exist" in err
    code, _, _ = run_cli(capsys, "rules", "install", schemas, "--rules-dir", tmp_path / "elsewhere")
    assert code == 0 and verify(tmp_path / "elsewhere") == []


def test_an_installed_rule_pack_is_used_by_default(
    schemas: Path,
    corpus: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    quiet_rules: Any,
) -> None:
    install(schemas, tmp_path / "pack")
    monkeypatch.setenv("EINGANG_RULES_DIR", str(tmp_path / "pack"))
    _, out, _ = run_cli(capsys, "validate", "--format", "json", corpus / SCHEMA_INVALID)
    (rec,) = records(out)
    assert rec["xsd"] == "invalid" and rec["accepted"] is False


def _copy_tree(src: Path, dest: Path) -> None:
    for path in src.rglob("*"):
        if path.is_file():
            target = dest / path.relative_to(src)
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(path.read_bytes())


def test_compiled_schematron_is_installed_only_when_asked_and_then_watched(schemas: Path, tmp_path: Path) -> None:
    source = tmp_path / "release"
    _copy_tree(schemas, source / "resources")
    (source / "resources" / "xsl").mkdir()
    (source / "resources" / "xsl" / "EN16931-UBL-validation.xsl").write_text("<xsl:stylesheet/>")
    plain = install(source, tmp_path / "plain")
    assert plain.unpinned == () and not (tmp_path / "plain" / "xslt").exists()
    with_xslt = install(source, tmp_path / "with", allow_unpinned=True)
    assert with_xslt.unpinned == ("xslt/EN16931-UBL-validation.xsl",)
    assert verify(tmp_path / "with") == []
    (tmp_path / "with" / "xslt" / "EN16931-UBL-validation.xsl").write_text(
        "<xsl:stylesheet><!-- x --></xsl:stylesheet>"
    )
    assert verify(tmp_path / "with") == ["changed xslt/EN16931-UBL-validation.xsl (sha256 differs from the pinned one)"]


def test_progress_is_drawn_only_for_a_terminal() -> None:
    import io

    from pipeline.commands.validate import _Progress

    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    piped, terminal = io.StringIO(), Terminal()
    for stream in (piped, terminal):
        progress = _Progress(3, stream)
        for n in range(1, 4):
            progress.step(n, f"file{n}.xml")
        progress.close()
    assert piped.getvalue() == ""
    assert "3/3 file3.xml" in terminal.getvalue()


def test_en16931_mode_runs_the_cen_rules_on_a_factur_x_document_too(corpus: Path) -> None:
    sets = empty_sets({"en16931-cii@1.3.15": stand_in("en16931-cii@1.3.15", always("BR-CII"))})
    document = (corpus / "zugferd" / "akretion-facturx" / "factur-x-extended.xml").read_bytes()
    with Checker(options=Options(rules="en16931", xsd=False), rule_sets=sets) as checker:
        report = checker.check(document, "ext.xml")
    assert report.scenario == "Factur-X EXTENDED"
    assert [f.rule for f in report.findings] == ["BR-CII"]
    assert report.rule_sets == ("en16931-cii@1.3.15",)
