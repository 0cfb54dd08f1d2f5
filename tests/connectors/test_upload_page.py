"""The supplier upload page in a real browser (Debian's chromium through Playwright) against a real uvicorn.

GIVEN a supplier account with a token and the web app served by uvicorn on a loopback port, WHEN the
supplier signs in, uploads an invoice whose total is wrong and switches languages, THEN the page
names the findings with their business terms in German and English and lists the submission.
Screenshots go to ``out/screenshots/`` (ignored by git) for people to look at.
"""

from __future__ import annotations

import re
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
import uvicorn
from playwright.sync_api import Browser, Page, expect, sync_playwright

from pipeline.settings import Settings
from pipeline.store import close_pools, connect, migrate
from pipeline.store.supplier_access import add_account, create_token, revoke_token
from pipeline.web import create_app

REPO = Path(__file__).resolve().parents[2]
INVOICE = REPO.parent / "shared/corpus/kosit-testsuite/business-cases/standard/01.01a-INVOICE_ubl.xml"
SCREENSHOTS = REPO / "out" / "screenshots"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
    "--disable-sync", "--no-first-run",
]  # fmt: skip

pytestmark = [pytest.mark.browser, pytest.mark.corpus]


def _rejected_invoice(tmp_path: Path) -> Path:
    """A corpus XRechnung with a fresh number (BT-1) and a gross total (BT-112) that does not add up."""
    if not INVOICE.is_file():
        pytest.skip(f"{INVOICE} is not present on this machine")
    text = INVOICE.read_text(encoding="utf-8")
    text = re.sub(r"<cbc:ID>[^<]*</cbc:ID>", f"<cbc:ID>RE-{uuid.uuid4().hex[:8]}</cbc:ID>", text, count=1)
    text = re.sub(r"(<cbc:TaxInclusiveAmount [^>]*>)[^<]*<", r"\g<1>999.99<", text, count=1)
    path = tmp_path / "Rechnung-Maerz.xml"
    path.write_text(text, encoding="utf-8")
    return path


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="module")
def settings(platform_settings: Settings) -> Iterator[Settings]:
    with psycopg.connect(platform_settings.database_url or "") as conn:
        migrate(conn)
    yield platform_settings
    close_pools()


