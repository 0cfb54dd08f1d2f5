"""The web app against the session's real PostgreSQL and SeaweedFS: FastAPI's TestClient for the pages
and the JSON API, and one real uvicorn opened in headless Chromium for what a person sees."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from uuid import UUID

import psycopg
import pytest
from fastapi.testclient import TestClient

from pipeline.intake import submit
from pipeline.lifecycle import Status
from pipeline.processing import process_document
from pipeline.services.ports import LOOPBACK, free_ports
from pipeline.settings import Settings
from pipeline.store import close_pools, migrate
from pipeline.web import create_app

REPO = Path(__file__).resolve().parents[2]
CORPUS = REPO.parent / "shared" / "corpus"
UBL = CORPUS / "kosit-testsuite" / "business-cases" / "standard" / "01.01a-INVOICE_ubl.xml"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
    "--disable-sync", "--no-first-run",
]  # fmt: skip


@dataclass(frozen=True)
class Docs:
    accepted: UUID
    rejected: UUID
    unreadable: UUID
    number: str  # the accepted invoice's number (BT-1)
    accepted_bytes: bytes


def _unique_invoice(number: str, *, total: str | None = None) -> bytes:
    """The corpus invoice under a number of its own (so it is no duplicate of another test's copy)."""
    xml = UBL.read_text(encoding="utf-8").replace("<cbc:ID>123456XX</cbc:ID>", f"<cbc:ID>{number}</cbc:ID>", 1)
    if total is not None:  # a wrong invoice total breaks BR-CO-15: a rejected invoice with findings
        xml = xml.replace(
            '<cbc:TaxInclusiveAmount currencyID="EUR">336.9</cbc:TaxInclusiveAmount>',
            f'<cbc:TaxInclusiveAmount currencyID="EUR">{total}</cbc:TaxInclusiveAmount>',
        )
    return xml.encode("utf-8")


def _take_in(settings: Settings, data: bytes, filename: str) -> UUID:
    result = submit(settings, data, filename=filename, source="test-web", sender="tests")
    doc_id = result.document_ids[0]
    process_document(settings, doc_id)
    return doc_id


@pytest.fixture(scope="module")
def settings(platform_settings: Settings) -> Iterator[Settings]:
    with psycopg.connect(platform_settings.database_url or "") as conn:
        migrate(conn)
    yield platform_settings
    close_pools()


@pytest.fixture(scope="module")
def docs(settings: Settings) -> Docs:
    if not UBL.is_file():
        pytest.skip("../shared/corpus is not present on this machine")
    tag = uuid.uuid4().hex[:8].upper()
    number = f"WEB-{tag}"
    accepted_bytes = _unique_invoice(number)
    rejected = _take_in(settings, _unique_invoice(f"WEB-{tag}-R", total="999.99"), f"falsch-{tag}.xml")
    unreadable = _take_in(settings, b"Sehr geehrte Damen und Herren, anbei die Rechnung.\n", f"brief-{tag}.txt")
    # Taken in last, so it is the newest; the name has an umlaut and a quote, as real ones do.
    accepted = _take_in(settings, accepted_bytes, f'Rechnung "März" {tag}.xml')
    return Docs(accepted, rejected, unreadable, number, accepted_bytes)


@pytest.fixture(scope="module")
def client(settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(settings)) as c:
        yield c


# -- pages -------------------------------------------------------------------------------------------


def test_health_answers(client: TestClient) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}


def test_public_surface_of_the_web_package_is_deliberate() -> None:
    import pipeline.web

    assert pipeline.web.__all__ == ["create_app"]


def test_root_redirects_to_the_document_list(client: TestClient) -> None:
    response = client.get("/", follow_redirects=False)

    assert response.status_code in (302, 303, 307)
    assert response.headers["location"] == "/documents"


def test_list_shows_status_supplier_number_total_and_verdict_newest_first(client: TestClient, docs: Docs) -> None:
    response = client.get("/documents?lang=en")

    assert response.status_code == 200
    assert "script-src" not in response.headers["content-security-policy"]  # no scripts at all: default-src none
    assert "default-src 'none'" in response.headers["content-security-policy"]
    page = response.text
    for heading in ("Status", "Supplier", "Invoice number", "Gross total", "Verdict", "Received at"):
        assert f">{heading}</th>" in page
    assert docs.number in page
    assert "[Seller name]" in page or "[Seller trading name]" in page
    assert "€336.90" in page  # gross total in the language's style, scale kept
    assert ">valid<" in page and ">invalid<" in page
    # newest first: taken in as rejected, no invoice, accepted
    assert page.index(str(docs.accepted)) < page.index(str(docs.unreadable)) < page.index(str(docs.rejected))


