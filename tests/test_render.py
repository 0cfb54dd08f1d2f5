"""Tests for pipeline.render and ``eingang render``: formatting, labels, Skonto terms, escaping, a browser."""

from __future__ import annotations

import re
import subprocess
import sys
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from pipeline.render import (
    LABELS,
    LANGUAGES,
    PaymentTerm,
    describe_payment_term,
    format_amount,
    format_date,
    format_iban,
    format_number,
    format_percent,
    label,
    parse_payment_terms,
    render_invoice,
)
from schemas.model import (
    AdditionalDocument,
    AttachedBinary,
    Buyer,
    CreditTransfer,
    Invoice,
    InvoiceLine,
    Item,
    LineAllowance,
    LineVat,
    Note,
    PaymentInstructions,
    PriceDetails,
    Seller,
    SellerAddress,
    Totals,
    VatBreakdown,
)

REPO = Path(__file__).resolve().parents[1]
CORPUS = REPO.parent / "shared" / "corpus"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
NBSP = "\u00a0"


def _plain(text: str) -> str:
    """Visible text with non-breaking spaces as spaces, for readable assertions."""
    return text.replace(NBSP, " ")


def _invoice(**changes: object) -> Invoice:
    base: dict[str, object] = {
        "number": "RE-2024-0815",
        "issue_date": date(2024, 1, 31),
        "type_code": "380",
        "currency_code": "EUR",
        "due_date": date(2024, 2, 14),
        "buyer_reference": "991-12345-67",
        "purchase_order_reference": "PO-4711",
        "payment_terms": "#SKONTO#TAGE=14#PROZENT=2.00#\n",
        "seller": Seller(
            name="Muster GmbH",
            vat_identifier="DE123456789",
            address=SellerAddress(line_1="Hauptstr. 1", city="Berlin", post_code="10115", country_code="DE"),
        ),
        "buyer": Buyer(name="Stadt Musterhausen"),
        "payment_instructions": PaymentInstructions(
            means_type_code="58",
            credit_transfers=[CreditTransfer(account_identifier="DE02120300000000202051")],
        ),
        "lines": [
            InvoiceLine(
                identifier="1",
                quantity=Decimal("2"),
                quantity_unit_code="C62",
                net_amount=Decimal("1234.56"),
                price=PriceDetails(net_price=Decimal("617.28")),
                vat=LineVat(category_code="S", rate=Decimal("19")),
                item=Item(name="Beratung"),
            )
        ],
        "vat_breakdown": [
            VatBreakdown(
                taxable_amount=Decimal("1234.56"),
                tax_amount=Decimal("234.57"),
                category_code="S",
                rate=Decimal("19"),
            )
        ],
        "totals": Totals(
            sum_of_line_net_amounts=Decimal("1234.56"),
            total_without_vat=Decimal("1234.56"),
            total_vat=Decimal("234.57"),
            total_with_vat=Decimal("1469.13"),
            amount_due=Decimal("1469.13"),
        ),
    }
    base.update(changes)
    return Invoice.model_validate(base)


# ------------------------------------------------------------------ formatting ---


@pytest.mark.parametrize(
    ("value", "currency", "lang", "expected"),
    [
        ("1234.56", "EUR", "de", f"1.234,56{NBSP}€"),
        ("1234.56", "EUR", "en", "€1,234.56"),
        ("1234567.891", "EUR", "de", f"1.234.567,891{NBSP}€"),
        ("2", "EUR", "de", f"2,00{NBSP}€"),
        ("-225.14", "EUR", "de", f"-225,14{NBSP}€"),
        ("-225.14", "EUR", "en", "-€225.14"),
        ("1234.5", "USD", "en", "$1,234.50"),
        ("1234.5", "CHF", "de", f"1.234,50{NBSP}CHF"),
        ("1234.5", "CHF", "en", f"CHF{NBSP}1,234.50"),
        ("0.4400", "EUR", "de", f"0,4400{NBSP}€"),
        ("10", None, "en", "10.00"),
    ],
)
def test_format_amount(value: str, currency: str | None, lang: str, expected: str) -> None:
    assert format_amount(Decimal(value), currency, lang) == expected


def test_format_number_drops_trailing_zeros_that_would_read_as_thousands() -> None:
    assert format_number(Decimal("10.000"), "de") == "10"
    assert format_number(Decimal("1.500"), "de") == "1,5"
    assert format_number(Decimal("1500"), "en") == "1,500"
    assert format_number(Decimal("2"), "de", places=2) == "2,00"


