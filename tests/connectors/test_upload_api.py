"""The supplier API (``/api/v1/invoices``) against the session's real PostgreSQL and SeaweedFS.

GIVEN two supplier accounts with tokens, WHEN they upload invoices from the corpus over HTTP (FastAPI's
TestClient on the web app), THEN each gets its verdict at once, repeats are answered from the first
upload, and neither ever learns about the other's documents.
"""

from __future__ import annotations

import io
import re
import uuid
import zipfile
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from fastapi.testclient import TestClient

from pipeline.settings import Settings
from pipeline.store import close_pools, connect, migrate
from pipeline.store.supplier_access import add_account, create_token, revoke_token
from pipeline.web import create_app

REPO = Path(__file__).resolve().parents[2]
STANDARD = REPO.parent / "shared" / "corpus" / "kosit-testsuite" / "business-cases" / "standard"
INVOICE_UBL = STANDARD / "01.01a-INVOICE_ubl.xml"
INVOICE_CII = STANDARD / "01.01a-INVOICE_uncefact.xml"
LIMIT = 256 * 1024  # small enough to send one byte more quickly, large enough for any corpus invoice

pytestmark = pytest.mark.corpus


def _corpus_invoice(path: Path, *, total_with_vat: str | None = None) -> bytes:
    """A corpus invoice under a fresh invoice number (BT-1), so no other test's upload makes it a duplicate."""
    if not path.is_file():
        pytest.skip(f"{path} is not present on this machine")
    text = path.read_text(encoding="utf-8")
    number = f"UP-{uuid.uuid4().hex[:12]}"
    if path.name.endswith("_ubl.xml"):
        text = re.sub(r"<cbc:ID>[^<]*</cbc:ID>", f"<cbc:ID>{number}</cbc:ID>", text, count=1)
        if total_with_vat is not None:
            text = re.sub(r"(<cbc:TaxInclusiveAmount [^>]*>)[^<]*<", rf"\g<1>{total_with_vat}<", text, count=1)
    else:
        text = re.sub(r"(<rsm:ExchangedDocument>\s*<ram:ID>)[^<]*<", rf"\g<1>{number}<", text, count=1)
    assert number in text
    return text.encode("utf-8")