@pytest.fixture(scope="module")
def server(settings: Settings) -> Iterator[str]:
    """uvicorn serving the web app on a free loopback port, in a thread of this process."""
    port = _free_port()
    config = uvicorn.Config(create_app(settings), host="127.0.0.1", port=port, log_level="warning", lifespan="on")
    web = uvicorn.Server(config)
    thread = threading.Thread(target=web.run, name="uvicorn-upload-page", daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not web.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    web.should_exit = True
    thread.join(timeout=10)


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if not CHROMIUM.exists():
        pytest.skip("Debian's chromium is not installed (make system-deps)")
    with sync_playwright() as pw:
        launched = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@pytest.fixture
def token(settings: Settings) -> str:
    with connect(settings) as conn:
        account, _ = add_account(
            conn, f"mueller-{uuid.uuid4().hex[:6]}", display_name="Müller & Söhne GmbH", vat_id=None, actor="test"
        )
        return create_token(conn, account, label="page test", actor="test").token


def _sign_in(page: Page, server: str, token: str, lang: str = "de") -> None:
    page.goto(f"{server}/upload?lang={lang}")
    page.fill("#token", token)
    page.get_by_role("button", name="Anmelden" if lang == "de" else "Sign in").click()


def test_a_supplier_uploads_a_rejected_invoice_and_reads_what_to_fix_in_german_and_english(
    browser: Browser, server: str, token: str, tmp_path: Path
) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    context = browser.new_context(locale="de-DE", viewport={"width": 1100, "height": 900})
    page = context.new_page()
    external: list[str] = []
    page.on("request", lambda r: external.append(r.url) if not r.url.startswith(server) else None)

    page.goto(f"{server}/upload?lang=de")
    page.screenshot(path=str(SCREENSHOTS / "upload-login-de.png"))
    _sign_in(page, server, token)
    expect(page.get_by_text("Angemeldet als")).to_contain_text("Angemeldet als Müller & Söhne GmbH")
    expect(page.get_by_text("Sie haben noch nichts hochgeladen.")).to_be_visible()
    session = next(c for c in context.cookies() if c["name"] == "eingang_upload_session")
    assert session["httpOnly"] and session["sameSite"] == "Strict" and session["path"] == "/upload"

    page.set_input_files("#file", str(_rejected_invoice(tmp_path)))
    page.get_by_role("button", name="Hochladen und prüfen").click()
    expect(page.locator(".verdict .badge")).to_have_text("Abgelehnt")
    expect(page.get_by_role("heading", name="Das müssen Sie korrigieren")).to_be_visible()
    co15 = page.locator("ol.findings li", has_text="BR-CO-15")
    expect(co15).to_contain_text("Der Gesamtbetrag mit Umsatzsteuer muss Gesamtbetrag ohne Umsatzsteuer plus")
    expect(co15.locator(".term", has_text="BT-112")).to_have_text(
        "BT-112 Gesamtbetrag der Rechnung einschließlich Umsatzsteuer"
    )
    expect(page.get_by_text("Bitte korrigieren Sie die unten genannten Angaben")).to_be_visible()
    page.screenshot(path=str(SCREENSHOTS / "upload-rejected-de.png"), full_page=True)

    page.get_by_role("link", name="English").click()
    expect(page.locator(".verdict .badge")).to_have_text("Rejected")
    expect(page.get_by_role("heading", name="What you must fix")).to_be_visible()
    co15 = page.locator("ol.findings li", has_text="BR-CO-15")
    expect(co15.locator(".term", has_text="BT-112")).to_have_text("BT-112 Invoice total amount with VAT")
    page.screenshot(path=str(SCREENSHOTS / "upload-rejected-en.png"), full_page=True)

    page.get_by_role("link", name="Back to the overview").click()
    row = page.locator("tbody tr", has_text="Rechnung-Maerz.xml")
    expect(row).to_have_count(1)
    expect(row.locator(".badge")).to_have_text("Rejected")
    expect(page.get_by_role("heading", name="Your earlier submissions")).to_be_visible()
    page.screenshot(path=str(SCREENSHOTS / "upload-list-en.png"), full_page=True)

    # The same file again is not taken in twice: it leads to the first upload's verdict.
    page.set_input_files("#file", str(tmp_path / "Rechnung-Maerz.xml"))
    page.get_by_role("button", name="Upload and check").click()
    expect(page.get_by_text("We already have this invoice")).to_be_visible()
    page.get_by_role("link", name="Back to the overview").click()
    expect(page.locator("tbody tr", has_text="Rechnung-Maerz.xml")).to_have_count(1)

    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    assert external == [], f"the page loaded something from elsewhere: {external}"
    context.close()


def test_a_form_post_without_the_csrf_token_is_refused(browser: Browser, server: str, token: str) -> None:
    context = browser.new_context(locale="en-US")
    page = context.new_page()
    _sign_in(page, server, token, lang="en")
    expect(page.get_by_text("You have not uploaded anything yet.")).to_be_visible()
    # Same cookies as the page, but no form field: what a forged cross-site post would look like.
    forged = page.request.post(
        f"{server}/upload/files",
        multipart={"csrf": "guessed", "file": {"name": "a.xml", "mimeType": "text/xml", "buffer": b"<Invoice/>"}},
    )
    assert forged.status == 403 and "The form had expired" in forged.text()
    context.close()


def test_revoking_the_token_ends_the_page_session(
    browser: Browser, server: str, token: str, settings: Settings
) -> None:
    context = browser.new_context(locale="de-DE")
    page = context.new_page()
    _sign_in(page, server, token)
    expect(page.get_by_role("heading", name="Rechnung hochladen")).to_be_visible()
    with connect(settings) as conn:
        assert revoke_token(conn, token, actor="test") is not None
    page.goto(f"{server}/upload")
    expect(page.get_by_role("heading", name="Anmelden")).to_be_visible()
    _sign_in(page, server, token)
    expect(page.get_by_role("alert")).to_contain_text("unbekannt oder wurde widerrufen")
    context.close()


def test_another_suppliers_page_shows_nothing_of_it(
    browser: Browser, server: str, token: str, settings: Settings, tmp_path: Path
) -> None:
    context = browser.new_context(locale="de-DE")
    page = context.new_page()
    _sign_in(page, server, token)
    page.set_input_files("#file", str(_rejected_invoice(tmp_path)))
    page.get_by_role("button", name="Hochladen und prüfen").click()
    expect(page.locator(".verdict .badge")).to_have_text("Abgelehnt")
    mine = page.url
    with connect(settings) as conn:
        other, _ = add_account(conn, f"other-{uuid.uuid4().hex[:6]}", display_name="Other", vat_id=None, actor="t")
        other_token = create_token(conn, other, label=None, actor="test").token
    stranger = browser.new_context(locale="de-DE")
    their_page = stranger.new_page()
    _sign_in(their_page, server, other_token)
    answer = their_page.goto(mine)
    assert answer is not None and answer.status == 404
    expect(their_page.get_by_role("alert")).to_have_text("Diese Einreichung gibt es nicht.")
    expect(their_page.get_by_text("Sie haben noch nichts hochgeladen.")).to_be_visible()
    stranger.close()
    context.close()