def test_format_percent() -> None:
    assert format_percent(Decimal("19.00"), "de") == f"19{NBSP}%"
    assert format_percent(Decimal("7"), "en") == "7%"
    assert format_percent(Decimal("2"), "de", places=2) == f"2,00{NBSP}%"


def test_format_date() -> None:
    assert format_date(date(2024, 1, 31), "de") == "31.01.2024"
    assert format_date(date(2024, 1, 31), "en") == "2024-01-31"


def test_format_iban() -> None:
    assert format_iban("DE02120300000000202051") == "DE02 1203 0000 0000 2020 51"
    assert format_iban("de02 1203 0000 0000 2020 51") == "DE02 1203 0000 0000 2020 51"
    assert format_iban("123456789") == "123456789"  # a national account number stays as written


# ---------------------------------------------------------------------- labels ---


def test_every_label_exists_in_both_languages() -> None:
    for key, names in LABELS.items():
        assert set(names) == set(LANGUAGES), key
        assert all(text.strip() for text in names.values()), key


def test_label_and_unknown_language() -> None:
    assert label("seller", "de").startswith("Verkäufer")
    assert label("seller", "en").startswith("Seller")
    with pytest.raises(ValueError, match="unsupported language"):
        label("seller", "fr")
    with pytest.raises(ValueError, match="unsupported language"):
        render_invoice(_invoice(), lang="fr")


def test_page_is_in_the_requested_language() -> None:
    de = _plain(render_invoice(_invoice(), lang="de"))
    en = _plain(render_invoice(_invoice(), lang="en"))
    assert '<html lang="de">' in de and '<html lang="en">' in en
    for text in ("Rechnung", "Rechnungsnummer", "Verkäufer", "Zahlbetrag", "31.01.2024", "1.469,13 €"):
        assert text in de
    for text in ("Invoice", "Invoice number", "Seller", "Amount due", "2024-01-31", "€1,469.13"):
        assert text in en
    assert "Zahlbetrag" not in en


@pytest.mark.parametrize(
    ("type_code", "lang", "title"),
    [
        ("380", "de", "Rechnung"),
        ("381", "de", "Gutschrift"),
        ("381", "en", "Credit note"),
        ("384", "en", "Corrected invoice"),
    ],
)
def test_document_type_from_bt3(type_code: str, lang: str, title: str) -> None:
    html = render_invoice(_invoice(type_code=type_code), lang=lang)
    assert f"<h1>{title}</h1>" in html


def test_unknown_type_code_is_named_with_its_code() -> None:
    html = render_invoice(_invoice(type_code="999"), lang="de")
    assert "<h1>Rechnung (Typ 999)</h1>" in html


def test_business_term_ids_are_shown_with_their_official_names() -> None:
    html = render_invoice(_invoice(), lang="de")
    assert '<span class="bt" title="Rechnungsnummer">BT-1</span>' in html
    assert '<span class="bt" title="Käuferreferenz">BT-10</span>' in html
    html_en = render_invoice(_invoice(), lang="en")
    assert '<span class="bt" title="Seller VAT identifier">BT-31</span>' in html_en


def test_leitweg_id_iban_and_references_are_shown() -> None:
    html = _plain(render_invoice(_invoice(), lang="de"))
    assert "991-12345-67" in html
    assert "DE02 1203 0000 0000 2020 51" in html
    assert "PO-4711" in html
    assert "58 – SEPA-Überweisung" in html


# --------------------------------------------------------------- payment terms ---


def test_parse_skonto_lines() -> None:
    text = "#SKONTO#TAGE=7#PROZENT=2.00#\n#SKONTO#TAGE=14#PROZENT=1.00#BASISBETRAG=357.93#\n"
    assert parse_payment_terms(text) == [
        PaymentTerm("SKONTO", 7, Decimal("2.00")),
        PaymentTerm("SKONTO", 14, Decimal("1.00"), Decimal("357.93")),
    ]


def test_parse_keeps_free_text_and_order() -> None:
    text = "Zahlbar innerhalb 30 Tagen.\n#SKONTO#TAGE=10#PROZENT=3.00#\n#VERZUG#TAGE=30#PROZENT=5.00#\nDanke!"
    assert parse_payment_terms(text) == [
        "Zahlbar innerhalb 30 Tagen.",
        PaymentTerm("SKONTO", 10, Decimal("3.00")),
        PaymentTerm("VERZUG", 30, Decimal("5.00")),
        "Danke!",
    ]
    assert parse_payment_terms(None) == []
    assert parse_payment_terms("Zahlbar sofort ohne Abzug.") == ["Zahlbar sofort ohne Abzug."]