def test_list_filters_by_status(client: TestClient, docs: Docs) -> None:
    rejected = client.get("/documents", params={"status": "rejected"}).text
    both = client.get("/documents", params=[("status", "rejected"), ("status", "accepted")]).text

    assert str(docs.rejected) in rejected and str(docs.accepted) not in rejected
    assert str(docs.rejected) in both and str(docs.accepted) in both
    assert client.get("/documents", params={"status": "lost"}).status_code == 422


def test_language_follows_the_query_then_accept_language_then_german(client: TestClient, docs: Docs) -> None:
    german = client.get("/documents").text
    english = client.get("/documents", headers={"Accept-Language": "en-GB,en;q=0.9,de;q=0.5"}).text
    prefers_german = client.get("/documents", headers={"Accept-Language": "fr, en;q=0.4, de;q=0.8"}).text
    asked = client.get("/documents?lang=de", headers={"Accept-Language": "en"}).text

    assert '<html lang="de">' in german and ">Lieferant</th>" in german and "336,90\u00a0€" in german
    assert '<html lang="en">' in english and ">Supplier</th>" in english
    assert '<html lang="de">' in prefers_german
    assert '<html lang="de">' in asked and ">angenommen<" in asked


def test_document_page_shows_invoice_findings_history_and_original_link(client: TestClient, docs: Docs) -> None:
    response = client.get(f"/documents/{docs.rejected}?lang=en")

    assert response.status_code == 200
    page = response.text
    assert "BR-CO-15" in page
    assert "BT-112" in page and "Invoice total amount with VAT" in page  # the term's name next to its id
    assert f'src="/documents/{docs.rejected}/view?lang=en"' in page and "sandbox" in page
    assert f'href="/documents/{docs.rejected}/original"' in page
    # history in hash-chain order: received, then processing, then the verdict
    history = page[page.index("Append-only event log") :]
    assert history.index(">received<") < history.index(">processing<") < history.index(">rejected<")


def test_document_without_an_invoice_says_so_and_has_no_view(client: TestClient, docs: Docs) -> None:
    page = client.get(f"/documents/{docs.unreadable}?lang=en")

    assert page.status_code == 200
    assert "There is no reading copy" in page.text
    assert client.get(f"/documents/{docs.unreadable}/view").status_code == 404


def test_reading_copy_is_served_under_a_strict_sandboxing_policy(client: TestClient, docs: Docs) -> None:
    german = client.get(f"/documents/{docs.accepted}/view")
    english = client.get(f"/documents/{docs.accepted}/view?lang=en")

    for response in (german, english):
        assert response.status_code == 200
        policy = response.headers["content-security-policy"]
        assert "default-src 'none'" in policy and "sandbox" in policy and "script" not in policy
        assert response.headers["x-content-type-options"] == "nosniff"
        assert docs.number in response.text
    assert '<html lang="de">' in german.text and '<html lang="en">' in english.text


def test_original_downloads_as_attachment_with_the_exact_bytes(client: TestClient, docs: Docs) -> None:
    response = client.get(f"/documents/{docs.accepted}/original")

    assert response.status_code == 200
    assert response.content == docs.accepted_bytes
    disposition = response.headers["content-disposition"]
    assert disposition.startswith("attachment;")
    assert "filename*=UTF-8''Rechnung%20%22M%C3%A4rz%22%20" in disposition
    assert '"Rechnung _Marz_ ' in disposition  # the ASCII fallback carries no quote that ends the header value
    assert response.headers["content-type"].startswith("application/xml")


@pytest.mark.parametrize("path", ["/documents/{id}", "/documents/{id}/view", "/documents/{id}/original",
                                  "/api/v1/documents/{id}"])  # fmt: skip
def test_unknown_id_is_404_and_a_malformed_one_422(client: TestClient, path: str) -> None:
    missing = client.get(path.format(id=uuid.uuid4()))
    malformed = client.get(path.format(id="not-a-uuid"))

    assert missing.status_code == 404
    assert malformed.status_code == 422
    if path.startswith("/api/"):
        assert missing.json()["detail"].startswith("no document")
        assert malformed.json()["detail"][0]["loc"] == ["path", "doc_id"]
    else:
        assert missing.headers["content-type"].startswith("text/html")


# -- JSON API ----------------------------------------------------------------------------------------


def test_api_lists_documents_newest_first_with_amounts_as_written(client: TestClient, docs: Docs) -> None:
    rows = client.get("/api/v1/documents", params={"limit": 1000}).json()
    by_id = {row["id"]: row for row in rows}

    accepted = by_id[str(docs.accepted)]
    assert accepted["status"] == "accepted" and accepted["verdict"] == "accepted"
    assert accepted["invoice_number"] == docs.number
    assert accepted["gross_total"] == "336.9" and accepted["currency"] == "EUR"
    assert by_id[str(docs.rejected)]["verdict"] == "rejected"
    assert by_id[str(docs.unreadable)]["status"] in (Status.REJECTED, Status.NO_INVOICE)
    assert by_id[str(docs.unreadable)]["invoice_number"] is None
    received = [row["received_at"] for row in rows]
    assert received == sorted(received, reverse=True)
    only_rejected = client.get("/api/v1/documents", params={"status": "rejected", "limit": 1000}).json()
    assert {row["status"] for row in only_rejected} == {"rejected"}