def _zip(*members: tuple[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members:
            archive.writestr(name, data)
    return buffer.getvalue()


@pytest.fixture(scope="module")
def settings(platform_settings: Settings) -> Iterator[Settings]:
    with psycopg.connect(platform_settings.database_url or "") as conn:
        migrate(conn)
    yield platform_settings.model_copy(update={"max_upload_bytes": LIMIT})
    close_pools()


@pytest.fixture(scope="module")
def client(settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(settings)) as test_client:
        yield test_client


def _token(settings: Settings, name: str) -> str:
    with connect(settings) as conn:
        account, _ = add_account(conn, name, display_name=name.title(), vat_id=None, actor="test")
        return create_token(conn, account, label="test", actor="test").token


@pytest.fixture(scope="module")
def alice(settings: Settings) -> dict[str, str]:
    return {"Authorization": f"Bearer {_token(settings, f'alice-{uuid.uuid4().hex[:6]}')}"}


@pytest.fixture(scope="module")
def bob(settings: Settings) -> dict[str, str]:
    return {"Authorization": f"Bearer {_token(settings, f'bob-{uuid.uuid4().hex[:6]}')}"}


def _documents_with_sha256(settings: Settings, data: bytes) -> int:
    import hashlib

    with connect(settings) as conn:
        row = conn.execute(
            "SELECT count(*) AS n FROM documents WHERE sha256 = %s", (hashlib.sha256(data).hexdigest(),)
        ).fetchone()
    assert row is not None
    return int(row["n"])


def _xml(headers: dict[str, str], **more: str) -> dict[str, str]:
    return {**headers, "Content-Type": "application/xml", **more}


def test_valid_xrechnung_upload_is_accepted(client: TestClient, alice: dict[str, str]) -> None:
    answer = client.post("/api/v1/invoices", content=_corpus_invoice(INVOICE_UBL), headers=_xml(alice))
    assert answer.status_code == 201, answer.text
    body = answer.json()
    assert body["status"] == "accepted" and body["accepted"] is True
    assert body["scenario"] == "EN16931 XRechnung (UBL Invoice)"
    assert body["invoice"]["number"].startswith("UP-") and body["invoice"]["total_with_vat"] == "336.9"
    assert answer.headers["location"] == f"/api/v1/invoices/{body['id']}"
    # Notes about our installation (no rule pack here) are for AP staff, never for the supplier.
    assert all(not f["rule"].startswith("EINGANG-NO-") for f in body["findings"])


def test_the_same_bytes_again_answer_200_with_the_same_document(
    client: TestClient, alice: dict[str, str], settings: Settings
) -> None:
    data = _corpus_invoice(INVOICE_CII)
    first = client.post("/api/v1/invoices", content=data, headers=_xml(alice))
    again = client.post("/api/v1/invoices", content=data, headers=_xml(alice))
    assert (first.status_code, again.status_code) == (201, 200), again.text
    assert again.json() == first.json()
    assert _documents_with_sha256(settings, data) == 1


def test_an_idempotency_key_replays_its_upload_and_refuses_other_bytes(
    client: TestClient, alice: dict[str, str], settings: Settings
) -> None:
    key = f"erp-export-{uuid.uuid4()}"
    data, other = _corpus_invoice(INVOICE_UBL), _corpus_invoice(INVOICE_UBL)
    first = client.post("/api/v1/invoices", content=data, headers=_xml(alice, **{"Idempotency-Key": key}))
    retry = client.post("/api/v1/invoices", content=data, headers=_xml(alice, **{"Idempotency-Key": key}))
    misuse = client.post("/api/v1/invoices", content=other, headers=_xml(alice, **{"Idempotency-Key": key}))
    assert (first.status_code, retry.status_code) == (201, 200)
    assert retry.json()["id"] == first.json()["id"]
    assert misuse.status_code == 422 and misuse.json()["error"]["code"] == "idempotency_key_reused"
    assert _documents_with_sha256(settings, other) == 0, "the refused file was not taken in"
    bad = client.post("/api/v1/invoices", content=data, headers=_xml(alice, **{"Idempotency-Key": "two words"}))
    assert bad.status_code == 400 and bad.json()["error"]["code"] == "invalid_idempotency_key"


def test_a_rejected_invoice_names_the_rules_and_terms_to_fix(client: TestClient, alice: dict[str, str]) -> None:
    data = _corpus_invoice(INVOICE_UBL, total_with_vat="999.99")
    answer = client.post("/api/v1/invoices?lang=de", content=data, headers=_xml(alice))
    assert answer.status_code == 201, answer.text
    body = answer.json()
    assert body["status"] == "rejected" and body["accepted"] is False and "BR-CO-15" in body["reason"]
    co15 = next(f for f in body["findings"] if f["rule"] == "BR-CO-15")
    assert co15["level"] == "error" and co15["message"].startswith("Der Gesamtbetrag mit Umsatzsteuer")
    assert {"id": "BT-112", "name": "Gesamtbetrag der Rechnung einschließlich Umsatzsteuer"} in co15["terms"]
    english = client.get(f"/api/v1/invoices/{body['id']}", headers={**alice, "Accept-Language": "en-GB,de;q=0.5"})
    terms = next(f for f in english.json()["findings"] if f["rule"] == "BR-CO-15")["terms"]
    assert {"id": "BT-112", "name": "Invoice total amount with VAT"} in terms


@pytest.mark.parametrize(
    "authorization",
    [None, "Bearer egu_not-a-token-we-issued", "Basic dXNlcjpwYXNz", "Bearer "],
    ids=["missing", "unknown", "basic", "empty"],
)
def test_no_valid_token_is_401_with_a_bearer_challenge(client: TestClient, authorization: str | None) -> None:
    headers = {"Content-Type": "application/xml"} | ({"Authorization": authorization} if authorization else {})
    for answer in (
        client.post("/api/v1/invoices", content=b"<Invoice/>", headers=headers),
        client.get("/api/v1/invoices", headers=headers),
    ):
        assert answer.status_code == 401
        assert answer.headers["www-authenticate"].startswith("Bearer")
        assert answer.json()["error"]["code"] in {"unauthorized", "invalid_token"}


def test_a_revoked_token_is_401_at_once(client: TestClient, settings: Settings) -> None:
    token = _token(settings, f"carol-{uuid.uuid4().hex[:6]}")
    headers = {"Authorization": f"Bearer {token}"}
    assert client.get("/api/v1/invoices", headers=headers).status_code == 200
    with connect(settings) as conn:
        assert revoke_token(conn, token, actor="test") is not None
    answer = client.get("/api/v1/invoices", headers=headers)
    assert answer.status_code == 401 and 'error="invalid_token"' in answer.headers["www-authenticate"]


def test_another_suppliers_document_is_404_like_one_that_does_not_exist(
    client: TestClient, alice: dict[str, str], bob: dict[str, str]
) -> None:
    mine = client.post("/api/v1/invoices", content=_corpus_invoice(INVOICE_UBL), headers=_xml(alice)).json()["id"]
    theirs = client.get(f"/api/v1/invoices/{mine}", headers=bob)
    nowhere = client.get(f"/api/v1/invoices/{uuid.uuid4()}", headers=bob)
    assert theirs.status_code == nowhere.status_code == 404
    assert theirs.json()["error"]["code"] == nowhere.json()["error"]["code"] == "not_found"
    assert client.get(f"/api/v1/invoices/{mine}", headers=alice).status_code == 200
    assert mine not in {d["id"] for d in client.get("/api/v1/invoices", headers=bob).json()["documents"]}


def test_the_list_holds_exactly_the_suppliers_own_submissions_newest_first(
    client: TestClient, settings: Settings
) -> None:
    dave = {"Authorization": f"Bearer {_token(settings, f'dave-{uuid.uuid4().hex[:6]}')}"}
    assert client.get("/api/v1/invoices", headers=dave).json()["documents"] == []
    ids = [
        client.post("/api/v1/invoices", content=_corpus_invoice(INVOICE_UBL), headers=_xml(dave)).json()["id"]
        for _ in range(3)
    ]
    listed = client.get("/api/v1/invoices?limit=2", headers=dave).json()
    assert [d["id"] for d in listed["documents"]] == ids[::-1][:2] and listed["limit"] == 2
    rest = client.get("/api/v1/invoices?limit=2&offset=2", headers=dave).json()["documents"]
    assert [d["id"] for d in rest] == ids[:1] and rest[0]["status"] == "accepted"
    assert client.get("/api/v1/invoices?limit=0", headers=dave).json()["error"]["code"] == "invalid_parameter"


def test_a_body_over_the_limit_is_413_while_reading_and_nothing_is_taken_in(
    client: TestClient, alice: dict[str, str], settings: Settings
) -> None:
    big = b"<Invoice>" + b" " * LIMIT + b"</Invoice>"
    declared = client.post("/api/v1/invoices", content=big, headers=_xml(alice))
    assert declared.status_code == 413 and declared.json()["error"]["code"] == "too_large"

    sent: list[int] = []

    def endless() -> Iterator[bytes]:
        # No Content-Length: the limit must bite on the bytes as they arrive, not on a header.
        for _ in range(LIMIT // 4096 * 4):
            sent.append(4096)
            yield b" " * 4096

    streamed = client.post("/api/v1/invoices", content=endless(), headers=_xml(alice))
    assert streamed.status_code == 413 and streamed.json()["error"]["code"] == "too_large"
    multipart = client.post("/api/v1/invoices", files={"file": ("big.xml", big, "application/xml")}, headers=alice)
    assert multipart.status_code == 413
    assert _documents_with_sha256(settings, big) == 0


def test_an_empty_body_is_400(client: TestClient, alice: dict[str, str]) -> None:
    answer = client.post("/api/v1/invoices", content=b"", headers=_xml(alice))
    assert answer.status_code == 400 and answer.json()["error"]["code"] == "empty_body"
    empty_file = client.post("/api/v1/invoices", files={"file": ("a.xml", b"", "application/xml")}, headers=alice)
    assert empty_file.status_code == 400 and empty_file.json()["error"]["code"] == "empty_file"


@pytest.mark.parametrize("content_type", ["text/plain", "application/json", "image/png", None])
def test_an_unsupported_media_type_is_415(client: TestClient, alice: dict[str, str], content_type: str | None) -> None:
    headers = alice | ({"Content-Type": content_type} if content_type else {})
    answer = client.post("/api/v1/invoices", content=b"<Invoice/>", headers=headers)
    assert answer.status_code == 415 and answer.json()["error"]["code"] == "unsupported_media_type"
    assert "application/xml" in answer.json()["error"]["message"]


def test_multipart_form_data_with_a_file_field_works(client: TestClient, alice: dict[str, str]) -> None:
    data = _corpus_invoice(INVOICE_CII)
    answer = client.post("/api/v1/invoices", files={"file": ("../../März 2024.xml", data, "text/xml")}, headers=alice)
    assert answer.status_code == 201, answer.text
    body = answer.json()
    assert body["accepted"] is True and body["filename"] == "März 2024.xml"  # a label, never a path
    missing = client.post("/api/v1/invoices", files={"other": ("a.xml", data, "text/xml")}, headers=alice)
    assert missing.status_code == 400 and missing.json()["error"]["code"] == "missing_file"


def test_a_raw_body_takes_its_file_name_from_content_disposition(client: TestClient, alice: dict[str, str]) -> None:
    headers = _xml(alice, **{"Content-Disposition": 'attachment; filename="RE-4711.xml"'})
    answer = client.post("/api/v1/invoices", content=_corpus_invoice(INVOICE_UBL), headers=headers)
    assert answer.status_code == 201 and answer.json()["filename"] == "RE-4711.xml"


def test_a_zip_of_two_invoices_answers_with_both(
    client: TestClient, alice: dict[str, str], bob: dict[str, str]
) -> None:
    archive = _zip(("a.xml", _corpus_invoice(INVOICE_UBL)), ("b.xml", _corpus_invoice(INVOICE_CII)))
    answer = client.post("/api/v1/invoices", content=archive, headers={**alice, "Content-Type": "application/zip"})
    assert answer.status_code == 201, answer.text
    body = answer.json()
    assert body["status"] == "unpacked" and body["accepted"] is True
    members = body["documents"]
    assert [m["filename"] for m in members] == ["a.xml", "b.xml"]
    assert [m["status"] for m in members] == ["accepted", "accepted"]
    assert all(m["parent_id"] == body["id"] for m in members)
    # Each invoice of the archive is the supplier's own document, and nobody else's.
    assert client.get(f"/api/v1/invoices/{members[1]['id']}", headers=alice).json()["invoice"]["number"]
    assert client.get(f"/api/v1/invoices/{members[1]['id']}", headers=bob).status_code == 404


def test_a_malformed_id_is_422(client: TestClient, alice: dict[str, str]) -> None:
    answer = client.get("/api/v1/invoices/not-a-uuid", headers=alice)
    assert answer.status_code == 422 and answer.json()["error"]["code"] == "malformed_id"


def test_the_api_is_documented_at_docs(client: TestClient) -> None:
    assert client.get("/docs").status_code == 200
    spec = client.get("/openapi.json").json()
    upload = spec["paths"]["/api/v1/invoices"]["post"]
    assert {"application/xml", "application/pdf", "application/zip", "multipart/form-data"} <= set(
        upload["requestBody"]["content"]
    )
    assert {"200", "201", "401", "413", "415"} <= set(upload["responses"])
    assert {"401", "404", "422"} <= set(spec["paths"]["/api/v1/invoices/{doc_id}"]["get"]["responses"])


def test_the_upload_package_exports_only_its_router() -> None:
    import connectors.upload

    assert connectors.upload.__all__ == ["router"]