def test_describe_skonto_in_both_languages() -> None:
    term = PaymentTerm("SKONTO", 14, Decimal("2.00"))
    assert _plain(describe_payment_term(term, "de")) == "2,00 % Skonto bei Zahlung innerhalb von 14 Tagen"
    assert describe_payment_term(term, "en") == "2.00% discount if paid within 14 days"
    one_day = PaymentTerm("SKONTO", 1, Decimal("3"))
    assert describe_payment_term(one_day, "en") == "3.00% discount if paid within 1 day"


def test_describe_base_amount_and_verzug() -> None:
    based = PaymentTerm("SKONTO", 14, Decimal("2.25"), Decimal("357.93"))
    assert _plain(describe_payment_term(based, "de", "EUR")) == (
        "2,25 % Skonto bei Zahlung innerhalb von 14 Tagen auf einen Basisbetrag von 357,93 €"
    )
    assert (
        describe_payment_term(based, "en", "EUR") == "2.25% discount if paid within 14 days on a base amount of €357.93"
    )
    late = PaymentTerm("VERZUG", 30, Decimal("5.00"))
    assert _plain(describe_payment_term(late, "de")) == "5,00 % Verzugszinsen bei Zahlung nach 30 Tagen"
    assert describe_payment_term(late, "en") == "5.00% late payment interest if paid after 30 days"


def test_page_shows_skonto_sentence_deadline_and_deduction() -> None:
    html = _plain(render_invoice(_invoice(), lang="de"))
    assert "2,00 % Skonto bei Zahlung innerhalb von 14 Tagen" in html
    assert "#SKONTO#" not in html
    assert "bis 14.02.2024" in html
    # 2 % of 1.469,13 € (BT-115) is 29,38 €
    assert "Abzug 29,38 €, zu zahlen 1.439,75 €" in html


# -------------------------------------------------------------------- escaping ---

HOSTILE = '<script>alert("x")</script>'


def test_hostile_text_is_escaped_everywhere() -> None:
    quote_breaker = '"><img src=x onerror=alert(1)>'
    invoice = _invoice(
        notes=[Note(subject_code="AAI", text=HOSTILE)],
        seller=Seller(name=HOSTILE),
        lines=[
            InvoiceLine(
                identifier="1",
                quantity=Decimal("1"),
                quantity_unit_code=quote_breaker,
                net_amount=Decimal("1"),
                item=Item(name=HOSTILE, description=HOSTILE),
                vat=LineVat(category_code=quote_breaker, rate=None),
            )
        ],
        additional_documents=[
            AdditionalDocument(
                reference=HOSTILE,
                external_location="javascript:alert(1)",
                attachment=AttachedBinary(
                    content=b"<html><script>x</script>", mime_code="text/html", filename=quote_breaker
                ),
            )
        ],
        payment_terms=HOSTILE,
    )
    for lang in LANGUAGES:
        html = render_invoice(invoice, lang=lang)
        assert "<script" not in html
        assert "<img" not in html
        assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in html
        assert 'href="javascript:' not in html
        # A stranger's HTML attachment is offered for download, never as a page to open.
        assert "data:text/html" not in html
        assert "data:application/octet-stream;base64," in html


def test_embedded_attachment_is_a_data_link() -> None:
    invoice = _invoice(
        additional_documents=[
            AdditionalDocument(
                reference="Anlage 1",
                description="Stundenzettel",
                attachment=AttachedBinary(content=b"%PDF-1.7 test", mime_code="application/pdf", filename="zettel.pdf"),
            ),
            AdditionalDocument(reference="Web", external_location="https://example.org/a.pdf"),
        ]
    )
    html = _plain(render_invoice(invoice, lang="de"))
    assert 'href="data:application/pdf;base64,JVBERi0xLjcgdGVzdA==" download="zettel.pdf"' in html
    assert "Stundenzettel" in html and "13 B" in html
    assert '<a href="https://example.org/a.pdf" rel="noopener noreferrer">' in html


# ---------------------------------------------------------------- page content ---


def test_page_is_self_contained_and_printable() -> None:
    html = render_invoice(_invoice(), lang="de")
    assert "@media print" in html
    assert "<link" not in html and "<script" not in html and "url(" not in html
    # Without attachments the page references nothing at all.
    assert re.findall(r"\b(?:href|src)=", html) == []