def test_api_document_has_report_findings_and_event_chain(client: TestClient, docs: Docs) -> None:
    body = client.get(f"/api/v1/documents/{docs.rejected}").json()

    assert body["document"]["status"] == "rejected"
    assert body["report"]["verdict"] == "rejected"
    finding = next(f for f in body["findings"] if f["rule"] == "BR-CO-15")
    assert finding["level"] == "error" and "BT-112" in finding["terms"] and finding["message"]["en"]
    assert [e["to_status"] for e in body["events"] if e["kind"] == "status"] == ["received", "processing", "rejected"]
    ids = [e["id"] for e in body["events"]]
    assert ids == sorted(ids)
    assert body["invoice"]["total_with_vat"] == "999.99"


def test_openapi_documents_the_operator_api_but_not_the_pages(client: TestClient) -> None:
    schema = client.get("/openapi.json").json()

    assert client.get("/docs").status_code == 200
    assert {"/api/v1/documents", "/api/v1/documents/{doc_id}"} <= set(schema["paths"])
    assert all(path.startswith("/api/") for path in schema["paths"])  # pages, views and downloads stay out


# -- in a browser ------------------------------------------------------------------------------------


def _wait_healthy(url: str, proc: subprocess.Popen[bytes], timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"uvicorn exited with {proc.returncode}")
        try:
            with urllib.request.urlopen(f"{url}/healthz", timeout=2) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, OSError):
            time.sleep(0.2)
    raise RuntimeError(f"uvicorn did not answer at {url} within {timeout:.0f}s")


@pytest.fixture(scope="module")
def served(settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The app under a real uvicorn on a free loopback port, started as ``eingang up`` starts it."""
    (port,) = free_ports(1)
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("EINGANG_", "DATABASE_URL", "S3_", "AWS_"))},
        "EINGANG_DATA_DIR": str(settings.data_dir),
        "DATABASE_URL": settings.database_url or "",
        "S3_ENDPOINT": settings.s3_endpoint or "",
        "AWS_ACCESS_KEY_ID": settings.s3_access_key.get_secret_value(),
        "AWS_SECRET_ACCESS_KEY": settings.s3_secret_key.get_secret_value(),
    }
    log = tmp_path_factory.mktemp("uvicorn") / "web.log"
    args = [sys.executable, "-m", "uvicorn", "--factory", "pipeline.web:create_app", "--host", LOOPBACK,
            "--port", str(port)]  # fmt: skip
    with log.open("wb") as out:
        proc = subprocess.Popen(args, cwd=REPO, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    url = f"http://{LOOPBACK}:{port}"
    try:
        _wait_healthy(url, proc)
        yield url
    finally:
        proc.terminate()
        proc.wait(15)


@pytest.mark.browser
def test_document_page_in_a_browser(served: str, docs: Docs, tmp_path_factory: pytest.TempPathFactory) -> None:
    if not CHROMIUM.exists():
        pytest.skip("no Chromium at /usr/bin/chromium")
    from playwright.sync_api import sync_playwright

    shots = tmp_path_factory.mktemp("screenshots")
    problems: list[str] = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        try:
            page = browser.new_page(viewport={"width": 1440, "height": 1000}, locale="de-DE")
            # Any refused resource or script error means the page and its policy disagree.
            page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda e: problems.append(str(e)))

            page.goto(f"{served}/documents")
            assert page.locator("h1").inner_text() == "Belege"
            page.get_by_role("link", name=docs.number).first.click()
            page.wait_for_url(re.compile(rf"/documents/{docs.accepted}"))
            invoice = page.frame_locator("section.invoice iframe")
            invoice.locator("h1").wait_for()
            assert docs.number in invoice.locator("body").inner_text()
            assert page.locator(".head-status .badge").first.inner_text() == "angenommen"
            page.screenshot(path=str(shots / "document-de.png"), full_page=True)

            page.goto(f"{served}/documents/{docs.rejected}?lang=en")
            assert "BR-CO-15" in page.locator("section.findings").inner_text()
            page.screenshot(path=str(shots / "document-rejected-en.png"), full_page=True)
            page.goto(f"{served}/documents?lang=en")
            page.screenshot(path=str(shots / "documents-en.png"), full_page=True)
        finally:
            browser.close()
    print(f"screenshots in {shots}")
    assert not problems, problems
    assert (shots / "document-de.png").stat().st_size > 10_000