def test_sub_lines_are_indented_and_line_allowances_listed() -> None:
    sub = InvoiceLine(identifier="1.1", quantity=Decimal("3"), net_amount=Decimal("9"), item=Item(name="Teil A"))
    parent = InvoiceLine(
        identifier="1",
        quantity=Decimal("1"),
        net_amount=Decimal("9"),
        item=Item(name="Paket"),
        sub_lines=[sub],
        allowances=[
            LineAllowance(amount=Decimal("1"), percentage=Decimal("10"), base_amount=Decimal("10"), reason="Rabatt")
        ],
    )
    html = _plain(render_invoice(_invoice(lines=[parent]), lang="de"))
    assert '<tr class="line depth-0">' in html
    assert '<tr class="line depth-1 sub-line">' in html
    assert "Teil A" in html
    assert "Rabatt (10 % von 10,00 €)" in html
    assert "-1,00 €" in html


def test_profile_and_source_are_shown() -> None:
    spec = "urn:cen.eu:en16931:2017#compliant#urn:xeinkauf.de:kosit:xrechnung_3.0"
    invoice = _invoice(process_control={"specification_identifier": spec})
    html = render_invoice(invoice, lang="de", source="PDF-Anhang xrechnung.xml")
    assert "XRECHNUNG" in html
    assert "PDF-Anhang xrechnung.xml" in html


def test_credit_note_shows_credit_amount() -> None:
    html = render_invoice(_invoice(type_code="381"), lang="en")
    assert "Credit note number" in html and "Credit amount" in html


# ----------------------------------------------------------- end to end (CLI) ---

E2E_FILE = "kosit-testsuite/business-cases/standard/01.05a-INVOICE_ubl.xml"
E2E_EXPECTED = {
    "de": ("PRG1502112", "[Seller name]", "10.555,30 €"),
    "en": ("PRG1502112", "[Seller name]", "€10,555.30"),
}


def _render_cli(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pipeline.cli", "render", *map(str, args)],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=120,
    )


def _corpus_file(name: str) -> Path:
    if not CORPUS.is_dir():
        pytest.skip("../shared/corpus is not present on this machine")
    return CORPUS / name


@pytest.mark.corpus
def test_source_of_a_hybrid_pdf_is_named() -> None:
    from schemas.reader import read_invoice

    pdf = _corpus_file("zugferd/csharp-zf24/ZF_Extended_Maschinen-Serial_NR__BT-X-307_fx.pdf")
    result = read_invoice(pdf.read_bytes())
    assert result.document.source.kind == "pdf"
    html = render_invoice(result, lang="de")
    assert f"PDF-Anhang {result.document.source.attachment}" in html


@pytest.mark.corpus
def test_cli_render_errors_are_one_line(tmp_path: Path) -> None:
    missing = _render_cli(tmp_path / "missing.xml", "-o", tmp_path / "out.html")
    assert missing.returncode == 2
    assert missing.stderr.count("\n") == 1 and "Traceback" not in missing.stderr
    not_invoice = tmp_path / "note.xml"
    not_invoice.write_text("<note/>")
    rejected = _render_cli(not_invoice, "-o", tmp_path / "out.html")
    assert rejected.returncode == 1
    assert rejected.stderr.startswith(f"eingang: {not_invoice}: not an invoice")
    unwritable = _render_cli(_corpus_file(E2E_FILE), "-o", tmp_path / "no" / "dir" / "out.html")
    assert unwritable.returncode == 2
    assert "cannot write" in unwritable.stderr and "Traceback" not in unwritable.stderr


@pytest.mark.corpus
@pytest.mark.browser
@pytest.mark.parametrize("lang", LANGUAGES)
def test_cli_render_opens_in_chromium(tmp_path: Path, lang: str) -> None:
    source = _corpus_file(E2E_FILE)
    out = tmp_path / f"invoice-{lang}.html"
    done = _render_cli(source, "-o", out, "--lang", lang)
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    assert out.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")

    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is not installed")
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1000, "height": 1400})
            requests: list[str] = []
            page.on("request", lambda request: requests.append(request.url))
            page.goto(out.as_uri())
            visible = _plain(page.inner_text("body"))
            page.screenshot(path=str(tmp_path / f"invoice-{lang}.png"), full_page=True)
        finally:
            browser.close()
    for expected in E2E_EXPECTED[lang]:
        assert expected in visible
    # Nothing but the page itself was loaded: no fonts, styles or images from anywhere.
    assert requests == [out.as_uri()]
    assert (tmp_path / f"invoice-{lang}.png").stat().st_size > 10_000
